"""`spikebench report`: plots, tables and HTML pages from result CSVs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import _out, app, console
from .run import render_report

SITE_REPORT = "build/site-report"  # where docs/hooks/results_site.py reads the report


@app.command()
def report(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="CSV files or folders (default: results/)")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="output folder (default: reports/latest; with --site build/site-report)"),
    ] = None,
    all_runs: Annotated[
        bool,
        typer.Option(
            "--all-runs",
            help="pool every run of a place (default: per case, only the runs of its latest "
            "code and inputs versions)",
        ),
    ] = False,
    site: Annotated[
        bool,
        typer.Option(
            "--site",
            help="also write the docs site's Results page (site.md; `tox -e site` then builds "
            "the site with the report under Results)",
        ),
    ] = False,
):
    """Render plots (PNG + SVG), Markdown tables and an HTML page from result CSVs. The index
    opens with one table: each family's question by place (machine, device kind, threads)."""
    from ..harness.runner import results_root

    if out is None:
        out = Path(SITE_REPORT if site else "reports/latest")
    _out(out, "--out")
    try:
        index = render_report(paths or [results_root()], out, all_runs, site)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    console.print(f"report: {index}")
