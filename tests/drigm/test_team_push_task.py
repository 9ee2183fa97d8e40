"""team_push behind the learner's batched task interface: shapes, variants reaching the physics, training."""

from __future__ import annotations

import numpy as np
import pytest

from robocoord.training.drigm.config import EnvSpec, LearnerSpec
from robocoord.training.drigm.tasks import make_task
from robocoord.training.drigm.train import RunSpec, train_learner

ENV = EnvSpec(task="team_push", n_agents=2, episode_steps=12)


def test_batched_team_push_steps_and_applies_shift_parameters() -> None:
    task = make_task(ENV, 2)
    try:
        obs, state = task.reset(0)
        assert obs.shape == (2, 2, task.obs_dim) and state.shape == (2, task.state_dim)
        task.set_variants([{"box_mass_scale": 3.0, "box_friction_scale": 2.0}, {"motor_gain": 0.7}])
        cores = task.cores  # type: ignore[attr-defined]
        assert cores[0].box_mass_kg == pytest.approx(3.0 * cores[0].params.box_mass_kg)
        assert cores[0].box_friction == pytest.approx(2.0 * cores[0].params.box_friction)
        task.reset(1)
        _, _, reward, terminated, truncated = task.step(np.ones((2, 2), dtype=np.int64))  # both forward
        assert reward.shape == (2,) and terminated.dtype == bool and truncated.dtype == bool
        with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['hazard'\]"):
            task.set_variants([{"hazard": 0.1}, {}])
    finally:
        task.close()


def test_qmix_trains_on_team_push_with_its_global_state() -> None:
    spec = LearnerSpec(
        total_env_steps=48,
        n_envs=2,
        batch_episodes=2,
        learning_starts_episodes=2,
        buffer_episodes=8,
        update_every_steps=24,
        q_updates=1,
        eps_anneal_steps=48,
    )
    learner, stats = train_learner(RunSpec("qmix", "tv", 0.2, ENV, spec), seed=0)
    assert stats.env_steps >= 48 and stats.q_updates >= 1 and stats.g_updates >= 1
    assert learner.dims.state_dim == 6 + 4 * 2
