"""Gymnasium / PettingZoo API conformance, registration and seed determinism of every task."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test, parallel_seed_test

from robocoord.sim import envs
from robocoord.sim.tasks.safe_nav import SafeNavEnv
from robocoord.sim.tasks.team_push import TeamPushParallelEnv
from robocoord.sim.tasks.warehouse import WarehouseParallelEnv


def small_warehouse() -> WarehouseParallelEnv:
    return WarehouseParallelEnv(n_robots=4, decision_period_s=0.5, max_decisions=6)


def small_team_push() -> TeamPushParallelEnv:
    return TeamPushParallelEnv(n_robots=3, max_decisions=8)


def test_safe_nav_passes_check_env() -> None:
    env = SafeNavEnv(decision_period_s=0.5)
    try:
        check_env(env, skip_render_check=True)
    finally:
        env.close()


def test_safe_nav_is_registered_with_gymnasium() -> None:
    env = gymnasium.make(envs.SAFE_NAV_ID, decision_period_s=0.5)
    try:
        obs, info = env.reset(seed=0)
        assert env.observation_space.contains(obs)
        _, _, _, _, info = env.step(1)
        assert info["cost"].shape == (len(info["cost_names"]),) and len(info["cost_names"]) >= 2
    finally:
        env.close()


@pytest.mark.parametrize("factory", [small_warehouse, small_team_push], ids=["warehouse", "team_push"])
def test_parallel_env_passes_parallel_api_test(factory: Any) -> None:
    env = factory()
    try:
        parallel_api_test(env, num_cycles=10)
    finally:
        env.close()


@pytest.mark.parametrize("factory", [small_warehouse, small_team_push], ids=["warehouse", "team_push"])
def test_parallel_env_passes_parallel_seed_test(factory: Any) -> None:
    parallel_seed_test(factory)


def test_make_builds_every_task_by_id_and_by_name() -> None:
    for key, cls, kwargs in [
        (envs.WAREHOUSE_ID, WarehouseParallelEnv, {"n_robots": 2}),
        ("team_push", TeamPushParallelEnv, {}),
    ]:
        env = envs.make(key, **kwargs)
        assert isinstance(env, cls)
        env.close()
    with pytest.raises(KeyError, match="not registered"):
        envs.make("robocoord/Nope-v0")


def rollout(env: Any, seed: int, steps: int) -> list[Any]:
    rng = np.random.default_rng(123)  # same actions for every run
    if hasattr(env, "possible_agents"):
        obs, _ = env.reset(seed=seed)
        trace: list[Any] = [np.stack(list(obs.values())).tolist()]
        for _ in range(steps):
            if not env.agents:
                break
            actions = {a: int(rng.integers(env.action_space(a).n)) for a in env.agents}
            obs, rewards, *_ = env.step(actions)
            trace += [np.stack(list(obs.values())).tolist(), list(rewards.values())]
        return trace
    obs, _ = env.reset(seed=seed)
    trace = [obs.tolist()]
    for _ in range(steps):
        obs, reward, *_ = env.step(int(rng.integers(env.action_space.n)))
        trace += [obs.tolist(), reward]
    return trace


@pytest.mark.parametrize(
    "factory",
    [small_warehouse, small_team_push, lambda: SafeNavEnv(decision_period_s=0.5)],
    ids=["warehouse", "team_push", "safe_nav"],
)
def test_same_seed_same_trajectory(factory: Any) -> None:
    traces = []
    for seed in (5, 5, 6):
        env = factory()
        traces.append(rollout(env, seed, steps=5))
        env.close()
    assert traces[0] == traces[1]
    assert traces[0] != traces[2]


def test_team_push_global_state_has_box_goal_and_every_robot() -> None:
    env = TeamPushParallelEnv(n_robots=4)
    try:
        env.reset(seed=0)
        state = env.state()
        assert state.shape == (6 + 4 * 4,)
        np.testing.assert_allclose(state[:2], env.box_pose_world()[:2], atol=1e-6)
        np.testing.assert_allclose(state[4:6], env.goal_world_m)
        np.testing.assert_allclose(state[6:8], env.plant.poses_world()[0, :2], atol=1e-6)
    finally:
        env.close()


def test_team_push_reward_is_shared_by_the_team() -> None:
    env = TeamPushParallelEnv(n_robots=2)
    try:
        env.reset(seed=0)
        team_return = 0.0
        for _ in range(8):
            _, rewards, *_ = env.step({"robot_0": 1, "robot_1": 1})
            assert len(set(rewards.values())) == 1
            team_return += rewards["robot_0"]
        assert team_return > 0  # reaching and pushing the box makes progress
    finally:
        env.close()
