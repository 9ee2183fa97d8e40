"""``robocoord demo`` (what ``make demo`` runs): the whole chain, on the embedded default.

1. doctor: dependencies, ROS 2 loopback pub/sub, gcc, pseudo-terminals;
2. train a small GMFS warehouse policy (``training/gmfs/configs/demo.yaml``), with a progress bar;
3. the trainer exports it to ONNX; the robot loader verifies it;
4. bring up 8 robots in ``hil``: PyBullet plant, reference firmware in virtual MCUs on ptys,
   serial bridges, policy controllers and the supervisor over real rclpy; run 60 s, record MCAP;
5. write ``report.md`` with plots, and print HIL against the pure-sim evaluation of the same artifact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from robocoord.cli.common import CliGroups, progress_enabled

REPO = Path(__file__).resolve().parent.parent
DEMO_GMFS_CONFIG = REPO / "training" / "gmfs" / "configs" / "demo.yaml"
DEMO_INVENTORY = REPO / "launch" / "inventories" / "hil_8.yaml"


def _stage(number: int, title: str) -> None:
    typer.secho(f"\n== stage {number}: {title}", bold=True, err=True)


def _summary_table(result: dict[str, Any]) -> str:
    hil, sim, comparison = result["hil"], result["sim"], result["comparison"]
    rows = [
        ("reward per robot-decision", hil.get("reward_per_decision"), sim.get("reward_per_decision")),
        ("decisions", hil.get("decisions"), sim.get("decisions")),
        ("episode return (sim mean)", None, sim.get("return_mean")),
        ("loop latency p50 [ms]", hil.get("latency_ms_p50"), None),
        ("loop latency p99 [ms]", hil.get("latency_ms_p99"), None),
        ("deadline misses", hil.get("deadline_misses"), None),
        ("serial CRC errors", hil.get("crc_errors"), None),
    ]
    lines = [f"{'':<28}{'HIL':>14}{'pure sim':>14}"]
    for name, h, s in rows:
        lines.append(f"{name:<28}{_fmt(h):>14}{_fmt(s):>14}")
    lines.append(
        f"relative difference (reward/decision): {_fmt(comparison.get('reward_per_decision_rel_diff'))}"
    )
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else str(value)


def run_demo(
    seconds: float = 60.0, overrides: list[str] | None = None, runs_root: Path = Path("runs")
) -> Path:
    from robocoord.cli.doctor import run_checks
    from robocoord.controllers.policy import PolicyRuntime
    from robocoord.training.gmfs.neural import train_from_file
    from robocoord_ros.demo import run_hil_demo

    _stage(1, "doctor")
    checks = run_checks()
    missing = [c.name for c in checks if c.required and not c.ok]
    typer.echo(f"doctor: {len(checks) - len(missing)}/{len(checks)} checks ok", err=True)
    if missing:
        typer.echo(f"missing: {', '.join(missing)}; `robocoord doctor` names the fixes", err=True)
        raise typer.Exit(1)

    _stage(2, f"train GMFS on the warehouse model ({DEMO_GMFS_CONFIG.relative_to(REPO)})")
    overrides = [f"run_root={runs_root}", *(overrides or [])]
    trained = train_from_file(DEMO_GMFS_CONFIG, overrides, progress=progress_enabled())
    typer.echo(f"run folder {trained.run_dir}", err=True)

    _stage(3, "policy artifact")
    runtime = PolicyRuntime(trained.artifact)
    contract = runtime.contract
    typer.echo(
        f"{trained.artifact}: family {contract.family}, κ={contract.family_params.get('kappa')}, "
        f"{contract.control_rate_hz:g} Hz, sha256 {contract.sha256[:16]}… verified",
        err=True,
    )

    _stage(4, f"hil fleet ({DEMO_INVENTORY.relative_to(REPO)}) for {seconds:g} s, recording MCAP")
    result = run_hil_demo(
        trained.artifact, trained.run_dir / "hil", inventory=DEMO_INVENTORY, seconds=seconds
    )

    _stage(5, "report")
    typer.echo(_summary_table(result), err=True)
    typer.echo(f"report: {result.get('report')}", err=True)
    typer.echo(
        json.dumps({"run": str(trained.run_dir), "artifact": str(trained.artifact), **result["comparison"]})
    )
    return trained.run_dir


def demo(
    seconds: float = typer.Option(60.0, min=1.0, help="hil run length [s]"),
    set_: list[str] = typer.Option([], "--set", help="override a key of the GMFS demo config"),
    runs_root: Path = typer.Option(Path("runs"), help="where run folders go"),
) -> None:
    """Train a GMFS policy, export it, fly it on 8 hil robots over ROS 2 and serial, and report."""
    run_demo(seconds, set_, runs_root)


def register(groups: CliGroups) -> None:
    groups.app.command("demo")(demo)
