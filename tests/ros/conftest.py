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
from ros_harness import export_drigm_team_push_test_policy, export_gmfs_test_policy


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


@pytest.fixture(scope="session")
def gmfs_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_gmfs_test_policy(tmp_path_factory.mktemp("policy") / "gmfs_test.onnx")


@pytest.fixture(scope="session")
def drigm_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_drigm_team_push_test_policy(tmp_path_factory.mktemp("policy") / "drigm_team_push_test.onnx")
