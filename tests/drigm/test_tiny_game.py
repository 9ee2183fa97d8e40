"""The tiny two-route game: PettingZoo API, exact tabular model, perturbation family."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from robocoord.training.drigm.tiny_game import (
    GOAL,
    LAST,
    LONG_WAY,
    SHORTCUT,
    START,
    TIPPED,
    TinyParams,
    TinyPushParallelEnv,
    TinyTeamGame,
    transition_model,
)


def test_parallel_env_passes_the_pettingzoo_api_test() -> None:
    parallel_api_test(TinyPushParallelEnv(n_agents=3, episode_steps=8), num_cycles=50)


def test_state_is_global_and_separate_from_observations() -> None:
    env = TinyPushParallelEnv(n_agents=2)
    obs, _ = env.reset(seed=0)
    assert env.state().shape == (3,)
    assert obs["agent_0"].shape == (2,)


def test_long_route_then_goal_pays_reward_long_minus_step_costs() -> None:
    game = TinyTeamGame(2, 8, [TinyParams()])
    game.reset(0)
    total = 0.0
    for _ in range(2):
        _, _, r, term, _ = game.step(np.array([[LONG_WAY, LONG_WAY]]))
        total += float(r[0])
    assert bool(term[0]) and bool(game.reached_goal[0])
    assert total == pytest.approx(1.05 - 2 * 0.05)


def test_mixed_joint_action_wastes_the_step() -> None:
    game = TinyTeamGame(2, 8, [TinyParams()])
    game.reset(0)
    _, _, r, term, _ = game.step(np.array([[LONG_WAY, SHORTCUT]]))
    assert int(game.s[0]) == START and not bool(term[0])
    assert float(r[0]) == pytest.approx(-0.05)


def test_simulated_frequencies_match_the_tabular_model() -> None:
    params = TinyParams(push_success=0.7, hazard=0.1)
    P, _ = transition_model(params)
    n = 20_000
    game = TinyTeamGame(2, 8, [params] * n)
    game.reset(1)
    game.step(np.full((n, 2), LONG_WAY))
    tipped = game.done & ~game.reached_goal
    assert tipped.mean() == pytest.approx(P[START, LONG_WAY, TIPPED], abs=0.01)
    assert (game.s == 1).mean() == pytest.approx(P[START, LONG_WAY, 1], abs=0.01)
    np.testing.assert_allclose(P.sum(axis=-1), 1.0)
    assert P[LAST, LONG_WAY, GOAL] == pytest.approx(0.9 * 0.7)


def test_unknown_parameter_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['box_mass'\]"):
        TinyParams.from_overrides({"box_mass": 2.0})
    with pytest.raises(ValueError, match="hazard must lie in"):
        TinyParams(hazard=1.5)


def _robust_greedy_at_start(params: TinyParams, kind: str, rho: float, gamma: float = 0.997) -> int:
    """Tabular robust value iteration over the team intents (0 shortcut, 1 long way)."""
    from robocoord.training.drigm.robust import contamination_worst_case, tv_worst_case_expectation

    P, R = transition_model(params)
    v = np.zeros(P.shape[0])
    for _ in range(60):  # every plan ends within a few steps: 60 sweeps converge
        q = np.zeros((P.shape[0], 2))
        for s in range(P.shape[0]):
            for a in range(2):
                if kind == "tv":
                    nxt = tv_worst_case_expectation(P[s, a], v, rho)
                else:
                    nxt = contamination_worst_case(P[s, a], v, rho)
                q[s, a] = R[s, a] + gamma * nxt
        q[GOAL] = q[TIPPED] = 0.0
        v = q.max(axis=1)
    return int(np.argmax(q[START]))


@pytest.mark.parametrize(
    ("kind", "rho"), [("contamination", 0.05), ("contamination", 0.1), ("tv", 0.1), ("tv", 0.3)]
)
def test_robust_dp_prefers_the_shortcut_while_nominal_dp_takes_the_long_way(kind: str, rho: float) -> None:
    nominal = TinyParams()
    assert _robust_greedy_at_start(nominal, kind, 0.0) == LONG_WAY
    assert _robust_greedy_at_start(nominal, kind, rho) == SHORTCUT
    # and the shortcut is what pays under a hazard shift
    assert _robust_greedy_at_start(TinyParams(hazard=0.1), kind, 0.0) == SHORTCUT
