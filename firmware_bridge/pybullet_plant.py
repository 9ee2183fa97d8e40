"""The sim layer's PyBullet world behind the virtual MCU (the only module here that may import pybullet).

``robocoord.sim.pybullet_plant.PyBulletPlant`` numbers its robots 0..N-1 and advances in
whole 1/240 s physics substeps; the virtual MCU ticks its firmware every millisecond with
its own robot ids. :class:`SubsteppedPlant` bridges the two: it keeps the firmware's time
base, steps the physics each time a whole substep of plant time has accumulated, and
caches readings between physics steps (they cannot change in between).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from robocoord.sim.plant import Plant, RobotReading

ROBOT_SPACING_M = 1.0


class SubsteppedPlant:
    def __init__(self, inner: Plant, robot_ids: Sequence[int], physics_dt_s: float):
        inner_ids = list(inner.robot_ids)
        if len(inner_ids) != len(robot_ids):
            raise ValueError(f"{len(robot_ids)} robot ids for a plant of {len(inner_ids)} robots")
        self.inner = inner
        self.physics_dt_s = physics_dt_s
        self._ids = list(robot_ids)
        self._to_inner = dict(zip(self._ids, inner_ids, strict=True))
        self._pending_s = 0.0
        self._cache: dict[int, RobotReading] = {}

    @property
    def robot_ids(self) -> Sequence[int]:
        return list(self._ids)

    def reset(self, seed: int | None = None) -> None:
        self.inner.reset(seed)
        self._pending_s = 0.0
        self._cache.clear()

    def apply(self, robot_id: int, wheel_speed_rad_s: Sequence[float]) -> None:
        self.inner.apply(self._to_inner[robot_id], wheel_speed_rad_s)

    def step(self, dt_s: float) -> None:
        self._pending_s += dt_s
        # The epsilon absorbs float drift from summing millisecond ticks.
        substeps = int((self._pending_s + 1e-9) / self.physics_dt_s)
        if substeps:
            self.inner.step(substeps * self.physics_dt_s)
            self._pending_s -= substeps * self.physics_dt_s
            self._cache.clear()

    def read(self, robot_id: int) -> RobotReading:
        reading = self._cache.get(robot_id)
        if reading is None:
            reading = self._cache[robot_id] = self.inner.read(self._to_inner[robot_id])
        return reading


def make_pybullet_plant(robot_ids: Sequence[int]) -> SubsteppedPlant:
    """Wheeled robots side by side along +y, 1 m apart, all facing +x, in one world."""
    from robocoord.sim.pybullet_plant import PyBulletPlant

    n = len(robot_ids)
    poses = np.zeros((n, 3))
    poses[:, 1] = np.arange(n) * ROBOT_SPACING_M
    inner = PyBulletPlant(poses, body="wheeled")
    return SubsteppedPlant(inner, robot_ids, inner.physics_dt_s)
