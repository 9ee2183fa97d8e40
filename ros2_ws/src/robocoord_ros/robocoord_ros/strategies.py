"""The policy families on one robot: small strategy objects behind :class:`robocoord_ros.policy_logic.PolicyLoop`.

* :class:`GmfsStrategy` — discrete task state S = {Idle, Transit, Working}, read off the robot's
  position exactly as robocoord.sim's warehouse does (:class:`~robocoord_ros.policy_logic.WarehouseStations`).
  Each decision draws κ neighbours from W̄_i· of the graphon over the fleet's latent positions (the
  graphon maths of :mod:`robocoord.controllers.gmfs_sampler`), counts their last reported task states
  into ĝ_i and acts on (one-hot s_i, ĝ_i/κ). The action is the intended next state; the go-to
  controller drives the robot to that state's station between decisions.
* :class:`RcmdpStrategy` — safe_nav: the robot's cell, the artifact's π behind the safety shield and the
  cost channels of every go-to tick (:class:`robocoord.controllers.safe_nav.RcmdpAgent`); the action's
  cell centre and speed are the go-to target until the next decision.
* :class:`DrigmStrategy` — team_push: the robot's own observation (its pose and forward speed, the box's
  pose from ``/objects/box/pose``) into its DrIGM utility network (own hidden state and previous action,
  :class:`robocoord.controllers.team_push.TeamPushAgent`); the greedy action is a motion primitive whose
  twist is held until the next decision (no go-to target). When the box is within the goal tolerance or
  the episode's decisions are used up, the robot stops.

:func:`build_strategy` picks the family's strategy and refuses a contract that does not fit the robot.
Free of rclpy and of clocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from robocoord.controllers.contract import DiscreteActionSpec, PolicyContract
from robocoord.controllers.policy import PolicyRuntime
from robocoord.controllers.safe_nav import ArenaSpecError, RcmdpAgent, SafeNavArena
from robocoord.controllers.shield import SafetyShield, ShieldConfigError
from robocoord.controllers.team_push import TeamPushAgent, TeamPushSpecError
from robocoord_ros.policy_logic import (
    IDLE,
    STOP,
    TASK_STATES,
    ContractMismatch,
    TickInput,
    Twist2D,
    WarehouseStations,
)


@dataclass
class GmfsStrategy:
    """GMFS on one robot: ĝ from κ neighbours drawn from W̄_i·, act on (one-hot s_i, ĝ/κ)."""

    contract: PolicyContract
    robot_id: int
    fleet_ids: Sequence[int]
    latent_positions: np.ndarray  # (n, d), same order as fleet_ids
    stations: WarehouseStations
    _row: np.ndarray = field(init=False, repr=False)
    _kappa: int = field(init=False)
    _n_states: int = field(init=False)

    def __post_init__(self) -> None:
        from robocoord.controllers.gmfs_sampler import graphon_matrix, normalised_weights

        params = self.contract.family_params
        for key in ("kappa", "graphon"):
            if key not in params:
                raise ContractMismatch(
                    f"gmfs artifact: family_params.{key} missing, found keys {sorted(params)}"
                )
        action = self.contract.action
        if not isinstance(action, DiscreteActionSpec):
            raise ContractMismatch("gmfs artifact: action must be discrete (the intended next task state)")
        self._n_states = int(params.get("n_states", action.n))
        if self._n_states != len(TASK_STATES) or action.n != len(TASK_STATES):
            raise ContractMismatch(
                f"gmfs artifact: expected |S|=|A|={len(TASK_STATES)} ({', '.join(TASK_STATES)}), "
                f"found |S|={self._n_states}, |A|={action.n}"
            )
        expected_dim = 2 * self._n_states
        if self.contract.observation.dim != expected_dim:
            raise ContractMismatch(
                f"gmfs artifact: observation must be one-hot state + neighbour fractions ({expected_dim}), "
                f"found {self.contract.observation.dim}"
            )
        if self.robot_id not in self.fleet_ids:
            raise ContractMismatch(
                f"robot_id {self.robot_id} is not in the fleet roster {list(self.fleet_ids)}"
            )
        graphon = dict(params["graphon"])
        kind = str(graphon.pop("kind"))
        w = graphon_matrix(kind, self.latent_positions, **graphon)
        self._row = normalised_weights(w)[list(self.fleet_ids).index(self.robot_id)]
        self._kappa = int(params["kappa"])
        if self._kappa <= 0:
            raise ContractMismatch(f"gmfs artifact: kappa must be > 0, found {self._kappa}")

    @property
    def kappa(self) -> int:
        return self._kappa

    def sample_counts(self, neighbour_states: Mapping[int, int], rng: np.random.Generator) -> np.ndarray:
        """ĝ_i: counts over S of κ neighbours drawn i.i.d. with replacement from W̄_i·.

        A drawn neighbour never heard from is counted as Idle (every robot starts parked at home).
        """
        picks = rng.choice(len(self.fleet_ids), size=self._kappa, replace=True, p=self._row)
        states = [neighbour_states.get(self.fleet_ids[j], IDLE) for j in picks]
        return np.bincount(np.asarray(states, dtype=np.int64), minlength=self._n_states)[: self._n_states]

    def observation(self, task_state: int, inp: TickInput, rng: np.random.Generator) -> np.ndarray:
        one_hot = np.zeros(self._n_states, dtype=np.float32)
        one_hot[task_state] = 1.0
        counts = self.sample_counts(inp.neighbour_states, rng)
        return np.concatenate([one_hot, counts.astype(np.float32) / self._kappa])

    def decide(
        self, runtime: PolicyRuntime, inp: TickInput, rng: np.random.Generator
    ) -> tuple[int, int] | None:
        if inp.pose is None:
            return None
        task_state = self.stations.classify(inp.pose)
        result = runtime.act(self.observation(task_state, inp, rng)[None, :])
        if bool(result.used_safe_action[0]):
            return None
        return int(result.action[0]), task_state

    def target(self, action: int) -> tuple[float, float, float | None]:
        return (*self.stations.target(action), None)

    def on_control(self, inp: TickInput) -> None:
        pass  # GMFS needs nothing between decisions


@dataclass
class RcmdpStrategy:
    """safe_nav: π behind the shield on the robot's cell; the costs of each go-to tick are accounted."""

    agent: RcmdpAgent
    last_vetoed: bool = False
    _target: tuple[float, float, float] | None = None

    def decide(
        self, runtime: PolicyRuntime, inp: TickInput, rng: np.random.Generator
    ) -> tuple[int, int] | None:
        del runtime, rng  # the agent holds both: its samples and its shield follow one episode
        if inp.pose is None:
            return None
        x, y = inp.pose.x_m, inp.pose.y_m
        action, self.last_vetoed = self.agent.decide(x, y)
        cell = self.agent.arena.cell_of(x, y)
        self._target = self.agent.arena.target(action, cell)
        return action, self.agent.arena.cell_index(cell)

    def target(self, action: int) -> tuple[float, float, float | None]:
        if self._target is None:
            raise RuntimeError("target() before the first decision")
        return self._target

    def on_control(self, inp: TickInput) -> None:
        if inp.pose is not None and not self.agent.done:
            self.agent.observe_tick(inp.pose.x_m, inp.pose.y_m, inp.forward_m_s)


@dataclass
class DrigmStrategy:
    """team_push: this robot's greedy DrIGM primitive on its own observation; the twist is held until the next decision."""

    agent: TeamPushAgent
    objects: tuple[str, ...] = ("box",)  # the named object poses the observation needs
    _twist: Twist2D = STOP

    def decide(
        self, runtime: PolicyRuntime, inp: TickInput, rng: np.random.Generator
    ) -> tuple[int, int] | None:
        del runtime, rng  # the agent holds the executor (hidden state, previous action); greedy
        box = inp.objects.get("box")
        if inp.pose is None or box is None or not box.finite():
            return None
        pose = inp.pose
        action = self.agent.decide(
            (pose.x_m, pose.y_m, pose.yaw_rad), inp.forward_m_s, (box.x_m, box.y_m, box.yaw_rad)
        )
        self._twist = Twist2D(*self.agent.twist(action))
        return action, int(self.agent.done)

    def target(self, action: int) -> Twist2D:
        return self._twist

    def on_control(self, inp: TickInput) -> None:
        pass  # the primitive is held open-loop between decisions, as in the sim


TASKS_OF_FAMILY = {"gmfs": "warehouse", "rcmdp": "safe_nav", "drigm": "team_push"}


def build_strategy(
    runtime: PolicyRuntime,
    task: str,
    *,
    robot_id: int,
    fleet_ids: Sequence[int],
    latent_positions: np.ndarray,
    stations: WarehouseStations,
    seed: int,
    arena_cells: tuple[int, float] | None = None,
    team_push: Mapping[str, float] | None = None,
) -> GmfsStrategy | RcmdpStrategy | DrigmStrategy:
    """The strategy of the artifact's family on ``task``; ContractMismatch naming what does not fit.

    rcmdp policies always run behind their shield (the contract carries the constraint table): a
    guard that a parameter could switch off would be a guard left off on some robot.
    ``arena_cells`` (grid cells, cell size [m]) is the robot's arena, checked against the contract's.
    drigm: the robot is agent ``fleet_ids.index(robot_id)`` of a team of ``len(fleet_ids)``; ``team_push``
    (the inventory's task parameters, e.g. ``goal_distance_m``) is checked against the contract's task.
    """
    contract = runtime.contract
    expected_task = TASKS_OF_FAMILY.get(contract.family)
    if expected_task is None:
        raise ContractMismatch(
            f"family {contract.family!r} is not runnable by this node (runs {', '.join(TASKS_OF_FAMILY)})"
        )
    trained_on = contract.family_params.get("task", expected_task)
    if task != expected_task or trained_on != task:
        raise ContractMismatch(
            f"task: robot runs {task!r}, the {contract.family} artifact was trained on {trained_on!r}"
        )
    if contract.family == "gmfs":
        return GmfsStrategy(contract, robot_id, fleet_ids, latent_positions, stations)
    if contract.family == "drigm":
        return _drigm_strategy(runtime, robot_id, fleet_ids, team_push or {})
    try:
        arena = SafeNavArena.from_contract(contract)
        shield = SafetyShield.from_contract(contract)
        agent = RcmdpAgent(runtime, arena, shield, np.random.default_rng(seed))
    except (ArenaSpecError, ShieldConfigError) as err:
        raise ContractMismatch(f"rcmdp artifact: {err}") from None
    if arena_cells is not None and (
        arena_cells[0] != arena.grid_cells or abs(arena_cells[1] - arena.cell_size_m) > 1e-9
    ):
        raise ContractMismatch(
            f"arena: robot has {arena_cells[0]} x {arena_cells[0]} cells of {arena_cells[1]:g} m, "
            f"the artifact was trained on {arena.grid_cells} x {arena.grid_cells} of {arena.cell_size_m:g} m"
        )
    return RcmdpStrategy(agent)


def _drigm_strategy(
    runtime: PolicyRuntime, robot_id: int, fleet_ids: Sequence[int], team_push: Mapping[str, float]
) -> DrigmStrategy:
    if robot_id not in fleet_ids:
        raise ContractMismatch(f"robot_id {robot_id} is not in the fleet roster {list(fleet_ids)}")
    n_agents = runtime.contract.family_params.get("n_agents")
    if n_agents != len(fleet_ids):
        raise ContractMismatch(
            f"team size: the drigm artifact was trained for {n_agents} robots, the fleet has {len(fleet_ids)}"
        )
    try:
        agent = TeamPushAgent(runtime, list(fleet_ids).index(robot_id))
    except (TeamPushSpecError, ValueError) as err:
        raise ContractMismatch(f"drigm artifact: {err}") from None
    spec = agent.spec
    rate_hz = runtime.contract.control_rate_hz
    if abs(rate_hz * spec.decision_period_s - 1.0) > 1e-6:
        raise ContractMismatch(
            f"drigm artifact: control_rate_hz {rate_hz:g} does not match the task's decision period "
            f"{spec.decision_period_s:g} s (a primitive is held one decision)"
        )
    trained = {
        "goal_distance_m": spec.goal_xy_m[0],
        "goal_tolerance_m": spec.goal_tolerance_m,
        "box_size_m": spec.box_size_m,
        "decision_period_s": spec.decision_period_s,
    }
    for key, value in team_push.items():
        if key in trained and abs(float(value) - trained[key]) > 1e-9:
            raise ContractMismatch(
                f"team_push.{key}: robot has {float(value):g}, the artifact was trained with {trained[key]:g}"
            )
    return DrigmStrategy(agent)
