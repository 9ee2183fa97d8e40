"""MCAP recording in rosbag2's layout (profile ``ros2``, schema encoding ``ros2msg``, CDR messages)
and the summary/plots of ``robocoord replay``.

Messages are serialised with rclpy's own CDR serializer, and each schema is the message
definition text with its dependencies appended the way rosbag2 writes it, so ``ros2 bag info``,
Foxglove and ``mcap-ros2-support`` all read the files. :func:`summarize` and :func:`plot_trajectories`
need no rclpy (they decode with ``mcap-ros2-support``).
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_BUILTINS = {
    "bool",
    "byte",
    "char",
    "float32",
    "float64",
    "int8",
    "uint8",
    "int16",
    "uint16",
    "int32",
    "uint32",
    "int64",
    "uint64",
    "string",
    "wstring",
}
_SEPARATOR = "=" * 80


def _share_dirs() -> list[Path]:
    dirs = [Path(p) / "share" for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    dirs.append(Path(sys.prefix) / "share")
    return dirs


def _msg_file(package: str, name: str) -> Path:
    for share in _share_dirs():
        candidate = share / package / "msg" / f"{name}.msg"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"message definition {package}/msg/{name}.msg not found under {_share_dirs()}")


def _dependencies(package: str, text: str) -> list[tuple[str, str]]:
    deps: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        type_token, _, rest = line.partition(" ")
        if "=" in rest:
            continue  # a constant (only builtin types can be constants)
        base = re.sub(r"\[.*\]$", "", type_token)
        base = re.sub(r"<=\d+$", "", base)
        if base in _BUILTINS or base.startswith("string<=") or base.startswith("wstring<="):
            continue
        if "/" in base:
            pkg, _, name = base.partition("/")
            deps.append((pkg, name.split("/")[-1]))
        elif base == "Header":
            deps.append(("std_msgs", "Header"))
        else:
            deps.append((package, base))
    return deps


def message_definition(datatype: str) -> str:
    """rosbag2-style concatenated definition of ``pkg/msg/Type`` (or ``pkg/Type``)."""
    package, *_, name = datatype.split("/")
    main = _msg_file(package, name).read_text()
    parts = [main.rstrip("\n")]
    seen = {(package, name)}
    queue = _dependencies(package, main)
    while queue:
        dep = queue.pop(0)
        if dep in seen:
            continue
        seen.add(dep)
        text = _msg_file(*dep).read_text()
        parts.append(f"{_SEPARATOR}\nMSG: {dep[0]}/{dep[1]}\n{text.rstrip()}")
        queue += _dependencies(dep[0], text)
    return "\n".join(parts) + "\n"


def ros_type_name(msg_or_cls: Any) -> str:
    """``nav_msgs/msg/Odometry`` for an rclpy message class or instance."""
    cls = msg_or_cls if isinstance(msg_or_cls, type) else type(msg_or_cls)
    package = cls.__module__.split(".")[0]
    return f"{package}/msg/{cls.__name__}"


class McapRecorder:
    """Thread-safe MCAP writer of rclpy messages (CDR bytes from ``rclpy.serialization``)."""

    def __init__(self, path: Path | str):
        from mcap.writer import CompressionType, Writer

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self._writer = Writer(self._file, compression=CompressionType.ZSTD)
        self._writer.start(profile="ros2", library="robocoord")
        self._schemas: dict[str, int] = {}
        self._channels: dict[str, int] = {}
        self._lock = threading.Lock()
        self.messages = 0
        self._closed = False

    def _channel(self, topic: str, datatype: str) -> int:
        if topic not in self._channels:
            if datatype not in self._schemas:
                self._schemas[datatype] = self._writer.register_schema(
                    name=datatype, encoding="ros2msg", data=message_definition(datatype).encode()
                )
            self._channels[topic] = self._writer.register_channel(
                topic=topic, message_encoding="cdr", schema_id=self._schemas[datatype]
            )
        return self._channels[topic]

    def write(self, topic: str, msg: Any, log_time_ns: int) -> None:
        from rclpy.serialization import serialize_message

        data = serialize_message(msg)
        with self._lock:
            if self._closed:
                return
            channel = self._channel(topic, ros_type_name(msg))
            self._writer.add_message(
                channel_id=channel,
                log_time=log_time_ns,
                data=data,
                publish_time=log_time_ns,
                sequence=self.messages,
            )
            self.messages += 1

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._writer.finish()
            self._file.close()


# ------------------------------------------------------------------ replay (no rclpy)


@dataclass
class TopicSummary:
    datatype: str
    count: int = 0
    first_ns: int | None = None
    last_ns: int | None = None

    @property
    def rate_hz(self) -> float:
        if self.count < 2 or self.first_ns is None or self.last_ns is None or self.last_ns == self.first_ns:
            return 0.0
        return (self.count - 1) / ((self.last_ns - self.first_ns) * 1e-9)


@dataclass
class RecordingSummary:
    path: Path
    duration_s: float
    topics: dict[str, TopicSummary]
    trajectories: dict[str, list[tuple[float, float, float]]] = field(default_factory=dict)  # (t [s], x, y)
    # the same from ``pose`` (mocap or a localiser, world frame): where the robots really were
    pose_trajectories: dict[str, list[tuple[float, float, float]]] = field(default_factory=dict)
    estop_events: list[tuple[float, bool]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "duration_s": self.duration_s,
            "topics": {
                name: {"type": t.datatype, "count": t.count, "rate_hz": round(t.rate_hz, 3)}
                for name, t in sorted(self.topics.items())
            },
            "robots_with_odometry": sorted(self.trajectories),
            "robots_with_pose": sorted(self.pose_trajectories),
            "estop_events": [{"t_s": t, "active": a} for t, a in self.estop_events],
        }


def summarize(path: Path | str) -> RecordingSummary:
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory

    path = Path(path)
    topics: dict[str, TopicSummary] = {}
    trajectories: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    poses: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    estop: list[tuple[float, bool]] = []
    t0: int | None = None
    with open(path, "rb") as handle:
        reader = make_reader(handle, decoder_factories=[DecoderFactory()])
        for schema, channel, message, decoded in reader.iter_decoded_messages():
            t0 = message.log_time if t0 is None else t0
            summary = topics.setdefault(channel.topic, TopicSummary(schema.name if schema else "?"))
            summary.count += 1
            summary.first_ns = message.log_time if summary.first_ns is None else summary.first_ns
            summary.last_ns = message.log_time
            t_s = (message.log_time - t0) * 1e-9
            if schema is not None and schema.name == "nav_msgs/msg/Odometry":
                robot = channel.topic.strip("/").split("/")[0]
                trajectories[robot].append((t_s, decoded.pose.pose.position.x, decoded.pose.pose.position.y))
            elif schema is not None and schema.name == "geometry_msgs/msg/PoseStamped":
                robot = channel.topic.strip("/").split("/")[0]
                poses[robot].append((t_s, decoded.pose.position.x, decoded.pose.position.y))
            elif channel.topic == "/fleet/estop_active":
                estop.append((t_s, bool(decoded.data)))
    firsts = [t.first_ns for t in topics.values() if t.first_ns is not None]
    lasts = [t.last_ns for t in topics.values() if t.last_ns is not None]
    duration = (max(lasts) - min(firsts)) * 1e-9 if firsts else 0.0
    return RecordingSummary(path, duration, topics, dict(trajectories), dict(poses), estop)


def plot_trajectories(summary: RecordingSummary, out_png: Path | str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 5))
    # with a pose stream, it is the truth (solid) and odometry is drawn dashed beside it: the drift shows
    truth = summary.pose_trajectories
    for robot in sorted(set(summary.trajectories) | set(truth)):
        colour = None
        for points, style, label in (
            (truth.get(robot, []), "-", f"{robot} pose"),
            (summary.trajectories.get(robot, []), "--" if robot in truth else "-", f"{robot} odom"),
        ):
            if not points:
                continue
            xs, ys = [p[1] for p in points], [p[2] for p in points]
            (line,) = ax.plot(xs, ys, style, color=colour, label=label, linewidth=1)
            colour = line.get_color()
            ax.plot(xs[0], ys[0], "o", color=colour, markersize=4)
    frame = "world frame; dashed: odometry" if truth else "odom frame"
    ax.set_xlabel(f"x [m] ({frame})")
    ax.set_ylabel("y [m]")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(f"trajectories, {summary.path.name} ({summary.duration_s:.1f} s)")
    if summary.trajectories or truth:
        ax.legend(fontsize=6, loc="best", ncol=2)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png
