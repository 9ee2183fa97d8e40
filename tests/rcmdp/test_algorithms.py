"""RNPG / RPPG / EpiRC-PGS: bookkeeping, feasibility with a margin ξ, violation ≤ H/λ without one."""

from __future__ import annotations

import numpy as np
import pytest

from robocoord.training.rcmdp.benchmarks import garnet, hazard_corridor, river_swim
from robocoord.training.rcmdp.epirc_pgs import epirc_pgs
from robocoord.training.rcmdp.rnpg import rnpg, rppg
from robocoord.training.rcmdp.trace import phi_terms
from robocoord.training.rcmdp.uncertainty import KlPenalty, TvBall, robust_evaluate, robust_lower_bound

GAMMA = 0.9
H = 1.0 / (1.0 - GAMMA)
LAM = 50.0


def crs():
    return river_swim(GAMMA, [0.42 * H]), KlPenalty(5.0)


def garnet_15_20():
    uset = TvBall(0.1)
    low = robust_lower_bound(garnet(GAMMA, [0.0]), uset, 1)
    return garnet(GAMMA, [low + 0.05 * H]), uset  # budget 5 % of H above the best achievable


def k2():
    return hazard_corridor(GAMMA, [1.5, 1.5]), TvBall(0.1)


CASES = {"crs": crs, "garnet": garnet_15_20, "k2": k2}


def test_first_iterate_is_uniform_and_output_is_argmin_phi():
    problem, uset = river_swim(GAMMA, [1.5]), KlPenalty(5.0)
    # a tight budget and a deliberately large step make Φ oscillate: the last iterate is not the best one
    result = rnpg(problem, uset, iterations=60, lam=LAM, xi=0.0, alpha=3.0)
    np.testing.assert_allclose(result.trace.J[0], robust_evaluate(problem, problem.uniform_policy(), uset).J)
    phis = np.array([phi_terms(J, problem.budgets, LAM, 0.0).max() for J in result.trace.J])
    best = int(np.argmin(phis))
    assert best != len(phis) - 1
    assert result.info["phi"] == pytest.approx(phis[best])
    np.testing.assert_allclose(result.evaluation.J, result.trace.J[best])
    np.testing.assert_allclose(
        robust_evaluate(problem, result.policy, uset).J, result.trace.J[best], rtol=1e-9
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_rnpg_with_margin_is_feasible_at_the_worst_case(case):
    problem, uset = CASES[case]()
    xi = H / LAM  # ξ ≥ H/λ ≥ J_c0/λ: Φ(π) ≤ ξ forces every J_ci ≤ b_i
    result = rnpg(problem, uset, iterations=200, lam=LAM, xi=xi, alpha=1.0 * (1 - GAMMA))
    worst = robust_evaluate(problem, result.policy, uset).J  # re-evaluated independently of the solver
    assert (worst[1:] <= problem.budgets).all(), (worst, problem.budgets)
    assert result.feasible(problem)


@pytest.mark.parametrize("case", sorted(CASES))
def test_rnpg_without_margin_violates_by_at_most_h_over_lambda(case):
    problem, uset = CASES[case]()
    result = rnpg(problem, uset, iterations=200, lam=LAM, xi=0.0, alpha=1.0 * (1 - GAMMA))
    violation = robust_evaluate(problem, result.policy, uset).J[1:] - problem.budgets
    assert violation.max() <= H / LAM


def test_margin_trades_objective_for_feasibility_on_garnet():
    """ξ = 0 sits on the boundary (overshoot > 0); ξ > 0 pulls the policy strictly inside."""
    problem, uset = garnet_15_20()
    plain = rnpg(problem, uset, iterations=200, lam=LAM, xi=0.0, alpha=1.0 * (1 - GAMMA))
    margin = rnpg(problem, uset, iterations=200, lam=LAM, xi=H / LAM, alpha=1.0 * (1 - GAMMA))
    assert plain.violations(problem).max() > 0 > margin.violations(problem).max()
    assert margin.evaluation.J[0] > plain.evaluation.J[0]


def test_rppg_with_margin_is_feasible_on_crs():
    problem, uset = crs()
    result = rppg(problem, uset, iterations=200, lam=LAM, xi=H / LAM, alpha=0.5 * (1 - GAMMA) ** 2)
    assert result.feasible(problem)
    assert result.algo == "rppg"


def test_epirc_pgs_is_feasible_and_brackets_the_threshold():
    problem, uset = crs()
    result = epirc_pgs(problem, uset, bisection_steps=8, inner_iterations=100, eta=1.0 * (1 - GAMMA) ** 2)
    assert result.feasible(problem)
    lo, hi = float(result.info["b0_low"]), float(result.info["b0_high"])
    assert hi - lo == pytest.approx(H / 2**8)
    assert result.evaluation.J[0] <= hi + 1e-9
