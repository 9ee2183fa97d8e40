"""A small trained GMFS run shared by the artifact and evaluation tests."""

from __future__ import annotations

import pytest

from robocoord.training.gmfs.config import GmfsTrainConfig
from robocoord.training.gmfs.neural import GmfsTrainResult, train_gmfs


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[GmfsTrainConfig, GmfsTrainResult]:
    config = GmfsTrainConfig.model_validate(
        dict(
            iterations=4,
            batch_size=512,
            mc_samples=4,
            grad_steps=10,
            minibatch=256,
            hidden=[32, 32],
            eval_agents=16,
            eval_rollouts=2,
            eval_horizon=20,
            kappa=8,
            model={"kind": "pybullet", "L": 1.0},
            run_root=tmp_path_factory.mktemp("gmfs-runs"),
        )
    )
    return config, train_gmfs(config)
