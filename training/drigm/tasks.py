"""Team tasks behind one batched interface, so the learner never sees which simulator runs.

A :class:`TeamTask` steps ``n_envs`` episodes at once: ``reset(seed) -> (obs [E, n, o], state [E, S])``,
``step(actions [E, n]) -> (obs, state, reward [E], terminated [E], truncated [E])`` and
``set_variants(list of parameter overrides, one per env)`` for domain randomisation and shifts.

* ``tiny``      — :class:`~robocoord.training.drigm.tiny_game.TinyTeamGame` (vectorised numpy);
* ``team_push`` — ``robocoord.sim`` TeamPush PettingZoo envs, one per slot (see :mod:`team_push_task`).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from robocoord.training.drigm.config import TEAM_SIZES, EnvSpec
from robocoord.training.drigm.tiny_game import TinyTeamGame, make_tiny_params


class TeamTask(Protocol):
    n_agents: int
    n_actions: int
    obs_dim: int
    state_dim: int
    episode_steps: int

    @property
    def n_envs(self) -> int: ...

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]: ...

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]: ...

    def set_variants(self, variants: list[dict[str, float]]) -> None: ...

    def success(self) -> np.ndarray: ...

    def close(self) -> None: ...


class TinyTask:
    """The tiny game as a :class:`TeamTask`."""

    def __init__(self, env: EnvSpec, n_envs: int):
        self.nominal = dict(env.params)
        self.game = TinyTeamGame(env.n_agents, env.episode_steps, [make_tiny_params(self.nominal)] * n_envs)
        self.n_agents = env.n_agents
        self.n_actions = self.game.n_actions
        self.obs_dim = self.game.obs_dim
        self.state_dim = self.game.state_dim
        self.episode_steps = env.episode_steps

    @property
    def n_envs(self) -> int:
        return self.game.n_envs

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        return self.game.reset(seed)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.game.step(actions)

    def set_variants(self, variants: list[dict[str, float]]) -> None:
        if len(variants) != self.n_envs:
            raise ValueError(f"need {self.n_envs} variants, got {len(variants)}")
        self.game.set_params([make_tiny_params(self.nominal, v) for v in variants])

    def success(self) -> np.ndarray:
        return self.game.reached_goal.copy()

    def close(self) -> None:
        return None


def check_team_size(task: str, n_agents: int) -> None:
    allowed = TEAM_SIZES.get(task)
    if allowed is None:
        raise ValueError(f"unknown task {task!r}; known: {', '.join(sorted(TEAM_SIZES))}")
    if n_agents not in allowed:
        raise ValueError(f"task {task!r} takes {' or '.join(map(str, allowed))} agents, got {n_agents}")


def make_task(env: EnvSpec, n_envs: int) -> TeamTask:
    check_team_size(env.task, env.n_agents)
    if env.task == "tiny":
        return TinyTask(env, n_envs)
    from robocoord.training.drigm.team_push_task import TeamPushTask

    return TeamPushTask(env, n_envs)
