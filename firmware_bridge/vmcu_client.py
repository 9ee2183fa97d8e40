"""Start a virtual MCU subprocess from Python and talk to its control socket.

    with VirtualMcu.start(robots=8) as mcu:
        link = SerialLink(mcu.ports[0], robot_id=0)
        ...
        mcu.status()["robots"]["0"]["wheel_speed_rad_s"]

``start`` waits for the process's ready line (not a sleep) and raises with the
process's stderr if it exits first or the deadline passes.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


class VirtualMcuError(RuntimeError):
    pass


class VirtualMcu:
    def __init__(self, process: subprocess.Popen[bytes], ready: dict[str, Any]):
        self.process = process
        self.ready = ready
        self.ports: dict[int, str] = {int(k): v for k, v in ready["ports"].items()}
        self.ptys: dict[int, str] = {int(k): v for k, v in ready["pty"].items()}
        self.control_path = ready["control"]
        self.tick_ms: int = ready["tick_ms"]
        self._sock: socket.socket | None = None
        self._buffer = b""

    @classmethod
    def start(
        cls,
        robots: int = 1,
        plant: str = "kinematic",
        first_id: int = 0,
        tick_ms: int = 1,
        telemetry_period_ms: int = 0,
        seed: int = 0,
        run_dir: Path | None = None,
        timeout_s: float = 60.0,
        mocap_udp: str | None = None,
        mocap_hz: float = 100.0,
    ) -> VirtualMcu:
        command = [
            sys.executable,
            "-m",
            "robocoord.firmware_bridge.vmcu",
            f"--robots={robots}",
            f"--plant={plant}",
            f"--first-id={first_id}",
            f"--tick-ms={tick_ms}",
            f"--telemetry-period-ms={telemetry_period_ms}",
            f"--seed={seed}",
        ]
        if run_dir is not None:
            command.append(f"--run-dir={run_dir}")
        if mocap_udp is not None:  # the plant's poses as a motion-capture stream (mocap.py)
            command += [f"--mocap-udp={mocap_udp}", f"--mocap-hz={mocap_hz}"]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdout is not None and process.stderr is not None
        deadline = time.monotonic() + timeout_s
        buffered = b""
        while True:
            while b"\n" not in buffered:
                remaining = deadline - time.monotonic()
                ready, _, _ = select.select([process.stdout], [], [], max(0.0, remaining))
                if not ready:
                    process.kill()
                    process.wait()
                    raise VirtualMcuError(f"virtual MCU not ready after {timeout_s} s")
                chunk = os.read(process.stdout.fileno(), 4096)
                if not chunk:
                    process.wait()
                    detail = process.stderr.read().decode(errors="replace")
                    raise VirtualMcuError(f"virtual MCU exited with {process.returncode}: {detail}")
                buffered += chunk
            line, buffered = buffered.split(b"\n", 1)
            message = _json_object(line)
            if message is not None and message.get("event") == "ready":
                break
        # Nothing reads stderr from here on; send it where it cannot fill a pipe and block the MCU.
        _drain_in_background(process)
        return cls(process, message)

    # ------------------------------------------------------------------ control socket

    def request(self, payload: dict[str, Any], timeout_s: float = 5.0) -> dict[str, Any]:
        if self._sock is None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._sock.connect(self.control_path)
        self._sock.settimeout(timeout_s)
        self._sock.sendall(json.dumps(payload).encode() + b"\n")
        while b"\n" not in self._buffer:
            chunk = self._sock.recv(1 << 20)
            if not chunk:
                raise VirtualMcuError("control socket closed")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        reply: dict[str, Any] = json.loads(line)
        if not reply.get("ok"):
            raise VirtualMcuError(reply.get("error", "request failed"))
        return reply

    def status(self) -> dict[str, Any]:
        return self.request({"cmd": "status"})

    def robot_status(self, robot_id: int) -> dict[str, Any]:
        status: dict[str, Any] = self.status()["robots"][str(robot_id)]
        return status

    def history(self, robot_id: int, since_ms: int = 0) -> dict[str, Any]:
        return self.request({"cmd": "history", "robot": robot_id, "since_ms": since_ms})

    def freeze(self, robot_id: int, seconds: float) -> None:
        """The robot's MCU stops running (no UART, no ticks) for ``seconds`` of plant time."""
        self.request({"cmd": "freeze", "robot": robot_id, "seconds": seconds})

    def unplug(self, robot_id: int, seconds: float) -> None:
        """Close the robot's pty (the port vanishes) and open a new one after ``seconds``."""
        self.request({"cmd": "unplug", "robot": robot_id, "seconds": seconds})

    # ------------------------------------------------------------------ lifecycle

    def stop(self, timeout_s: float = 10.0) -> int:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __enter__(self) -> VirtualMcu:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _json_object(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None  # a stray line from native code; the ready line is still to come
    return value if isinstance(value, dict) else None


def _drain_in_background(process: subprocess.Popen[bytes]) -> None:
    import threading

    def forward() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            sys.stderr.write(line.decode(errors="replace"))

    threading.Thread(target=forward, name="vmcu-stderr", daemon=True).start()
