"""The kinematic plant and the PyBullet adapter satisfy the Plant protocol and move as commanded."""

from __future__ import annotations

import math

import numpy as np
import pytest

from robocoord.firmware_bridge.kinematic_plant import KinematicPlant
from robocoord.firmware_bridge.pybullet_plant import make_pybullet_plant
from robocoord.sim.plant import DiffDriveGeometry, Plant


def test_kinematic_plant_drives_straight_and_turns() -> None:
    plant = KinematicPlant([3, 4])
    assert isinstance(plant, Plant)
    geometry = DiffDriveGeometry()
    plant.apply(3, (10.0, 10.0))
    plant.apply(4, (-5.0, 5.0))
    for _ in range(1000):
        plant.step(0.001)
    straight, spin = plant.read(3), plant.read(4)
    assert straight.time_s == pytest.approx(1.0)
    assert straight.pose_world[0] == pytest.approx(10.0 * geometry.wheel_radius_m)  # 0.35 m in 1 s
    assert straight.wheel_angle_rad == pytest.approx([10.0, 10.0])
    expected_yaw_rate = 10.0 * geometry.wheel_radius_m / geometry.track_width_m
    assert spin.yaw_rate_rad_s == pytest.approx(expected_yaw_rate)
    assert spin.pose_world[2] == pytest.approx(expected_yaw_rate)
    assert spin.pose_world[:2] == pytest.approx([0.0, 1.0])  # turned on the spot, 1 m beside robot 3


def test_kinematic_plant_limits_speed_and_rejects_bad_steps() -> None:
    plant = KinematicPlant([0])
    plant.apply(0, (100.0, -100.0))
    plant.step(0.01)
    assert plant.read(0).wheel_speed_rad_s == pytest.approx([20.0, -20.0])
    with pytest.raises(ValueError, match="dt_s"):
        plant.step(0.0)
    with pytest.raises(ValueError, match="unique"):
        KinematicPlant([1, 1])


@pytest.mark.slow
def test_pybullet_adapter_maps_ids_and_steps_whole_substeps() -> None:
    plant = make_pybullet_plant([10, 11])
    plant.apply(10, (8.0, 8.0))
    for _ in range(1000):  # 1 s of 1 ms firmware ticks = 240 physics steps
        plant.step(0.001)
    moving, parked = plant.read(10), plant.read(11)
    assert moving.time_s == pytest.approx(1.0, abs=1.0 / 240)
    assert moving.wheel_speed_rad_s == pytest.approx([8.0, 8.0], abs=0.2)
    assert parked.wheel_speed_rad_s == pytest.approx([0.0, 0.0], abs=0.05)  # contact jitter only
    assert math.isclose(parked.pose_world[1] - moving.pose_world[1], 1.0, abs_tol=0.02)
    assert float(np.hypot(*moving.pose_world[:2] - np.array([0.0, 0.0]))) > 0.2
