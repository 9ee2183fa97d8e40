"""The warehouse task's discrete model: task states, the GMFS reward, and a generative transition model.

S = A = {0 Idle, 1 Transit, 2 Working}; an action is the intended next state.
Congestion c in [0, 1] is the fraction of a robot's neighbourhood that is Working.

:class:`WarehouseTransitionModel` is what offline value iteration samples from. Its
table P(s' | s, a, c) is *measured* in PyBullet (see :func:`measure_transitions` in
:mod:`robocoord.sim.tasks.warehouse`): crowding at the work stations is physical, so
e.g. P(Working | Idle, Working, c) falls with c because robots block each other.
The table lives in ``sim/data/warehouse_transitions.npz`` together with its provenance
and is regenerated with ``robocoord sim fit-warehouse``. This module needs only numpy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

import numpy as np

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_TRANSITIONS_PATH = DATA_DIR / "warehouse_transitions.npz"


class TaskState(IntEnum):
    IDLE = 0
    TRANSIT = 1
    WORKING = 2


N_STATES = len(TaskState)
BASE_REWARD = np.array([10.0, 5.0, 20.0])  # indexed by state: Idle, Transit, Working
ACTION_COST = np.array([0.0, 0.0, 5.0])  # indexed by action: only heading for work costs
MIN_CONGESTION_FACTOR = 0.4


def warehouse_reward(
    state: np.ndarray | int, action: np.ndarray | int, congestion: np.ndarray | float, L: float
) -> np.ndarray:
    """GMFS robotic reward: base(s) * max(0.4, 1 - L c) - cost(a), elementwise."""
    s = np.asarray(state, dtype=int)
    a = np.asarray(action, dtype=int)
    c = np.asarray(congestion, dtype=float)
    _check_states(s, "state")
    _check_states(a, "action")
    return BASE_REWARD[s] * np.maximum(MIN_CONGESTION_FACTOR, 1.0 - L * c) - ACTION_COST[a]


def _check_states(values: np.ndarray, name: str) -> None:
    if values.size and (values.min() < 0 or values.max() >= N_STATES):
        raise ValueError(f"{name}: values must be in 0..{N_STATES - 1} (Idle, Transit, Working)")


@dataclass(frozen=True)
class WarehouseTransitionModel:
    """P(s' | s, a, c) on a grid of congestion levels, linearly interpolated in c.

    ``probs``: (S, A, C, S') with rows summing to one; ``counts``: the raw PyBullet
    transition counts behind it; ``congestion_levels``: (C,) increasing from 0 to 1.
    """

    probs: np.ndarray
    counts: np.ndarray
    congestion_levels: np.ndarray
    provenance: dict[str, Any]

    def __post_init__(self) -> None:
        if self.probs.shape[:2] != (N_STATES, N_STATES) or self.probs.shape[3] != N_STATES:
            raise ValueError(f"probs: expected shape (3, 3, C, 3), got {self.probs.shape}")
        if self.probs.shape[2] != len(self.congestion_levels):
            raise ValueError("probs: one column per congestion level expected")
        if not np.allclose(self.probs.sum(axis=-1), 1.0):
            raise ValueError("probs: rows must sum to one")

    @classmethod
    def from_counts(
        cls,
        counts: np.ndarray,
        congestion_levels: np.ndarray,
        provenance: dict[str, Any],
        prior_weight: float = 2.0,
    ) -> WarehouseTransitionModel:
        """Estimate from counts (S, A, C, S').

        A congestion bin seen n times gets (counts + w * pooled) / (n + w), shrinking sparse bins
        towards the (s, a) row pooled over congestion. A bin never seen copies its nearest seen
        bin: rollouts rarely reach very high congestion (a work station holds only so many
        robots), and carrying the last measured crowding level beats falling back to the mean.
        """
        counts = np.asarray(counts, dtype=float)
        pooled = counts.sum(axis=2, keepdims=True)
        pooled_total = pooled.sum(axis=-1, keepdims=True)
        # a (s, a) pair never observed at all: uniform (visible in the file as zero counts)
        pooled_probs = np.where(pooled_total > 0, pooled / np.maximum(pooled_total, 1e-12), 1.0 / N_STATES)
        n = counts.sum(axis=-1, keepdims=True)
        probs = (counts + prior_weight * pooled_probs) / (n + prior_weight)
        seen = n[..., 0] > 0  # (S, A, C)
        for s, a in zip(*np.nonzero(seen.any(axis=-1)), strict=True):
            seen_bins = np.flatnonzero(seen[s, a])
            nearest = seen_bins[
                np.abs(np.arange(seen.shape[-1])[:, None] - seen_bins[None, :]).argmin(axis=1)
            ]
            probs[s, a] = probs[s, a, nearest]
        return cls(probs, counts, np.asarray(congestion_levels, dtype=float), provenance)

    @classmethod
    def load(cls, path: Path | str = DEFAULT_TRANSITIONS_PATH) -> WarehouseTransitionModel:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no transition table; run `robocoord sim fit-warehouse`")
        with np.load(path, allow_pickle=False) as data:
            return cls(
                probs=data["probs"],
                counts=data["counts"],
                congestion_levels=data["congestion_levels"],
                provenance=json.loads(str(data["provenance_json"])),
            )

    def save(self, path: Path | str = DEFAULT_TRANSITIONS_PATH) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            np.savez_compressed(
                handle,
                probs=self.probs,
                counts=self.counts,
                congestion_levels=self.congestion_levels,
                provenance_json=np.array(json.dumps(self.provenance, sort_keys=True)),
            )
        return path

    def transition_probs(self, state: np.ndarray, action: np.ndarray, congestion: np.ndarray) -> np.ndarray:
        """(..., S') next-state distributions, linear in c between measured levels."""
        s = np.asarray(state, dtype=int)
        a = np.asarray(action, dtype=int)
        c = np.clip(np.asarray(congestion, dtype=float), 0.0, 1.0)
        _check_states(s, "state")
        _check_states(a, "action")
        levels = self.congestion_levels
        upper = np.clip(np.searchsorted(levels, c, side="right"), 1, len(levels) - 1)
        lower = upper - 1
        weight = np.clip((c - levels[lower]) / (levels[upper] - levels[lower]), 0.0, 1.0)[..., None]
        return (1.0 - weight) * self.probs[s, a, lower] + weight * self.probs[s, a, upper]

    def sample_next(
        self,
        state: np.ndarray,
        action: np.ndarray,
        congestion: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Draw s' for every element at once (inverse-CDF on one uniform per element)."""
        s, a, c = np.broadcast_arrays(
            np.asarray(state), np.asarray(action), np.asarray(congestion, dtype=float)
        )
        cdf = np.cumsum(self.transition_probs(s, a, c), axis=-1)
        u = rng.random(s.shape)[..., None]
        return np.minimum((u > cdf).sum(axis=-1), N_STATES - 1).astype(np.int64)

    def sample_next_from_histogram(
        self, state: np.ndarray, action: np.ndarray, histogram: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Same as :meth:`sample_next` with the neighbourhood histogram (..., 3) over (Idle, Transit,
        Working) instead of c; only its Working share matters: c = histogram[..., Working] / sum."""
        hist = np.asarray(histogram, dtype=float)
        if hist.shape[-1] != N_STATES or np.any(hist < 0):
            raise ValueError(
                "histogram: expected non-negative (..., 3) counts or fractions of Idle, Transit, Working"
            )
        total = hist.sum(axis=-1)
        congestion = np.where(total > 0, hist[..., TaskState.WORKING] / np.maximum(total, 1e-12), 0.0)
        return self.sample_next(state, action, congestion, rng)

    def reward(self, state: np.ndarray, action: np.ndarray, congestion: np.ndarray, L: float) -> np.ndarray:
        return warehouse_reward(state, action, congestion, L)
