"""The tiny two-route game: PettingZoo API, exact tabular model, perturbation family."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from robocoord.training.drigm.tiny_game import (
    GOAL,
    LONG_2,
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
    assert env.state().shape == (4,)
    assert obs["agent_0"].shape == (3,)


def test_long_route_then_goal_pays_reward_long_minus_step_costs() -> None:
    game = TinyTeamGame(2, 8, [TinyParams()])
    game.reset(0)
    total = 0.0
    for _ in range(3):
        _, _, r, term, _ = game.step(np.array([[LONG_WAY, LONG_WAY]]))
        total += float(r[0])
    assert bool(term[0]) and bool(game.reached_goal[0])
    assert total == pytest.approx(1.1 - 3 * 0.05)


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
    assert P[LONG_2, LONG_WAY, GOAL] == pytest.approx(0.9 * 0.7)


def test_unknown_parameter_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['box_mass'\]"):
        TinyParams.from_overrides({"box_mass": 2.0})
    with pytest.raises(ValueError, match="hazard must lie in"):
        TinyParams(hazard=1.5)
