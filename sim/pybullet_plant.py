"""PyBullet implementation of :class:`robocoord.sim.plant.Plant`: one world, N robots.

Two robot bodies share one interface:

* ``"wheeled"`` — the URDF of :mod:`robocoord.sim.robot`: two velocity-controlled wheel
  motors with a torque limit, a ball caster, gravity and floor friction. Used by the
  plant for the firmware bridge, ``team_push`` and ``safe_nav``.
* ``"disc"`` — one rigid disc per robot of the same mass and footprint whose base
  velocity follows the commanded wheel speeds through the unicycle model. No floor
  contact and no gravity, so the only contacts are robot–robot (and robot–obstacle):
  this is what lets ``warehouse`` crowd 1000 robots in real time. Robots standing
  still are never touched, so PyBullet keeps them asleep.

Physics runs at ``physics_hz`` (240 Hz); :meth:`step` advances ``dt_s`` as a whole
number of physics substeps, so a 20 Hz control loop calls ``step(0.05)``.

Besides the per-robot :meth:`apply` / :meth:`read` of the protocol, the plant offers
vectorised :meth:`apply_all`, :meth:`poses_world` and :meth:`body_velocities` for
tasks, and :meth:`set_dynamics` for the dynamics disruptions.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pybullet as pb

from robocoord.sim.plant import DiffDriveGeometry, RobotReading, unicycle_to_wheels, wheels_to_unicycle
from robocoord.sim.robot import WHEEL_JOINTS, urdf_path

BodyModel = Literal["wheeled", "disc"]
GRAVITY_M_S2 = 9.81
DISC_RADIUS_M = 0.15  # footprint radius of the disc body (chassis diagonal + bumper)
DISC_HEIGHT_M = 0.10


@dataclass(frozen=True)
class DynamicsParams:
    """Physical parameters a disruption may change; the defaults are the nominal robot.

    Scales multiply the nominal value. ``external_force_n`` is a constant world-frame
    force (x, y) [N] on every affected robot (wind); ``floor_tilt_rad`` tilts gravity
    about world (x, y) [rad] and ``gravity_scale`` scales its magnitude (both per world). ``actuation_latency_steps`` delays wheel commands by whole
    control steps (calls to :meth:`PyBulletPlant.step`).
    """

    mass_scale: float = 1.0
    lateral_friction_scale: float = 1.0
    rolling_friction_scale: float = 1.0
    motor_gain: float = 1.0
    torque_limit_scale: float = 1.0
    actuation_latency_steps: int = 0
    external_force_n: tuple[float, float] = (0.0, 0.0)
    floor_tilt_rad: tuple[float, float] = (0.0, 0.0)
    gravity_scale: float = 1.0


NOMINAL_DYNAMICS = DynamicsParams()

# nominal contact parameters of the wheeled robot
WHEEL_LATERAL_FRICTION = 1.0
WHEEL_ROLLING_FRICTION = 0.001
MIN_TORQUE_FRACTION = 0.05
CASTER_LATERAL_FRICTION = 0.0  # an ideal ball caster transmits no traction
FLOOR_LATERAL_FRICTION = 1.0


@dataclass
class _RobotState:
    body_id: int
    wheel_joints: tuple[int, ...] = ()
    # nominal (mass [kg], local inertia diagonal [kg m^2]) of each link, -1 = base
    link_masses_kg: dict[int, tuple[float, tuple[float, ...]]] = field(default_factory=dict)
    inertial_offset_m: np.ndarray = field(default_factory=lambda: np.zeros(3))
    dynamics: DynamicsParams = NOMINAL_DYNAMICS


def yaw_of_quaternion(q: Sequence[float]) -> float:
    x, y, z, w = q
    return float(np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z)))


class PyBulletPlant:
    """N differential-drive robots in one PyBullet world (DIRECT unless ``gui``).

    ``start_poses_world``: (N, 3) rows (x [m], y [m], yaw [rad]) in the world frame.
    """

    def __init__(
        self,
        start_poses_world: np.ndarray | Sequence[Sequence[float]],
        *,
        body: BodyModel = "wheeled",
        geometry: DiffDriveGeometry = DiffDriveGeometry(),
        physics_hz: float = 240.0,
        gui: bool = False,
        floor: bool = True,
    ) -> None:
        poses = np.asarray(start_poses_world, dtype=float)
        if poses.ndim != 2 or poses.shape[1] != 3:
            raise ValueError(f"start_poses_world: expected shape (N, 3), got {poses.shape}")
        if len(poses) == 0:
            raise ValueError("start_poses_world: need at least one robot")
        if physics_hz <= 0:
            raise ValueError(f"physics_hz: must be > 0, got {physics_hz}")
        if body not in ("wheeled", "disc"):
            raise ValueError(f"body: expected 'wheeled' or 'disc', got {body!r}")
        self.geometry = geometry
        self.body: BodyModel = body
        self.physics_hz = float(physics_hz)
        self.physics_dt_s = 1.0 / self.physics_hz
        self._start_poses = poses.copy()
        self._closed = True  # until connected: close() and __del__ must not touch a foreign client
        self.client = pb.connect(pb.GUI if gui else pb.DIRECT)
        self._closed = False
        pb.setTimeStep(self.physics_dt_s, physicsClientId=self.client)
        # 10 solver iterations track wheel speeds to well under 1 % and run ~3x faster than the
        # default 50; pyramid friction instead of the cone is PyBullet's cheaper contact model.
        pb.setPhysicsEngineParameter(
            numSolverIterations=10, enableConeFriction=0, physicsClientId=self.client
        )
        self._gravity_on = body == "wheeled"
        self._world_gravity: tuple[tuple[float, float], float] = ((0.0, 0.0), 1.0)
        self._set_gravity((0.0, 0.0), 1.0)
        self.floor_id: int | None = None
        if floor and body == "wheeled":
            plane = pb.createCollisionShape(pb.GEOM_PLANE, physicsClientId=self.client)
            self.floor_id = pb.createMultiBody(0.0, plane, physicsClientId=self.client)
            pb.changeDynamics(
                self.floor_id, -1, lateralFriction=FLOOR_LATERAL_FRICTION, physicsClientId=self.client
            )
        self._robots = [self._spawn(pose) for pose in poses]
        n = len(self._robots)
        self._body_ids = [r.body_id for r in self._robots]
        self._inertial_offsets = np.array([r.inertial_offset_m for r in self._robots])
        self._motor_gain = np.ones(n)
        self._any_latency = False
        self._any_wind = False
        self._setpoint_rad_s = np.zeros((n, 2))
        self._latency_lines: list[deque[np.ndarray]] = [deque() for _ in range(n)]
        self._pose = np.zeros((n, 3))
        self._lin_vel_world = np.zeros((n, 2))
        self._accel_world = np.zeros((n, 2))
        self._yaw_rate = np.zeros(n)
        self._forward_speed = np.zeros(n)
        self._wheel_speed_rad_s = np.zeros((n, 2))
        self._disc_wheel_angle = np.zeros((n, 2))
        self.time_s = 0.0
        self.reset()

    # ---------------------------------------------------------------- construction
    def _spawn(self, pose: np.ndarray) -> _RobotState:
        orn = pb.getQuaternionFromEuler((0.0, 0.0, float(pose[2])))
        if self.body == "wheeled":
            body_id = pb.loadURDF(
                str(urdf_path(self.geometry)),
                basePosition=(float(pose[0]), float(pose[1]), self.geometry.wheel_radius_m),
                baseOrientation=orn,
                flags=pb.URDF_USE_INERTIA_FROM_FILE,
                physicsClientId=self.client,
            )
            names = {
                pb.getJointInfo(body_id, j, physicsClientId=self.client)[1].decode(): j
                for j in range(pb.getNumJoints(body_id, physicsClientId=self.client))
            }
            wheels = tuple(names[name] for name in WHEEL_JOINTS)
            caster = names["caster_joint"]
            for j in wheels:
                pb.changeDynamics(
                    body_id,
                    j,
                    lateralFriction=WHEEL_LATERAL_FRICTION,
                    rollingFriction=WHEEL_ROLLING_FRICTION,
                    jointDamping=0.0,
                    physicsClientId=self.client,
                )
            pb.changeDynamics(
                body_id, caster, lateralFriction=CASTER_LATERAL_FRICTION, physicsClientId=self.client
            )
            links = [-1, *range(pb.getNumJoints(body_id, physicsClientId=self.client))]
            masses = {j: self._mass_and_inertia(body_id, j) for j in links}
            offset = np.asarray(pb.getDynamicsInfo(body_id, -1, physicsClientId=self.client)[3])
            return _RobotState(body_id, wheels, masses, offset)
        shape = pb.createCollisionShape(
            pb.GEOM_SPHERE, radius=DISC_RADIUS_M, physicsClientId=self.client
        )  # a sphere: cheapest contact, and contact normals through the centres never tip it
        visual = pb.createVisualShape(
            pb.GEOM_CYLINDER,
            radius=DISC_RADIUS_M,
            length=DISC_HEIGHT_M,
            rgbaColor=(0.2, 0.4, 0.8, 1.0),
            physicsClientId=self.client,
        )
        mass = self.geometry.chassis_mass_kg + 2 * self.geometry.wheel_mass_kg
        body_id = pb.createMultiBody(
            mass,
            shape,
            visual,
            basePosition=(float(pose[0]), float(pose[1]), DISC_RADIUS_M),
            baseOrientation=orn,
            physicsClientId=self.client,
        )
        pb.changeDynamics(
            body_id,
            -1,
            lateralFriction=0.0,
            linearDamping=0.0,
            angularDamping=0.0,
            physicsClientId=self.client,
        )
        return _RobotState(body_id, (), {-1: self._mass_and_inertia(body_id, -1)})

    def _mass_and_inertia(self, body_id: int, link: int) -> tuple[float, tuple[float, ...]]:
        info = pb.getDynamicsInfo(body_id, link, physicsClientId=self.client)
        return float(info[0]), tuple(float(v) for v in info[2])

    def _set_gravity(self, tilt_rad: tuple[float, float], scale: float) -> None:
        self._world_gravity = (tilt_rad, scale)
        g = GRAVITY_M_S2 * scale if self._gravity_on else 0.0
        tx, ty = tilt_rad  # floor rolled about world x, pitched about world y
        gravity = (g * np.sin(ty), -g * np.sin(tx) * np.cos(ty), -g * np.cos(tx) * np.cos(ty))
        pb.setGravity(*(float(v) for v in gravity), physicsClientId=self.client)

    # ---------------------------------------------------------------- Plant protocol
    @property
    def robot_ids(self) -> Sequence[int]:
        return range(len(self._robots))

    @property
    def n_robots(self) -> int:
        return len(self._robots)

    @property
    def body_ids(self) -> list[int]:
        return [r.body_id for r in self._robots]

    def reset(self, seed: int | None = None, start_poses_world: np.ndarray | None = None) -> None:
        """Every robot back to its start pose (or ``start_poses_world``), at rest, commands zero.

        The plant itself is deterministic, so ``seed`` is accepted for the protocol and unused.
        """
        del seed
        if start_poses_world is not None:
            poses = np.asarray(start_poses_world, dtype=float)
            if poses.shape != self._start_poses.shape:
                raise ValueError(
                    f"start_poses_world: expected shape {self._start_poses.shape}, got {poses.shape}"
                )
            self._start_poses = poses.copy()
        z = self.geometry.wheel_radius_m if self.body == "wheeled" else DISC_RADIUS_M
        for robot, pose in zip(self._robots, self._start_poses, strict=True):
            orn = pb.getQuaternionFromEuler((0.0, 0.0, float(pose[2])))
            com = self._com_from_frame(robot, np.array([pose[0], pose[1], z]), float(pose[2]))
            pb.resetBasePositionAndOrientation(robot.body_id, com.tolist(), orn, physicsClientId=self.client)
            pb.resetBaseVelocity(robot.body_id, (0, 0, 0), (0, 0, 0), physicsClientId=self.client)
            for j in robot.wheel_joints:
                pb.resetJointState(robot.body_id, j, 0.0, 0.0, physicsClientId=self.client)
        self._setpoint_rad_s[:] = 0.0
        for line in self._latency_lines:
            line.clear()
        self._disc_wheel_angle[:] = 0.0
        self._wheel_speed_rad_s[:] = 0.0
        self.time_s = 0.0
        self._send_wheel_commands(np.zeros((self.n_robots, 2)))
        self._refresh_state(dt_s=None)

    def apply(self, robot_id: int, wheel_speed_rad_s: Sequence[float]) -> None:
        cmd = np.asarray(wheel_speed_rad_s, dtype=float)
        if cmd.shape != (2,) or not np.all(np.isfinite(cmd)):
            raise ValueError(
                f"wheel_speed_rad_s: expected two finite numbers (left, right), got {wheel_speed_rad_s!r}"
            )
        self._check_id(robot_id)
        self._setpoint_rad_s[robot_id] = cmd

    def apply_all(self, wheel_speed_rad_s: np.ndarray) -> None:
        """(N, 2) wheel speed setpoints [rad/s] for every robot at once."""
        cmd = np.asarray(wheel_speed_rad_s, dtype=float)
        if cmd.shape != (self.n_robots, 2):
            raise ValueError(f"wheel_speed_rad_s: expected shape ({self.n_robots}, 2), got {cmd.shape}")
        self._setpoint_rad_s[:] = cmd

    def step(self, dt_s: float) -> None:
        substeps = self.substeps_for(dt_s)
        commands = self._delayed_commands()
        self._send_wheel_commands(commands)
        wind = self._wind_forces()
        for _ in range(substeps):
            for body_id, force in wind:
                pb.applyExternalForce(
                    body_id, -1, force, (0, 0, 0), pb.LINK_FRAME, physicsClientId=self.client
                )
            pb.stepSimulation(physicsClientId=self.client)
        self.time_s += substeps * self.physics_dt_s
        self._refresh_state(dt_s=substeps * self.physics_dt_s)

    def read(self, robot_id: int) -> RobotReading:
        self._check_id(robot_id)
        robot = self._robots[robot_id]
        if self.body == "wheeled":
            states = pb.getJointStates(robot.body_id, robot.wheel_joints, physicsClientId=self.client)
            angle = np.array([s[0] for s in states])
            speed = np.array([s[1] for s in states])
        else:
            angle = self._disc_wheel_angle[robot_id].copy()
            v, w = self.body_velocities()
            left, right = unicycle_to_wheels(v[robot_id], w[robot_id], self.geometry)
            speed = np.array([float(left), float(right)])
        yaw = self._pose[robot_id, 2]
        c, s = np.cos(yaw), np.sin(yaw)
        ax, ay = self._accel_world[robot_id]
        accel_body = np.array([c * ax + s * ay, -s * ax + c * ay])
        return RobotReading(
            time_s=self.time_s,
            wheel_angle_rad=angle,
            wheel_speed_rad_s=speed,
            yaw_rate_rad_s=float(self._yaw_rate[robot_id]),
            accel_body_m_s2=accel_body,
            pose_world=self._pose[robot_id].copy(),
        )

    # ---------------------------------------------------------------- vectorised views
    def substeps_for(self, dt_s: float) -> int:
        substeps = round(dt_s * self.physics_hz)
        if substeps < 1 or abs(substeps * self.physics_dt_s - dt_s) > 1e-9:
            raise ValueError(
                f"dt_s: {dt_s} s is not a positive whole number of {self.physics_dt_s:.6g} s physics steps"
            )
        return substeps

    def poses_world(self) -> np.ndarray:
        """(N, 3): x [m], y [m], yaw [rad] of each robot's axle midpoint, world frame, as of the last step."""
        return self._pose.copy()

    def body_velocities(self) -> tuple[np.ndarray, np.ndarray]:
        """Forward speed [m/s, body x] and yaw rate [rad/s] of every robot, as of the last step.

        Disc bodies: the mean over the last step (from the pose change); wheeled: instantaneous.
        """
        return self._forward_speed.copy(), self._yaw_rate.copy()

    def linear_velocities_world(self) -> np.ndarray:
        """(N, 2) planar velocity [m/s, world frame]."""
        return self._lin_vel_world.copy()

    # ---------------------------------------------------------------- dynamics
    def dynamics(self, robot_id: int) -> DynamicsParams:
        return self._robots[robot_id].dynamics

    def set_dynamics(self, params: DynamicsParams, robot_ids: Sequence[int] | None = None) -> None:
        """Apply ``params`` to the live bodies of ``robot_ids`` (all when None), relative to nominal.

        ``floor_tilt_rad`` and ``gravity_scale`` are properties of the world: the last call sets them.
        """
        if params.mass_scale <= 0 or params.motor_gain < 0 or params.torque_limit_scale < 0:
            raise ValueError("dynamics: mass_scale must be > 0, motor_gain and torque_limit_scale >= 0")
        if params.gravity_scale < 0:
            raise ValueError("dynamics: gravity_scale must be >= 0")
        if params.actuation_latency_steps < 0:
            raise ValueError("dynamics: actuation_latency_steps must be >= 0")
        if params.lateral_friction_scale < 0 or params.rolling_friction_scale < 0:
            raise ValueError("dynamics: friction scales must be >= 0")
        ids = list(self.robot_ids) if robot_ids is None else list(robot_ids)
        for i in ids:
            self._check_id(i)
            robot = self._robots[i]
            for link, (mass, inertia) in robot.link_masses_kg.items():
                # PyBullet recomputes the inertia from the collision shape when only the mass is
                # given; pass the scaled URDF inertia so that nominal stays exactly nominal
                pb.changeDynamics(
                    robot.body_id,
                    link,
                    mass=mass * params.mass_scale,
                    localInertiaDiagonal=[v * params.mass_scale for v in inertia],
                    physicsClientId=self.client,
                )
            for j in robot.wheel_joints:
                pb.changeDynamics(
                    robot.body_id,
                    j,
                    lateralFriction=WHEEL_LATERAL_FRICTION * params.lateral_friction_scale,
                    rollingFriction=WHEEL_ROLLING_FRICTION * params.rolling_friction_scale,
                    physicsClientId=self.client,
                )
            self._robots[i] = replace(robot, dynamics=params)
            self._motor_gain[i] = params.motor_gain
        # flags keep the per-step hot path free of per-robot Python loops in the nominal case
        self._any_latency = any(r.dynamics.actuation_latency_steps for r in self._robots)
        self._any_wind = any(any(r.dynamics.external_force_n) for r in self._robots)
        if (params.floor_tilt_rad, params.gravity_scale) != self._world_gravity:
            self._set_gravity(params.floor_tilt_rad, params.gravity_scale)

    def restore_nominal(self) -> None:
        self.set_dynamics(NOMINAL_DYNAMICS)

    # ---------------------------------------------------------------- internals
    def _check_id(self, robot_id: int) -> None:
        if not 0 <= robot_id < self.n_robots:
            raise IndexError(f"robot_id: {robot_id} is not one of 0..{self.n_robots - 1}")

    def _com_from_frame(self, robot: _RobotState, position: np.ndarray, yaw: float) -> np.ndarray:
        """PyBullet places a base at its centre of mass; convert from the URDF frame."""
        c, s = np.cos(yaw), np.sin(yaw)
        ox, oy, oz = robot.inertial_offset_m
        return position + np.array([c * ox - s * oy, s * ox + c * oy, oz])

    def _delayed_commands(self) -> np.ndarray:
        out = self._setpoint_rad_s.copy()
        if not self._any_latency:
            return out
        for i, robot in enumerate(self._robots):
            latency = robot.dynamics.actuation_latency_steps
            if latency == 0:
                continue
            line = self._latency_lines[i]
            line.append(self._setpoint_rad_s[i].copy())
            # until the line is full, the robot still acts on the command before the first one (zero)
            out[i] = line.popleft() if len(line) > latency else np.zeros(2)
        return out

    def _send_wheel_commands(self, wheel_speed_rad_s: np.ndarray) -> None:
        limit = self.geometry.max_wheel_speed_rad_s
        cmd = np.minimum(np.maximum(wheel_speed_rad_s, -limit), limit) * self._motor_gain[:, None]
        if self.body == "wheeled":
            torque_nm = self._available_torque_nm()
            for i, robot in enumerate(self._robots):
                pb.setJointMotorControlArray(
                    robot.body_id,
                    robot.wheel_joints,
                    pb.VELOCITY_CONTROL,
                    targetVelocities=cmd[i].tolist(),
                    forces=(torque_nm[i] * robot.dynamics.torque_limit_scale).tolist(),
                    physicsClientId=self.client,
                )
            return
        v, w = wheels_to_unicycle(cmd[:, 0], cmd[:, 1], self.geometry)
        yaw = self._pose[:, 2]
        commanded = (np.abs(v) > 1e-9) | (np.abs(w) > 1e-9)
        # measured motion, so a robot bumped while parked is stopped again
        moving = (np.abs(self._lin_vel_world).sum(axis=1) > 1e-6) | (np.abs(self._yaw_rate) > 1e-6)
        # a robot told to stand still that already stands still is left asleep
        update = np.flatnonzero(commanded | moving)
        vx = (v * np.cos(yaw)).tolist()
        vy = (v * np.sin(yaw)).tolist()
        wz = w.tolist()
        bodies = self._body_ids
        for i in update.tolist():
            pb.resetBaseVelocity(
                bodies[i], (vx[i], vy[i], 0.0), (0.0, 0.0, wz[i]), physicsClientId=self.client
            )

    def _available_torque_nm(self) -> np.ndarray:
        """(N, 2) DC-motor torque limit: stall torque at rest, falling linearly to zero at the no-load speed.

        ``max_wheel_speed_rad_s`` is taken as the no-load speed. This is what makes a heavy load
        slow a robot down instead of being pushed at the commanded speed regardless. A floor of
        5 % of stall keeps some braking authority above the no-load speed. Updated once per
        control step from the measured wheel speeds.
        """
        ratio = np.abs(self._wheel_speed_rad_s) / self.geometry.max_wheel_speed_rad_s
        return self.geometry.max_wheel_torque_nm * np.clip(1.0 - ratio, MIN_TORQUE_FRACTION, 1.0)

    def _wind_forces(self) -> list[tuple[int, tuple[float, float, float]]]:
        forces: list[tuple[int, tuple[float, float, float]]] = []
        if not self._any_wind:
            return forces
        for robot in self._robots:
            fx, fy = robot.dynamics.external_force_n
            if fx or fy:
                # LINK_FRAME at the base: rotate the world force into the body frame
                _, orn = pb.getBasePositionAndOrientation(robot.body_id, physicsClientId=self.client)
                yaw = yaw_of_quaternion(orn)
                c, s = np.cos(yaw), np.sin(yaw)
                forces.append((robot.body_id, (c * fx + s * fy, -s * fx + c * fy, 0.0)))
        return forces

    def _refresh_state(self, dt_s: float | None) -> None:
        """Read every base once per control step; conversions are vectorised.

        Disc bodies take their velocity from the pose change over the step (one PyBullet call
        per robot instead of two, which matters at 1000 robots); wheeled bodies read the
        instantaneous base and wheel velocities, as an IMU and encoders would.
        """
        previous_vel = self._lin_vel_world
        previous_pose = self._pose.copy()
        client = self.client
        placements = [pb.getBasePositionAndOrientation(b, physicsClientId=client) for b in self._body_ids]
        com = np.array([p[0] for p in placements])
        qx, qy, qz, qw = np.array([p[1] for p in placements]).T
        yaw = np.arctan2(2.0 * (qw * qz + qx * qy), 1.0 - 2.0 * (qy * qy + qz * qz))
        c, s = np.cos(yaw), np.sin(yaw)
        ox, oy = self._inertial_offsets[:, 0], self._inertial_offsets[:, 1]
        # COM -> axle midpoint (planar part of the inertial offset)
        self._pose = np.empty((self.n_robots, 3))
        self._pose[:, 0] = com[:, 0] - (c * ox - s * oy)
        self._pose[:, 1] = com[:, 1] - (s * ox + c * oy)
        self._pose[:, 2] = yaw
        if self.body == "wheeled":
            velocities = [pb.getBaseVelocity(b, physicsClientId=client) for b in self._body_ids]
            self._lin_vel_world = np.array([v[0][:2] for v in velocities])
            self._yaw_rate = np.array([v[1][2] for v in velocities])
            for i, robot in enumerate(self._robots):
                states = pb.getJointStates(robot.body_id, robot.wheel_joints, physicsClientId=client)
                self._wheel_speed_rad_s[i] = (states[0][1], states[1][1])
        elif dt_s is None:
            self._lin_vel_world = np.zeros((self.n_robots, 2))
            self._yaw_rate = np.zeros(self.n_robots)
        else:
            self._lin_vel_world = (self._pose[:, :2] - previous_pose[:, :2]) / dt_s
            turned = (self._pose[:, 2] - previous_pose[:, 2] + np.pi) % (2 * np.pi) - np.pi
            self._yaw_rate = turned / dt_s
        c, s = np.cos(self._pose[:, 2]), np.sin(self._pose[:, 2])
        self._forward_speed = self._lin_vel_world[:, 0] * c + self._lin_vel_world[:, 1] * s
        if dt_s is None:
            self._accel_world = np.zeros((self.n_robots, 2))
            return
        self._accel_world = (self._lin_vel_world - previous_vel) / dt_s
        if self.body == "disc":
            left, right = unicycle_to_wheels(self._forward_speed, self._yaw_rate, self.geometry)
            self._disc_wheel_angle[:, 0] += left * dt_s
            self._disc_wheel_angle[:, 1] += right * dt_s

    def close(self) -> None:
        # once only: PyBullet reuses client ids, so a second disconnect could hit another world
        if not self._closed:
            self._closed = True
            if pb.isConnected(self.client):
                pb.disconnect(self.client)

    def __del__(self) -> None:  # pragma: no cover - best effort on interpreter exit
        try:
            self.close()
        except Exception:
            pass
