"""HIL, DrIGM: a team_push policy trained *here* by the real trainer (robust QMIX with the TV dual, cut to
1 200 env steps) runs on two robots in hil — the reference firmware in virtual MCUs on ptys around one
PyBullet plant holding the task's box, serial bridges, mocap (robots and box), one policy controller per
robot executing its own DrIGM utility network on its own observation, rclpy — and its success rate is
within 10 % of the pure-sim evaluation of the same artifact over the same episodes (the hil robots start
at each sim episode's start poses; a fresh fleet per episode).

At this training budget the policy succeeds in every sim episode, so the success-rate comparison is coarse;
the time to goal (decisions until the box is within tolerance x decision period) is the finer check.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from robocoord_ros.demo import run_hil_team_push

pytestmark = [pytest.mark.ros, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
EPISODES = 5


@pytest.fixture(scope="module")
def team_push_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("drigm_runs")
    command = [sys.executable, "-m", "robocoord.cli.main", "train", "drigm", "--config",
               str(ROOT / "training" / "drigm" / "configs" / "train_team_push.yaml"),
               "--set", "learner.total_env_steps=1200", "--set", "learner.batch_episodes=8",
               "--set", "learner.learning_starts_episodes=8", "--set", "learner.eps_anneal_steps=600",
               "--set", "eval_episodes=3"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=work)
    assert result.returncode == 0, result.stderr[-3000:]
    (artifact,) = work.glob("runs/*/artifacts/policy.onnx")
    return artifact


def test_drigm_team_push_in_hil_succeeds_within_10_percent_of_sim(team_push_artifact: Path):
    result = run_hil_team_push(team_push_artifact, episodes=EPISODES)
    hil, sim, cmp_ = result["hil"], result["sim"], result["comparison"]
    print(
        "comparison:",
        cmp_,
        "hil decisions to goal:",
        hil["decisions_to_goal"],
        "sim:",
        sim["decisions_to_goal"],
    )  # fmt: skip  (quoted in the notes)
    assert len(hil["episodes"]) == EPISODES and sim["episodes"] == EPISODES
    for episode in hil["episodes"]:
        assert episode["finished"], episode  # every robot reported its episode over before the deadline
        for robot in episode["robots"]:
            assert robot["decisions"] >= 1 and robot["link"]["crc_errors"] == 0, robot
    assert sim["success_rate"] >= 0.8  # a policy that works in sim: the comparison is not of two failures
    # issue #8: the success rate in hil is within 10 % of the pure-sim evaluation of the same artifact
    assert cmp_["success_rate_abs_diff"] <= 0.1 * sim["success_rate"] + 1e-9
    # the finer check: time to goal in hil within 25 % of sim (firmware ramps, serial link, 4 Hz wall timer)
    hil_t, sim_t = cmp_["time_to_goal_s_hil"], cmp_["time_to_goal_s_sim"]
    assert hil_t is not None and sim_t is not None
    assert abs(hil_t - sim_t) <= 0.25 * sim_t, (hil_t, sim_t)
