"""``robocoord config validate|show|kinds``."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml

from robocoord.cli.common import SET_OPTION_HELP, load_or_exit
from robocoord.config import KINDS, dump_config

app = typer.Typer(
    help="Check and print strict YAML configs (every file names its model with `kind:`).",
    no_args_is_help=True,
)


@app.command("validate")
def validate(
    file: Path = typer.Argument(..., help="YAML config file"),
    set_: list[str] = typer.Option([], "--set", help=SET_OPTION_HELP),
) -> None:
    """Validate FILE; every problem is printed, one line per field, with exit code 2."""
    config = load_or_exit(file, set_)
    typer.echo(f"{file}: ok ({dump_config(config).get('kind')})")


@app.command("show")
def show(
    file: Path = typer.Argument(..., help="YAML config file"),
    set_: list[str] = typer.Option([], "--set", help=SET_OPTION_HELP),
) -> None:
    """Print the resolved config: defaults filled in, overrides applied."""
    config = load_or_exit(file, set_)
    typer.echo(yaml.safe_dump(dump_config(config), sort_keys=False), nl=False)


@app.command("kinds")
def kinds() -> None:
    """List the config kinds and the model behind each."""
    for kind, target in sorted(KINDS.items()):
        typer.echo(f"{kind:<18} {target}")
