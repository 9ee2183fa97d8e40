"""The plant interface: what a motor controller sees of a robot, one robot at a time.

The firmware bridge's virtual MCU drives exactly this interface, so the same
firmware logic can run against a kinematic model or the PyBullet world. It
imports nothing heavier than numpy; PyBullet implementations live elsewhere.

Frames and units: world frame is x forward / y left / z up [m]; yaw [rad] about +z;
wheel order is (left, right); wheel speeds [rad/s], positive drives the robot forward.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class DiffDriveGeometry:
    """Nominal differential-drive robot (a small warehouse AMR, ~TurtleBot-class)."""

    wheel_radius_m: float = 0.035
    track_width_m: float = 0.20  # distance between the two wheel contact points
    chassis_mass_kg: float = 2.4
    wheel_mass_kg: float = 0.1
    max_wheel_speed_rad_s: float = 20.0  # ~0.7 m/s top speed
    max_wheel_torque_nm: float = 0.6
    max_wheel_accel_rad_s2: float = 60.0

    @property
    def max_speed_m_s(self) -> float:
        return self.max_wheel_speed_rad_s * self.wheel_radius_m


def unicycle_to_wheels(
    v_m_s: float | np.ndarray, omega_rad_s: float | np.ndarray, geometry: DiffDriveGeometry
) -> tuple[np.ndarray, np.ndarray]:
    """(v [m/s], ω [rad/s]) -> (left, right) wheel speed [rad/s]."""
    half_track = 0.5 * geometry.track_width_m
    left = (np.asarray(v_m_s) - omega_rad_s * half_track) / geometry.wheel_radius_m
    right = (np.asarray(v_m_s) + omega_rad_s * half_track) / geometry.wheel_radius_m
    return np.asarray(left, dtype=float), np.asarray(right, dtype=float)


def wheels_to_unicycle(
    left_rad_s: float | np.ndarray, right_rad_s: float | np.ndarray, geometry: DiffDriveGeometry
) -> tuple[np.ndarray, np.ndarray]:
    """(left, right) wheel speed [rad/s] -> (v [m/s], ω [rad/s])."""
    r = geometry.wheel_radius_m
    v = 0.5 * r * (np.asarray(right_rad_s) + np.asarray(left_rad_s))
    omega = r * (np.asarray(right_rad_s) - np.asarray(left_rad_s)) / geometry.track_width_m
    return np.asarray(v, dtype=float), np.asarray(omega, dtype=float)


@dataclass
class RobotReading:
    """One robot's sensors at ``time_s`` [s of plant time]."""

    time_s: float
    wheel_angle_rad: np.ndarray  # (left, right), unwrapped encoder angle
    wheel_speed_rad_s: np.ndarray  # (left, right)
    yaw_rate_rad_s: float  # IMU gyro z
    accel_body_m_s2: np.ndarray  # IMU planar acceleration (x forward, y left), body frame
    # (x [m], y [m], yaw [rad]) [world frame]; a stand-in for motion capture or localisation
    pose_world: np.ndarray = field(default_factory=lambda: np.zeros(3))


@runtime_checkable
class Plant(Protocol):
    """A set of robots advanced together in time; each addressed by id."""

    @property
    def robot_ids(self) -> Sequence[int]: ...

    def reset(self, seed: int | None = None) -> None:
        """Back to the initial state; ``seed`` fixes any randomness."""

    def apply(self, robot_id: int, wheel_speed_rad_s: Sequence[float]) -> None:
        """Set the (left, right) wheel speed setpoints [rad/s]; held until the next call."""

    def step(self, dt_s: float) -> None:
        """Advance every robot by ``dt_s`` seconds of plant time."""

    def read(self, robot_id: int) -> RobotReading:
        """The robot's sensors now."""
