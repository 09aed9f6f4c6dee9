"""`spikebench datasets`: what this machine can load, and the statistics of real files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ._app import _out, app, console

datasets_app = typer.Typer(
    help="Event datasets: what this machine can load, and the statistics of real files.",
    invoke_without_command=True,
)
app.add_typer(datasets_app, name="datasets")


@datasets_app.callback()
def datasets_list(
    ctx: typer.Context,
    data_dir: Annotated[Path | None, typer.Option(help="folder with real dataset files")] = None,
):
    """List the registered datasets and whether they can be loaded here."""
    if ctx.invoked_subcommand is not None:
        return
    from .. import datasets as ds

    table = Table("dataset", "kind", "channels", "classes", "status", "description", box=None)
    for r in ds.available(data_dir):
        table.add_row(
            r["name"],
            r["kind"],
            str(r["n_channels"]),
            str(r["n_classes"]),
            escape(r["status"]),
            escape(r["description"]),
        )
    Console(width=max(console.width, 120)).print(table)


@datasets_app.command("stats")
def datasets_stats(
    path: Annotated[
        Path, typer.Argument(help="an SHD/SSC .h5 file, or a folder with the MNIST IDX files")
    ],
    limit: Annotated[int | None, typer.Option(help="only the first N samples")] = None,
    save: Annotated[Path | None, typer.Option(help="write the statistics as JSON here")] = None,
):
    """Measure a real file: events per sample (mean / median / max), duration, tie fraction."""
    import json

    from .. import datasets as ds

    _out(save, "--save", "file")
    try:
        stats = ds.measure(path, limit=limit)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    table = Table("statistic", "value")
    for k, v in stats.items():
        if not isinstance(v, list):
            table.add_row(k, escape(f"{v:.6g}" if isinstance(v, float) else str(v)))
    console.print(table)
    if save is not None:
        save.write_text(json.dumps(stats, indent=1))
        console.print(f"saved: {save}")
