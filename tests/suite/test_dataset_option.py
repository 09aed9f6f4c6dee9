"""--dataset / --data-dir: the cases that take event data move onto the chosen dataset (CLI
and pytest --benchmark), rows carry it, and the JSON records its measured statistics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from spikebench import datasets, families, profiles
from spikebench.datasets import _hdf5
from spikebench.harness import runner

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def shd_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("shd")
    ev = datasets.synthetic_shd(12, seed=4)
    samples = [(ev.times[b, :c], ev.channels[b, :c]) for b, c in enumerate(ev.counts)]
    _hdf5.write(d / "shd_train.h5", samples, ev.labels)
    _hdf5.write(d / "shd_test.h5", samples[:3], ev.labels[:3])
    return d


def test_with_dataset_moves_event_cases_and_leaves_the_rest_out(shd_dir):
    cases = profiles.profile_cases("quick", ["cpu"])
    moved = profiles.with_dataset(cases, "shd", shd_dir)
    assert moved and {c.dataset for c in moved} == {"shd"}
    assert {c.family for c in moved} == {"event_lif", "psu", "queues"}
    # the queues' network moves (its input current comes from the data); their traffic stays
    assert all("n_neurons" in c.size for c in moved if c.family == "queues")
    assert all(c.size["n_inputs"] == 700 for c in moved if c.family != "queues")
    assert all(c.data_dir == str(shd_dir) for c in moved)
    assert len(moved) == len(set(moved))
    # a 784-channel dataset changes the input width; poisson keeps the profile's
    yy = profiles.with_dataset(cases, "yinyang")
    assert {c.size["n_inputs"] for c in yy if c.family != "queues"} == {5}
    with pytest.raises(ValueError, match="give --data-dir"):
        profiles.with_dataset(cases, "shd")
    with pytest.raises(ValueError, match=r"shd_train\.h5, shd_test\.h5"):
        profiles.with_dataset(cases, "shd", shd_dir / "nothing-here")
    with pytest.raises(ValueError, match="unknown dataset"):
        profiles.with_dataset(cases, "imagenet")


def test_rows_run_on_the_real_file_and_record_its_statistics(shd_dir, tmp_path):
    cases = profiles.profile_cases(
        "quick",
        ["cpu"],
        family=["event_lif"],
        impl=["serial"],
        framework=["jax"],
        dtype=["float64"],
        n_events=[1000],
    )
    cases = profiles.with_dataset(cases, "shd", shd_dir)[:1]
    with runner.Session(
        tmp_path, isolate=False, timing={"min_rounds": 1, "max_rounds": 1, "warmup": 0}
    ) as s:
        row = s.run(cases[0])
    assert row["status"] == "ok" and row["correct"] is True and row["dataset"] == "shd"
    ctx = json.loads(s.json_path.read_text())
    stats = [v["dataset_stats"] for v in ctx["inputs"].values()]
    assert stats[0]["dataset"] == "shd" and stats[0]["events_mean"] == 1000


def test_pytest_benchmark_takes_dataset_and_data_dir(shd_dir, tmp_path):
    env = {**os.environ, "SPIKEBENCH_MACHINE_ID": "e2e"}
    base = [
        sys.executable,
        "-m",
        "pytest",
        "--benchmark",
        "-p",
        "no:cacheprovider",
        "-q",
        "--bench-out",
        str(tmp_path / "results"),
        "--bench-report",
        str(tmp_path / "rep"),
        "--bench-filter",
        "n_events=100",
        "--bench-filter",
        "framework=jax",
        "--bench-filter",
        "impl=serial",
        "--bench-filter",
        "dtype=float64",
    ]
    # the data dir exists: pytest must not take it for a test path
    cmd = base + ["--dataset", "shd", "--data-dir", str(shd_dir)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    csv = next((tmp_path / "results" / "e2e").glob("*.csv"))
    import pandas as pd

    df = pd.read_csv(csv)
    assert set(df["dataset"]) == {"shd"} and df["correct"].all() and len(df) >= 1
    bad = subprocess.run(
        base + ["--dataset", "shd"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert bad.returncode != 0 and "data-dir" in bad.stdout + bad.stderr


def test_generated_rows_are_identical_to_the_generator(tmp_path):
    # the default run is unchanged: synthetic-shd rows stream from the generator itself
    ev = datasets.stream("synthetic-shd", 2, 3000, n_channels=700, seed=0)
    ref = datasets.synthetic_shd(2, n_events=3000, n_channels=700, seed=0)
    np.testing.assert_array_equal(ev.times, ref.times)
    np.testing.assert_array_equal(ev.channels, ref.channels)


def test_a_stand_in_follows_saved_statistics_under_its_own_label(shd_dir, tmp_path):
    from spikebench.cli import app
    from typer.testing import CliRunner

    stats_file = tmp_path / "shd-stats.json"
    res = CliRunner().invoke(
        app, ["datasets", "stats", str(shd_dir / "shd_train.h5"), "--save", str(stats_file)]
    )
    assert res.exit_code == 0, res.output
    cases = profiles.profile_cases(
        "quick", ["cpu"], family=["psu"], framework=["jax"], impl=["psu"], mode=["forward"]
    )
    moved = profiles.with_dataset(cases, "synthetic-shd", stats_file=stats_file)
    label = datasets.stats_label("synthetic-shd", stats_file)
    assert {c.dataset for c in moved} == {label} and label.startswith("synthetic-shd@")
    with runner.Session(
        tmp_path / "r", isolate=False, timing={"min_rounds": 1, "max_rounds": 1, "warmup": 0}
    ) as s:
        row = s.run(moved[0])
    assert row["status"] == "ok" and row["correct"] is True and row["dataset"] == label
    measured = datasets.read_stats(stats_file)
    ev = datasets.stream(label, 32, None, n_channels=700, stats_file=stats_file)
    assert np.median(ev.counts) == pytest.approx(np.exp(measured["events_log_mean"]), rel=0.25)
    with pytest.raises(ValueError, match="needs the statistics file"):
        datasets.stream(label, 1, None)
    with pytest.raises(ValueError, match="does not follow measured statistics"):
        profiles.with_dataset(cases, "poisson", stats_file=stats_file)
    (tmp_path / "bad.json").write_text('{"events_mean": 3}')
    with pytest.raises(ValueError, match=r"bad\.json: statistics file lacks events_log_mean"):
        profiles.with_dataset(cases, "synthetic-shd", stats_file=tmp_path / "bad.json")


@pytest.mark.parametrize("name", sorted(datasets.DATASETS))
def test_every_generator_feeds_both_frameworks_identical_inputs(name):
    from spikebench.hardware import frameworks

    fam = families.get("event_lif")
    case = next(
        c
        for c in profiles.profile_cases(
            "quick",
            ["cpu"],
            family=["event_lif"],
            impl=["serial"],
            framework=["jax"],
            dtype=["float32"],
            n_events=[100],
        )
    )
    case = profiles.with_dataset([case], name)[0]
    a, b = fam.make_inputs(case), fam.make_inputs(case)  # deterministic across runs
    for key in ("times", "channels", "weights"):
        np.testing.assert_array_equal(a[key], b[key])
    assert a["stats"]["dataset"] == name and a["times"].shape[1] == 100
    families.load_kernels()
    for dtype in ("float32", "float64"):
        got = {}
        for fw_name in ("jax", "torch"):
            fw = frameworks.adapter(fw_name)
            c = case.__class__(**{**case.__dict__, "framework": fw_name, "dtype": dtype})
            args, _, _ = fam.prepare(c, a, fw, fw.device("cpu"))
            got[fw_name] = [fw.to_numpy(x) for x in args]
        for x, y in zip(got["jax"], got["torch"], strict=True):
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(got["jax"][0], a["times"].astype(dtype))


def test_a_data_dir_taken_for_pytests_rootdir_stays_untouched(tmp_path):
    """`--data-dir DIR` (two words) makes pytest derive its rootdir from DIR
    (pytest-dev/pytest#8846): here the common parent of DIR and the working directory. Even
    after a failing test, pytest's cache must not land next to the user's data."""
    data, work = tmp_path / "data", tmp_path / "work"
    data.mkdir()
    work.mkdir()
    (data / "shd_train.h5").write_bytes(b"stand-in")
    (work / "test_fails.py").write_text("def test_fails():\n    assert False\n")
    run = [sys.executable, "-m", "pytest"]
    proc = subprocess.run(
        run + ["--data-dir", str(data)], cwd=work, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 1 and "1 failed" in proc.stdout, proc.stdout + proc.stderr
    assert f"rootdir: {tmp_path}\n" in proc.stdout  # pytest's limitation, still there
    assert "its cache is off" in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "work"]
    assert sorted(p.name for p in data.iterdir()) == ["shd_train.h5"]
    # without the data dir (or with --data-dir=DIR) pytest keeps its cache as usual
    proc = subprocess.run(
        run + [f"--data-dir={data}"], cwd=work, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 1 and "its cache is off" not in proc.stdout
    assert f"rootdir: {work}\n" in proc.stdout and (work / ".pytest_cache").is_dir()
    assert sorted(p.name for p in data.iterdir()) == ["shd_train.h5"]
