"""``robocoord train rcmdp`` and ``robocoord rcmdp study``. Only typer/pydantic at import time."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from robocoord.cli.common import SET_OPTION_HELP, CliGroups, fail, load_typed_or_exit, progress_enabled

rcmdp_app = typer.Typer(help="Robust constrained MDPs (RNPG, RPPG, EpiRC-PGS).", no_args_is_help=True)


def study(
    config: Path = typer.Option(..., "--config", help="rcmdp-study YAML"),
    set_: list[str] = typer.Option([], "--set", help=SET_OPTION_HELP),
    json_out: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
) -> None:
    """Run every algorithm at every γ on every benchmark; print objective, constraints, evaluations-to-ε."""
    from robocoord.benchjson import json_stdout, machine_info
    from robocoord.training.rcmdp.config import RcmdpStudyConfig
    from robocoord.training.rcmdp.study import plot_convergence, public_rows, run_study

    cfg = load_typed_or_exit(RcmdpStudyConfig, config, set_, "rcmdp-study")
    show = progress_enabled()
    with json_stdout(json_out) as out:
        rows, ratios = run_study(cfg, progress=(lambda msg: typer.echo(msg, err=True)) if show else None)
        plots = []
        if cfg.plots_dir is not None:
            plots = plot_convergence(rows, lambda g: 2.0 / cfg.epsilon_fraction, Path(cfg.plots_dir))
        document = {
            "study": cfg.name,
            "machine": machine_info(),
            "results": public_rows(rows),
            "ratios": ratios,
        }
        document["plots"] = [str(p) for p in plots]
        if json_out:
            out.write(json.dumps(document) + "\n")
        else:
            _print_table(document, out)


def _print_table(document: dict, out) -> None:  # type: ignore[no-untyped-def]
    out.write(
        f"{'benchmark':<16}{'γ':>7} {'algo':<14}{'J_c0':>10} {'constraints':<22}{'feas':>5}"
        f"{'evals':>7}{'to ε':>7}{'sec':>8}\n"
    )
    for r in document["results"]:
        cons = "-" if r["constraints"] is None else ",".join(f"{c:.3g}" for c in r["constraints"])
        obj = "-" if r["objective"] is None else f"{r['objective']:.4g}"
        out.write(
            f"{r['benchmark']:<16}{r['gamma']:>7} {r['algo']:<14}{obj:>10} {cons:<22}{str(r['feasible'])[0]:>5}"
            f"{r['evaluations']:>7}{str(r['evaluations_to_eps']):>7}{r['seconds']:>8.2f}\n"
        )
    for q in document["ratios"]:
        out.write(
            f"{q['benchmark']} γ={q['gamma']}: {q['baseline']}/{q['algo']} evaluations-to-ε ratio "
            f"{q['evaluations_ratio']}, seconds ratio {q['seconds_ratio']}\n"
        )


def train(
    config: Path = typer.Option(..., "--config", help="rcmdp-train YAML"),
    set_: list[str] = typer.Option([], "--set", help=SET_OPTION_HELP),
) -> None:
    """Solve one robust constrained MDP; writes a run folder (metrics, policy, plots; ONNX for safe_nav)."""
    from robocoord.training.rcmdp.config import RcmdpTrainConfig
    from robocoord.training.rcmdp.mdp import InfeasibleError, RcmdpInputError
    from robocoord.training.rcmdp.train import train_run

    cfg = load_typed_or_exit(RcmdpTrainConfig, config, set_, "rcmdp-train")
    try:
        run_path, summary = train_run(cfg, argv=sys.argv)
    except (InfeasibleError, RcmdpInputError) as err:
        raise fail(f"{config}: {err}") from None
    typer.echo(json.dumps(summary))
    typer.echo(f"run folder: {run_path}", err=True)


def compare(
    run: Path = typer.Option(..., "--run", help="run folder of `robocoord train rcmdp` on safe_nav"),
    disruptions: Path = typer.Option(
        ..., "--disruptions", help="held-out disruptions YAML (kind: disruptions)"
    ),
    seeds: int = typer.Option(3, min=1),
    episodes: int = typer.Option(20, min=1, help="episodes per seed"),
    json_out: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
) -> None:
    """Robust policy + shield vs the non-robust nominal CMDP policy on PyBullet safe_nav, held-out disruptions."""
    from robocoord.benchjson import Result, bench_document, emit, json_stdout, print_table
    from robocoord.training.rcmdp.evaluate import evaluate_artifact

    arms = {
        "robust_shield": (run / "artifacts" / "robust.onnx", True),
        "nominal": (run / "artifacts" / "nominal.onnx", False),
    }
    for path, _ in arms.values():
        if not path.is_file():
            raise fail(f"{run}: missing {path.name}; train safe_nav first")
    with json_stdout(json_out) as out:
        results = []
        for label, (path, shield) in arms.items():
            per_seed = [
                evaluate_artifact(
                    artifact=path, disruptions=disruptions, episodes=episodes, seed=seed, shield=shield
                )
                for seed in range(seeds)
            ]
            n = seeds * episodes
            results += [
                Result(f"{label}/violations", sum(m["violations"] for m in per_seed), f"episodes of {n}"),
                Result(f"{label}/success_rate", sum(m["success_rate"] for m in per_seed) / seeds, "fraction"),
                Result(f"{label}/return_mean", sum(m["return_mean"] for m in per_seed) / seeds, "reward"),
                Result(
                    f"{label}/shield_interventions",
                    sum(m["shield_interventions"] for m in per_seed),
                    "decisions",
                ),
            ]
            for i, name in enumerate(("hazard", "collision", "overspeed")):
                v = sum(m["violations_per_constraint"][i] for m in per_seed)
                results.append(Result(f"{label}/violations_{name}", v, f"episodes of {n}"))
        document = bench_document("rcmdp-safe-nav", results)
        if json_out:
            emit(document, out)
        else:
            print_table(document, out)


def register(groups: CliGroups) -> None:
    rcmdp_app.command("study")(study)
    rcmdp_app.command("compare")(compare)
    groups.app.add_typer(rcmdp_app, name="rcmdp")
    groups.train.command("rcmdp")(train)
