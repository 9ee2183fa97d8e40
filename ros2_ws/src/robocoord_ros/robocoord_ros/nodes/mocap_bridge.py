"""mocap_bridge: a motion-capture pose stream (UDP, :mod:`robocoord.firmware_bridge.mocap`) -> ROS poses.

Publishes ``/robot_<id>/pose`` (geometry_msgs/PoseStamped, frame ``world``, stamped when the frame
arrived; best effort, depth 1, with the telemetry deadline) for every robot of ``robot_ids`` found in a
frame, ``/objects/<name>/pose`` (the same) for every named object body of ``objects`` (``name:body_id,…``;
team_push's box), and ``/diagnostics`` with the frame rate, bad and lost frames, and the robots and objects
not seen lately (WARN). In hil the virtual MCU streams the plant's ground truth; on real robots the mocap vendor's
SDK (or any localiser) feeds the same datagrams, or publishes the pose topics itself.

A reader thread blocks on the socket, so a pose goes out as soon as its frame arrives rather than
on the next executor turn; the node's timers only publish diagnostics.
"""

from __future__ import annotations

import math
import socket
import threading

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped
from rclpy.node import Node

from robocoord.firmware_bridge.mocap import MocapError, decode_frame
from robocoord_ros.rosutil import (
    ParameterError,
    declare,
    diagnostics_qos,
    publish_status,
    spin_node,
    telemetry_qos,
)
from robocoord_ros.timing import RateMeter


def parse_objects(text: str) -> dict[int, str]:
    """``"box:200,crate:201"`` -> {200: "box", 201: "crate"}; ValueError naming the bad entry."""
    out: dict[int, str] = {}
    for entry in filter(None, (e.strip() for e in text.split(","))):
        name, sep, body = entry.partition(":")
        if not sep or not name.isidentifier() or not body.isdigit() or int(body) > 0xFFFF:
            raise ValueError(f"objects: entry {entry!r}: expected name:body_id with a body id in 0..65535")
        if int(body) in out or name in out.values():
            raise ValueError(f"objects: entry {entry!r}: name or body id given twice")
        out[int(body)] = name
    return out


class MocapBridgeNode(Node):
    def __init__(self, node_name: str = "mocap_bridge", **kwargs):
        super().__init__(node_name, **kwargs)
        address = declare(self, "listen_address", "127.0.0.1", "address the UDP socket binds")
        port = declare(self, "listen_port", None, "UDP port of the mocap stream", kind=int, low=1, high=65535)
        self.robot_ids: list[int] = declare(
            self, "robot_ids", [0], "robots whose poses are published", kind=list
        )
        self.frame_id = declare(self, "frame_id", "world", "frame of the published poses")
        self.nominal_rate_hz = declare(
            self, "rate_hz", 100.0, "nominal mocap frame rate [Hz]", low=0.1, high=1000.0
        )
        deadline_ms = declare(self, "telemetry_deadline_ms", 50.0, "pose QoS deadline [ms]", low=1.0)
        self.stale_after_s = declare(
            self, "stale_after_s", 0.2, "a robot unseen for this long is reported [s]", low=0.001
        )
        diag_hz = declare(self, "diagnostics_rate_hz", 2.0, "diagnostics rate [Hz]", low=0.1, high=50.0)
        objects = declare(
            self, "objects", "", "named object bodies -> /objects/<name>/pose: 'name:body_id,...' ('' none)"
        )
        try:
            self.objects = parse_objects(objects)
        except ValueError as err:
            raise ParameterError(f"{self.get_fully_qualified_name()}: parameter 'objects': {err}") from None
        clash = sorted(set(self.objects) & set(self.robot_ids))
        if clash:
            raise ParameterError(
                f"{self.get_fully_qualified_name()}: parameter 'objects': body ids {clash} are robot ids"
            )
        qos = telemetry_qos(deadline_ms)
        self._pubs = {
            rid: self.create_publisher(PoseStamped, f"/robot_{rid}/pose", qos) for rid in self.robot_ids
        }
        for body, name in self.objects.items():
            self._pubs[body] = self.create_publisher(PoseStamped, f"/objects/{name}/pose", qos)
        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", diagnostics_qos())
        self.frames = 0
        self.bad_frames = 0
        self.lost_frames = 0  # gaps in the sender's frame counter
        self.unknown_bodies = 0  # bodies in a frame that are not ours (another fleet on the same stream)
        self.last_error = ""
        self._last_frame: int | None = None
        self._seen_s: dict[int, float] = {}
        self._rate = RateMeter()
        self._rate_lock = threading.Lock()  # the reader adds, the diagnostics timer trims
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind((address, port))
        self._socket.settimeout(0.2)  # the reader checks for shutdown this often
        self._running = True
        self._reader = threading.Thread(target=self._read_loop, name="mocap-reader", daemon=True)
        self._reader.start()
        self.create_timer(1.0 / diag_hz, self._publish_diagnostics)
        self.get_logger().info(
            f"mocap stream on udp://{address}:{port} -> /robot_<id>/pose for {self.robot_ids}"
            + "".join(f", /objects/{n}/pose (body {b})" for b, n in self.objects.items())
        )

    def _now(self) -> float:
        return 1e-9 * self.get_clock().now().nanoseconds

    def _read_loop(self) -> None:
        msg = PoseStamped()
        msg.header.frame_id = self.frame_id
        while self._running:
            try:
                data = self._socket.recv(65_536)
            except TimeoutError:
                continue
            except OSError:  # socket closed by destroy_node
                return
            try:
                frame = decode_frame(data)
            except MocapError as err:
                self.bad_frames += 1
                self.last_error = str(err)
                continue
            if self._last_frame is not None and frame.frame > self._last_frame + 1:
                self.lost_frames += frame.frame - self._last_frame - 1
            self._last_frame = frame.frame
            self.frames += 1
            now_msg = self.get_clock().now()
            now_s = 1e-9 * now_msg.nanoseconds
            with self._rate_lock:
                self._rate.add(now_s)
            msg.header.stamp = now_msg.to_msg()
            for rid, (x, y, yaw) in frame.poses.items():
                pub = self._pubs.get(rid)
                if pub is None:
                    self.unknown_bodies += 1
                    continue
                msg.pose.position.x = x
                msg.pose.position.y = y
                msg.pose.orientation.z = math.sin(0.5 * yaw)
                msg.pose.orientation.w = math.cos(0.5 * yaw)
                pub.publish(msg)
                self._seen_s[rid] = now_s

    def _publish_diagnostics(self) -> None:
        now = self._now()
        unseen = [r for r in self.robot_ids if now - self._seen_s.get(r, -math.inf) > self.stale_after_s]
        unseen_objects = [
            n for b, n in self.objects.items() if now - self._seen_s.get(b, -math.inf) > self.stale_after_s
        ]
        level, message = "OK", "streaming"
        if unseen or unseen_objects:
            level = "WARN"
            message = "no pose lately for " + "; ".join(
                ([f"robots {unseen}"] if unseen else [])
                + ([f"objects {unseen_objects}"] if unseen_objects else [])
            )
        with self._rate_lock:
            rate_hz = self._rate.rate_hz(now)
        values = {
            "frame_rate_hz": rate_hz,
            "frame_rate_nominal_hz": self.nominal_rate_hz,
            "frames": self.frames,
            "bad_frames": self.bad_frames,
            "lost_frames": self.lost_frames,
            "unknown_bodies": self.unknown_bodies,
            "last_error": self.last_error,
        }
        publish_status(self, self._diag_pub, "mocap_bridge", "mocap", level, message, values)

    def destroy_node(self) -> None:
        self._running = False
        self._socket.close()
        self._reader.join(timeout=1.0)
        super().destroy_node()


def main(args: list[str] | None = None) -> None:
    spin_node(MocapBridgeNode, args)
