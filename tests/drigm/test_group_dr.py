"""GroupDR, the group-DRO baseline: its group weights move to the worst group, and it trains end to end."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from robocoord.training.drigm.config import DrigmTrainConfig, EnvSpec, LearnerSpec, ShiftSpec
from robocoord.training.drigm.group_dr import GroupWeights
from robocoord.training.drigm.train import RunSpec, train_learner


def test_weights_move_towards_the_group_with_the_lowest_return_and_stay_a_distribution() -> None:
    weights = GroupWeights(3, step_size=0.5, uniform_mix=0.2)
    for _ in range(20):
        weights.update(np.array([0, 1, 2, 0, 1, 2]), np.array([1.0, 0.2, 0.9, 1.1, 0.3, 0.8]))
    assert weights.q.sum() == pytest.approx(1.0) and (weights.q >= 0).all()
    assert np.argmax(weights.q) == 1 and weights.q[1] > 0.9
    # the uniform share keeps every group in the draws
    assert weights.sampling_probs.min() >= 0.2 / 3 - 1e-12
    draws = weights.sample(np.random.default_rng(0), 4000)
    assert np.bincount(draws, minlength=3)[1] / 4000 == pytest.approx(weights.sampling_probs[1], abs=0.03)


def test_equal_returns_leave_the_weights_uniform() -> None:
    weights = GroupWeights(2)
    weights.update(np.array([0, 1]), np.array([0.5, 0.5]))
    assert weights.q == pytest.approx([0.5, 0.5])


def test_groupdr_trains_on_the_tiny_game_and_shifts_weight_to_the_hard_group() -> None:
    env = EnvSpec(task="tiny", n_agents=2, episode_steps=6)
    spec = LearnerSpec(total_env_steps=600, n_envs=8, batch_episodes=8, learning_starts_episodes=8)
    hard = ShiftSpec(name="hazard", params={"hazard": 0.5})
    run = RunSpec("vdn", "groupdr", 0.0, env, spec, dr_shifts=(hard,))
    _, stats = train_learner(run, seed=0)
    assert len(stats.group_weights) == 2 and stats.group_weights[1] > stats.group_weights[0]


def test_groupdr_needs_a_training_group_set_and_takes_no_rho() -> None:
    with pytest.raises(ValidationError, match="groupdr needs a non-empty dr_shifts"):
        DrigmTrainConfig.model_validate({"robust": "groupdr"})
    shifts = [{"name": "m", "params": {"hazard": 0.1}}]
    with pytest.raises(ValidationError, match="rho"):
        DrigmTrainConfig.model_validate({"robust": "groupdr", "rho": 0.1, "dr_shifts": shifts})
