"""Physics sanity of the PyBullet robot, plant and box pushing."""

from __future__ import annotations

import itertools

import numpy as np
import pybullet as pb
import pytest

from robocoord.sim.config import WarehouseParams
from robocoord.sim.plant import DiffDriveGeometry, Plant, unicycle_to_wheels
from robocoord.sim.pybullet_plant import PyBulletPlant
from robocoord.sim.robot import NOMINAL_URDF, diffdrive_urdf
from robocoord.sim.tasks.team_push import TeamPushParallelEnv
from robocoord.sim.tasks.warehouse import WarehouseSim

GEOMETRY = DiffDriveGeometry()
CONTROL_DT_S = 0.05


def drive(plant: PyBulletPlant, robot: int, v_m_s: float, omega_rad_s: float, seconds: float) -> None:
    left, right = unicycle_to_wheels(v_m_s, omega_rad_s, GEOMETRY)
    plant.apply(robot, [float(left), float(right)])
    for _ in range(round(seconds / CONTROL_DT_S)):
        plant.step(CONTROL_DT_S)


@pytest.fixture
def plant() -> PyBulletPlant:
    p = PyBulletPlant([[0.0, 0.0, 0.0]], body="wheeled")
    yield p
    p.close()


def test_straight_drive_reaches_commanded_speed_within_5_percent(plant: PyBulletPlant) -> None:
    drive(plant, 0, 0.3, 0.0, seconds=1.0)  # let the motors spin up
    start = plant.poses_world()[0].copy()
    drive(plant, 0, 0.3, 0.0, seconds=2.0)
    end = plant.poses_world()[0]
    measured_m_s = np.hypot(*(end[:2] - start[:2])) / 2.0
    assert measured_m_s == pytest.approx(0.3, rel=0.05)
    assert abs(end[1]) < 0.02  # and it went straight


def test_yaw_rate_reaches_command_within_5_percent(plant: PyBulletPlant) -> None:
    drive(plant, 0, 0.0, 1.0, seconds=1.0)
    yaws = []
    for _ in range(40):  # 2 s sampled at the control rate, unwrapped
        drive(plant, 0, 0.0, 1.0, seconds=CONTROL_DT_S)
        yaws.append(plant.poses_world()[0, 2])
    unwrapped = np.unwrap(yaws)
    measured = (unwrapped[-1] - unwrapped[0]) / (CONTROL_DT_S * (len(yaws) - 1))
    assert measured == pytest.approx(1.0, rel=0.05)
    assert plant.read(0).yaw_rate_rad_s == pytest.approx(1.0, rel=0.05)


def test_plant_implements_protocol_and_sensors_agree(plant: PyBulletPlant) -> None:
    assert isinstance(plant, Plant)
    drive(plant, 0, 0.3, 0.0, seconds=2.0)
    reading = plant.read(0)
    expected_wheel_rad_s = 0.3 / GEOMETRY.wheel_radius_m
    assert reading.wheel_speed_rad_s == pytest.approx([expected_wheel_rad_s] * 2, rel=0.05)
    # encoder angle integrates the wheel speed: distance rolled = angle * radius ~ distance driven
    travelled_m = plant.poses_world()[0, 0]
    assert reading.wheel_angle_rad.mean() * GEOMETRY.wheel_radius_m == pytest.approx(travelled_m, rel=0.05)
    assert reading.time_s == pytest.approx(2.0)
    assert np.abs(reading.accel_body_m_s2).max() < 0.5  # cruising: no sustained acceleration


def test_step_rejects_dt_that_is_not_whole_physics_steps(plant: PyBulletPlant) -> None:
    with pytest.raises(ValueError, match="dt_s"):
        plant.step(0.001)


def test_shipped_urdf_matches_generator_and_geometry() -> None:
    assert NOMINAL_URDF.read_text() == diffdrive_urdf(GEOMETRY)
    plant = PyBulletPlant([[0.0, 0.0, 0.0]])
    try:
        body = plant.body_ids[0]
        total_mass = sum(
            pb.getDynamicsInfo(body, link, physicsClientId=plant.client)[0]
            for link in range(-1, pb.getNumJoints(body, physicsClientId=plant.client))
        )
        assert total_mass == pytest.approx(GEOMETRY.chassis_mass_kg + 2 * GEOMETRY.wheel_mass_kg, abs=0.05)
        left = pb.getLinkState(body, 0, physicsClientId=plant.client)[4]
        right = pb.getLinkState(body, 1, physicsClientId=plant.client)[4]
        assert np.hypot(left[0] - right[0], left[1] - right[1]) == pytest.approx(GEOMETRY.track_width_m)
        assert left[2] == pytest.approx(GEOMETRY.wheel_radius_m, abs=2e-3)  # axle height = wheel radius
    finally:
        plant.close()


def _min_pair_distance_m(client: int, bodies: list[int]) -> float:
    closest = np.inf
    for a, b in itertools.combinations(bodies, 2):
        points = pb.getClosestPoints(a, b, 0.05, physicsClientId=client)
        closest = min([closest, *(p[8] for p in points)])
    return float(closest)


def test_warehouse_robots_never_spawn_interpenetrating() -> None:
    sim = WarehouseSim(WarehouseParams(n_robots=60))
    try:
        for seed in (0, 1):
            sim.reset(seed)
            assert _min_pair_distance_m(sim.plant.client, sim.plant.body_ids) > 0.0
    finally:
        sim.close()


def test_team_push_robots_and_box_never_spawn_interpenetrating() -> None:
    env = TeamPushParallelEnv(n_robots=4)
    try:
        for seed in (0, 1, 2):
            env.reset(seed=seed)
            bodies = [*env.plant.body_ids, env.box_id]
            assert _min_pair_distance_m(env.plant.client, bodies) > 0.0
    finally:
        env.close()


def _push_box(mass_scale: float, decisions: int = 12) -> tuple[float, float]:
    """Both robots drive forward; returns (box displacement along +x [m], final box-to-goal [m])."""
    env = TeamPushParallelEnv(n_robots=2)
    try:
        env.set_box(env.params.box_mass_kg * mass_scale, env.params.box_friction)
        env.reset(seed=0)
        start_distance = env.box_to_goal_m()
        for _ in range(decisions):
            env.step({agent: 1 for agent in env.agents})
        return float(env.box_pose_world()[0]), start_distance - env.box_to_goal_m()
    finally:
        env.close()


def test_box_pushed_by_two_robots_moves_towards_goal() -> None:
    displacement_m, closer_by_m = _push_box(1.0)
    assert displacement_m > 0.5  # 3 s of pushing at ~0.3-0.45 m/s
    assert closer_by_m > 0.5


def test_heavier_box_moves_measurably_slower() -> None:
    nominal_m, _ = _push_box(1.0)
    heavy_m, _ = _push_box(3.0)
    assert heavy_m < 0.85 * nominal_m
    assert heavy_m > 0.0  # slower, not glued to the floor


def test_robots_are_addressed_one_at_a_time() -> None:
    plant = PyBulletPlant([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]], body="wheeled")
    try:
        drive(plant, 1, 0.3, 0.0, seconds=1.0)
        moved = np.hypot(*(plant.poses_world()[:, :2] - [[0.0, 0.0], [0.0, 1.0]]).T)
        assert moved[0] < 1e-3 and moved[1] > 0.2
        assert plant.read(0).wheel_speed_rad_s == pytest.approx([0.0, 0.0], abs=0.05)
        with pytest.raises(IndexError, match="robot_id"):
            plant.read(2)
    finally:
        plant.close()


def test_actuation_latency_delays_commands_by_whole_control_steps() -> None:
    from robocoord.sim.pybullet_plant import DynamicsParams

    plant = PyBulletPlant([[0.0, 0.0, 0.0]], body="disc")
    try:
        plant.set_dynamics(DynamicsParams(actuation_latency_steps=2))
        left, right = unicycle_to_wheels(0.3, 0.0, GEOMETRY)
        plant.apply(0, [float(left), float(right)])
        speeds = []
        for _ in range(4):
            plant.step(CONTROL_DT_S)
            speeds.append(plant.body_velocities()[0][0])
        assert speeds[:2] == [0.0, 0.0]  # the first two steps still carry the old (zero) command
        assert speeds[2] == pytest.approx(0.3) and speeds[3] == pytest.approx(0.3)
    finally:
        plant.close()


@pytest.mark.parametrize(
    "disturbance",
    [{"floor_tilt_rad": (0.0, 0.1)}, {"external_force_n": (3.0, 0.0)}, {"gravity_scale": 1.0}],
    ids=["tilt", "wind", "none"],
)
def test_tilt_and_wind_push_a_freewheeling_robot_downhill_or_downwind(disturbance: dict) -> None:
    from robocoord.sim.pybullet_plant import DynamicsParams

    plant = PyBulletPlant([[0.0, 0.0, 0.0]], body="wheeled")
    try:
        plant.set_dynamics(
            DynamicsParams(torque_limit_scale=0.0, **disturbance)
        )  # motors off: wheels roll freely
        for _ in range(20):
            plant.step(CONTROL_DT_S)
        x_m = plant.poses_world()[0, 0]
        if "gravity_scale" in disturbance:
            assert abs(x_m) < 0.01  # flat floor, no wind: the robot stays put
        else:
            assert x_m > 0.1  # pushed along +x within a second
    finally:
        plant.close()
