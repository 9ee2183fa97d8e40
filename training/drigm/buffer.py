"""Episode replay buffer (numpy ring buffer of fixed-length, zero-padded episodes)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class EpisodeBatch:
    """A batch of episodes. Time has ``steps + 1`` entries for obs/state (the last is the final observation).

    obs [B, T+1, n, obs_dim], state [B, T+1, S], actions [B, T, n] (int64), reward [B, T],
    terminated [B, T] (1 on a true terminal step, not on a time-limit), filled [B, T] (1 on real steps).
    """

    obs: np.ndarray
    state: np.ndarray
    actions: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    filled: np.ndarray
    shift: np.ndarray  # [B] index of the environment variant the episode came from (DR bookkeeping)

    @property
    def size(self) -> int:
        return int(self.obs.shape[0])


class EpisodeReplayBuffer:
    def __init__(self, capacity: int, steps: int, n_agents: int, obs_dim: int, state_dim: int):
        if capacity <= 0:
            raise ValueError(f"capacity must be > 0, got {capacity}")
        self.capacity = capacity
        self.steps = steps
        self._obs = np.zeros((capacity, steps + 1, n_agents, obs_dim), dtype=np.float32)
        self._state = np.zeros((capacity, steps + 1, state_dim), dtype=np.float32)
        self._actions = np.zeros((capacity, steps, n_agents), dtype=np.int64)
        self._reward = np.zeros((capacity, steps), dtype=np.float32)
        self._terminated = np.zeros((capacity, steps), dtype=np.float32)
        self._filled = np.zeros((capacity, steps), dtype=np.float32)
        self._shift = np.zeros(capacity, dtype=np.int64)
        self._next = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, batch: EpisodeBatch) -> None:
        if batch.obs.shape[1:] != self._obs.shape[1:]:
            raise ValueError(
                f"episode obs shape {batch.obs.shape[1:]} does not match buffer {self._obs.shape[1:]}"
            )
        for i in range(batch.size):
            j = self._next
            self._obs[j] = batch.obs[i]
            self._state[j] = batch.state[i]
            self._actions[j] = batch.actions[i]
            self._reward[j] = batch.reward[i]
            self._terminated[j] = batch.terminated[i]
            self._filled[j] = batch.filled[i]
            self._shift[j] = batch.shift[i]
            self._next = (j + 1) % self.capacity
            self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> EpisodeBatch:
        if batch_size > self.size:
            raise ValueError(f"cannot sample {batch_size} episodes from a buffer holding {self.size}")
        idx = rng.choice(self.size, size=batch_size, replace=False)
        return EpisodeBatch(
            obs=self._obs[idx],
            state=self._state[idx],
            actions=self._actions[idx],
            reward=self._reward[idx],
            terminated=self._terminated[idx],
            filled=self._filled[idx],
            shift=self._shift[idx],
        )
