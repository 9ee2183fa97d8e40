"""Robust evaluators behind one interface: the worst kernel inside an (s,a)-rectangular uncertainty set.

Each set answers one question: given adversary values W [N, S] (one row per cost channel),
which kernel P [N, S, A, S] maximises the expected next value at every (s, a), and what
penalty [N, S, A] does the adversary pay for it (non-zero only for the KL-penalised set).

* :class:`KlPenalty` — sup_P  P·W − C·KL(P‖P⁰): closed form P* ∝ P⁰·exp(W/C); C → ∞ gives P⁰.
* :class:`KlBall`    — sup_P  P·W  s.t. KL(P‖P⁰) ≤ δ: dual θ*, found by a 1-D (bisection) search on
  KL(P_θ‖P⁰) = δ with P_θ ∝ P⁰·exp(W/θ).
* :class:`TvBall`    — sup_P  P·W  s.t. ½‖P − P⁰‖₁ ≤ β: exact, by sorting W (move β mass from the
  lowest-value states to the highest-value one).
* :class:`FiniteSet` — the best of M kernels, chosen per (s, a); P⁰ is always member 0.

:func:`robust_evaluate` runs the adversary's policy iteration with exact linear solves
(W ← solve under P(W); P ← worst(W)) to the fixed point, then returns the exact J, worst-case
Q and occupancy d of every channel under its own worst kernel.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from robocoord.training.rcmdp.mdp import Evaluation, RcmdpInputError, TabularCmdp, check_kernel, evaluate


class UncertaintySet(ABC):
    name: str = "uncertainty"

    @abstractmethod
    def worst(self, P0: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """P0 [S, A, S], W [N, S] -> (worst kernels [N, S, A, S], adversary penalty [N, S, A])."""

    def describe(self) -> dict[str, float | int | str]:
        return {"kind": self.name}


def _zero_penalty(P: np.ndarray) -> np.ndarray:
    return np.zeros(P.shape[:-1])


class KlPenalty(UncertaintySet):
    """KL-penalised adversary with strength C > 0 (C = inf is the nominal model)."""

    name = "kl_penalty"

    def __init__(self, C: float):
        if not C > 0:
            raise RcmdpInputError(f"kl_penalty C: must be > 0 (inf = nominal), got {C!r}")
        self.C = float(C)

    def worst(self, P0: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        N = W.shape[0]
        if np.isinf(self.C):
            P = np.broadcast_to(P0, (N, *P0.shape)).copy()
            return P, _zero_penalty(P)
        logits = (W - W.max(axis=1, keepdims=True)) / self.C  # [N, S']
        tilted = P0[None] * np.exp(logits)[:, None, None, :]
        P = tilted / tilted.sum(axis=-1, keepdims=True)
        return P, self.C * _kl(P, P0[None])

    def describe(self) -> dict[str, float | int | str]:
        return {"kind": self.name, "C": self.C}


def _kl(P: np.ndarray, P0: np.ndarray) -> np.ndarray:
    """KL(P‖P⁰) along the last axis, with 0·log 0 = 0 (P ≪ P⁰ assumed)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(P > 0, P * np.log(P / np.where(P0 > 0, P0, 1.0)), 0.0)
    return terms.sum(axis=-1)


class KlBall(UncertaintySet):
    """KL-constrained set {P : KL(P‖P⁰) ≤ δ}, solved through its 1-D dual in θ."""

    name = "kl"

    def __init__(self, delta: float, iterations: int = 60):
        if not (np.isfinite(delta) and delta >= 0):
            raise RcmdpInputError(f"kl delta: radius must be finite and >= 0, got {delta!r}")
        self.delta = float(delta)
        self.iterations = iterations

    def worst(self, P0: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        N = W.shape[0]
        base = np.broadcast_to(P0, (N, *P0.shape))
        if self.delta == 0:
            P = base.copy()
            return P, _zero_penalty(P)
        Wb = np.broadcast_to(W[:, None, None, :], base.shape)
        support = base > 0
        w_max = np.where(support, Wb, -np.inf).max(axis=-1, keepdims=True)
        w_min = np.where(support, Wb, np.inf).min(axis=-1, keepdims=True)
        spread = (w_max - w_min)[..., 0]
        scale = np.maximum(spread, 1e-300)
        top = support & (Wb >= w_max - 1e-12 * np.maximum(1.0, np.abs(w_max)))
        top_mass = np.where(top, base, 0.0).sum(axis=-1)
        corner = np.where(top, base, 0.0) / top_mass[..., None]  # θ → 0 limit
        corner_reached = -np.log(top_mass) <= self.delta  # the limit point is already inside the ball

        def tilt(theta: np.ndarray) -> np.ndarray:
            z = np.where(support, (Wb - w_max) / theta[..., None], -np.inf)
            q = base * np.exp(z)
            return q / q.sum(axis=-1, keepdims=True)

        # KL(P_θ‖P⁰) falls monotonically in θ; bisect log θ between 1e-8·spread and 1e8·spread.
        lo = np.log(scale) - 8 * np.log(10.0)
        hi = np.log(scale) + 8 * np.log(10.0)
        for _ in range(self.iterations):
            mid = 0.5 * (lo + hi)
            too_far = _kl(tilt(np.exp(mid)), base) > self.delta
            lo = np.where(too_far, mid, lo)
            hi = np.where(too_far, hi, mid)
        P = tilt(np.exp(hi))  # the hi end is always inside the ball
        flat = spread <= 0
        P = np.where(corner_reached[..., None], corner, P)
        P = np.where(flat[..., None], base, P)
        return P, _zero_penalty(P)

    def describe(self) -> dict[str, float | int | str]:
        return {"kind": self.name, "delta": self.delta}


class TvBall(UncertaintySet):
    """Total-variation set {P : ½‖P − P⁰‖₁ ≤ β} over the whole simplex (support may grow)."""

    name = "tv"

    def __init__(self, beta: float):
        if not (np.isfinite(beta) and 0 <= beta <= 1):
            raise RcmdpInputError(f"tv beta: radius must lie in [0, 1], got {beta!r}")
        self.beta = float(beta)

    def worst(self, P0: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        N = W.shape[0]
        order = np.argsort(W, axis=1, kind="stable")  # ascending value, per channel
        index = np.broadcast_to(order[:, None, None, :], (N, *P0.shape))
        p_sorted = np.take_along_axis(np.broadcast_to(P0, (N, *P0.shape)), index, axis=-1)
        moved = np.minimum(self.beta, 1.0 - p_sorted[..., -1])  # [N, S, A]
        taken_before = np.cumsum(p_sorted[..., :-1], axis=-1) - p_sorted[..., :-1]
        removed = np.clip(moved[..., None] - taken_before, 0.0, p_sorted[..., :-1])
        new_sorted = p_sorted.copy()
        new_sorted[..., :-1] -= removed
        new_sorted[..., -1] += moved
        P = np.empty_like(new_sorted)
        np.put_along_axis(P, index, new_sorted, axis=-1)
        return P, _zero_penalty(P)

    def describe(self) -> dict[str, float | int | str]:
        return {"kind": self.name, "beta": self.beta}


class FiniteSet(UncertaintySet):
    """A finite set of kernels, combined (s, a)-rectangularly. ``kernels`` [M, S, A, S]; P⁰ is prepended."""

    name = "finite"

    def __init__(self, kernels: np.ndarray):
        kernels = np.asarray(kernels, dtype=float)
        if kernels.ndim != 4:
            raise RcmdpInputError(f"finite kernels: expected shape [M, S, A, S], got {kernels.shape}")
        for m, K in enumerate(kernels):
            check_kernel(K, f"finite kernel {m}")
        self.kernels = kernels

    @classmethod
    def around(cls, P0: np.ndarray, n_kernels: int, spread: float, seed: int) -> FiniteSet:
        """M random kernels (1 − spread)·P⁰ + spread·Dirichlet(1) — a reproducible finite set around P⁰."""
        if not 0 <= spread <= 1:
            raise RcmdpInputError(f"finite spread: must lie in [0, 1], got {spread!r}")
        if n_kernels < 1:
            raise RcmdpInputError(f"finite n_kernels: must be >= 1, got {n_kernels!r}")
        rng = np.random.default_rng(seed)
        noise = rng.dirichlet(np.ones(P0.shape[-1]), size=(n_kernels, *P0.shape[:2]))
        return cls((1 - spread) * P0[None] + spread * noise)

    def worst(self, P0: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.kernels.shape[1:] != P0.shape:
            raise RcmdpInputError(
                f"finite kernels: shape {self.kernels.shape[1:]} does not match P0 {P0.shape}"
            )
        members = np.concatenate([P0[None], self.kernels])  # [M+1, S, A, S]
        scores = np.einsum("msat,nt->nmsa", members, W)
        best = scores.argmax(axis=1)  # [N, S, A]
        S, A = P0.shape[:2]
        P = members[best, np.arange(S)[None, :, None], np.arange(A)[None, None, :]]
        return P, _zero_penalty(P)

    def describe(self) -> dict[str, float | int | str]:
        return {"kind": self.name, "n_kernels": int(self.kernels.shape[0])}


class Nominal(TvBall):
    """The nominal model (TV radius 0)."""

    name = "nominal"

    def __init__(self) -> None:
        super().__init__(0.0)


def _adversary_fixed_point(
    problem: TabularCmdp, pi: np.ndarray, uset: UncertaintySet, costs: np.ndarray, tol: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adversary policy iteration: W = exact (penalised) value under P; P = worst(W); until W stops moving."""
    N = costs.shape[0]
    P = np.broadcast_to(problem.P0, (N, *problem.P0.shape)).copy()
    penalty = np.zeros(costs.shape)
    W = evaluate(pi, P, costs, problem.gamma, problem.rho).V
    scale = tol * problem.H
    for _ in range(max_iter):
        P, penalty = uset.worst(problem.P0, W)
        W_next = evaluate(pi, P, costs, problem.gamma, problem.rho, penalty).V
        if np.max(np.abs(W_next - W)) <= scale:
            W = W_next
            break
        W = W_next
    P, penalty = uset.worst(problem.P0, W)
    return W, P, penalty


def robust_evaluate(
    problem: TabularCmdp,
    pi: np.ndarray,
    uset: UncertaintySet,
    costs: np.ndarray | None = None,
    tol: float = 1e-11,
    max_iter: int = 500,
) -> Evaluation:
    """Worst-case J, Q, d of every cost channel (default: c_0..c_K) of policy π, each under its own worst kernel."""
    costs = problem.costs if costs is None else np.asarray(costs, dtype=float)
    _, P, _ = _adversary_fixed_point(problem, pi, uset, costs, tol, max_iter)
    return evaluate(pi, P, costs, problem.gamma, problem.rho)


def robust_lower_bound(
    problem: TabularCmdp, uset: UncertaintySet, channel: int, max_iter: int = 200
) -> float:
    """min over policies of the adversary's value of channel ``channel`` (robust policy iteration).

    Exact min_π max_P J for TV, KL-ball and finite sets; for the KL-penalised set it is the penalised
    value, a lower bound of every policy's worst-case J. A budget below it is infeasible for sure.
    """
    costs = problem.costs[channel : channel + 1]
    pi = problem.uniform_policy()
    best = np.inf
    for _ in range(max_iter):
        W, P, penalty = _adversary_fixed_point(problem, pi, uset, costs, 1e-11, 500)
        best = min(best, float(W[0] @ problem.rho))
        q = costs[0] - problem.gamma * penalty[0] + problem.gamma * np.einsum("sat,t->sa", P[0], W[0])
        greedy = np.zeros_like(pi)
        greedy[np.arange(problem.S), q.argmin(axis=1)] = 1.0
        keep = (pi * q).sum(axis=1) <= q.min(axis=1) + 1e-12 * problem.H
        greedy[keep] = pi[keep]
        if np.array_equal(greedy, pi):
            break
        pi = greedy
    return best


def make_uncertainty(spec: dict[str, float | int | str], P0: np.ndarray) -> UncertaintySet:
    """Build a set from a config dict {kind: kl_penalty|kl|tv|finite|nominal, ...}."""
    kind = spec.get("kind")
    if kind == "kl_penalty":
        return KlPenalty(float(spec["C"]))
    if kind == "kl":
        return KlBall(float(spec["delta"]))
    if kind == "tv":
        return TvBall(float(spec["beta"]))
    if kind == "finite":
        return FiniteSet.around(P0, int(spec["n_kernels"]), float(spec["spread"]), int(spec.get("seed", 0)))
    if kind == "nominal":
        return Nominal()
    raise RcmdpInputError(f"uncertainty kind: expected kl_penalty, kl, tv, finite or nominal, got {kind!r}")
