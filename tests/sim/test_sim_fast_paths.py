"""The speed-motivated fast paths compute the same thing as the plain vectorised code."""

from __future__ import annotations

import numpy as np

from robocoord.sim.plant import DiffDriveGeometry, unicycle_to_wheels
from robocoord.sim.tasks import goto


def _numpy_go_to_wheels(poses, targets, geometry, gains):
    v, omega = goto.go_to_unicycle(poses, targets, gains)
    left, right = unicycle_to_wheels(v, omega, geometry)
    peak = np.maximum(np.maximum(np.abs(left), np.abs(right)), 1e-12)
    scale = np.minimum(1.0, geometry.max_wheel_speed_rad_s / peak)
    return np.stack([left * scale, right * scale], axis=1)


def test_small_swarm_go_to_loop_matches_the_vectorised_law() -> None:
    geometry, rng = DiffDriveGeometry(), np.random.default_rng(0)
    for n in (1, 2, 10, goto.SCALAR_MAX_ROBOTS):
        for gains in (goto.GoToGains(), goto.GoToGains(cruise_speed_m_s=2.0, max_yaw_rate_rad_s=20.0)):
            poses = np.column_stack([rng.uniform(-3, 3, (n, 2)), rng.uniform(-4, 4, n)])
            # targets from on-the-spot (arrived) to far away (speed-limited)
            targets = poses[:, :2] + rng.normal(0, 1, (n, 2)) * rng.choice([0.01, 0.1, 1, 5], (n, 1))
            fast = goto.go_to_wheels(poses, targets, geometry, gains)
            assert fast.shape == (n, 2)
            np.testing.assert_allclose(fast, _numpy_go_to_wheels(poses, targets, geometry, gains), atol=1e-12)
            rows = [tuple(row) for row in poses.tolist()]  # PyBulletPlant.pose_rows() form
            np.testing.assert_array_equal(goto.go_to_wheels(rows, targets, geometry, gains), fast)
    assert goto.go_to_wheels(np.zeros((0, 3)), np.zeros((0, 2)), geometry).shape == (0, 2)


def test_disc_plant_pose_rows_match_poses_world() -> None:
    from robocoord.sim.pybullet_plant import PyBulletPlant

    start = np.array([[0.0, 0.0, 0.3], [1.0, 0.0, -2.0], [0.0, 1.0, 3.0]])
    plant = PyBulletPlant(start, body="disc")
    try:
        plant.apply_all(np.array([[10.0, 12.0], [0.0, 0.0], [-5.0, 5.0]]))
        for _ in range(5):
            plant.step(0.05)
            np.testing.assert_array_equal(np.array(plant.pose_rows()), plant.poses_world())
        speed, _ = plant.body_velocities()
        assert speed[0] > 0.3 and speed[1] == 0.0
    finally:
        plant.close()


def test_disc_go_to_step_matches_go_to_wheels_then_step_bit_for_bit() -> None:
    from robocoord.sim.pybullet_plant import DynamicsParams, PyBulletPlant

    geometry, rng = DiffDriveGeometry(), np.random.default_rng(1)
    n = 12
    start = np.column_stack([np.arange(n) * 0.5, np.zeros(n), rng.uniform(-3, 3, n)])
    # some targets on the spot (arrived, parked), some far (speed-limited), some crossing paths
    targets = start[:, :2] + rng.normal(0, 1, (n, 2)) * rng.choice([0.0, 0.3, 3.0], (n, 1))
    gains = goto.GoToGains(cruise_speed_m_s=0.6)
    fused, plain = PyBulletPlant(start, body="disc"), PyBulletPlant(start, body="disc")
    try:
        for plant in (fused, plain):
            plant.set_dynamics(DynamicsParams(motor_gain=0.6), [2, 5])
        for k in range(40):
            if k == 20:  # new targets mid-way, as at a decision
                targets = targets[::-1].copy()
            fused.go_to_step(targets, gains, 0.05, targets.tolist())
            plain.apply_all(goto.go_to_wheels(plain.pose_rows(), targets, geometry, gains))
            plain.step(0.05)
            assert fused.pose_rows() == plain.pose_rows()
            np.testing.assert_array_equal(fused._setpoints(), plain._setpoints())
        # the setpoints stay in force for a plain step() after a go_to_step
        fused.step(0.05)
        plain.step(0.05)
        assert fused.pose_rows() == plain.pose_rows()
        np.testing.assert_array_equal(fused.read(3).wheel_angle_rad, plain.read(3).wheel_angle_rad)
    finally:
        fused.close()
        plain.close()
