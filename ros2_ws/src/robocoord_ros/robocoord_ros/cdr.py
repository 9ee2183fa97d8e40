"""Read what a node needs out of serialised messages without building the Python message objects.

rclpy's full deserialisation of an Odometry (two 36-element covariances) costs ~250 µs in Python;
the policy controller needs only the stamp and the planar pose, which sit at fixed places in the
CDR stream after two strings. Layout (XCDR1, little or big endian, alignment relative to the byte
after the 4-byte encapsulation header): header.stamp.sec int32, header.stamp.nanosec uint32,
header.frame_id string (uint32 length incl. NUL, bytes), child_frame_id string, then
pose.pose.position (3 × float64, 8-aligned) and pose.pose.orientation (4 × float64), the pose
covariance (36 × float64), twist.twist.linear (3 × float64).
"""

from __future__ import annotations

import math
import struct


def _align(offset: int, size: int) -> int:
    return (offset + size - 1) // size * size


def odometry_state(raw: bytes) -> tuple[int, float, float, float, float]:
    """(stamp [ns], x [m], y [m], yaw [rad], forward speed twist.linear.x [m/s]) of a CDR nav_msgs/Odometry."""
    if len(raw) < 4 or raw[0] != 0:
        raise ValueError("not a plain CDR encapsulation")
    endian = "<" if raw[1] & 1 else ">"
    body = memoryview(raw)[4:]
    sec, nanosec, frame_len = struct.unpack_from(endian + "iII", body, 0)
    offset = _align(12 + frame_len, 4)
    (child_len,) = struct.unpack_from(endian + "I", body, offset)
    offset = _align(offset + 4 + child_len, 8)
    x, y, _z, qx, qy, qz, qw = struct.unpack_from(endian + "7d", body, offset)
    yaw = math.atan2(2.0 * (qw * qz + qx * qy), 1.0 - 2.0 * (qy * qy + qz * qz))
    # the pose's 6x6 covariance sits between the pose and twist.linear.x
    (v,) = struct.unpack_from(endian + "d", body, offset + 8 * (7 + 36))
    return sec * 1_000_000_000 + nanosec, x, y, yaw, v


def odometry_pose(raw: bytes) -> tuple[int, float, float, float]:
    """(stamp [ns], x [m], y [m], yaw [rad]) of a CDR-serialised nav_msgs/Odometry."""
    stamp, x, y, yaw, _ = odometry_state(raw)
    return stamp, x, y, yaw


def twist(raw: bytes) -> tuple[float, float]:
    """(linear.x [m/s], angular.z [rad/s]) of a CDR-serialised geometry_msgs/Twist (six float64)."""
    if len(raw) < 52 or raw[0] != 0:
        raise ValueError("not a plain CDR Twist")
    endian = "<" if raw[1] & 1 else ">"
    values = struct.unpack_from(endian + "6d", raw, 4)
    return values[0], values[5]
