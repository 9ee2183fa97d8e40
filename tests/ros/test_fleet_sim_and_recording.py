"""``backend:=sim`` (PyBullet sim_world, no serial link) run through the same session API as
``robocoord fleet up``, recorded to MCAP, and read back by ``robocoord replay``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from robocoord.cli.main import app
from robocoord_ros.inventory import load_inventory
from robocoord_ros.recording import summarize
from robocoord_ros.session import FleetSession

pytestmark = pytest.mark.ros
INVENTORY = Path(__file__).resolve().parents[2] / "launch" / "inventories" / "sim_8.yaml"


def test_sim_backend_drives_robots_scores_decisions_and_records(gmfs_artifact: Path, tmp_path: Path):
    inventory = load_inventory(INVENTORY)
    recording = tmp_path / "sim.mcap"
    session = FleetSession.open(inventory, artifact=gmfs_artifact, record=recording)
    try:
        session.run(4.0, live=False)
    finally:
        summary = session.close()
    fleet = summary["fleet"]
    assert fleet["backend"] == "sim" and fleet["recording"] == str(recording)
    robots = summary["robots"]
    assert len(robots) == 8 and all(
        r["decisions"] >= 5 for r in robots
    )  # 5 Hz decisions for 4 s, minus start-up
    assert all(r["reward_per_decision"] is not None for r in robots)
    rec = summarize(recording)
    assert len(rec.trajectories) == 8
    # the fixture policy sends robots to the work station (and back home when it is crowded)
    farthest = {}
    for robot, points in rec.trajectories.items():
        _, x0, y0 = points[0]
        farthest[robot] = max(((x - x0) ** 2 + (y - y0) ** 2) ** 0.5 for _, x, y in points)
    assert sum(d > 0.2 for d in farthest.values()) >= 4, farthest
    assert rec.topics["/robot_0/cmd_vel"].count > 20
    assert rec.topics["/robot_0/policy_decision"].count >= 5


def test_replay_cli_prints_summary_and_plots(gmfs_artifact: Path, tmp_path: Path):
    inventory = load_inventory(INVENTORY)
    inventory.robots = inventory.robots[:2]
    recording = tmp_path / "two.mcap"
    session = FleetSession.open(inventory, artifact=gmfs_artifact, record=recording)
    try:
        session.run(1.5, live=False)
    finally:
        session.close()
    result = CliRunner().invoke(app, ["replay", str(recording), "--json", "--plot", str(tmp_path / "t.png")])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["robots_with_odometry"] == ["robot_0", "robot_1"]
    assert doc["topics"]["/robot_1/odom"]["count"] > 10
    assert (tmp_path / "t.png").stat().st_size > 1000
    bad = CliRunner().invoke(app, ["replay", str(tmp_path / "missing.mcap")])
    assert bad.exit_code == 2 and "file not found" in bad.output


def test_fleet_up_cli_json_ends_with_one_summary_per_robot(gmfs_artifact: Path, tmp_path: Path):
    command = [
        sys.executable, "-m", "robocoord.cli.main", "fleet", "up", "--inventory", str(INVENTORY),
        "--backend", "sim", "--duration", "2", "--artifact", str(gmfs_artifact), "--no-record", "--json",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [line["robot"] for line in lines] == list(range(8))
    assert all({"reward_per_decision", "estop_events", "decisions"} <= set(line) for line in lines)
    bad = CliRunner().invoke(app, ["fleet", "up", "--inventory", str(INVENTORY), "--backend", "moon"])
    assert bad.exit_code == 2 and "--backend" in bad.output


def test_sim_backend_publishes_the_arena_objects_as_mocap_would():
    """team_push on backend:=sim: sim_world's box goes out on /objects/box/pose, the topic mocap_bridge
    fills in hil, so the same policy nodes run on either backend."""
    import rclpy
    from geometry_msgs.msg import PoseStamped
    from ros_harness import Probe, wait_until

    from robocoord_ros.fleet import FleetRuntime
    from robocoord_ros.graph import build_graph
    from robocoord_ros.rosutil import telemetry_qos

    inventory = load_inventory(INVENTORY.parent / "hil_team_push.yaml")
    runtime = FleetRuntime(build_graph(inventory, "sim")).start()  # no artifact: world and supervisor only
    probe = Probe(rclpy.create_node("probe", context=runtime.context))
    runtime.executor.add_node(probe.node)
    probe.listen(PoseStamped, "/objects/box/pose", telemetry_qos(50.0))
    try:
        wait_until(lambda: probe.count("/objects/box/pose") >= 5, 20.0, "box poses from sim_world")
        box = probe.last("/objects/box/pose")
        assert box.header.frame_id == "world"
        assert (box.pose.position.x, box.pose.position.y) == pytest.approx((0.0, 0.0), abs=0.01)  # task start
    finally:
        runtime.executor.remove_node(probe.node)
        probe.node.destroy_node()
        runtime.stop()
        runtime.check()
