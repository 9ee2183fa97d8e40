"""What one policy_controller does each tick, free of rclpy and of clocks (``now_s`` is passed in).

:class:`PolicyLoop` owns the loaded artifact (:class:`robocoord.controllers.policy.PolicyRuntime`),
the staleness rule and the timing statistics; what a policy family does lives in a small
:class:`Strategy` object (:mod:`robocoord_ros.strategies`). :class:`GoTo` is the sim's go-to controller
for one robot, :class:`WarehouseStations` the warehouse's task-state rule.

Stale or non-finite inputs give the contract's safe action and a zero twist (stop).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from robocoord.controllers.policy import PolicyRuntime
from robocoord_ros.timing import DeadlineMonitor, LatencyHistogram, RateMeter

TASK_STATES = ("Idle", "Transit", "Working")
IDLE, TRANSIT, WORKING = 0, 1, 2


class ContractMismatch(ValueError):
    """The artifact does not fit this robot or this node; the message names what differs."""


@dataclass(frozen=True)
class Pose2D:
    """Planar pose in the world frame: x [m], y [m], yaw [rad]."""

    x_m: float
    y_m: float
    yaw_rad: float

    def finite(self) -> bool:
        return math.isfinite(self.x_m) and math.isfinite(self.y_m) and math.isfinite(self.yaw_rad)


@dataclass(frozen=True)
class Twist2D:
    """Body-frame command: forward speed v [m/s], yaw rate ω [rad/s]."""

    linear_m_s: float
    angular_rad_s: float


STOP = Twist2D(0.0, 0.0)


@dataclass(frozen=True)
class GoTo:
    """The warehouse's low-level go-to-point controller (robocoord.sim.tasks.goto, numpy only), one robot."""

    max_linear_m_s: float
    max_angular_rad_s: float
    cruise_speed_m_s: float = 0.5

    heading_gain_per_s: float = 4.0
    slow_down_radius_m: float = 0.3
    arrive_tolerance_m: float = 0.05

    def command(
        self, pose: Pose2D, goal_x_m: float, goal_y_m: float, cruise_speed_m_s: float | None = None
    ) -> Twist2D:
        """The same law as robocoord.sim.tasks.goto.go_to_unicycle, for one robot without numpy overhead
        (a test checks both agree): turn towards the goal, speed ∝ cos² of the heading error, slow
        down inside ``slow_down_radius_m``, stop inside ``arrive_tolerance_m``. ``cruise_speed_m_s``
        overrides the configured cruise speed (a task whose actions move at different speeds)."""
        dx, dy = goal_x_m - pose.x_m, goal_y_m - pose.y_m
        distance = math.hypot(dx, dy)
        error = math.atan2(dy, dx) - pose.yaw_rad
        error = (error + math.pi) % (2.0 * math.pi) - math.pi
        omega = max(-self.max_angular_rad_s, min(self.max_angular_rad_s, self.heading_gain_per_s * error))
        alignment = max(0.0, math.cos(error)) ** 2
        cruise = self.cruise_speed_m_s if cruise_speed_m_s is None else cruise_speed_m_s
        v = cruise * min(1.0, max(0.0, distance / self.slow_down_radius_m)) * alignment
        if distance < self.arrive_tolerance_m:
            return STOP
        return Twist2D(min(v, self.max_linear_m_s), omega)

    def limit(self, twist: Twist2D) -> Twist2D:
        """``twist`` within the speed limits (a motion primitive commanded directly)."""
        v = max(-self.max_linear_m_s, min(self.max_linear_m_s, twist.linear_m_s))
        w = max(-self.max_angular_rad_s, min(self.max_angular_rad_s, twist.angular_rad_s))
        return Twist2D(v, w)


@dataclass(frozen=True)
class WarehouseStations:
    """One robot's stations and the task-state rule of the warehouse, world frame [m]."""

    home_xy_m: tuple[float, float]
    work_xy_m: tuple[float, float]
    home_radius_m: float = 0.2
    work_radius_m: float = 0.3

    @property
    def transit_xy_m(self) -> tuple[float, float]:
        return (0.5 * (self.home_xy_m[0] + self.work_xy_m[0]), 0.5 * (self.home_xy_m[1] + self.work_xy_m[1]))

    def classify(self, pose: Pose2D) -> int:
        """Idle near home, Working near the work station, Transit anywhere else."""
        if math.hypot(pose.x_m - self.work_xy_m[0], pose.y_m - self.work_xy_m[1]) < self.work_radius_m:
            return WORKING
        if math.hypot(pose.x_m - self.home_xy_m[0], pose.y_m - self.home_xy_m[1]) < self.home_radius_m:
            return IDLE
        return TRANSIT

    def target(self, intended: int) -> tuple[float, float]:
        return (self.home_xy_m, self.transit_xy_m, self.work_xy_m)[intended]


@dataclass
class TickInput:
    pose: Pose2D | None
    pose_stamp_s: float | None  # when the newest own observation arrived [s, same clock as now_s]
    neighbour_states: Mapping[int, int]  # robot id -> last reported task state
    forward_m_s: float = 0.0  # forward speed from the wheel odometry [m/s]
    # named objects' world poses (team_push: "box"); their age is folded into pose_stamp_s by the node
    objects: Mapping[str, Pose2D] = field(default_factory=dict)


class Strategy(Protocol):
    """What a policy family does on one robot; :class:`PolicyLoop` handles staleness, safety and timing."""

    def decide(
        self, runtime: PolicyRuntime, inp: TickInput, rng: np.random.Generator
    ) -> tuple[int, int] | None:
        """(action, task state) on a fresh, finite input; None when the policy flagged its input non-finite."""
        ...

    def target(self, action: int) -> tuple[float, float, float | None] | Twist2D:
        """Go-to goal (x [m], y [m], world) of ``action`` and its cruise speed [m/s] (None: the default),
        or, for a family whose actions are motion primitives, the twist to hold until the next decision."""
        ...

    def on_control(self, inp: TickInput) -> None:
        """One go-to tick on a fresh input while a decision is in force."""
        ...


@dataclass
class Decision:
    action: int | list[float]
    used_safe_action: bool
    reason: str  # "ok" | "stale" | "no_input" | "non_finite"
    task_state: int


class PolicyLoop:
    """Artifact + strategy + safety + statistics for one robot.

    :meth:`decide` runs at the contract rate (the policy); :meth:`control` runs on every fresh
    pose (the go-to controller towards the decided station). Both give the safe action / a stop
    when the pose is missing, older than ``stale_after_s`` or not finite.
    """

    def __init__(
        self,
        runtime: PolicyRuntime,
        strategy: Strategy,
        goto: GoTo,
        *,
        stale_after_s: float,
        seed: int = 0,
    ):
        self.runtime = runtime
        self.contract = runtime.contract
        self.strategy = strategy
        self.goto = goto
        self.period_s = 1.0 / self.contract.control_rate_hz
        self.stale_after_s = stale_after_s
        self.rng = np.random.default_rng(seed)
        self.latency = LatencyHistogram()
        self.compute = LatencyHistogram()
        self.deadlines = DeadlineMonitor(self.period_s)
        self.decision_rate = RateMeter(window_s=max(4.0, 4.0 * self.period_s))
        self.control_rate = RateMeter()
        self.safe_actions = 0
        self.decisions = 0
        self.intended = IDLE
        self.task_state = IDLE
        self.safe = True  # no decision yet: stand still
        self.last_reason = "no_input"

    def input_problem(self, now_s: float, inp: TickInput) -> str | None:
        if inp.pose is None or inp.pose_stamp_s is None:
            return "no_input"
        if now_s - inp.pose_stamp_s > self.stale_after_s:
            return "stale"
        if not inp.pose.finite():
            return "non_finite"
        return None

    def decide(self, now_s: float, inp: TickInput) -> Decision:
        self.decisions += 1
        self.decision_rate.add(now_s)
        problem = self.input_problem(now_s, inp)
        if problem is None:
            choice = self.strategy.decide(self.runtime, inp, self.rng)
            if choice is not None:
                self.intended, self.task_state = choice
                self.safe = False
                self.last_reason = "ok"
                return Decision(self.intended, False, "ok", self.task_state)
            problem = "non_finite"
        self.safe_actions += 1
        self.safe = True
        self.last_reason = problem
        return Decision(int(self.runtime.safe_action), True, problem, self.task_state)

    def control(self, now_s: float, inp: TickInput) -> Twist2D:
        """The go-to command towards the decided station; a stop while the input is bad or no decision is valid."""
        self.control_rate.add(now_s)
        problem = self.input_problem(now_s, inp)
        if problem is not None:
            self.last_reason = problem
            self.safe = True
            return STOP
        if self.safe or inp.pose is None:
            return STOP
        self.strategy.on_control(inp)
        goal = self.strategy.target(self.intended)
        twist = self.goto.limit(goal) if isinstance(goal, Twist2D) else self.goto.command(inp.pose, *goal)
        if not (math.isfinite(twist.linear_m_s) and math.isfinite(twist.angular_rad_s)):
            return STOP
        return twist

    def record_latency(self, input_stamp_s: float | None, start_s: float, published_s: float) -> None:
        self.compute.add(1e3 * (published_s - start_s))
        if input_stamp_s is not None:
            self.latency.add(1e3 * (published_s - input_stamp_s))


def latent_positions_from_homes(xs_m: Sequence[float], ys_m: Sequence[float]) -> np.ndarray:
    """Latent positions α_i in [0, 1]^2 from the home poses (min–max scaled per axis, the lattice of the task)."""
    pts = np.column_stack([np.asarray(xs_m, dtype=float), np.asarray(ys_m, dtype=float)])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    return (pts - lo) / span
