from __future__ import annotations

import pytest

from robocoord.training.rcmdp.benchmarks import garnet
from robocoord.training.rcmdp.mdp import TabularCmdp


@pytest.fixture
def small_garnet() -> TabularCmdp:
    return garnet(0.9, [5.0], states=5, actions=3, sigma=1.0, seed=3)
