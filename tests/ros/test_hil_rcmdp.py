"""HIL, RCMDP: a safe_nav policy trained *here* by the real trainer (kernels from PyBullet rollouts, TV radius
calibrated, RNPG) runs one whole episode on a robot in hil — the reference firmware in a virtual MCU on a
pty, a PyBullet plant holding the arena's walls and pillars, the serial bridge, mocap, the policy
controller with its safety shield, rclpy — and keeps each constraint's discounted cost within its budget.
The pure-sim evaluation of the same artifact runs alongside, for the figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from robocoord_ros.demo import run_hil_safe_nav

pytestmark = [pytest.mark.ros, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def robust_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("rcmdp_runs")
    command = [sys.executable, "-m", "robocoord.cli.main", "train", "rcmdp", "--config",
               str(ROOT / "training" / "rcmdp" / "configs" / "safe_nav.yaml")]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=work)
    assert result.returncode == 0, result.stderr[-3000:]
    (artifact,) = work.glob("runs/*/artifacts/robust.onnx")
    return artifact


def test_rcmdp_policy_in_hil_keeps_every_constraint_within_budget(robust_artifact: Path):
    result = run_hil_safe_nav(robust_artifact, sim_episodes=10)
    hil, sim = result["hil"], result["sim"]
    print("hil:", {k: v for k, v in hil.items() if k != "robots"}, "sim:", sim)  # quoted in the notes
    (robot,) = hil["robots"]
    assert hil["decisions"][0] == 40 and robot["decisions"] >= 40  # the whole episode, all reported
    assert len(hil["cells_visited"][0]) >= 3, hil["cells_visited"]  # the robot really drove the arena
    assert robot["within_budget"], robot  # issue #8: constraint cost within budget, measured on the robot
    assert all(0.0 <= c <= b for c, b in zip(robot["discounted_cost"], robot["budgets"], strict=True))
    assert robot["link"]["crc_errors"] == 0 and robot["link"]["reconnects"] == 0
    assert sim["shield"] and sim["violations"] == 0  # the same artifact in pure sim, for comparison
