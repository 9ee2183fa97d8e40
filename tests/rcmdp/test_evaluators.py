"""Robust evaluators: nominal limits, robust ≥ nominal, exactness against LP / generic solvers / fixed points."""

from __future__ import annotations

import numpy as np
import pytest
from rcmdp_policies import random_policy
from scipy.optimize import linprog, minimize

from robocoord.training.rcmdp.benchmarks import garnet, river_swim
from robocoord.training.rcmdp.mdp import evaluate
from robocoord.training.rcmdp.uncertainty import (
    FiniteSet,
    KlBall,
    KlPenalty,
    TvBall,
    UncertaintySet,
    robust_evaluate,
)

SETS: list[UncertaintySet] = [KlPenalty(2.0), KlBall(0.05), TvBall(0.1)]


def nominal(problem, pi):
    return evaluate(pi, problem.P0, problem.costs, problem.gamma, problem.rho)


@pytest.mark.parametrize(
    "uset",
    [KlPenalty(np.inf), KlPenalty(1e9), KlBall(0.0), TvBall(0.0)],
    ids=["C=inf", "C=1e9", "kl0", "tv0"],
)
def test_zero_radius_or_infinite_penalty_equals_nominal(small_garnet, uset):
    pi = random_policy(small_garnet, 0)
    robust, nom = robust_evaluate(small_garnet, pi, uset), nominal(small_garnet, pi)
    np.testing.assert_allclose(robust.J, nom.J, rtol=1e-6)
    np.testing.assert_allclose(robust.Q, nom.Q, rtol=1e-6)
    np.testing.assert_allclose(robust.d, nom.d, atol=1e-9)


def test_finite_set_of_only_the_nominal_kernel_equals_nominal(small_garnet):
    pi = random_policy(small_garnet, 1)
    robust = robust_evaluate(small_garnet, pi, FiniteSet(small_garnet.P0[None]))
    np.testing.assert_allclose(robust.J, nominal(small_garnet, pi).J, rtol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_robust_cost_is_at_least_nominal(small_garnet, seed):
    pi = random_policy(small_garnet, seed)
    nom = nominal(small_garnet, pi).J
    finite = FiniteSet.around(small_garnet.P0, 3, 0.3, seed)
    for uset in [*SETS, finite]:
        robust = robust_evaluate(small_garnet, pi, uset).J
        assert (robust >= nom - 1e-9).all(), uset.name
        assert (robust > nom + 1e-6).all(), f"{uset.name} should be strictly pessimistic on a random Garnet"


@pytest.mark.parametrize("seed", range(8))
def test_tv_worst_case_matches_linear_program(seed):
    rng = np.random.default_rng(seed)
    S = int(rng.integers(3, 7))
    p0 = rng.dirichlet(np.ones(S) * 0.7)
    W = rng.normal(size=S)
    beta = float(rng.uniform(0.0, 0.6))
    P, _ = TvBall(beta).worst(p0[None, None, :], W[None])
    # LP over (p, t): max W·p  s.t. Σp = 1, t ≥ ±(p − p0), Σt ≤ 2β, p ≥ 0.
    c = np.concatenate([-W, np.zeros(S)])
    eye = np.eye(S)
    A_ub = np.block([[eye, -eye], [-eye, -eye], [np.zeros((1, S)), np.ones((1, S))]])
    b_ub = np.concatenate([p0, -p0, [2 * beta]])
    A_eq = np.concatenate([np.ones(S), np.zeros(S)])[None]
    lp = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=[1.0], bounds=[(0, None)] * (2 * S), method="highs")
    assert lp.status == 0
    p = P[0, 0, 0]
    assert abs(p.sum() - 1) < 1e-12 and (p >= 0).all()
    assert 0.5 * np.abs(p - p0).sum() <= beta + 1e-12
    assert W @ p == pytest.approx(-lp.fun, abs=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_kl_ball_worst_case_matches_generic_constrained_solve(seed):
    rng = np.random.default_rng(seed)
    S = 4
    p0 = rng.dirichlet(np.ones(S))
    W = rng.normal(size=S)
    delta = 0.05
    P, _ = KlBall(delta).worst(p0[None, None, :], W[None])
    p = P[0, 0, 0]
    kl = lambda q: float(np.sum(q * np.log(np.maximum(q, 1e-300) / p0)))  # noqa: E731
    res = minimize(
        lambda q: -W @ q,
        p0,
        method="SLSQP",
        bounds=[(1e-12, 1)] * S,
        constraints=[
            {"type": "eq", "fun": lambda q: q.sum() - 1},
            {"type": "ineq", "fun": lambda q: delta - kl(q)},
        ],
        options={"ftol": 1e-12, "maxiter": 500},
    )
    assert res.success
    assert kl(p) <= delta + 1e-9
    assert W @ p == pytest.approx(-res.fun, abs=1e-6)


def test_kl_penalty_kernel_is_the_exponential_tilt():
    rng = np.random.default_rng(0)
    p0 = rng.dirichlet(np.ones(5))
    W = rng.normal(size=5)
    P, penalty = KlPenalty(0.7).worst(p0[None, None, :], W[None])
    tilt = p0 * np.exp(W / 0.7)
    np.testing.assert_allclose(P[0, 0, 0], tilt / tilt.sum(), rtol=1e-12)
    # and it maximises P·W − C·KL(P‖P⁰): the optimum equals C·log E_P⁰ exp(W/C)
    assert W @ P[0, 0, 0] - penalty[0, 0, 0] == pytest.approx(0.7 * np.log(p0 @ np.exp(W / 0.7)), rel=1e-12)


@pytest.mark.parametrize("uset", [TvBall(0.15), KlBall(0.1)], ids=["tv", "kl"])
def test_exact_evaluation_is_the_robust_bellman_fixed_point(uset):
    problem = river_swim(0.9, [4.0])
    pi = random_policy(problem, 2)
    ev = robust_evaluate(problem, pi, uset)
    V = np.zeros((2, problem.S))  # robust value iteration, independent of the linear-solve path
    for _ in range(200):
        P, _ = uset.worst(problem.P0, V)
        V = np.einsum("sa,nsa->ns", pi, problem.costs + problem.gamma * np.einsum("nsat,nt->nsa", P, V))
    np.testing.assert_allclose(ev.V, V, rtol=1e-7)


@pytest.mark.parametrize("uset", [KlPenalty(3.0), TvBall(0.1), KlBall(0.05)], ids=["klpen", "tv", "kl"])
def test_gradient_identity_matches_finite_differences_at_worst_kernel(uset):
    problem = garnet(0.9, [5.0], states=4, actions=3, seed=7)
    pi = random_policy(problem, 5)
    ev = robust_evaluate(problem, pi, uset)
    grad = ev.gradient(problem.gamma)  # H·d(s)·Q(s,a) per channel
    h = 1e-6
    for s in range(problem.S):
        for a in range(problem.A):
            bump = np.zeros_like(pi)
            bump[s, a] = h
            up = evaluate(pi + bump, ev.P, problem.costs, problem.gamma, problem.rho).J
            down = evaluate(pi - bump, ev.P, problem.costs, problem.gamma, problem.rho).J
            np.testing.assert_allclose((up - down) / (2 * h), grad[:, s, a], rtol=1e-5, atol=1e-6)


def test_worst_kernels_differ_per_channel():
    """Objective and constraint each get their own adversary (the reason strong duality fails)."""
    problem = river_swim(0.9, [4.0])
    ev = robust_evaluate(problem, problem.uniform_policy(), TvBall(0.2))
    assert not np.allclose(ev.P[0], ev.P[1])
