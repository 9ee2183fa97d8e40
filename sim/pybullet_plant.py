"""PyBullet implementation of :class:`robocoord.sim.plant.Plant`: one world, N robots.

Two robot bodies share one interface:

* ``"wheeled"`` — the URDF of :mod:`robocoord.sim.robot`: two velocity-controlled wheel
  motors with a torque limit, a ball caster, gravity and floor friction. Used by the
  plant for the firmware bridge, ``team_push`` and ``safe_nav``.
* ``"disc"`` — one rigid disc per robot of the same mass and footprint whose base
  velocity follows the commanded wheel speeds through the unicycle model. No floor
  contact and no gravity, so the only contacts are robot–robot (and robot–obstacle):
  this is what lets ``warehouse`` crowd 1000 robots in real time. Robots standing
  still are not sent velocities (no PyBullet call). They do not sleep: PyBullet never
  deactivates these bodies unless asked (``ACTIVATION_STATE_ENABLE_SLEEPING``), and letting
  parked robots sleep made the 1000-robot warehouse bench no faster (under random actions
  only 1-5 % of the robots stand still for Bullet's 2 s) and changes contacts between them.

Physics runs at ``physics_hz`` (240 Hz); :meth:`step` advances ``dt_s`` as a whole
number of physics substeps, so a 20 Hz control loop calls ``step(0.05)``.

Besides the per-robot :meth:`apply` / :meth:`read` of the protocol, the plant offers
vectorised :meth:`apply_all`, :meth:`poses_world` and :meth:`body_velocities` for
tasks, and :meth:`set_dynamics` for the dynamics disruptions.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import chain
from typing import Literal

import numpy as np
import pybullet as pb

from robocoord.sim.plant import DiffDriveGeometry, RobotReading, unicycle_to_wheels
from robocoord.sim.robot import WHEEL_JOINTS, urdf_path
from robocoord.sim.tasks.goto import SCALAR_MAX_ROBOTS, GoToGains, go_to_wheels

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


@dataclass
class _Kinematics:
    """Planar velocities and acceleration of every robot as of the last step (world frame unless named)."""

    lin_vel_world: np.ndarray  # (N, 2) [m/s]
    yaw_rate: np.ndarray  # (N,) [rad/s]
    forward_speed: np.ndarray  # (N,) [m/s, body x]
    accel_world: np.ndarray  # (N, 2) [m/s^2]

    @classmethod
    def at_rest(cls, n: int) -> _Kinematics:
        return cls(np.zeros((n, 2)), np.zeros(n), np.zeros(n), np.zeros((n, 2)))


def _wrap(angle_rad: np.ndarray) -> np.ndarray:
    return (angle_rad + np.pi) % (2 * np.pi) - np.pi


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
        self._any_motor_gain = False
        self._any_wind = False
        self._setpoint_rad_s = np.zeros((n, 2))
        # setpoints of the last go_to_step as (left, right) rows, copied into _setpoint_rad_s only when
        # something reads it (:meth:`_setpoints`)
        self._pending_setpoint_rows: list[tuple[float, float]] | None = None
        self._latency_lines: list[deque[np.ndarray]] = [deque() for _ in range(n)]
        self._pose_array: np.ndarray | None = None  # self._pose, built from the rows when first needed
        self._has_inertial_offsets = bool(np.any(self._inertial_offsets[:, :2]))
        # velocities and IMU acceleration: computed eagerly for wheeled bodies, on demand for discs
        self._kinematics_now: _Kinematics | None = _Kinematics.at_rest(n)
        self._last_step: tuple[list, float] | None = None  # (pose rows before the last step, its dt)
        self._step_before: tuple[list, float] | None = None  # same, one step earlier
        # the poses as (x, y, yaw) tuples: what the per-robot loops use, and what a disc step keeps
        self._pose_rows: list[tuple[float, float, float]] = [(0.0, 0.0, 0.0)] * n
        self._previous_pose_rows = self._pose_rows  # the rows before the last step
        # a disc "moved" during the last step when its |dx| + |dy| [m] or |d yaw| [rad] exceeds this;
        # None: nobody moved (after reset)
        self._moved_tolerance: float | None = None
        self._substeps: dict[float, int] = {}  # step(dt_s) -> physics substeps, validated once per dt_s
        # when a list, each disc control step appends the resetBaseVelocity calls it made as
        # (body, linear, angular) tuples: the benchmark replays them as its raw PyBullet loop
        self.velocity_command_log: list[list[tuple[int, tuple, tuple]]] | None = None
        self._wheel_speed_rad_s = np.zeros((n, 2))
        self._disc_wheel_angle = np.zeros((n, 2))
        # disc encoder angles are integrated lazily: poses (and dts) since the last integration
        self._wheel_angle_poses: list[list[tuple[float, float, float]]] = []
        self._wheel_angle_dts: list[float] = []
        # integrate after this many steps even when nobody reads the encoders: a bounded backlog
        # (~24k pose rows); turning the rows into an array costs per row, the rest per call
        self._wheel_angle_backlog = max(240, 24_000 // n)
        self._unit_gains = [1.0] * n
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
        # Maximal coordinates: a one-link body is a plain btRigidBody, the same dynamics without the
        # Featherstone multibody pipeline per body and step (~15 % of a 1000-robot step)
        body_id = pb.createMultiBody(
            mass,
            shape,
            visual,
            basePosition=(float(pose[0]), float(pose[1]), DISC_RADIUS_M),
            baseOrientation=orn,
            useMaximalCoordinates=True,
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
        self._pending_setpoint_rows = None
        self._setpoint_rad_s[:] = 0.0
        for line in self._latency_lines:
            line.clear()
        self._disc_wheel_angle[:] = 0.0
        self._wheel_angle_poses.clear()
        self._wheel_angle_dts.clear()
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
        self._setpoints()[robot_id] = cmd

    def apply_all(self, wheel_speed_rad_s: np.ndarray) -> None:
        """(N, 2) wheel speed setpoints [rad/s] for every robot at once."""
        cmd = np.asarray(wheel_speed_rad_s, dtype=float)
        if cmd.shape != (self.n_robots, 2):
            raise ValueError(f"wheel_speed_rad_s: expected shape ({self.n_robots}, 2), got {cmd.shape}")
        self._pending_setpoint_rows = None
        self._setpoint_rad_s[:] = cmd

    def step(self, dt_s: float) -> None:
        substeps = self._substeps.get(dt_s) or self._substeps.setdefault(dt_s, self.substeps_for(dt_s))
        self._send_wheel_commands(self._delayed_commands())
        self._advance(substeps)

    def go_to_step(
        self,
        targets_world: np.ndarray,
        gains: GoToGains,
        dt_s: float,
        target_rows: list | None = None,
        steps: int = 1,
    ) -> None:
        """``steps`` control periods of the go-to controller of :mod:`robocoord.sim.tasks.goto`, each followed by physics.

        Each period is the same as ``apply_all(go_to_wheels(pose_rows(), targets_world, geometry,
        gains))`` followed by ``step(dt_s)``, bit for bit. Disc bodies of a small swarm (at most
        ``SCALAR_MAX_ROBOTS``) without actuation latency take a fused path: the go-to law runs robot
        by robot inside the loop that sends the base velocities, with no wheel-speed arrays in
        between (at 10 robots those array round trips cost about as much as the law). ``target_rows``
        is ``targets_world.tolist()`` when the caller keeps it (the targets change once per decision).
        """
        substeps = self._substeps.get(dt_s) or self._substeps.setdefault(dt_s, self.substeps_for(dt_s))
        if self.body != "disc" or self._any_latency or len(self._body_ids) > SCALAR_MAX_ROBOTS:
            for _ in range(steps):
                self.apply_all(go_to_wheels(self._pose_rows, targets_world, self.geometry, gains))
                self.step(dt_s)
            return
        rows = targets_world.tolist() if target_rows is None else target_rows
        for _ in range(steps):
            self._send_disc_go_to(rows, gains)
            self._advance(substeps)

    def _advance(self, substeps: int) -> None:
        """``substeps`` physics steps (with the wind forces, if any), then the state refresh."""
        client, step_simulation = self.client, pb.stepSimulation
        if self._any_wind:
            wind = self._wind_forces()
            for _ in range(substeps):
                for body_id, force in wind:
                    pb.applyExternalForce(
                        body_id, -1, force, (0, 0, 0), pb.LINK_FRAME, physicsClientId=client
                    )
                step_simulation(physicsClientId=client)
        else:
            for _ in range(substeps):
                step_simulation(physicsClientId=client)
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
            angle = self._wheel_angles()[robot_id].copy()
            v, w = self.body_velocities()
            left, right = unicycle_to_wheels(v[robot_id], w[robot_id], self.geometry)
            speed = np.array([float(left), float(right)])
        kinematics = self._kinematics()
        yaw = self._pose[robot_id, 2]
        c, s = np.cos(yaw), np.sin(yaw)
        ax, ay = kinematics.accel_world[robot_id]
        accel_body = np.array([c * ax + s * ay, -s * ax + c * ay])
        return RobotReading(
            time_s=self.time_s,
            wheel_angle_rad=angle,
            wheel_speed_rad_s=speed,
            yaw_rate_rad_s=float(kinematics.yaw_rate[robot_id]),
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

    @property
    def _pose(self) -> np.ndarray:
        """(N, 3) poses as of the last step (shared: do not modify)."""
        if self._pose_array is None:
            self._pose_array = np.array(self._pose_rows, dtype=float).reshape(-1, 3)
        return self._pose_array

    def pose_rows(self) -> list[tuple[float, float, float]]:
        """:meth:`poses_world` as a list of (x, y, yaw) tuples: no array is built (cheap for small swarms)."""
        return list(self._pose_rows)

    def poses_world(self) -> np.ndarray:
        """(N, 3): x [m], y [m], yaw [rad] of each robot's axle midpoint, world frame, as of the last step."""
        return self._pose.copy()

    def body_velocities(self) -> tuple[np.ndarray, np.ndarray]:
        """Forward speed [m/s, body x] and yaw rate [rad/s] of every robot, as of the last step.

        Disc bodies: the mean over the last step (from the pose change); wheeled: instantaneous.
        """
        kinematics = self._kinematics()
        return kinematics.forward_speed.copy(), kinematics.yaw_rate.copy()

    def linear_velocities_world(self) -> np.ndarray:
        """(N, 2) planar velocity [m/s, world frame]."""
        return self._kinematics().lin_vel_world.copy()

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
        self._any_motor_gain = bool(np.any(self._motor_gain != 1.0))
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

    def _setpoints(self) -> np.ndarray:
        """The (N, 2) wheel speed setpoints [rad/s] (the array itself: write to it to set them)."""
        if self._pending_setpoint_rows is not None:
            self._setpoint_rad_s[:] = self._pending_setpoint_rows
            self._pending_setpoint_rows = None
        return self._setpoint_rad_s

    def _delayed_commands(self) -> np.ndarray:
        """The (N, 2) setpoints to act on now (read-only: without latency, the setpoint array itself)."""
        setpoints = self._setpoints()
        if not self._any_latency:
            return setpoints
        out = setpoints.copy()
        for i, robot in enumerate(self._robots):
            latency = robot.dynamics.actuation_latency_steps
            if latency == 0:
                continue
            line = self._latency_lines[i]
            line.append(setpoints[i].copy())
            # until the line is full, the robot still acts on the command before the first one (zero)
            out[i] = line.popleft() if len(line) > latency else np.zeros(2)
        return out

    def _send_wheel_commands(self, wheel_speed_rad_s: np.ndarray) -> None:
        if self.body == "disc":
            self._send_disc_velocities(wheel_speed_rad_s)
            return
        limit = self.geometry.max_wheel_speed_rad_s
        cmd = np.minimum(np.maximum(wheel_speed_rad_s, -limit), limit) * self._motor_gain[:, None]
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

    def _send_disc_velocities(self, wheel_speed_rad_s: np.ndarray) -> None:
        """Wheel setpoints -> (clipped to the motor limit, times the motor gain) -> unicycle -> base velocity.

        A robot is sent a velocity when commanded to move or when it did move (a parked robot
        that got bumped is stopped again); one told to stand still that stands still is left
        alone (no call). The per-robot PyBullet calls need a Python loop
        anyway, and at the warehouse's small sizes (10 robots) a whole-array numpy op costs about
        as much as a robot's arithmetic in that loop, so the arithmetic is done there (at 1000
        robots it is a few per cent of a control step, which physics dominates).
        """
        limit, r, track = (
            self.geometry.max_wheel_speed_rad_s,
            self.geometry.wheel_radius_m,
            self.geometry.track_width_m,
        )
        half_r = 0.5 * r
        client, reset_velocity, cos, sin = self.client, pb.resetBaseVelocity, math.cos, math.sin
        log = self.velocity_command_log
        sent = [] if log is not None else None
        gains = self._motor_gain.tolist() if self._any_motor_gain else self._unit_gains
        # "moved" is the same test as |v_x| + |v_y| > 1e-6 m/s or |yaw rate| > 1e-6 rad/s over the
        # last step; evaluated only for robots commanded to stand still
        tol = self._moved_tolerance
        for body, (left, right), gain, (x, y, yaw), (px, py, pyaw) in zip(
            self._body_ids,
            wheel_speed_rad_s.tolist(),
            gains,
            self._pose_rows,
            self._previous_pose_rows,
            strict=True,
        ):
            left = (-limit if left < -limit else limit if left > limit else left) * gain
            right = (-limit if right < -limit else limit if right > limit else right) * gain
            v = half_r * (right + left)  # as wheels_to_unicycle
            w = r * (right - left) / track
            if (
                abs(v) > 1e-9
                or abs(w) > 1e-9
                or (tol is not None and (abs(x - px) + abs(y - py) > tol or abs(yaw - pyaw) > tol))
            ):
                linear, angular = (v * cos(yaw), v * sin(yaw), 0.0), (0.0, 0.0, w)
                reset_velocity(body, linear, angular, physicsClientId=client)
                if sent is not None:
                    sent.append((body, linear, angular))
        if log is not None:
            log.append(sent)

    def _send_disc_go_to(self, target_rows: list, gains: GoToGains) -> None:
        """The go-to law (``_go_to_wheels_loop`` of :mod:`robocoord.sim.tasks.goto`) fused with
        :meth:`_send_disc_velocities`: the same arithmetic in the same order, one loop, no arrays.

        The wheel setpoints are kept as rows (:meth:`_setpoints` copies them into the array when
        asked). A robot within the arrival tolerance is commanded (0, 0): it is sent a velocity
        only when it moved during the last step, otherwise it is left alone.
        """
        geometry = self.geometry
        limit, radius, track = geometry.max_wheel_speed_rad_s, geometry.wheel_radius_m, geometry.track_width_m
        half_track, half_r = 0.5 * track, 0.5 * radius
        w_max, k_heading = gains.max_yaw_rate_rad_s, gains.heading_gain_per_s
        cruise, slow_radius, tolerance = (
            gains.cruise_speed_m_s,
            gains.slow_down_radius_m,
            gains.arrive_tolerance_m,
        )
        client, reset_velocity = self.client, pb.resetBaseVelocity
        atan2, cos, sin, hypot, pi, two_pi = math.atan2, math.cos, math.sin, math.hypot, math.pi, 2 * math.pi
        log = self.velocity_command_log
        sent: list[tuple[int, tuple, tuple]] | None = [] if log is not None else None
        gain_list = self._motor_gain.tolist() if self._any_motor_gain else self._unit_gains
        tol = self._moved_tolerance  # as in _send_disc_velocities
        setpoints: list[tuple[float, float]] = []
        for body, gain, (x, y, yaw), (px, py, pyaw), (target_x, target_y) in zip(
            self._body_ids, gain_list, self._pose_rows, self._previous_pose_rows, target_rows, strict=True
        ):
            dx, dy = target_x - x, target_y - y
            distance_m = hypot(dx, dy)
            if distance_m < tolerance:  # arrived: wheels (0, 0), so v = w = 0 after clip and gain
                setpoints.append((0.0, 0.0))
                if tol is None or not (abs(x - px) + abs(y - py) > tol or abs(yaw - pyaw) > tol):
                    continue
                v = w = 0.0
            else:
                heading_error = (atan2(dy, dx) - yaw + pi) % two_pi - pi
                omega = k_heading * heading_error
                omega = w_max if omega > w_max else -w_max if omega < -w_max else omega
                alignment = cos(heading_error)
                alignment = alignment if alignment > 0.0 else 0.0
                approach = distance_m / slow_radius
                v = cruise * (approach if approach < 1.0 else 1.0) * alignment * alignment
                left, right = (v - omega * half_track) / radius, (v + omega * half_track) / radius
                # comparisons rather than abs() calls: max(|left|, |right|) > limit, and below |v| > 1e-9 ...
                if left > limit or left < -limit or right > limit or right < -limit:
                    # scaled down together; only here can the plant's clip to the limit act
                    peak = abs(left) if abs(left) > abs(right) else abs(right)
                    left, right = left * (limit / peak), right * (limit / peak)
                    setpoints.append((left, right))
                    left = -limit if left < -limit else limit if left > limit else left
                    right = -limit if right < -limit else limit if right > limit else right
                else:
                    setpoints.append((left, right))
                left, right = left * gain, right * gain
                v = half_r * (right + left)  # as wheels_to_unicycle
                w = radius * (right - left) / track
                if not (
                    v > 1e-9
                    or v < -1e-9
                    or w > 1e-9
                    or w < -1e-9
                    or (tol is not None and (abs(x - px) + abs(y - py) > tol or abs(yaw - pyaw) > tol))
                ):
                    continue
            linear, angular = (v * cos(yaw), v * sin(yaw), 0.0), (0.0, 0.0, w)
            reset_velocity(body, linear, angular, physicsClientId=client)
            if sent is not None:
                sent.append((body, linear, angular))
        self._pending_setpoint_rows = setpoints
        if log is not None:
            log.append(sent)

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

    def _read_poses(self) -> None:
        """(N, 3) axle-midpoint poses from one getBasePositionAndOrientation per robot (also kept as rows).

        Yaw is computed in the loop that makes the PyBullet calls: cheaper than whole-array numpy
        ops for small swarms.
        """
        client, get_base, atan2 = self.client, pb.getBasePositionAndOrientation, math.atan2
        rows: list[tuple[float, float, float]] = []
        for body in self._body_ids:
            (x, y, _), (qx, qy, qz, qw) = get_base(body, physicsClientId=client)
            rows.append((x, y, atan2(2.0 * (qw * qz + qx * qy), 1.0 - 2.0 * (qy * qy + qz * qz))))
        pose = None
        if self._has_inertial_offsets:  # COM -> axle midpoint (planar part of the inertial offset)
            pose = np.array(rows)
            c, s = np.cos(pose[:, 2]), np.sin(pose[:, 2])
            ox, oy = self._inertial_offsets[:, 0], self._inertial_offsets[:, 1]
            pose[:, 0] -= c * ox - s * oy
            pose[:, 1] -= s * ox + c * oy
            rows = [tuple(r) for r in pose.tolist()]
        self._previous_pose_rows, self._pose_rows, self._pose_array = self._pose_rows, rows, pose

    def _refresh_state(self, dt_s: float | None) -> None:
        """Read every base once per control step.

        Wheeled bodies read the instantaneous base and wheel velocities, as an IMU and encoders
        would. Disc bodies take their velocity from the pose change over the step (one PyBullet
        call per robot instead of two, which matters at 1000 robots); only what the next command
        needs (the pose, and which robots moved) is computed here, velocities, acceleration and
        encoder angles when asked for (:meth:`_kinematics`, :meth:`_wheel_angles`), because at
        10 robots the warehouse's control step is dominated by such small-array numpy work.
        """
        self._read_poses()
        self._moved_tolerance = None if dt_s is None else 1e-6 * dt_s
        if self.body == "wheeled":
            self._refresh_wheeled(dt_s)
            return
        self._kinematics_now = None
        if dt_s is None:
            self._last_step = self._step_before = None
            self._wheel_angle_poses[:] = [self._pose_rows]
            self._wheel_angle_dts.clear()
            return
        self._step_before, self._last_step = self._last_step, (self._previous_pose_rows, dt_s)
        self._wheel_angle_poses.append(self._pose_rows)
        self._wheel_angle_dts.append(dt_s)
        if len(self._wheel_angle_dts) >= self._wheel_angle_backlog:  # nobody read the encoders
            self._wheel_angles()

    def _refresh_wheeled(self, dt_s: float | None) -> None:
        client = self.client
        previous_vel = self._kinematics().lin_vel_world
        velocities = [pb.getBaseVelocity(b, physicsClientId=client) for b in self._body_ids]
        lin_vel = np.array([v[0][:2] for v in velocities])
        yaw_rate = np.array([v[1][2] for v in velocities])
        for i, robot in enumerate(self._robots):
            states = pb.getJointStates(robot.body_id, robot.wheel_joints, physicsClientId=client)
            self._wheel_speed_rad_s[i] = (states[0][1], states[1][1])
        c, s = np.cos(self._pose[:, 2]), np.sin(self._pose[:, 2])
        forward = lin_vel[:, 0] * c + lin_vel[:, 1] * s
        accel = np.zeros((self.n_robots, 2)) if dt_s is None else (lin_vel - previous_vel) / dt_s
        self._kinematics_now = _Kinematics(lin_vel, yaw_rate, forward, accel)

    def _kinematics(self) -> _Kinematics:
        """Velocities and acceleration as of the last step; for discs derived from the last poses."""
        if self._kinematics_now is not None:
            return self._kinematics_now
        n = self.n_robots
        if self._last_step is None:
            self._kinematics_now = _Kinematics.at_rest(n)
            return self._kinematics_now
        previous_rows, dt_s = self._last_step
        previous_pose = np.array(previous_rows, dtype=float).reshape(-1, 3)
        lin_vel = (self._pose[:, :2] - previous_pose[:, :2]) / dt_s
        yaw_rate = _wrap(self._pose[:, 2] - previous_pose[:, 2]) / dt_s
        c, s = np.cos(self._pose[:, 2]), np.sin(self._pose[:, 2])
        forward = lin_vel[:, 0] * c + lin_vel[:, 1] * s
        if self._step_before is None:
            previous_vel = np.zeros((n, 2))
        else:
            earlier_rows, earlier_dt_s = self._step_before
            earlier_pose = np.array(earlier_rows, dtype=float).reshape(-1, 3)
            previous_vel = (previous_pose[:, :2] - earlier_pose[:, :2]) / earlier_dt_s
        accel = (lin_vel - previous_vel) / dt_s
        self._kinematics_now = _Kinematics(lin_vel, yaw_rate, forward, accel)
        return self._kinematics_now

    def _wheel_angles(self) -> np.ndarray:
        """(N, 2) disc encoder angles: the unicycle wheel speeds of each step, integrated over the steps."""
        poses, dts = self._wheel_angle_poses, self._wheel_angle_dts
        if dts:
            flat = chain.from_iterable(chain.from_iterable(poses))  # fromiter: half np.array's cost
            stacked = np.fromiter(flat, float, 3 * self.n_robots * len(poses)).reshape(len(poses), -1, 3)
            dt = np.array(dts)[:, None]  # (K, 1)
            lin_vel = (stacked[1:, :, :2] - stacked[:-1, :, :2]) / dt[:, :, None]
            yaw_rate = _wrap(stacked[1:, :, 2] - stacked[:-1, :, 2]) / dt
            yaw = stacked[1:, :, 2]
            forward = lin_vel[..., 0] * np.cos(yaw) + lin_vel[..., 1] * np.sin(yaw)
            left, right = unicycle_to_wheels(forward, yaw_rate, self.geometry)
            # cumsum adds step by step, as the encoders count (a plain sum would pair terms up)
            increments = np.stack([left * dt, right * dt], axis=-1)  # (K, N, 2)
            self._disc_wheel_angle = np.cumsum(
                np.concatenate([self._disc_wheel_angle[None], increments]), axis=0
            )[-1]
            poses[:] = [poses[-1]]
            dts.clear()
        return self._disc_wheel_angle

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
