"""Wheel-encoder odometry of a differential-drive robot, free of rclpy; firmware time is passed in.

Frame: the pose is in the world (odom) frame, starting at the robot's home pose; x forward,
y left, yaw about +z [rad]. Encoder angles are the firmware's unwrapped wheel angles [rad],
left and right, positive forward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class OdometryState:
    x_m: float
    y_m: float
    yaw_rad: float
    v_m_s: float = 0.0
    omega_rad_s: float = 0.0
    time_ms: int | None = None


class EncoderOdometry:
    def __init__(
        self,
        wheel_radius_m: float,
        track_width_m: float,
        x_m: float = 0.0,
        y_m: float = 0.0,
        yaw_rad: float = 0.0,
    ):
        if wheel_radius_m <= 0 or track_width_m <= 0:
            raise ValueError("wheel_radius_m and track_width_m must be > 0")
        self.wheel_radius_m = wheel_radius_m
        self.track_width_m = track_width_m
        self.state = OdometryState(x_m, y_m, yaw_rad)
        self._last_angles: tuple[float, float] | None = None

    def update(
        self, time_ms: int, enc_left_rad: float, enc_right_rad: float, left_rad_s: float, right_rad_s: float
    ) -> OdometryState:
        """Integrate the encoder increments since the previous update (midpoint heading)."""
        s = self.state
        if self._last_angles is not None:
            d_left = (enc_left_rad - self._last_angles[0]) * self.wheel_radius_m
            d_right = (enc_right_rad - self._last_angles[1]) * self.wheel_radius_m
            ds = 0.5 * (d_left + d_right)
            dyaw = (d_right - d_left) / self.track_width_m
            mid = s.yaw_rad + 0.5 * dyaw
            s.x_m += ds * math.cos(mid)
            s.y_m += ds * math.sin(mid)
            s.yaw_rad = math.atan2(math.sin(s.yaw_rad + dyaw), math.cos(s.yaw_rad + dyaw))
        self._last_angles = (enc_left_rad, enc_right_rad)
        s.v_m_s = 0.5 * self.wheel_radius_m * (left_rad_s + right_rad_s)
        s.omega_rad_s = self.wheel_radius_m * (right_rad_s - left_rad_s) / self.track_width_m
        s.time_ms = time_ms
        return s


def wheels_for_twist(
    v_m_s: float, omega_rad_s: float, wheel_radius_m: float, track_width_m: float, max_wheel_rad_s: float
) -> tuple[float, float, bool]:
    """(left, right) wheel speeds [rad/s] for a body twist, scaled down together to the wheel limit.

    Returns the wheels and whether they were scaled. Non-finite input gives (0, 0, True).
    """
    if not (math.isfinite(v_m_s) and math.isfinite(omega_rad_s)):
        return 0.0, 0.0, True
    half = 0.5 * track_width_m
    left = (v_m_s - omega_rad_s * half) / wheel_radius_m
    right = (v_m_s + omega_rad_s * half) / wheel_radius_m
    peak = max(abs(left), abs(right))
    if peak > max_wheel_rad_s:
        scale = max_wheel_rad_s / peak
        return left * scale, right * scale, True
    return left, right, False
