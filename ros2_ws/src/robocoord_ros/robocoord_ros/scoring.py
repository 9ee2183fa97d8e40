"""Warehouse task reward of a running fleet, free of rclpy: decisions in, GMFS reward out.

Each policy decision of robot i (its task state s_i before acting and its action a_i) is scored
with the warehouse's reward (``robocoord.sim.tasks.warehouse_model.warehouse_reward``, numpy only):
base(s_i) · max(0.4, 1 − L·c_i) − cost(a_i), where c_i is the fraction of robot i's block-mates
(robots sharing its work station) whose last reported task state is Working — the same rule as the
simulator, evaluated on what the robots report over ROS.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

WORKING = 2


@dataclass
class RobotScore:
    decisions: int = 0
    reward_sum: float = 0.0
    state_counts: list[int] = field(default_factory=lambda: [0, 0, 0])

    @property
    def mean_reward(self) -> float:
        return self.reward_sum / self.decisions if self.decisions else float("nan")


class WarehouseScorer:
    def __init__(self, blocks: Mapping[int, int], congestion_penalty_L: float):
        """``blocks``: robot id -> block id (robots of a block share a work station)."""
        self.blocks = dict(blocks)
        self.L = congestion_penalty_L
        self.states: dict[int, int] = dict.fromkeys(self.blocks, 0)
        self.scores: dict[int, RobotScore] = defaultdict(RobotScore)
        self.timeline: list[tuple[float, int, int, int]] = []  # (t [s], robot, state, action)
        self._lock = threading.Lock()

    def on_state(self, robot_id: int, state: int) -> None:
        with self._lock:
            self.states[robot_id] = state

    def congestion(self, robot_id: int) -> float:
        block = self.blocks[robot_id]
        mates = [r for r, b in self.blocks.items() if b == block and r != robot_id]
        if not mates:
            return 0.0
        return sum(1 for r in mates if self.states.get(r) == WORKING) / len(mates)

    def on_decision(self, robot_id: int, action: int, t_s: float, state: int | None = None) -> float:
        """Score one decision; ``state`` is the robot's task state when it decided (default: last reported)."""
        from robocoord.sim.tasks.warehouse_model import warehouse_reward

        with self._lock:
            if state is None:
                state = self.states.get(robot_id, 0)
            self.states[robot_id] = state
            reward = float(warehouse_reward(state, action, self.congestion(robot_id), self.L))
            score = self.scores[robot_id]
            score.decisions += 1
            score.reward_sum += reward
            score.state_counts[state] += 1
            self.timeline.append((t_s, robot_id, state, action))
        return reward

    def mean_reward_per_decision(self) -> float:
        with self._lock:
            decisions = sum(s.decisions for s in self.scores.values())
            total = sum(s.reward_sum for s in self.scores.values())
        return total / decisions if decisions else float("nan")

    def occupancy(self, bins_s: Sequence[float]) -> np.ndarray:
        """Fraction of decisions in each task state per time bin, shape (len(bins)-1, 3)."""
        with self._lock:
            timeline = list(self.timeline)
        out = np.zeros((len(bins_s) - 1, 3))
        for t, _, state, _ in timeline:
            k = int(np.searchsorted(bins_s, t, side="right")) - 1
            if 0 <= k < len(out):
                out[k, state] += 1
        totals = out.sum(axis=1, keepdims=True)
        return np.divide(out, totals, out=np.zeros_like(out), where=totals > 0)


def blocks_from_stations(stations: Mapping[int, tuple[float, float]]) -> dict[int, int]:
    """Robots sharing a work station (to 1 mm) form a block."""
    keys: dict[tuple[int, int], int] = {}
    out = {}
    for rid, (x, y) in stations.items():
        key = (round(x * 1000), round(y * 1000))
        out[rid] = keys.setdefault(key, len(keys))
    return out
