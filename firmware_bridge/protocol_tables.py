"""GENERATED from firmware_bridge/protocol.toml by firmware_bridge/schema.py. Do not edit."""

from __future__ import annotations

import enum
import math
from typing import NamedTuple

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 64  # encoded, including the 0x00 delimiter
MAX_RAW_BYTES = 62  # header + payload + CRC
HEADER_FORMAT = "<BBBH"  # version, msg_type, robot_id, seq
HEADER_BYTES = 5
CRC_BYTES = 2
MAX_PAYLOAD_BYTES = 55
BROADCAST_ROBOT_ID = 255


def _si_to_wire(value: float, inverse: float, lo: int, hi: int, where: str) -> int:
    """SI value -> wire integer; refuses what the wire cannot carry instead of wrapping it."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{where} = {value!r} is not a finite number")
    wire = round(value * inverse)
    if not lo <= wire <= hi:
        raise ValueError(f"{where} = {value!r} is outside [{lo / inverse:g}, {hi / inverse:g}]")
    return wire


def _checked_int(value: int, lo: int, hi: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{where} = {value!r} must be an integer in {lo}..{hi}")
    return value


class NackCode(enum.IntEnum):
    """Why the firmware refused a frame (Nack.code)."""

    UNKNOWN_TYPE = 1  # message type not known to this firmware
    BAD_LENGTH = 2  # payload length does not match the message layout
    OUT_OF_RANGE = 3  # a field is outside its allowed range; nothing changed
    ESTOP_LATCHED = 4  # motion command refused while the e-stop is latched
    VERSION_MISMATCH = 5  # protocol version differs; Nack.detail carries the firmware's version
    NOT_FOR_FIRMWARE = 6  # message type only flows firmware -> host


class FaultFlags(enum.IntFlag):
    """Bit flags in Telemetry.fault_flags and Heartbeat.fault_flags."""

    WATCHDOG = 1  # no valid frame for watchdog_ms: motors forced to zero
    ESTOP = 2  # e-stop latched: motors at zero until ClearEStop
    CLAMPED = 4  # the last motion command was clamped to the limits
    RX_ERRORS = 8  # corrupt frames were received since the last telemetry
    LOW_BATTERY = 16  # battery below the configured threshold


class Capabilities(enum.IntFlag):
    """Bit flags in Hello.capabilities / HelloAck.capabilities."""

    WHEEL_COMMAND = 1  # accepts WheelCommand
    VELOCITY_COMMAND = 2  # accepts VelocityCommand
    IMU = 4  # telemetry carries IMU readings
    SET_LIMITS = 8  # accepts SetLimits


class Hello(NamedTuple):
    """Host opens a session; firmware answers HelloAck, or Nack(VERSION_MISMATCH)."""

    protocol_version: int
    host_version: int
    capabilities: int

    @classmethod
    def from_si(
        cls,
        *,
        protocol_version: int,
        host_version: int,
        capabilities: int,
    ) -> Hello:
        return cls(
            _checked_int(protocol_version, 0, 255, "Hello.protocol_version"),
            _checked_int(host_version, 0, 65535, "Hello.host_version"),
            _checked_int(capabilities, 0, 65535, "Hello.capabilities"),
        )


class HelloAck(NamedTuple):
    """Firmware identity."""

    protocol_version: int
    firmware_version: int
    robot_id: int
    capabilities: int

    @classmethod
    def from_si(
        cls,
        *,
        protocol_version: int,
        firmware_version: int,
        robot_id: int,
        capabilities: int,
    ) -> HelloAck:
        return cls(
            _checked_int(protocol_version, 0, 255, "HelloAck.protocol_version"),
            _checked_int(firmware_version, 0, 65535, "HelloAck.firmware_version"),
            _checked_int(robot_id, 0, 255, "HelloAck.robot_id"),
            _checked_int(capabilities, 0, 65535, "HelloAck.capabilities"),
        )


class WheelCommand(NamedTuple):
    """Wheel angular velocity setpoints; positive drives forward."""

    left_mrad_s: int
    right_mrad_s: int

    @property
    def left_rad_s(self) -> float:
        return self.left_mrad_s * 0.001

    @property
    def right_rad_s(self) -> float:
        return self.right_mrad_s * 0.001

    @classmethod
    def from_si(
        cls,
        *,
        left_rad_s: float,
        right_rad_s: float,
    ) -> WheelCommand:
        return cls(
            _si_to_wire(left_rad_s, 1000.0, -32768, 32767, "WheelCommand.left_rad_s"),
            _si_to_wire(right_rad_s, 1000.0, -32768, 32767, "WheelCommand.right_rad_s"),
        )


class VelocityCommand(NamedTuple):
    """Body twist; the firmware converts it to wheel speeds with its geometry."""

    v_mm_s: int
    omega_mrad_s: int

    @property
    def v_m_s(self) -> float:
        return self.v_mm_s * 0.001

    @property
    def omega_rad_s(self) -> float:
        return self.omega_mrad_s * 0.001

    @classmethod
    def from_si(
        cls,
        *,
        v_m_s: float,
        omega_rad_s: float,
    ) -> VelocityCommand:
        return cls(
            _si_to_wire(v_m_s, 1000.0, -32768, 32767, "VelocityCommand.v_m_s"),
            _si_to_wire(omega_rad_s, 1000.0, -32768, 32767, "VelocityCommand.omega_rad_s"),
        )


class Telemetry(NamedTuple):
    """Sent every telemetry period and right after each accepted motion command."""

    time_ms: int
    enc_left_mrad: int
    enc_right_mrad: int
    wheel_left_mrad_s: int
    wheel_right_mrad_s: int
    cmd_left_mrad_s: int
    cmd_right_mrad_s: int
    yaw_rate_mrad_s: int
    accel_x_mm_s2: int
    accel_y_mm_s2: int
    battery_mv: int
    fault_flags: int
    last_cmd_seq: int

    @property
    def enc_left_rad(self) -> float:
        return self.enc_left_mrad * 0.001

    @property
    def enc_right_rad(self) -> float:
        return self.enc_right_mrad * 0.001

    @property
    def wheel_left_rad_s(self) -> float:
        return self.wheel_left_mrad_s * 0.001

    @property
    def wheel_right_rad_s(self) -> float:
        return self.wheel_right_mrad_s * 0.001

    @property
    def cmd_left_rad_s(self) -> float:
        return self.cmd_left_mrad_s * 0.001

    @property
    def cmd_right_rad_s(self) -> float:
        return self.cmd_right_mrad_s * 0.001

    @property
    def yaw_rate_rad_s(self) -> float:
        return self.yaw_rate_mrad_s * 0.001

    @property
    def accel_x_m_s2(self) -> float:
        return self.accel_x_mm_s2 * 0.001

    @property
    def accel_y_m_s2(self) -> float:
        return self.accel_y_mm_s2 * 0.001

    @classmethod
    def from_si(
        cls,
        *,
        time_ms: int,
        enc_left_rad: float,
        enc_right_rad: float,
        wheel_left_rad_s: float,
        wheel_right_rad_s: float,
        cmd_left_rad_s: float,
        cmd_right_rad_s: float,
        yaw_rate_rad_s: float,
        accel_x_m_s2: float,
        accel_y_m_s2: float,
        battery_mv: int,
        fault_flags: int,
        last_cmd_seq: int,
    ) -> Telemetry:
        return cls(
            _checked_int(time_ms, 0, 4294967295, "Telemetry.time_ms"),
            _si_to_wire(enc_left_rad, 1000.0, -2147483648, 2147483647, "Telemetry.enc_left_rad"),
            _si_to_wire(enc_right_rad, 1000.0, -2147483648, 2147483647, "Telemetry.enc_right_rad"),
            _si_to_wire(wheel_left_rad_s, 1000.0, -32768, 32767, "Telemetry.wheel_left_rad_s"),
            _si_to_wire(wheel_right_rad_s, 1000.0, -32768, 32767, "Telemetry.wheel_right_rad_s"),
            _si_to_wire(cmd_left_rad_s, 1000.0, -32768, 32767, "Telemetry.cmd_left_rad_s"),
            _si_to_wire(cmd_right_rad_s, 1000.0, -32768, 32767, "Telemetry.cmd_right_rad_s"),
            _si_to_wire(yaw_rate_rad_s, 1000.0, -32768, 32767, "Telemetry.yaw_rate_rad_s"),
            _si_to_wire(accel_x_m_s2, 1000.0, -32768, 32767, "Telemetry.accel_x_m_s2"),
            _si_to_wire(accel_y_m_s2, 1000.0, -32768, 32767, "Telemetry.accel_y_m_s2"),
            _checked_int(battery_mv, 0, 65535, "Telemetry.battery_mv"),
            _checked_int(fault_flags, 0, 65535, "Telemetry.fault_flags"),
            _checked_int(last_cmd_seq, 0, 65535, "Telemetry.last_cmd_seq"),
        )


class Heartbeat(NamedTuple):
    """Host -> firmware keeps the watchdog fed; firmware answers at once (echo_seq = host seq) and also sends one every second."""

    time_ms: int
    fault_flags: int
    echo_seq: int

    @classmethod
    def from_si(
        cls,
        *,
        time_ms: int,
        fault_flags: int,
        echo_seq: int,
    ) -> Heartbeat:
        return cls(
            _checked_int(time_ms, 0, 4294967295, "Heartbeat.time_ms"),
            _checked_int(fault_flags, 0, 65535, "Heartbeat.fault_flags"),
            _checked_int(echo_seq, 0, 65535, "Heartbeat.echo_seq"),
        )


class EStop(NamedTuple):
    """Latch the emergency stop: motors to zero, motion commands refused."""

    @classmethod
    def from_si(cls) -> EStop:
        return cls()


class ClearEStop(NamedTuple):
    """Release the e-stop latch; motors stay at zero until the next motion command."""

    @classmethod
    def from_si(cls) -> ClearEStop:
        return cls()


class SetLimits(NamedTuple):
    """Replace all three limits at once, or none (Nack OUT_OF_RANGE)."""

    max_wheel_mrad_s: int
    max_accel_mrad_s2: int
    watchdog_ms: int

    @property
    def max_wheel_speed_rad_s(self) -> float:
        return self.max_wheel_mrad_s * 0.001

    @property
    def max_wheel_accel_rad_s2(self) -> float:
        return self.max_accel_mrad_s2 * 0.001

    @classmethod
    def from_si(
        cls,
        *,
        max_wheel_speed_rad_s: float,
        max_wheel_accel_rad_s2: float,
        watchdog_ms: int,
    ) -> SetLimits:
        return cls(
            _si_to_wire(max_wheel_speed_rad_s, 1000.0, 0, 65535, "SetLimits.max_wheel_speed_rad_s"),
            _si_to_wire(max_wheel_accel_rad_s2, 1000.0, 0, 4294967295, "SetLimits.max_wheel_accel_rad_s2"),
            _checked_int(watchdog_ms, 0, 65535, "SetLimits.watchdog_ms"),
        )


class Ack(NamedTuple):
    """The frame (type, seq) was applied."""

    acked_type: int
    acked_seq: int

    @classmethod
    def from_si(
        cls,
        *,
        acked_type: int,
        acked_seq: int,
    ) -> Ack:
        return cls(
            _checked_int(acked_type, 0, 255, "Ack.acked_type"),
            _checked_int(acked_seq, 0, 65535, "Ack.acked_seq"),
        )


class Nack(NamedTuple):
    """The frame (type, seq) was refused; code is a NackCode, detail depends on the code."""

    acked_type: int
    acked_seq: int
    code: int
    detail: int

    @classmethod
    def from_si(
        cls,
        *,
        acked_type: int,
        acked_seq: int,
        code: int,
        detail: int,
    ) -> Nack:
        return cls(
            _checked_int(acked_type, 0, 255, "Nack.acked_type"),
            _checked_int(acked_seq, 0, 65535, "Nack.acked_seq"),
            _checked_int(code, 0, 255, "Nack.code"),
            _checked_int(detail, 0, 65535, "Nack.detail"),
        )


class MessageSpec(NamedTuple):
    """Wire layout of one message: payload struct format and per-field scale and range."""

    msg_id: int
    name: str
    cls: type
    payload_format: str
    payload_bytes: int
    fields: tuple[str, ...]  # wire (C) names: the NamedTuple fields
    si_fields: tuple[str, ...]  # SI names: properties, and from_si() arguments
    scales: tuple[float | None, ...]  # SI value = wire value * scale
    wire_min: tuple[int, ...]
    wire_max: tuple[int, ...]


MESSAGE_SPECS: tuple[MessageSpec, ...] = (
    MessageSpec(
        msg_id=1,
        name="Hello",
        cls=Hello,
        payload_format="<BHH",
        payload_bytes=5,
        fields=(
            "protocol_version",
            "host_version",
            "capabilities",
        ),
        si_fields=(
            "protocol_version",
            "host_version",
            "capabilities",
        ),
        scales=(
            None,
            None,
            None,
        ),
        wire_min=(
            0,
            0,
            0,
        ),
        wire_max=(
            255,
            65535,
            65535,
        ),
    ),
    MessageSpec(
        msg_id=2,
        name="HelloAck",
        cls=HelloAck,
        payload_format="<BHBH",
        payload_bytes=6,
        fields=(
            "protocol_version",
            "firmware_version",
            "robot_id",
            "capabilities",
        ),
        si_fields=(
            "protocol_version",
            "firmware_version",
            "robot_id",
            "capabilities",
        ),
        scales=(
            None,
            None,
            None,
            None,
        ),
        wire_min=(
            0,
            0,
            0,
            0,
        ),
        wire_max=(
            255,
            65535,
            255,
            65535,
        ),
    ),
    MessageSpec(
        msg_id=3,
        name="WheelCommand",
        cls=WheelCommand,
        payload_format="<hh",
        payload_bytes=4,
        fields=(
            "left_mrad_s",
            "right_mrad_s",
        ),
        si_fields=(
            "left_rad_s",
            "right_rad_s",
        ),
        scales=(
            0.001,
            0.001,
        ),
        wire_min=(
            -32768,
            -32768,
        ),
        wire_max=(
            32767,
            32767,
        ),
    ),
    MessageSpec(
        msg_id=4,
        name="VelocityCommand",
        cls=VelocityCommand,
        payload_format="<hh",
        payload_bytes=4,
        fields=(
            "v_mm_s",
            "omega_mrad_s",
        ),
        si_fields=(
            "v_m_s",
            "omega_rad_s",
        ),
        scales=(
            0.001,
            0.001,
        ),
        wire_min=(
            -32768,
            -32768,
        ),
        wire_max=(
            32767,
            32767,
        ),
    ),
    MessageSpec(
        msg_id=5,
        name="Telemetry",
        cls=Telemetry,
        payload_format="<IiihhhhhhhHHH",
        payload_bytes=32,
        fields=(
            "time_ms",
            "enc_left_mrad",
            "enc_right_mrad",
            "wheel_left_mrad_s",
            "wheel_right_mrad_s",
            "cmd_left_mrad_s",
            "cmd_right_mrad_s",
            "yaw_rate_mrad_s",
            "accel_x_mm_s2",
            "accel_y_mm_s2",
            "battery_mv",
            "fault_flags",
            "last_cmd_seq",
        ),
        si_fields=(
            "time_ms",
            "enc_left_rad",
            "enc_right_rad",
            "wheel_left_rad_s",
            "wheel_right_rad_s",
            "cmd_left_rad_s",
            "cmd_right_rad_s",
            "yaw_rate_rad_s",
            "accel_x_m_s2",
            "accel_y_m_s2",
            "battery_mv",
            "fault_flags",
            "last_cmd_seq",
        ),
        scales=(
            None,
            0.001,
            0.001,
            0.001,
            0.001,
            0.001,
            0.001,
            0.001,
            0.001,
            0.001,
            None,
            None,
            None,
        ),
        wire_min=(
            0,
            -2147483648,
            -2147483648,
            -32768,
            -32768,
            -32768,
            -32768,
            -32768,
            -32768,
            -32768,
            0,
            0,
            0,
        ),
        wire_max=(
            4294967295,
            2147483647,
            2147483647,
            32767,
            32767,
            32767,
            32767,
            32767,
            32767,
            32767,
            65535,
            65535,
            65535,
        ),
    ),
    MessageSpec(
        msg_id=6,
        name="Heartbeat",
        cls=Heartbeat,
        payload_format="<IHH",
        payload_bytes=8,
        fields=(
            "time_ms",
            "fault_flags",
            "echo_seq",
        ),
        si_fields=(
            "time_ms",
            "fault_flags",
            "echo_seq",
        ),
        scales=(
            None,
            None,
            None,
        ),
        wire_min=(
            0,
            0,
            0,
        ),
        wire_max=(
            4294967295,
            65535,
            65535,
        ),
    ),
    MessageSpec(
        msg_id=7,
        name="EStop",
        cls=EStop,
        payload_format="<",
        payload_bytes=0,
        fields=(),
        si_fields=(),
        scales=(),
        wire_min=(),
        wire_max=(),
    ),
    MessageSpec(
        msg_id=8,
        name="ClearEStop",
        cls=ClearEStop,
        payload_format="<",
        payload_bytes=0,
        fields=(),
        si_fields=(),
        scales=(),
        wire_min=(),
        wire_max=(),
    ),
    MessageSpec(
        msg_id=9,
        name="SetLimits",
        cls=SetLimits,
        payload_format="<HIH",
        payload_bytes=8,
        fields=(
            "max_wheel_mrad_s",
            "max_accel_mrad_s2",
            "watchdog_ms",
        ),
        si_fields=(
            "max_wheel_speed_rad_s",
            "max_wheel_accel_rad_s2",
            "watchdog_ms",
        ),
        scales=(
            0.001,
            0.001,
            None,
        ),
        wire_min=(
            0,
            0,
            0,
        ),
        wire_max=(
            65535,
            4294967295,
            65535,
        ),
    ),
    MessageSpec(
        msg_id=10,
        name="Ack",
        cls=Ack,
        payload_format="<BH",
        payload_bytes=3,
        fields=(
            "acked_type",
            "acked_seq",
        ),
        si_fields=(
            "acked_type",
            "acked_seq",
        ),
        scales=(
            None,
            None,
        ),
        wire_min=(
            0,
            0,
        ),
        wire_max=(
            255,
            65535,
        ),
    ),
    MessageSpec(
        msg_id=11,
        name="Nack",
        cls=Nack,
        payload_format="<BHBH",
        payload_bytes=6,
        fields=(
            "acked_type",
            "acked_seq",
            "code",
            "detail",
        ),
        si_fields=(
            "acked_type",
            "acked_seq",
            "code",
            "detail",
        ),
        scales=(
            None,
            None,
            None,
            None,
        ),
        wire_min=(
            0,
            0,
            0,
            0,
        ),
        wire_max=(
            255,
            65535,
            255,
            65535,
        ),
    ),
)

Message = (
    Hello
    | HelloAck
    | WheelCommand
    | VelocityCommand
    | Telemetry
    | Heartbeat
    | EStop
    | ClearEStop
    | SetLimits
    | Ack
    | Nack
)
