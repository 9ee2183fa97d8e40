"""EpiRC-PGS baseline (Kitamura et al., ICLR 2025): bisection over an epigraph threshold b_0.

Outer loop: bisect b_0 over [0, H·max c_0]. For a threshold b_0 the inner problem is the feasibility
question "is there π with J_c0(π) ≤ b_0 and J_ci(π) ≤ b_i for all i?", answered by projected policy
gradient on Δ(π) = max{ J_c0 − b_0, max_i (J_ci − b_i) }:

  * take the most-violated index i at its worst-case model;
  * π ← Proj_Δ( π − η·d_i(s)·Q_i(s,a)/(1−γ) );
  * stop early when Δ ≤ 0 (threshold reachable: hi ← b_0) or ‖Δπ‖₁ ≤ 1e-5 (stalled above 0: lo ← b_0),
    or after ``inner_iterations`` (judged by the sign of Δ).

The output is the policy found at the smallest reachable threshold. With ``warm_start`` each inner problem
starts from the last reachable policy; without it, from the uniform policy.
"""

from __future__ import annotations

import numpy as np

from robocoord.training.rcmdp.mdp import RcmdpInputError, TabularCmdp
from robocoord.training.rcmdp.simplex import project_simplex
from robocoord.training.rcmdp.trace import SolveResult, Trace
from robocoord.training.rcmdp.uncertainty import UncertaintySet, robust_evaluate

STALL_L1 = 1e-5


def epirc_pgs(
    problem: TabularCmdp,
    uset: UncertaintySet,
    *,
    bisection_steps: int,
    inner_iterations: int,
    eta: float,
    warm_start: bool = True,
) -> SolveResult:
    if bisection_steps < 1 or inner_iterations < 1:
        raise RcmdpInputError("bisection_steps and inner_iterations: must be >= 1")
    if not eta > 0:
        raise RcmdpInputError(f"eta: step size must be > 0, got {eta}")
    H = problem.H
    trace = Trace()
    lo, hi = 0.0, H * float(problem.costs[0].max())

    start = problem.uniform_policy()
    out_pi, out_eval = None, None
    last_pi, last_eval = start, None
    for _ in range(bisection_steps):
        b0 = 0.5 * (lo + hi)
        thresholds = np.concatenate([[b0], problem.budgets])
        pi = start
        delta = np.inf
        for _ in range(inner_iterations):
            ev = robust_evaluate(problem, pi, uset)
            gaps = ev.J - thresholds
            i = int(np.argmax(gaps))
            delta = float(gaps[i])
            trace.record(ev.J, i)
            last_pi, last_eval = pi, ev
            if delta <= 0:
                break
            new_pi = project_simplex(pi - eta * ev.d[i][:, None] * ev.Q[i] * H)
            stalled = np.abs(new_pi - pi).sum() <= STALL_L1
            pi = new_pi
            if stalled:
                break
        if delta <= 0:
            hi = b0
            out_pi, out_eval = last_pi, last_eval
            if warm_start:
                start = last_pi
        else:
            lo = b0

    if out_pi is None or out_eval is None:  # no threshold was reachable: report the last iterate
        out_pi, out_eval = last_pi, last_eval
    assert out_eval is not None
    info: dict[str, float | int | str] = {
        "b0_low": lo,
        "b0_high": hi,
        "eta": eta,
        "warm_start": int(warm_start),
    }
    return SolveResult(algo="epirc_pgs", policy=out_pi, evaluation=out_eval, trace=trace, info=info)
