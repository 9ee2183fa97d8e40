from __future__ import annotations

import numpy as np
import pytest

from robocoord.training.rcmdp.benchmarks import garnet
from robocoord.training.rcmdp.mdp import TabularCmdp


@pytest.fixture
def small_garnet() -> TabularCmdp:
    return garnet(0.9, [5.0], states=5, actions=3, sigma=1.0, seed=3)


def random_policy(problem: TabularCmdp, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(problem.A), size=problem.S)
