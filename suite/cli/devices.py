"""`spikebench devices`: what this machine has, and why the rest is absent."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from ._app import app, console


@app.command()
def devices():
    """List device kinds: what is here, with which frameworks and runtimes (and their
    versions), and why the rest is not. Absent kinds give `unavailable` rows in a sweep."""
    from .. import families, plugins, registry
    from ..hardware import devices as dev

    families.load_kernels()
    table = Table("kind", "available", "name", "count", "memory", "frameworks / runtimes")
    for d in dev.discover():
        mem = f"{d.memory_bytes / 2**30:.1f} GiB" if d.memory_bytes else ""
        vers = ", ".join(f"{k} {v}" for k, v in d.versions.items() if v) or ", ".join(d.frameworks)
        table.add_row(
            d.kind,
            "yes" if d.available else "[bold]no[/bold]",
            escape(d.name),
            str(d.count) if d.available else "",
            mem,
            escape(vers),
        )
    console.print(table)
    for d in dev.discover():
        if not d.available:
            console.print(
                f"[bold]{d.kind}[/bold] unavailable: "
                + "; ".join(escape(r) for r in d.reason.split("; "))
            )
    for fw, why in registry.UNAVAILABLE.items():
        console.print(f"[bold]framework {fw}[/bold] unavailable: {escape(why)}")
    for name, module in plugins.LOADED.items():
        console.print(f"plugin [bold]{escape(name)}[/bold]: {escape(module)}")
    for name, why in plugins.FAILED.items():
        console.print(f"[bold]plugin {escape(name)}[/bold] did not load: {escape(why)}")
