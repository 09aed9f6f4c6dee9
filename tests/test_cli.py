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
    res = runner.invoke(
        app, ["run", "--dry-run", "--profile", "quick", "--framework", "jax", "--n-events", "100"]
    )
    assert res.exit_code == 0, res.output
    assert "event_lif/serial/jax" in res.output and "4 cases" in res.output


def test_run_rejects_filters_that_match_nothing_and_unknown_devices():
    res = runner.invoke(app, ["run", "--framework", "tensorflow", "--dry-run"])
    assert res.exit_code == 2 and "'tensorflow' is not one of 'adseq', 'jax'" in res.output
    res = runner.invoke(app, ["run", "--device", "quantum", "--dry-run"])
    assert res.exit_code == 2 and "'quantum' is not one of 'cpu', 'gpu'" in res.output
    res = runner.invoke(app, ["run", "--profile", "huge", "--dry-run"])
    assert res.exit_code == 2 and "'huge' is not one of 'quick', 'full'" in res.output
    res = runner.invoke(app, ["run", "--family", "psu", "--impl", "serial", "--dry-run"])
    assert res.exit_code == 2 and "no case" in res.output


def test_bad_values_are_one_line_usage_errors_listing_the_choices():
    for args, want in (
        (["--filter", "foo=bar"], "unknown filter 'foo'; choose from: T, ad,"),
        (
            ["--filter", "chunk=17"],
            "chunk '17' not in profile 'quick'; choose from: 1, 16, 64, 128, 1024",
        ),
        (["--filter", "nonsense"], "expected KEY=V1,V2"),
    ):
        res = runner.invoke(app, ["run", "--dry-run", "--profile", "quick", *args])
        assert res.exit_code == 2, res.output
        (line,) = [x for x in res.output.splitlines() if x.startswith("Error:")]
        assert want in line and "Traceback" not in res.output


def test_help_lists_the_choices_and_version():
    res = runner.invoke(app, ["run", "-h"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    for choice in (
        "event_lif|psu|queues",
        "float32|float64",
        "cpu|gpu|tpu|lpu|onnxrt",
        "quick|full|gpu-smoke|selftest",
        "torch-compile",
        "KEY=V1,V2",
    ):
        assert choice in res.output, choice
    from spikebench import __version__

    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"spikebench {__version__}"


def test_dry_run_shows_sizes_and_knobs_of_every_case():
    res = runner.invoke(
        app,
        [
            "run",
            "--dry-run",
            "--profile",
            "quick",
            "--family",
            "event_lif",
            "--filter",
            "dataset=synthetic-shd",
            "--filter",
            "mode=forward",
            "--impl",
            "parallel",
        ],
        env={"COLUMNS": "300"},
    )
    assert res.exit_code == 0, res.output
    lines = [x for x in res.output.splitlines() if x.startswith("event_lif/")]
    assert len(lines) == len(set(lines)) > 1  # no two cases print alike
    assert any(
        "[batch=2," in x and "n_events=2000" in x and ";chunk=16" in x for x in lines
    )  # not eaten as markup
    res2 = runner.invoke(
        app,
        ["run", "--dry-run", "--profile", "quick", "--family", "event_lif", "--filter", "chunk=16"],
        env={"COLUMNS": "300"},
    )
    assert res2.exit_code == 0 and all(
        "chunk=16" in x for x in res2.output.splitlines() if x.startswith("event_lif/")
    )


def test_report_from_empty_folder(tmp_path):
    res = runner.invoke(app, ["report", str(tmp_path), "--out", str(tmp_path / "rep")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "rep" / "summary.md").exists()


def test_report_rejects_missing_path(tmp_path):
    res = runner.invoke(app, ["report", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "no such results" in res.output


def test_no_limits_lifts_the_profile_caps():
    args = [
        "run",
        "--dry-run",
        "--profile",
        "quick",
        "--framework",
        "torch",
        "--impl",
        "serial",
        "--n-events",
        "1e5",
        "--dtype",
        "float64",
        "--dataset",
        "poisson",
    ]
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and "no case" in res.output
    res = runner.invoke(app, args + ["--no-limits"])
    assert res.exit_code == 0 and "1 case" in res.output


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
    res = runner.invoke(
        app, ["datasets", "stats", str(tmp_path / "shd_train.h5"), "--save", str(out)]
    )
    assert res.exit_code == 0, res.output
    stats = json.loads(out.read_text())
    assert stats["n_samples"] == 2 and stats["events_mean"] == 200 and stats["events_max"] == 300
    res = runner.invoke(app, ["datasets", "stats", str(tmp_path / "missing.h5")])
    flat = "".join(ch for ch in res.output if not ch.isspace() and ch != "│")  # rich wraps
    assert res.exit_code == 2 and "missing.h5" in flat


def test_a_sweep_of_absent_kinds_only_writes_its_rows_and_a_summary(tmp_path):
    """Every row `unavailable` (no timing, no correctness column): the summary still prints."""
    res = runner.invoke(
        app,
        [
            "run",
            "--device",
            "lpu",
            "--device",
            "gpu",
            "--family",
            "queues",
            "--impl",
            "lossy",
            "--out",
            str(tmp_path),
            "--report-dir",
            str(tmp_path / "reports"),
        ],
        env={"COLUMNS": "200"},
    )
    assert res.exit_code == 0, res.output
    assert "statuses: unavailable=" in res.output and "report:" in res.output
    assert "results CSV:" in res.output and "run context JSON:" in res.output
    # the reasons, once per reason (not an empty table)
    assert "unavailable (" in res.output and "queues/" in res.output
    from spikebench import results
    from spikebench.submission import validate

    (csv,) = tmp_path.rglob("*.csv")
    assert validate.validate(csv).ok
    assert set(results.read([csv])["status"]) == {"unavailable"}
