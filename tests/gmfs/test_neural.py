"""Neural GMFS: fitted Q-iteration, the exported artifact and its contract, `robocoord train gmfs`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from robocoord.controllers.gmfs_sampler import graphon_matrix, normalised_weights
from robocoord.controllers.policy import PolicyRuntime, read_contract
from robocoord.training.gmfs.config import (
    GmfsTrainConfig,
    GridLayout,
    PybulletModelConfig,
    SyntheticModelConfig,
)
from robocoord.training.gmfs.models import AnalyticWarehouseModel, SyntheticModel
from robocoord.training.gmfs.neural import (
    bellman_targets,
    draw_states,
    export_gmfs,
    features,
    fitted_q_iteration,
    neural_policy,
)
from robocoord.training.gmfs.pybullet_model import PybulletWarehouseModel
from robocoord.training.gmfs.study import layout_positions
from robocoord.training.gmfs.tabular import TabularGmfs, execute

CONFIGS = Path(__file__).resolve().parents[2] / "training" / "gmfs" / "configs"
SIM_DISRUPTIONS = Path(__file__).resolve().parents[2] / "sim" / "configs" / "disruptions"


def _small(tmp_path: Path, **overrides: object) -> GmfsTrainConfig:
    base = dict(
        iterations=25,
        batch_size=512,
        mc_samples=4,
        grad_steps=25,
        minibatch=256,
        hidden=[32, 32],
        eval_agents=16,
        eval_rollouts=2,
        eval_horizon=20,
        run_root=tmp_path,
        neighbor_action="first_sweep_greedy",
    )
    base.update(overrides)
    return GmfsTrainConfig.model_validate(base)


def test_bellman_targets_equal_reward_when_gamma_is_zero() -> None:
    model = AnalyticWarehouseModel()
    rng = np.random.default_rng(0)
    data = draw_states(model, [4, 8], 64, rng)
    net, _ = fitted_q_iteration(_small(Path("."), iterations=1, grad_steps=1), model)
    y = bellman_targets(model, net, data, 0.0, 3, "current_greedy", rng)
    g = data.z / data.kappa[:, None]
    np.testing.assert_allclose(y, model.reward(data.s[:, None], np.arange(3)[None], g[:, None]))
    assert (data.z.sum(axis=1) == data.kappa).all()


def test_neural_gmfs_matches_tabular_alg1_on_the_paper_setup(tmp_path: Path) -> None:
    """n = 25, r = 0.3, L = 5, first-sweep semantics: one network for all κ does at least as well as Alg. 1 at κ = 8."""
    model = AnalyticWarehouseModel(L=5.0)
    net, deltas = fitted_q_iteration(_small(tmp_path), model)
    assert np.isfinite(deltas).all()
    tabular = TabularGmfs(model, 8, 0.95, 50, "first_sweep_greedy")
    tabular.fit(250, np.random.default_rng(0))
    positions = layout_positions(GridLayout(rows=5, cols=5), 25)
    w_bar = normalised_weights(graphon_matrix("radius", positions, radius=0.3))
    neural_return, tabular_return = (
        execute(act, model, w_bar, w_bar, 8, 100, 30, 0.95, np.random.default_rng(1)).returns.mean()
        for act in (neural_policy(net, 8), tabular.policy())
    )
    assert neural_return >= tabular_return - 5, (neural_return, tabular_return)


def test_network_input_does_not_grow_with_kappa_and_handles_larger_state_spaces(tmp_path: Path) -> None:
    model = SyntheticModel(7, 4, seed=2)  # tabular κ = 24 would need 7·4·C(30, 6) ≈ 16.6 M entries
    cfg = _small(tmp_path, model=SyntheticModelConfig(n_states=7, n_actions=4), iterations=3, kappa=4)
    net, deltas = fitted_q_iteration(cfg, model)
    s = np.zeros(5, dtype=np.int64)
    for kappa in (2, 24, 200):
        counts = np.random.default_rng(kappa).multinomial(kappa, np.full(7, 1 / 7), size=5)
        assert net.q_values(s, counts / kappa).shape == (5, 4)


def test_train_writes_run_folder_plot_and_a_loadable_artifact_with_the_gmfs_contract(small_run) -> None:  # type: ignore[no-untyped-def]
    cfg, result = small_run
    assert result.artifact == result.run_dir / "artifacts" / "policy.onnx"
    assert (result.run_dir / "plots" / "bellman_max_delta.png").read_bytes()[:4] == b"\x89PNG"
    assert "bellman_max_delta" in (result.run_dir / "metrics.csv").read_text()
    contract = read_contract(result.artifact)
    assert contract.family == "gmfs"
    params = contract.family_params
    assert params["kappa"] == 8 and params["graphon"] == {"kind": "radius", "radius": 0.3}
    assert params["state_meanings"] == ["idle", "transit", "working"]
    assert params["action_meanings"] == ["go_idle", "go_transit", "go_working"]
    assert params["model"]["kind"] == "pybullet"
    assert contract.control_rate_hz == cfg.control_rate_hz
    assert contract.observation.dim == 6 and contract.action.kind == "discrete"
    assert contract.action.safe_action == 0


def test_eval_cli_runs_the_artifact_on_pybullet_robots(small_run) -> None:  # type: ignore[no-untyped-def]
    _, result = small_run
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "robocoord.cli.main",
            "eval",
            str(result.artifact),
            "--task",
            "warehouse",
            "--robots",
            "16",
            "--episodes",
            "1",
            "--seconds",
            "8",
            "--json",
            "--disruptions",
            str(SIM_DISRUPTIONS / "action_noise.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["episodes"] == 1 and doc["robots"] == 16 and doc["decisions"] == 4
    assert 0.0 <= doc["throughput_mean"] <= 30.0 and doc["violations"] == 0
    assert np.isfinite(doc["return_mean"])


def test_exported_artifact_matches_the_torch_network(tmp_path: Path) -> None:
    cfg = _small(tmp_path, iterations=3, kappa=8)
    model = AnalyticWarehouseModel()
    net, _ = fitted_q_iteration(cfg, model)
    runtime = PolicyRuntime(export_gmfs(net, tmp_path / "policy.onnx", cfg, model, []))
    rng = np.random.default_rng(0)
    s = rng.integers(0, 3, 50)
    fractions = rng.multinomial(8, [0.3, 0.3, 0.4], size=50) / 8
    result = runtime.act(features(s, fractions, 3))
    np.testing.assert_allclose(result.outputs["q_values"], net.q_values(s, fractions), rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(result.action, net.q_values(s, fractions).argmax(axis=1))


def test_pybullet_model_wraps_the_measured_warehouse_table() -> None:
    model = PybulletWarehouseModel.from_config(PybulletModelConfig(L=1.0))
    from robocoord.sim.tasks.warehouse_model import WarehouseTransitionModel, warehouse_reward

    table = WarehouseTransitionModel.load()
    g = np.array([[0.5, 0.3, 0.2], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(
        model.next_state_probs(1, 2, g), table.transition_probs(np.array([1, 1]), np.array([2, 2]), g[:, 2])
    )
    np.testing.assert_allclose(model.reward(2, 0, g), warehouse_reward(2, 0, g[:, 2], 1.0))


def test_pybullet_model_trains_under_action_noise_as_the_mixture_of_kernels() -> None:
    config = PybulletModelConfig(L=1.0, disruptions=SIM_DISRUPTIONS / "action_noise.yaml")
    noisy = PybulletWarehouseModel.from_config(config)
    clean = PybulletWarehouseModel.from_config(PybulletModelConfig(L=1.0))
    g = np.array([0.2, 0.3, 0.5])
    expected = 0.9 * clean.next_state_probs(0, 2, g) + 0.1 * np.mean(
        [clean.next_state_probs(0, b, g) for b in range(3)], axis=0
    )
    np.testing.assert_allclose(noisy.next_state_probs(0, 2, g), expected)
    assert noisy.disruption_records and noisy.disruption_records[0]["source"] == "action"


def test_pybullet_model_refuses_a_physical_disruption_it_cannot_model() -> None:
    with pytest.raises(ValueError, match="needs a transition table measured under it"):
        PybulletWarehouseModel.from_config(
            PybulletModelConfig(disruptions=SIM_DISRUPTIONS / "motor_gain_x0.7.yaml")
        )


def test_train_cli_prints_a_summary_and_rejects_bad_config(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from robocoord.cli.main import app

    base = ["train", "gmfs", "--config", str(CONFIGS / "demo.yaml")]
    small = [
        f"run_root={tmp_path}",
        "iterations=2",
        "batch_size=256",
        "minibatch=128",
        "eval_agents=9",
        "eval_rollouts=1",
        "eval_horizon=5",
        "grad_steps=2",
    ]
    result = CliRunner().invoke(app, base + [arg for s in small for arg in ("--set", s)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.splitlines()[0])
    assert Path(summary["artifact"]).is_file()
    assert set(summary["eval_in_model"]) == {"gmfs_graphon", "gmfs_uniform", "always_work", "random"}
    bad = subprocess.run(
        [sys.executable, "-m", "robocoord.cli.main", *base, "--set", "kappa=0", "--set", "graphon.kind=ring"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert "kappa" in bad.stderr and "graphon" in bad.stderr and "Traceback" not in bad.stderr


def test_jobs_objective_pays_the_expected_arrivals_at_the_work_station() -> None:
    model = PybulletWarehouseModel.from_config(PybulletModelConfig(L=1.0, objective="jobs"))
    g = np.array([0.4, 0.4, 0.2])
    s = np.array([0, 1, 2, 1])
    a = np.array([2, 2, 2, 0])
    expected = np.where(s != 2, model.next_state_probs(s, a, g)[:, 2], 0.0)
    np.testing.assert_allclose(model.reward(s, a, g), expected)
    assert model.reward(1, 2, g) > model.reward(1, 0, g) and model.reward(2, 2, g) == 0.0
