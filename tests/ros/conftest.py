"""Shared fixtures of the ROS tests: an isolated ROS domain per test module, and policy artifacts.

Every module gets ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST and its own ROS_DOMAIN_ID (1..100,
derived from the pid and the module name), so parallel runs and other engineers' tests never
see each other's topics.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import pytest


def domain_id_for(name: str) -> int:
    return 1 + (os.getpid() * 7 + zlib.crc32(name.encode())) % 100


@pytest.fixture(scope="module", autouse=True)
def ros_domain(request: pytest.FixtureRequest):
    saved = {k: os.environ.get(k) for k in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE")}
    domain = domain_id_for(request.module.__name__)
    os.environ["ROS_DOMAIN_ID"] = str(domain)
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    yield domain
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def export_gmfs_test_policy(
    path: Path, *, kappa: int = 4, rate_hz: float = 5.0, work_bias: float = 1.0
) -> Path:
    """A small GMFS-family artifact through the real exporter: Q over (one-hot s, ĝ/κ) -> intended state.

    Its weights make 'Working' the greedy action unless the sampled neighbourhood is crowded
    (ĝ[Working]/κ above ~0.5), then 'Idle' — enough structure for the node to act on.
    """
    import torch

    from robocoord.controllers.contract import DiscreteActionSpec, ObservationField, ObservationSpec
    from robocoord.training.export import export_policy, make_provenance

    net = torch.nn.Linear(6, 3)
    with torch.no_grad():
        net.weight.zero_()
        net.bias.copy_(torch.tensor([0.5, 0.0, work_bias]))
        net.weight[2, 5] = -2.0 * work_bias  # crowding at Working lowers the value of working
    observation = ObservationSpec(
        fields=[
            ObservationField(name="task_state_onehot", size=3, unit="1"),
            ObservationField(name="neighbour_state_fraction", size=3, unit="1"),
        ],
        mean=[0.0] * 6,
        std=[1.0] * 6,
    )
    action = DiscreteActionSpec(n=3, meanings=["Idle", "Transit", "Working"], safe_action=0)
    export_policy(
        net,
        path,
        family="gmfs",
        observation=observation,
        action=action,
        control_rate_hz=rate_hz,
        provenance=make_provenance("tests/ros fixture", seed=0),
        family_params={"kappa": kappa, "graphon": {"kind": "radius", "radius": 0.5}, "n_states": 3},
    )
    return path


@pytest.fixture(scope="session")
def gmfs_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_gmfs_test_policy(tmp_path_factory.mktemp("policy") / "gmfs_test.onnx")
