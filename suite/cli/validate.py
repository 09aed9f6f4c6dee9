"""`spikebench validate`: check result files before submitting them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ._app import app, console


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="result CSVs (each with its .json)")],
    strict: Annotated[bool, typer.Option(help="rows marked incorrect fail the file too")] = False,
):
    """Check result CSVs before submission; exit 1 if any file has an error."""
    from ..submission import validate as v

    failed = 0
    for f in files:
        rep = v.validate(f, strict=strict)
        for msg in rep.errors:
            console.print(f"[red]error[/red] {escape(msg)}", soft_wrap=True)
        for msg in rep.warnings:
            console.print(f"[yellow]warning[/yellow] {escape(msg)}", soft_wrap=True)
        verdict = "[green]valid[/green]" if rep.ok else "[red]invalid[/red]"
        console.print(
            f"{escape(str(f))}: {verdict} ({rep.n_rows} rows, {len(rep.errors)} "
            f"errors, {len(rep.warnings)} warnings)",
            soft_wrap=True,
        )
        failed += not rep.ok
    raise typer.Exit(1 if failed else 0)
