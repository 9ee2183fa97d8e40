"""RNPG and RPPG (Ganguly, Ghosh, Panaganti, Wierman 2025, Alg. 1): robust constrained policy optimisation
without bisection.

Minimise the surrogate  Φ(π) = max{ J_c0(π)/λ , max_i ( J_ci(π) − b_i + ξ ) }  where every J is the
worst case over the uncertainty set. Each iteration:

  1. evaluate every J_ci and its worst-case Q_ci (robust evaluator, exact linear solves);
  2. pick i_t = argmax of the terms of Φ;
  3. RNPG:  π_{t+1}(a|s) ∝ π_t(a|s)·exp(−α_t·Q_{i_t}(s,a))    (Q_c0/λ for the objective term);
     RPPG:  π_{t+1}(·|s) = Proj_Δ( π_t(·|s) − α_t·H·d_{i_t}(s)·Q_{i_t}(s,·) ).

The output is the iterate with the smallest Φ. Theory step size: α_t = (1−γ)/√(T·S).
λ = 2H/ε bounds the constraint violation of the output by ε (ξ = 0); a margin ξ > 0 makes it feasible.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from robocoord.training.rcmdp.mdp import RcmdpInputError, TabularCmdp
from robocoord.training.rcmdp.simplex import mirror_step, project_simplex
from robocoord.training.rcmdp.trace import SolveResult, Trace, phi_terms
from robocoord.training.rcmdp.uncertainty import UncertaintySet, robust_evaluate


def theory_step(problem: TabularCmdp, iterations: int) -> float:
    return (1.0 - problem.gamma) / np.sqrt(iterations * problem.S)


def rnpg(
    problem: TabularCmdp,
    uset: UncertaintySet,
    *,
    iterations: int,
    lam: float,
    xi: float = 0.0,
    alpha: float | None = None,
    update: Literal["mirror", "projection"] = "mirror",
) -> SolveResult:
    """RNPG (``update="mirror"``) or RPPG (``update="projection"``). ``alpha=None`` uses the theory step."""
    if iterations < 1:
        raise RcmdpInputError(f"iterations: must be >= 1, got {iterations}")
    if not lam > 0:
        raise RcmdpInputError(f"lam: λ must be > 0, got {lam}")
    if not xi >= 0:
        raise RcmdpInputError(f"xi: ξ must be >= 0, got {xi}")
    alpha_t = theory_step(problem, iterations) if alpha is None else float(alpha)
    if not alpha_t > 0:
        raise RcmdpInputError(f"alpha: step size must be > 0, got {alpha_t}")
    H = problem.H
    trace = Trace()

    pi = problem.uniform_policy()
    best_phi, best_pi, best_eval = np.inf, pi, None
    for _ in range(iterations):
        ev = robust_evaluate(problem, pi, uset)
        terms = phi_terms(ev.J, problem.budgets, lam, xi)
        i_t = int(np.argmax(terms))
        phi = float(terms[i_t])
        trace.record(ev.J, i_t)
        if phi < best_phi:  # bookkeeping: keep the argmin-Φ iterate
            best_phi, best_pi, best_eval = phi, pi, ev

        Q = ev.Q[i_t] / (lam if i_t == 0 else 1.0)
        if update == "mirror":
            pi = mirror_step(pi, Q, alpha_t)
        else:
            pi = project_simplex(pi - alpha_t * H * ev.d[i_t][:, None] * Q)

    assert best_eval is not None  # iterations >= 1 guarantees one evaluation
    algo = "rnpg" if update == "mirror" else "rppg"
    info: dict[str, float | int | str] = {"phi": best_phi, "lam": lam, "xi": xi, "alpha": alpha_t}
    return SolveResult(algo=algo, policy=best_pi, evaluation=best_eval, trace=trace, info=info)


def rppg(
    problem: TabularCmdp,
    uset: UncertaintySet,
    *,
    iterations: int,
    lam: float,
    xi: float = 0.0,
    alpha: float | None = None,
) -> SolveResult:
    return rnpg(problem, uset, iterations=iterations, lam=lam, xi=xi, alpha=alpha, update="projection")
