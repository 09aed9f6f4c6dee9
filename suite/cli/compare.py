"""`spikebench compare`: before / after on one machine, or the same cases across places."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ._app import _out, app, console


def _runs_index(root: Path):
    """(csv, commit, run ids) of every results CSV under `root`."""
    from .. import results

    out = []
    for f in sorted(Path(root).rglob("*.csv")) if Path(root).is_dir() else []:
        try:
            df = results.read([f])
        except ValueError:
            continue
        out.append(
            (
                f,
                sorted(set(map(str, df["git_commit"].dropna()))),
                sorted(set(map(str, df["run_id"].dropna()))),
            )
        )
    return out


def _resolve_run(arg: str, root: Path) -> list[Path]:
    """A results CSV, or a run id or commit (a prefix of either) among the CSVs under
    `root`: the matching CSVs; BadParameter listing the runs when nothing matches."""
    p = Path(arg)
    if p.is_file():
        return [p]
    index = _runs_index(root)
    hits = [
        f
        for f, commits, runs in index
        if any(c.startswith(arg) for c in commits) or any(r.startswith(arg) for r in runs)
    ]
    if not hits:
        listing = "; ".join(f"{f.name} (run {', '.join(r)})" for f, _, r in index[-12:])
        raise typer.BadParameter(
            f"{arg!r} is no results CSV, run id or commit under {root}; "
            f"the runs there: {listing or 'none'}"
        )
    return hits


def _print_answers(df) -> None:
    """The report's answer table (each family's question by place), when the results hold
    several places: what ``compare`` prints first."""
    from .. import compare as cmp
    from .. import rows
    from ..report import answers

    pooled = cmp.pool(df).rows
    if pooled is None or not len(pooled) or rows.places(pooled).nunique() < 2:
        return
    t = answers.table_of(pooled)
    if t.empty:
        return
    out = Table(*map(escape, t.columns), box=None, title=answers.TITLE)
    for r in t.itertuples(index=False):
        out.add_row(*(escape(str(v)) for v in r))
    Console(width=max(console.width, 160)).print(out)


@app.command()
def compare(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="two runs A B (CSVs, run ids or commits: a before/after comparison on one "
            "machine), or CSV files and folders to compare places (default: results/)"
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            help="places: the baseline place, a prefix of '<machine_id> <device kind> <name>'"
        ),
    ] = None,
    factor: Annotated[float, typer.Option(help="smallest ratio called faster/slower")] = 1.1,
    alpha: Annotated[
        float, typer.Option(help="significance level of the Mann-Whitney test")
    ] = 0.01,
    fail_on_regression: Annotated[
        float | None,
        typer.Option(
            metavar="FACTOR",
            help="exit 1 when a case got significantly slower by more than FACTOR (e.g. 1.2), "
            "for CI like `asv continuous` and --benchmark-compare-fail",
        ),
    ] = None,
    places: Annotated[
        bool,
        typer.Option(
            "--places", help="compare places even when two runs are given (so does --baseline)"
        ),
    ] = False,
    markdown: Annotated[
        Path | None,
        typer.Option(help="also write the table here (Markdown; never overwritten unless --force)"),
    ] = None,
    force: Annotated[bool, typer.Option(help="let --markdown overwrite its file")] = False,
    across_versions: Annotated[
        bool,
        typer.Option(
            help="places: compare rows even where kernel_version or inputs_version differ (the "
            "versions column says so; a before/after comparison always does)"
        ),
    ] = False,
):
    """Compare runs: A B before and after a change on one machine, or the same cases
    measured on different machines / devices / thread counts. Ratios come from the raw
    samples (baseline median / other median: > 1 means faster than the baseline)."""
    from .. import compare as cmp
    from .. import results
    from ..harness.runner import results_root
    from ..report import site as rep

    _out(markdown, "--markdown", "file")
    if markdown is not None and markdown.exists() and not force:
        raise typer.BadParameter(f"--markdown {markdown} exists (add --force to overwrite it)")
    root = results_root()
    paths = paths or [str(root)]
    two_runs = (
        len(paths) == 2
        and not places
        and baseline is None
        and not any(Path(p).is_dir() for p in paths)
    )
    try:
        if two_runs:
            before, after = (results.read(_resolve_run(p, root)) for p in paths)
            table = cmp.before_after(before, after, factor, alpha)
        else:
            for p in paths:
                if not Path(p).exists():
                    raise typer.BadParameter(f"no such results file or folder: {p}")
            df = results.read(paths)
            table = cmp.compare(df, baseline, factor, alpha, across_versions=across_versions)
            _print_answers(df)
        if fail_on_regression is not None:
            slow = cmp.regressions(table, fail_on_regression)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if table.empty:
        console.print(
            "nothing to compare: "
            + (
                "the two runs share no case measured in the same place (machine, device, "
                "threads); --places compares places"
                if two_runs
                else "no case was measured in two places"
            )
        )
        raise typer.Exit(0)
    head = (
        ("case", "before", "after", "ratio", "p", "verdict", "versions")
        if two_runs
        else ("case", "baseline", "place", "ratio", "p", "verdict", "versions")
    )
    out = Table(*head, box=None)
    for r in table.itertuples(index=False):
        first = (
            (f"{r.median_baseline_s:.3g} s", f"{r.median_place_s:.3g} s")
            if two_runs
            else (escape(r.baseline), escape(r.place))
        )
        out.add_row(
            escape(r.case),
            *first,
            "" if np.isnan(r.ratio) else f"{r.ratio:.3g}x",
            "" if np.isnan(r.p_value) else f"{r.p_value:.2g}",
            escape(r.verdict),
            escape(r.versions),
        )
    Console(width=max(console.width, 160)).print(out)
    counts = table["verdict"].value_counts().to_dict()
    what = (
        f"before: {table['baseline'].iloc[0]}; after: {table['place'].iloc[0].split(' on ')[0]}; "
        if two_runs
        else ""
    )
    console.print(
        f"{len(table)} comparisons ({escape(what)}ratio = baseline median / "
        f"{'after' if two_runs else 'place'} median): {escape(str(counts))}",
        soft_wrap=True,
    )
    if markdown is not None:
        markdown.write_text(rep._md(table))
        console.print(f"markdown: {escape(str(markdown))}")
    if fail_on_regression is not None:
        if len(slow):
            for r in slow.itertuples(index=False):
                console.print(
                    f"[red]regression[/]: {escape(r.case)} {1 / r.ratio:.3g}x "
                    f"slower (p={r.p_value:.2g}) in {escape(r.place)}",
                    soft_wrap=True,
                )
            console.print(
                f"[red]{len(slow)} case(s) significantly slower than {fail_on_regression:g}x[/]"
            )
            raise typer.Exit(1)
        console.print(f"no case significantly slower than {fail_on_regression:g}x")
