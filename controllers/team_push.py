"""A team_push ``drigm`` policy on one robot: observation from localised poses, greedy primitive, episode.

Everything comes from the artifact's contract (``family_params.team_push``, written at training time by
``robocoord.sim.tasks.team_push.task_spec``), so the robot needs neither PyBullet nor the sim package:

* :class:`TeamPushSpec` — primitives (v, ω) per action, decision period, goal and tolerance, the
  observation bound and the robots' start poses (world frame, metres; the box starts at the origin).
* :func:`observation` — the task's per-robot observation from the robot's pose and forward speed and
  the box's pose: robot − box (2), cos/sin robot yaw (2), goal − box (2), forward speed (1), box yaw (1),
  clipped to the task's bound (what ``TeamPushParallelEnv.observation_array`` computes in the sim).
* :class:`TeamPushAgent` — one robot's episode: agent ``agent_index`` of the team acts greedily
  (:class:`~robocoord.controllers.drigm_executor.DrigmAgentExecutor`, its own hidden state and previous
  action) once per decision; the episode ends when the box is within the goal tolerance at a decision,
  or rests in the near bay (a task with ``near_bay_xy_m``: within the tolerance of the bay centre and
  moved less than ``bay_settle_m`` since the previous decision), as the sim's termination, or after
  ``max_decisions`` decisions; from then on the robot stops.

Time is never read here: callers pass poses at their decision rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from robocoord.controllers.contract import PolicyContract, family_section
from robocoord.controllers.drigm_executor import DrigmAgentExecutor
from robocoord.controllers.policy import PolicyRuntime

OBS_DIM = 8
STOP_ACTION = 0


class TeamPushSpecError(ValueError):
    """The contract's ``family_params.team_push`` is missing or malformed; the message names the field."""


@dataclass(frozen=True)
class TeamPushSpec:
    n_robots: int
    primitives_unicycle: tuple[tuple[float, float], ...]  # (v [m/s], ω [rad/s]) per action
    decision_period_s: float
    goal_xy_m: tuple[float, float]
    goal_tolerance_m: float
    box_size_m: float
    max_decisions: int
    obs_bound: tuple[float, ...]
    start_poses: tuple[tuple[float, float, float], ...]  # per agent, world frame
    start_jitter: tuple[float, float] = (0.0, 0.0)  # episode starts: ± across [m], ± yaw [rad]
    near_bay_xy_m: tuple[float, float] | None = None  # the deadline variant's near bay [m; world]
    bay_settle_m: float = 0.05  # a box that moved less than this in one decision rests (near bay)

    @classmethod
    def from_contract(cls, contract: PolicyContract) -> TeamPushSpec:
        return cls.from_spec(family_section(contract, "team_push", "team_push", TeamPushSpecError))

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> TeamPushSpec:
        def get(key: str) -> Any:
            if key not in spec:
                raise TeamPushSpecError(f"family_params.team_push.{key} missing")
            return spec[key]

        try:
            out = cls(
                n_robots=int(get("n_robots")),
                primitives_unicycle=tuple((float(v), float(w)) for v, w in get("primitives_unicycle")),
                decision_period_s=float(get("decision_period_s")),
                goal_xy_m=(float(get("goal_xy_m")[0]), float(get("goal_xy_m")[1])),
                goal_tolerance_m=float(get("goal_tolerance_m")),
                box_size_m=float(get("box_size_m")),
                max_decisions=int(get("max_decisions")),
                obs_bound=tuple(float(b) for b in get("obs_bound")),
                start_poses=tuple((float(x), float(y), float(t)) for x, y, t in get("start_poses")),
                start_jitter=(float(get("start_jitter")[0]), float(get("start_jitter")[1])),
                # absent from artifacts older than the near bay: those tasks have the far goal only
                near_bay_xy_m=_optional_xy(spec.get("near_bay_xy_m")),
                bay_settle_m=float(spec.get("bay_settle_m", 0.05)),
            )
        except (TypeError, ValueError, IndexError) as err:
            if isinstance(err, TeamPushSpecError):
                raise
            raise TeamPushSpecError(f"family_params.team_push: malformed ({err})") from None
        if len(out.obs_bound) != OBS_DIM:
            raise TeamPushSpecError(f"family_params.team_push.obs_bound: expected {OBS_DIM} values")
        if len(out.start_poses) != out.n_robots:
            raise TeamPushSpecError(
                f"family_params.team_push.start_poses: {len(out.start_poses)} poses for {out.n_robots} robots"
            )
        return out

    @property
    def n_actions(self) -> int:
        return len(self.primitives_unicycle)


def _optional_xy(value: Any) -> tuple[float, float] | None:
    return None if value is None else (float(value[0]), float(value[1]))


def delivered_to(
    spec: TeamPushSpec, box_xy_m: Sequence[float], previous_box_xy_m: Sequence[float]
) -> str | None:
    """``"goal"``, ``"near_bay"`` or None: the sim's delivery rule (``robocoord.sim.tasks.team_push.delivery``)."""
    bx, by = float(box_xy_m[0]), float(box_xy_m[1])
    if math.hypot(spec.goal_xy_m[0] - bx, spec.goal_xy_m[1] - by) < spec.goal_tolerance_m:
        return "goal"
    bay = spec.near_bay_xy_m
    if bay is None or math.hypot(bay[0] - bx, bay[1] - by) >= spec.goal_tolerance_m:
        return None
    moved_m = math.hypot(bx - float(previous_box_xy_m[0]), by - float(previous_box_xy_m[1]))
    return "near_bay" if moved_m < spec.bay_settle_m else None


def episode_starts(spec: TeamPushSpec, seed: int | None) -> np.ndarray:
    """The robots' start poses [n, 3] of the sim episode reset with ``seed`` (the sim's jitter, same draws)."""
    rng = np.random.default_rng(seed)
    starts = np.asarray(spec.start_poses, dtype=float).copy()
    jy, jyaw = spec.start_jitter
    starts[:, 1] += rng.uniform(-jy, jy, len(starts))
    starts[:, 2] += rng.uniform(-jyaw, jyaw, len(starts))
    return starts


def observation(
    spec: TeamPushSpec,
    robot_xy_yaw: Sequence[float],
    forward_m_s: float,
    box_xy_yaw: Sequence[float],
) -> np.ndarray:
    """One robot's team_push observation (float32, [8]) from world-frame poses and its forward speed."""
    x, y, yaw = (float(v) for v in robot_xy_yaw)
    bx, by, byaw = (float(v) for v in box_xy_yaw)
    obs = np.array(
        [
            x - bx,
            y - by,
            math.cos(yaw),
            math.sin(yaw),
            spec.goal_xy_m[0] - bx,
            spec.goal_xy_m[1] - by,
            forward_m_s,
            byaw,
        ],
        dtype=np.float32,
    )
    bound = np.asarray(spec.obs_bound, dtype=np.float32)
    return np.clip(obs, -bound, bound)


@dataclass
class TeamPushAgent:
    """One robot's team_push episode under a DrIGM artifact (greedy, decentralised)."""

    runtime: PolicyRuntime
    agent_index: int
    spec: TeamPushSpec = field(init=False)
    executor: DrigmAgentExecutor = field(init=False)
    decisions: int = 0  # decisions taken this episode (the primitive of each was held one period)
    done: bool = False
    reached_goal: bool = False  # the box was delivered: to the goal or, in the deadline variant, the near bay
    delivered: str | None = None  # "goal" | "near_bay" | None
    decisions_to_goal: int | None = None
    box_to_goal_m: float = math.nan
    previous_box_xy_m: tuple[float, float] | None = None  # box at the previous decision [m; world]

    def __post_init__(self) -> None:
        self.spec = TeamPushSpec.from_contract(self.runtime.contract)
        self.executor = DrigmAgentExecutor(self.runtime, self.agent_index)
        if self.executor.n_actions != self.spec.n_actions:
            raise TeamPushSpecError(
                f"family_params.team_push: {self.spec.n_actions} primitives for {self.executor.n_actions} actions"
            )

    def reset(self) -> None:
        self.executor.reset()
        self.decisions = 0
        self.done = False
        self.reached_goal = False
        self.delivered = None
        self.decisions_to_goal = None
        self.box_to_goal_m = math.nan
        self.previous_box_xy_m = None

    def decide(self, robot_xy_yaw: Sequence[float], forward_m_s: float, box_xy_yaw: Sequence[float]) -> int:
        """The primitive to hold until the next decision; the stop once the episode is over."""
        gx, gy = self.spec.goal_xy_m
        box_xy = (float(box_xy_yaw[0]), float(box_xy_yaw[1]))
        self.box_to_goal_m = math.hypot(gx - box_xy[0], gy - box_xy[1])
        previous = box_xy if self.previous_box_xy_m is None else self.previous_box_xy_m
        self.previous_box_xy_m = box_xy
        where = delivered_to(self.spec, box_xy, previous)
        if where == "near_bay" and self.decisions == 0:
            where = None  # the rest test needs a decision taken (the sim tests it after each step only)
        if not self.done and where is not None:
            self.done, self.reached_goal, self.delivered = True, True, where
            self.decisions_to_goal = self.decisions
        if not self.done and self.decisions >= self.spec.max_decisions:
            self.done = True
        if self.done:
            return STOP_ACTION
        action = self.executor.act(observation(self.spec, robot_xy_yaw, forward_m_s, box_xy_yaw))
        self.decisions += 1
        return action

    def twist(self, action: int) -> tuple[float, float]:
        """(v [m/s], ω [rad/s]) of ``action``'s motion primitive."""
        v, w = self.spec.primitives_unicycle[action]
        return v, w
