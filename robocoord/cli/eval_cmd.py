"""``robocoord eval ARTIFACT``: dispatches on the artifact's policy family."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import typer

from robocoord.benchjson import json_stdout
from robocoord.cli.common import fail

# family -> "module:function"; each takes keyword arguments
# (artifact, task, robots, disruptions, episodes, seed, seconds) and returns the
# metrics dict {"episodes", "return_mean", "return_stderr", "cost_mean", "violations", "success_rate"}.
EVALUATORS = {
    "gmfs": "robocoord.training.gmfs.evaluate:evaluate_artifact",
    "drigm": "robocoord.training.drigm.evaluate:evaluate_artifact",
    "rcmdp": "robocoord.training.rcmdp.evaluate:evaluate_artifact",
}
EVAL_KEYS = ("episodes", "return_mean", "return_stderr", "cost_mean", "violations", "success_rate")


def eval_artifact(
    artifact: Path = typer.Argument(..., help="policy .onnx artifact"),
    task: str | None = typer.Option(None, help="sim task (default: the family's task)"),
    robots: int | None = typer.Option(None, min=1, help="number of robots (swarm tasks)"),
    disruptions: Path | None = typer.Option(None, help="disruptions YAML (kind: disruptions)"),
    episodes: int = typer.Option(5, min=1),
    seconds: float | None = typer.Option(None, min=0.1, help="episode length [s of sim time]"),
    seed: int = typer.Option(0),
    json_out: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
) -> None:
    """Evaluate a policy artifact in the PyBullet task it was trained for."""
    from robocoord.controllers.policy import ArtifactError, read_contract

    try:
        contract = read_contract(artifact)
    except ArtifactError as err:
        raise fail(str(err)) from None
    target = EVALUATORS.get(contract.family)
    if target is None:
        raise fail(f"{artifact}: family {contract.family!r} has no evaluator")
    module_name, _, func_name = target.partition(":")
    try:
        evaluate = getattr(importlib.import_module(module_name), func_name)
    except ModuleNotFoundError:
        raise fail(f"{artifact}: the {contract.family} evaluator is not installed ({module_name})") from None
    from robocoord.config import ConfigError

    with json_stdout(json_out) as out:
        try:
            metrics = evaluate(
                artifact=artifact,
                task=task,
                robots=robots,
                disruptions=disruptions,
                episodes=episodes,
                seed=seed,
                seconds=seconds,
            )
        except ConfigError as err:  # a disruptions file that does not validate
            raise fail(err.lines) from None
        except ValueError as err:  # evaluators reject arguments that do not fit the artifact this way
            message = str(err)
            raise fail(message if message.startswith(str(artifact)) else f"{artifact}: {message}") from None
        document = {key: metrics.get(key) for key in EVAL_KEYS}
        document.update({k: v for k, v in metrics.items() if k not in document})
        if json_out:
            out.write(json.dumps(document) + "\n")
        else:
            for key, value in document.items():
                out.write(f"{key:<16} {value}\n")
