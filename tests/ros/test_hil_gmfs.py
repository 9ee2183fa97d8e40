"""HIL, GMFS: a policy trained *here* by the real trainer (small preset of the demo config) runs on the
8-robot hil fleet (reference firmware in virtual MCUs on ptys, PyBullet plant, bridges, policy nodes,
supervisor, mocap stream, rclpy); its task reward per robot-decision is compared with the pure-sim
evaluation of the same artifact over the same seconds (issue #8: within 10 %). Through the demo's own function, so the report is checked too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from robocoord_ros.demo import run_hil_demo

pytestmark = [pytest.mark.ros, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
SMALL_PRESET = [
    "iterations=15", "batch_size=512", "grad_steps=15", "minibatch=256",
    "eval_agents=20", "eval_rollouts=2", "eval_horizon=20",
]  # fmt: skip


@pytest.fixture(scope="module")
def trained_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    runs = tmp_path_factory.mktemp("gmfs_runs")
    command = [sys.executable, "-m", "robocoord.cli.main", "train", "gmfs", "--config",
               str(ROOT / "training" / "gmfs" / "configs" / "demo.yaml"), "--set", f"run_root={runs}"]  # fmt: skip
    for item in SMALL_PRESET:
        command += ["--set", item]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    (artifact,) = runs.glob("*/artifacts/policy.onnx")
    return artifact


def test_gmfs_policy_reward_in_hil_tracks_pure_sim(trained_artifact: Path, tmp_path: Path):
    # 60 s and 8 sim episodes: with 0.5 Hz decisions, 30 s gives ~120 robot-decisions per side and a
    # sampling error of the same order as the 10 % tolerance (measured 15 % apart with either sign).
    result = run_hil_demo(trained_artifact, tmp_path / "run", seconds=60.0, sim_episodes=8)
    cmp_ = result["comparison"]
    assert result["hil"]["decisions"] >= 8 * 25  # 0.5 Hz decisions for 60 s, minus the start-up
    assert result["sim"]["working_fraction"] > 0.1  # the trained policy really drives to work
    print("hil vs sim:", cmp_)  # the closing note quotes these
    # Issue #8: within 10 %. The hil_8 robots localise by the mocap stream (the plant's ground truth, as
    # the sim's robots do). On wheel odometry alone they drifted 0.1-0.5 m in 40 s of crowding at the
    # station, believed themselves Working when they were not, and scored 7-55 % above sim. With mocap:
    # 1.2, 1.7, 3.0 and 5.8 % apart in four runs.
    assert cmp_["reward_per_decision_rel_diff"] <= 0.10, cmp_
    assert result["hil"]["crc_errors"] == 0
    report = Path(result["report"]).read_text()
    assert "reward per robot-decision" in report
    for plot in result["plots"].values():
        assert Path(plot).stat().st_size > 1000
    assert Path(result["recording"]).stat().st_size > 10_000
    from robocoord_ros.recording import summarize

    recorded = summarize(result["recording"])
    assert recorded.pose_trajectories.keys() == recorded.trajectories.keys()  # mocap and odometry, all 8
    assert len(recorded.pose_trajectories) == 8


def test_a_moving_gmfs_policy_scores_alike_in_hil_and_in_sim(tmp_path: Path):
    """Fidelity with a second, hand-written mover (the fixture policy: head for the work station unless the sampled neighbourhood is crowded there,
    0.5 Hz decisions) makes the hil robots drive, crowd and come back. Measured: HIL 5.09 vs sim 5.96
    reward per robot-decision (15 % apart over 40 s); the bound guards against regressions of the
    hil chain (a stuck robot or a mis-scored state moves it far beyond), not the 10 % goal."""
    from ros_harness import export_gmfs_test_policy

    artifact = export_gmfs_test_policy(tmp_path / "mover.onnx", rate_hz=0.5)
    result = run_hil_demo(artifact, tmp_path / "run", seconds=30.0, sim_episodes=2, record=False)
    assert result["sim"]["working_fraction"] > 0.1  # the policy really works in sim
    assert result["comparison"]["reward_per_decision_rel_diff"] <= 0.25, result["comparison"]
