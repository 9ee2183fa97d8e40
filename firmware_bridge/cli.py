"""``robocoord mcu``, ``robocoord bridge`` and ``robocoord bench bridge``. Only typer at module level."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from robocoord.cli.common import CliGroups, fail


def mcu(
    robots: int = typer.Option(1, min=1, max=64, help="number of robots: one firmware instance and pty each"),
    plant: str = typer.Option("kinematic", help="kinematic | pybullet"),
    first_id: int = typer.Option(0, min=0, max=254, help="robot id of the first robot"),
    tick_ms: int = typer.Option(1, min=1, max=100, help="firmware and plant tick [ms]"),
    telemetry_period_ms: int = typer.Option(0, min=0, max=10000, help="0 = firmware default (20 ms)"),
    seed: int = typer.Option(0),
    run_dir: Path | None = typer.Option(None, help="directory for the port links and control socket"),
    mocap_udp: str | None = typer.Option(
        None, help="HOST:PORT: stream the plant's ground-truth poses there, as a mocap system (PROTOCOL.md)"
    ),
    mocap_hz: float = typer.Option(100.0, min=0.1, max=1000.0, help="mocap frame rate [Hz]"),
) -> None:
    """Virtual MCU: the real C firmware core per robot, each on its own pty, around one plant.

    Prints one JSON line ({"event": "ready", "ports": {id: path}, ...}) and runs until SIGTERM.
    """
    if plant not in ("kinematic", "pybullet"):
        raise fail(f"--plant: {plant!r} is not one of kinematic, pybullet")
    if first_id + robots - 1 > 254:
        raise fail("--first-id + --robots: robot ids must stay within 0..254 (255 is broadcast)")
    from robocoord.firmware_bridge.mocap import streamer_for
    from robocoord.firmware_bridge.native import FirmwareBuildError
    from robocoord.firmware_bridge.vmcu import serve

    try:
        mocap = streamer_for(mocap_udp, mocap_hz)
    except ValueError as err:
        raise fail(f"--mocap-udp: {err}") from None
    try:
        serve(robots, plant, first_id, tick_ms, telemetry_period_ms, seed, run_dir, mocap)
    except FirmwareBuildError as err:
        raise fail(str(err), code=1) from None


def bridge(
    port: str = typer.Option(..., help="serial port, pty path or pyserial URL (socket://host:port)"),
    robot_id: int = typer.Option(..., min=0, max=254),
    baudrate: int = typer.Option(115200, min=300),
    heartbeat_period_s: float = typer.Option(0.1, min=0.01, max=10.0),
    duration_s: float | None = typer.Option(
        None, min=0.1, help="exit after this long (default: until Ctrl-C)"
    ),
    plain: bool = typer.Option(False, help="one text line per refresh instead of a live table"),
) -> None:
    """Terminal monitor: live telemetry and link statistics of one robot."""
    from robocoord.firmware_bridge.link import SerialLink
    from robocoord.firmware_bridge.monitor import run_monitor

    link = SerialLink(port, robot_id, baudrate=baudrate, heartbeat_period_s=heartbeat_period_s)
    with link:
        run_monitor(link, duration_s=duration_s, plain=plain, clock=time.monotonic)


def bench_bridge(
    json_out: bool = typer.Option(False, "--json", help="print exactly one JSON object on stdout"),
    frames: int = typer.Option(20000, min=1000, help="encode+decode iterations per codec measurement"),
    rtt_samples: int = typer.Option(500, min=50, help="command -> telemetry round trips"),
    cpu_robots: int = typer.Option(4, min=1, max=32),
    cpu_seconds: float = typer.Option(3.0, min=0.5),
) -> None:
    """Codec frames/s vs pymavlink, command->telemetry RTT through a virtual MCU, host CPU per robot."""
    from robocoord.benchjson import bench_document, emit, json_stdout, print_table
    from robocoord.firmware_bridge.bench import run_bridge_bench

    with json_stdout(json_out) as out:
        results = run_bridge_bench(frames, rtt_samples, cpu_robots, cpu_seconds)
        document = bench_document("bridge", results)
        if json_out:
            emit(document, out)
        else:
            print_table(document, out)


def register(groups: CliGroups) -> None:
    groups.app.command("mcu")(mcu)
    groups.app.command("bridge")(bridge)
    groups.bench.command("bridge")(bench_bridge)
