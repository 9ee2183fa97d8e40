"""``team_push`` (robocoord.sim, PyBullet) as a :class:`~robocoord.training.drigm.tasks.TeamTask`.

One ``TeamPushParallelEnv`` per env slot, stepped in turn. Variant parameters (nominal
``env.params`` and shifts) use the names of the sim's disruption parameters:

* ``box_mass_scale``, ``box_friction_scale`` — multiply the box's nominal mass / friction;
* ``motor_gain`` — wheel motor gain of every robot (sim ``DynamicsParams.motor_gain``);
* ``action_noise`` — probability that a robot's primitive is replaced by a uniform one;
* ``obs_noise`` — std of Gaussian noise added to every observation entry.

A ``disruptions`` file (``kind: disruptions``) is applied with the sim's own wrappers on top.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from robocoord.training.drigm.config import EnvSpec

KNOWN = ("box_mass_scale", "box_friction_scale", "motor_gain", "action_noise", "obs_noise")
TASK_KEYS = (
    "decision_period_s",
    "goal_distance_m",
    "box_mass_kg",
    "box_friction",
    "near_bay_m",
    "near_bay_bonus",
    "bay_settle_m",
)


def env_reset_seed(seed: int, slot: int) -> int:
    """The seed env slot ``slot`` is reset with when the task is reset with ``seed``."""
    return seed * 1009 + slot


def _check(params: dict[str, float]) -> None:
    unknown = sorted(set(params) - set(KNOWN) - set(TASK_KEYS))
    if unknown:
        raise ValueError(f"team_push: unknown parameter(s) {unknown}; known: {sorted(KNOWN + TASK_KEYS)}")


class TeamPushTask:
    n_actions = 4

    def __init__(self, env: EnvSpec, n_envs: int, disruptions: Path | str | None = None):
        from robocoord.sim.config import TeamPushParams
        from robocoord.sim.tasks.team_push import OBS_DIM, TeamPushParallelEnv

        _check(env.params)
        task_kwargs = {k: v for k, v in env.params.items() if k in TASK_KEYS}
        self.nominal = {k: v for k, v in env.params.items() if k in KNOWN}
        params = TeamPushParams(n_robots=env.n_agents, max_decisions=env.episode_steps, **task_kwargs)
        self.envs: list[Any] = [TeamPushParallelEnv(params=params) for _ in range(n_envs)]
        self.cores = list(self.envs)
        if disruptions is not None:
            from robocoord.sim.disruptions.spec import load_disruptions
            from robocoord.sim.disruptions.wrappers import wrap

            specs = load_disruptions(disruptions)
            self.envs = [wrap(e, specs, phase="eval") for e in self.envs]
        self.n_agents = env.n_agents
        self.obs_dim = OBS_DIM
        self.state_dim = 6 + 4 * env.n_agents
        self.episode_steps = env.episode_steps
        self.rng = np.random.default_rng(0)
        self._variants: list[dict[str, float]] = [dict(self.nominal) for _ in range(n_envs)]
        self._done = np.zeros(n_envs, dtype=bool)
        self._reached = np.zeros(n_envs, dtype=bool)
        self._last_obs = np.zeros((n_envs, self.n_agents, self.obs_dim), dtype=np.float32)
        self._last_state = np.zeros((n_envs, self.state_dim), dtype=np.float32)
        self._apply_variants()

    @property
    def n_envs(self) -> int:
        return len(self.envs)

    def set_variants(self, variants: list[dict[str, float]]) -> None:
        if len(variants) != self.n_envs:
            raise ValueError(f"need {self.n_envs} variants, got {len(variants)}")
        for v in variants:
            _check(v)
        self._variants = [{**self.nominal, **v} for v in variants]
        self._apply_variants()

    def _apply_variants(self) -> None:
        from robocoord.sim.pybullet_plant import DynamicsParams

        for core, v in zip(self.cores, self._variants, strict=True):
            core.set_box(
                core.params.box_mass_kg * v.get("box_mass_scale", 1.0),
                core.params.box_friction * v.get("box_friction_scale", 1.0),
            )
            core.set_dynamics(DynamicsParams(motor_gain=v.get("motor_gain", 1.0)))

    def _noisy(self, obs: np.ndarray, i: int) -> np.ndarray:
        sigma = self._variants[i].get("obs_noise", 0.0)
        return obs + self.rng.normal(scale=sigma, size=obs.shape).astype(np.float32) if sigma > 0 else obs

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        obs = np.zeros((self.n_envs, self.n_agents, self.obs_dim), dtype=np.float32)
        state = np.zeros((self.n_envs, self.state_dim), dtype=np.float32)
        for i, env in enumerate(self.envs):
            o, _ = env.reset(seed=None if seed is None else env_reset_seed(seed, i))
            obs[i] = self._noisy(np.stack([o[a] for a in env.possible_agents]), i)
            state[i] = env.state()
        self._done[:] = False
        self._reached[:] = False
        self._last_obs, self._last_state = obs, state
        return obs.copy(), state.copy()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        actions = np.asarray(actions, dtype=np.int64)
        obs, state = self._last_obs.copy(), self._last_state.copy()
        reward = np.zeros(self.n_envs, dtype=np.float32)
        terminated = np.zeros(self.n_envs, dtype=bool)
        truncated = np.zeros(self.n_envs, dtype=bool)
        for i, env in enumerate(self.envs):
            if self._done[i]:
                continue
            act = actions[i].copy()
            noise = self._variants[i].get("action_noise", 0.0)
            if noise > 0:
                flip = self.rng.random(self.n_agents) < noise
                act = np.where(flip, self.rng.integers(0, self.n_actions, self.n_agents), act)
            o, r, term, trunc, _ = env.step({a: int(act[k]) for k, a in enumerate(env.possible_agents)})
            first = env.possible_agents[0]
            obs[i] = self._noisy(np.stack([o[a] for a in env.possible_agents]), i)
            state[i] = env.state()
            reward[i] = r[first]
            terminated[i], truncated[i] = term[first], trunc[first]
            if terminated[i] or truncated[i]:
                self._done[i] = True
                self._reached[i] = bool(term[first])
        self._last_obs, self._last_state = obs, state
        return obs, state, reward, terminated, truncated

    def success(self) -> np.ndarray:
        return self._reached.copy()

    def close(self) -> None:
        for env in self.envs:
            env.close()
