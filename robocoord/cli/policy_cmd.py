"""``robocoord inspect ARTIFACT`` and ``robocoord bench policy``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from robocoord.benchjson import bench_document, emit, json_stdout, print_table
from robocoord.cli.common import fail


def inspect(
    artifact: Path = typer.Argument(..., help="policy .onnx artifact"),
    json_out: bool = typer.Option(False, "--json", help="print the contract as JSON"),
) -> None:
    """Verify an artifact (hash, opset, graph I/O) and print its contract."""
    from robocoord.controllers.policy import ArtifactError, PolicyRuntime

    try:
        runtime = PolicyRuntime(artifact)
    except ArtifactError as err:
        raise fail(str(err)) from None
    contract = runtime.contract
    if json_out:
        typer.echo(json.dumps(contract.model_dump(mode="json"), indent=2))
        return
    obs = contract.observation
    typer.echo(f"artifact      {artifact}")
    typer.echo(
        f"family        {contract.family}   schema v{contract.schema_version}   opset {contract.opset}"
    )
    typer.echo(f"sha256        {contract.sha256}  (verified)")
    typer.echo(f"control rate  {contract.control_rate_hz:g} Hz   stale after {contract.stale_timeout_s:g} s")
    typer.echo(f"observation   {obs.dim} values, clip ±{obs.clip}")
    for f in obs.fields:
        typer.echo(f"  - {f.name:<24} {f.size:>4} × [{f.unit}]  {f.description}")
    action = contract.action
    if action.kind == "discrete":
        typer.echo(f"action        discrete n={action.n}, safe={action.meanings[action.safe_action]!r}")
        for i, meaning in enumerate(action.meanings):
            typer.echo(f"  {i}: {meaning}")
    else:
        typer.echo(f"action        continuous, safe={action.safe_action}")
        for name, lo, hi, unit in zip(action.names, action.low, action.high, action.units, strict=True):
            typer.echo(f"  - {name:<24} [{lo:g}, {hi:g}] {unit}")
    typer.echo(f"inputs        {[(t.name, t.shape, t.dtype) for t in contract.inputs]}")
    typer.echo(f"outputs       {[(t.name, t.shape, t.dtype) for t in contract.outputs]}")
    if contract.recurrent_state:
        typer.echo(f"recurrent     {[(s.input, s.output, s.size) for s in contract.recurrent_state]}")
    if contract.family_params:
        typer.echo(f"family params {json.dumps(contract.family_params)}")
    p = contract.provenance
    typer.echo(f"provenance    trainer={p.trainer} seed={p.seed} git={p.git_sha} config={p.config_hash}")
    typer.echo(f"              created {p.created_utc} robocoord {p.robocoord_version}")
    typer.echo(f"              disruptions in training: {len(p.disruptions)}")


def bench_policy(
    json_out: bool = typer.Option(False, "--json", help="print exactly one JSON object on stdout"),
    iterations: int = typer.Option(5000, min=100, help="timed calls per measurement"),
) -> None:
    """Inference latency of an exported MLP (obs 32, 2×64, 4 actions): ORT via the artifact loader vs torch eager."""
    from robocoord.training.bench_policy import run_policy_bench

    with json_stdout(json_out) as out:
        results = run_policy_bench(iterations=iterations)
        document = bench_document("policy", results)
        if json_out:
            emit(document, out)
        else:
            print_table(document, out)
