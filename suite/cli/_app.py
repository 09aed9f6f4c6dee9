"""The Typer app, its console and the option helpers every command shares."""

from __future__ import annotations

from pathlib import Path  # noqa: F401 - annotations of the commands
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    help="Benchmarks for parallel spiking-neural-network algorithms.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


console = Console()


def _version(value: bool):
    if value:
        from .. import __version__

        console.print(f"spikebench {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="print the version and exit"
        ),
    ] = False,
):
    """Benchmarks for parallel spiking-neural-network algorithms."""


def _choices(key: str) -> list[str]:
    from .. import profiles
    from ..hardware import devices as dev

    if key == "device":
        return list(dev.KINDS)
    if key == "profile":
        return profiles.names()
    return profiles.choices()[key]


def _choice(key: str):
    """The allowed values of a case field over every profile (``profiles.choices``) as a
    str Enum, typer's documented choice type: `--help` lists them and an unknown value is
    a one-line usage error naming them."""
    import enum

    return enum.Enum(key, {v: v for v in _choices(key)}, type=str)


def _out(path, option: str, kind: str = "folder"):
    """An output path option checked before any work (``outputs``): a bad one is a one-line
    usage error (exit 2)."""
    from .. import outputs

    if path is None:
        return None
    try:
        return getattr(outputs, kind)(path, option)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _values(options) -> list[str] | None:
    """Enum members (or plain strings) as their values."""
    return None if options is None else [getattr(o, "value", o) for o in options]


def _multi(key: str, text: str):
    return Annotated[
        list[_choice(key)] | None,  # type: ignore[misc]  # typer's choices are built at run time
        typer.Option(help=text, show_default=False),
    ]
