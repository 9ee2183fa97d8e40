"""serial_bridge on its own, over one virtual MCU (real firmware on a pty, kinematic plant):
lifecycle failure on a missing port, the local estop/clear_estop services, wheel commands, and
clear_estop refused while the fleet e-stop holds."""

from __future__ import annotations

from pathlib import Path

import pytest
import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.lifecycle import TransitionCallbackReturn
from ros_harness import wait_until
from std_msgs.msg import Bool, Float64MultiArray
from std_srvs.srv import Trigger

from robocoord_ros.graph import NodeSpec, default_params_file, instantiate
from robocoord_ros.hil import spawn_virtual_mcus
from robocoord_ros.rosutil import command_qos, latched_qos

pytestmark = pytest.mark.ros


def bridge_spec(port: str, **extra) -> NodeSpec:
    params = {"port": port, "robot_id": 0, "connect_timeout_s": 2.0, "accept_wheel_commands": True, **extra}
    return NodeSpec("serial_bridge", "serial_bridge", "robot_0", params, (default_params_file(),))


@pytest.fixture
def context():
    ctx = Context()
    rclpy.init(context=ctx)
    yield ctx
    rclpy.try_shutdown(context=ctx)


def test_configure_fails_cleanly_without_the_port(context, tmp_path: Path):
    node = instantiate(bridge_spec(str(tmp_path / "no_such_tty"), connect_timeout_s=0.3), context)
    try:
        assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
        assert node.link is None and node.link_state() == "closed"
    finally:
        node.destroy_node()


def test_services_wheel_commands_and_fleet_latch(context):
    mcu = spawn_virtual_mcus([0], [(0.0, 0.0, 0.0)], plant="kinematic", telemetry_hz=50.0)
    node = instantiate(bridge_spec(mcu.ports[0]), context)
    client_node = rclpy.create_node("client", context=context)
    executor = SingleThreadedExecutor(context=context)
    try:
        assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
        assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
        executor.add_node(node)
        executor.add_node(client_node)
        wheels = client_node.create_publisher(Float64MultiArray, "/robot_0/wheel_cmd", command_qos())
        fleet = client_node.create_publisher(Bool, "/fleet/estop_active", latched_qos())

        def spin_until(predicate, what: str, timeout_s: float = 5.0) -> None:
            def step() -> bool:
                executor.spin_once(timeout_sec=0.01)
                return predicate()

            wait_until(step, timeout_s, what)

        def call(service: str) -> Trigger.Response:
            client = client_node.create_client(Trigger, service)
            spin_until(client.service_is_ready, f"{service} ready")
            future = client.call_async(Trigger.Request())
            spin_until(future.done, f"{service} reply")
            return future.result()

        def plant_left() -> float:
            return mcu.robot_status(0)["wheel_speed_rad_s"][0]

        def drive(value: float) -> bool:
            wheels.publish(Float64MultiArray(data=[value, value]))
            executor.spin_once(timeout_sec=0.01)
            return abs(plant_left() - value) < 1e-3

        spin_until(lambda: drive(3.0), "wheels at 3 rad/s in the plant")
        assert call("/robot_0/estop").success
        spin_until(lambda: abs(plant_left()) < 1e-3, "wheels stopped by the local e-stop")
        for _ in range(20):
            drive(3.0)
        assert abs(plant_left()) < 1e-3 and node.commands_ignored_estop >= 20
        assert call("/robot_0/clear_estop").success
        spin_until(lambda: drive(2.0), "motion again after clear_estop")
        fleet.publish(Bool(data=True))
        spin_until(lambda: node.estop_latched and abs(plant_left()) < 1e-3, "fleet e-stop reaching the plant")
        refused = call("/robot_0/clear_estop")
        assert not refused.success and "fleet e-stop" in refused.message
        # a wheel command over the limit is clamped to the firmware's limit by the bridge first
        fleet.publish(Bool(data=False))
        spin_until(lambda: not node.estop_latched, "fleet e-stop cleared")
        spin_until(lambda: drive(node.max_wheel) or False, "wheels at the limit")
        wheels.publish(Float64MultiArray(data=[1e6, 1e6]))
        spin_until(lambda: abs(plant_left() - node.max_wheel) < 1e-3, "clamped command at the limit")
    finally:
        executor.shutdown(timeout_sec=1.0)
        client_node.destroy_node()
        node.destroy_node()
        mcu.stop()
