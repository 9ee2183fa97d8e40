"""Bad input gets a clear error naming the field; every shipped config loads and applies."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from robocoord.config import ConfigError, load_config
from robocoord.sim.config import SimRunConfig, WarehouseParams
from robocoord.sim.disruptions.sampling import DisruptionError
from robocoord.sim.disruptions.spec import DisruptionSpec, load_disruptions
from robocoord.sim.disruptions.wrappers import wrap
from robocoord.sim.pybullet_plant import PyBulletPlant
from robocoord.sim.tasks.safe_nav import SafeNavEnv
from robocoord.sim.tasks.team_push import TeamPushParallelEnv

CONFIGS = Path(__file__).resolve().parents[2] / "sim" / "configs"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "d.yaml"
    path.write_text(text)
    return path


def test_unknown_disruption_key_is_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "kind: disruptions\ndisruptions:\n  - {source: observation, kind: gauss, sigma: 1, sigmaa: 2}\n",
    )
    with pytest.raises(ConfigError) as err:
        load_disruptions(path)
    assert err.value.lines == [f"{path}: disruptions[0].sigmaa: unknown key 'sigmaa'"]


def test_negative_sigma_is_named(tmp_path: Path) -> None:
    path = write(
        tmp_path, "kind: disruptions\ndisruptions:\n  - {source: reward, kind: gauss, sigma: [0.1, -1]}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_disruptions(path)
    assert (
        len(err.value.lines) == 1
        and "disruptions[0].sigma" in err.value.lines[0]
        and ">= 0" in err.value.lines[0]
    )


@pytest.mark.parametrize("n_robots", [0, -3, 1, 1001])
def test_robot_count_out_of_range_is_named(n_robots: int) -> None:
    with pytest.raises(ValidationError, match="n_robots"):
        WarehouseParams(n_robots=n_robots)


@pytest.mark.parametrize("n_robots", [0, 1, 5])
def test_team_push_robot_count_out_of_range_is_named(n_robots: int) -> None:
    with pytest.raises(ValidationError, match="n_robots"):
        TeamPushParallelEnv(n_robots=n_robots)


def test_sim_run_config_names_nested_robot_count(tmp_path: Path) -> None:
    path = write(tmp_path, "kind: sim-run\ntask: warehouse\nwarehouse: {n_robots: 0}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "warehouse" in err.value.lines[0] and "n_robots" in err.value.lines[0]


def test_plant_without_robots_is_refused() -> None:
    with pytest.raises(ValueError, match="start_poses_world"):
        PyBulletPlant([[]])


def test_mask_longer_than_the_observation_is_named() -> None:
    env = SafeNavEnv()
    try:
        with pytest.raises(DisruptionError, match=r"mask: has 9 entries, longer than the observation \(8"):
            wrap(env, [DisruptionSpec(source="observation", kind="gauss", sigma=0.1, mask=[True] * 9)])
    finally:
        env.close()


def test_per_dimension_list_of_wrong_length_is_named() -> None:
    env = SafeNavEnv()
    try:
        with pytest.raises(DisruptionError, match="sigma: has 3 entries"):
            wrap(env, [DisruptionSpec(source="observation", kind="gauss", sigma=[0.1, 0.2, 0.3])])
    finally:
        env.close()


def test_agent_index_out_of_range_is_named() -> None:
    env = TeamPushParallelEnv(n_robots=2)
    try:
        with pytest.raises(DisruptionError, match="agents: robot index 5"):
            wrap(env, [DisruptionSpec(source="observation", kind="shift", offset=1.0, agents=[5])])
    finally:
        env.close()


def test_gauss_noise_on_discrete_actions_is_refused() -> None:
    env = SafeNavEnv()
    try:
        with pytest.raises(DisruptionError, match="kind: 'gauss' action noise needs a continuous"):
            wrap(env, [DisruptionSpec(source="action", kind="gauss", sigma=0.1)])
    finally:
        env.close()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"source": "observation", "kind": "gauss", "mode": "interval"}, "interval"),
        ({"source": "observation", "kind": "set"}, "choices"),
        ({"source": "observation", "kind": "adversarial"}, "budget"),
        ({"source": "dynamics", "kind": "shift"}, "parameter"),
        ({"source": "dynamics", "kind": "shift", "parameter": "wing_span"}, "parameter"),
        ({"source": "reward", "kind": "uniform", "low": 1.0, "high": 0.0}, "low"),
        ({"source": "reward", "kind": "shift", "start_step": 5, "end_step": 5}, "end_step"),
        ({"source": "weather", "kind": "gauss"}, "source"),
    ],
)
def test_inconsistent_spec_is_named(fields: dict, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        DisruptionSpec.model_validate(fields)


def test_every_shipped_config_validates() -> None:
    files = sorted(CONFIGS.rglob("*.yaml"))
    assert len(files) >= 13
    for path in files:
        load_config(path)
    assert isinstance(load_config(CONFIGS / "sim_run_warehouse.yaml"), SimRunConfig)


def test_shipped_team_push_disruptions_apply_to_team_push() -> None:
    env = TeamPushParallelEnv(n_robots=2)
    try:
        for name in ("box_mass_x3", "box_friction_x0.5", "motor_gain_x0.7", "action_noise", "obs_noise"):
            wrapped = wrap(env, load_disruptions(CONFIGS / "disruptions" / f"{name}.yaml"), phase="eval")
            wrapped.reset(seed=0)
            _, _, _, _, infos = wrapped.step({a: 1 for a in env.possible_agents})
            assert infos["robot_0"]["disruption"][0]["name"] == name
        wrapped = wrap(env, load_disruptions(CONFIGS / "disruptions" / "box_mass_x3.yaml"))
        wrapped.reset(seed=0)
        assert env.box_mass_kg == pytest.approx(3 * env.params.box_mass_kg)
    finally:
        env.close()
