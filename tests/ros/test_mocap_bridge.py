"""mocap_bridge and the policy controller's mocap pose source, over real rclpy and real UDP on loopback.

The test plays the mocap system (datagrams from :class:`MocapStreamer`) and, for the policy
controller, the serial bridge (``odom``).
"""

from __future__ import annotations

import math
import socket
import time
from pathlib import Path

import pytest
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped, Twist
from nav_msgs.msg import Odometry
from ros_harness import Probe, odom_at, wait_until

from robocoord.firmware_bridge.mocap import MocapStreamer, encode_frame
from robocoord_ros.fleet import FleetRuntime
from robocoord_ros.graph import FleetGraph, NodeSpec, build_graph
from robocoord_ros.inventory import load_inventory
from robocoord_ros.rosutil import command_qos, diagnostics_qos, level_name, telemetry_qos, values_of

pytestmark = pytest.mark.ros
INVENTORY = Path(__file__).resolve().parents[2] / "launch" / "inventories" / "sim_8.yaml"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def mocap_status(probe: Probe):
    return probe.status("mocap_bridge")


def policy_status(probe: Probe):
    return probe.status("robot_0/policy_controller")


def start(nodes: list[NodeSpec]) -> tuple[FleetRuntime, Probe]:
    runtime = FleetRuntime(FleetGraph(backend="hil", nodes=nodes)).start()
    import rclpy

    probe = Probe(rclpy.create_node("probe", context=runtime.context))
    runtime.executor.add_node(probe.node)
    probe.listen(DiagnosticArray, "/diagnostics", diagnostics_qos())
    return runtime, probe


def stop(runtime: FleetRuntime, probe: Probe) -> None:
    runtime.executor.remove_node(probe.node)
    probe.node.destroy_node()
    runtime.stop()
    runtime.check()


def bridge_spec(port: int, robot_ids: list[int]) -> NodeSpec:
    return NodeSpec(
        "mocap_bridge",
        "mocap_bridge",
        "",
        {"listen_port": port, "robot_ids": robot_ids, "rate_hz": 100.0, "diagnostics_rate_hz": 10.0},
    )


def test_mocap_frames_become_pose_topics_and_bad_datagrams_are_counted():
    port = free_port()
    runtime, probe = start([bridge_spec(port, [0, 1])])
    streamer = MocapStreamer(("127.0.0.1", port), period_ms=10)
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for rid in (0, 1):
            probe.listen(PoseStamped, f"/robot_{rid}/pose", telemetry_qos(50.0))
        t_ms = 0

        def stream_until(predicate, what: str) -> None:
            nonlocal t_ms

            def step() -> bool:
                nonlocal t_ms
                streamer.send(t_ms, {0: (1.5, -0.5, math.pi / 2), 1: (0.0, 2.0, 0.0), 9: (0.0, 0.0, 0.0)})
                t_ms += 10
                return bool(predicate())

            wait_until(step, 10.0, what, poll_s=0.01)

        stream_until(lambda: probe.count("/robot_0/pose") and probe.count("/robot_1/pose"), "both poses")
        pose = probe.last("/robot_0/pose")
        assert pose.header.frame_id == "world"
        assert (pose.pose.position.x, pose.pose.position.y) == (1.5, -0.5)
        yaw = 2.0 * math.atan2(pose.pose.orientation.z, pose.pose.orientation.w)
        assert yaw == pytest.approx(math.pi / 2, abs=1e-6)
        # a corrupt datagram and a frame from a stranger's stream: counted, nothing published from them
        raw.sendto(b"RCMC" + b"\x00" * 3, ("127.0.0.1", port))
        raw.sendto(encode_frame(0, 0, {0: (1.0, 1.0, 0.0)})[:-1], ("127.0.0.1", port))
        node = runtime.nodes_of("mocap_bridge")[0]
        wait_until(lambda: node.bad_frames == 2, 5.0, "two bad datagrams counted")
        assert "shorter than" in node.last_error or "bytes for 1 bodies" in node.last_error
        assert node.unknown_bodies > 0  # robot 9 is not in this fleet
        stream_until(
            lambda: (s := mocap_status(probe)) is not None and values_of(s)["bad_frames"] == "2",
            "diagnostics with the bad frames",
        )
        assert level_name(mocap_status(probe)) == "OK"
    finally:
        raw.close()
        streamer.close()
        stop(runtime, probe)


def test_a_robot_missing_from_the_stream_is_warned_about():
    port = free_port()
    runtime, probe = start([bridge_spec(port, [0, 1])])
    streamer = MocapStreamer(("127.0.0.1", port), period_ms=10)
    try:
        t_ms = 0

        def step() -> bool:
            nonlocal t_ms
            streamer.send(t_ms, {0: (0.0, 0.0, 0.0)})  # robot 1 left the capture volume
            t_ms += 10
            s = mocap_status(probe)
            return s is not None and level_name(s) == "WARN"

        wait_until(step, 10.0, "mocap diagnostics at WARN", poll_s=0.01)
        assert "[1]" in mocap_status(probe).message
    finally:
        streamer.close()
        stop(runtime, probe)


def assert_stops_on_stale_input(probe: Probe, keep_feeding, since_s: float, what: str) -> None:
    """While ``keep_feeding()`` streams what is still fresh, the policy goes to ERROR (input stale) and
    every command from 0.3 s after ``since_s`` on is a stop."""
    wait_until(
        lambda: keep_feeding() or ((s := policy_status(probe)) is not None and level_name(s) == "ERROR"),
        10.0,
        "policy diagnostics at ERROR",
        poll_s=0.01,
    )
    assert values_of(policy_status(probe))["input_state"] == "stale"
    wait_until(
        lambda: keep_feeding() or len(probe.since("/robot_0/cmd_vel", since_s + 0.3)) >= 3,
        10.0,
        f"commands after {what}",
        poll_s=0.01,
    )
    after = [m for t, m in probe.since("/robot_0/cmd_vel", since_s + 0.3)]
    assert all(m.linear.x == 0.0 and m.angular.z == 0.0 for m in after), after


def mocap_policy_graph(artifact: Path, port: int) -> list[NodeSpec]:
    """Robot 0's policy controller on pose_source pose_topic, the mocap bridge, the supervisor (hil graph)."""
    inventory = load_inventory(INVENTORY)
    inventory.robots = inventory.robots[:2]
    inventory.localisation.source = "mocap"
    ports = {r.id: f"/dev/pts/{100 + r.id}" for r in inventory.robots}
    graph = build_graph(inventory, "hil", ports=ports, artifact=artifact, mocap_port=port)
    return [
        n for n in graph.nodes if n.executable in ("policy_controller", "mocap_bridge", "fleet_supervisor")
    ]


def test_policy_controller_drives_on_mocap_poses_and_stops_when_odometry_goes_stale(gmfs_artifact: Path):
    port = free_port()
    runtime, probe = start(mocap_policy_graph(gmfs_artifact, port))
    streamer = MocapStreamer(("127.0.0.1", port), period_ms=10)
    odom_pub = probe.node.create_publisher(Odometry, "/robot_0/odom", telemetry_qos(50.0))
    probe.listen(Twist, "/robot_0/cmd_vel", command_qos())
    node = next(n for n in runtime.nodes_of("policy_controller") if n.robot_id == 0)
    assert node.pose_source == "pose_topic"
    # odometry claims robot 0 is at its work station; mocap (the truth) has it at home (Idle)
    wrong_odom = odom_at(1.0, 1.0)
    t_ms = 0

    def feed(with_odom: bool) -> None:
        nonlocal t_ms
        streamer.send(t_ms, {0: (0.0, 0.0, 0.0), 1: (1.0, 0.0, 0.0)})
        t_ms += 10
        if with_odom:
            now_ns = time.time_ns()
            wrong_odom.header.stamp.sec, wrong_odom.header.stamp.nanosec = divmod(now_ns, 1_000_000_000)
            odom_pub.publish(wrong_odom)

    try:
        wait_until(
            lambda: feed(True) or (node.last_decision is not None and node.last_decision.reason == "ok"),
            10.0,
            "a decision on fresh inputs",
            poll_s=0.01,
        )
        assert node.last_decision.task_state == 0  # Idle: classified from the mocap pose, not odometry
        wait_until(
            lambda: feed(True) or ((c := probe.last("/robot_0/cmd_vel")) is not None and c.linear.x > 0.05),
            10.0,
            "the go-to command towards the station",
            poll_s=0.01,
        )
        # the link goes quiet while mocap keeps streaming: the robot must stop all the same
        assert_stops_on_stale_input(probe, lambda: feed(False), time.monotonic(), "the link went quiet")
    finally:
        streamer.close()
        stop(runtime, probe)


TEAM_PUSH_INVENTORY = INVENTORY.parent / "hil_team_push.yaml"


def test_named_objects_become_object_pose_topics_and_a_missing_one_is_warned_about():
    port = free_port()
    spec = bridge_spec(port, [0, 1])
    spec.parameters["objects"] = "box:200"
    runtime, probe = start([spec])
    streamer = MocapStreamer(("127.0.0.1", port), period_ms=10)
    try:
        probe.listen(PoseStamped, "/objects/box/pose", telemetry_qos(50.0))
        t_ms = 0

        def feed(with_box: bool) -> None:
            nonlocal t_ms
            bodies = {0: (0.0, 0.0, 0.0), 1: (1.0, 0.0, 0.0)} | ({200: (0.4, -0.1, 0.3)} if with_box else {})
            streamer.send(t_ms, bodies)
            t_ms += 10

        wait_until(
            lambda: feed(True) or probe.count("/objects/box/pose") > 0, 10.0, "the box pose", poll_s=0.01
        )
        box = probe.last("/objects/box/pose")
        assert (box.pose.position.x, box.pose.position.y) == pytest.approx((0.4, -0.1))
        assert 2.0 * math.atan2(box.pose.orientation.z, box.pose.orientation.w) == pytest.approx(
            0.3, abs=1e-6
        )
        assert runtime.nodes_of("mocap_bridge")[0].unknown_bodies == 0  # the box is ours, not a stranger
        wait_until(
            lambda: feed(False) or ((s := mocap_status(probe)) is not None and level_name(s) == "WARN"),
            10.0,
            "mocap diagnostics at WARN without the box",
            poll_s=0.01,
        )
        assert "objects ['box']" in mocap_status(probe).message
    finally:
        streamer.close()
        stop(runtime, probe)


def test_team_push_controller_acts_on_the_box_pose_and_stops_when_the_box_pose_goes_stale(
    drigm_artifact: Path,
):
    inventory = load_inventory(TEAM_PUSH_INVENTORY)
    port = free_port()
    ports = {r.id: f"/dev/pts/{100 + r.id}" for r in inventory.robots}
    graph = build_graph(inventory, "hil", ports=ports, artifact=drigm_artifact, mocap_port=port)
    nodes = [n for n in graph.nodes if n.executable in ("policy_controller", "mocap_bridge")]
    assert next(n for n in nodes if n.executable == "mocap_bridge").parameters["objects"] == "box:200"
    runtime, probe = start(nodes)
    streamer = MocapStreamer(("127.0.0.1", port), period_ms=10)
    odom_pub = probe.node.create_publisher(Odometry, "/robot_0/odom", telemetry_qos(50.0))
    probe.listen(Twist, "/robot_0/cmd_vel", command_qos())
    node = next(n for n in runtime.nodes_of("policy_controller") if n.robot_id == 0)
    odom = odom_at(-0.5, -0.17)
    t_ms = 0

    def feed(with_box: bool) -> None:
        nonlocal t_ms
        bodies = {0: (-0.5, -0.17, 0.0), 1: (-0.5, 0.17, 0.0)} | ({200: (0.0, 0.0, 0.0)} if with_box else {})
        streamer.send(t_ms, bodies)
        t_ms += 10
        odom.header.stamp.sec, odom.header.stamp.nanosec = divmod(time.time_ns(), 1_000_000_000)
        odom_pub.publish(odom)

    try:
        wait_until(
            lambda: feed(True) or (node.last_decision is not None and node.last_decision.reason == "ok"),
            10.0,
            "a decision on fresh robot and box poses",
            poll_s=0.01,
        )
        assert node.strategy.agent.decisions >= 1 and node.strategy.agent.box_to_goal_m == pytest.approx(1.5)
        # the box leaves the capture volume while the robot's pose and link stay fresh: the safe action
        assert_stops_on_stale_input(probe, lambda: feed(False), time.monotonic(), "the box pose went stale")
    finally:
        streamer.close()
        stop(runtime, probe)
