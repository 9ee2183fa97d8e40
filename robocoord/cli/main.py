"""Entry point of the ``robocoord`` command.

Each layer owns its commands in ``<layer>/cli.py`` and exposes ``register(groups)``.
Those modules import only typer and pydantic at module level; torch, pybullet and
rclpy are imported inside the command bodies so ``robocoord doctor`` and
``robocoord inspect`` work on a robot that has neither.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import typer

from robocoord.cli import config_cmd, doctor, eval_cmd, policy_cmd
from robocoord.cli.common import CliGroups

app = typer.Typer(
    name="robocoord",
    help="Train multi-robot policies in PyBullet, export to ONNX, run them over ROS 2 and a serial bridge.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
bench_app = typer.Typer(
    help="Benchmarks. With --json, stdout carries exactly one JSON object.", no_args_is_help=True
)
train_app = typer.Typer(
    help="Train a policy family; writes a run folder with artifacts/policy.onnx.", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")
app.add_typer(train_app, name="train")
app.add_typer(config_cmd.app, name="config")
app.command("doctor")(doctor.doctor)
app.command("inspect")(policy_cmd.inspect)
app.command("eval")(eval_cmd.eval_artifact)
bench_app.command("policy")(policy_cmd.bench_policy)

# Layers that attach their own commands. A layer whose module is absent (not yet
# built, or stripped from a robot image) is left out; any other import error is real.
LAYER_CLIS = (
    "robocoord.sim.cli",
    "robocoord.firmware_bridge.cli",
    "robocoord.training.gmfs.cli",
    "robocoord.training.drigm.cli",
    "robocoord.training.rcmdp.cli",
    "robocoord_ros.cli",
    "robocoord.demo",
)


def _register_layers() -> None:
    groups = CliGroups(app=app, bench=bench_app, train=train_app)
    for module_name in LAYER_CLIS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name is not None and module_name.startswith(err.name):
                continue
            raise
        module.register(groups)


_register_layers()


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()

__all__ = ["app", "main", "Path"]
