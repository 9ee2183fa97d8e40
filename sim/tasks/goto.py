"""Vectorised go-to-point controller for differential-drive robots (numpy, no PyBullet).

Turn towards the target, drive when roughly facing it, slow down on arrival. One call
steers every robot of a swarm, so a 1000-robot control step costs a few numpy ops. A small
swarm takes a plain-Python loop instead (same law, see :func:`go_to_wheels`): a whole-array
numpy op costs about as much as one robot's arithmetic, which dominated a 10-robot
warehouse control step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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


# Below this many robots go_to_wheels loops in Python: cheaper than ~30 whole-array numpy ops.
SCALAR_MAX_ROBOTS = 64


def go_to_wheels(
    poses_world: np.ndarray | Sequence[Sequence[float]],
    targets_world: np.ndarray,
    geometry: DiffDriveGeometry,
    gains: GoToGains = GoToGains(),
) -> np.ndarray:
    """(N, 2) (left, right) wheel speeds [rad/s], scaled down together so neither exceeds the motor limit.

    ``poses_world`` may also be a list of (x, y, yaw) rows (``PyBulletPlant.pose_rows()``), which
    spares a small swarm the array round trip.
    """
    if len(poses_world) <= SCALAR_MAX_ROBOTS:
        return _go_to_wheels_loop(poses_world, targets_world, geometry, gains)
    v, omega = go_to_unicycle(np.asarray(poses_world, dtype=float), targets_world, gains)
    left, right = unicycle_to_wheels(v, omega, geometry)
    peak = np.maximum(np.maximum(np.abs(left), np.abs(right)), 1e-12)
    scale = np.minimum(1.0, geometry.max_wheel_speed_rad_s / peak)
    wheels = np.empty((len(left), 2))
    wheels[:, 0], wheels[:, 1] = left * scale, right * scale
    return wheels


def _go_to_wheels_loop(
    poses_world: np.ndarray | Sequence[Sequence[float]],
    targets_world: np.ndarray,
    geometry: DiffDriveGeometry,
    gains: GoToGains,
) -> np.ndarray:
    """:func:`go_to_wheels` robot by robot in plain Python (the law of :func:`go_to_unicycle`, same order).

    Conditional expressions rather than min()/max(): same values, less call overhead per robot.
    """
    half_track, radius = 0.5 * geometry.track_width_m, geometry.wheel_radius_m
    limit, w_max, k_heading = (
        geometry.max_wheel_speed_rad_s,
        gains.max_yaw_rate_rad_s,
        gains.heading_gain_per_s,
    )
    cruise, slow_radius, tolerance = (
        gains.cruise_speed_m_s,
        gains.slow_down_radius_m,
        gains.arrive_tolerance_m,
    )
    atan2, cos, hypot, pi, two_pi = math.atan2, math.cos, math.hypot, math.pi, 2 * math.pi
    wheels = []
    poses = poses_world.tolist() if isinstance(poses_world, np.ndarray) else poses_world
    for (x, y, yaw), (target_x, target_y) in zip(poses, np.asarray(targets_world).tolist(), strict=True):
        dx, dy = target_x - x, target_y - y
        distance_m = hypot(dx, dy)
        if distance_m < tolerance:
            wheels.append((0.0, 0.0))
            continue
        heading_error = (atan2(dy, dx) - yaw + pi) % two_pi - pi
        omega = k_heading * heading_error
        omega = w_max if omega > w_max else -w_max if omega < -w_max else omega
        alignment = cos(heading_error)
        alignment = alignment if alignment > 0.0 else 0.0
        approach = distance_m / slow_radius
        v = cruise * (approach if approach < 1.0 else 1.0) * alignment * alignment
        left, right = (v - omega * half_track) / radius, (v + omega * half_track) / radius
        peak = abs(left) if abs(left) > abs(right) else abs(right)
        if peak > limit:  # scale both down together (the numpy path: min(1, limit / max(peak, 1e-12)))
            left, right = left * (limit / peak), right * (limit / peak)
        wheels.append((left, right))
    return np.array(wheels, dtype=float).reshape(-1, 2)
