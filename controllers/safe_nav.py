"""A safe_nav ``rcmdp`` policy on the robot: arena geometry, decisions behind the shield, cost channels.

Everything comes from the artifact's contract (``family_params.arena``, written at training time by
``robocoord.sim.tasks.safe_nav.arena_spec``), so the robot needs neither PyBullet nor the sim package:

* :class:`SafeNavArena` — cells (i east, j north) of the square arena [m, world frame], the go-to
  target and cruise speed of each action, and the K = 3 cost indicators of a pose and forward speed:
  hazard (centre in a hazard cell), collision (the robot's footprint circle overlaps a wall or pillar:
  a virtual bumper from the localised pose) and overspeed (forward speed above the limit).
* :class:`RcmdpAgent` — one episode of decisions: the cell is fed one-hot to the artifact, an action is
  sampled from π (the graph's ``q_values`` are log π, as ``robocoord eval`` does), the
  :class:`~robocoord.controllers.shield.SafetyShield` filters it; between decisions the caller reports
  every control tick, and each decision's cost is the fraction of its ticks in which a condition held
  (the task's definition), which the shield accounts before the next decision.

Time is never read here: callers pass poses and speeds at their own rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from robocoord.controllers.contract import PolicyContract, family_section
from robocoord.controllers.policy import PolicyRuntime
from robocoord.controllers.shield import SafetyShield

COST_NAMES = ("hazard", "collision", "overspeed")
ROBOT_RADIUS_M = 0.12  # footprint circle of the wheeled robot for the virtual bumper (half-width + margin)


class ArenaSpecError(ValueError):
    """The contract's arena is missing or malformed; the message names the field."""


@dataclass(frozen=True)
class SafeNavArena:
    grid_cells: int
    cell_size_m: float
    hazard: frozenset[tuple[int, int]]
    pillars_m: tuple[tuple[float, float, float], ...]  # (x, y, radius)
    walls_m: tuple[float, float, float, float]  # inner faces: x_min, y_min, x_max, y_max
    start_cell: tuple[int, int]
    goal_cell: tuple[int, int]
    action_offsets: tuple[tuple[int, int], ...]
    dash_from_action: int
    cruise_speed_m_s: float
    dash_speed_m_s: float
    speed_limit_m_s: float
    decision_period_s: float
    max_decisions: int
    robot_radius_m: float = ROBOT_RADIUS_M

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> SafeNavArena:
        try:
            return cls(
                grid_cells=int(spec["grid_cells"]),
                cell_size_m=float(spec["cell_size_m"]),
                hazard=frozenset((int(i), int(j)) for i, j in spec["hazard_cells"]),
                pillars_m=tuple((float(x), float(y), float(r)) for x, y, r in spec["pillars_m"]),
                walls_m=tuple(float(v) for v in spec["walls_m"]),  # type: ignore[arg-type]
                start_cell=(int(spec["start_cell"][0]), int(spec["start_cell"][1])),
                goal_cell=(int(spec["goal_cell"][0]), int(spec["goal_cell"][1])),
                action_offsets=tuple((int(a), int(b)) for a, b in spec["action_offsets"]),
                dash_from_action=int(spec["dash_from_action"]),
                cruise_speed_m_s=float(spec["cruise_speed_m_s"]),
                dash_speed_m_s=float(spec["dash_speed_m_s"]),
                speed_limit_m_s=float(spec["speed_limit_m_s"]),
                decision_period_s=float(spec["decision_period_s"]),
                max_decisions=int(spec["max_decisions"]),
                robot_radius_m=float(spec.get("robot_radius_m", ROBOT_RADIUS_M)),
            )
        except KeyError as err:
            raise ArenaSpecError(f"family_params.arena.{err.args[0]} missing") from None
        except (TypeError, ValueError) as err:
            raise ArenaSpecError(f"family_params.arena: {err}") from None

    @classmethod
    def from_contract(cls, contract: PolicyContract) -> SafeNavArena:
        return cls.from_spec(family_section(contract, "arena", "safe_nav", ArenaSpecError))

    @property
    def n_cells(self) -> int:
        return self.grid_cells**2

    def cell_of(self, x_m: float, y_m: float) -> tuple[int, int]:
        g = self.grid_cells - 1
        i = min(g, max(0, math.floor(x_m / self.cell_size_m)))
        j = min(g, max(0, math.floor(y_m / self.cell_size_m)))
        return i, j

    def cell_index(self, cell: tuple[int, int]) -> int:
        return cell[0] * self.grid_cells + cell[1]

    def cell_center_m(self, cell: tuple[int, int]) -> tuple[float, float]:
        return ((cell[0] + 0.5) * self.cell_size_m, (cell[1] + 0.5) * self.cell_size_m)

    def target(self, action: int, cell: tuple[int, int]) -> tuple[float, float, float]:
        """(x [m], y [m], cruise speed [m/s]) of ``action`` taken in ``cell`` (moves clipped to the arena)."""
        di, dj = self.action_offsets[action]
        g = self.grid_cells - 1
        goal = (min(g, max(0, cell[0] + di)), min(g, max(0, cell[1] + dj)))
        speed = self.dash_speed_m_s if action >= self.dash_from_action else self.cruise_speed_m_s
        return (*self.cell_center_m(goal), speed)

    def cost_indicators(self, x_m: float, y_m: float, forward_m_s: float) -> tuple[float, float, float]:
        """(hazard, collision, overspeed), each 0 or 1, for one control tick."""
        hazard = float(self.cell_of(x_m, y_m) in self.hazard)
        r = self.robot_radius_m
        x0, y0, x1, y1 = self.walls_m
        touching = x_m - x0 < r or y_m - y0 < r or x1 - x_m < r or y1 - y_m < r
        touching = touching or any(math.hypot(x_m - px, y_m - py) < pr + r for px, py, pr in self.pillars_m)
        return hazard, float(touching), float(abs(forward_m_s) > self.speed_limit_m_s)


@dataclass
class RcmdpAgent:
    """One safe_nav episode on the robot: sample from π, filter through the shield, account the costs."""

    runtime: PolicyRuntime
    arena: SafeNavArena
    shield: SafetyShield | None
    rng: np.random.Generator
    decisions: int = 0
    vetoes: int = 0
    reached_goal: bool = False
    _tick_costs: np.ndarray = field(default_factory=lambda: np.zeros(3))
    _ticks: int = 0
    _in_force: bool = False  # a decision is being executed (its costs not yet accounted)
    discounted_cost: np.ndarray = field(default_factory=lambda: np.zeros(3))
    total_cost: np.ndarray = field(default_factory=lambda: np.zeros(3))
    cells_visited: set[tuple[int, int]] = field(default_factory=set)  # at decisions

    def __post_init__(self) -> None:
        if self.runtime.obs_dim != self.arena.n_cells:
            raise ArenaSpecError(
                f"observation: the artifact takes {self.runtime.obs_dim} cells, the arena has {self.arena.n_cells}"
            )
        self.gamma = float(self.runtime.contract.family_params.get("gamma", 0.95))
        self.budgets = np.asarray(self.runtime.contract.family_params.get("budgets", [math.inf] * 3), float)
        self._eye = np.eye(self.arena.n_cells, dtype=np.float32)

    @property
    def done(self) -> bool:
        return self.reached_goal or self.decisions >= self.arena.max_decisions

    def observe_tick(self, x_m: float, y_m: float, forward_m_s: float) -> None:
        """One control tick of the decision in force: its cost indicators."""
        self._tick_costs += self.arena.cost_indicators(x_m, y_m, forward_m_s)
        self._ticks += 1

    def _close_decision(self) -> None:
        """The decision just finished: its costs (fractions of its ticks) go to the shield and the totals."""
        cost = self._tick_costs / self._ticks if self._ticks else np.zeros(3)
        self.discounted_cost += self.gamma ** (self.decisions - 1) * cost
        self.total_cost += cost
        if self.shield is not None:
            self.shield.observe(cost)
        self._tick_costs = np.zeros(3)
        self._ticks = 0

    def decide(self, x_m: float, y_m: float) -> tuple[int, bool]:
        """The next action in the robot's cell, and whether the shield vetoed the policy's proposal.

        Once the episode is over (goal reached or ``max_decisions``) it is the contract's safe action.
        """
        if self._in_force:
            self._close_decision()
            self._in_force = False
        cell = self.arena.cell_of(x_m, y_m)
        self.cells_visited.add(cell)
        if cell == self.arena.goal_cell:
            self.reached_goal = True
        if self.done:
            return int(self.runtime.safe_action), False
        log_pi = self.runtime.act(self._eye[self.arena.cell_index(cell)]).outputs["q_values"][0].astype(float)
        p = np.exp(log_pi - log_pi.max())
        action = int(self.rng.choice(p.size, p=p / p.sum()))
        vetoed = False
        if self.shield is not None:
            decision = self.shield.filter(self.arena.cell_index(cell), action)
            action, vetoed = decision.action, decision.vetoed
            self.vetoes += int(vetoed)
        self.decisions += 1
        self._in_force = True
        return action, vetoed

    def violated(self) -> list[bool]:
        """Per constraint: the discounted cost so far exceeds its budget (what the CMDP constrains)."""
        return [bool(c > b) for c, b in zip(self.discounted_cost, self.budgets, strict=True)]
