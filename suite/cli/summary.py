"""The terminal summary of a sweep (the CLI's and `pytest --benchmark`'s)."""

from __future__ import annotations

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..rows import own
from ._app import console


def print_summary(rows, files=()) -> None:
    """Status counts; why rows did not run (unavailable / unsupported: their reasons, once
    each) or failed (each row); per implementation and mode its largest case's throughput
    with the noise flag (IQR / median above ``timing.NOISY``); each family's own tables
    (``Family.summary``), all from usable rows (``results.usable``); then where the files
    went (`files`: (what, path) pairs)."""
    import collections

    import pandas as pd

    from .. import families, results
    from ..harness import timing

    counts = collections.Counter(r["status"] for r in rows)
    bad = [r for r in rows if r["status"] == "ok" and not r.get("correct")]
    console.print(
        "statuses: "
        + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        + (f"; [red]{len(bad)} ok rows are INCORRECT[/]" if bad else "")
    )
    wide = Console(width=max(console.width, 110))
    df = pd.DataFrame(rows, columns=results.COLUMNS)
    _print_not_run(df, wide)
    use = results.usable(df)
    ok = use.rows
    if ok is not None and not ok.empty:
        ok = ok.assign(
            work=ok["throughput"].astype(float) * ok["time_median_s"].astype(float),
            noise=[
                timing.noisy(m, q)
                for m, q in zip(ok["time_median_s"], ok["time_iqr_s"], strict=True)
            ],
        )
        n_noisy = int(ok["noise"].sum())
        keys = ["family", "impl", "framework", "mode", "dtype", "dataset", "device_kind"]
        best = ok.sort_values("work").groupby(keys, sort=True).tail(1).sort_values(keys)
        table = Table(
            "case (family impl framework mode dtype dataset device)",
            "largest case: work",
            "median",
            "IQR / median",
            "throughput",
            box=None,
        )
        for r in best.itertuples(index=False):
            spread = (
                float(r.time_iqr_s) / float(r.time_median_s)
                if float(r.time_median_s) > 0
                else float("nan")
            )
            table.add_row(
                escape(" ".join(str(getattr(r, k)) for k in keys)),
                f"{r.work:.4g}",
                f"{r.time_median_s:.3g} s",
                ("" if np.isnan(spread) else f"{spread:.0%}")
                + (" [yellow]noisy[/]" if r.noise else ""),
                f"{r.throughput:.3g} {escape(str(r.throughput_unit))}",
            )
        wide.print(table)
        if n_noisy:
            console.print(
                f"[yellow]noisy[/]: {n_noisy} of {len(ok)} usable rows have IQR / "
                f"median above {timing.NOISY:.0%} (a busy machine; their ratios are "
                f"less certain, `spikebench compare` tests them from the raw samples)"
            )
        mine = own(ok)  # peers: the report's peers table
        for name, fam in families.FAMILIES.items():
            part = mine[mine["family"] == name]
            if part.empty:
                continue
            for title, frame in fam.summary(part):
                if frame is not None and len(frame):  # type: ignore[arg-type]
                    wide.print(_table(title, frame))
    for what, path in files:
        console.print(f"{what}: {escape(str(path))}", soft_wrap=True)


NOT_RUN_GROUPED = ("unavailable", "unsupported")


def _print_not_run(df, out: Console) -> None:
    """The reasons of rows that did not give a usable time: unavailable / unsupported rows
    grouped by reason (a missing GPU makes many rows), every failed / timeout / oom /
    incorrect row on its own line with its case."""
    from ..results import _is_true, row_label

    if df.empty:
        return
    status = df["status"].astype(str)
    for st in NOT_RUN_GROUPED:
        part = df[status == st]
        for reason, g in part.groupby(part["error"].fillna("(no reason given)"), sort=True):
            what = ", ".join(
                sorted(
                    {f"{r.family}/{r.framework}/{r.device_kind}" for r in g.itertuples(index=False)}
                )
            )
            out.print(
                f"[bold]{st}[/] ({len(g)} row{'s' if len(g) != 1 else ''}: "
                f"{escape(what)}): {escape(str(reason))}",
                soft_wrap=True,
            )
    correct = df["correct"].map(_is_true) if "correct" in df else False
    broken = df[~status.isin(["ok", *NOT_RUN_GROUPED]) | ((status == "ok") & ~correct)]
    for r in broken.to_dict("records"):
        why = (
            r.get("error")
            if r["status"] != "ok"
            else f"incorrect: max_err={r.get('max_err')}, mismatch_frac={r.get('mismatch_frac')}"
        )
        out.print(
            f"[red]{escape(str(r['status']))}[/] {escape(row_label(r))}: {escape(str(why))}",
            soft_wrap=True,
        )


def _table(title: str, frame) -> Table:
    """A DataFrame as a rich table (numbers to 4 significant digits, text escaped)."""
    import pandas as pd

    table = Table(*(escape(str(c)) for c in frame.columns), title=escape(title), box=None)
    for row in frame.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, float):
                cells.append("" if pd.isna(v) else f"{v:.4g}")
            else:
                cells.append(escape(str(v)))
        table.add_row(*cells)
    return table
