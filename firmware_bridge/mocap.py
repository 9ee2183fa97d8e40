"""Motion-capture pose stream: planar rigid-body poses of a fleet in one UDP datagram per frame.

Real fleets localise with a motion-capture system (Vicon, OptiTrack) or an on-board localiser, not
with wheel odometry alone: odometry drifts as soon as robots push each other sideways, which the
encoders never see. Mocap systems stream frames of rigid-body poses over UDP; this module is the
small, documented wire format robocoord uses for such a stream, so that

* the virtual MCU (hil) streams the plant's ground-truth poses exactly as a mocap system would, and
* on real robots a few lines of adapter code turn the vendor SDK's frames into the same datagrams
  (or a localisation node publishes ``/robot_<id>/pose`` itself and no stream is needed).

Datagram, little-endian::

    header   magic "RCMC" (4 s) | version u8 | reserved u8 (0) | bodies u16 | frame u32 | time_ms u32
    body     robot_id u16 | x_m f32 | y_m f32 | yaw_rad f32          (repeated ``bodies`` times)

Poses are in the world frame (x, y [m], yaw about +z [rad]); ``time_ms`` is the sender's clock
(plant time in hil), ``frame`` counts frames so a receiver can see losses and reordering.
"""

from __future__ import annotations

import math
import socket
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MAGIC = b"RCMC"
VERSION = 1
_HEADER = struct.Struct("<4sBBHII")
_BODY = struct.Struct("<Hfff")
HEADER_BYTES = _HEADER.size
BODY_BYTES = _BODY.size
# one datagram stays below the 65,507-byte UDP payload limit
MAX_BODIES = (65_507 - HEADER_BYTES) // BODY_BYTES


class MocapError(ValueError):
    """A datagram that is not a valid pose frame; the message says why."""


@dataclass(frozen=True)
class MocapFrame:
    frame: int
    time_ms: int
    poses: dict[int, tuple[float, float, float]]  # robot id -> (x [m], y [m], yaw [rad]), world frame


def encode_frame(frame: int, time_ms: int, poses: Mapping[int, Iterable[float]]) -> bytes:
    """One datagram of ``poses`` (robot id -> (x, y, yaw)). Ids must fit u16, values must be finite."""
    if len(poses) > MAX_BODIES:
        raise ValueError(f"poses: {len(poses)} bodies exceed the {MAX_BODIES} of one datagram")
    parts = [_HEADER.pack(MAGIC, VERSION, 0, len(poses), frame & 0xFFFFFFFF, time_ms & 0xFFFFFFFF)]
    for robot_id, pose in poses.items():
        x, y, yaw = (float(v) for v in pose)
        if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(yaw)):
            raise ValueError(f"robot {robot_id}: pose {(x, y, yaw)} is not finite")
        if not 0 <= robot_id <= 0xFFFF:
            raise ValueError(f"robot_id {robot_id} is outside 0..65535")
        parts.append(_BODY.pack(robot_id, x, y, yaw))
    return b"".join(parts)


def decode_frame(data: bytes) -> MocapFrame:
    """Parse one datagram; raises :class:`MocapError` naming what is wrong (never returns a partial frame)."""
    if len(data) < HEADER_BYTES:
        raise MocapError(f"{len(data)} bytes is shorter than the {HEADER_BYTES}-byte header")
    magic, version, _, bodies, frame, time_ms = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise MocapError(f"magic {magic!r}, expected {MAGIC!r}")
    if version != VERSION:
        raise MocapError(f"version {version}, this receiver speaks {VERSION}")
    expected = HEADER_BYTES + bodies * BODY_BYTES
    if len(data) != expected:
        raise MocapError(f"{len(data)} bytes for {bodies} bodies, expected {expected}")
    poses: dict[int, tuple[float, float, float]] = {}
    for robot_id, x, y, yaw in _BODY.iter_unpack(data[HEADER_BYTES:]):
        if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(yaw)):
            raise MocapError(f"robot {robot_id}: non-finite pose")
        poses[robot_id] = (x, y, yaw)
    return MocapFrame(frame, time_ms, poses)


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` -> (host, port); a clear error otherwise."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"mocap address {text!r}: expected HOST:PORT with a port in 1..65535")
    return host, int(port)


def streamer_for(address: str | None, rate_hz: float) -> MocapStreamer | None:
    """The streamer of a ``--mocap-udp HOST:PORT`` / ``--mocap-hz`` pair (None without an address)."""
    if address is None:
        return None
    if not 0.1 <= rate_hz <= 1000.0:
        raise ValueError(f"mocap rate must be 0.1..1000 Hz, got {rate_hz}")
    return MocapStreamer(parse_address(address), max(1, round(1000.0 / rate_hz)))


class MocapStreamer:
    """Sends one frame every ``period_ms`` of the caller's clock (time is passed in, never read here).

    Sends are fire-and-forget, as a mocap system's are: nobody listening is not an error.
    """

    def __init__(self, address: tuple[str, int], period_ms: int):
        if period_ms < 1:
            raise ValueError(f"period_ms must be >= 1, got {period_ms}")
        self.address = address
        self.period_ms = period_ms
        self.frame = 0
        self.frames_sent = 0
        self.send_errors = 0
        self._next_ms: int | None = None
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setblocking(False)

    def due(self, time_ms: int) -> bool:
        return self._next_ms is None or time_ms >= self._next_ms

    def send(self, time_ms: int, poses: Mapping[int, Iterable[float]]) -> None:
        datagram = encode_frame(self.frame, time_ms, poses)
        self.frame += 1
        self._next_ms = time_ms + self.period_ms
        try:
            self._socket.sendto(datagram, self.address)
            self.frames_sent += 1
        except OSError:  # no receiver yet (ECONNREFUSED after an ICMP reply) or a full buffer
            self.send_errors += 1

    def close(self) -> None:
        self._socket.close()
