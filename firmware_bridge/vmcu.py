"""Virtual MCU: N copies of the real firmware core, each behind its own pseudo-terminal, around ONE plant.

One process, one thread, one physics world (so robots can interact): every tick
(1 ms by default) each firmware instance reads the plant's sensors, runs
``rc_fw_tick`` and its motor setpoint goes to the plant; bytes arriving on a pty
are handed to that robot's firmware as soon as ``select`` sees them, and its replies
are written back at once. Firmware time is plant time in milliseconds, so every
duration the firmware enforces (watchdog, telemetry period) is also measured in the
plant.

Run it as ``robocoord mcu --robots 8`` or ``python -m robocoord.firmware_bridge.vmcu``.
It prints one JSON line on stdout when the ports are ready::

    {"event": "ready", "pid": 123, "ports": {"0": "/tmp/rc-vmcu-x/robot0", ...},
     "pty": {"0": "/dev/pts/7", ...}, "control": "/tmp/rc-vmcu-x/control.sock", ...}

``ports`` are stable symlinks to the ptys (they survive a simulated unplug, like
``/dev/serial/by-id``); open those. ``control`` is a Unix socket taking one JSON
request per line (``status``, ``history``, ``freeze``, ``unplug``) for tests and
tools; see :class:`robocoord.firmware_bridge.vmcu_client.VirtualMcu`.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import select
import signal
import socket
import sys
import tempfile
import termios
import time
import tty
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from robocoord.benchjson import json_stdout
from robocoord.firmware_bridge.mocap import MocapStreamer, streamer_for
from robocoord.firmware_bridge.native import FirmwareInstance
from robocoord.sim.plant import Plant, RobotReading

HISTORY_TICKS = 20_000  # ring buffer per robot: 20 s at 1 kHz
BATTERY_MV = 7400  # the plants do not model the battery; a healthy 2S pack
MAX_CATCH_UP_TICKS = 50  # after a stall longer than this, plant time skips instead of racing


def make_plant(name: str, robot_ids: Sequence[int], seed: int) -> Plant:
    if name == "kinematic":
        from robocoord.firmware_bridge.kinematic_plant import KinematicPlant

        plant: Plant = KinematicPlant(robot_ids)
    elif name == "pybullet":
        from robocoord.firmware_bridge.pybullet_plant import make_pybullet_plant

        plant = make_pybullet_plant(robot_ids)
    else:
        raise ValueError(f"unknown plant {name!r}; choose kinematic or pybullet")
    plant.reset(seed)
    return plant


class RobotPort:
    """A pty whose master side is the MCU's UART, plus a stable symlink to its slave side."""

    def __init__(self, robot_id: int, link: Path):
        self.robot_id = robot_id
        self.link = link
        self.master = -1
        self.slave = -1
        self.slave_name = ""
        self.tx_dropped_bytes = 0

    def open(self) -> None:
        self.master, self.slave = os.openpty()
        # Raw: no echo (the firmware would read its own output back), no CR/LF or 0x00 mangling.
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.slave_name = os.ttyname(self.slave)
        # Hold the slave open ourselves so the master never sees hang-ups between clients.
        tmp = self.link.with_name(self.link.name + ".tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(self.slave_name)
        os.replace(tmp, self.link)

    def close(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()
        for fd in (self.master, self.slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.master = self.slave = -1

    @property
    def is_open(self) -> bool:
        return self.master >= 0

    def write(self, data: bytes) -> None:
        if not data or self.master < 0:
            return
        try:
            os.write(self.master, data)
        except BlockingIOError:
            # Nobody is reading the slave and its buffer is full: like a UART with no listener,
            # the old bytes are gone. Drop them so the next client starts from fresh frames.
            termios.tcflush(self.slave, termios.TCIFLUSH)
            try:
                os.write(self.master, data)
            except OSError:
                self.tx_dropped_bytes += len(data)


class History:
    """Per-tick record of plant time and measured wheel speed, for tests that measure in the plant."""

    def __init__(self, capacity: int = HISTORY_TICKS):
        self.t_ms = np.zeros(capacity, dtype=np.int64)
        self.wheels = np.zeros((capacity, 2))
        self.count = 0

    def add(self, t_ms: int, wheel_speed_rad_s: np.ndarray) -> None:
        i = self.count % len(self.t_ms)
        self.t_ms[i] = t_ms
        self.wheels[i] = wheel_speed_rad_s
        self.count += 1

    def since(self, t_ms: int) -> dict[str, list[float] | list[int]]:
        n = min(self.count, len(self.t_ms))
        order = (np.arange(n) + self.count - n) % len(self.t_ms)
        keep = order[self.t_ms[order] >= t_ms]
        return {
            "t_ms": self.t_ms[keep].tolist(),
            "wheel_left_rad_s": self.wheels[keep, 0].tolist(),
            "wheel_right_rad_s": self.wheels[keep, 1].tolist(),
        }


class VirtualMcuServer:
    def __init__(
        self,
        robot_ids: Sequence[int],
        plant: Plant,
        run_dir: Path,
        tick_ms: int = 1,
        telemetry_period_ms: int = 0,
        mocap: MocapStreamer | None = None,
        mocap_objects: Callable[[], Mapping[int, Iterable[float]]] | None = None,
    ):
        if tick_ms < 1:
            raise ValueError("tick_ms must be >= 1")
        # the plant's ground-truth poses streamed as a motion-capture system would (see mocap.py)
        self.mocap = mocap
        # other tracked bodies of the plant (body id -> (x, y, yaw), world), read when a frame is due
        self.mocap_objects = mocap_objects
        self.robot_ids = list(robot_ids)
        self.plant = plant
        self.tick_ms = tick_ms
        self.time_ms = 0
        self.run_dir = run_dir
        self.ports = {rid: RobotPort(rid, run_dir / f"robot{rid}") for rid in self.robot_ids}
        self.firmware = {rid: FirmwareInstance(rid, 0, telemetry_period_ms) for rid in self.robot_ids}
        self.history = {rid: History() for rid in self.robot_ids}
        self.frozen_until_ms = dict.fromkeys(self.robot_ids, -1)
        self.reopen_at_ms: dict[int, int] = {}
        self.skipped_ticks = 0
        self.running = True
        self.control_path = run_dir / "control.sock"
        self._control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._clients: dict[socket.socket, bytes] = {}

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> dict[str, Any]:
        for port in self.ports.values():
            port.open()
        self._control.bind(str(self.control_path))
        self._control.listen(8)
        self._control.setblocking(False)
        for rid in self.robot_ids:
            self._tick_robot(rid, self.plant.read(rid))
        return {
            "event": "ready",
            "pid": os.getpid(),
            "ports": {str(rid): str(p.link) for rid, p in self.ports.items()},
            "pty": {str(rid): p.slave_name for rid, p in self.ports.items()},
            "control": str(self.control_path),
            "tick_ms": self.tick_ms,
        }

    def close(self) -> None:
        if self.mocap is not None:
            self.mocap.close()
        for port in self.ports.values():
            port.close()
        for client in list(self._clients):
            client.close()
        self._control.close()
        with contextlib.suppress(FileNotFoundError):
            self.control_path.unlink()

    # ------------------------------------------------------------------ real-time loop

    def run(self) -> None:
        tick_s = self.tick_ms / 1000.0
        next_tick = time.monotonic() + tick_s
        while self.running:
            timeout = max(0.0, next_tick - time.monotonic())
            readers: dict[int, int] = {
                p.master: rid for rid, p in self.ports.items() if p.is_open and not self._frozen(rid)
            }
            fds: list[Any] = [*readers, self._control, *self._clients]
            try:
                ready, _, _ = select.select(fds, [], [], timeout)
            except InterruptedError:
                continue
            for item in ready:
                if isinstance(item, int):
                    self._serve_uart(readers[item])
                elif item is self._control:
                    self._accept()
                else:
                    self._serve_client(item)
            now = time.monotonic()
            if now < next_tick:
                continue
            behind = int((now - next_tick) / tick_s)
            if behind > MAX_CATCH_UP_TICKS:
                self.skipped_ticks += behind
                next_tick += behind * tick_s
            while next_tick <= now:
                self._tick()
                next_tick += tick_s

    def _frozen(self, rid: int) -> bool:
        return self.time_ms < self.frozen_until_ms[rid]

    def _serve_uart(self, rid: int) -> None:
        port = self.ports[rid]
        try:
            data = os.read(port.master, 4096)
        except BlockingIOError:
            return
        except OSError as err:
            if err.errno == errno.EIO:
                return
            raise
        fw = self.firmware[rid]
        fw.rx(data, self.time_ms)
        port.write(fw.take_tx())

    def _tick(self) -> None:
        # Physics first (motor setpoints from the previous tick act over this one), then every
        # firmware sees the plant at the new time: a motor command reaches the wheels one tick later.
        self.time_ms += self.tick_ms
        for rid, at_ms in list(self.reopen_at_ms.items()):
            if self.time_ms >= at_ms:
                self.ports[rid].open()
                del self.reopen_at_ms[rid]
        self.plant.step(self.tick_ms / 1000.0)
        poses: dict[int, Iterable[float]] | None = (
            {} if self.mocap is not None and self.mocap.due(self.time_ms) else None
        )
        for rid in self.robot_ids:
            reading = self.plant.read(rid)
            self.history[rid].add(self.time_ms, reading.wheel_speed_rad_s)
            if poses is not None:  # the mocap sees every robot, frozen firmware or not
                poses[rid] = reading.pose_world
            if not self._frozen(rid):
                self._tick_robot(rid, reading)
        if poses is not None and self.mocap is not None:
            if self.mocap_objects is not None:
                poses.update(self.mocap_objects())
            self.mocap.send(self.time_ms, poses)

    def _tick_robot(self, rid: int, reading: RobotReading) -> None:
        fw = self.firmware[rid]
        angle, speed, accel = reading.wheel_angle_rad, reading.wheel_speed_rad_s, reading.accel_body_m_s2
        fw.set_sensors(
            (angle[0], angle[1]),
            (speed[0], speed[1]),
            reading.yaw_rate_rad_s,
            (accel[0], accel[1]),
            BATTERY_MV,
        )
        fw.tick(self.time_ms)
        self.plant.apply(rid, fw.motor_rad_s())
        self.ports[rid].write(fw.take_tx())

    # ------------------------------------------------------------------ control socket

    def _accept(self) -> None:
        try:
            client, _ = self._control.accept()
        except BlockingIOError:
            return
        client.setblocking(False)
        self._clients[client] = b""

    def _serve_client(self, client: socket.socket) -> None:
        try:
            data = client.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            del self._clients[client]
            client.close()
            return
        buffer = self._clients[client] + data
        *lines, self._clients[client] = buffer.split(b"\n")
        for line in lines:
            if line.strip():
                reply = self._handle_request(line)
                client.setblocking(True)  # replies are small; finish writing them
                client.sendall(json.dumps(reply).encode() + b"\n")
                client.setblocking(False)

    def _handle_request(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
            command = request["cmd"]
            if command == "status":
                return {"ok": True, **self.status()}
            rid = int(request["robot"])
            if rid not in self.ports:
                return {"ok": False, "error": f"no robot {rid}; robots are {self.robot_ids}"}
            if command == "history":
                return {"ok": True, **self.history[rid].since(int(request.get("since_ms", 0)))}
            if command == "freeze":
                self.frozen_until_ms[rid] = self.time_ms + round(float(request["seconds"]) * 1000)
                return {"ok": True, "until_ms": self.frozen_until_ms[rid]}
            if command == "unplug":
                self.ports[rid].close()
                self.reopen_at_ms[rid] = self.time_ms + round(float(request["seconds"]) * 1000)
                return {"ok": True, "reopen_at_ms": self.reopen_at_ms[rid]}
            return {"ok": False, "error": f"unknown cmd {command!r}"}
        except (ValueError, KeyError, TypeError) as err:
            return {"ok": False, "error": f"bad request: {err}"}

    def status(self) -> dict[str, Any]:
        robots = {}
        for rid in self.robot_ids:
            reading = self.plant.read(rid)
            robots[str(rid)] = {
                "firmware": self.firmware[rid].status(),
                "wheel_speed_rad_s": [float(x) for x in reading.wheel_speed_rad_s],
                "pose_world": [float(x) for x in reading.pose_world],
                "frozen": self._frozen(rid),
                "port_open": self.ports[rid].is_open,
                "pty": self.ports[rid].slave_name,
                "tx_dropped_bytes": self.ports[rid].tx_dropped_bytes,
            }
        return {
            "time_ms": self.time_ms,
            "tick_ms": self.tick_ms,
            "skipped_ticks": self.skipped_ticks,
            "robots": robots,
        }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="robocoord mcu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--robots", type=int, default=1, help="number of robots (one firmware + pty each)")
    parser.add_argument("--plant", choices=("kinematic", "pybullet"), default="kinematic")
    parser.add_argument("--first-id", type=int, default=0, help="robot id of the first robot")
    parser.add_argument("--tick-ms", type=int, default=1, help="firmware and plant tick [ms]")
    parser.add_argument("--telemetry-period-ms", type=int, default=0, help="0 = firmware default (20 ms)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--run-dir", type=Path, default=None, help="where the port links and socket go")
    add_mocap_args(parser)
    args = parser.parse_args(argv)
    if not 1 <= args.robots <= 64 or not 0 <= args.first_id <= 254 - args.robots + 1:
        parser.error("--robots must be 1..64 and the ids must stay within 0..254")
    if not 1 <= args.tick_ms <= 100:
        parser.error("--tick-ms must be 1..100")
    return args


def add_mocap_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mocap-udp", default=None, metavar="HOST:PORT", help="stream ground-truth poses there (mocap.py)"
    )
    parser.add_argument("--mocap-hz", type=float, default=100.0, help="mocap frame rate [Hz of plant time]")


def mocap_from_args(args: argparse.Namespace) -> MocapStreamer | None:
    """The streamer the ``--mocap-*`` options ask for; ValueError naming the option otherwise."""
    try:
        return streamer_for(args.mocap_udp, args.mocap_hz)
    except ValueError as err:
        raise ValueError(f"--mocap-udp/--mocap-hz: {err}") from None


def serve(
    robots: int = 1,
    plant_name: str = "kinematic",
    first_id: int = 0,
    tick_ms: int = 1,
    telemetry_period_ms: int = 0,
    seed: int = 0,
    run_dir: Path | None = None,
    mocap: MocapStreamer | None = None,
) -> int:
    robot_ids = list(range(first_id, first_id + robots))
    own_dir = run_dir is None
    directory = Path(tempfile.mkdtemp(prefix="rc-vmcu-")) if run_dir is None else run_dir
    directory.mkdir(parents=True, exist_ok=True)
    # Native code (pybullet's banner) prints to fd 1; keep stdout for the one ready line.
    with json_stdout(True) as out:
        server = VirtualMcuServer(
            robot_ids,
            make_plant(plant_name, robot_ids, seed),
            directory,
            tick_ms,
            telemetry_period_ms,
            mocap,
        )

        def stop(_signum: int, _frame: object) -> None:
            server.running = False

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            ready = server.start()
            ready["plant"] = plant_name
            out.write(json.dumps(ready) + "\n")
            out.flush()
            for rid in robot_ids:
                print(
                    f"robot {rid} -> {server.ports[rid].link} ({server.ports[rid].slave_name})",
                    file=sys.stderr,
                )
            server.run()
        finally:
            server.close()
            if own_dir:
                with contextlib.suppress(OSError):
                    directory.rmdir()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        mocap = mocap_from_args(args)
    except ValueError as err:
        print(f"robocoord mcu: {err}", file=sys.stderr)
        return 2
    return serve(
        args.robots,
        args.plant,
        args.first_id,
        args.tick_ms,
        args.telemetry_period_ms,
        args.seed,
        args.run_dir,
        mocap,
    )


if __name__ == "__main__":
    sys.exit(main())
