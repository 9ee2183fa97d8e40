"""Tabular GMFS: Alg. 1 (offline value iteration with a generative model) and Alg. 2 (execution).

Alg. 1 learns Q[s, a, z] where z is the count vector of κ subsampled neighbours over S.
Each synchronous sweep, for every (s, a, z) at once, draws M samples of

* the focal agent's next state   s'_m ~ P(· | s, a, z/κ);
* the neighbours' next histogram z'_m: the z[s_n] neighbours in bin s_n all take the
  greedy action a_n = argmax_a Q[s_n, a, z] and move with P(· | s_n, a_n, z/κ), so the
  bin contributes a Multinomial(z[s_n], P(· | s_n, a_n, z/κ)) draw to z';

and sets Q_new[s, a, z] = R[s, a, z] + γ · mean_m max_a' Q[s'_m, a', z'_m].

``neighbor_action`` chooses when the neighbours' greedy actions are read:

* ``current_greedy`` (default): every sweep redraws the samples with a_n from the current Q.
  This is the operator the paper writes down.
* ``first_sweep_greedy``: the authors' code draws the samples once, in the first sweep,
  when Q ≡ 0 (so every neighbour takes action 0), and reuses them in every later sweep.
  The operator is then a fixed sampled γ-contraction; the neighbours never react to Q.

Alg. 2 runs n agents: each draws κ neighbours with replacement from W̄_i· (or uniformly,
the baseline), forms ĝ_i, acts a_i = argmax_a Q[s_i, a, ĝ_i]; rewards and transitions use
the true g_i = Σ_j W̄_ij e_{s_j}.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from robocoord.controllers.gmfs_sampler import (
    CountIndex,
    NeighbourSampler,
    mean_field,
    neighbour_counts,
    table_size,
    total_variation,
)
from robocoord.training.gmfs.models import GenerativeModel, sample_categorical

NeighborAction = Literal["current_greedy", "first_sweep_greedy"]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

DEFAULT_MAX_TABLE_SIZE = 2_000_000


class TableTooLarge(ValueError):
    """The tabular Q would exceed the configured limit."""


def check_table_size(n_states: int, n_actions: int, kappa: int, limit: int) -> int:
    if kappa <= 0:
        raise ValueError(f"kappa: must be a positive integer, got {kappa}")
    size = table_size(n_states, n_actions, kappa)
    if size > limit:
        raise TableTooLarge(
            f"kappa={kappa} with |S|={n_states}, |A|={n_actions} needs a Q table of {size:,} entries, "
            f"above max_table_size={limit:,}; raise max_table_size or use neural GMFS "
            "(robocoord train gmfs, kind gmfs-train)"
        )
    return size


@dataclass
class SampledTransitions:
    """M generative-model samples for every (s, a, z): next focal state and next neighbour histogram index."""

    s_next: IntArray  # (|S|, |A|, n_z, M)
    z_next: IntArray  # (|S|, |A|, n_z, M)


@dataclass
class TabularGmfs:
    """Q[s, a, z] at one κ, with R and the focal transition kernel precomputed over every (s, a, z)."""

    model: GenerativeModel
    kappa: int
    gamma: float
    mc_samples: int
    neighbor_action: NeighborAction = "current_greedy"
    max_table_size: int = DEFAULT_MAX_TABLE_SIZE
    z: CountIndex = field(init=False)
    R: FloatArray = field(init=False)
    P_focal: FloatArray = field(init=False)
    Q: FloatArray = field(init=False)

    def __post_init__(self) -> None:
        n_s, n_a = self.model.n_states, self.model.n_actions
        check_table_size(n_s, n_a, self.kappa, self.max_table_size)
        if not 0.0 <= self.gamma < 1.0:
            raise ValueError(f"gamma: must be in [0, 1), got {self.gamma}")
        if self.mc_samples <= 0:
            raise ValueError(f"mc_samples: must be positive, got {self.mc_samples}")
        if self.neighbor_action not in ("current_greedy", "first_sweep_greedy"):
            raise ValueError(f"neighbor_action: unknown {self.neighbor_action!r}")
        self.z = CountIndex.build(self.kappa, n_s)
        g = self.z.counts / self.kappa  # (n_z, |S|): the mean field z/κ of every table column
        s = np.arange(n_s)[:, None, None]
        a = np.arange(n_a)[None, :, None]
        self.R = self.model.reward(s, a, g[None, None])  # R[s, a, z] = r(s, a, z/κ)
        self.P_focal = self.model.next_state_probs(s, a, g[None, None])  # (|S|, |A|, n_z, |S|)
        self.Q = np.zeros((n_s, n_a, len(self.z)))

    @property
    def table_size(self) -> int:
        return int(self.Q.size)

    def greedy(self, Q: FloatArray | None = None) -> IntArray:
        """π[s, z] = argmax_a Q[s, a, z] (ties to the lowest action index)."""
        return np.argmax(self.Q if Q is None else Q, axis=1)

    def sample_transitions(self, Q: FloatArray, rng: np.random.Generator) -> SampledTransitions:
        """Draw M samples of (s', z') for every (s, a, z), neighbours acting greedily w.r.t. ``Q``."""
        n_s, n_a, n_z, m = self.model.n_states, self.model.n_actions, len(self.z), self.mc_samples
        s_next = sample_categorical(
            np.broadcast_to(self.P_focal[:, :, :, None], (n_s, n_a, n_z, m, n_s)), rng
        )

        a_n = self.greedy(Q)  # (|S|, n_z): the action of a neighbour in bin s_n seeing z
        g = self.z.counts / self.kappa
        P_nb = self.model.next_state_probs(np.arange(n_s)[:, None], a_n, g[None])  # (s_n, n_z, s')
        P_nb = np.moveaxis(P_nb, 0, 1)  # (n_z, s_n, s')
        counts = np.broadcast_to(self.z.counts[None, None, :, None, :], (n_s, n_a, n_z, m, n_s))
        moved = rng.multinomial(counts, np.broadcast_to(P_nb[None, None, :, None], (*counts.shape, n_s)))
        z_next = self.z.index(moved.sum(axis=-2))  # sum over source bins s_n
        return SampledTransitions(s_next=s_next, z_next=z_next)

    def bellman(self, Q: FloatArray, samples: SampledTransitions) -> FloatArray:
        """The sampled operator T̂: R + γ · mean_m max_a' Q[s'_m, a', z'_m]."""
        V = Q.max(axis=1)  # (|S|, n_z)
        return self.R + self.gamma * V[samples.s_next, samples.z_next].mean(axis=-1)

    def fit(
        self, sweeps: int, rng: np.random.Generator, on_sweep: Callable[[int, float], None] | None = None
    ) -> list[float]:
        """Alg. 1: T synchronous sweeps from Q ≡ 0. Returns max |ΔQ| of each sweep."""
        if sweeps <= 0:
            raise ValueError(f"sweeps: must be positive, got {sweeps}")
        deltas: list[float] = []
        frozen: SampledTransitions | None = None
        for t in range(sweeps):
            if self.neighbor_action == "first_sweep_greedy":
                frozen = frozen or self.sample_transitions(self.Q, rng)
                samples = frozen
            else:
                samples = self.sample_transitions(self.Q, rng)
            Q_new = self.bellman(self.Q, samples)
            deltas.append(float(np.abs(Q_new - self.Q).max()))
            self.Q = Q_new
            if on_sweep is not None:
                on_sweep(t, deltas[-1])
        return deltas

    def policy(self) -> Callable[[IntArray, IntArray], IntArray]:
        """The greedy execution policy (s_i, ĝ_i counts) -> a_i."""
        pi = self.greedy()
        z = self.z

        def act(s: IntArray, counts: IntArray) -> IntArray:
            return pi[s, z.index(counts)]

        return act


# --------------------------------------------------------------------------- Alg. 2


@dataclass
class Rollouts:
    """Alg. 2 outcome of ``R`` independent rollouts."""

    returns: FloatArray  # (R,) discounted per-agent average return
    mean_tv: float  # E ‖ĝ/κ − g‖_TV over agents, steps and rollouts
    work_fraction: float  # mean fraction of agents in the last state (Working in the paper's model)


def execute(
    act: Callable[[IntArray, IntArray], IntArray],
    model: GenerativeModel,
    w_bar: FloatArray,
    sampling_w_bar: FloatArray,
    kappa: int,
    horizon: int,
    rollouts: int,
    gamma: float,
    rng: np.random.Generator,
) -> Rollouts:
    """Alg. 2, vectorised over agents and rollouts. ``sampling_w_bar`` is W̄ (GMFS) or uniform (baseline)."""
    n = w_bar.shape[0]
    n_s = model.n_states
    sampler = NeighbourSampler(sampling_w_bar, kappa)
    states = rng.integers(0, n_s, size=(rollouts, n))
    returns = np.zeros(rollouts)
    tv_sum, work_sum = 0.0, 0.0
    for t in range(horizon):
        g_hat = neighbour_counts(states, sampler.sample(rng, (rollouts,)), n_s)  # ĝ_i, (R, n, |S|)
        actions = act(states, g_hat)
        g = mean_field(states, w_bar, n_s)  # true g_i
        returns += gamma**t * model.reward(states, actions, g).mean(axis=1)
        tv_sum += float(total_variation(g_hat / kappa, g).mean())
        work_sum += float((states == n_s - 1).mean())
        states = sample_categorical(model.next_state_probs(states, actions, g), rng)
    return Rollouts(returns=returns, mean_tv=tv_sum / horizon, work_fraction=work_sum / horizon)
