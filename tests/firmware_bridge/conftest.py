"""Fixtures of the firmware bridge tests: a real virtual MCU subprocess on real ptys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fwb_peers import PtyPeer

from robocoord.firmware_bridge.vmcu_client import VirtualMcu

GOLDEN_PATH = (
    Path(__file__).resolve().parents[2] / "firmware_bridge" / "firmware" / "tests" / "golden_vectors.json"
)


@pytest.fixture(scope="module")
def mcu() -> Iterator[VirtualMcu]:
    """Eight robots (ids 0..7) around one kinematic plant; each test drives its own robot ids."""
    with VirtualMcu.start(robots=8, plant="kinematic") as started:
        yield started


@pytest.fixture(scope="session")
def golden() -> dict:
    return json.loads(GOLDEN_PATH.read_text())


@pytest.fixture
def pty_peer() -> Iterator[PtyPeer]:
    peer = PtyPeer()
    yield peer
    peer.close()
