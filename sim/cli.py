"""``robocoord sim …`` and ``robocoord bench sim``. Only typer/pydantic at import time."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from robocoord.cli.common import SET_OPTION_HELP, CliGroups, fail, load_typed_or_exit, progress_enabled

sim_app = typer.Typer(
    help="PyBullet worlds: run a task, regenerate the measured models.", no_args_is_help=True
)

ROBOT_FIELD = {"warehouse": "warehouse", "team_push": "team_push"}


def _resolve_config(
    config: Path | None, set_: list[str], cli_values: dict[str, Any], robots: int | None
) -> Any:
    from pydantic import ValidationError

    from robocoord.config import apply_overrides, validation_lines
    from robocoord.sim.config import SimRunConfig

    if config is not None:
        data = load_typed_or_exit(SimRunConfig, config, set_, "sim-run").model_dump()
    else:
        try:
            data = apply_overrides(SimRunConfig().model_dump(mode="json"), set_)
        except (ValueError, IndexError, TypeError, AttributeError) as err:
            raise fail(f"--set: {err}") from None
    data.update({k: v for k, v in cli_values.items() if v is not None})
    if robots is not None:
        task = data["task"]
        if task == "safe_nav":
            if robots != 1:
                raise fail(f"--robots: safe_nav has exactly one robot, got {robots}")
        else:
            data[ROBOT_FIELD[task]] = {**data[ROBOT_FIELD[task]], "n_robots": robots}
    try:
        return SimRunConfig.model_validate(data)
    except ValidationError as err:
        lines = validation_lines("--robots/--task/--seconds", err)
        raise fail([line.replace("n_robots", "n_robots (--robots)") for line in lines]) from None


def run(
    task: str | None = typer.Option(None, help="warehouse | team_push | safe_nav"),
    robots: int | None = typer.Option(None, help="number of robots (warehouse 2..1000, team_push 2..4)"),
    seconds: float | None = typer.Option(None, help="simulated seconds"),
    gui: bool = typer.Option(False, "--gui", help="open the PyBullet GUI"),
    disruptions: Path | None = typer.Option(None, help="kind: disruptions YAML"),
    record: str | None = typer.Option(
        None, help="'frames' (PNG per decision), out.gif or out.mp4 (needs ffmpeg)"
    ),
    policy: str | None = typer.Option(None, help="scripted | random"),
    seed: int | None = typer.Option(None),
    config: Path | None = typer.Option(
        None, "--config", help="sim-run YAML; command-line options override it"
    ),
    set_: list[str] = typer.Option([], "--set", help=SET_OPTION_HELP),
) -> None:
    """Run a task with a scripted or random policy; writes a run folder with plots/trajectory.png."""
    cfg = _resolve_config(
        config,
        set_,
        {
            "task": task,
            "seconds": seconds,
            "gui": gui or None,
            "disruptions": disruptions,
            "record": record,
            "policy": policy,
            "seed": seed,
        },
        robots,
    )
    from robocoord.config import ConfigError
    from robocoord.runs import RunDir
    from robocoord.sim.disruptions.sampling import DisruptionError
    from robocoord.sim.disruptions.spec import load_disruptions
    from robocoord.sim.run import check_record_target, plot_trajectory, run_simulation
    from robocoord.sim.run import record as record_frames

    try:
        check_record_target(cfg.record)
        specs = load_disruptions(cfg.disruptions) if cfg.disruptions else []
    except ConfigError as err:
        raise fail(err.lines) from None
    except ValueError as err:
        raise fail(f"--{err}") from None
    show = progress_enabled()
    with RunDir.create(
        f"sim-{cfg.task}", cfg, cfg.seed, root=cfg.out_dir, argv=sys.argv, tensorboard=False
    ) as run_dir:
        try:
            summary, trajectory, env = run_simulation(
                cfg,
                specs,
                log=run_dir.log,
                progress=(lambda k, n: typer.echo(f"\rdecision {k}/{n}", err=True, nl=k == n))
                if show
                else None,
            )
        except DisruptionError as err:
            raise fail(f"{cfg.disruptions}: {err}") from None
        try:
            core = env.unwrapped
            plot = plot_trajectory(run_dir.plots / "trajectory.png", trajectory, core, cfg.task)
            if cfg.record:
                summary["recording"] = str(
                    record_frames(cfg.record, run_dir.plots, trajectory, core, cfg.task)
                )
        finally:
            env.close()
        summary.update(run_dir=str(run_dir.path), trajectory_png=str(plot))
        run_dir.write_json("summary.json", summary)
    typer.echo(json.dumps(summary))


def fit_warehouse(
    robots: int = typer.Option(64, help="robots in the measurement world (whole 4x4 blocks: 16, 64, 144 …)"),
    episodes: int = typer.Option(30, min=1),
    decisions: int = typer.Option(20, min=1, help="decisions per episode"),
    seed: int = typer.Option(0),
    disruptions: Path | None = typer.Option(None, help="measure under these disruptions (kind: disruptions)"),
    phase: str = typer.Option("eval", help="which disruptions apply: train | eval"),
    out: Path | None = typer.Option(None, help="output .npz (default: the shipped sim/data file)"),
) -> None:
    """Re-measure the warehouse transition table P(s'|s,a,c) from PyBullet rollouts."""
    from pydantic import ValidationError

    from robocoord.config import ConfigError
    from robocoord.sim.config import WarehouseParams
    from robocoord.sim.disruptions.spec import load_disruptions
    from robocoord.sim.tasks.warehouse_fit import measure_transitions
    from robocoord.sim.tasks.warehouse_model import DEFAULT_TRANSITIONS_PATH

    try:
        params = WarehouseParams(n_robots=robots)
    except ValidationError as err:
        raise fail(f"--robots: {err.errors()[0]['msg']}") from None
    if phase not in ("train", "eval"):
        raise fail(f"--phase: expected train or eval, got {phase!r}")
    if disruptions is not None and out is None:
        raise fail("--out: a table measured under disruptions must not overwrite the nominal one")
    try:
        specs = load_disruptions(disruptions) if disruptions else []
    except ConfigError as err:
        raise fail(err.lines) from None
    show = progress_enabled()
    model = measure_transitions(
        params,
        episodes=episodes,
        decisions_per_episode=decisions,
        seed=seed,
        progress=(lambda k, n: typer.echo(f"episode {k}/{n}", err=True)) if show else None,
        disruptions=specs,
        phase=phase,  # type: ignore[arg-type]
    )
    path = model.save(out or DEFAULT_TRANSITIONS_PATH)
    typer.echo(json.dumps({"path": str(path), "samples": model.provenance["samples"]}))


def fit_safe_nav(
    samples: int = typer.Option(6, min=1, help="rollouts per (cell, action)"),
    seed: int = typer.Option(0),
    out: Path | None = typer.Option(None, help="output .npz (default: the shipped sim/data file)"),
) -> None:
    """Re-estimate the safe_nav finite abstraction (nominal kernel, reward, costs) from PyBullet."""
    from robocoord.sim.tasks.safe_nav_abstraction import DEFAULT_KERNEL_PATH, estimate_abstraction

    show = progress_enabled()
    abstraction = estimate_abstraction(
        samples_per_pair=samples,
        seed=seed,
        progress=(lambda k, n: typer.echo(f"cell {k}/{n}", err=True)) if show else None,
    )
    path = abstraction.save(out or DEFAULT_KERNEL_PATH)
    typer.echo(
        json.dumps({"path": str(path), "states": abstraction.n_states, "actions": abstraction.n_actions})
    )


def bench_sim(
    json_out: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
    quick: bool = typer.Option(False, "--quick", help="short timing windows (smoke test only)"),
    seed: int = typer.Option(0),
) -> None:
    """Warehouse task speed for 10/100/1000 robots against the raw PyBullet loop in the same world."""
    from robocoord.benchjson import bench_document, emit, json_stdout, print_table

    with json_stdout(json_out) as out:
        from robocoord.sim.bench import run_bench

        show = progress_enabled()
        results = run_bench(
            quick=quick, seed=seed, progress=(lambda m: typer.echo(m, err=True)) if show else None
        )
        document = bench_document("sim", results)
        if json_out:
            emit(document, out)
        else:
            print_table(document, out)


def register(groups: CliGroups) -> None:
    sim_app.command("run")(run)
    sim_app.command("fit-warehouse")(fit_warehouse)
    sim_app.command("fit-safe-nav")(fit_safe_nav)
    groups.app.add_typer(sim_app, name="sim")
    groups.bench.command("sim")(bench_sim)
