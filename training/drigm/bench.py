"""Training throughput of the DrIGM learner (env steps per second, one torch thread)."""

from __future__ import annotations

import time

import numpy as np

from robocoord.benchjson import Result
from robocoord.training.drigm.config import EnvSpec, LearnerSpec
from robocoord.training.drigm.tasks import make_task
from robocoord.training.drigm.train import RunSpec, train_learner


def _train_rate(env: EnvSpec, spec: LearnerSpec, algo: str, robust: str, rho: float) -> float:
    _, stats = train_learner(RunSpec(algo, robust, rho, env, spec), seed=0)
    return stats.steps_per_s


def _raw_env_rate(env: EnvSpec, n_envs: int, steps: int) -> float:
    task = make_task(env, n_envs)
    rng = np.random.default_rng(0)
    task.reset(0)
    done = np.zeros(task.n_envs, dtype=bool)
    done_steps, t0 = 0, time.perf_counter()
    while done_steps < steps:
        # count only live slots: a finished slot is skipped until the next reset, not simulated
        done_steps += int((~done).sum())
        _, _, _, term, trunc = task.step(rng.integers(0, task.n_actions, size=(task.n_envs, task.n_agents)))
        done |= np.asarray(term) | np.asarray(trunc)
        if done.all():
            task.reset()
            done[:] = False
    rate = done_steps / (time.perf_counter() - t0)
    task.close()
    return rate


def run_bench(steps: int = 1500, team_push: bool = True) -> list[Result]:
    import torch

    torch.set_num_threads(1)
    results: list[Result] = []
    tiny = EnvSpec(task="tiny", n_agents=2, episode_steps=8)
    tiny_spec = LearnerSpec(
        total_env_steps=steps, batch_episodes=16, update_every_steps=25, eps_anneal_steps=max(steps // 2, 1)
    )
    results.append(Result("tiny/raw_env_steps_per_s", _raw_env_rate(tiny, 8, 20_000), "steps/s"))
    for algo, robust, rho in (
        ("vdn", "none", 0.0),
        ("qmix", "none", 0.0),
        ("qmix", "tv", 0.2),
        ("qtran", "none", 0.0),
    ):
        rate = _train_rate(tiny, tiny_spec, algo, robust, rho)
        results.append(Result(f"tiny/train_{algo}_{robust}_steps_per_s", rate, "steps/s"))
    if team_push:
        push = EnvSpec(task="team_push", n_agents=2, episode_steps=60)
        push_steps = min(steps, 600)
        push_spec = LearnerSpec(
            total_env_steps=push_steps,
            n_envs=2,
            batch_episodes=4,
            learning_starts_episodes=4,
            buffer_episodes=64,
            update_every_steps=60,
            eps_anneal_steps=push_steps,
        )
        results.append(Result("team_push/raw_env_steps_per_s", _raw_env_rate(push, 2, 200), "steps/s"))
        results.append(
            Result(
                "team_push/train_qmix_none_steps_per_s",
                _train_rate(push, push_spec, "qmix", "none", 0.0),
                "steps/s",
            )
        )
    return results
