"""Hardware-in-the-loop plumbing: the virtual MCUs of robocoord.firmware_bridge for a fleet.

One virtual MCU process hosts every hil robot's reference firmware (the real C core) on its own
pty around one plant; the bridges open the stable port links it reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def spawn_virtual_mcus(
    robot_ids: Sequence[int],
    homes: Sequence[tuple[float, float, float]],
    *,
    plant: str = "pybullet",
    telemetry_hz: float = 100.0,
    seed: int = 0,
    timeout_s: float = 60.0,
) -> Any:
    """Start the virtual MCU process; returns its handle (``.ports`` robot id -> port, ``.stop()``).

    The virtual MCU numbers its robots consecutively, so the ids must be consecutive.
    ``homes`` are the inventory's home poses; the plant places robots itself (see the report).
    """
    from robocoord.firmware_bridge.vmcu_client import VirtualMcu

    ids = sorted(robot_ids)
    if not ids:
        raise ValueError("robot_ids: no hil robot to start a virtual MCU for")
    if ids != list(range(ids[0], ids[0] + len(ids))):
        raise ValueError(f"robot_ids: the virtual MCU needs consecutive ids, found {ids}")
    if len(homes) != len(ids):
        raise ValueError(f"homes: {len(homes)} poses for {len(ids)} robots")
    period_ms = max(1, round(1000.0 / telemetry_hz))
    return VirtualMcu.start(
        robots=len(ids),
        plant=plant,
        first_id=ids[0],
        telemetry_period_ms=period_ms,
        seed=seed,
        timeout_s=timeout_s,
    )
