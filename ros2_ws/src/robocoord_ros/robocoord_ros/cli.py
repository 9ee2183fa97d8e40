"""``robocoord fleet up``, ``robocoord bench loop`` and ``robocoord replay``.

Imports only typer at module level (rclpy, onnxruntime and pybullet are imported inside
the commands), so ``robocoord --help`` stays fast on a robot.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from robocoord.cli.common import CliGroups, fail

fleet_app = typer.Typer(
    help="Run a robot fleet from an inventory (sim | hil | hardware).", no_args_is_help=True
)


@fleet_app.command("up")
def fleet_up(
    inventory: Path = typer.Option(..., help="fleet inventory YAML (kind: fleet-inventory)"),
    backend: str = typer.Option("", help="sim | hil | hardware (default: the inventory's)"),
    duration: float = typer.Option(0.0, min=0.0, help="seconds to run; 0 runs until Ctrl-C"),
    artifact: Path | None = typer.Option(None, help="policy .onnx (default: the inventory's)"),
    record: Path | None = typer.Option(
        None, help="MCAP output (default: on in hil, under recording.directory)"
    ),
    no_record: bool = typer.Option(False, "--no-record", help="do not record"),
    set_: list[str] = typer.Option([], "--set", help="override an inventory key: --set a.b=value"),
    json_out: bool = typer.Option(False, "--json", help="end with one JSON summary per robot on stdout"),
) -> None:
    """Bring the fleet up in this process (the same node graph as fleet.launch.py) with a live status table."""
    from robocoord.benchjson import json_stdout
    from robocoord.config import ConfigError
    from robocoord_ros.inventory import BACKENDS, load_inventory

    if backend and backend not in BACKENDS:
        raise fail(f"--backend: expected one of {', '.join(BACKENDS)}, found {backend!r}")
    try:
        inv = load_inventory(inventory, set_)
    except ConfigError as err:
        raise fail(err.lines) from None
    from robocoord_ros.session import FleetSession

    record_arg: Path | bool | None = False if no_record else record
    with json_stdout(json_out) as out:
        session = FleetSession.open(inv, backend=backend or None, artifact=artifact, record=record_arg)
        try:
            session.run(duration if duration > 0 else None, live=not json_out)
        finally:
            summary = session.close()
        if json_out:
            for robot in summary["robots"]:
                out.write(json.dumps(robot) + "\n")
        else:
            typer.echo(json.dumps(summary["fleet"], indent=2), err=True)


def bench_loop(
    robots: int = typer.Option(10, min=1, max=64, help="robots (virtual MCUs, bridges, policy nodes)"),
    rate: float = typer.Option(100.0, min=1.0, max=500.0, help="telemetry and control rate [Hz]"),
    seconds: float = typer.Option(60.0, min=1.0, help="measured seconds (after warm-up)"),
    warmup: float = typer.Option(3.0, min=0.0, help="seconds before measuring"),
    json_out: bool = typer.Option(False, "--json", help="print exactly one JSON object on stdout"),
) -> None:
    """Telemetry-in -> command-out latency through bridges and policy nodes over virtual MCUs."""
    from robocoord.benchjson import bench_document, emit, json_stdout, print_table
    from robocoord_ros.bench import run_loop_bench

    with json_stdout(json_out) as out:
        results = run_loop_bench(robots=robots, rate_hz=rate, seconds=seconds, warmup_s=warmup)
        document = bench_document("loop", results)
        if json_out:
            emit(document, out)
        else:
            print_table(document, out)


def replay(
    file: Path = typer.Argument(..., help="MCAP recording"),
    plot: Path | None = typer.Option(None, help="trajectory PNG (default: next to the recording)"),
    json_out: bool = typer.Option(False, "--json", help="print the summary as one JSON object"),
) -> None:
    """Summarise a recording (topics, counts, rates, e-stop events) and plot the robots' trajectories."""
    from robocoord_ros.recording import plot_trajectories, summarize

    if not file.is_file():
        raise fail(f"{file}: file not found")
    try:
        summary = summarize(file)
    except Exception as err:  # mcap raises several unrelated types for a damaged file
        raise fail(f"{file}: not a readable MCAP recording: {err}") from None
    png = plot_trajectories(summary, plot or file.with_suffix(".png"))
    doc = summary.as_dict() | {"plot": str(png)}
    if json_out:
        typer.echo(json.dumps(doc))
        return
    typer.echo(f"recording  {file}  ({summary.duration_s:.2f} s)")
    for name, topic in doc["topics"].items():
        typer.echo(f"  {name:<36} {topic['type']:<36} {topic['count']:>8}  {topic['rate_hz']:>8.2f} Hz")
    for event in doc["estop_events"]:
        typer.echo(f"  e-stop {'ON ' if event['active'] else 'off'} at {event['t_s']:.3f} s")
    typer.echo(f"trajectories -> {png}")


def register(groups: CliGroups) -> None:
    groups.app.add_typer(fleet_app, name="fleet")
    groups.bench.command("loop")(bench_loop)
    groups.app.command("replay")(replay)
