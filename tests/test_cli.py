"""The console script."""

from __future__ import annotations

from spikebench.cli import app
from typer.testing import CliRunner

runner = CliRunner()


def test_devices_lists_cpu_and_reasons():
    res = runner.invoke(app, ["devices"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "cpu" in res.output and "onnxrt" in res.output
    assert "lpu unavailable:" in res.output and "groq.runner.tsp" in res.output


def test_run_dry_run_lists_cases():
    res = runner.invoke(app, ["run", "--dry-run", "--profile", "quick", "--framework", "jax",
                              "--n-events", "100"])
    assert res.exit_code == 0, res.output
    assert "event_lif/serial/jax" in res.output and "4 cases" in res.output


def test_run_rejects_filters_that_match_nothing_and_unknown_devices():
    res = runner.invoke(app, ["run", "--framework", "tensorflow", "--dry-run"])
    assert res.exit_code == 2 and "no case" in res.output
    res = runner.invoke(app, ["run", "--device", "quantum", "--dry-run"])
    assert res.exit_code == 2 and "quantum" in res.output
    res = runner.invoke(app, ["run", "--profile", "huge", "--dry-run"])
    assert res.exit_code == 2 and "unknown profile" in res.output


def test_report_from_empty_folder(tmp_path):
    res = runner.invoke(app, ["report", str(tmp_path), "--out", str(tmp_path / "rep")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "rep" / "summary.md").exists()


def test_report_rejects_missing_path(tmp_path):
    res = runner.invoke(app, ["report", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "no such results" in res.output


def test_no_limits_lifts_the_profile_caps():
    args = ["run", "--dry-run", "--profile", "quick", "--framework", "torch", "--impl", "serial",
            "--n-events", "1e5", "--dtype", "float64", "--dataset", "poisson"]
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and "no case" in res.output
    res = runner.invoke(app, args + ["--no-limits"])
    assert res.exit_code == 0 and "1 cases" in res.output


def test_datasets_lists_and_measures_real_files(tmp_path):
    import json

    import numpy as np
    from spikebench.datasets import _hdf5

    rng = np.random.default_rng(0)
    samples = [(np.sort(rng.uniform(0, 1, k)), rng.integers(0, 700, k)) for k in (100, 300)]
    _hdf5.write(tmp_path / "shd_train.h5", samples, [3, 4])
    res = runner.invoke(app, ["datasets", "--data-dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "synthetic-shd" in res.output and "files: train" in res.output
    out = tmp_path / "stats.json"
    res = runner.invoke(app, ["datasets", "stats", str(tmp_path / "shd_train.h5"),
                              "--save", str(out)])
    assert res.exit_code == 0, res.output
    stats = json.loads(out.read_text())
    assert stats["n_samples"] == 2 and stats["events_mean"] == 200 and stats["events_max"] == 300
    res = runner.invoke(app, ["datasets", "stats", str(tmp_path / "missing.h5")])
    flat = "".join(ch for ch in res.output if not ch.isspace() and ch != "│")  # rich wraps
    assert res.exit_code == 2 and "missing.h5" in flat


def test_a_sweep_of_absent_kinds_only_writes_its_rows_and_a_summary(tmp_path):
    """Every row `unavailable` (no timing, no correctness column): the summary still prints."""
    res = runner.invoke(app, ["run", "--device", "lpu", "--device", "gpu", "--family",
                              "queues", "--impl", "lossy", "--out", str(tmp_path),
                              "--report-dir", str(tmp_path / "reports")],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "statuses: unavailable=" in res.output and "report:" in res.output
    from spikebench import results, validate

    (csv,) = tmp_path.rglob("*.csv")
    assert validate.validate(csv).ok
    assert set(results.read([csv])["status"]) == {"unavailable"}
