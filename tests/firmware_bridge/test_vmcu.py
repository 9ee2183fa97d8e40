"""The real firmware core in the virtual MCU, driven over its pty, measured in the plant."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
import serial

from robocoord.firmware_bridge.codec import FrameDecoder, encode, encode_raw
from robocoord.firmware_bridge.link import CommandRejected, SerialLink
from robocoord.firmware_bridge.protocol_tables import (
    FaultFlags,
    Nack,
    NackCode,
    Telemetry,
    WheelCommand,
)
from robocoord.firmware_bridge.vmcu_client import VirtualMcu

DEADLINE_S = 5.0


def wait_until(condition: Callable[[], Any], timeout_s: float = DEADLINE_S, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)  # polling a remote process: the deadline, not this interval, bounds the test
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def wheels(mcu: VirtualMcu, robot_id: int) -> list[float]:
    speeds: list[float] = mcu.robot_status(robot_id)["wheel_speed_rad_s"]
    return speeds


class RawPort:
    """Bare pyserial + codec, for probing the firmware with frames SerialLink would never send."""

    def __init__(self, path: str):
        self.port = serial.Serial(path, 115200, timeout=0.05)
        self.decoder = FrameDecoder()

    def send(self, wire: bytes) -> None:
        self.port.write(wire)

    def wait_for(self, predicate: Callable[[Any], bool], timeout_s: float = DEADLINE_S) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for frame in self.decoder.feed(self.port.read(self.port.in_waiting or 1)):
                if predicate(frame):
                    return frame
        raise AssertionError("expected frame never arrived")

    def close(self) -> None:
        self.port.close()


def test_watchdog_stops_the_wheels_within_watchdog_ms_plus_one_tick(mcu: VirtualMcu) -> None:
    robot = 0
    with SerialLink(mcu.ports[robot], robot) as link:
        link.open(wait_s=DEADLINE_S)
        link.send_wheels(6.0, 6.0)
        wait_until(lambda: wheels(mcu, robot)[0] > 5.9, what="wheels at speed")
    # The link is closed: no commands, no heartbeats. The firmware must cut the motors.
    status = wait_until(
        lambda: (s := mcu.robot_status(robot))["firmware"]["fault_flags"] & FaultFlags.WATCHDOG and s,
        what="watchdog fault",
    )
    firmware = status["firmware"]
    last_rx_ms, watchdog_ms = firmware["last_valid_rx_ms"], firmware["watchdog_ms"]
    assert watchdog_ms == 200
    history = mcu.history(robot, since_ms=last_rx_ms)
    samples = list(
        zip(history["t_ms"], history["wheel_left_rad_s"], history["wheel_right_rad_s"], strict=True)
    )
    # Turning (still ramping up, maybe) when the last frame arrived, at speed until the cut.
    assert samples[0][1] > 0.0 and max(left for _, left, _ in samples) > 5.9
    first_zero_ms = next(t for t, left, right in samples if left == 0.0 and right == 0.0)
    assert first_zero_ms - last_rx_ms <= watchdog_ms + mcu.tick_ms
    assert all(left == right == 0.0 for t, left, right in samples if t >= first_zero_ms)


def test_over_limit_command_is_clamped_and_telemetry_shows_it(mcu: VirtualMcu) -> None:
    robot = 1
    with SerialLink(mcu.ports[robot], robot) as link:
        link.open(wait_s=DEADLINE_S)
        link.set_limits(max_wheel_speed_rad_s=10.0, max_wheel_accel_rad_s2=200.0, watchdog_ms=500)
        seq = link.send_wheels(15.0, -12.5)
        t = link.wait_telemetry(lambda t: t.last_cmd_seq == seq)
        assert (t.cmd_left_rad_s, t.cmd_right_rad_s) == (10.0, -10.0)
        assert t.fault_flags & FaultFlags.CLAMPED
        measured = link.wait_telemetry(lambda t: t.wheel_left_rad_s > 9.9)
        assert measured.wheel_left_rad_s == pytest.approx(
            10.0
        ) and measured.wheel_right_rad_s == pytest.approx(-10.0)
        assert wheels(mcu, robot) == pytest.approx([10.0, -10.0])  # in the plant, too
        seq = link.send_wheels(2.0, 2.0)
        t = link.wait_telemetry(lambda t: t.last_cmd_seq == seq)
        assert not t.fault_flags & FaultFlags.CLAMPED


def test_estop_latches_ignores_motion_and_clears_only_on_clear_estop(mcu: VirtualMcu) -> None:
    robot = 2
    with SerialLink(mcu.ports[robot], robot) as link:
        link.open(wait_s=DEADLINE_S)
        link.send_wheels(5.0, 5.0)
        wait_until(lambda: wheels(mcu, robot)[0] > 4.9, what="wheels at speed")
        link.estop()
        # The Ack is in: the latch is set by now. The plant gets the zero setpoint on the next tick and
        # moves by it over the one after (vmcu._tick); a fast host can ask before those ticks ran.
        estop_ms = mcu.status()["time_ms"] + 2
        wait_until(lambda: mcu.status()["time_ms"] >= estop_ms, what="two plant ticks after the e-stop Ack")
        assert wheels(mcu, robot) == [0.0, 0.0]
        with pytest.raises(CommandRejected, match="ESTOP_LATCHED"):
            link.request(WheelCommand.from_si(left_rad_s=5.0, right_rad_s=5.0))
        link.hello()  # neither a new session nor heartbeats release the latch
        for _ in range(5):
            link.send_wheels(5.0, 5.0)
        t = link.wait_telemetry(lambda t: bool(t.fault_flags & FaultFlags.ESTOP))
        assert t.cmd_left_rad_s == 0.0
        wait_until(lambda: mcu.status()["time_ms"] > estop_ms + 12, what="plant time past the e-stop")
        history = mcu.history(robot, since_ms=estop_ms)
        assert len(history["t_ms"]) > 10 and max(map(abs, history["wheel_left_rad_s"])) == 0.0
        link.clear_estop()
        t = link.wait_telemetry(lambda t: not t.fault_flags & FaultFlags.ESTOP)
        assert wheels(mcu, robot) == [0.0, 0.0]  # cleared, but nothing moves until commanded
        link.send_wheels(3.0, 3.0)
        wait_until(lambda: wheels(mcu, robot)[0] > 2.9, what="motion after ClearEStop")


def test_out_of_range_set_limits_is_nacked_and_limits_stay(mcu: VirtualMcu) -> None:
    robot = 3
    with SerialLink(mcu.ports[robot], robot) as link:
        link.open(wait_s=DEADLINE_S)
        before = mcu.robot_status(robot)["firmware"]
        with pytest.raises(CommandRejected, match="OUT_OF_RANGE"):
            link.set_limits(max_wheel_speed_rad_s=45.0, max_wheel_accel_rad_s2=60.0, watchdog_ms=200)
        with pytest.raises(CommandRejected, match="OUT_OF_RANGE"):
            link.set_limits(max_wheel_speed_rad_s=10.0, max_wheel_accel_rad_s2=60.0, watchdog_ms=5)
        after = mcu.robot_status(robot)["firmware"]
        for key in ("max_wheel_mrad_s", "max_accel_mrad_s2", "watchdog_ms"):
            assert after[key] == before[key]


def test_unknown_type_gets_a_nack(mcu: VirtualMcu) -> None:
    port = RawPort(mcu.ports[4])
    try:
        port.send(encode_raw(0x7E, 4, 321, b"\x01\x02"))
        frame = port.wait_for(lambda f: isinstance(f.message, Nack))
        assert frame.message.acked_type == 0x7E and frame.message.acked_seq == 321
        assert frame.message.code == NackCode.UNKNOWN_TYPE
    finally:
        port.close()


def test_wrong_robot_id_is_ignored_and_counted(mcu: VirtualMcu) -> None:
    robot = 5
    port = RawPort(mcu.ports[robot])
    try:
        before = mcu.robot_status(robot)["firmware"]["wrong_robot_id"]
        port.send(encode(WheelCommand(5000, 5000), 6, 1))  # robot 6's command on robot 5's line
        wait_until(lambda: mcu.robot_status(robot)["firmware"]["wrong_robot_id"] == before + 1, what="count")
        assert mcu.robot_status(robot)["firmware"]["target_left_mrad_s"] == 0
        assert wheels(mcu, robot) == [0.0, 0.0]
    finally:
        port.close()


def test_corrupt_frame_is_counted_and_dropped(mcu: VirtualMcu) -> None:
    robot = 6
    port = RawPort(mcu.ports[robot])
    try:
        before = mcu.robot_status(robot)["firmware"]
        wire = bytearray(encode(WheelCommand(5000, 5000), robot, 1))
        wire[5] ^= 0x01
        port.send(bytes(wire))
        good_seq = 2
        port.send(encode(WheelCommand(1000, 1000), robot, good_seq))
        frame = port.wait_for(
            lambda f: isinstance(f.message, Telemetry) and f.message.last_cmd_seq == good_seq
        )
        assert frame.message.cmd_left_mrad_s == 1000  # the corrupted 5000 never took effect
        after = mcu.robot_status(robot)["firmware"]
        assert (
            after["crc_errors"] + after["framing_errors"]
            == before["crc_errors"] + before["framing_errors"] + 1
        )
    finally:
        port.close()


def test_mcu_command_prints_ports_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "robocoord.cli.main", "mcu", "--robots", "3", "--first-id", "10"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline())
        assert ready["event"] == "ready" and sorted(ready["ports"]) == ["10", "11", "12"]
        with SerialLink(ready["ports"]["11"], 11) as link:
            link.open(wait_s=DEADLINE_S)
            assert link.hello().robot_id == 11
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=DEADLINE_S) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_pybullet_plant_behind_the_firmware() -> None:
    with VirtualMcu.start(robots=2, plant="pybullet") as world:
        with SerialLink(world.ports[1], 1) as link:
            link.open(wait_s=DEADLINE_S)
            link.send_velocity(0.2, 0.0)  # 0.2 m/s on 35 mm wheels: 5.71 rad/s
            t = link.wait_telemetry(lambda t: t.wheel_left_rad_s > 5.5, timeout_s=10.0)
            assert t.cmd_left_rad_s == pytest.approx(5.714, abs=0.001)
            moving = world.robot_status(1)
            assert moving["pose_world"][0] > 0.01  # it drove forward in the physics world
            assert world.robot_status(0)["wheel_speed_rad_s"] == pytest.approx([0.0, 0.0], abs=0.05)
        # Link closed: the watchdog cuts the motors and the physical wheels spin down.
        wait_until(lambda: max(map(abs, wheels(world, 1))) < 0.2, timeout_s=10.0, what="wheels spun down")
