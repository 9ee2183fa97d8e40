"""A tabular constrained MDP with K constraints, and exact policy evaluation by linear solves.

Notation (as in Ganguly et al.): costs c_0 (the objective, written as a cost) and c_1..c_K
(constraints with budgets b_1..b_K), discount γ, H = 1/(1−γ). For a policy π and a kernel P:

    V = (I − γ P_π)^{-1} c_π,   Q = c + γ P V,   J = ρ·V,
    d = (1−γ) ρᵀ (I − γ P_π)^{-1}          (normalised discounted occupancy),

and the policy-gradient identity ∂J/∂π(a|s) = H · d(s) · Q(s,a) holds for any fixed P.
Arrays: kernel P [S, A, S'], costs c [K+1, S, A], policy π [S, A], ρ [S].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ROW_TOL = 1e-8


class RcmdpInputError(ValueError):
    """The problem data is malformed; the message names the offending field, state and action."""


class InfeasibleError(ValueError):
    """No policy meets the budgets at the worst case; the message says which constraint and by how much."""


def check_kernel(P: np.ndarray, name: str = "kernel") -> np.ndarray:
    """Validate a stochastic kernel [S, A, S]: finite, non-negative, rows summing to 1 (names s and a)."""
    P = np.asarray(P, dtype=float)
    if P.ndim != 3 or P.shape[0] != P.shape[2]:
        raise RcmdpInputError(f"{name}: expected shape [S, A, S], got {P.shape}")
    if not np.isfinite(P).all():
        s, a, _ = np.argwhere(~np.isfinite(P))[0]
        raise RcmdpInputError(f"{name}: non-finite probability at state {s}, action {a}")
    if (P < 0).any():
        s, a, s2 = np.argwhere(P < 0)[0]
        raise RcmdpInputError(f"{name}: negative probability P({s2}|{s},{a}) = {P[s, a, s2]:.4g}")
    sums = P.sum(axis=2)
    bad = np.argwhere(np.abs(sums - 1.0) > ROW_TOL)
    if bad.size:
        s, a = bad[0]
        raise RcmdpInputError(f"{name}: row of state {s}, action {a} sums to {sums[s, a]:.6g}, not 1")
    return P


@dataclass(frozen=True)
class TabularCmdp:
    """P0 [S, A, S], costs [K+1, S, A] (row 0 = objective c_0), budgets [K], γ, initial distribution ρ [S]."""

    P0: np.ndarray
    costs: np.ndarray
    budgets: np.ndarray
    gamma: float
    rho: np.ndarray
    name: str = "cmdp"
    cost_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (isinstance(self.gamma, int | float) and 0.0 < float(self.gamma) < 1.0):
            raise RcmdpInputError(f"gamma: must lie in (0, 1), got {self.gamma!r}")
        P0 = check_kernel(self.P0, "P0")
        S, A, _ = P0.shape
        costs = np.asarray(self.costs, dtype=float)
        if costs.ndim != 3 or costs.shape[1:] != (S, A) or costs.shape[0] < 2:
            raise RcmdpInputError(f"costs: expected shape [K+1 ≥ 2, {S}, {A}], got {costs.shape}")
        if not np.isfinite(costs).all() or (costs < 0).any() or (costs > 1).any():
            raise RcmdpInputError("costs: every entry must be finite and in [0, 1]")
        budgets = np.atleast_1d(np.asarray(self.budgets, dtype=float))
        K = costs.shape[0] - 1
        if budgets.shape != (K,):
            raise RcmdpInputError(f"budgets: {K} constraint cost(s) need {K} budget(s), got {budgets.size}")
        if not np.isfinite(budgets).all():
            raise RcmdpInputError("budgets: must be finite")
        rho = np.asarray(self.rho, dtype=float)
        if rho.shape != (S,) or (rho < 0).any() or abs(rho.sum() - 1.0) > ROW_TOL:
            raise RcmdpInputError(f"rho: must be a distribution over {S} states")
        names = self.cost_names or ("objective", *(f"c{i}" for i in range(1, K + 1)))
        if len(names) != K + 1:
            raise RcmdpInputError(f"cost_names: expected {K + 1} names, got {len(names)}")
        for key, value in (("P0", P0), ("costs", costs), ("budgets", budgets), ("rho", rho)):
            object.__setattr__(self, key, value)
        object.__setattr__(self, "gamma", float(self.gamma))
        object.__setattr__(self, "cost_names", tuple(names))

    @property
    def S(self) -> int:
        return int(self.P0.shape[0])

    @property
    def A(self) -> int:
        return int(self.P0.shape[1])

    @property
    def K(self) -> int:
        return int(self.costs.shape[0] - 1)

    @property
    def H(self) -> float:
        return 1.0 / (1.0 - self.gamma)

    def uniform_policy(self) -> np.ndarray:
        return np.full((self.S, self.A), 1.0 / self.A)

    def check_policy(self, pi: np.ndarray) -> np.ndarray:
        pi = np.asarray(pi, dtype=float)
        if pi.shape != (self.S, self.A):
            raise RcmdpInputError(f"policy: expected shape [{self.S}, {self.A}], got {pi.shape}")
        bad = np.argwhere((pi < -1e-12).any(axis=1) | (np.abs(pi.sum(axis=1) - 1) > 1e-6))
        if bad.size:
            raise RcmdpInputError(f"policy: row of state {bad[0][0]} is not a distribution")
        return pi


@dataclass(frozen=True)
class Evaluation:
    """Exact values of N cost channels under kernels P [N, S, A, S]: J [N], V [N, S], Q [N, S, A], d [N, S]."""

    J: np.ndarray
    V: np.ndarray
    Q: np.ndarray
    d: np.ndarray
    P: np.ndarray

    def gradient(self, gamma: float) -> np.ndarray:
        """∂J_n/∂π(a|s) = H · d_n(s) · Q_n(s, a), at the kernels held fixed. Shape [N, S, A]."""
        return self.d[:, :, None] * self.Q / (1.0 - gamma)


def evaluate(
    pi: np.ndarray,
    P: np.ndarray,
    costs: np.ndarray,
    gamma: float,
    rho: np.ndarray,
    penalty: np.ndarray | None = None,
) -> Evaluation:
    """Exact evaluation of channels ``costs`` [N, S, A] under kernels ``P`` [N, S, A, S] (or one [S, A, S]).

    ``penalty`` [N, S, A] is subtracted inside the Bellman backup (used by the KL-penalised adversary):
    V = c_π + γ Σ_a π (P V − penalty).
    """
    costs = np.asarray(costs, dtype=float)
    N, S, _ = costs.shape
    if P.ndim == 3:
        P = np.broadcast_to(P, (N, *P.shape))
    P_pi = np.einsum("sa,nsat->nst", pi, P)
    c = costs if penalty is None else costs - gamma * penalty
    c_pi = np.einsum("sa,nsa->ns", pi, c)
    M = np.eye(S)[None] - gamma * P_pi
    V = np.linalg.solve(M, c_pi[..., None])[..., 0]
    Q = c + gamma * np.einsum("nsat,nt->nsa", P, V)
    J = V @ rho
    d = (1.0 - gamma) * np.linalg.solve(np.transpose(M, (0, 2, 1)), np.broadcast_to(rho, (N, S))[..., None])[
        ..., 0
    ]
    return Evaluation(J=J, V=V, Q=Q, d=d, P=np.asarray(P))
