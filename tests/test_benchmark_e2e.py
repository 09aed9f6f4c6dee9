"""`pytest --benchmark` end to end, in a subprocess, on a small slice of the quick profile."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from spikebench import results

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    env = {**os.environ, "SPIKEBENCH_MACHINE_ID": "e2e"}
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "--benchmark",
        "-p",
        "no:cacheprovider",
        "-q",
        "--bench-out",
        str(tmp / "results"),
        "--bench-report",
        str(tmp / "report"),
        "--bench-filter",
        "n_events=100",
        "--bench-filter",
        "dtype=float64",
        "--bench-filter",
        "dataset=poisson",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    return proc, tmp


def test_benchmark_run_passes_and_reports(bench_run):
    proc, tmp = bench_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "results CSV:" in proc.stdout and "report:" in proc.stdout
    assert (tmp / "report" / "event_lif.png").stat().st_size > 10_000
    assert (tmp / "report" / "index.html").exists()


def test_benchmark_csv_schema_and_correctness(bench_run):
    _, tmp = bench_run
    csvs = list((tmp / "results" / "e2e").glob("*.csv"))
    assert len(csvs) == 1 and csvs[0].with_suffix(".json").exists()
    raw = pd.read_csv(csvs[0])
    assert list(raw.columns) == results.COLUMNS
    ok = raw[raw["status"] == "ok"]
    # serial + bare_scan, jax + torch, and the NEST anchor's serial row (unavailable without
    # the anchors extra)
    assert len(ok[ok["framework"].isin(["jax", "torch"])]) == 4
    nest = raw[raw["framework"] == "nest"]
    assert len(nest) == 1 and nest["status"].iloc[0] in ("ok", "unavailable")
    assert ok["correct"].all() and ok["max_err"].notna().all()
    assert (ok["compile_s"] >= 0).all() and (ok["rounds"] >= 3).all()
    assert set(ok["impl"]) == {"serial", "bare_scan"}


def test_plain_pytest_skips_benchmarks_and_keeps_pytest_benchmark_flags():
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "--benchmark-disable",
        "benchmarks",
        "-rs",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "1 skipped" in proc.stdout and "pytest --benchmark" in proc.stdout


def test_the_sweep_refuses_parallel_workers():
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "--benchmark",
        "-n",
        "2",
        "-p",
        "no:cacheprovider",
        "--bench-filter",
        "n_events=100",
        "--collect-only",
        "-q",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "one process" in proc.stdout + proc.stderr


def test_the_sweeps_csv_validates(bench_run):
    from spikebench.submission import validate

    _, tmp = bench_run
    (csv,) = (tmp / "results" / "e2e").glob("*.csv")
    rep = validate.validate(csv)
    assert rep.ok and rep.warnings == [], rep.errors[:3]


def test_the_sweep_takes_a_shard():
    from spikebench import profiles

    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "--benchmark",
        "-p",
        "no:cacheprovider",
        "--bench-filter",
        "n_events=100",
        "--bench-filter",
        "dataset=poisson",
        "--bench-shard",
        "2/3",
        "--collect-only",
        "-q",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    cases = profiles.profile_cases("quick", ["cpu"], n_events=["100"], dataset=["poisson"])
    part, _ = profiles.shard(cases, "2/3")
    assert f"{len(part)} tests collected" in proc.stdout, proc.stdout[-500:]
    assert all(c.label() in proc.stdout for c in part)
    bad = subprocess.run(
        cmd[:-4] + ["--bench-shard", "4/3", "--collect-only"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode != 0 and "1 <= i <= n" in bad.stdout + bad.stderr
