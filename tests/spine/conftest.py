from __future__ import annotations

from pathlib import Path

import pytest

from robocoord.controllers.contract import DiscreteActionSpec, ObservationField, ObservationSpec
from robocoord.training.export import ExportedPolicy, export_policy, make_provenance, mlp


@pytest.fixture(scope="session")
def small_artifact(tmp_path_factory: pytest.TempPathFactory) -> ExportedPolicy:
    """The reference MLP (obs 32 -> 64 -> 64 -> 4) with a non-trivial normalisation."""
    import torch

    torch.manual_seed(3)
    observation = ObservationSpec(
        fields=[
            ObservationField(name="pose", size=3, unit="m, m, rad", description="[world frame]"),
            ObservationField(name="features", size=29, unit="1"),
        ],
        mean=[0.5] * 32,
        std=[2.0] * 32,
        clip=5.0,
    )
    action = DiscreteActionSpec(n=4, meanings=["stop", "forward", "left", "right"], safe_action=0)
    path: Path = tmp_path_factory.mktemp("artifact") / "policy.onnx"
    return export_policy(
        mlp([32, 64, 64, 4]),
        path,
        family="gmfs",
        observation=observation,
        action=action,
        control_rate_hz=20.0,
        provenance=make_provenance("test", seed=3, git_sha="test"),
        family_params={"kappa": 4},
    )
