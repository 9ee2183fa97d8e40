"""What one policy_controller does each tick, free of rclpy and of clocks (``now_s`` is passed in).

:class:`PolicyLoop` owns the loaded artifact (:class:`robocoord.controllers.policy.PolicyRuntime`),
the staleness rule and the timing statistics. Family specifics are small strategy objects:

* :class:`GmfsStrategy` — discrete task state S = {Idle, Transit, Working}; each tick draws κ
  neighbours from W̄_i· of the graphon over the fleet's latent positions (the runtime sampler of
  :mod:`robocoord.controllers.gmfs_sampler`), counts their last reported task states into ĝ_i and
  acts on (one-hot s_i, ĝ_i/κ). The action is the intended next state; :class:`GoTo` drives the
  robot to that state's station and the robot's task state follows from where it is.

Stale or non-finite inputs give the contract's safe action and a zero twist (stop).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from robocoord.controllers.contract import DiscreteActionSpec, PolicyContract
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
    """Unicycle go-to-point controller: turn towards the goal, drive when roughly facing it."""

    max_linear_m_s: float
    max_angular_rad_s: float
    gain_linear_per_s: float = 1.5
    gain_angular_per_s: float = 4.0
    arrive_radius_m: float = 0.08
    drive_heading_rad: float = 0.6

    def command(self, pose: Pose2D, goal_x_m: float, goal_y_m: float) -> tuple[Twist2D, bool]:
        """(twist, arrived) for a robot at ``pose`` heading to (goal_x_m, goal_y_m)."""
        dx, dy = goal_x_m - pose.x_m, goal_y_m - pose.y_m
        distance = math.hypot(dx, dy)
        if distance <= self.arrive_radius_m:
            return STOP, True
        heading_error = math.atan2(dy, dx) - pose.yaw_rad
        heading_error = math.atan2(math.sin(heading_error), math.cos(heading_error))
        omega = max(
            -self.max_angular_rad_s, min(self.max_angular_rad_s, self.gain_angular_per_s * heading_error)
        )
        if abs(heading_error) > self.drive_heading_rad:
            return Twist2D(0.0, omega), False
        v = min(self.max_linear_m_s, self.gain_linear_per_s * distance) * math.cos(heading_error)
        return Twist2D(max(0.0, v), omega), False


@dataclass
class TickInput:
    pose: Pose2D | None
    pose_stamp_s: float | None  # when the newest own observation arrived [s, same clock as now_s]
    neighbour_states: Mapping[int, int]  # robot id -> last reported task state


@dataclass
class TickOutput:
    twist: Twist2D
    action: int | list[float]
    used_safe_action: bool
    reason: str  # "ok" | "stale" | "no_input" | "non_finite"
    task_state: int | None = None


class FamilyStrategy(Protocol):
    def observation(self, inp: TickInput, rng: np.random.Generator) -> np.ndarray: ...

    def command(self, inp: TickInput, action: np.ndarray) -> tuple[Twist2D, int | None]: ...

    def safe(self, inp: TickInput) -> tuple[Twist2D, int | None]: ...


@dataclass
class GmfsStrategy:
    """GMFS on one robot. ``stations_m[s]`` is the (x, y) [m] offset from home of task state s's station."""

    contract: PolicyContract
    robot_id: int
    fleet_ids: Sequence[int]
    latent_positions: np.ndarray  # (n, d), same order as fleet_ids
    home: Pose2D
    goto: GoTo
    stations_m: Sequence[tuple[float, float]] = ((0.0, 0.0), (0.0, 0.0), (0.6, 0.0))
    task_state: int = IDLE
    intended: int = IDLE
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

        A drawn neighbour whose state was never heard is counted as Idle (the state every robot starts in).
        """
        picks = rng.choice(len(self.fleet_ids), size=self._kappa, replace=True, p=self._row)
        states = [neighbour_states.get(self.fleet_ids[j], IDLE) for j in picks]
        return np.bincount(np.asarray(states, dtype=np.int64), minlength=self._n_states)[: self._n_states]

    def observation(self, inp: TickInput, rng: np.random.Generator) -> np.ndarray:
        one_hot = np.zeros(self._n_states, dtype=np.float32)
        one_hot[self.task_state] = 1.0
        counts = self.sample_counts(inp.neighbour_states, rng)
        return np.concatenate([one_hot, counts.astype(np.float32) / self._kappa])

    def goal(self, state: int) -> tuple[float, float]:
        dx, dy = self.stations_m[state]
        return self.home.x_m + dx, self.home.y_m + dy

    def command(self, inp: TickInput, action: np.ndarray) -> tuple[Twist2D, int | None]:
        if inp.pose is None:
            return self.safe(inp)
        self.intended = int(action)
        twist, arrived = self.goto.command(inp.pose, *self.goal(self.intended))
        if arrived:
            self.task_state = self.intended
        elif self.intended != self.task_state:
            self.task_state = TRANSIT
        return twist, self.task_state

    def safe(self, inp: TickInput) -> tuple[Twist2D, int | None]:
        return STOP, self.task_state


class PolicyLoop:
    """Artifact + strategy + safety + statistics for one robot."""

    def __init__(
        self,
        runtime: PolicyRuntime,
        strategy: FamilyStrategy,
        *,
        stale_after_s: float | None = None,
        seed: int = 0,
    ):
        self.runtime = runtime
        self.contract = runtime.contract
        self.strategy = strategy
        self.period_s = 1.0 / self.contract.control_rate_hz
        self.stale_after_s = stale_after_s if stale_after_s is not None else self.contract.stale_timeout_s
        self.rng = np.random.default_rng(seed)
        self.latency = LatencyHistogram()
        self.compute = LatencyHistogram()
        self.deadlines = DeadlineMonitor(self.period_s)
        self.rate = RateMeter()
        self.safe_actions = 0
        self.ticks = 0
        self.last_reason = "no_input"

    def tick(self, now_s: float, inp: TickInput) -> TickOutput:
        """Decide this tick's command from ``inp``. Timing statistics use ``now_s``."""
        self.ticks += 1
        self.rate.add(now_s)
        reason = "ok"
        if inp.pose is None or inp.pose_stamp_s is None:
            reason = "no_input"
        elif now_s - inp.pose_stamp_s > self.stale_after_s:
            reason = "stale"
        elif not inp.pose.finite():
            reason = "non_finite"
        self.last_reason = reason
        if reason != "ok":
            self.safe_actions += 1
            twist, task_state = self.strategy.safe(inp)
            return TickOutput(twist, self._safe_action_value(), True, reason, task_state)
        obs = self.strategy.observation(inp, self.rng)
        result = self.runtime.act(obs[None, :])
        if bool(result.used_safe_action[0]):
            self.safe_actions += 1
            self.last_reason = "non_finite"
            twist, task_state = self.strategy.safe(inp)
            return TickOutput(twist, self._safe_action_value(), True, "non_finite", task_state)
        action = result.action[0]
        twist, task_state = self.strategy.command(inp, action)
        if not (math.isfinite(twist.linear_m_s) and math.isfinite(twist.angular_rad_s)):
            self.safe_actions += 1
            twist, task_state = self.strategy.safe(inp)
            return TickOutput(twist, self._safe_action_value(), True, "non_finite", task_state)
        value: int | list[float] = int(action) if np.ndim(action) == 0 else [float(x) for x in action]
        return TickOutput(twist, value, False, "ok", task_state)

    def record_latency(self, input_stamp_s: float | None, tick_start_s: float, published_s: float) -> None:
        self.compute.add(1e3 * (published_s - tick_start_s))
        if input_stamp_s is not None:
            self.latency.add(1e3 * (published_s - input_stamp_s))

    def _safe_action_value(self) -> int | list[float]:
        safe = self.runtime.safe_action
        return int(safe) if safe.ndim == 0 else [float(x) for x in safe]


def latent_positions_from_homes(xs_m: Sequence[float], ys_m: Sequence[float]) -> np.ndarray:
    """Latent positions α_i in [0, 1]^2 from the home poses (min–max scaled per axis, the lattice of the task)."""
    pts = np.column_stack([np.asarray(xs_m, dtype=float), np.asarray(ys_m, dtype=float)])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    return (pts - lo) / span
