"""The prepared accelerator run (scripts/gpu_smoke.sh, profile gpu-smoke): its case list holds
the headline configurations, and its plumbing works on a CPU (dry run, one real family, and
every family at tiny sizes)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from spikebench import profiles, results
from spikebench.harness import runner
from spikebench.submission import validate

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gpu_smoke.sh"


def _cases():
    return profiles.profile_cases("gpu-smoke", ["gpu"])


def test_the_case_list_holds_the_headline_configurations():
    cs = _cases()
    el = [c for c in cs if c.family == "event_lif"]
    fwd = {(c.impl, c.framework) for c in el if c.mode == "forward"}
    assert fwd == {
        (i, f) for i in ("serial", "parallel") for f in ("jax", "torch", "torch-compile")
    }
    for c in el:  # the Bullet Trains anchor: SHD input, 2 x 512, K = 128
        assert c.dataset == "synthetic-shd" and c.size["n_layers"] == 2
        assert c.size["n_neurons"] == 512 and c.size["n_events"] == 4000
        assert c.size["batch"] == (128 if c.mode == "forward" else 4)
        assert c.impl == "serial" or c.knob["chunk"] == 128
    assert {c.framework for c in el if c.mode == "grad"} == {"jax", "torch", "torch-compile"}
    q = [c for c in cs if c.family == "queues"]
    assert {(c.impl, c.framework, c.size["n_queues"]) for c in q} == {
        (d, f, n)
        for d in ("heap", "fifo", "ring", "sorted", "lossy")
        for f in ("jax", "torch", "torch-compile", "adseq")
        for n in (10_000, 900_000)
    }
    psu = [c for c in cs if c.family == "psu"]
    assert {(c.impl, c.framework, c.mode) for c in psu} == {
        (i, f, m)
        for i in ("lif", "psu", "ipsu", "rpsu")
        for f in ("jax", "torch", "torch-compile")
        for m in ("forward", "grad")
    }
    assert all(c.size["T"] == 15 and c.size["n_neurons"] == 1024 for c in psu)
    # budgeted: every case's timeout fits the 8 minutes many times over, never one alone
    assert all(c.timeout_s <= 240 for c in cs)


def _script(out, *args):
    env = {**os.environ, "PYTHON": sys.executable, "COLUMNS": "200"}
    return subprocess.run(
        ["bash", str(SCRIPT), str(out), "-", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_script_lists_its_cases_without_running_them(tmp_path):
    res = _script(tmp_path, "--device", "gpu", "--dry-run")
    assert res.returncode == 0, res.stderr
    assert f"{len(_cases())} cases" in res.stdout
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_the_script_writes_results_and_a_report_into_its_folder(tmp_path):
    res = _script(
        tmp_path / "out",
        "--device",
        "cpu",
        "--family",
        "psu",
        "--impl",
        "psu",
        "--framework",
        "jax",
    )
    assert res.returncode == 0, res.stdout + res.stderr
    (csv,) = (tmp_path / "out" / "results").rglob("*.csv")
    assert csv.with_suffix(".json").exists() and validate.validate(csv).ok
    df = results.read([csv])
    assert set(df["status"]) == {"ok"} and df["correct"].all() and len(df) == 2
    assert list((tmp_path / "out" / "reports").rglob("index.html"))


def test_every_family_of_the_run_works_at_tiny_sizes(tmp_path):
    tiny = {
        "event_lif": {"n_events": 200, "n_neurons": 8, "batch": 2},
        "psu": {"n_neurons": 16, "batch": 4},
        "queues": {"n_queues": 20, "T": 200},
    }
    picked = {}
    for c in profiles.profile_cases("gpu-smoke", ["cpu"], framework=["jax"]):
        picked.setdefault((c.family, c.mode), c)
    cs = [
        dataclasses.replace(c, sizes=tuple(sorted({**c.size, **tiny[c.family]}.items())))
        for c in picked.values()
    ]
    assert {c.family for c in cs} == {"event_lif", "psu", "queues"}
    with runner.Session(
        tmp_path, isolate=False, timing={"min_rounds": 1, "max_rounds": 1, "warmup": 0}
    ) as s:
        rows = [s.run(c) for c in cs]
    for r in rows:
        assert r["status"] == "ok" and r["correct"], (r["case_id"], r["error"])
