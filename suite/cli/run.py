"""`spikebench run`: a sweep of a profile's cases into a results CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import _choice, _multi, _out, _values, app, console
from .summary import print_summary


def default_profile() -> str:
    from ..hardware import devices as dev

    accel = [d for d in dev.discover() if d.kind in ("gpu", "tpu") and d.available]
    return "full" if accel else "quick"


def default_devices() -> list[str]:
    from ..hardware import devices as dev

    return [d.kind for d in dev.discover() if d.available]


@app.command()
def run(
    profile: Annotated[
        _choice("profile") | None,  # type: ignore[valid-type]  # choices built at run time
        typer.Option(
            help="quick (CPU default), full (accelerator default), gpu-smoke (the prepared GPU "
            "run), selftest",
            show_default=False,
        ),
    ] = None,
    family: _multi("family", "keep these families (repeatable)") = None,  # type: ignore[valid-type]
    impl: _multi("impl", "keep these implementations (repeatable)") = None,  # type: ignore[valid-type]
    framework: _multi("framework", "keep these frameworks (repeatable)") = None,  # type: ignore[valid-type]
    dtype: _multi("dtype", "keep these dtypes (repeatable)") = None,  # type: ignore[valid-type]
    filter_: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            metavar="KEY=V1,V2",
            help="keep only cases with these values of any case field, size or knob, e.g. "
            "mode=grad, n_events=1000,10000 or chunk=16 (the parallel simulator's K); "
            "repeatable; the same as pytest's --bench-filter",
        ),
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            help="run the cases that take event data on this dataset (see `spikebench "
            "datasets`); the others are left out"
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="folder with the dataset's files (the readers; see `spikebench datasets`)"
        ),
    ] = None,
    dataset_stats: Annotated[
        Path | None,
        typer.Option(
            help="statistics saved by `spikebench datasets stats FILE --save`: the --dataset "
            "stand-in follows them"
        ),
    ] = None,
    n_events: Annotated[list[float] | None, typer.Option(help="keep these sizes")] = None,
    device: Annotated[
        list[_choice("device")] | None,  # type: ignore[valid-type]
        typer.Option(
            help="device kinds to run on (default: every kind this machine has); absent kinds "
            "give `unavailable` rows"
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="results root (default: results/ in the folder you run from)"),
    ] = None,
    isolate: Annotated[bool, typer.Option(help="one worker process per case")] = True,
    report: Annotated[bool, typer.Option(help="render the report afterwards")] = True,
    report_dir: Annotated[Path, typer.Option()] = Path("reports"),
    dry_run: Annotated[bool, typer.Option(help="list the cases and stop")] = False,
    limits: Annotated[bool, typer.Option(help="apply the profile's size caps")] = True,
    shard: Annotated[
        str | None,
        typer.Option(
            help="run shard i/n of the sweep (e.g. 2/4: one job of a job array); combine the "
            "shards with `spikebench merge`"
        ),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(
            help="CPU threads per case (default: every core); fewer pins each worker to that "
            "many cores"
        ),
    ] = None,
):
    """Run a benchmark sweep and write results/<machine_id>/<utc>-<commit>.csv (+ .json)."""
    from .. import profiles
    from ..hardware import devices as dev
    from ..harness import runner

    profile = getattr(profile, "value", profile) if profile else default_profile()
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
        for key, vals in (
            ("family", family),
            ("impl", impl),
            ("framework", framework),
            ("dtype", dtype),
            ("n_events", n_events),
        ):
            if vals:
                filters.setdefault(key, []).extend(map(str, vals))
        cases, shard_info = profiles.select(
            profile,
            kinds,
            filters,
            limits=limits,
            dataset=dataset,
            data_dir=data_dir,
            stats_file=dataset_stats,
            shard_spec=shard,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if dry_run:
        for c in cases:
            console.print(c.label(), markup=False, highlight=False, soft_wrap=True)
        console.print(f"{len(cases)} case{'s' if len(cases) != 1 else ''}")
        return
    console.print(f"profile {profile!r}: {len(cases)} cases on {', '.join(kinds)}")
    session = None
    try:
        session = runner.run_sweep(
            cases, out_root=out, profile=profile, isolate=isolate, shard=shard_info, threads=threads
        )
    except KeyboardInterrupt:
        from ..harness import worker

        sig = worker.RECEIVED[0] if worker.RECEIVED else 2  # a Ctrl-C outside the sweep: SIGINT
        console.print("[yellow]interrupted: the rows measured so far are in the CSV[/]")
        raise typer.Exit(128 + sig) from None
    files = [("results CSV", session.csv_path), ("run context JSON", session.json_path)]
    if report:
        files.append(
            ("report", render_report([session.csv_path], report_dir / session.csv_path.stem))
        )
    print_summary(session.rows, files)


def render_report(paths, out_dir, all_runs: bool = False, site: bool = False):
    from ..report import site as rep

    files = rep.render(paths, out_dir, all_runs=all_runs, site=site)
    return next((f for f in files if f.name == "index.html"), out_dir)
