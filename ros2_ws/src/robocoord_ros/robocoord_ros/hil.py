"""Hardware-in-the-loop plumbing: the virtual MCUs of robocoord.firmware_bridge for a fleet.

One virtual MCU process hosts every hil robot's reference firmware (the real C core) on its own
pty around one plant whose robots start at the inventory's home poses; the bridges open the
stable port links it reports.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any


def spawn_virtual_mcus(
    robot_ids: Sequence[int],
    homes: Sequence[tuple[float, float, float]],
    *,
    plant: str = "pybullet",
    body: str = "disc",
    telemetry_hz: float = 100.0,
    seed: int = 0,
    mocap_udp: str | None = None,
    mocap_hz: float = 100.0,
    mocap_objects: dict[str, int] | None = None,
    arena: str = "open",
    arena_params: dict[str, Any] | None = None,
    timeout_s: float = 60.0,
) -> Any:
    """Start the virtual MCU process; returns a :class:`~robocoord.firmware_bridge.vmcu_client.VirtualMcu`
    (``.ports`` robot id -> port, ``.status()``, ``.history()``, ``.freeze()``, ``.unplug()``, ``.stop()``).

    Robots start at ``homes`` (world frame) in a plant of the warehouse's ``body`` model; see
    :mod:`robocoord_ros.hil_mcu`. ``mocap_objects`` (name -> mocap body id) streams the arena's movable
    bodies too (team_push: the box).
    """
    from robocoord.firmware_bridge.vmcu_client import VirtualMcu, VirtualMcuError

    ids = list(robot_ids)
    if not ids:
        raise ValueError("robot_ids: no hil robot to start a virtual MCU for")
    if len(homes) != len(ids):
        raise ValueError(f"homes: {len(homes)} poses for {len(ids)} robots")
    period_ms = max(1, round(1000.0 / telemetry_hz))
    command = [
        sys.executable,
        "-m",
        "robocoord_ros.hil_mcu",
        f"--robot-ids={','.join(str(i) for i in ids)}",
        f"--homes={json.dumps([list(map(float, h)) for h in homes])}",
        f"--plant={plant}",
        f"--body={body}",
        f"--telemetry-period-ms={period_ms}",
        f"--seed={seed}",
    ]
    if arena != "open":  # the task's static world (walls, pillars) in the plant
        command += [f"--arena={arena}", f"--arena-params={json.dumps(arena_params or {})}"]
    if mocap_udp is not None:  # ground-truth poses streamed as a mocap system would
        command += [f"--mocap-udp={mocap_udp}", f"--mocap-hz={mocap_hz}"]
        if mocap_objects:
            command.append(f"--mocap-objects={json.dumps(mocap_objects)}")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if process.stdout is None or process.stderr is None:
        raise VirtualMcuError("virtual MCU pipes missing")
    deadline = time.monotonic() + timeout_s
    line = b""
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            process.kill()
            raise VirtualMcuError(f"virtual MCU not ready after {timeout_s} s")
        chunk = os.read(process.stdout.fileno(), 4096)
        if not chunk:
            process.wait()
            raise VirtualMcuError(
                f"virtual MCU exited with {process.returncode}: {process.stderr.read().decode(errors='replace')}"
            )
        line += chunk
    threading.Thread(target=_forward_stderr, args=(process,), name="hil-mcu-stderr", daemon=True).start()
    return VirtualMcu(process, json.loads(line.split(b"\n", 1)[0]))


def _forward_stderr(process: subprocess.Popen[bytes]) -> None:
    if process.stderr is not None:
        for raw in process.stderr:
            sys.stderr.write(raw.decode(errors="replace"))
