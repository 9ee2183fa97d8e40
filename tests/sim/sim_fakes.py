"""A tiny numpy-only env for the statistical disruption tests (thousands of steps in milliseconds).

Its observation, reward and cost are fixed numbers, so whatever a wrapper returns minus
these numbers is exactly the perturbation it applied.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

OBS_DIM = 5
BASE_OBS = np.arange(OBS_DIM, dtype=np.float64)
BASE_REWARD = 1.0
BASE_COST = np.array([0.5, 0.25])


class ConstantEnv(gym.Env):
    """Observation ``BASE_OBS``, reward ``BASE_REWARD``, ``info['cost']`` ``BASE_COST``; records the last action."""

    def __init__(self) -> None:
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(OBS_DIM,), dtype=np.float64)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float64)
        self.cost_names = ("a", "b")
        self.last_action: np.ndarray | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        return BASE_OBS.copy(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        self.last_action = np.asarray(action, dtype=float).copy()
        return BASE_OBS.copy(), BASE_REWARD, False, False, {"cost": BASE_COST.copy()}
