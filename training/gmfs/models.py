"""Generative models for GMFS: r(s, a, g) and P(· | s, a, g), vectorised over any leading axes.

A model is queried with integer arrays ``s``, ``a`` and a mean field ``g`` (..., |S|) of
state frequencies (g = z/κ in Alg. 1, the true g_i in Alg. 2); all three broadcast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class GenerativeModel(Protocol):
    state_names: tuple[str, ...]
    action_names: tuple[str, ...]
    safe_action: int

    @property
    def n_states(self) -> int: ...

    @property
    def n_actions(self) -> int: ...

    def reward(self, s: ArrayLike, a: ArrayLike, g: ArrayLike) -> FloatArray: ...

    def next_state_probs(self, s: ArrayLike, a: ArrayLike, g: ArrayLike) -> FloatArray: ...


def sample_categorical(probs: ArrayLike, rng: np.random.Generator) -> IntArray:
    """One draw per row of ``probs`` (..., k) by inverse CDF."""
    p = np.asarray(probs, dtype=np.float64)
    cdf = np.cumsum(p, axis=-1)
    u = rng.random(p.shape[:-1])[..., None] * cdf[..., -1:]
    return np.minimum((cdf <= u).sum(axis=-1), p.shape[-1] - 1).astype(np.int64)


def sample_next_state(
    model: GenerativeModel, s: ArrayLike, a: ArrayLike, g: ArrayLike, rng: np.random.Generator
) -> IntArray:
    return sample_categorical(model.next_state_probs(s, a, g), rng)


@dataclass(frozen=True)
class AnalyticWarehouseModel:
    """The paper's robotic coordination model.

    S = {Idle, Transit, Working}; an action is the intended next state; congestion c = g[Working].

    * a = Working: reach Working w.p. max(0.1, 0.9 − 0.8 c), else end up in Transit;
    * otherwise:   reach a w.p. 0.9, else stay in s;
    * r(s, a, g) = base[s] · max(0.4, 1 − L c) − cost[a], base = (10, 5, 20), cost = (0, 0, 5).
    """

    L: float = 5.0
    base: tuple[float, ...] = (10.0, 5.0, 20.0)
    cost: tuple[float, ...] = (0.0, 0.0, 5.0)
    state_names: tuple[str, ...] = ("idle", "transit", "working")
    action_names: tuple[str, ...] = ("go_idle", "go_transit", "go_working")
    safe_action: int = 0

    IDLE, TRANSIT, WORKING = 0, 1, 2

    @property
    def n_states(self) -> int:
        return 3

    @property
    def n_actions(self) -> int:
        return 3

    def congestion(self, g: ArrayLike) -> FloatArray:
        return np.asarray(g, dtype=np.float64)[..., self.WORKING]

    def reward(self, s: ArrayLike, a: ArrayLike, g: ArrayLike) -> FloatArray:
        c = self.congestion(g)
        crowding = np.maximum(0.4, 1.0 - self.L * c)
        return (
            np.asarray(self.base)[np.asarray(s, dtype=np.int64)] * crowding
            - np.asarray(self.cost)[np.asarray(a, dtype=np.int64)]
        )

    def next_state_probs(self, s: ArrayLike, a: ArrayLike, g: ArrayLike) -> FloatArray:
        s_, a_, c = np.broadcast_arrays(np.asarray(s), np.asarray(a), self.congestion(g))
        probs = np.zeros((*c.shape, 3))
        to_work = a_ == self.WORKING
        p_work = np.maximum(0.1, 0.9 - 0.8 * c)
        idx = np.indices(c.shape)
        probs[(*idx, a_)] += np.where(to_work, p_work, 0.9)
        # a = Working fails into Transit; any other action fails by staying put
        fallback = np.where(to_work, self.TRANSIT, s_)
        probs[(*idx, fallback)] += np.where(to_work, 1.0 - p_work, 0.1)
        return probs


class SyntheticModel:
    """A random model for any |S|, |A| (tests and the neural variant's scaling checks).

    P(· | s, a, g) = Σ_k g_k K_k(· | s, a) mixes |S| random kernels by the mean field;
    r(s, a, g) = R0[s, a] + R1[s, a] · g.
    """

    safe_action = 0

    def __init__(self, n_states: int, n_actions: int, seed: int = 0):
        if n_states < 1 or n_actions < 1:
            raise ValueError(f"synthetic model: need |S|, |A| >= 1, got {n_states}, {n_actions}")
        rng = np.random.default_rng(seed)
        self.state_names = tuple(f"s{i}" for i in range(n_states))
        self.action_names = tuple(f"a{i}" for i in range(n_actions))
        self.kernels = rng.dirichlet(
            np.full(n_states, 0.5), size=(n_states, n_states, n_actions)
        )  # [k, s, a, s']
        self.r0 = rng.normal(size=(n_states, n_actions))
        self.r1 = rng.normal(size=(n_states, n_actions, n_states))

    @property
    def n_states(self) -> int:
        return len(self.state_names)

    @property
    def n_actions(self) -> int:
        return len(self.action_names)

    def reward(self, s: ArrayLike, a: ArrayLike, g: ArrayLike) -> FloatArray:
        s_, a_ = np.asarray(s), np.asarray(a)
        return self.r0[s_, a_] + np.einsum("...k,...k->...", self.r1[s_, a_], np.asarray(g, dtype=np.float64))

    def next_state_probs(self, s: ArrayLike, a: ArrayLike, g: ArrayLike) -> FloatArray:
        s_, a_ = np.asarray(s), np.asarray(a)
        per_kernel = np.moveaxis(self.kernels[:, s_, a_], 0, -2)  # (..., k, s')
        return np.einsum("...k,...kt->...t", np.asarray(g, dtype=np.float64), per_kernel)
