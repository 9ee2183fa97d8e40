"""Simplex projection and the closed-form mirror-descent step, against generic convex solves."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import minimize

from robocoord.training.rcmdp.simplex import mirror_step, project_simplex


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(1, 7), elements=st.floats(-5, 5, allow_nan=False)))
def test_projection_satisfies_the_kkt_conditions(v):
    p = project_simplex(v)
    assert (p >= 0).all()
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    # KKT of min ½‖p − v‖² on the simplex: v − p = τ on the support, v − p ≤ τ off it.
    support = p > 0
    tau = (v - p)[support]
    assert np.ptp(tau) <= 1e-9
    assert ((v - p)[~support] <= tau[0] + 1e-9).all()


@pytest.mark.parametrize("seed", range(5))
def test_projection_matches_generic_quadratic_solve(seed):
    v = np.random.default_rng(seed).normal(scale=2.0, size=(3, 5))
    p = project_simplex(v)
    for row_v, row_p in zip(v, p, strict=True):
        res = minimize(
            lambda q, row_v=row_v: 0.5 * np.sum((q - row_v) ** 2),
            np.full(5, 0.2),
            method="SLSQP",
            bounds=[(0, None)] * 5,
            constraints=[{"type": "eq", "fun": lambda q: q.sum() - 1}],
            options={"ftol": 1e-14, "maxiter": 500},
        )
        np.testing.assert_allclose(row_p, res.x, atol=1e-6)


def test_projection_leaves_a_distribution_unchanged():
    p = np.array([[0.1, 0.6, 0.3], [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(project_simplex(p), p, atol=1e-15)


@pytest.mark.parametrize("seed", range(5))
def test_mirror_step_equals_generic_kl_proximal_solve(seed):
    rng = np.random.default_rng(seed)
    pi = rng.dirichlet(np.ones(4))
    g = rng.normal(scale=3.0, size=4)
    alpha = 0.4
    closed = mirror_step(pi[None], g[None], alpha)[0]
    # argmin_p α⟨g, p⟩ + KL(p‖π) over the simplex, by a generic solver (softmax-free parametrisation)
    res = minimize(
        lambda q: alpha * g @ q + np.sum(q * np.log(np.maximum(q, 1e-300) / pi)),
        np.full(4, 0.25),
        method="SLSQP",
        bounds=[(1e-12, 1)] * 4,
        constraints=[{"type": "eq", "fun": lambda q: q.sum() - 1}],
        options={"ftol": 1e-14, "maxiter": 500},
    )
    assert res.success
    np.testing.assert_allclose(closed, res.x, atol=1e-5)


def test_mirror_step_survives_huge_scores():
    pi = np.array([[0.5, 0.5, 0.0]])
    out = mirror_step(pi, np.array([[1e6, -1e6, 0.0]]), 1.0)
    np.testing.assert_allclose(out, [[0.0, 1.0, 0.0]])
