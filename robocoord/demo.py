"""``robocoord demo`` (what ``make demo`` runs): the furthest real stage of the chain that exists.

Stages, each run for real and reported as it finishes:
1. doctor: every dependency, ROS 2 loopback pub/sub, gcc, pseudo-terminals;
2. policy: export the reference MLP through the artifact contract, verify and inspect it;
3. inference: benchmark the artifact on the robot-side loader against torch eager.
Later stages (train GMFS, HIL fleet over virtual MCUs, report) are added as their layers land.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from robocoord.cli.common import CliGroups


def _stage(number: int, title: str) -> None:
    typer.secho(f"\n== stage {number}: {title}", bold=True, err=True)


def run_demo(runs_root: Path = Path("runs")) -> Path:
    from robocoord.cli.doctor import run_checks
    from robocoord.controllers.policy import PolicyRuntime
    from robocoord.runs import RunDir
    from robocoord.training.bench_policy import reference_artifact, run_policy_bench

    run = RunDir.create("demo", config=None, seed=0, root=runs_root, tensorboard=False)
    _stage(1, "doctor")
    checks = run_checks()
    missing = [c.name for c in checks if c.required and not c.ok]
    typer.echo(f"doctor: {len(checks) - len(missing)}/{len(checks)} checks ok", err=True)
    if missing:
        raise typer.Exit(f"missing: {', '.join(missing)}; run `robocoord doctor` for the fixes")  # type: ignore[arg-type]

    _stage(2, "policy artifact (reference MLP, untrained: the trainers land in later issues)")
    path, _ = reference_artifact(run.artifacts / "reference_policy.onnx")
    runtime = PolicyRuntime(path)
    typer.echo(f"exported and verified {path} (sha256 {runtime.contract.sha256[:16]}…)", err=True)

    _stage(3, "robot-side inference benchmark")
    results = run_policy_bench(iterations=2000)
    summary = {r.name: r.value for r in results}
    run.write_json("bench_policy.json", summary)
    for name, value in summary.items():
        typer.echo(f"  {name:<28} {value:10.2f}", err=True)
    run.close()
    typer.echo(json.dumps({"run": str(run.path), "artifact": str(path)}))
    return run.path


def demo(runs_root: Path = typer.Option(Path("runs"), help="where the run folder goes")) -> None:
    """Run the chain as far as it is built, and say what each stage did."""
    run_demo(runs_root)


def register(groups: CliGroups) -> None:
    groups.app.command("demo")(demo)
