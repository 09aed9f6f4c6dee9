"""`spikebench submit` and `spikebench merge`: file a run, join the shards of a sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ._app import _out, app, console


@app.command()
def submit(
    file: Annotated[Path, typer.Argument(help="a result CSV (with its .json beside it)")],
    results_dir: Annotated[
        Path | None,
        typer.Option(
            "--results",
            help="results root (default: results/ in the folder you run from, e.g. "
            "your clone of the repository)",
        ),
    ] = None,
    keep_hostname: Annotated[
        bool,
        typer.Option(
            help="keep this machine's hostname where it appears (default: replaced by a hash)"
        ),
    ] = False,
):
    """Validate a run and file it under results/<machine_id>/ (never overwriting)."""
    from ..harness.runner import results_root
    from ..submission import submit as sub

    _out(results_dir or results_root(), "--results")
    try:
        dest, rep = sub.submit(file, results_dir or results_root(), keep_hostname)
    except ValueError as exc:
        console.print(f"[red]not submitted[/red]: {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from None
    for msg in rep.warnings:
        console.print(f"[yellow]warning[/yellow] {escape(msg)}", soft_wrap=True)
    console.print(f"filed {rep.n_rows} rows as {escape(str(dest))} (+ .json)", soft_wrap=True)


@app.command()
def merge(
    shards: Annotated[list[Path], typer.Argument(help="the shard CSVs of one sweep")],
    out: Annotated[Path, typer.Option(help="the merged CSV to write (never overwritten)")],
    partial: Annotated[bool, typer.Option(help="merge even if some shards are missing")] = False,
):
    """Combine the shards of a sweep run with --shard i/n into one results CSV (+ .json)."""
    from ..submission import merge as m

    _out(out, "--out", "file")
    try:
        path, sweep = m.merge(shards, out, partial)
    except ValueError as exc:
        console.print(f"[red]not merged[/red]: {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from None
    missing = f", missing shards {sweep['missing']}" if sweep["missing"] else ""
    console.print(
        f"merged {len(shards)} of {sweep['count']} shards of sweep "
        f"{sweep['sweep_id']} ({sweep['n_cases']} cases{missing}) into "
        f"{escape(str(path))}",
        soft_wrap=True,
    )
