"""The `spikebench` console script: devices, run, report, validate, datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(help="Benchmarks for parallel spiking-neural-network algorithms.",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                  context_settings={"help_option_names": ["-h", "--help"]})
console = Console()


def _version(value: bool):
    if value:
        from .. import __version__

        console.print(f"spikebench {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="print the version and exit")] = False):
    """Benchmarks for parallel spiking-neural-network algorithms."""


def _choices(key: str) -> list[str]:
    from .. import profiles
    from ..hardware import devices as dev

    if key == "device":
        return list(dev.KINDS)
    if key == "profile":
        return list(profiles.PROFILES)
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
    return Annotated[list[_choice(key)] | None, typer.Option(help=text, show_default=False)]


@app.command()
def devices():
    """List device kinds: what is here, with which frameworks and runtimes (and their
    versions), and why the rest is not. Absent kinds give `unavailable` rows in a sweep."""
    from .. import registry
    from ..hardware import devices as dev

    registry.load()
    table = Table("kind", "available", "name", "count", "memory", "frameworks / runtimes")
    for d in dev.discover():
        mem = f"{d.memory_bytes / 2**30:.1f} GiB" if d.memory_bytes else ""
        vers = ", ".join(f"{k} {v}" for k, v in d.versions.items() if v) or \
            ", ".join(d.frameworks)
        table.add_row(d.kind, "yes" if d.available else "[bold]no[/bold]", escape(d.name),
                      str(d.count) if d.available else "", mem, escape(vers))
    console.print(table)
    for d in dev.discover():
        if not d.available:
            console.print(f"[bold]{d.kind}[/bold] unavailable: " +
                          "; ".join(escape(r) for r in d.reason.split("; ")))
    for fw, why in registry.UNAVAILABLE.items():
        console.print(f"[bold]framework {fw}[/bold] unavailable: {escape(why)}")


def default_profile() -> str:
    from ..hardware import devices as dev

    accel = [d for d in dev.discover() if d.kind in ("gpu", "tpu") and d.available]
    return "full" if accel else "quick"


def default_devices() -> list[str]:
    from ..hardware import devices as dev

    return [d.kind for d in dev.discover() if d.available]


@app.command()
def run(
    profile: Annotated[_choice("profile") | None, typer.Option(
        help="quick (CPU default), full (accelerator default), gpu-smoke (the prepared GPU "
             "run), selftest", show_default=False)] = None,
    family: _multi("family", "keep these families (repeatable)") = None,
    impl: _multi("impl", "keep these implementations (repeatable)") = None,
    framework: _multi("framework", "keep these frameworks (repeatable)") = None,
    dtype: _multi("dtype", "keep these dtypes (repeatable)") = None,
    filter_: Annotated[list[str] | None, typer.Option(
        "--filter", metavar="KEY=V1,V2",
        help="keep only cases with these values of any case field, size or knob, e.g. "
             "mode=grad, n_events=1000,10000 or chunk=16 (the parallel simulator's K); "
             "repeatable; the same as pytest's --bench-filter")] = None,
    dataset: Annotated[str | None, typer.Option(
        help="run the cases that take event data on this dataset (see `spikebench "
             "datasets`); the others are left out")] = None,
    data_dir: Annotated[Path | None, typer.Option(
        help="folder with the dataset's files (the readers; see `spikebench datasets`)")] = None,
    dataset_stats: Annotated[Path | None, typer.Option(
        help="statistics saved by `spikebench datasets stats FILE --save`: the --dataset "
             "stand-in follows them")] = None,
    n_events: Annotated[list[float] | None, typer.Option(help="keep these sizes")] = None,
    device: Annotated[list[_choice("device")] | None, typer.Option(
        help="device kinds to run on (default: every kind this machine has); absent kinds "
             "give `unavailable` rows")] = None,
    out: Annotated[Path | None, typer.Option(
        help="results root (default: results/ in the folder you run from)")] = None,
    isolate: Annotated[bool, typer.Option(help="one worker process per case")] = True,
    report: Annotated[bool, typer.Option(help="render the report afterwards")] = True,
    report_dir: Annotated[Path, typer.Option()] = Path("reports"),
    dry_run: Annotated[bool, typer.Option(help="list the cases and stop")] = False,
    limits: Annotated[bool, typer.Option(help="apply the profile's size caps")] = True,
    shard: Annotated[str | None, typer.Option(
        help="run shard i/n of the sweep (e.g. 2/4: one job of a job array); combine the "
             "shards with `spikebench merge`")] = None,
    threads: Annotated[int | None, typer.Option(
        help="CPU threads per case (default: every core); fewer pins each worker to that "
             "many cores")] = None,
):
    """Run a benchmark sweep and write results/<machine_id>/<utc>-<commit>.csv (+ .json)."""
    from .. import profiles
    from ..hardware import devices as dev
    from ..harness import runner

    profile = _values([profile])[0] if profile else default_profile()
    kinds = _values(device) or default_devices()
    family, impl, framework, dtype = map(_values, (family, impl, framework, dtype))
    import os

    from ..harness.runner import results_root

    _out(out or results_root(), "--out")
    if report and not dry_run:
        _out(report_dir, "--report-dir")
    if threads is not None and not 1 <= threads <= (os.cpu_count() or 1):
        raise typer.BadParameter(f"--threads {threads}: expected 1..{os.cpu_count()}")
    if threads is not None and not isolate:
        raise typer.BadParameter("--threads needs worker processes (drop --no-isolate)")
    for k in kinds:
        if k not in dev.KINDS:
            raise typer.BadParameter(f"unknown device kind {k!r}; known: {dev.KINDS}")
    try:
        filters = profiles.parse_filters(filter_)
        for key, vals in (("family", family), ("impl", impl), ("framework", framework),
                          ("dtype", dtype), ("n_events", n_events)):
            if vals:
                filters.setdefault(key, []).extend(vals)
        cases = profiles.profile_cases(profile, kinds, limits, **filters)
        if dataset is not None:
            cases = profiles.with_dataset(cases, dataset, data_dir, dataset_stats)
        elif data_dir is not None or dataset_stats is not None:
            raise ValueError("--data-dir and --dataset-stats need --dataset")
        shard_info = None
        if shard is not None:
            cases, shard_info = profiles.shard(cases, shard)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if not cases:
        raise typer.BadParameter("the filters (and shard) leave no case to run: each value "
                                 "exists in the profile, but no case has them all")
    if dry_run:
        for c in cases:
            console.print(c.label(), markup=False, highlight=False, soft_wrap=True)
        console.print(f"{len(cases)} case{'s' if len(cases) != 1 else ''}")
        return
    console.print(f"profile {profile!r}: {len(cases)} cases on {', '.join(kinds)}")
    session = None
    try:
        session = runner.run_sweep(cases, out_root=out, profile=profile, isolate=isolate,
                                   shard=shard_info, threads=threads)
    except KeyboardInterrupt:
        from ..harness import worker

        sig = worker.RECEIVED[0] if worker.RECEIVED else 2  # a Ctrl-C outside the sweep: SIGINT
        console.print("[yellow]interrupted: the rows measured so far are in the CSV[/]")
        raise typer.Exit(128 + sig) from None
    files = [("results CSV", session.csv_path), ("run context JSON", session.json_path)]
    if report:
        files.append(("report", _render([session.csv_path],
                                        report_dir / session.csv_path.stem)))
    print_summary(session.rows, files)


def _render(paths, out_dir):
    from ..report import site as rep

    files = rep.render(paths, out_dir)
    return next((f for f in files if f.name == "index.html"), out_dir)


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
    console.print("statuses: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
                  + (f"; [red]{len(bad)} ok rows are INCORRECT[/]" if bad else ""))
    wide = Console(width=max(console.width, 110))
    df = pd.DataFrame(rows, columns=results.COLUMNS)
    _print_not_run(df, wide)
    use = results.usable(df)
    ok = use.rows
    if ok is not None and not ok.empty:
        ok = ok.assign(work=ok["throughput"].astype(float) * ok["time_median_s"].astype(float),
                       noise=[timing.noisy(m, q) for m, q in
                              zip(ok["time_median_s"], ok["time_iqr_s"], strict=True)])
        n_noisy = int(ok["noise"].sum())
        keys = ["family", "impl", "framework", "mode", "dtype", "dataset", "device_kind"]
        best = ok.sort_values("work").groupby(keys, sort=True).tail(1).sort_values(keys)
        table = Table("case (family impl framework mode dtype dataset device)",
                      "largest case: work", "median", "IQR / median", "throughput", box=None)
        for r in best.itertuples(index=False):
            spread = float(r.time_iqr_s) / float(r.time_median_s) \
                if float(r.time_median_s) > 0 else float("nan")
            table.add_row(escape(" ".join(str(getattr(r, k)) for k in keys)), f"{r.work:.4g}",
                          f"{r.time_median_s:.3g} s",
                          ("" if np.isnan(spread) else f"{spread:.0%}")
                          + (" [yellow]noisy[/]" if r.noise else ""),
                          f"{r.throughput:.3g} {escape(str(r.throughput_unit))}")
        wide.print(table)
        if n_noisy:
            console.print(f"[yellow]noisy[/]: {n_noisy} of {len(ok)} usable rows have IQR / "
                          f"median above {timing.NOISY:.0%} (a busy machine; their ratios are "
                          f"less certain, `spikebench compare` tests them from the raw samples)")
        for name, fam in families.FAMILIES.items():
            part = ok[ok["family"] == name]
            if part.empty:
                continue
            for title, frame in fam.summary(part):
                if frame is not None and len(frame):
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
            what = ", ".join(sorted({f"{r.family}/{r.framework}/{r.device_kind}"
                                     for r in g.itertuples(index=False)}))
            out.print(f"[bold]{st}[/] ({len(g)} row{'s' if len(g) != 1 else ''}: "
                      f"{escape(what)}): {escape(str(reason))}", soft_wrap=True)
    correct = df["correct"].map(_is_true) if "correct" in df else False
    broken = df[~status.isin(["ok", *NOT_RUN_GROUPED]) | ((status == "ok") & ~correct)]
    for r in broken.to_dict("records"):
        why = r.get("error") if r["status"] != "ok" else \
            f"incorrect: max_err={r.get('max_err')}, mismatch_frac={r.get('mismatch_frac')}"
        out.print(f"[red]{escape(str(r['status']))}[/] {escape(row_label(r))}: "
                  f"{escape(str(why))}", soft_wrap=True)


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


@app.command()
def report(
    paths: Annotated[list[Path] | None, typer.Argument(help="CSV files or folders "
                                                            "(default: results/)")] = None,
    out: Annotated[Path, typer.Option(help="output folder")] = Path("reports/latest"),
):
    """Render plots (PNG + SVG), Markdown tables and an HTML page from result CSVs."""
    from ..harness.runner import results_root

    _out(out, "--out")
    try:
        index = _render(paths or [results_root()], out)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    console.print(f"report: {index}")


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="result CSVs (each with its .json)")],
    strict: Annotated[bool, typer.Option(help="rows marked incorrect fail the file too")] =
    False,
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
        console.print(f"{escape(str(f))}: {verdict} ({rep.n_rows} rows, {len(rep.errors)} "
                      f"errors, {len(rep.warnings)} warnings)", soft_wrap=True)
        failed += not rep.ok
    raise typer.Exit(1 if failed else 0)


@app.command()
def submit(
    file: Annotated[Path, typer.Argument(help="a result CSV (with its .json beside it)")],
    results_dir: Annotated[Path | None, typer.Option(
        "--results", help="results root (default: results/ in the folder you run from, e.g. "
                          "your clone of the repository)")] = None,
    keep_hostname: Annotated[bool, typer.Option(
        help="keep this machine's hostname where it appears (default: replaced by a hash)")]
    = False,
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
    partial: Annotated[bool, typer.Option(help="merge even if some shards are missing")] =
    False,
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
    console.print(f"merged {len(shards)} of {sweep['count']} shards of sweep "
                  f"{sweep['sweep_id']} ({sweep['n_cases']} cases{missing}) into "
                  f"{escape(str(path))}", soft_wrap=True)


def _runs_index(root: Path):
    """(csv, commit, run ids) of every results CSV under `root`."""
    from .. import results

    out = []
    for f in sorted(Path(root).rglob("*.csv")) if Path(root).is_dir() else []:
        try:
            df = results.read([f])
        except ValueError:
            continue
        out.append((f, sorted(set(map(str, df["git_commit"].dropna()))),
                    sorted(set(map(str, df["run_id"].dropna())))))
    return out


def _resolve_run(arg: str, root: Path) -> list[Path]:
    """A results CSV, or a run id or commit (a prefix of either) among the CSVs under
    `root`: the matching CSVs; BadParameter listing the runs when nothing matches."""
    p = Path(arg)
    if p.is_file():
        return [p]
    index = _runs_index(root)
    hits = [f for f, commits, runs in index
            if any(c.startswith(arg) for c in commits) or any(r.startswith(arg) for r in runs)]
    if not hits:
        listing = "; ".join(f"{f.name} (run {', '.join(r)})" for f, _, r in index[-12:])
        raise typer.BadParameter(f"{arg!r} is no results CSV, run id or commit under {root}; "
                                 f"the runs there: {listing or 'none'}")
    return hits


@app.command()
def compare(
    paths: Annotated[list[str] | None, typer.Argument(
        help="two runs A B (CSVs, run ids or commits: a before/after comparison on one "
             "machine), or CSV files and folders to compare places (default: results/)")]
    = None,
    baseline: Annotated[str | None, typer.Option(
        help="places: the baseline place, a prefix of '<machine_id> <device kind> <name>'")]
    = None,
    factor: Annotated[float, typer.Option(help="smallest ratio called faster/slower")] = 1.1,
    alpha: Annotated[float, typer.Option(help="significance level of the Mann-Whitney "
                                              "test")] = 0.01,
    fail_on_regression: Annotated[float | None, typer.Option(
        metavar="FACTOR",
        help="exit 1 when a case got significantly slower by more than FACTOR (e.g. 1.2), "
             "for CI like `asv continuous` and --benchmark-compare-fail")] = None,
    places: Annotated[bool, typer.Option(
        "--places", help="compare places even when two runs are given (so does --baseline)")]
    = False,
    markdown: Annotated[Path | None, typer.Option(help="also write the table here "
                                                       "(Markdown; never overwritten unless "
                                                       "--force)")] = None,
    force: Annotated[bool, typer.Option(help="let --markdown overwrite its file")] = False,
    across_versions: Annotated[bool, typer.Option(
        help="places: compare rows even where kernel_version or inputs_version differ (the "
             "versions column says so; a before/after comparison always does)")] = False,
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
    two_runs = (len(paths) == 2 and not places and baseline is None
                and not any(Path(p).is_dir() for p in paths))
    try:
        if two_runs:
            before, after = (results.read(_resolve_run(p, root)) for p in paths)
            table = cmp.before_after(before, after, factor, alpha)
        else:
            for p in paths:
                if not Path(p).exists():
                    raise typer.BadParameter(f"no such results file or folder: {p}")
            table = cmp.compare(results.read(paths), baseline, factor, alpha,
                                across_versions=across_versions)
        if fail_on_regression is not None:
            slow = cmp.regressions(table, fail_on_regression)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if table.empty:
        console.print("nothing to compare: " + (
            "the two runs share no case measured in the same place (machine, device, "
            "threads); --places compares places" if two_runs else
            "no case was measured in two places"))
        raise typer.Exit(0)
    head = ("case", "before", "after", "ratio", "p", "verdict", "versions") if two_runs \
        else ("case", "baseline", "place", "ratio", "p", "verdict", "versions")
    out = Table(*head, box=None)
    for r in table.itertuples(index=False):
        first = (f"{r.median_baseline_s:.3g} s", f"{r.median_place_s:.3g} s") if two_runs \
            else (escape(r.baseline), escape(r.place))
        out.add_row(escape(r.case), *first,
                    "" if np.isnan(r.ratio) else f"{r.ratio:.3g}x",
                    "" if np.isnan(r.p_value) else f"{r.p_value:.2g}", escape(r.verdict),
                    escape(r.versions))
    Console(width=max(console.width, 160)).print(out)
    counts = table["verdict"].value_counts().to_dict()
    what = (f"before: {table['baseline'].iloc[0]}; after: "
            f"{table['place'].iloc[0].split(' on ')[0]}; " if two_runs else "")
    console.print(f"{len(table)} comparisons ({escape(what)}ratio = baseline median / "
                  f"{'after' if two_runs else 'place'} median): {escape(str(counts))}",
                  soft_wrap=True)
    if markdown is not None:
        markdown.write_text(rep._md(table))
        console.print(f"markdown: {escape(str(markdown))}")
    if fail_on_regression is not None:
        if len(slow):
            for r in slow.itertuples(index=False):
                console.print(f"[red]regression[/]: {escape(r.case)} {1 / r.ratio:.3g}x "
                              f"slower (p={r.p_value:.2g}) in {escape(r.place)}",
                              soft_wrap=True)
            console.print(f"[red]{len(slow)} case(s) significantly slower than "
                          f"{fail_on_regression:g}x[/]")
            raise typer.Exit(1)
        console.print(f"no case significantly slower than {fail_on_regression:g}x")


TRAIN_TASKS = ("digits", "yinyang", "delays")


@app.command()
def train(
    task: Annotated[str, typer.Option(
        help="digits: the PSU family on scikit-learn's 8x8 digits; yinyang: the exact LIF "
             "network, serial and parallel; delays: the queue network with learned delays "
             "on the timing classes")] = "digits",
    kind: Annotated[list[str] | None, typer.Option(
        "--impl", "--kind",
        help="what to train: digits: lif, psu, ipsu, rpsu; yinyang: serial, parallel; "
             "delays: queue capacities (default: all)")] = None,
    framework: Annotated[list[str] | None, typer.Option(
        help="jax, torch (default: both)")] = None,
    epochs: Annotated[int | None, typer.Option(
        help="training epochs (default: digits 10, yinyang 20, delays 6)")] = None,
    batch: Annotated[int | None, typer.Option(
        help="samples a step (default: digits 64, yinyang 50, delays 32)")] = None,
    lr: Annotated[float | None, typer.Option(
        help="Adam's learning rate (default: the task's)")] = None,
    target: Annotated[float, typer.Option(help="test accuracy to reach, in (0, 1]")] = 0.85,
    seed: Annotated[int, typer.Option(help="initial weights, batch order and split")] = 0,
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="write every run (settings, time to target, raw curve) as JSON here")
    ] = None,
):
    """Train to a target test accuracy: time to target, final accuracy and firing rate per
    implementation and framework (README "Training to accuracy")."""
    import json

    from .. import training
    from ..families.event_lif import training as training_yinyang
    from ..families.queues import training as training_delays

    _out(json_out, "--json", "file")
    if task not in TRAIN_TASKS:
        raise typer.BadParameter(f"{task} not in {', '.join(TRAIN_TASKS)}", param_hint="--task")
    known = {"digits": training.PSU_KINDS, "yinyang": training_yinyang.IMPLS,
             "delays": tuple(map(str, training_delays.CAPACITIES))}[task]
    defaults = {"digits": (10, 64, 5e-3), "yinyang": (20, 50, training_yinyang.LR),
                "delays": (6, 32, training_delays.LR)}[task]
    kinds = kind or list(known)
    fws = framework or list(training.FRAMEWORKS)
    for name, got, allowed in (("--impl", kinds, known),
                               ("--framework", fws, training.FRAMEWORKS)):
        bad = sorted(set(got) - set(allowed))
        if bad:
            raise typer.BadParameter(f"{', '.join(bad)} not in {', '.join(allowed)}",
                                     param_hint=name)
    try:
        config = training.TrainConfig(
            epochs=defaults[0] if epochs is None else epochs,
            batch=defaults[1] if batch is None else batch,
            lr=defaults[2] if lr is None else lr, target=target, seed=seed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if task == "digits":
        data = training.digits_inputs(training.T_STEPS, seed)
        run = lambda k, fw: training.train_psu_digits(k, fw, config, data=data)  # noqa: E731
    elif task == "yinyang":
        data = training_yinyang.yinyang_inputs(seed)
        run = lambda k, fw: training_yinyang.train_yinyang(k, fw, config, data=data)  # noqa: E731
    else:
        data = training_delays.delay_inputs(seed)
        run = lambda k, fw: training_delays.train_delays(int(k), fw, config,  # noqa: E731
                                                         data=data)
    cols = ["impl", "framework", "epochs to target", "time to target", "final accuracy",
            "firing rate", *(["drop rate"] if task == "delays" else []), "time / epoch",
            "compile"]
    table = Table(*cols, box=None)
    runs = []
    for k in kinds:
        for fw in fws:
            console.print(f"training {escape(task)}/{escape(k)} in {fw} ...")
            r = run(k, fw)
            runs.append(r.to_dict())
            per_epoch = r.curve[-1]["time_s"] / len(r.curve)
            table.add_row(k, fw, "-" if r.epochs_to_target is None else str(r.epochs_to_target),
                          "-" if r.time_to_target_s is None else f"{r.time_to_target_s:.2f} s",
                          f"{r.final_accuracy:.3f}", f"{r.firing_rate:.3f}",
                          *([f"{r.curve[-1]['drop_rate']:.3f}"] if task == "delays" else []),
                          f"{per_epoch:.3f} s", f"{r.compile_s:.2f} s")
            if r.reason:
                console.print(f"  {escape(r.reason)}")
    Console(width=max(console.width, 120)).print(table)
    if json_out is not None:
        json_out.write_text(json.dumps(runs, indent=1, default=str))
        console.print(f"saved: {json_out}")


datasets_app = typer.Typer(help="Event datasets: what this machine can load, and the "
                                "statistics of real files.", invoke_without_command=True)
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
        table.add_row(r["name"], r["kind"], str(r["n_channels"]), str(r["n_classes"]),
                      escape(r["status"]), escape(r["description"]))
    Console(width=max(console.width, 120)).print(table)


@datasets_app.command("stats")
def datasets_stats(
    path: Annotated[Path, typer.Argument(help="an SHD/SSC .h5 file, or a folder with the "
                                              "MNIST IDX files")],
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


if __name__ == "__main__":
    app()
