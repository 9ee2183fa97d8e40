"""Hardware in the loop: 8 robots, each the real C firmware on its own pty (virtual MCU), serial
bridges, policy controllers and the supervisor over real rclpy — the same graph as
``fleet.launch.py backend:=hil``. Wheel speeds are measured in the plant (the virtual MCU's history).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from ros_harness import Probe, wait_until
from std_srvs.srv import Trigger

from robocoord_ros.fleet import FleetRuntime, prepare_fleet
from robocoord_ros.inventory import load_inventory
from robocoord_ros.rosutil import command_qos, diagnostics_qos, level_name, values_of

pytestmark = [pytest.mark.ros, pytest.mark.slow]
INVENTORY = Path(__file__).resolve().parents[2] / "launch" / "inventories" / "hil_8.yaml"
WHEEL_ZERO_RAD_S = 1e-3


@pytest.fixture
def hil(gmfs_artifact: Path):
    inventory = load_inventory(INVENTORY, ["plant=kinematic"])
    prepared = prepare_fleet(inventory, artifact=gmfs_artifact, record=False)
    runtime = FleetRuntime(prepared.graph)
    try:
        runtime.start()
        probe = Probe(rclpy.create_node("hil_probe", context=runtime.context))
        runtime.executor.add_node(probe.node)
        probe.listen(DiagnosticArray, "/diagnostics", diagnostics_qos())
        for rid in inventory.robot_ids():
            probe.listen(Twist, f"/robot_{rid}/cmd_vel", command_qos())
        yield runtime, prepared, probe
    finally:
        runtime.stop()
        prepared.stop_mcus()
    runtime.check()


def plant_wheels(prepared, rid: int) -> list[float]:
    return prepared.mcus.robot_status(rid)["wheel_speed_rad_s"]


def moving(prepared, rid: int) -> bool:
    return max(abs(w) for w in plant_wheels(prepared, rid)) > 0.5


def trigger_client(probe: Probe, service: str, timeout_s: float = 5.0):
    client = probe.node.create_client(Trigger, service)
    wait_until(client.service_is_ready, timeout_s, f"service {service}")
    return client


def call_trigger(probe: Probe, service: str, timeout_s: float = 5.0, client=None) -> Trigger.Response:
    client = client or trigger_client(probe, service, timeout_s)
    future = client.call_async(Trigger.Request())
    wait_until(future.done, timeout_s, f"reply of {service}")
    probe.node.destroy_client(client)
    return future.result()


def zero_from_ms(history: dict) -> int | None:
    """Plant time from which both wheels stay at zero to the end of the history."""
    t, left, right = history["t_ms"], history["wheel_left_rad_s"], history["wheel_right_rad_s"]
    first = None
    for i in range(len(t)):
        still = abs(left[i]) < WHEEL_ZERO_RAD_S and abs(right[i]) < WHEEL_ZERO_RAD_S
        if still and first is None:
            first = t[i]
        elif not still:
            first = None
    return first


def latest_status(probe: Probe, name: str):
    return probe.status(name)


def test_fleet_estop_zeroes_every_wheel_within_two_control_periods_and_latches(hil):
    runtime, prepared, probe = hil
    ids = sorted(prepared.mcus.ports)
    wait_until(lambda: all(moving(prepared, rid) for rid in ids), 20.0, "every robot driving")
    policy = runtime.nodes_of("policy_controller")[0]
    # the control period of the artifact's contract (control_rate_hz); the go-to loop runs 4x faster
    control_period_ms = 1000.0 / policy.loop.contract.control_rate_hz
    client = trigger_client(probe, "/fleet/estop")
    t_estop_ms = prepared.mcus.status()["time_ms"]  # plant time just before the e-stop
    reply = call_trigger(probe, "/fleet/estop", client=client)
    assert reply.success, reply.message
    # motion commands keep arriving from the policies and must be ignored for a while
    t_cmd = time.monotonic()
    wait_until(
        lambda: all(len(probe.since(f"/robot_{r}/cmd_vel", t_cmd)) >= 5 for r in ids), 10.0, "more cmd_vel"
    )
    moving_cmds = [
        m for r in ids for _, m in probe.since(f"/robot_{r}/cmd_vel", t_cmd) if abs(m.linear.x) > 0.01
    ]
    assert moving_cmds, "the policies stopped asking for motion; the latch would not be exercised"
    for rid in ids:
        history = prepared.mcus.history(rid, since_ms=t_estop_ms)
        stopped_at = zero_from_ms(history)
        assert stopped_at is not None, f"robot {rid}: wheels not at zero after the e-stop"
        assert stopped_at - t_estop_ms <= 2 * control_period_ms, (rid, stopped_at - t_estop_ms)
    bridges = runtime.nodes_of("serial_bridge")
    assert all(b.estop_latched for b in bridges)
    assert sum(b.commands_ignored_estop for b in bridges) > 0
    assert all(prepared.mcus.robot_status(rid)["firmware"]["estop_latched"] for rid in ids)
    # clearing releases the robots that still want to move
    assert call_trigger(probe, "/fleet/clear_estop").success
    wait_until(lambda: any(moving(prepared, rid) for rid in ids), 10.0, "motion after the e-stop is cleared")


def test_a_lost_mcu_link_trips_its_watchdog_while_the_others_keep_working(hil):
    runtime, prepared, probe = hil
    ids = sorted(prepared.mcus.ports)
    wait_until(lambda: all(moving(prepared, rid) for rid in ids), 20.0, "every robot driving")
    victim = ids[3]
    bridge = next(b for b in runtime.nodes_of("serial_bridge") if b.robot_id == victim)
    watchdog_ms = bridge.watchdog_ms
    t_cut_ms = prepared.mcus.status()["time_ms"]
    prepared.mcus.unplug(victim, seconds=60.0)  # the robot's serial line goes dead
    wait_until(lambda: bridge.link_state() == "lost", 3.0, f"bridge {victim} reporting the link lost")
    wait_until(
        lambda: (
            (s := latest_status(probe, f"robot_{victim}/serial_bridge")) is not None
            and level_name(s) == "ERROR"
            and values_of(s)["link_state"] == "lost"
        ),
        5.0,
        "link-lost diagnostics at ERROR",
    )
    # the firmware watchdog runs on plant time, which lags wall time when the MCU process is starved
    wait_until(
        lambda: prepared.mcus.status()["time_ms"] >= t_cut_ms + watchdog_ms + 100,
        10.0,
        "plant time past the watchdog",
    )
    history = prepared.mcus.history(victim, since_ms=t_cut_ms)
    stopped_at = zero_from_ms(history)
    assert stopped_at is not None, (
        "the cut-off robot's wheels did not stop",
        history["t_ms"][-3:],
        history["wheel_left_rad_s"][-3:],
        prepared.mcus.robot_status(victim),
    )
    tick_ms = prepared.mcus.tick_ms
    assert stopped_at - t_cut_ms <= watchdog_ms + 2 * tick_ms + 50, (
        stopped_at - t_cut_ms
    )  # 50 ms: last command age
    assert prepared.mcus.robot_status(victim)["firmware"]["fault_flags"] & 1  # FaultFlags.WATCHDOG
    # the others still have their links and still drive
    others = [b for b in runtime.nodes_of("serial_bridge") if b.robot_id != victim]
    assert all(b.link_state() == "up" for b in others)
    t_after_ms = prepared.mcus.status()["time_ms"]
    wait_until(lambda: prepared.mcus.status()["time_ms"] > t_after_ms + 300, 5.0, "300 ms of plant time")
    still_moving = [
        rid
        for rid in ids
        if rid != victim
        and max(abs(w) for w in prepared.mcus.history(rid, since_ms=t_after_ms)["wheel_left_rad_s"]) > 0.5
    ]
    assert len(still_moving) >= len(ids) // 2, still_moving


def test_telemetry_stopping_gives_the_safe_action_and_an_error_diagnostic(hil):
    runtime, prepared, probe = hil
    ids = sorted(prepared.mcus.ports)
    wait_until(lambda: all(moving(prepared, rid) for rid in ids), 20.0, "every robot driving")
    victim = ids[5]
    policy = next(p for p in runtime.nodes_of("policy_controller") if p.robot_id == victim)
    prepared.mcus.freeze(victim, seconds=30.0)  # the MCU stops: no telemetry at all
    t_freeze = time.monotonic()
    wait_until(lambda: policy.loop.last_reason == "stale", 3.0, "policy input stale")
    wait_until(
        lambda: (
            (s := latest_status(probe, f"robot_{victim}/policy_controller")) is not None
            and level_name(s) == "ERROR"
            and values_of(s)["input_state"] == "stale"
        ),
        5.0,
        "policy diagnostics at ERROR",
    )
    # from the first stop on (messages published earlier may still be in flight), every command is a stop
    topic = f"/robot_{victim}/cmd_vel"
    wait_until(
        lambda: any(m.linear.x == 0.0 and m.angular.z == 0.0 for _, m in probe.since(topic, t_freeze)),
        3.0,
        "a stop command",
    )
    t_first_stop = next(
        t for t, m in probe.since(topic, t_freeze) if m.linear.x == 0.0 and m.angular.z == 0.0
    )
    wait_until(lambda: len(probe.since(topic, t_first_stop)) >= 10, 5.0, "ten more commands")
    assert all(m.linear.x == 0.0 and m.angular.z == 0.0 for _, m in probe.since(topic, t_first_stop))
    assert policy.loop.safe_actions > 0
