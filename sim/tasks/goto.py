"""Vectorised go-to-point controller for differential-drive robots (numpy, no PyBullet).

Turn towards the target, drive when roughly facing it, slow down on arrival. One call
steers every robot of a swarm, so a 1000-robot control step costs a few numpy ops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from robocoord.sim.plant import DiffDriveGeometry, unicycle_to_wheels


@dataclass(frozen=True)
class GoToGains:
    cruise_speed_m_s: float = 0.5
    max_yaw_rate_rad_s: float = 3.0
    heading_gain_per_s: float = 4.0  # yaw rate [rad/s] per rad of heading error
    slow_down_radius_m: float = 0.3  # below this distance the speed falls linearly to zero
    arrive_tolerance_m: float = 0.05


def wrap_angle(angle_rad: np.ndarray) -> np.ndarray:
    return (angle_rad + np.pi) % (2 * np.pi) - np.pi


def go_to_unicycle(
    poses_world: np.ndarray, targets_world: np.ndarray, gains: GoToGains = GoToGains()
) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) poses (x, y, yaw) and (N, 2) targets [m, world] -> forward speed [m/s], yaw rate [rad/s]."""
    delta = targets_world - poses_world[:, :2]
    distance_m = np.hypot(delta[:, 0], delta[:, 1])
    heading_error = wrap_angle(np.arctan2(delta[:, 1], delta[:, 0]) - poses_world[:, 2])
    # np.minimum/np.maximum rather than np.clip: same result, a fraction of the call overhead on
    # small arrays, and this runs for every robot at every control step
    w_max = gains.max_yaw_rate_rad_s
    omega = np.minimum(np.maximum(gains.heading_gain_per_s * heading_error, -w_max), w_max)
    # cos² of the heading error: full speed when aligned, none beyond ±90° (turn in place first)
    alignment = np.maximum(np.cos(heading_error), 0.0)
    v = (
        gains.cruise_speed_m_s
        * np.minimum(distance_m / gains.slow_down_radius_m, 1.0)
        * alignment
        * alignment
    )
    arrived = distance_m < gains.arrive_tolerance_m
    v[arrived] = 0.0
    omega[arrived] = 0.0
    return v, omega


def go_to_wheels(
    poses_world: np.ndarray,
    targets_world: np.ndarray,
    geometry: DiffDriveGeometry,
    gains: GoToGains = GoToGains(),
) -> np.ndarray:
    """(N, 2) (left, right) wheel speeds [rad/s], scaled down together so neither exceeds the motor limit."""
    v, omega = go_to_unicycle(poses_world, targets_world, gains)
    left, right = unicycle_to_wheels(v, omega, geometry)
    peak = np.maximum(np.maximum(np.abs(left), np.abs(right)), 1e-12)
    scale = np.minimum(1.0, geometry.max_wheel_speed_rad_s / peak)
    wheels = np.empty((len(left), 2))
    wheels[:, 0], wheels[:, 1] = left * scale, right * scale
    return wheels
