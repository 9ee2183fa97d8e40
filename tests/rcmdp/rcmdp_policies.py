"""Policies the rcmdp tests share (a plain module: tests import it by name via pytest's pythonpath)."""

from __future__ import annotations

import numpy as np

from robocoord.training.rcmdp.mdp import TabularCmdp


def random_policy(problem: TabularCmdp, seed: int) -> np.ndarray:
    """A random stochastic policy π(a|s), one Dirichlet(1) row per state."""
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(problem.A), size=problem.S)
