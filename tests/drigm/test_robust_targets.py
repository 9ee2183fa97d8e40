"""Robust TD targets: reductions at ρ = 0, contamination scaling, the TV dual against the exact worst case."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar

from robocoord.training.drigm import robust


def _batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    r = torch.randn(8, 5, generator=gen)
    v_next = 3.0 * torch.randn(8, 5, generator=gen) + 1.0
    done = (torch.rand(8, 5, generator=gen) < 0.2).float()
    return r, v_next, done


def test_contamination_at_rho_zero_is_the_standard_target() -> None:
    r, v_next, done = _batch()
    for v_min in (0.0, float(v_next.min())):
        got = robust.contamination_target(r, v_next, done, 0.9, 0.0, v_min)
        torch.testing.assert_close(got, robust.standard_target(r, v_next, done, 0.9), rtol=0, atol=0)


def test_tv_at_rho_zero_with_g_at_its_dual_optimum_is_the_standard_target() -> None:
    r, v_next, done = _batch(1)
    g = torch.zeros((), requires_grad=True)
    opt = torch.optim.Adam([g], lr=0.1)
    for _ in range(600):
        opt.zero_grad()
        robust.tv_dual_loss(g.expand_as(v_next), v_next, rho=0.0).backward()
        opt.step()
    g_star = g.detach().expand_as(v_next)
    # at the optimum every hinge is active: relu(g − V') = g − V'
    torch.testing.assert_close(torch.relu(g_star - v_next), g_star - v_next)
    got = robust.tv_target(r, v_next, g_star, done, 0.9, 0.0)
    torch.testing.assert_close(got, robust.standard_target(r, v_next, done, 0.9), rtol=0, atol=1e-5)


@pytest.mark.parametrize("rho", [0.004, 0.02, 0.3])
def test_contamination_with_zero_v_min_is_exactly_one_minus_rho_scaled(rho: float) -> None:
    r, v_next, done = _batch(2)
    v_min = robust.v_min_of(v_next, None, "zero")
    got = robust.contamination_target(r, v_next, done, 0.97, rho, v_min)
    expected = r + 0.97 * (1.0 - rho) * v_next * (1.0 - done)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)


def test_contamination_with_batch_min_mixes_in_the_smallest_valid_next_value() -> None:
    r, v_next, done = _batch(3)
    mask = torch.ones_like(v_next)
    mask[0, 0] = 0.0
    v_next[0, 0] = -1e3  # masked out: must not become V_min
    v_min = robust.v_min_of(v_next, mask, "batch_min")
    assert float(v_min) == pytest.approx(float(v_next[mask.bool()].min()))
    got = robust.contamination_target(r, v_next, done, 0.9, 0.1, v_min)
    expected = r + 0.9 * (0.9 * v_next + 0.1 * v_min) * (1.0 - done)
    torch.testing.assert_close(got, expected)


def test_rho_outside_unit_interval_is_rejected() -> None:
    r, v_next, done = _batch()
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="rho must lie in"):
            robust.contamination_target(r, v_next, done, 0.9, bad)
        with pytest.raises(ValueError, match="rho must lie in"):
            robust.tv_target(r, v_next, v_next, done, 0.9, bad)


def test_tv_worst_case_moves_mass_from_the_top_to_argmin() -> None:
    p = np.array([0.5, 0.3, 0.2])
    v = np.array([1.0, 5.0, 0.0])
    # ρ = 0.4: 0.3 leaves the value-5 state, 0.1 leaves the value-1 state, all to the value-0 state
    assert robust.tv_worst_case_expectation(p, v, 0.4) == pytest.approx(0.4 * 1.0)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("rho", [0.0, 0.05, 0.2, 0.5, 0.9])
def test_tv_dual_over_a_scalar_eta_matches_the_exact_worst_case(seed: int, rho: float) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 9))
    p = rng.dirichlet(np.ones(n))
    v = rng.normal(size=n) * 4.0 + rng.normal()
    exact = robust.tv_worst_case_expectation(p, v, rho)
    # the negative dual is convex and piecewise linear in η; its minimiser lies in [min V, max V]
    res = minimize_scalar(
        lambda eta: -robust.tv_dual_objective(eta, p, v, rho),
        bounds=(float(v.min()) - 1.0, float(v.max()) + 1.0),
        method="bounded",
        options={"xatol": 1e-12, "maxiter": 2000},
    )
    assert -res.fun == pytest.approx(exact, abs=1e-6)
    # and the torch TV target at η* with V_min = min V gives the same robust expectation
    eta = torch.tensor(float(res.x), dtype=torch.float64)
    vt = torch.tensor(v)
    pt = torch.tensor(p)
    robust_next = ((1 - rho) * eta - (pt * torch.relu(eta - vt)).sum() + rho * vt.min()).item()
    assert robust_next == pytest.approx(exact, abs=1e-6)


def test_tv_dual_loss_minimiser_is_the_one_minus_rho_quantile() -> None:
    v_next = torch.linspace(0.0, 9.9, 100)  # 100 equally likely next values
    g = torch.tensor(5.0, requires_grad=True)
    opt = torch.optim.SGD([g], lr=0.5)
    for _ in range(400):
        opt.zero_grad()
        robust.tv_dual_loss(g.expand_as(v_next), v_next, rho=0.2).backward()
        opt.step()
    assert float(g.detach()) == pytest.approx(7.95, abs=0.06)  # 80 % of the mass lies below g


def test_squared_g_loss_is_degenerate_at_zero_for_nonnegative_values() -> None:
    v_next = torch.rand(50) + 0.5
    zero = robust.tv_squared_loss(torch.zeros(50), v_next, 0.0)
    assert float(zero) == 0.0
    assert float(robust.tv_dual_loss(torch.zeros(50), v_next, 0.0)) > float(
        robust.tv_dual_loss(torch.full((50,), 2.0), v_next, 0.0)
    )
