"""Scale-out through an existing scheduler library: submitit's local executor runs the shards
of a small sweep as jobs (the submitit example of docs/guide/scaleout.md, with a narrow
filter), and they merge into the unsharded sweep's set of cases. The docs' SLURM line runs
through bash with the array task id a SLURM array would set."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from spikebench import profiles
from spikebench.submission import scaleout

submitit = pytest.importorskip("submitit")

ROOT = Path(__file__).resolve().parents[2]
# a narrow sweep: 4 PSU cases, in-process (the shards are the unit of isolation here)
ARGS = [
    "--profile",
    "quick",
    "--family",
    "psu",
    "--framework",
    "jax",
    "--filter",
    "dataset=gaussian",
    "--filter",
    "T=4",
    "--filter",
    "mode=forward",
    "--filter",
    "n_neurons=256",
    "--no-isolate",
]


def _case_ids():
    cases = profiles.profile_cases(
        "quick",
        ["cpu"],
        family=["psu"],
        framework=["jax"],
        dataset=["gaussian"],
        T=["4"],
        mode=["forward"],
        n_neurons=["256"],
    )
    assert len(cases) >= 2
    return sorted(c.case_id for c in cases)


def test_submitit_local_executor_runs_and_merges_the_shards(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ex = submitit.AutoExecutor(folder="logs", cluster="local")
    ex.update_parameters(timeout_min=10)
    merged = scaleout.submit_shards(ex, 2, args=ARGS, out="results/shards")
    assert merged.exists() and merged.with_suffix(".json").exists()
    df = pd.read_csv(merged)
    assert sorted(df["case_id"]) == _case_ids()
    assert df["run_id"].nunique() == 2  # each row keeps its shard's run
    assert (df["status"] == "ok").all()


def test_readme_shows_the_examples_this_test_runs():
    readme = (ROOT / "docs" / "guide" / "scaleout.md").read_text()
    assert "from spikebench.submission.scaleout import submit_shards" in readme
    assert "merged = submit_shards(ex, 8)" in readme
    doc = scaleout.__doc__
    assert "merged = submit_shards(ex, 8)" in doc


def test_the_readme_slurm_array_line_runs_a_shard(tmp_path):
    readme = (ROOT / "docs" / "guide" / "scaleout.md").read_text()
    (wrap,) = re.findall(r"--wrap '([^']+)'", readme)
    assert wrap.startswith("spikebench run --shard ${SLURM_ARRAY_TASK_ID}/8")
    spikebench = Path(sys.executable).parent / "spikebench"  # this environment's script
    exe = str(spikebench) if spikebench.exists() else "spikebench"
    cmd = wrap.replace("spikebench", exe, 1) + " " + " ".join(ARGS + ["--dry-run"])
    done = subprocess.run(
        ["bash", "-c", cmd],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "SLURM_ARRAY_TASK_ID": "3", "COLUMNS": "300"},
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"\d+ cases?$", done.stdout.strip())


def test_bad_shard_numbers():
    with pytest.raises(ValueError, match="1 <= i <= n"):
        scaleout.shard_command(3, 2)
    with pytest.raises(ValueError, match="positive integer"):
        scaleout.submit_shards(None, 0)
