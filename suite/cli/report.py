"""`spikebench report`: plots, tables and HTML pages from result CSVs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import _out, app, console
from .run import render_report


@app.command()
def report(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="CSV files or folders (default: results/)")
    ] = None,
    out: Annotated[Path, typer.Option(help="output folder")] = Path("reports/latest"),
    all_runs: Annotated[
        bool,
        typer.Option(
            "--all-runs",
            help="pool every run of a place (default: per case, only the runs of its latest "
            "code and inputs versions)",
        ),
    ] = False,
):
    """Render plots (PNG + SVG), Markdown tables and an HTML page from result CSVs. The index
    opens with one table: each family's question by place (machine, device kind, threads)."""
    from ..harness.runner import results_root

    _out(out, "--out")
    try:
        index = render_report(paths or [results_root()], out, all_runs)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    console.print(f"report: {index}")
