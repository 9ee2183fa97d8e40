"""A tiny cooperative Markov game for fast DrIGM runs: a team moves a box to a goal by one of two routes.

States (one-hot observed by every agent, plus optional Gaussian noise):
``start`` and ``long_1`` (the box part-way along the long route); reaching the goal ends the
episode.

Actions per agent: 0 = ``shortcut``, 1 = ``long_way``. The team must agree: a mixed joint
action wastes the step (nothing moves, no reward).

=========  =================================================  ======================
state      all ``long_way``                                   all ``shortcut``
=========  =================================================  ======================
start      → long_1 w.p. p (else stay)                        goal, reward R_short
long_1     goal, reward R_long, w.p. p (else stay)            stay
=========  =================================================  ======================

Every live step costs ``step_cost`` (so waiting is never free). Before every move the box tips over with probability ``hazard`` (the episode ends, reward 0).
Nominally hazard = 0 and the long route pays a little more (R_long > R_short), so the
nominal optimum is the long route; the shortcut is exposed to fewer steps, so it is the
better plan as soon as the box may tip. Both robust targets (ρ-contamination and TV with the
V_min = 0 sink) read "a fraction ρ of every transition may go to the worst state", which is
exactly this kind of perturbation.

The perturbation family P_θ is θ = (hazard, push_success p, action_noise, obs_noise):
``action_noise`` replaces each agent's action by a uniform one with that probability;
``obs_noise`` is the std of Gaussian noise on the one-hot observation.
:func:`transition_model` gives the exact tabular model for DP references.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np
from pettingzoo import ParallelEnv

START, LONG_1 = 0, 1
LAST = LONG_1  # the state from which the long route reaches the goal
STATE_NAMES = ("start", "long_1")
N_STATES = 2
SHORTCUT, LONG_WAY = 0, 1
ACTION_NAMES = ("shortcut", "long_way")


@dataclass(frozen=True)
class TinyParams:
    reward_long: float = 1.05
    reward_short: float = 0.97
    step_cost: float = 0.05
    push_success: float = 1.0
    hazard: float = 0.0
    action_noise: float = 0.0
    obs_noise: float = 0.0

    def __post_init__(self) -> None:
        for name in ("push_success", "hazard", "action_noise"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"tiny game: {name} must lie in [0, 1], got {value}")
        if self.obs_noise < 0.0:
            raise ValueError(f"tiny game: obs_noise must be >= 0, got {self.obs_noise}")

    @classmethod
    def from_overrides(cls, overrides: dict[str, float], base: TinyParams | None = None) -> TinyParams:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"tiny game: unknown parameter(s) {unknown}; known: {sorted(known)}")
        return replace(base or cls(), **{k: float(v) for k, v in overrides.items()})

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def make_tiny_params(nominal: dict[str, float], shift: dict[str, float] | None = None) -> TinyParams:
    return TinyParams.from_overrides(shift or {}, base=TinyParams.from_overrides(nominal))


GOAL, TIPPED = N_STATES, N_STATES + 1  # absorbing states of the tabular model (episode over)


def transition_model(params: TinyParams) -> tuple[np.ndarray, np.ndarray]:
    """Team-level model over joint intents (0 shortcut, 1 long way, 2 mixed): P [S+2, 3, S+2], expected R [S+2, 3].

    States ``N_STATES`` (goal) and ``N_STATES + 1`` (tipped) are absorbing with value 0.
    """
    p, h = params.push_success, params.hazard
    n = N_STATES + 2
    P = np.zeros((n, 3, n))
    R = np.zeros((n, 3))
    for s in range(N_STATES):
        P[s, :, TIPPED] = h
        P[s, 2, s] += 1 - h
    P[START, SHORTCUT, GOAL] += 1 - h
    R[:N_STATES] -= params.step_cost
    R[START, SHORTCUT] += (1 - h) * params.reward_short
    for s, nxt in ((START, LONG_1), (LONG_1, GOAL)):
        P[s, LONG_WAY, nxt] += (1 - h) * p
        P[s, LONG_WAY, s] += (1 - h) * (1 - p)
    R[LAST, LONG_WAY] += (1 - h) * p * params.reward_long
    P[LONG_1, SHORTCUT, LONG_1] += 1 - h
    for s in (GOAL, TIPPED):
        P[s, :, s] = 1.0
    return P, R


class TinyTeamGame:
    """Vectorised core: ``n_envs`` independent games stepped at once, each with its own parameters.

    A finished game (goal or tipped) stays finished until :meth:`reset`; its rows report
    ``terminated`` once and reward 0 afterwards.
    """

    n_actions = 2
    obs_dim = N_STATES

    def __init__(self, n_agents: int, episode_steps: int, params: list[TinyParams]):
        if n_agents not in (2, 3):
            raise ValueError(f"tiny game: n_agents must be 2 or 3, got {n_agents}")
        if not params:
            raise ValueError("tiny game: need at least one parameter set")
        self.n_agents = n_agents
        self.episode_steps = episode_steps
        self.state_dim = N_STATES + 1  # one-hot state and elapsed fraction of the episode
        self.set_params(params)
        self.rng = np.random.default_rng(0)
        self.s = np.zeros(self.n_envs, dtype=np.int64)
        self.done = np.zeros(self.n_envs, dtype=bool)
        self.reached_goal = np.zeros(self.n_envs, dtype=bool)
        self.t = 0

    @property
    def n_envs(self) -> int:
        return len(self._params)

    def set_params(self, params: list[TinyParams]) -> None:
        self._params = list(params)
        self._push = np.array([x.push_success for x in params])
        self._hazard = np.array([x.hazard for x in params])
        self._reward = np.array([[x.reward_short, x.reward_long] for x in params])
        self._step_cost = np.array([x.step_cost for x in params], dtype=np.float32)
        self._act_noise = np.array([x.action_noise for x in params])
        self._obs_noise = np.array([x.obs_noise for x in params])

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.s = np.zeros(self.n_envs, dtype=np.int64)
        self.done = np.zeros(self.n_envs, dtype=bool)
        self.reached_goal = np.zeros(self.n_envs, dtype=bool)
        self.t = 0
        return self._obs(), self._state()

    def _obs(self) -> np.ndarray:
        onehot = np.eye(N_STATES, dtype=np.float32)[self.s]
        obs = np.repeat(onehot[:, None, :], self.n_agents, axis=1)
        noise = self.rng.normal(size=obs.shape) * self._obs_noise[:, None, None]
        return (obs + noise).astype(np.float32)

    def _state(self) -> np.ndarray:
        onehot = np.eye(N_STATES, dtype=np.float32)[self.s]
        frac = np.full((self.n_envs, 1), self.t / self.episode_steps, dtype=np.float32)
        return np.concatenate([onehot, frac], axis=1)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """actions [n_envs, n_agents] -> obs, state, team reward [n_envs], terminated, truncated."""
        actions = np.asarray(actions, dtype=np.int64)
        if actions.shape != (self.n_envs, self.n_agents):
            raise ValueError(f"actions must have shape {(self.n_envs, self.n_agents)}, got {actions.shape}")
        if ((actions < 0) | (actions >= self.n_actions)).any():
            raise ValueError("actions must be 0 (shortcut) or 1 (long_way)")
        flip = self.rng.random(actions.shape) < self._act_noise[:, None]
        actions = np.where(flip, self.rng.integers(0, 2, size=actions.shape), actions)
        all_long = (actions == LONG_WAY).all(axis=1)
        all_short = (actions == SHORTCUT).all(axis=1)
        live = ~self.done
        tipped = live & (self.rng.random(self.n_envs) < self._hazard)
        moving = live & ~tipped
        advance = moving & all_long & (self.rng.random(self.n_envs) < self._push)
        reward = np.where(live, -self._step_cost, 0.0).astype(np.float32)
        goal = np.zeros(self.n_envs, dtype=bool)
        shortcut = moving & all_short & (self.s == START)
        reward[shortcut] += self._reward[shortcut, 0]
        goal |= shortcut
        finish = advance & (self.s == LAST)
        reward[finish] += self._reward[finish, 1]
        goal |= finish
        step_on = advance & (self.s < LAST)
        self.s = np.where(step_on, self.s + 1, self.s)
        terminated = tipped | goal
        self.reached_goal = self.reached_goal | goal
        self.done = self.done | terminated
        self.t += 1
        truncated = np.full(self.n_envs, self.t >= self.episode_steps) & ~self.done
        return self._obs(), self._state(), reward, terminated, truncated


class TinyPushParallelEnv(ParallelEnv):
    """PettingZoo ``ParallelEnv`` view of one tiny game (agents ``agent_0`` …), with ``state()``."""

    metadata: dict[str, Any] = {"name": "drigm_tiny_v0", "render_modes": []}

    def __init__(self, n_agents: int = 2, episode_steps: int = 8, **params: float):
        from gymnasium import spaces

        self._game = TinyTeamGame(n_agents, episode_steps, [TinyParams.from_overrides(params)])
        self.possible_agents = [f"agent_{i}" for i in range(n_agents)]
        self.agents: list[str] = []
        self._obs_space = spaces.Box(-np.inf, np.inf, shape=(N_STATES,), dtype=np.float32)
        self._act_space = spaces.Discrete(2)
        self.state_space = spaces.Box(-np.inf, np.inf, shape=(self._game.state_dim,), dtype=np.float32)
        self._state = np.zeros(self._game.state_dim, dtype=np.float32)

    def observation_space(self, agent: str) -> Any:
        return self._obs_space

    def action_space(self, agent: str) -> Any:
        return self._act_space

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        obs, state = self._game.reset(seed)
        self.agents = list(self.possible_agents)
        self._state = state[0]
        return {a: obs[0, i] for i, a in enumerate(self.agents)}, {a: {} for a in self.agents}

    def state(self) -> np.ndarray:
        return self._state.copy()

    def step(self, actions: dict[str, int]) -> tuple[dict, dict, dict, dict, dict]:
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"tiny game: no action for {missing}")
        joint = np.array([[int(actions[a]) for a in self.possible_agents]])
        obs, state, reward, term, trunc = self._game.step(joint)
        self._state = state[0]
        agents = list(self.agents)
        if bool(term[0] or trunc[0]):
            self.agents = []
        info = {"box": STATE_NAMES[int(self._game.s[0])]}
        return (
            {a: obs[0, i] for i, a in enumerate(agents)},
            {a: float(reward[0]) for a in agents},
            {a: bool(term[0]) for a in agents},
            {a: bool(trunc[0]) for a in agents},
            {a: dict(info) for a in agents},
        )
