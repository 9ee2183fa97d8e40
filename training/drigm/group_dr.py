"""GroupDR: the training-time environment draw of the group-DRO baseline (after Sagawa et al., 2020).

``robust: dr`` draws every episode's variant uniformly from the groups nominal ∪ ``dr_shifts``.
``robust: groupdr`` keeps a distribution q over the same groups and moves it towards the groups where the
team currently does worst: after each rollout, for every group g seen in it,

    q_g ← q_g · exp(η · ℓ_g),    ℓ_g = −(mean return of g in the rollout) / scale,

then renormalise. ``scale`` is a running mean of |return| over all groups, so η does not depend on the
task's reward units. Draws mix q with the uniform distribution (weight ``uniform_mix``) so that no group
is starved of data, which an online exponentiated-gradient update would otherwise allow. The TD target
stays the standard one: only the data the learner sees is robust.
"""

from __future__ import annotations

import numpy as np


class GroupWeights:
    def __init__(self, n_groups: int, step_size: float = 0.5, uniform_mix: float = 0.2) -> None:
        if n_groups < 1:
            raise ValueError("groupdr: needs at least one group")
        if step_size <= 0 or not 0.0 <= uniform_mix <= 1.0:
            raise ValueError("groupdr: step_size must be > 0 and uniform_mix in [0, 1]")
        self.q = np.full(n_groups, 1.0 / n_groups)
        self.step_size = step_size
        self.uniform_mix = uniform_mix
        self._scale = 0.0
        self._updates = 0

    @property
    def sampling_probs(self) -> np.ndarray:
        return (1.0 - self.uniform_mix) * self.q + self.uniform_mix / len(self.q)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(len(self.q), size=n, p=self.sampling_probs)

    def update(self, group_ids: np.ndarray, returns: np.ndarray) -> None:
        """One exponentiated-gradient step from a rollout: ``returns[k]`` is episode k's, of group ``group_ids[k]``."""
        group_ids = np.asarray(group_ids, dtype=np.int64)
        returns = np.asarray(returns, dtype=np.float64)
        self._updates += 1
        self._scale += (float(np.abs(returns).mean()) - self._scale) / self._updates
        scale = max(self._scale, 1e-8)
        for g in np.unique(group_ids):
            loss = -float(returns[group_ids == g].mean()) / scale
            self.q[g] *= np.exp(self.step_size * loss)
        self.q /= self.q.sum()
