"""GMFS neighbour subsampling: graphons, W̄, κ-neighbour draws and count vectors (numpy only).

This is the one implementation of the graphon and sampling maths. Training
(``robocoord.training.gmfs``) imports it, and so does the robot: every control tick
each robot i draws κ neighbours i.i.d. *with replacement* from the row W̄_i·, counts
their states into ĝ_i, and feeds ĝ_i (or ĝ_i/κ) to its policy (Alg. 2, step 1).

Notation (Anand, Hoffmann, Liaw, Wierman, "Graphon Mean-Field Subsampling"):

* α_i           latent position of agent i (a point in [0, 1]^d)
* W(α, β)       graphon, the interaction strength between two positions
* W̄_ij          W(α_i, α_j) / Σ_{j'≠i} W(α_i, α_j'), zero diagonal; a row with no
                mass falls back to uniform over the other agents
* g_i           Σ_j W̄_ij e_{s_j}, agent i's true (graphon-weighted) mean field
* ĝ_i           count vector of the states of κ neighbours drawn from W̄_i·
* z             a count vector over S with Σ z = κ; the tabular Q is indexed by it
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

GraphonKind = Literal["radius", "exp_decay", "step", "matrix"]
GRAPHON_KINDS: tuple[str, ...] = ("radius", "exp_decay", "step", "matrix")

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


# --------------------------------------------------------------------------- graphons


def _as_positions(positions: ArrayLike) -> FloatArray:
    """Latent positions as an (n, d) float array; a 1-D array is n points on [0, 1]."""
    alpha = np.asarray(positions, dtype=np.float64)
    if alpha.ndim == 1:
        alpha = alpha[:, None]
    if alpha.ndim != 2 or alpha.shape[0] < 2:
        raise ValueError(f"positions: expected an (n, d) array with n >= 2, got shape {alpha.shape}")
    if not np.isfinite(alpha).all():
        raise ValueError("positions: contain NaN or inf")
    return alpha


def pairwise_distance(positions: ArrayLike) -> FloatArray:
    """‖α_i − α_j‖₂ for all pairs, shape (n, n)."""
    alpha = _as_positions(positions)
    diff = alpha[:, None, :] - alpha[None, :, :]
    return np.sqrt(np.einsum("ijd,ijd->ij", diff, diff))


def graphon_matrix(kind: str, positions: ArrayLike, **params: object) -> FloatArray:
    """W_ij = W(α_i, α_j) for the roster ``positions`` (diagonal included; W̄ removes it).

    kinds and their parameters:

    * ``radius``     ``radius`` r > 0:        W = 1{‖α − β‖ ≤ r}        (the paper's main graphon)
    * ``exp_decay``  ``beta`` β ≥ 0:          W = exp(−β ‖α − β‖)
    * ``step``       ``blocks`` B (K×K, ≥ 0): W = B[⌊K α₁⌋, ⌊K β₁⌋]      (block graphon on the first coordinate);
                     with ``grid`` (g₁, …, g_d) the block of α is the cell (⌊g₁ α₁⌋, …, ⌊g_d α_d⌋), numbered
                     row-major, and W = B[cell(α), cell(β)], or 1{same cell} when ``blocks`` is omitted
    * ``matrix``     ``weights`` (n×n, ≥ 0):  W = weights               (a graphon already sampled on the roster)
    """
    alpha = _as_positions(positions)
    n = alpha.shape[0]
    if kind == "radius":
        radius = float(params.get("radius", 0.0))  # type: ignore[arg-type]
        if not radius > 0:
            raise ValueError(f"graphon radius: must be > 0, got {radius}")
        return (pairwise_distance(alpha) <= radius + 1e-12).astype(np.float64)
    if kind == "exp_decay":
        beta = float(params.get("beta", -1.0))  # type: ignore[arg-type]
        if not beta >= 0:
            raise ValueError(f"graphon beta: must be >= 0, got {beta}")
        return np.exp(-beta * pairwise_distance(alpha))
    if kind == "step":
        return _step_graphon(alpha, params.get("blocks"), params.get("grid"))
    if kind == "matrix":
        weights = np.asarray(params.get("weights"), dtype=np.float64)
        if weights.shape != (n, n):
            raise ValueError(f"graphon weights: must be {n}x{n} for {n} agents, got shape {weights.shape}")
        if (weights < 0).any() or not np.isfinite(weights).all():
            raise ValueError("graphon weights: entries must be finite and >= 0")
        return weights.copy()
    raise ValueError(f"graphon kind: unknown {kind!r}; expected one of {', '.join(GRAPHON_KINDS)}")


def _step_graphon(alpha: FloatArray, blocks_param: object, grid_param: object) -> FloatArray:
    if grid_param is None:
        if blocks_param is None:
            raise ValueError("graphon step: needs blocks (K×K) or grid (cells per dimension)")
        blocks = np.asarray(blocks_param, dtype=np.float64)
        k = blocks.shape[0] if blocks.ndim == 2 else 0
        label = np.clip(np.floor(alpha[:, 0] * k).astype(np.int64), 0, max(k - 1, 0))
    else:
        grid = np.asarray(grid_param, dtype=np.float64).ravel()
        if grid.size != alpha.shape[1] or not (grid > 0).all():
            raise ValueError(
                f"graphon grid: needs one positive cell count per dimension ({alpha.shape[1]}), got {grid}"
            )
        cells = np.ceil(grid - 1e-9).astype(np.int64)
        per_dim = np.clip(np.floor(alpha * grid + 1e-9).astype(np.int64), 0, cells - 1)
        label = np.ravel_multi_index(tuple(per_dim.T), tuple(cells))
        k = int(np.prod(cells))
        blocks = np.eye(k) if blocks_param is None else np.asarray(blocks_param, dtype=np.float64)
    if blocks.ndim != 2 or blocks.shape != (k, k) or k == 0:
        raise ValueError(
            f"graphon blocks: must be a non-empty square {k}x{k} matrix, got shape {blocks.shape}"
        )
    if (blocks < 0).any() or not np.isfinite(blocks).all():
        raise ValueError("graphon blocks: entries must be finite and >= 0")
    return blocks[label[:, None], label[None, :]]


def normalised_weights(w: ArrayLike) -> FloatArray:
    """W̄ from W: zero the diagonal, divide each row by its mass; a massless row becomes uniform over the others."""
    w_bar = np.array(w, dtype=np.float64)
    if w_bar.ndim != 2 or w_bar.shape[0] != w_bar.shape[1] or w_bar.shape[0] < 2:
        raise ValueError(f"W: expected a square (n, n) matrix with n >= 2, got shape {w_bar.shape}")
    if (w_bar < 0).any() or not np.isfinite(w_bar).all():
        raise ValueError("W: entries must be finite and >= 0")
    n = w_bar.shape[0]
    np.fill_diagonal(w_bar, 0.0)
    mass = w_bar.sum(axis=1)
    empty = mass <= 0.0
    w_bar[empty] = 1.0 / (n - 1)
    w_bar[empty, np.flatnonzero(empty)] = 0.0
    mass[empty] = 1.0
    return w_bar / mass[:, None]


def uniform_weights(n: int) -> FloatArray:
    """The baseline's W̄: every other agent equally likely, (1 − I) / (n − 1)."""
    if n < 2:
        raise ValueError(f"n: need at least 2 agents, got {n}")
    return (np.ones((n, n)) - np.eye(n)) / (n - 1)


# --------------------------------------------------------------------------- sampling


class NeighbourSampler:
    """Draws κ neighbours per agent, i.i.d. with replacement from each row of W̄ (vectorised inverse CDF)."""

    def __init__(self, w_bar: ArrayLike, kappa: int):
        if not isinstance(kappa, int | np.integer) or kappa <= 0:
            raise ValueError(f"kappa: must be a positive integer, got {kappa!r}")
        w = np.asarray(w_bar, dtype=np.float64)
        if w.ndim != 2 or w.shape[0] != w.shape[1]:
            raise ValueError(f"W̄: expected a square matrix, got shape {w.shape}")
        if not np.allclose(w.sum(axis=1), 1.0, atol=1e-9):
            raise ValueError("W̄: rows must sum to 1 (build it with normalised_weights)")
        self.n = w.shape[0]
        self.kappa = int(kappa)
        self.w_bar = w
        # Each row keeps only its non-zero columns (a radius graphon touches few agents),
        # padded to the widest row; padding repeats CDF = 1 and is never selected.
        nonzero = w > 0
        width = int(nonzero.sum(axis=1).max())
        order = np.argsort(~nonzero, axis=1, kind="stable")[:, :width]
        self._columns_flat = order.astype(np.int64).ravel()
        cdf = np.cumsum(np.take_along_axis(w, order, axis=1), axis=1)
        cdf[np.arange(self.n), nonzero.sum(axis=1) - 1] = 1.0
        self._cdf = np.where(np.arange(width) >= nonzero.sum(axis=1)[:, None], 2.0, cdf)
        self._width = width
        self._cdf_flat = self._cdf.ravel()
        # Guide table (indexed search): bucket b of row i holds the first slot whose CDF exceeds b / width,
        # so a draw u starts at guide[i, ⌊u · width⌋] and is at most a step or two from its slot.
        shifted = (self._cdf + np.arange(self.n)[:, None] * 3.0).ravel()  # rows never overlap (cdf <= 2)
        thresholds = np.arange(width) / width + np.arange(self.n)[:, None] * 3.0
        first = np.searchsorted(shifted, thresholds.ravel(), side="right").reshape(self.n, width)
        self._row_start = (np.arange(self.n) * width)[:, None]
        self._guide_flat = (first - self._row_start).astype(np.int64).ravel()

    def sample(self, rng: np.random.Generator, batch: tuple[int, ...] = ()) -> IntArray:
        """Neighbour indices, shape (*batch, n, κ)."""
        u = rng.random((*batch, self.n, self.kappa))
        bucket = np.minimum((u * self._width).astype(np.int64), self._width - 1)
        slot = (self._row_start + self._guide_flat[self._row_start + bucket]).ravel()
        u = u.ravel()
        cdf = self._cdf_flat
        behind = np.flatnonzero(cdf[slot] <= u)  # inverse CDF: smallest slot with cdf > u
        while behind.size:
            slot[behind] += 1
            behind = behind[cdf[slot[behind]] <= u[behind]]
        return self._columns_flat[slot].reshape(*batch, self.n, self.kappa)


def neighbour_counts(states: ArrayLike, neighbours: ArrayLike, n_states: int) -> IntArray:
    """ĝ: for each agent, the count vector over S of its sampled neighbours' states.

    ``states`` (*batch, n) ints in [0, |S|); ``neighbours`` (*batch, n, κ) indices into the last axis
    of ``states``. Returns (*batch, n, |S|) ints summing to κ.
    """
    s = np.asarray(states, dtype=np.int64)
    nb = np.asarray(neighbours, dtype=np.int64)
    neighbour_states = np.take_along_axis(s[..., None, :], nb, axis=-1) if s.ndim > 1 else s[nb]
    agent = np.arange(nb.size // nb.shape[-1]).reshape(nb.shape[:-1])[..., None]
    flat = np.bincount((agent * n_states + neighbour_states).ravel(), minlength=agent.size * n_states)
    return flat.reshape(*nb.shape[:-1], n_states)


def mean_field(states: ArrayLike, w_bar: ArrayLike, n_states: int) -> FloatArray:
    """The true g_i = Σ_j W̄_ij e_{s_j} for every agent, shape (*batch, n, |S|)."""
    s = np.asarray(states, dtype=np.int64)
    one_hot = (s[..., None] == np.arange(n_states)).astype(np.float64)
    return np.einsum("ij,...js->...is", np.asarray(w_bar, dtype=np.float64), one_hot)


def total_variation(p: ArrayLike, q: ArrayLike) -> FloatArray:
    """½ ‖p − q‖₁ along the last axis."""
    return 0.5 * np.abs(np.asarray(p, dtype=np.float64) - np.asarray(q, dtype=np.float64)).sum(axis=-1)


# --------------------------------------------------------------------------- count vectors z


def table_size(n_states: int, n_actions: int, kappa: int) -> int:
    """|S| |A| C(κ + |S| − 1, |S| − 1): the number of entries of the tabular Q[s, a, z]."""
    return n_states * n_actions * math.comb(kappa + n_states - 1, n_states - 1)


@dataclass(frozen=True)
class CountIndex:
    """All count vectors z over |S| bins with Σ z = κ, and the map z -> row index (vectorised)."""

    kappa: int
    n_states: int
    counts: IntArray  # (n_z, |S|), rows in lexicographically increasing key order
    _keys: IntArray

    @classmethod
    def build(cls, kappa: int, n_states: int) -> CountIndex:
        if kappa <= 0:
            raise ValueError(f"kappa: must be a positive integer, got {kappa}")
        if n_states <= 0:
            raise ValueError(f"n_states: must be positive, got {n_states}")
        if (kappa + 1) ** n_states >= 2**62:
            raise ValueError(f"kappa={kappa} with |S|={n_states}: too many count vectors to index")
        # stars and bars: choose |S| − 1 bar slots among κ + |S| − 1; the gaps are the counts
        slots = kappa + n_states - 1
        bars = np.array(list(combinations(range(slots), n_states - 1)), dtype=np.int64).reshape(
            -1, n_states - 1
        )
        edges = np.concatenate(
            [np.full((len(bars), 1), -1), bars, np.full((len(bars), 1), slots)], axis=1, dtype=np.int64
        )
        counts = np.diff(edges, axis=1) - 1
        keys = cls._key(counts, kappa)
        order = np.argsort(keys)
        return cls(kappa=kappa, n_states=n_states, counts=counts[order], _keys=keys[order])

    @staticmethod
    def _key(counts: IntArray, kappa: int) -> IntArray:
        radix = (kappa + 1) ** np.arange(counts.shape[-1] - 1, -1, -1, dtype=np.int64)
        return counts @ radix

    def __len__(self) -> int:
        return int(self.counts.shape[0])

    def index(self, counts: ArrayLike) -> IntArray:
        """Row index of each count vector in ``counts`` (..., |S|); each must sum to κ."""
        z = np.asarray(counts, dtype=np.int64)
        if z.shape[-1] != self.n_states:
            raise ValueError(f"counts: last axis must be |S|={self.n_states}, got {z.shape[-1]}")
        if (z.sum(axis=-1) != self.kappa).any() or (z < 0).any():
            raise ValueError(f"counts: every count vector must be >= 0 and sum to kappa={self.kappa}")
        return np.searchsorted(self._keys, self._key(z, self.kappa)).astype(np.int64)
