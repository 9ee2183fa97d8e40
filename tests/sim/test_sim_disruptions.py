"""Disruption wrappers: identity at zero, gating, statistics, rank, physics, seeding, truths."""

from __future__ import annotations

from typing import Any

import numpy as np
import pybullet as pb
import pytest
from sim_fakes import BASE_COST, BASE_OBS, BASE_REWARD, OBS_DIM, ConstantEnv

from robocoord.sim.disruptions.robust_gym import from_robust_gymnasium
from robocoord.sim.disruptions.spec import DisruptionSpec
from robocoord.sim.disruptions.wrappers import wrap
from robocoord.sim.plant import unicycle_to_wheels
from robocoord.sim.tasks.safe_nav import SafeNavEnv
from robocoord.sim.tasks.warehouse import WarehouseParallelEnv


def spec(**fields: Any) -> DisruptionSpec:
    return DisruptionSpec.model_validate(fields)


def observation_noise(env: Any, steps: int, seed: int = 0) -> np.ndarray:
    env.reset(seed=seed)
    return np.stack([env.step(np.zeros(2))[0] - BASE_OBS for _ in range(steps)])


@pytest.fixture
def safe_nav() -> SafeNavEnv:
    env = SafeNavEnv(decision_period_s=0.5)
    yield env
    env.close()


ZERO_SPECS = [
    spec(source="observation", kind="gauss", mu=0.0, sigma=0.0),
    spec(source="observation", kind="uniform", low=0.0, high=0.0),
    spec(source="observation", kind="shift", offset=0.0),
    spec(source="reward", kind="gauss", sigma=0.0),
    spec(source="cost", kind="shift", offset=0.0),
    spec(source="dynamics", kind="gauss", parameter="lateral_friction_scale", sigma=0.0),
    spec(source="dynamics", kind="shift", parameter="mass_scale", offset=0.0),
]


def test_zero_magnitude_is_identity_on_a_real_task() -> None:
    plain = SafeNavEnv(decision_period_s=0.5)
    wrapped = wrap(SafeNavEnv(decision_period_s=0.5), ZERO_SPECS)
    try:
        obs_a, _ = plain.reset(seed=3)
        obs_b, _ = wrapped.reset(seed=3)
        np.testing.assert_array_equal(obs_a, obs_b)
        for action in (1, 2, 5, 0, 6):
            obs_a, r_a, *_, info_a = plain.step(action)
            obs_b, r_b, *_, info_b = wrapped.step(action)
            np.testing.assert_array_equal(obs_a, obs_b)
            assert r_a == r_b
            np.testing.assert_array_equal(info_a["cost"], info_b["cost"])
    finally:
        plain.close()
        wrapped.close()


def test_zero_magnitude_is_identity_on_continuous_actions() -> None:
    env = wrap(ConstantEnv(), [spec(source="action", kind="gauss", sigma=0.0)])
    env.reset(seed=0)
    env.step(np.array([0.3, -0.7]))
    np.testing.assert_array_equal(env.unwrapped.last_action, [0.3, -0.7])


@pytest.mark.parametrize("interval", [1, 3, 7])
def test_interval_gating_fires_exactly_at_multiples(interval: int) -> None:
    env = wrap(
        ConstantEnv(),
        [spec(source="observation", kind="shift", offset=1.0, mode="interval", interval=interval)],
    )
    _, info = env.reset(seed=0)
    fired = {0: info["disruption"][0]["fired"]}
    for k in range(1, 30):
        fired[k] = env.step(np.zeros(2))[4]["disruption"][0]["fired"]
    assert [k for k, f in fired.items() if f] == list(range(0, 30, interval))


def test_start_and_end_step_bound_the_window() -> None:
    env = wrap(ConstantEnv(), [spec(source="reward", kind="shift", offset=2.0, start_step=3, end_step=6)])
    env.reset(seed=0)
    rewards = [env.step(np.zeros(2))[1] for _ in range(8)]
    assert rewards == [BASE_REWARD] * 2 + [BASE_REWARD + 2.0] * 3 + [BASE_REWARD] * 3


def test_episode_mode_draws_once_per_reset() -> None:
    env = wrap(ConstantEnv(), [spec(source="observation", kind="gauss", sigma=1.0, mode="episode")])
    first = observation_noise(env, 5, seed=0)
    assert np.allclose(first, first[0])  # held for the whole episode
    second = observation_noise(env, 5, seed=1)
    assert not np.allclose(first[0], second[0])  # and redrawn on reset


def test_empirical_mean_and_std_per_dimension_match_spec() -> None:
    mu = [0.0, 1.0, -2.0, 0.5, 3.0]
    sigma = [0.1, 0.5, 1.0, 2.0, 0.0]
    env = wrap(ConstantEnv(), [spec(source="observation", kind="gauss", mu=mu, sigma=sigma)])
    noise = observation_noise(env, 4000)
    # 4000 samples: standard error of the mean is sigma/63; of the std about sigma/89
    np.testing.assert_allclose(noise.mean(axis=0), mu, atol=0.1)
    np.testing.assert_allclose(noise.std(axis=0), sigma, rtol=0.05, atol=1e-12)


def test_uniform_noise_stays_in_bounds_with_matching_moments() -> None:
    env = wrap(ConstantEnv(), [spec(source="observation", kind="uniform", low=-1.0, high=3.0)])
    noise = observation_noise(env, 4000)
    assert noise.min() >= -1.0 and noise.max() <= 3.0
    np.testing.assert_allclose(noise.mean(axis=0), 1.0, atol=0.1)
    np.testing.assert_allclose(noise.std(axis=0), 4.0 / np.sqrt(12.0), rtol=0.05)


def test_noise_is_full_rank() -> None:
    env = wrap(ConstantEnv(), [spec(source="observation", kind="gauss", sigma=1.0)])
    noise = observation_noise(env, 2000)
    covariance = np.cov(noise, rowvar=False)
    assert np.linalg.matrix_rank(covariance) == OBS_DIM
    # independent dimensions: a rank-1 scheme would make every correlation 1
    correlation = np.corrcoef(noise, rowvar=False)
    assert np.abs(correlation - np.eye(OBS_DIM)).max() < 0.1


def test_mask_leaves_masked_dimensions_untouched() -> None:
    mask = [True, False, True, False, False]
    env = wrap(ConstantEnv(), [spec(source="observation", kind="gauss", sigma=1.0, mask=mask)])
    noise = observation_noise(env, 50)
    assert np.all(noise[:, ~np.array(mask)] == 0.0)
    assert np.all(noise[:, np.array(mask)] != 0.0)


def test_agent_subset_disrupts_only_listed_robots() -> None:
    env = wrap(
        WarehouseParallelEnv(n_robots=4, decision_period_s=0.5),
        [spec(source="observation", kind="shift", offset=0.25, agents=[1, 3])],
    )
    plain = WarehouseParallelEnv(n_robots=4, decision_period_s=0.5)
    try:
        disrupted, _ = env.reset(seed=0)
        nominal, _ = plain.reset(seed=0)
        for i, agent in enumerate(plain.possible_agents):
            expected = nominal[agent] + (0.25 if i in (1, 3) else 0.0)
            np.testing.assert_allclose(disrupted[agent], expected, rtol=1e-6)
    finally:
        env.close()
        plain.close()


def stopping_distance_m(env: SafeNavEnv) -> float:
    """Cruise at 0.5 m/s, then command zero wheel speed; how far the robot slides [m]."""
    plant = env.plant
    left, right = unicycle_to_wheels(0.5, 0.0, plant.geometry)
    plant.apply(0, [float(left), float(right)])
    for _ in range(20):
        plant.step(0.05)
    braking_from = plant.poses_world()[0, :2].copy()
    plant.apply(0, [0.0, 0.0])
    for _ in range(30):
        plant.step(0.05)
    return float(np.hypot(*(plant.poses_world()[0, :2] - braking_from)))


def test_friction_change_alters_stopping_distance_in_the_physics(safe_nav: SafeNavEnv) -> None:
    low_friction = wrap(
        SafeNavEnv(decision_period_s=0.5),
        [
            spec(
                source="dynamics",
                kind="set",
                parameter="lateral_friction_scale",
                choices=[0.05],
                mode="episode",
            )
        ],
    )
    try:
        start = {"pose_world": (0.3, 1.5, 0.0)}  # 2.5 m of free floor ahead along +x
        safe_nav.reset(seed=0, options=start)
        low_friction.reset(seed=0, options=start)
        nominal_m = stopping_distance_m(safe_nav)
        slippery_m = stopping_distance_m(low_friction.unwrapped)
        assert slippery_m > 3 * nominal_m
        # the live body carries the new coefficient, not just a number in the wrapper
        wheel = low_friction.unwrapped.plant._robots[0].wheel_joints[0]
        info = pb.getDynamicsInfo(
            low_friction.unwrapped.plant.body_ids[0],
            wheel,
            physicsClientId=low_friction.unwrapped.plant.client,
        )
        assert info[1] == pytest.approx(0.05)
    finally:
        low_friction.close()


def test_phase_excluded_disruption_restores_nominal_on_reset() -> None:
    env = wrap(
        SafeNavEnv(decision_period_s=0.5),
        [
            spec(
                source="dynamics",
                kind="set",
                parameter="mass_scale",
                choices=[2.0],
                mode="episode",
                phase="eval",
            ),
            spec(source="reward", kind="shift", offset=1.0),  # an outer wrapper: set_phase must reach in
        ],
        phase="eval",
    )
    try:
        plant = env.unwrapped.plant
        chassis_mass = lambda: pb.getDynamicsInfo(plant.body_ids[0], -1, physicsClientId=plant.client)[0]  # noqa: E731
        env.reset(seed=0)
        assert chassis_mass() == pytest.approx(4.8)
        env.set_phase("train")
        env.reset(seed=0)
        assert chassis_mass() == pytest.approx(2.4)
    finally:
        env.close()


def run_episode(env: Any, seed: int, steps: int) -> list[Any]:
    obs, info = env.reset(seed=seed)
    trace = [obs.tolist(), info["disruption"][0]["value"]]
    for k in range(steps):
        obs, reward, *_, info = env.step([1, 2, 5, 0, 6][k % 5])
        trace += [obs.tolist(), reward, info["cost"].tolist(), [d["value"] for d in info["disruption"]]]
    return trace


def test_same_seed_reproduces_exactly_and_another_seed_differs() -> None:
    specs = [
        spec(source="observation", kind="gauss", sigma=0.2),
        spec(source="reward", kind="uniform", low=-1.0, high=1.0),
        spec(source="action", kind="uniform", probability=0.3),
        spec(source="dynamics", kind="gauss", parameter="motor_gain", sigma=0.1, mode="episode"),
    ]
    runs = []
    for seed in (7, 7, 8):
        env = wrap(SafeNavEnv(decision_period_s=0.5), specs)
        runs.append(run_episode(env, seed, steps=6))
        env.close()
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_reward_noise_never_reaches_true_reward() -> None:
    plain = SafeNavEnv(decision_period_s=0.5)
    env = wrap(
        SafeNavEnv(decision_period_s=0.5),
        [spec(source="reward", kind="gauss", sigma=5.0), spec(source="reward", kind="shift", offset=3.0)],
    )
    try:
        plain.reset(seed=1)
        env.reset(seed=1)
        for action in (1, 2, 1, 6):
            _, clean, *_ = plain.step(action)
            _, noisy, *_, info = env.step(action)
            assert info["true_reward"] == clean
            assert noisy != clean
    finally:
        plain.close()
        env.close()


def test_cost_noise_keeps_true_cost() -> None:
    env = wrap(ConstantEnv(), [spec(source="cost", kind="shift", offset=[1.0, 2.0])])
    env.reset(seed=0)
    info = env.step(np.zeros(2))[4]
    np.testing.assert_allclose(info["cost"], BASE_COST + [1.0, 2.0])
    np.testing.assert_allclose(info["true_cost"], BASE_COST)


def test_adversarial_picks_the_candidate_with_lowest_value() -> None:
    seen: list[np.ndarray] = []

    def value_fn(candidates: np.ndarray, context: dict[str, Any]) -> np.ndarray:
        seen.append(candidates.copy())
        return candidates[:, 0, :].sum(axis=1)  # the adversary wants the smallest observation sum

    env = wrap(
        ConstantEnv(),
        [spec(source="observation", kind="adversarial", budget=0.5, candidates=6)],
        value_fn=value_fn,
    )
    env.reset(seed=0)
    obs = env.step(np.zeros(2))[0]
    candidates = seen[-1]
    assert candidates.shape == (6, 1, OBS_DIM)
    assert np.abs(candidates - BASE_OBS).max() <= 0.5  # within the budget
    best = candidates[np.argmin(candidates[:, 0, :].sum(axis=1)), 0]
    np.testing.assert_allclose(obs, best)


def test_condition_mode_fires_only_after_reward_improved() -> None:
    class RisingThenFalling(ConstantEnv):
        rewards = [1.0, 2.0, 3.0, 2.0, 1.0, 4.0]

        def step(self, action: Any) -> Any:
            obs, _, te, tr, info = super().step(action)
            return obs, self.rewards.pop(0), te, tr, info

    env = wrap(
        RisingThenFalling(),
        [spec(source="reward", kind="shift", offset=100.0, mode="condition", condition="reward_improved")],
    )
    env.reset(seed=0)
    fired = [env.step(np.zeros(2))[4]["disruption"][0]["fired"] for _ in range(6)]
    # step k sees rewards up to step k: improved at steps 2, 3 and 6
    assert fired == [False, True, True, False, False, True]


def test_robust_gymnasium_namespace_maps_onto_specs() -> None:
    from types import SimpleNamespace

    namespace = SimpleNamespace(
        env="Ant-v4",  # unrelated keys are ignored
        noise_factor="state",
        noise_type="gauss",
        noise_mu=0.1,
        noise_sigma=0.3,
        llm_disturb_interval=5,
        gravity=14.715,
        wind=1.0,
    )
    specs = from_robust_gymnasium(namespace)
    obs_spec, gravity_spec, wind_spec = specs
    assert (obs_spec.source, obs_spec.kind, obs_spec.mu, obs_spec.sigma) == ("observation", "gauss", 0.1, 0.3)
    assert (obs_spec.mode, obs_spec.interval) == ("interval", 5)
    assert gravity_spec.parameter == "gravity_scale" and gravity_spec.choices == [pytest.approx(1.5)]
    assert wind_spec.parameter == "wind_force_n" and wind_spec.choices == [[1.0, 0.0]]
    uniform = from_robust_gymnasium(
        {"noise_factor": "action", "noise_type": "uniform", "uniform_low": -0.2, "uniform_high": 0.2}
    )
    assert (uniform[0].source, uniform[0].low, uniform[0].high, uniform[0].mode) == (
        "action",
        -0.2,
        0.2,
        "always",
    )
    with pytest.raises(ValueError, match="noise_type"):
        from_robust_gymnasium({"noise_factor": "state", "noise_type": "laplace"})


def test_sensor_delay_shows_the_observation_of_k_steps_ago() -> None:
    plain = SafeNavEnv(decision_period_s=0.5)
    delayed = wrap(
        SafeNavEnv(decision_period_s=0.5),
        [spec(source="dynamics", kind="set", parameter="sensor_delay_steps", choices=[2], mode="episode")],
    )
    try:
        seen_plain = [plain.reset(seed=2)[0]]
        seen_delayed = [delayed.reset(seed=2)[0]]
        for action in (1, 2, 1, 2):
            seen_plain.append(plain.step(action)[0])
            seen_delayed.append(delayed.step(action)[0])
        for k in range(2, 5):
            np.testing.assert_array_equal(seen_delayed[k], seen_plain[k - 2])
        np.testing.assert_array_equal(seen_delayed[1], seen_plain[0])  # before 2 steps exist: the oldest
    finally:
        plain.close()
        delayed.close()


def test_observation_dropout_zeroes_dimensions_at_the_given_rate(safe_nav: SafeNavEnv) -> None:
    env = wrap(
        safe_nav, [spec(source="dynamics", kind="set", parameter="observation_dropout", choices=[0.5])]
    )
    obs = [env.reset(seed=0)[0]] + [env.step(0)[0] for _ in range(60)]
    zeros = np.mean(np.stack(obs) == 0.0)
    assert 0.35 < zeros < 0.65  # 8 dims x 61 steps at p = 0.5
