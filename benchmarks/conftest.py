"""Expands the sweep profile into one pytest item per case, and owns the results Session."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_generate_tests(metafunc):
    if "bench_case" not in metafunc.fixturenames:
        return
    config = metafunc.config
    if not config.getoption("--benchmark"):
        metafunc.parametrize("bench_case", [None], ids=["sweep"])
        return
    profile, cases, shard = config._spikebench_sweep  # spikebench.pytest_plugin
    config._spikebench_profile, config._spikebench_shard = profile, shard
    metafunc.parametrize("bench_case", cases, ids=[c.label() for c in cases])


@pytest.fixture(scope="session")
def bench_session(request):
    from spikebench.harness import runner

    config = request.config
    out = config.getoption("--bench-out")
    # like the CLI: results/ of the folder pytest was started from
    session = runner.Session(
        Path(out) if out else Path(config.invocation_params.dir) / "results",
        profile=getattr(config, "_spikebench_profile", "quick"),
        shard=getattr(config, "_spikebench_shard", None),
    )
    if runner.peaks_wanted():
        session.measure_peaks(c.device for c in getattr(config, "_spikebench_sweep", (0, ()))[1])
    config._spikebench_session = session
    yield session
    session.close()


def pytest_terminal_summary(terminalreporter, config):
    session = getattr(config, "_spikebench_session", None)
    if session is None:
        return
    from spikebench import cli

    session.close()
    tr = terminalreporter
    tr.section("spikebench")
    cli.print_summary(session.rows)
    tr.write_line(f"results CSV: {session.csv_path}")
    report_dir = config.getoption("--bench-report")
    # like the CLI: reports/ of the folder pytest was started from
    report_dir = (
        Path(report_dir)
        if report_dir
        else Path(config.invocation_params.dir) / "reports" / session.csv_path.stem
    )
    try:
        index = cli.render_report([session.csv_path], report_dir)
        tr.write_line(f"report: {index}")
    except Exception as exc:  # noqa: BLE001 - a report failure must not hide the results
        tr.write_line(f"report could not be rendered: {exc}")
