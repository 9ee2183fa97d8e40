"""Kinematic differential-drive plant: ideal motors, no contacts, numpy only.

Each wheel follows its setpoint within one step (limited to the geometry's top
speed), and the body integrates the unicycle model. It implements
``robocoord.sim.plant.Plant`` so the virtual MCU can drive it or the PyBullet world
interchangeably; with ideal motors, anything the firmware commands shows up in the
measured wheel speeds at the next step, which is what the watchdog tests measure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from robocoord.sim.plant import DiffDriveGeometry, RobotReading, wheels_to_unicycle


class KinematicPlant:
    def __init__(
        self, robot_ids: Sequence[int], geometry: DiffDriveGeometry | None = None, spacing_m: float = 1.0
    ):
        if len(set(robot_ids)) != len(robot_ids) or not robot_ids:
            raise ValueError(f"robot_ids must be unique and non-empty, got {list(robot_ids)}")
        self.geometry = geometry or DiffDriveGeometry()
        self._ids = list(robot_ids)
        self._index = {rid: i for i, rid in enumerate(self._ids)}
        self._spacing_m = spacing_m
        self.reset()

    @property
    def robot_ids(self) -> Sequence[int]:
        return list(self._ids)

    def reset(self, seed: int | None = None) -> None:
        n = len(self._ids)
        rng = np.random.default_rng(seed)
        self.time_s = 0.0
        self._setpoint = np.zeros((n, 2))
        self._wheel_speed = np.zeros((n, 2))
        self._wheel_angle = np.zeros((n, 2))
        self._pose = np.zeros((n, 3))
        self._pose[:, 1] = np.arange(n) * self._spacing_m  # side by side along y
        if seed is not None:
            self._pose[:, 2] = rng.uniform(-np.pi, np.pi, n)
        self._v = np.zeros(n)
        self._omega = np.zeros(n)
        self._accel = np.zeros((n, 2))

    def apply(self, robot_id: int, wheel_speed_rad_s: Sequence[float]) -> None:
        limit = self.geometry.max_wheel_speed_rad_s
        left, right = (float(v) for v in wheel_speed_rad_s)
        if not (math.isfinite(left) and math.isfinite(right)):
            raise ValueError(f"wheel_speed_rad_s must be two finite numbers, got {wheel_speed_rad_s!r}")
        # Plain floats: this runs for every robot every millisecond in the virtual MCU.
        row = self._setpoint[self._index[robot_id]]
        row[0] = min(limit, max(-limit, left))
        row[1] = min(limit, max(-limit, right))

    def step(self, dt_s: float) -> None:
        if dt_s <= 0:
            raise ValueError(f"dt_s must be positive, got {dt_s}")
        self._wheel_speed = self._setpoint.copy()
        self._wheel_angle += self._wheel_speed * dt_s
        v, omega = wheels_to_unicycle(self._wheel_speed[:, 0], self._wheel_speed[:, 1], self.geometry)
        # Body-frame acceleration of a unicycle: tangential dv/dt and centripetal v * omega.
        self._accel[:, 0] = (v - self._v) / dt_s
        self._accel[:, 1] = v * omega
        self._v, self._omega = v, omega
        yaw = self._pose[:, 2] + 0.5 * omega * dt_s  # midpoint heading
        self._pose[:, 0] += v * np.cos(yaw) * dt_s
        self._pose[:, 1] += v * np.sin(yaw) * dt_s
        self._pose[:, 2] = np.arctan2(
            np.sin(self._pose[:, 2] + omega * dt_s), np.cos(self._pose[:, 2] + omega * dt_s)
        )
        self.time_s += dt_s

    def read(self, robot_id: int) -> RobotReading:
        i = self._index[robot_id]
        return RobotReading(
            time_s=self.time_s,
            wheel_angle_rad=self._wheel_angle[i].copy(),
            wheel_speed_rad_s=self._wheel_speed[i].copy(),
            yaw_rate_rad_s=float(self._omega[i]),
            accel_body_m_s2=self._accel[i].copy(),
            pose_world=self._pose[i].copy(),
        )
