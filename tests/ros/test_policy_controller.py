"""policy_controller over real rclpy: acts at the contract rate, gives the safe action on stale or
non-finite input with a diagnostic at ERROR, and refuses an artifact that does not fit the robot.

The test plays the serial bridge: it publishes ``odom`` with the bridge's QoS.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from ros_harness import Probe, odom_at, wait_until
from std_msgs.msg import UInt8, UInt8MultiArray

from robocoord_ros.fleet import FleetRuntime
from robocoord_ros.graph import FleetGraph, build_graph, instantiate
from robocoord_ros.inventory import load_inventory
from robocoord_ros.policy_logic import ContractMismatch
from robocoord_ros.rosutil import command_qos, diagnostics_qos, level_name, telemetry_qos

pytestmark = pytest.mark.ros
INVENTORY = Path(__file__).resolve().parents[2] / "launch" / "inventories" / "sim_8.yaml"


def policy_only_graph(artifact: Path, robots: int = 2) -> FleetGraph:
    inventory = load_inventory(INVENTORY)
    inventory.robots = inventory.robots[:robots]
    graph = build_graph(inventory, "sim", artifact=artifact)
    keep = [n for n in graph.nodes if n.executable in ("policy_controller", "fleet_supervisor")]
    return FleetGraph(backend=graph.backend, nodes=keep)


@pytest.fixture
def fleet(gmfs_artifact: Path):
    runtime = FleetRuntime(policy_only_graph(gmfs_artifact)).start()
    import rclpy

    probe = Probe(rclpy.create_node("probe", context=runtime.context))
    runtime.executor.add_node(probe.node)
    probe.listen(Twist, "/robot_0/cmd_vel", command_qos())
    probe.listen(UInt8, "/robot_0/task_state", command_qos())
    probe.listen(UInt8MultiArray, "/robot_0/policy_decision", command_qos())
    probe.listen(DiagnosticArray, "/diagnostics", diagnostics_qos())
    odom_pub = probe.node.create_publisher(Odometry, "/robot_0/odom", telemetry_qos(50.0))
    yield runtime, probe, odom_pub
    runtime.executor.remove_node(probe.node)
    probe.node.destroy_node()
    runtime.stop()
    runtime.check()


def policy_status(probe: Probe):
    return probe.status("robot_0/policy_controller")


def publish_for(pub, msg, seconds: float, rate_hz: float = 50.0) -> None:
    """Publish ``msg`` like a bridge: stamped with the receive time (system clock) each time."""
    end = time.monotonic() + seconds
    period = 1.0 / rate_hz
    next_t = time.monotonic()
    while time.monotonic() < end:
        now_ns = time.time_ns()
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(now_ns, 1_000_000_000)
        pub.publish(msg)
        next_t += period
        wait_until(lambda t=next_t: time.monotonic() >= t, 1.0, "publish period")


def test_fresh_odometry_drives_robot_towards_the_chosen_station(fleet):
    runtime, probe, odom_pub = fleet
    # the fixture policy prefers Working; robot 0 sits at home (Idle), its work station is at 45° left
    publish_for(odom_pub, odom_at(0.0, 0.0), 0.6)
    cmd = probe.last("/robot_0/cmd_vel")
    assert cmd is not None and cmd.linear.x > 0.05 and cmd.angular.z > 0.5, cmd
    assert probe.last("/robot_0/task_state").data == 0  # still at home: Idle
    assert list(probe.last("/robot_0/policy_decision").data) == [0, 2]  # Idle, intends Working
    node = runtime.nodes_of("policy_controller")[0]
    assert node.last_decision.reason == "ok" and not node.last_decision.used_safe_action


def test_stale_odometry_gives_stop_and_error_diagnostic(fleet):
    runtime, probe, odom_pub = fleet
    publish_for(odom_pub, odom_at(0.0, 0.0), 0.5)
    assert probe.last("/robot_0/cmd_vel").linear.x > 0.0
    t_stop = time.monotonic()  # telemetry stops here
    wait_until(
        lambda: (s := policy_status(probe)) is not None and level_name(s) == "ERROR",
        5.0,
        "policy diagnostics at ERROR",
    )
    status = policy_status(probe)
    assert {kv.key: kv.value for kv in status.values}["input_state"] == "stale"
    after = [m for t, m in probe.since("/robot_0/cmd_vel", t_stop + 0.3)]
    assert after and all(m.linear.x == 0.0 and m.angular.z == 0.0 for m in after)


def test_non_finite_odometry_gives_the_safe_action(fleet):
    runtime, probe, odom_pub = fleet
    publish_for(odom_pub, odom_at(0.0, 0.0), 0.3)
    t_nan = time.monotonic()
    publish_for(odom_pub, odom_at(float("nan"), 0.0), 0.4)
    node = runtime.nodes_of("policy_controller")[0]
    assert node.last_decision.used_safe_action and node.last_decision.reason == "non_finite"
    assert node.last_decision.action == 0  # the contract's safe action (Idle)
    after = [m for t, m in probe.since("/robot_0/cmd_vel", t_nan + 0.15)]
    assert after and all(m.linear.x == 0.0 and m.angular.z == 0.0 for m in after)


def test_artifact_with_another_control_rate_is_refused(gmfs_artifact: Path):
    import rclpy
    from rclpy.context import Context

    graph = policy_only_graph(gmfs_artifact, robots=1)
    spec = graph.by_executable("policy_controller")[0]
    bad = type(spec)(
        spec.executable,
        spec.name,
        spec.namespace,
        {**spec.parameters, "control_rate_hz": 50.0},
        spec.param_files,
    )
    context = Context()
    rclpy.init(context=context)
    try:
        with pytest.raises(ContractMismatch, match="control_rate_hz: robot expects 50 Hz, artifact has 5"):
            instantiate(bad, context)
    finally:
        rclpy.try_shutdown(context=context)
