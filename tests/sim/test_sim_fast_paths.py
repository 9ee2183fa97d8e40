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
