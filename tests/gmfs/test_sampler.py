"""Graphons, W̄, neighbour sampling and count vectors (controllers/gmfs_sampler.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from robocoord.controllers.gmfs_sampler import (
    CountIndex,
    NeighbourSampler,
    graphon_matrix,
    mean_field,
    neighbour_counts,
    normalised_weights,
    table_size,
    total_variation,
    uniform_weights,
)

RNG_POSITIONS = np.random.default_rng(7).random((40, 2))
GRAPHONS = [
    ("radius", {"radius": 0.3}),
    ("exp_decay", {"beta": 3.0}),
    ("step", {"blocks": [[1.0, 0.2], [0.2, 0.5]]}),
    ("matrix", {"weights": np.random.default_rng(1).random((40, 40))}),
]


@pytest.mark.parametrize(("kind", "params"), GRAPHONS, ids=[g[0] for g in GRAPHONS])
def test_w_bar_rows_sum_to_one_with_zero_diagonal(kind: str, params: dict) -> None:
    w_bar = normalised_weights(graphon_matrix(kind, RNG_POSITIONS, **params))
    np.testing.assert_allclose(w_bar.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(np.diag(w_bar), 0.0)
    assert (w_bar >= 0).all()


def test_zero_mass_row_falls_back_to_uniform_over_the_others() -> None:
    positions = np.array([[0.0, 0.0], [0.05, 0.0], [0.9, 0.9], [0.1, 0.0]])
    w_bar = normalised_weights(graphon_matrix("radius", positions, radius=0.2))
    np.testing.assert_allclose(w_bar[2], [1 / 3, 1 / 3, 0.0, 1 / 3])
    np.testing.assert_allclose(w_bar[0], [0.0, 0.5, 0.0, 0.5])


def test_radius_graphon_on_the_paper_grid_links_the_four_nearest() -> None:
    c = np.linspace(0, 1, 5)
    grid = np.array([(x, y) for y in c for x in c])
    w = graphon_matrix("radius", grid, radius=0.3)
    degrees = w.sum(axis=1) - 1  # minus the diagonal
    assert degrees[0] == 2 and degrees[2] == 3 and degrees[12] == 4


def test_neighbour_frequencies_match_w_bar_chi_square() -> None:
    w_bar = normalised_weights(graphon_matrix("exp_decay", RNG_POSITIONS, beta=4.0))
    sampler = NeighbourSampler(w_bar, kappa=10)
    draws = sampler.sample(np.random.default_rng(3), batch=(10_000,))  # 10⁵ draws per agent
    for i in (0, 17, 39):
        observed = np.bincount(draws[:, i].ravel(), minlength=40)
        expected = w_bar[i] * observed.sum()
        keep = expected > 0
        assert observed[~keep].sum() == 0, "a neighbour with zero weight was drawn"
        p = stats.chisquare(observed[keep], expected[keep]).pvalue
        assert p > 1e-3, f"agent {i}: chi-square p={p:.2e}"


def test_sampler_rejects_a_skewed_empirical_distribution() -> None:
    """The chi-square check above has power: uniform draws fail it for a skewed row."""
    w_bar = normalised_weights(graphon_matrix("exp_decay", RNG_POSITIONS, beta=4.0))
    draws = NeighbourSampler(uniform_weights(40), kappa=10).sample(np.random.default_rng(3), batch=(10_000,))
    observed = np.bincount(draws[:, 0].ravel(), minlength=40)
    keep = w_bar[0] > 0
    assert stats.chisquare(observed[keep], w_bar[0][keep] * observed[keep].sum()).pvalue < 1e-6


def test_expected_g_hat_over_kappa_is_the_true_mean_field() -> None:
    rng = np.random.default_rng(4)
    w_bar = normalised_weights(graphon_matrix("radius", RNG_POSITIONS, radius=0.35))
    states = rng.integers(0, 3, size=40)
    kappa, draws = 8, 20_000
    g_hat = neighbour_counts(
        np.broadcast_to(states, (draws, 40)), NeighbourSampler(w_bar, kappa).sample(rng, (draws,)), 3
    )
    mean = (g_hat / kappa).mean(axis=0)
    stderr = (g_hat / kappa).std(axis=0) / math.sqrt(draws) + 1e-12
    g = mean_field(states, w_bar, 3)
    assert (np.abs(mean - g) < 5 * stderr + 1e-9).all()


def test_tv_error_decays_like_one_over_sqrt_kappa() -> None:
    rng = np.random.default_rng(5)
    w_bar = normalised_weights(graphon_matrix("exp_decay", RNG_POSITIONS, beta=2.0))
    states = rng.integers(0, 3, size=40)
    g = mean_field(states, w_bar, 3)
    kappas = np.array([4, 8, 16, 32, 64])
    tv = []
    for kappa in kappas:
        g_hat = neighbour_counts(
            np.broadcast_to(states, (2000, 40)), NeighbourSampler(w_bar, int(kappa)).sample(rng, (2000,)), 3
        )
        tv.append(total_variation(g_hat / kappa, g).mean())
    slope = np.polyfit(np.log(kappas), np.log(tv), 1)[0]
    assert -0.6 <= slope <= -0.4, slope


def test_table_size_counts_every_histogram() -> None:
    assert table_size(3, 3, 24) == 2925
    for kappa, n_states in [(1, 3), (5, 2), (24, 3), (6, 5)]:
        index = CountIndex.build(kappa, n_states)
        assert len(index) == math.comb(kappa + n_states - 1, n_states - 1)
        assert (index.counts.sum(axis=1) == kappa).all()
        assert len({tuple(row) for row in index.counts}) == len(index)
        np.testing.assert_array_equal(index.index(index.counts), np.arange(len(index)))


def test_count_index_rejects_a_vector_with_the_wrong_total() -> None:
    with pytest.raises(ValueError, match="sum to kappa=4"):
        CountIndex.build(4, 3).index([1, 1, 1])


@pytest.mark.parametrize("kappa", [0, -3])
def test_nonpositive_kappa_is_refused(kappa: int) -> None:
    with pytest.raises(ValueError, match="kappa: must be a positive integer"):
        NeighbourSampler(uniform_weights(5), kappa)


def test_unknown_graphon_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown 'ring'; expected one of radius, exp_decay, step, matrix"):
        graphon_matrix("ring", RNG_POSITIONS)


def test_matrix_graphon_must_match_the_roster() -> None:
    with pytest.raises(ValueError, match="must be 40x40"):
        graphon_matrix("matrix", RNG_POSITIONS, weights=np.ones((3, 3)))
