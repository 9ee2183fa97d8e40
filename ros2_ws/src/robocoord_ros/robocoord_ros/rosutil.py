"""rclpy helpers every node shares: typed, validated parameters; QoS profiles; diagnostics."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, ParameterType
from rclpy.duration import Duration
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.publisher import Publisher
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

LEVELS = {
    "OK": DiagnosticStatus.OK,
    "WARN": DiagnosticStatus.WARN,
    "ERROR": DiagnosticStatus.ERROR,
    "STALE": DiagnosticStatus.STALE,
}
LEVEL_NAMES = {int.from_bytes(v, "little") if isinstance(v, bytes) else int(v): k for k, v in LEVELS.items()}


class ParameterError(ValueError):
    """A node parameter is missing or out of range; the message names it."""


_UNSET = {
    bool: Parameter.Type.BOOL,
    int: Parameter.Type.INTEGER,
    float: Parameter.Type.DOUBLE,
    str: Parameter.Type.STRING,
}
_TYPES = {
    bool: ParameterType.PARAMETER_BOOL,
    int: ParameterType.PARAMETER_INTEGER,
    float: ParameterType.PARAMETER_DOUBLE,
    str: ParameterType.PARAMETER_STRING,
}


def declare(
    node: Node,
    name: str,
    default: Any,
    description: str,
    *,
    kind: type | None = None,
    low: float | None = None,
    high: float | None = None,
    choices: Sequence[str] | None = None,
) -> Any:
    """Declare one statically typed, read-only parameter, check its range/choices, return its value.

    ``default`` None means required (then give ``kind``): the value must come from a parameter
    file or an override. Ranges go into the descriptor, so ``ros2 param describe`` shows them
    and rclpy refuses an out-of-range value at declaration, naming the parameter.
    """
    kind = kind or type(default)
    descriptor = ParameterDescriptor(description=description, read_only=True)
    if kind in _TYPES:
        descriptor.type = _TYPES[kind]
    elif kind is list:
        descriptor.type = _list_type(default)
    else:
        raise TypeError(f"parameter {name}: unsupported kind {kind}")
    if kind is float and (low is not None or high is not None):
        descriptor.floating_point_range = [
            FloatingPointRange(
                from_value=float(low if low is not None else -1e300),
                to_value=float(high if high is not None else 1e300),
            )
        ]
    elif kind is int and (low is not None or high is not None):
        descriptor.integer_range = [
            IntegerRange(
                from_value=int(low if low is not None else -(2**62)),
                to_value=int(high if high is not None else 2**62),
                step=1,
            )
        ]
    if choices:
        descriptor.additional_constraints = f"one of {list(choices)}"
    initial = default if default is not None else _UNSET[kind]
    try:
        value = node.declare_parameter(name, initial, descriptor).value
    except (InvalidParameterValueException, InvalidParameterTypeException) as err:
        raise ParameterError(f"{node.get_fully_qualified_name()}: parameter {name!r}: {err}") from None
    if value is None:
        raise ParameterError(
            f"{node.get_fully_qualified_name()}: parameter {name!r} is required ({description})"
        )
    if choices and value not in choices:
        raise ParameterError(
            f"{node.get_fully_qualified_name()}: parameter {name!r}={value!r} is not one of {list(choices)}"
        )
    return value


def _list_type(default: Any) -> int:
    if not isinstance(default, list) or not default:
        raise TypeError("list parameters need a non-empty typed default")
    first = default[0]
    if isinstance(first, bool):
        return ParameterType.PARAMETER_BOOL_ARRAY
    if isinstance(first, int):
        return ParameterType.PARAMETER_INTEGER_ARRAY
    if isinstance(first, float):
        return ParameterType.PARAMETER_DOUBLE_ARRAY
    return ParameterType.PARAMETER_STRING_ARRAY


def telemetry_qos(deadline_ms: float) -> QoSProfile:
    """Sensor streams: newest sample only, best effort, with a deadline the subscriber can watch."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=1,
        reliability=ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.VOLATILE,
        deadline=Duration(nanoseconds=int(deadline_ms * 1e6)),
    )


def command_qos() -> QoSProfile:
    """Motion commands: reliable, depth 1 — a late subscriber gets the newest command, never a backlog
    of old ones (a queue of 10 at 100 Hz would add up to 100 ms of latency)."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.VOLATILE,
    )


def event_qos() -> QoSProfile:
    """Discrete events that must all arrive (task states, policy decisions): reliable, a deep queue."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=100,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.VOLATILE,
    )


def latched_qos() -> QoSProfile:
    """Fleet-wide state (e-stop): reliable and transient-local, so a late joiner sees the last value."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    )


def diagnostics_qos() -> QoSProfile:
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=50, reliability=ReliabilityPolicy.RELIABLE)


def status(
    name: str, hardware_id: str, level: str, message: str, values: Mapping[str, Any]
) -> DiagnosticStatus:
    msg = DiagnosticStatus()
    msg.level = LEVELS[level]
    msg.name = name
    msg.hardware_id = hardware_id
    msg.message = message
    msg.values = [KeyValue(key=k, value=_fmt(v)) for k, v in values.items()]
    return msg


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def level_name(status_msg: DiagnosticStatus) -> str:
    raw = status_msg.level
    code = int.from_bytes(raw, "little") if isinstance(raw, bytes) else int(raw)
    return LEVEL_NAMES.get(code, "ERROR")


def values_of(status_msg: DiagnosticStatus) -> dict[str, str]:
    return {kv.key: kv.value for kv in status_msg.values}


def publish_status(
    node: Node, publisher: Publisher, name: str, hardware_id: str, level: str, message: str,
    values: Mapping[str, Any],
) -> None:  # fmt: skip
    """Publish one node's DiagnosticStatus, stamped now, on ``/diagnostics``."""
    msg = DiagnosticArray()
    msg.header.stamp = node.get_clock().now().to_msg()
    msg.status = [status(name, hardware_id, level, message, values)]
    publisher.publish(msg)


def spin_node(make_node: Callable[[], Node], args: list[str] | None = None) -> None:
    """Entry-point body shared by every node executable: init, spin, always clean up."""
    rclpy.init(args=args)
    node = make_node()
    try:
        rclpy.spin(node)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
