"""``team_push``: 2-4 wheeled robots push a box to a goal (the DrIGM team task).

World frame [m]: the box starts at the origin, the goal lies ``goal_distance_m``
along +x; the robots start side by side behind the box, facing it. Each robot picks
a motion primitive every ``decision_period_s``:

    0 stop, 1 forward, 2 turn left (arc), 3 turn right (arc)

Team reward per decision: 10 x (decrease of the box-to-goal distance [m]) - 0.01,
plus 10 when the box reaches the goal (termination). Every robot gets the same reward.

Optional near bay (``near_bay_m``, the deadline variant): a second delivery point on the way, at
``near_bay_m`` along +x. The team delivers there by letting go of the box inside it (the box moved less
than ``bay_settle_m`` in the last decision); that ends the episode with ``near_bay_bonus``. With a tight
``max_decisions`` this is a real choice: the far goal pays more, the near bay is safe when a shift makes
the robots slower than the delivery window allows. A near-bay delivery is paid as if the box rested at the
bay centre: the episode's return is then 10 x near_bay_m + near_bay_bonus - 0.01 per decision.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pybullet as pb
from gymnasium import spaces
from pettingzoo import ParallelEnv

from robocoord.sim.config import TeamPushParams
from robocoord.sim.plant import DiffDriveGeometry, unicycle_to_wheels
from robocoord.sim.pybullet_plant import DynamicsParams, PyBulletPlant, yaw_of_quaternion

# (v [m/s], omega [rad/s]) of each primitive
PRIMITIVES_UNICYCLE = np.array([[0.0, 0.0], [0.45, 0.0], [0.1, 1.2], [0.1, -1.2]])
PRIMITIVE_NAMES = ("stop", "forward", "left", "right")
PROGRESS_REWARD_PER_M = 10.0
STEP_PENALTY = 0.01
SUCCESS_BONUS = 10.0
ROBOT_SETBACK_M = 0.3  # start gap between a robot's axle and the box's rear face
ROBOT_MIN_SPACING_M = 0.34
OBS_DIM = 8
ARENA_HALF_WIDTH_M = 5.0
START_JITTER_Y_M = 0.03  # episode starts: uniform across the box face
START_JITTER_YAW_RAD = 0.1


class TeamPushParallelEnv(ParallelEnv):
    """PettingZoo ParallelEnv; agents ``robot_0`` ..; Discrete(4) primitives; shared team reward.

    Observation per robot (world-frame offsets [m]): robot - box (2), cos/sin robot yaw (2),
    goal - box (2), robot forward speed [m/s] (1), box yaw [rad] (1).
    :meth:`state` (centralised training): box x, y, cos, sin yaw; goal x, y; then per robot
    x, y, cos, sin yaw.
    """

    metadata = {"name": "robocoord_team_push_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, params: TeamPushParams | None = None, gui: bool = False, **overrides: Any) -> None:
        self.params = TeamPushParams(**overrides) if params is None else params
        self.geometry = DiffDriveGeometry()
        n = self.params.n_robots
        self.possible_agents = [f"robot_{i}" for i in range(n)]
        self.agents: list[str] = []
        self.render_mode = None
        bound = np.full(OBS_DIM, 2 * ARENA_HALF_WIDTH_M, dtype=np.float32)
        bound[7] = np.pi
        self._observation_space = spaces.Box(-bound, bound, dtype=np.float32)
        self._action_space = spaces.Discrete(len(PRIMITIVES_UNICYCLE))
        self.plant = PyBulletPlant(
            self._nominal_starts(), body="wheeled", physics_hz=self.params.physics_hz, gui=gui
        )
        self.box_id = build_box(self.plant.client, self.params)
        self.set_box(self.params.box_mass_kg, self.params.box_friction)
        self.goal_world_m = np.array([self.params.goal_distance_m, 0.0])
        self.control_dt_s = 1.0 / self.params.control_hz
        self.control_steps_per_decision = round(self.params.decision_period_s * self.params.control_hz)
        self.decisions = 0
        self._box_distance_m = 0.0
        self._box_xy_m = np.zeros(2)  # box position [m; world] at the previous decision (near-bay rest test)

    def _nominal_starts(self) -> np.ndarray:
        return nominal_starts(self.params)

    # ---------------------------------------------------------------- box parameters
    def set_box(self, mass_kg: float, friction: float) -> None:
        """Change the live box: mass [kg] and lateral friction coefficient against the floor."""
        if mass_kg <= 0 or friction < 0:
            raise ValueError("box: mass_kg must be > 0 and friction >= 0")
        pb.changeDynamics(
            self.box_id, -1, mass=mass_kg, lateralFriction=friction, physicsClientId=self.plant.client
        )
        self.box_mass_kg = mass_kg
        self.box_friction = friction

    def set_dynamics(self, params: DynamicsParams, robot_ids: list[int] | None = None) -> None:
        self.plant.set_dynamics(params, robot_ids)

    # ---------------------------------------------------------------- spaces
    def observation_space(self, agent: str) -> spaces.Box:
        return self._observation_space

    def action_space(self, agent: str) -> spaces.Discrete:
        return self._action_space

    # ---------------------------------------------------------------- views
    def box_pose_world(self) -> np.ndarray:
        return box_pose_world(self.plant.client, self.box_id)

    def box_to_goal_m(self) -> float:
        return float(np.hypot(*(self.goal_world_m - self.box_pose_world()[:2])))

    def observation_array(self) -> np.ndarray:
        box = self.box_pose_world()
        poses = self.plant.poses_world()
        speed, _ = self.plant.body_velocities()
        obs = np.zeros((self.params.n_robots, OBS_DIM), dtype=np.float32)
        obs[:, 0:2] = poses[:, :2] - box[:2]
        obs[:, 2] = np.cos(poses[:, 2])
        obs[:, 3] = np.sin(poses[:, 2])
        obs[:, 4:6] = self.goal_world_m - box[:2]
        obs[:, 6] = speed
        obs[:, 7] = box[2]
        bound = self.observation_space(self.possible_agents[0]).high
        return np.clip(obs, -bound, bound)

    def state(self) -> np.ndarray:
        box = self.box_pose_world()
        poses = self.plant.poses_world()
        robots = np.stack([poses[:, 0], poses[:, 1], np.cos(poses[:, 2]), np.sin(poses[:, 2])], axis=1)
        head = [box[0], box[1], np.cos(box[2]), np.sin(box[2]), *self.goal_world_m]
        return np.concatenate([head, robots.reshape(-1)]).astype(np.float32)

    # ---------------------------------------------------------------- episode
    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        starts = episode_starts(self.params, seed)
        half = self.params.box_size_m / 2
        pb.resetBasePositionAndOrientation(
            self.box_id, (0, 0, half), (0, 0, 0, 1), physicsClientId=self.plant.client
        )
        pb.resetBaseVelocity(self.box_id, (0, 0, 0), (0, 0, 0), physicsClientId=self.plant.client)
        self.plant.reset(start_poses_world=starts)
        self.agents = list(self.possible_agents)
        self.decisions = 0
        self._box_distance_m = self.box_to_goal_m()
        self._box_xy_m = self.box_pose_world()[:2]
        obs = self.observation_array()
        return {a: obs[i] for i, a in enumerate(self.agents)}, {a: {} for a in self.agents}

    def primitive_wheels(self, primitives: np.ndarray) -> np.ndarray:
        v, omega = PRIMITIVES_UNICYCLE[primitives].T
        left, right = unicycle_to_wheels(v, omega, self.geometry)
        return np.stack([left, right], axis=1)

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            raise RuntimeError("step() called after the episode ended; call reset()")
        missing = set(self.agents) - set(actions)
        if missing:
            raise ValueError(f"actions: missing for {sorted(missing)}")
        primitives = np.array([int(actions[a]) for a in self.possible_agents])
        if primitives.min() < 0 or primitives.max() >= len(PRIMITIVES_UNICYCLE):
            raise ValueError(
                f"actions: primitives must be 0..{len(PRIMITIVES_UNICYCLE) - 1} {PRIMITIVE_NAMES}"
            )
        self.plant.apply_all(self.primitive_wheels(primitives))
        for _ in range(self.control_steps_per_decision):
            self.plant.step(self.control_dt_s)
        self.decisions += 1
        box_xy = self.box_pose_world()[:2]
        distance = float(np.hypot(*(self.goal_world_m - box_xy)))
        delivered_to = delivery(self.params, box_xy, self._box_xy_m)
        reached = delivered_to is not None
        team_reward = PROGRESS_REWARD_PER_M * (self._box_distance_m - distance) - STEP_PENALTY
        team_reward += SUCCESS_BONUS if delivered_to == "goal" else 0.0
        if delivered_to == "near_bay":
            # paid as if the box rested at the bay centre, so the total does not depend on where in the bay
            # the team let go: near_bay_bonus + progress reward up to the centre (negative past it)
            bay_to_goal_m = self.params.goal_distance_m - (self.params.near_bay_m or 0.0)
            team_reward += self.params.near_bay_bonus + PROGRESS_REWARD_PER_M * (distance - bay_to_goal_m)
        self._box_distance_m, self._box_xy_m = distance, box_xy
        truncated = self.decisions >= self.params.max_decisions and not reached
        obs = self.observation_array()
        agents = self.agents
        info = {"box_to_goal_m": distance, "team_reward": team_reward, "delivered_to": delivered_to}
        result = (
            {a: obs[i] for i, a in enumerate(agents)},
            {a: float(team_reward) for a in agents},
            {a: bool(reached) for a in agents},
            {a: bool(truncated) for a in agents},
            {a: dict(info) for a in agents},
        )
        if reached or truncated:
            self.agents = []
        return result

    def close(self) -> None:
        self.plant.close()


def delivery(params: TeamPushParams, box_xy_m: np.ndarray, previous_box_xy_m: np.ndarray) -> str | None:
    """Where the box was delivered this decision: ``"goal"``, ``"near_bay"`` or None (world frame [m]).

    The goal takes the box as soon as it is within the tolerance; the near bay only once the box rests
    there (it moved less than ``bay_settle_m`` since the previous decision). The robot side
    (``robocoord.controllers.team_push``) ends its episodes by the same rule.
    """
    bx, by = float(box_xy_m[0]), float(box_xy_m[1])
    if math.hypot(params.goal_distance_m - bx, by) < params.goal_tolerance_m:
        return "goal"
    if params.near_bay_m is None or math.hypot(params.near_bay_m - bx, by) >= params.goal_tolerance_m:
        return None
    moved_m = math.hypot(bx - float(previous_box_xy_m[0]), by - float(previous_box_xy_m[1]))
    return "near_bay" if moved_m < params.bay_settle_m else None


def nominal_starts(params: TeamPushParams) -> np.ndarray:
    """Start poses (x, y, yaw) [m, rad, world] of the robots: side by side behind the box, facing +x."""
    n = params.n_robots
    x = -params.box_size_m / 2 - ROBOT_SETBACK_M
    # spread across the box face, at least a robot's collision width (0.27 m) plus margin apart
    spacing = max(params.box_size_m / n, ROBOT_MIN_SPACING_M)
    y = (np.arange(n) - (n - 1) / 2) * spacing
    return np.stack([np.full(n, x), y, np.zeros(n)], axis=1)


def episode_starts(params: TeamPushParams, seed: int | None) -> np.ndarray:
    """The start poses of the episode reset with ``seed``: nominal, jittered by ±3 cm across, ±0.1 rad."""
    rng = np.random.default_rng(seed)
    starts = nominal_starts(params)
    starts[:, 1] += rng.uniform(-START_JITTER_Y_M, START_JITTER_Y_M, len(starts))
    starts[:, 2] += rng.uniform(-START_JITTER_YAW_RAD, START_JITTER_YAW_RAD, len(starts))
    return starts


def build_box(client: int, params: TeamPushParams) -> int:
    """The task's box in PyBullet world ``client``: at the origin, nominal mass and floor friction; its body id."""
    half = params.box_size_m / 2
    shape = pb.createCollisionShape(pb.GEOM_BOX, halfExtents=(half, half, half), physicsClientId=client)
    visual = pb.createVisualShape(
        pb.GEOM_BOX, halfExtents=(half, half, half), rgbaColor=(0.8, 0.6, 0.2, 1), physicsClientId=client
    )
    box = pb.createMultiBody(params.box_mass_kg, shape, visual, (0, 0, half), physicsClientId=client)
    pb.changeDynamics(
        box, -1, mass=params.box_mass_kg, lateralFriction=params.box_friction, physicsClientId=client
    )
    return int(box)


def box_pose_world(client: int, box_id: int) -> np.ndarray:
    """(x [m], y [m], yaw [rad]) of the box, world frame."""
    pos, orn = pb.getBasePositionAndOrientation(box_id, physicsClientId=client)
    return np.array([pos[0], pos[1], yaw_of_quaternion(orn)])


def task_spec(params: TeamPushParams) -> dict[str, Any]:
    """The task as plain data (JSON-able): what a robot needs to run a team_push policy without this module.

    Travels in the ``drigm`` artifact's contract (``family_params.team_push``), so the robot side builds
    the observation from localised poses and turns actions into primitives exactly as this task does.
    Frames: world, metres; the box starts at the origin, the goal lies ``goal_distance_m`` along +x.
    """
    bound = np.full(OBS_DIM, 2 * ARENA_HALF_WIDTH_M)
    bound[7] = np.pi
    return {
        "n_robots": params.n_robots,
        "primitives_unicycle": PRIMITIVES_UNICYCLE.tolist(),
        "primitive_names": list(PRIMITIVE_NAMES),
        "decision_period_s": params.decision_period_s,
        "goal_xy_m": [params.goal_distance_m, 0.0],
        "goal_tolerance_m": params.goal_tolerance_m,
        "box_size_m": params.box_size_m,
        "box_mass_kg": params.box_mass_kg,
        "box_friction": params.box_friction,
        "max_decisions": params.max_decisions,
        "obs_bound": bound.tolist(),
        "start_poses": nominal_starts(params).tolist(),
        "start_jitter": [START_JITTER_Y_M, START_JITTER_YAW_RAD],
        "near_bay_xy_m": None if params.near_bay_m is None else [params.near_bay_m, 0.0],
        "near_bay_bonus": params.near_bay_bonus,
        "bay_settle_m": params.bay_settle_m,
    }
