"""The report's answer table (``report.answers``): each family's question by place, cells
recomputed here from the raw samples of the committed run, and the pooling of runs by the
versions they ran (``compare.pool``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from spikebench import compare, families, results
from spikebench.report import answers
from spikebench.report import check as report_check

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "results" / "amd-epyc-0a7c9cdf" / "20261208T005346Z-d02717c7a320.csv"
PLACE = "amd-epyc-0a7c9cdf cpu, 2 threads"


@pytest.fixture(scope="module")
def run():
    return results.read([RUN]).drop(columns=["source_file"])


@pytest.fixture(scope="module")
def cells(run):
    by_place = answers.answers_by_place(run, families.FAMILIES.values())
    return {a.question: a for a in by_place[PLACE]}


def _samples(rows) -> np.ndarray:
    return np.concatenate([np.array(s.split(), float) for s in rows["samples_s"]])


def _ok(run):
    return run[(run["status"] == "ok") & (run["correct"].astype(str) == "True")]


def test_event_lif_cell_is_the_ratio_of_the_raw_medians(run, cells):
    """The Bullet Trains cell (JAX): the deepest SHD network's serial samples' median over the
    parallel samples' median at K = 128 -- or, as in this quick run, the pair the headline
    reads; recomputed from the CSV with the case's columns."""
    a = cells[
        "Event LIF: parallel speedup over serial, Bullet Trains configuration, JAX "
        "(> 1: parallel faster)"
    ]
    ok = _ok(run)
    ev = ok[(ok["family"] == "event_lif") & (ok["framework"] == "jax") & (ok["mode"] == "forward")]
    k = int(a.detail.split("K = ")[1].split(",")[0])
    n = int(a.detail.split(", ")[1].split(" ")[0].replace(",", ""))
    shd = ev[ev["dataset"].str.contains("shd") & (ev["param_n_events"] == n)]
    deep = shd[shd["param_n_layers"].fillna(1) == shd["param_n_layers"].fillna(1).max()]
    par = deep[(deep["impl"] == "parallel") & (deep["param_chunk_size"] == k)]
    ser = deep[(deep["impl"] == "serial") & (deep["dtype"] == par["dtype"].iloc[0])]
    want = np.median(_samples(ser)) / np.median(_samples(par))
    assert a.value == pytest.approx(want, rel=1e-12)
    s, p = _samples(ser), _samples(par)
    assert a.lo == pytest.approx(np.percentile(s, 25) / np.percentile(p, 75), rel=1e-12)
    assert a.hi == pytest.approx(np.percentile(s, 75) / np.percentile(p, 25), rel=1e-12)
    assert ("few" in a.marks()) == (min(len(s), len(p)) < answers.FEW)


def test_queue_cell_is_the_fastest_design_per_step(run, cells):
    a = cells["Queues: fastest design at 10,000 queues, microseconds a step"]
    ok = _ok(run)
    q = ok[(ok["family"] == "queues") & (ok["mode"] == "forward") & (ok["param_n_queues"] == 1e4)]
    impl, fw = a.detail.split(" in ")
    fw = {"JAX": "jax", "PyTorch": "torch"}.get(fw, fw.split(" ")[0])
    best = None
    for (*_, steps), g in q.groupby(
        ["param_capacity", "param_delay", "param_interval", "param_T"], dropna=False
    ):
        for (i, f), rows in g.groupby(["impl", "framework"]):
            us = np.median(_samples(rows)) * 1e6 / steps
            if i == impl and f == fw and us == pytest.approx(a.value, rel=1e-12):
                best = (g, us)
    assert best is not None, a
    g, us = best  # nothing in its configuration is faster
    assert all(
        np.median(_samples(rows)) * 1e6 / float(g["param_T"].iloc[0]) >= us * (1 - 1e-12)
        for _, rows in g.groupby(["impl", "framework"])
    )


def test_anchor_cell_is_the_median_over_cases(run, cells):
    from spikebench.report.anchors import anchor_table

    a = cells["Ours (JAX) / adseq time, queues (median over cases; range)"]
    t = anchor_table(run, {f.name: f.host_params for f in families.FAMILIES.values()})
    r = pd.to_numeric(t[t["anchor"] == "adseq"]["jax_over_anchor"], errors="coerce").dropna()
    assert (a.value, a.lo, a.hi) == (r.median(), r.min(), r.max())
    assert a.detail == f"{len(r)} cases"


def test_the_table_has_a_column_per_place_and_says_what_changed(run):
    other = run.copy()
    other["machine_id"] = "other-box"
    other["samples_s"] = other["samples_s"].map(
        lambda s: " ".join(f"{float(x) * 2:.12g}" for x in str(s).split()), na_action="ignore"
    )
    both = pd.concat([run, other], ignore_index=True)
    t = answers.answer_table(answers.answers_by_place(both, families.FAMILIES.values()))
    assert PLACE in t.columns and "other-box cpu, 2 threads" in t.columns
    q = t.set_index("question").loc["Queues: fastest design at 10,000 queues, microseconds a step"]
    assert q["between places"] == f"2x apart; highest: other-box cpu, 2 threads; lowest: {PLACE}"


def _with(run, tmp_path, name, **change):
    df = run.copy()
    for col, value in change.items():
        df[col] = value
    path = tmp_path / f"{name}.csv"
    df.to_csv(path, index=False)
    return path


def test_runs_of_other_versions_are_left_out_and_said_so(run, tmp_path):
    """Two runs on one machine whose kernels differ: the report pools only the later run's
    rows and says why the earlier ones were left out; --all-runs pools both. On two
    machines the two versions are two columns."""
    old = _with(
        run,
        tmp_path,
        "old",
        kernel_version="old",
        run_id="r-old",
        timestamp_utc="2026-01-01T00:00:00Z",
    )
    new = _with(run, tmp_path, "new", run_id="r-new")
    df = results.read([old, new])
    pooled = compare.pool(df)
    assert set(pooled.rows["run_id"]) == {"r-new"} and len(pooled.left_out) == len(run)
    assert "left out" in pooled.note() and "r-old" not in pooled.note()
    assert len(compare.pool(df, all_runs=True).rows) == 2 * len(run)
    out = tmp_path / "rep"
    _, problems = report_check.render_checked([old, new], out)
    assert problems == []
    index = (out / "index.html").read_text()
    assert f"{len(run)} row(s) of 1 run(s) left out" in index
    assert index.index("<table") < index.index("left out")  # the answers come first
    assert "r-new" in index and "r-old" not in index  # the places table lists the runs used
    elsewhere = _with(run, tmp_path, "elsewhere", kernel_version="old", machine_id="box-2")
    t = answers.answer_table(
        answers.answers_by_place(
            compare.pool(results.read([new, elsewhere])).rows, families.FAMILIES.values()
        )
    )
    assert {PLACE, "box-2 cpu, 2 threads"} <= set(t.columns)


def test_a_place_pools_runs_of_equal_versions(run, tmp_path):
    a = _with(run, tmp_path, "a", run_id="r-a")
    b = _with(run, tmp_path, "b", run_id="r-b")
    pooled = compare.pool(results.read([a, b]))
    assert len(pooled.left_out) == 0 and pooled.note() == ""
    assert set(pooled.rows["run_id"]) == {"r-a", "r-b"}
    # rows without a timestamp (hand-made CSVs) are one set, not dropped
    undated = results.read([a, b]).assign(timestamp_utc=None)
    assert len(compare.pool(undated).rows) == 2 * len(run)
