"""Alg. 1 (offline value iteration) and Alg. 2 (execution) of tabular GMFS."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from robocoord.controllers.gmfs_sampler import normalised_weights, uniform_weights
from robocoord.training.gmfs.models import AnalyticWarehouseModel, SyntheticModel
from robocoord.training.gmfs.tabular import TableTooLarge, TabularGmfs, execute


def test_analytic_model_follows_the_paper() -> None:
    m = AnalyticWarehouseModel(L=5.0)
    g = np.array([0.2, 0.3, 0.5])  # congestion c = 0.5
    np.testing.assert_allclose(m.next_state_probs(0, 2, g), [0.0, 0.5, 0.5])  # max(0.1, 0.9 − 0.4)
    np.testing.assert_allclose(m.next_state_probs(2, 0, g), [0.9, 0.0, 0.1])
    np.testing.assert_allclose(m.next_state_probs(1, 1, g), [0.0, 1.0, 0.0])
    np.testing.assert_allclose(m.next_state_probs(0, 2, [0, 0, 1.0]), [0.0, 0.9, 0.1])  # floor 0.1
    assert m.reward(2, 2, g) == pytest.approx(20 * 0.4 - 5)
    assert m.reward(0, 1, [1.0, 0, 0]) == pytest.approx(10.0)
    assert m.reward(1, 0, [0.9, 0, 0.1]) == pytest.approx(5 * 0.5)


def test_sampled_operator_is_a_gamma_contraction() -> None:
    tg = TabularGmfs(SyntheticModel(3, 2, seed=1), kappa=5, gamma=0.9, mc_samples=20)
    rng = np.random.default_rng(0)
    samples = tg.sample_transitions(tg.Q, rng)
    for _ in range(20):
        q1, q2 = rng.normal(size=(2, *tg.Q.shape)) * rng.uniform(0.1, 10)
        lhs = np.abs(tg.bellman(q1, samples) - tg.bellman(q2, samples)).max()
        assert lhs <= 0.9 * np.abs(q1 - q2).max() + 1e-12


def test_first_sweep_value_iteration_max_delta_falls_geometrically() -> None:
    tg = TabularGmfs(
        AnalyticWarehouseModel(), kappa=4, gamma=0.95, mc_samples=10, neighbor_action="first_sweep_greedy"
    )
    deltas = np.array(tg.fit(60, np.random.default_rng(0)))
    assert (deltas[1:] <= 0.95 * deltas[:-1] + 1e-9).all()
    assert deltas[-1] < 0.95**50 * deltas[0]


def test_modes_differ_only_in_when_neighbours_read_q() -> None:
    """first_sweep_greedy freezes neighbour actions at argmax of Q ≡ 0 (action 0)."""
    rng = np.random.default_rng(2)
    tg = TabularGmfs(
        AnalyticWarehouseModel(), kappa=3, gamma=0.9, mc_samples=1, neighbor_action="first_sweep_greedy"
    )
    tg.fit(1, rng)
    q_work = np.zeros_like(tg.Q)
    q_work[:, 2] = 1.0  # every neighbour would head for Working
    # with everyone going idle (Q ≡ 0), a neighbour histogram can never gain Working agents
    frozen = tg.sample_transitions(np.zeros_like(tg.Q), rng)
    working_before = tg.z.counts[None, None, :, None, 2]
    assert (tg.z.counts[frozen.z_next][..., 2] <= working_before).all()
    moving = tg.sample_transitions(q_work, rng)
    assert (tg.z.counts[moving.z_next][..., 2] > working_before).any()


def _exact_mean_field_q(
    model: SyntheticModel, kappa: int, gamma: float, sweeps: int
) -> tuple[np.ndarray, list]:
    """Brute force: enumerate every neighbour's next state individually, exact probabilities, no sampling."""
    n_s, n_a = model.n_states, model.n_actions
    zs = [z for z in itertools.product(range(kappa + 1), repeat=n_s) if sum(z) == kappa]
    zi = {z: i for i, z in enumerate(zs)}
    Q = np.zeros((n_s, n_a, len(zs)))
    for _ in range(sweeps):
        V = Q.max(axis=1)
        Q_new = np.zeros_like(Q)
        for k, z in enumerate(zs):
            g = np.array(z) / kappa
            nb_states = [s for s in range(n_s) for _ in range(z[s])]
            nb_probs = [model.next_state_probs(s, int(np.argmax(Q[s, :, k])), g) for s in nb_states]
            # distribution of z' by enumerating the joint next state of the κ neighbours
            p_z_next = np.zeros(len(zs))
            for joint in itertools.product(range(n_s), repeat=kappa):
                p = np.prod([nb_probs[j][joint[j]] for j in range(kappa)])
                p_z_next[zi[tuple(np.bincount(joint, minlength=n_s))]] += p
            for s in range(n_s):
                for a in range(n_a):
                    p_s_next = model.next_state_probs(s, a, g)
                    Q_new[s, a, k] = model.reward(s, a, g) + gamma * p_s_next @ V @ p_z_next
        Q = Q_new
    return Q, zs


def test_alg1_matches_brute_force_exact_mean_field_q_with_kappa_n_minus_1() -> None:
    """n = 4 agents, W ≡ 1, κ = n − 1 = 3, |S| = |A| = 2."""
    model = SyntheticModel(2, 2, seed=3)
    n, gamma = 4, 0.8
    exact, zs = _exact_mean_field_q(model, kappa=n - 1, gamma=gamma, sweeps=60)
    tg = TabularGmfs(model, kappa=n - 1, gamma=gamma, mc_samples=20_000)
    tg.fit(60, np.random.default_rng(0))
    order = [tuple(z) for z in tg.z.counts]
    exact_in_tg_order = exact[:, :, [zs.index(z) for z in order]]
    scale = np.abs(exact).max()
    np.testing.assert_allclose(tg.Q, exact_in_tg_order, atol=0.02 * scale)
    gap = np.abs(np.diff(exact_in_tg_order, axis=1)[:, 0])
    clear = gap > 0.05 * scale  # actions whose values are clearly apart must be ranked the same
    assert (tg.greedy()[clear] == exact_in_tg_order.argmax(axis=1)[clear]).all()
    # and W ≡ 1 on n = 4 agents gives the same W̄ as the uniform baseline
    np.testing.assert_allclose(normalised_weights(np.ones((n, n))), uniform_weights(n))


@pytest.mark.parametrize(("n_states", "n_actions"), [(2, 4), (4, 3), (5, 2)])
def test_alg1_and_alg2_run_for_any_state_and_action_count(n_states: int, n_actions: int) -> None:
    model = SyntheticModel(n_states, n_actions, seed=n_states)
    tg = TabularGmfs(model, kappa=3, gamma=0.9, mc_samples=4)
    tg.fit(5, np.random.default_rng(0))
    assert tg.Q.shape == (n_states, n_actions, len(tg.z))
    w_bar = uniform_weights(12)
    out = execute(
        tg.policy(), model, w_bar, w_bar, 3, horizon=5, rollouts=4, gamma=0.9, rng=np.random.default_rng(1)
    )
    assert out.returns.shape == (4,) and np.isfinite(out.returns).all()


def test_table_above_the_limit_is_refused_with_a_pointer_to_neural_gmfs() -> None:
    with pytest.raises(TableTooLarge, match=r"needs a Q table of 5,883,768 entries.*neural GMFS"):
        TabularGmfs(SyntheticModel(8, 3), kappa=16, gamma=0.9, mc_samples=1, max_table_size=1_000_000)


def test_nonpositive_kappa_is_refused_by_alg1() -> None:
    with pytest.raises(ValueError, match="kappa: must be a positive integer, got 0"):
        TabularGmfs(AnalyticWarehouseModel(), kappa=0, gamma=0.9, mc_samples=1)


def test_execution_uses_the_true_mean_field_for_rewards() -> None:
    """A policy that always idles in a world where everyone starts idle earns exactly base[Idle] = 10 per step."""
    model = AnalyticWarehouseModel()
    w_bar = uniform_weights(6)

    def always_idle(s: np.ndarray, counts: np.ndarray) -> np.ndarray:
        return np.zeros_like(s)

    out = execute(
        always_idle, model, w_bar, w_bar, 2, horizon=200, rollouts=3, gamma=0.9, rng=np.random.default_rng(0)
    )
    # start states are random; once idle agents stay idle, so the return approaches 10/(1 − γ) from below
    assert (out.returns < 100.0).all() and (out.returns > 80.0).all()
