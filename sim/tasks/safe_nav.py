"""``safe_nav``: one wheeled robot crosses a walled arena to a goal (the robust constrained task).

Arena (world frame [m]): ``grid_cells`` x ``grid_cells`` square cells of ``cell_size_m``,
cell (i, j) centred at ((i + 0.5) c, (j + 0.5) c). Start cell (0, 0), goal cell
(G-1, G-1). The central third of the arena is a hazard zone (no physics, only cost);
two pillars stand on the detours around it, and walls enclose everything.

Actions, Discrete(9), each held for ``decision_period_s`` and executed by the go-to
controller towards a cell centre: 0 stay; 1-4 move one cell east/north/west/south at
cruise speed; 5-8 dash two cells in those directions at a speed above the limit.

Reward: 10 x (decrease of the distance to the goal centre [m]) - 0.1 per decision,
+10 on reaching the goal cell (termination).

Cost channels, ``info["cost"]`` (float array, K = 3, names in ``COST_NAMES``), each the
fraction of control steps of the decision in which the condition held:
hazard (robot centre inside a hazard cell), collision (touching a wall or pillar),
overspeed (forward speed above ``speed_limit_m_s``).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pybullet as pb
from gymnasium import spaces

from robocoord.sim.config import SafeNavParams
from robocoord.sim.plant import DiffDriveGeometry
from robocoord.sim.pybullet_plant import DynamicsParams, PyBulletPlant
from robocoord.sim.tasks.goto import GoToGains, go_to_wheels

COST_NAMES = ("hazard", "collision", "overspeed")
N_ACTIONS = 9
# (cells east, cells north) of each action; 0 = stay
ACTION_OFFSETS = np.array([[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1], [2, 0], [0, 2], [-2, 0], [0, -2]])
CRUISE_SPEED_M_S = 0.3
DASH_SPEED_M_S = 0.65
PROGRESS_REWARD_PER_M = 10.0
STEP_PENALTY = 0.1
GOAL_BONUS = 10.0
PILLAR_RADIUS_M = 0.07
WALL_THICKNESS_M = 0.05
OBS_DIM = 8
OBS_BOUND = 2.0  # every observation entry is normalised to well inside ±2


class SafeNavLayout:
    """Which cells are hazards, where the pillars stand, and cell <-> position maps."""

    def __init__(self, params: SafeNavParams) -> None:
        g = params.grid_cells
        self.grid_cells = g
        self.cell_size_m = params.cell_size_m
        lo, hi = g // 3, g - g // 3
        self.hazard = np.zeros((g, g), dtype=bool)  # indexed [i (east), j (north)]
        self.hazard[lo:hi, lo:hi] = True
        self.pillar_cells = [(1, g - 2), (g - 2, 1)]
        self.start_cell = (0, 0)
        self.goal_cell = (g - 1, g - 1)

    @property
    def n_cells(self) -> int:
        return self.grid_cells**2

    @property
    def arena_size_m(self) -> float:
        return self.grid_cells * self.cell_size_m

    def cell_center_m(self, i: np.ndarray | int, j: np.ndarray | int) -> np.ndarray:
        return (np.stack([np.asarray(i), np.asarray(j)], axis=-1) + 0.5) * self.cell_size_m

    def cell_of(self, xy_m: np.ndarray) -> tuple[int, int]:
        ij = np.clip(np.floor(np.asarray(xy_m) / self.cell_size_m), 0, self.grid_cells - 1).astype(int)
        return int(ij[0]), int(ij[1])

    def cell_index(self, cell: tuple[int, int]) -> int:
        """Flat index i * G + j used by the finite abstraction."""
        return cell[0] * self.grid_cells + cell[1]

    def index_cell(self, index: int) -> tuple[int, int]:
        return divmod(int(index), self.grid_cells)


def arena_spec(params: SafeNavParams) -> dict[str, Any]:
    """The arena as plain data (JSON-able): what a robot needs to run a safe_nav policy without this module.

    Travels in the ``rcmdp`` artifact's contract (``family_params.arena``), so the robot side computes
    cells, go-to targets and the cost channels from its localised pose exactly as this task does.
    Frames: world, metres; cells (i east, j north).
    """
    layout = SafeNavLayout(params)
    size = layout.arena_size_m
    return {
        "grid_cells": layout.grid_cells,
        "cell_size_m": layout.cell_size_m,
        "hazard_cells": [[int(i), int(j)] for i, j in zip(*np.nonzero(layout.hazard), strict=True)],
        "pillars_m": [
            [*map(float, layout.cell_center_m(*cell)), PILLAR_RADIUS_M] for cell in layout.pillar_cells
        ],
        "walls_m": [0.0, 0.0, size, size],  # inner faces: x_min, y_min, x_max, y_max
        "start_cell": list(layout.start_cell),
        "goal_cell": list(layout.goal_cell),
        "action_offsets": ACTION_OFFSETS.tolist(),
        "dash_from_action": 5,  # actions >= this move at the dash speed
        "cruise_speed_m_s": CRUISE_SPEED_M_S,
        "dash_speed_m_s": DASH_SPEED_M_S,
        "speed_limit_m_s": params.speed_limit_m_s,
        "decision_period_s": params.decision_period_s,
        "control_hz": params.control_hz,
        "max_decisions": params.max_decisions,
    }


def build_obstacles(client: int, layout: SafeNavLayout) -> int:
    """Walls and pillars as one static compound body in PyBullet world ``client``: one contact query per
    control step. Shared by :class:`SafeNavEnv` and the hardware-in-the-loop plant."""
    size = layout.arena_size_m
    half_t = WALL_THICKNESS_M / 2
    wall_h = 0.1
    shapes, halves, positions = [], [], []
    for center, half in (
        ((size / 2, -half_t), (size / 2 + WALL_THICKNESS_M, half_t)),
        ((size / 2, size + half_t), (size / 2 + WALL_THICKNESS_M, half_t)),
        ((-half_t, size / 2), (half_t, size / 2 + WALL_THICKNESS_M)),
        ((size + half_t, size / 2), (half_t, size / 2 + WALL_THICKNESS_M)),
    ):
        shapes.append(pb.GEOM_BOX)
        halves.append((*half, wall_h))
        positions.append((*center, wall_h))
    kwargs: dict[str, list[Any]] = {"radii": [0.0] * 4, "lengths": [0.0] * 4}
    for cell in layout.pillar_cells:
        shapes.append(pb.GEOM_CYLINDER)
        halves.append((0.0, 0.0, 0.0))
        positions.append((*layout.cell_center_m(*cell), wall_h))
        kwargs["radii"].append(PILLAR_RADIUS_M)
        kwargs["lengths"].append(2 * wall_h)
    shape = pb.createCollisionShapeArray(
        shapeTypes=shapes,
        halfExtents=halves,
        collisionFramePositions=positions,
        physicsClientId=client,
        **kwargs,
    )
    return int(pb.createMultiBody(0.0, shape, physicsClientId=client))


class SafeNavEnv(gym.Env):
    """Gymnasium Env; observation (8,) float32, action Discrete(9); costs in ``info["cost"]``.

    Observation: x, y [m, world] / arena size; cos, sin yaw; forward speed [m/s];
    yaw rate [rad/s]; goal - robot (x, y) [m] / arena size. ``info["cell"]`` is the flat
    cell index of the finite abstraction.
    """

    metadata = {"render_modes": [], "render_fps": 4}

    def __init__(self, params: SafeNavParams | None = None, gui: bool = False, **overrides: Any) -> None:
        self.params = SafeNavParams(**overrides) if params is None else params
        self.layout = SafeNavLayout(self.params)
        self.geometry = DiffDriveGeometry()
        start = np.array([[*self.layout.cell_center_m(*self.layout.start_cell), 0.0]])
        self.plant = PyBulletPlant(start, body="wheeled", physics_hz=self.params.physics_hz, gui=gui)
        self.obstacle_id = build_obstacles(self.plant.client, self.layout)
        self.control_dt_s = 1.0 / self.params.control_hz
        self.control_steps_per_decision = round(self.params.decision_period_s * self.params.control_hz)
        self.goal_world_m = self.layout.cell_center_m(*self.layout.goal_cell)
        self.observation_space = spaces.Box(-OBS_BOUND, OBS_BOUND, shape=(OBS_DIM,), dtype=np.float32)
        self.action_space = spaces.Discrete(N_ACTIONS)
        self.cost_names = COST_NAMES
        self.decisions = 0
        self._goal_distance_m = 0.0

    def set_dynamics(self, params: DynamicsParams, robot_ids: list[int] | None = None) -> None:
        self.plant.set_dynamics(params, robot_ids)

    # ---------------------------------------------------------------- helpers
    def current_cell(self) -> tuple[int, int]:
        return self.layout.cell_of(self.plant.poses_world()[0, :2])

    def target_for(self, action: int, cell: tuple[int, int]) -> np.ndarray:
        g = self.layout.grid_cells
        i, j = np.clip(np.array(cell) + ACTION_OFFSETS[action], 0, g - 1)
        return self.layout.cell_center_m(i, j)

    def _observation(self) -> np.ndarray:
        pose = self.plant.poses_world()[0]
        v, w = self.plant.body_velocities()
        size = self.layout.arena_size_m
        obs = np.array(
            [
                pose[0] / size,
                pose[1] / size,
                np.cos(pose[2]),
                np.sin(pose[2]),
                v[0],
                w[0] / 4.0,  # yaw rate scaled into the box: |w| <= ~4 rad/s
                (self.goal_world_m[0] - pose[0]) / size,
                (self.goal_world_m[1] - pose[1]) / size,
            ],
            dtype=np.float32,
        )
        return np.clip(obs, -OBS_BOUND, OBS_BOUND)

    def _goal_distance(self) -> float:
        return float(np.hypot(*(self.goal_world_m - self.plant.poses_world()[0, :2])))

    # ---------------------------------------------------------------- gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict]:
        """``options={"pose_world": (x, y, yaw)}`` starts elsewhere (used to estimate the kernel)."""
        super().reset(seed=seed)
        if options and "pose_world" in options:
            pose = np.asarray(options["pose_world"], dtype=float)
        else:
            jitter = self.np_random.uniform(-0.05, 0.05, 2)
            pose = np.array([*(self.layout.cell_center_m(*self.layout.start_cell) + jitter), 0.0])
            pose[2] = self.np_random.uniform(-np.pi, np.pi)
        self.plant.reset(start_poses_world=pose[None, :])
        self.decisions = 0
        self._goal_distance_m = self._goal_distance()
        return self._observation(), {"cell": self.layout.cell_index(self.current_cell())}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        a = int(action)
        if not 0 <= a < N_ACTIONS:
            raise ValueError(f"action: must be 0..{N_ACTIONS - 1}, got {action!r}")
        gains = GoToGains(cruise_speed_m_s=DASH_SPEED_M_S if a >= 5 else CRUISE_SPEED_M_S)
        target = self.target_for(a, self.current_cell())[None, :]
        cost_steps = np.zeros(len(COST_NAMES))
        for _ in range(self.control_steps_per_decision):
            wheels = go_to_wheels(self.plant.poses_world(), target, self.geometry, gains)
            self.plant.apply(0, wheels[0])
            self.plant.step(self.control_dt_s)
            cost_steps += self._cost_indicators()
        self.decisions += 1
        cost = cost_steps / self.control_steps_per_decision
        distance = self._goal_distance()
        reached = self.current_cell() == self.layout.goal_cell
        reward = PROGRESS_REWARD_PER_M * (self._goal_distance_m - distance) - STEP_PENALTY
        reward += GOAL_BONUS if reached else 0.0
        self._goal_distance_m = distance
        truncated = self.decisions >= self.params.max_decisions and not reached
        info = {"cost": cost, "cost_names": COST_NAMES, "cell": self.layout.cell_index(self.current_cell())}
        return self._observation(), float(reward), bool(reached), bool(truncated), info

    def _cost_indicators(self) -> np.ndarray:
        pose = self.plant.poses_world()[0]
        v, _ = self.plant.body_velocities()
        i, j = self.layout.cell_of(pose[:2])
        touching = pb.getContactPoints(
            bodyA=self.plant.body_ids[0], bodyB=self.obstacle_id, physicsClientId=self.plant.client
        )
        return np.array(
            [
                float(self.layout.hazard[i, j]),
                float(len(touching) > 0),
                float(abs(v[0]) > self.params.speed_limit_m_s),
            ]
        )

    def close(self) -> None:
        self.plant.close()
