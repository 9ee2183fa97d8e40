"""Helpers every CLI command shares: strict config loading with exit code 2, JSON mode, progress."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import typer
from pydantic import BaseModel

from robocoord.config import ConfigError, load_config

M = TypeVar("M", bound=BaseModel)

EXIT_BAD_INPUT = 2


@dataclass(frozen=True)
class CliGroups:
    """The command groups a layer may attach to (see ``register`` in each ``<layer>/cli.py``)."""

    app: typer.Typer
    bench: typer.Typer
    train: typer.Typer


def fail(lines: Sequence[str] | str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print problems to stderr, one per line, and return the Exit to raise (no traceback)."""
    for line in [lines] if isinstance(lines, str) else lines:
        typer.echo(line, err=True)
    return typer.Exit(code)


def load_or_exit(
    path: Path, overrides: Sequence[str] = (), kind: str | Sequence[str] | None = None
) -> BaseModel:
    try:
        return load_config(path, overrides, expect_kind=kind)
    except ConfigError as err:
        raise fail(err.lines) from None


def load_typed_or_exit(model: type[M], path: Path, overrides: Sequence[str], kind: str) -> M:
    config = load_or_exit(path, overrides, kind)
    if not isinstance(config, model):
        raise fail(f"{path}: kind: expected {kind}")
    return config


def progress_enabled() -> bool:
    """Progress bars go to stderr, and only when a person is watching."""
    return sys.stderr.isatty()


SET_OPTION_HELP = "Override a config key: --set a.b=value (value parsed as YAML). Repeatable."
