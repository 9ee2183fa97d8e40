"""``robocoord train gmfs`` and ``robocoord gmfs study``. Only typer/pydantic at import time."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

import typer

from robocoord.cli.common import SET_OPTION_HELP, CliGroups, fail, load_typed_or_exit, progress_enabled

gmfs_app = typer.Typer(
    help="Graphon mean-field subsampling (GMFS): studies of the tabular algorithm.", no_args_is_help=True
)


def study(
    config: Path = typer.Option(..., "--config", help="gmfs-study YAML"),
    set_: list[str] = typer.Option([], "--set", help=SET_OPTION_HELP),
    json_out: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
) -> None:
    """κ sweep, graphon vs uniform sampling: return ± stderr, table size, training time; PNG plots in a run folder."""
    from robocoord.benchjson import json_stdout
    from robocoord.runs import RunDir
    from robocoord.training.gmfs.config import GmfsStudyConfig
    from robocoord.training.gmfs.study import run_study
    from robocoord.training.gmfs.tabular import TableTooLarge

    cfg = load_typed_or_exit(GmfsStudyConfig, config, set_, "gmfs-study")
    show = progress_enabled()
    with json_stdout(json_out) as out:
        with RunDir.create(
            "gmfs-study", cfg, cfg.seed, root=cfg.run_root, argv=sys.argv, tensorboard=False
        ) as run:
            try:
                document = run_study(
                    cfg, run.plots, progress=(lambda m: typer.echo(m, err=True)) if show else None
                )
            except (TableTooLarge, ValueError) as err:
                raise fail(f"{config}: {err}") from None
            document["run_dir"] = str(run.path)
            run.write_json("study.json", document)
        if json_out:
            out.write(json.dumps(document) + "\n")
        else:
            _print_table(document, out)


def _print_table(document: dict[str, Any], out: TextIO) -> None:
    out.write(f"{'κ':>4} {'sampling':<9}{'return':>9} {'± stderr':>9}{'table':>8}{'train s':>9}\n")
    for r in document["results"]:
        out.write(
            f"{r['kappa']:>4} {r['sampling']:<9}{r['mean']:>9.1f} {r['stderr']:>9.2f}"
            f"{r['table_size']:>8}{r['train_seconds']:>9.2f}\n"
        )
    out.write(f"TV(ĝ/κ, g) log-log slope: {document['tv_slope']}\nrun folder: {document['run_dir']}\n")


def train(
    config: Path = typer.Option(..., "--config", help="gmfs-train YAML"),
    set_: list[str] = typer.Option([], "--set", help=SET_OPTION_HELP),
) -> None:
    """Neural GMFS by fitted Q-iteration; writes a run folder with artifacts/policy.onnx and the Bellman max-delta plot."""
    from robocoord.training.gmfs.config import GmfsTrainConfig
    from robocoord.training.gmfs.neural import train_gmfs

    cfg = load_typed_or_exit(GmfsTrainConfig, config, set_, "gmfs-train")
    try:
        result = train_gmfs(cfg, argv=sys.argv, progress=progress_enabled())
    except (ValueError, FileNotFoundError) as err:
        raise fail(f"{config}: {err}") from None
    typer.echo(json.dumps(result.summary))
    typer.echo(f"run folder: {result.run_dir}", err=True)


def bench(
    json_out: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
    repeats: int = typer.Option(3, min=1, help="alternating training runs per n"),
) -> None:
    """Scale: tabular training time at n = 25 vs n = 1000 (same κ), and 1000-agent execution ms/step at κ = 16."""
    from robocoord.benchjson import bench_document, emit, json_stdout, print_table
    from robocoord.training.gmfs.bench import run_gmfs_bench

    with json_stdout(json_out) as out:
        document = bench_document("gmfs", run_gmfs_bench(repeats=repeats))
        if json_out:
            emit(document, out)
        else:
            print_table(document, out)


def robots(
    artifact: Path = typer.Argument(..., help="gmfs policy .onnx artifact"),
    robots_: int = typer.Option(100, "--robots", min=2, max=1000, help="robots in the PyBullet warehouse"),
    disruptions: Path | None = typer.Option(None, help="disruptions YAML (kind: disruptions), eval phase"),
    seeds: int = typer.Option(3, min=1, help="episodes (seeds) per policy"),
    seconds: float = typer.Option(60.0, min=2.0, help="episode length [s of sim time]"),
    out: Path | None = typer.Option(None, help="output folder; default: the artifact's run folder plots/"),
    json_out: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
) -> None:
    """Throughput in the PyBullet warehouse: the artifact vs random, always-work and uniform-sampling GMFS."""
    from robocoord.benchjson import json_stdout
    from robocoord.training.gmfs.evaluate import robots_comparison

    target = out or (artifact.resolve().parent.parent / "plots")
    show = progress_enabled()
    with json_stdout(json_out) as stream:
        try:
            document = robots_comparison(
                artifact,
                target,
                robots_,
                disruptions,
                seeds,
                seconds,
                progress=(lambda m: typer.echo(m, err=True)) if show else None,
            )
        except ValueError as err:
            raise fail(f"{artifact}: {err}") from None
        if json_out:
            stream.write(json.dumps(document) + "\n")
        else:
            stream.write(
                f"{'policy':<14}{'throughput':>11}{'jobs':>7}{'dispatches':>11}{'return':>9}{'objective':>10}\n"
            )
            for r in document["rows"]:
                stream.write(
                    f"{r['policy']:<14}{r['throughput_mean']:>11.2f}{r['jobs_mean']:>7.2f}"
                    f"{r['dispatches_mean']:>11.2f}{r['return_mean']:>9.1f}{r['objective_return_mean']:>10.2f}\n"
                )


def register(groups: CliGroups) -> None:
    gmfs_app.command("robots")(robots)
    groups.bench.command("gmfs")(bench)
    gmfs_app.command("study")(study)
    groups.app.add_typer(gmfs_app, name="gmfs")
    groups.train.command("gmfs")(train)
