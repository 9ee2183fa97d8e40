"""``robocoord train drigm``, ``robocoord drigm study`` and ``robocoord bench drigm``. Only typer/pydantic at import time."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from robocoord.cli.common import SET_OPTION_HELP, CliGroups, fail, load_typed_or_exit, progress_enabled

drigm_app = typer.Typer(help="DrIGM: distributionally robust VDN / QMIX / QTRAN.", no_args_is_help=True)


def train_drigm(
    config: Path = typer.Option(..., "--config", help="drigm-train YAML"),
    set_: list[str] = typer.Option([], "--set", help=SET_OPTION_HELP),
    json_out: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
) -> None:
    """Train one DrIGM learner per seed; each seed gets a run folder with TensorBoard curves and artifacts/policy.onnx."""
    from robocoord.benchjson import json_stdout
    from robocoord.training.drigm.config import DrigmTrainConfig

    cfg = load_typed_or_exit(DrigmTrainConfig, config, set_, "drigm-train")
    from robocoord.training.drigm.run import train_from_config

    with json_stdout(json_out) as out:
        try:
            summary = train_from_config(cfg, argv=sys.argv, progress=progress_enabled())
        except ValueError as err:
            raise fail(f"{config}: {err}") from None
        if json_out:
            out.write(json.dumps(summary) + "\n")
        else:
            for run in summary["runs"]:
                evals = ", ".join(f"{k} {v:.3f}" for k, v in run["eval"].items())
                out.write(
                    f"seed {run['seed']}: {run['run_dir']}  ({run['env_steps_per_s']:.0f} env steps/s)  {evals}\n"
                )


@drigm_app.command("study")
def study(
    config: Path = typer.Option(..., "--config", help="drigm-study YAML"),
    set_: list[str] = typer.Option([], "--set", help=SET_OPTION_HELP),
    json_out: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
) -> None:
    """Train {none, dr, contamination, tv} x {vdn, qmix, qtran} x seeds; evaluate nominal and on named shifts."""
    from robocoord.benchjson import json_stdout, machine_info
    from robocoord.training.drigm.config import DrigmStudyConfig
    from robocoord.training.drigm.study import format_table, run_study

    cfg = load_typed_or_exit(DrigmStudyConfig, config, set_, "drigm-study")
    show = progress_enabled()
    with json_stdout(json_out) as out:
        try:
            doc = run_study(cfg, progress=(lambda msg: typer.echo(msg, err=True)) if show else None)
        except ValueError as err:
            raise fail(f"{config}: {err}") from None
        doc = {"study": cfg.name, **doc, "machine": machine_info()}
        if json_out:
            out.write(json.dumps(doc) + "\n")
        else:
            out.write(format_table(doc))


def bench_drigm(
    json_out: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
    steps: int = typer.Option(1500, min=100, help="env steps per timed training run"),
    team_push: bool = typer.Option(True, help="also time team_push (PyBullet)"),
) -> None:
    """Training throughput (env steps/s, 1 torch thread) on the tiny game and on team_push."""
    from robocoord.benchjson import bench_document, emit, json_stdout, print_table
    from robocoord.training.drigm.bench import run_bench

    with json_stdout(json_out) as out:
        doc = bench_document("drigm", run_bench(steps=steps, team_push=team_push))
        if json_out:
            emit(doc, out)
        else:
            print_table(doc, out)


def register(groups: CliGroups) -> None:
    groups.app.add_typer(drigm_app, name="drigm")
    groups.train.command("drigm")(train_drigm)
    groups.bench.command("drigm")(bench_drigm)
