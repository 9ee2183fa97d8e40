"""``warehouse``: the GMFS swarm task, 2..1000 robots on a lattice of home stations.

Layout (world frame, [m]): robot i's home (its Idle station) is lattice point
(col, row) * ``home_spacing_m``. Homes are grouped into blocks of
``block_side`` x ``block_side``; the robots of a block share one work station at the
block's centre and each robot's transit point lies halfway between its home and that
station. A robot's discrete state is read off its *position* at each decision:
within ``home_radius_m`` of home -> Idle, within ``work_radius_m`` of the work station
-> Working, anywhere else -> Transit. An action is the intended next state and only
sets the go-to target (home, transit point, work station); whether the robot gets
there within one decision period depends on distance and on the other robots in its
way, which is where congestion comes from.

Congestion c_i is the fraction of robot i's block-mates (its neighbourhood) that are
Working. In graphon terms the latent position of robot i is its normalised lattice
coordinate in [0, 1]^2 and the interaction graphon is the block indicator
(:meth:`WarehouseLayout.graphon`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from robocoord.sim.config import WarehouseParams
from robocoord.sim.plant import DiffDriveGeometry
from robocoord.sim.pybullet_plant import DynamicsParams, PyBulletPlant
from robocoord.sim.tasks.goto import GoToGains
from robocoord.sim.tasks.warehouse_model import N_STATES, TaskState, warehouse_reward


@dataclass(frozen=True)
class WarehouseLayout:
    home_world_m: np.ndarray  # (N, 2)
    lattice_index: np.ndarray  # (N, 2) integer (col, row)
    latent_positions: np.ndarray  # (N, 2) in [0, 1]^2
    block_of: np.ndarray  # (N,) block id
    work_station_world_m: np.ndarray  # (N, 2): the station of each robot's block
    transit_point_world_m: np.ndarray  # (N, 2)
    lattice_shape: tuple[int, int]  # (columns, rows)
    block_side: int

    def graphon(self, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
        """W(alpha, beta) = 1 when two latent positions in [0, 1]^2 lie in the same block, else 0."""
        cells_per_unit = np.array(self.lattice_shape, dtype=float)
        block_a = np.floor(np.floor(np.asarray(alpha) * cells_per_unit) / self.block_side)
        block_b = np.floor(np.floor(np.asarray(beta) * cells_per_unit) / self.block_side)
        return np.all(block_a == block_b, axis=-1).astype(float)

    @classmethod
    def build(cls, params: WarehouseParams) -> WarehouseLayout:
        n = params.n_robots
        side = int(np.ceil(np.sqrt(n)))
        idx = np.arange(n)
        lattice = np.stack([idx % side, idx // side], axis=1)
        home = lattice * params.home_spacing_m
        rows = int(np.ceil(n / side))
        # cell centres of a side x rows lattice, normalised to (0, 1)
        latent = (lattice + 0.5) / np.array([side, rows])
        blocks_x = int(np.ceil(side / params.block_side))
        block_xy = lattice // params.block_side
        block = block_xy[:, 1] * blocks_x + block_xy[:, 0]
        station = np.zeros((n, 2))
        for b in np.unique(block):
            members = block == b
            station[members] = home[members].mean(axis=0)  # centre of the block's homes
        # A block of one robot (or a straight line of them) would put the station on a home:
        # move it half a pitch off the line so Working and Idle stay distinguishable.
        on_home = np.hypot(*(station - home).T) < params.home_radius_m + params.work_radius_m
        lone_blocks = np.unique(block[on_home])
        for b in lone_blocks:
            station[block == b] += 0.5 * params.home_spacing_m
        transit = 0.5 * (home + station)
        return cls(home, lattice, latent, block, station, transit, (side, rows), params.block_side)


@dataclass
class WarehouseStep:
    """Arrays of one decision for all N robots."""

    state: np.ndarray  # (N,) task state before the decision
    action: np.ndarray  # (N,)
    congestion: np.ndarray  # (N,) c before the decision
    next_state: np.ndarray  # (N,)
    next_congestion: np.ndarray
    reward: np.ndarray  # (N,)


class WarehouseSim:
    """The physics and discrete bookkeeping behind :class:`WarehouseParallelEnv`, array in, array out."""

    def __init__(self, params: WarehouseParams = WarehouseParams(), gui: bool = False) -> None:
        self.params = params
        self.layout = WarehouseLayout.build(params)
        self.geometry = DiffDriveGeometry()
        self.gains = GoToGains(cruise_speed_m_s=params.cruise_speed_m_s)
        n = params.n_robots
        start = np.concatenate([self.layout.home_world_m, np.zeros((n, 1))], axis=1)
        self.plant = PyBulletPlant(
            start, body="disc", geometry=self.geometry, physics_hz=params.physics_hz, gui=gui
        )
        self.control_dt_s = 1.0 / params.control_hz
        self.control_steps_per_decision = round(params.decision_period_s * params.control_hz)
        self._block_sizes = np.bincount(self.layout.block_of)
        # go-to target of every (action, robot): one fancy-index per decision instead of masked copies
        self._target_table = np.stack(
            [self.layout.home_world_m, self.layout.transit_point_world_m, self.layout.work_station_world_m]
        )
        self._robot_index = np.arange(n)
        # (x, y) columns of the home and work stations, for classify()
        self._station_columns = (
            (self.layout.home_world_m[:, 0].copy(), self.layout.home_world_m[:, 1].copy()),
            (self.layout.work_station_world_m[:, 0].copy(), self.layout.work_station_world_m[:, 1].copy()),
        )
        self.task_state = np.zeros(n, dtype=np.int64)
        self.targets_world_m = self.layout.home_world_m.copy()
        self._target_rows = self.targets_world_m.tolist()  # the same targets as rows, for the plant
        self.decisions = 0

    @property
    def n_robots(self) -> int:
        return self.params.n_robots

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Everyone parked at home (Idle) with a seeded random heading; returns the task states."""
        rng = np.random.default_rng(seed)
        yaw = rng.uniform(-np.pi, np.pi, self.n_robots)
        self.plant.reset(start_poses_world=np.concatenate([self.layout.home_world_m, yaw[:, None]], axis=1))
        self.targets_world_m = self.layout.home_world_m.copy()
        self._target_rows = self.targets_world_m.tolist()
        self.task_state = self.classify(self.plant.poses_world())
        self.decisions = 0
        return self.task_state.copy()

    def classify(self, poses_world: np.ndarray) -> np.ndarray:
        x, y = poses_world[:, 0], poses_world[:, 1]
        (home_x, home_y), (work_x, work_y) = self._station_columns
        state = np.full(self.n_robots, TaskState.TRANSIT, dtype=np.int64)
        state[np.hypot(x - home_x, y - home_y) < self.params.home_radius_m] = TaskState.IDLE
        state[np.hypot(x - work_x, y - work_y) < self.params.work_radius_m] = TaskState.WORKING
        return state

    def congestion(self, task_state: np.ndarray | None = None) -> np.ndarray:
        """c_i: fraction of robot i's block-mates (itself excluded) that are Working."""
        s = self.task_state if task_state is None else task_state
        working = (s == TaskState.WORKING).astype(float)
        per_block = np.bincount(self.layout.block_of, weights=working, minlength=len(self._block_sizes))
        others = self._block_sizes[self.layout.block_of] - 1
        mates_working = per_block[self.layout.block_of] - working
        return np.where(others > 0, mates_working / np.maximum(others, 1), 0.0)

    def targets_for(self, action: np.ndarray) -> np.ndarray:
        """(N, 2) go-to targets [m, world]: home (Idle), transit point (Transit) or work station (Working)."""
        return self._target_table[np.asarray(action), self._robot_index]

    def control_step(self) -> None:
        """One low-level control period: go-to controller for every robot, then physics."""
        # = apply_all(go_to_wheels(pose_rows(), targets, ...)) + step(); fused for small disc swarms
        self.plant.go_to_step(self.targets_world_m, self.gains, self.control_dt_s, self._target_rows)

    def step(self, action: np.ndarray) -> WarehouseStep:
        a = np.asarray(action, dtype=np.int64)
        if a.shape != (self.n_robots,):
            raise ValueError(f"action: expected shape ({self.n_robots},), got {a.shape}")
        if a.min() < 0 or a.max() >= N_STATES:
            raise ValueError("action: values must be 0 Idle, 1 Transit or 2 Working")
        state, congestion = self.task_state.copy(), self.congestion()
        self.targets_world_m = self.targets_for(a)
        self._target_rows = self.targets_world_m.tolist()
        # control_steps_per_decision x control_step(), in one call
        self.plant.go_to_step(
            self.targets_world_m,
            self.gains,
            self.control_dt_s,
            self._target_rows,
            steps=self.control_steps_per_decision,
        )
        self.task_state = self.classify(self.plant.poses_world())
        self.decisions += 1
        reward = warehouse_reward(state, a, congestion, self.params.congestion_penalty_L)
        return WarehouseStep(state, a, congestion, self.task_state.copy(), self.congestion(), reward)

    def set_dynamics(self, params: DynamicsParams, robot_ids: list[int] | None = None) -> None:
        self.plant.set_dynamics(params, robot_ids)

    def close(self) -> None:
        self.plant.close()


OBS_DIM = N_STATES + 1 + 2  # one-hot task state, congestion, latent position


class WarehouseParallelEnv(ParallelEnv):
    """PettingZoo ParallelEnv over :class:`WarehouseSim`; agents ``robot_0`` .. ``robot_{N-1}``.

    Observation per robot: [one-hot task state (3), congestion c (1), latent position (2)].
    Action per robot: Discrete(3), the intended next state. Reward per robot: the GMFS
    reward of the state and congestion *before* the decision and the action taken.
    GMFS-specific views: :attr:`task_states`, :attr:`latent_positions`, :attr:`block_of`,
    and :meth:`step_arrays` (no dicts, for large N).
    """

    metadata = {"name": "robocoord_warehouse_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, params: WarehouseParams | None = None, gui: bool = False, **overrides: Any) -> None:
        self.params = WarehouseParams(**overrides) if params is None else params
        self.sim = WarehouseSim(self.params, gui=gui)
        self.possible_agents = [f"robot_{i}" for i in range(self.params.n_robots)]
        self.agents: list[str] = []
        self.render_mode = None
        self._observation_space = spaces.Box(0.0, 1.0, shape=(OBS_DIM,), dtype=np.float32)
        self._action_space = spaces.Discrete(N_STATES)

    def observation_space(self, agent: str) -> spaces.Box:
        return self._observation_space  # every robot sees the same kind of observation

    def action_space(self, agent: str) -> spaces.Discrete:
        return self._action_space

    @property
    def task_states(self) -> np.ndarray:
        return self.sim.task_state.copy()

    @property
    def latent_positions(self) -> np.ndarray:
        return self.sim.layout.latent_positions.copy()

    @property
    def block_of(self) -> np.ndarray:
        return self.sim.layout.block_of.copy()

    def observation_array(self) -> np.ndarray:
        n = self.params.n_robots
        obs = np.zeros((n, OBS_DIM), dtype=np.float32)
        obs[np.arange(n), self.sim.task_state] = 1.0
        obs[:, N_STATES] = self.sim.congestion()
        obs[:, N_STATES + 1 :] = self.sim.layout.latent_positions
        return obs

    def _obs_dict(self) -> dict[str, np.ndarray]:
        obs = self.observation_array()
        return {agent: obs[i] for i, agent in enumerate(self.possible_agents)}

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        self.sim.reset(seed)
        self.agents = list(self.possible_agents)
        return self._obs_dict(), {
            agent: {"task_state": int(self.sim.task_state[i])} for i, agent in enumerate(self.agents)
        }

    def step_arrays(self, action: np.ndarray) -> WarehouseStep:
        return self.sim.step(action)

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            raise RuntimeError("step() called after the episode ended; call reset()")
        missing = set(self.agents) - set(actions)
        if missing:
            raise ValueError(f"actions: missing for {sorted(missing)[:5]}")
        result = self.sim.step(np.array([int(actions[agent]) for agent in self.possible_agents]))
        truncated = self.sim.decisions >= self.params.max_decisions
        obs = self._obs_dict()
        rewards = {agent: float(result.reward[i]) for i, agent in enumerate(self.agents)}
        terminations = {agent: False for agent in self.agents}
        truncations = {agent: truncated for agent in self.agents}
        infos = {
            agent: {"task_state": int(result.next_state[i]), "congestion": float(result.next_congestion[i])}
            for i, agent in enumerate(self.agents)
        }
        if truncated:
            self.agents = []
        return obs, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        return self.observation_array().reshape(-1)

    def set_dynamics(self, params: DynamicsParams, robot_ids: list[int] | None = None) -> None:
        self.sim.set_dynamics(params, robot_ids)

    def close(self) -> None:
        self.sim.close()
