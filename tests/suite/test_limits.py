"""Distance from the limit: the compiled cost in the row, the machine's peaks in the run's JSON,
and the report's fractions and bound (suite/hardware/peaks.py, suite/report/limits.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from spikebench import families, results
from spikebench.hardware import peaks
from spikebench.harness import runner, worker
from spikebench.report import limits


def test_roofline_names_the_bound():
    # memory: 10 GB in 1 s against a 20 GB/s copy peak (0.5), few flops
    fit = peaks.roofline(1e9, 1e10, 1.0, 1e12, 2e10)
    assert fit["bw_frac"] == (0.5, 0.5) and fit["flop_frac"] == (1e-3, 1e-3)
    assert fit["bound"] == "memory"
    assert peaks.roofline(5e11, 1e6, 1.0, 1e12, 2e10)["bound"] == "compute"
    assert peaks.roofline(1e6, 1e6, 1.0, 1e12, 2e10)["bound"] == "latency"
    # a loop of 1,000 trips counted once: low end far below, high end above -> open
    fit = peaks.roofline(1e6, 1e8, 1.0, 1e12, 2e10, trips=1000)
    assert fit["bw_frac"] == pytest.approx((5e-3, 5.0))
    assert fit["bound"] == "undetermined"
    # even at 1,000 trips far below the peaks: latency / sequential depth
    assert peaks.roofline(1e3, 1e3, 1.0, 1e12, 2e10, trips=1000)["bound"] == "latency"
    # a data-dependent trip count has no high end
    fit = peaks.roofline(1e3, 1e3, 1.0, 1e12, 2e10, trips=None)
    assert fit["bw_frac"][1] is None and fit["bound"] == "undetermined"
    assert peaks.roofline(1e3, 1e3, 0.0, 1e12, 2e10)["bound"] is None
    assert peaks.roofline(None, None, 1.0, 1e12, 2e10)["bound"] is None


def test_cost_columns_count_loops_and_their_trips():
    import jax
    import jax.numpy as jnp
    from jax import lax
    from spikebench.hardware import frameworks

    fw = frameworks.adapter("jax")
    x = jnp.ones(4096, jnp.float32)

    def looped(x, n):
        return lax.scan(lambda c, _: (c * 1.5 + 1.0, None), x, None, length=n)[0]

    def flat(x):
        return x * 1.5 + 1.0

    call, _ = fw.compile(jax.jit(flat), (x,), {}, {})
    c = worker.cost_columns(call)
    assert c["cost_loops"] == 0 and c["cost_trips"] == 1.0
    assert c["cost_flops"] >= 2 * 4096 and c["cost_bytes"] >= 2 * 4096 * 4
    call, _ = fw.compile(jax.jit(looped, static_argnames="n"), (x,), {}, {"n": 500})
    c = worker.cost_columns(call)
    assert c["cost_loops"] == 1 and c["cost_trips"] == 500.0
    # a data-dependent loop: no trip count
    wl = jax.jit(lambda x: lax.while_loop(lambda s: s[0].sum() < 1e6, lambda s: (s[0] * 2,), (x,)))
    call, _ = fw.compile(wl, (x,), {}, {})
    c = worker.cost_columns(call)
    assert c["cost_loops"] == 1 and c["cost_trips"] is None
    # eager PyTorch: nothing counts honestly, the columns stay empty
    assert worker.cost_columns(lambda: None) == {}


def test_peaks_are_measured_into_the_run_json(tmp_path, monkeypatch):
    monkeypatch.setitem(peaks.COPY_BYTES, "cpu", 4 * 2**20)
    monkeypatch.setitem(peaks.MATMUL_N, "cpu", 128)
    monkeypatch.setitem(peaks.MATMUL_N_F64, "cpu", 128)
    monkeypatch.setattr(runner, "_PEAKS", {})
    s = runner.Session(tmp_path, isolate=False)
    got = s.measure_peaks(["cpu", "onnxrt", "cpu"])  # kinds without peaks are skipped
    s.close()
    assert list(got) == ["cpu"]
    cpu = json.loads(s.json_path.read_text())["peaks"]["cpu"]
    assert cpu["library"] == "jax" and cpu["copy"]["bytes"] == 2 * 4 * 2**20
    assert cpu["copy"]["bytes_per_s"] > 0
    assert cpu["copy"]["bytes_per_s"] == pytest.approx(cpu["copy"]["bytes"] / cpu["copy"]["best_s"])
    for dtype in ("float32", "float64"):
        m = cpu["matmul"][dtype]
        assert m["n"] == 128 and m["flops_per_s"] == pytest.approx(2 * 128**3 / m["best_s"])
    with pytest.raises(ValueError, match="'lpu'"):
        peaks.measure("lpu")


def _row(**kw):
    base = {c: None for c in results.COLUMNS}
    return base | kw


def test_limits_table_divides_the_cost_by_the_time_and_the_runs_peaks(tmp_path):
    """The PSU family's headline rows (the SHD-shaped network at T = 15) against the peaks
    their run's JSON holds; a row without a count is listed with empty fractions."""
    csv = tmp_path / "run.csv"
    common = dict(
        schema_version=results.SCHEMA_VERSION,
        run_id="r1",
        machine_id="m",
        device_kind="cpu",
        threads=2,
        family="psu",
        mode="forward",
        dtype="float32",
        dataset="shd",
        param_n_inputs=700,
        param_n_neurons=128,
        param_batch=32,
        param_n_layers=2,
        param_T=15,
        status="ok",
        correct=True,
        samples_s="0.01 0.01 0.01",
    )
    rows_ = [
        _row(
            **common,
            impl="psu",
            framework="jax",
            case_id="a" * 12,
            time_median_s=0.01,
            cost_flops=1e9,
            cost_bytes=5e7,
            cost_loops=0,
            cost_trips=1,
        ),
        _row(
            **common,
            impl="lif",
            framework="jax",
            case_id="b" * 12,
            time_median_s=0.02,
            cost_flops=1e8,
            cost_bytes=1e6,
            cost_loops=1,
            cost_trips=15,
        ),
        _row(**common, impl="lif", framework="torch", case_id="c" * 12, time_median_s=0.03),
    ]
    pd.DataFrame(rows_)[results.COLUMNS].to_csv(csv, index=False)
    peak = {"cpu": {"copy": {"bytes_per_s": 1e10}, "matmul": {"float32": {"flops_per_s": 2e11}}}}
    csv.with_suffix(".json").write_text(json.dumps({"peaks": peak}))
    df = results.read([csv])
    t = limits.limits_table(df, [families.get("psu")]).set_index(["impl", "framework"])
    psu = t.loc[("psu", "jax")]
    assert psu["gflop_s"] == pytest.approx(100.0) and psu["gb_s"] == pytest.approx(5.0)
    assert psu["flop_frac"] == "0.5" and psu["bw_frac"] == "0.5" and psu["bound"] == "compute"
    lif = t.loc[("lif", "jax")]
    assert lif["flop_frac"] == "0.025 - 0.375" and lif["bw_frac"] == "0.005 - 0.075"
    assert lif["bound"] == "undetermined"
    torch_row = t.loc[("lif", "torch")]
    assert pd.isna(torch_row["flop_frac"]) and pd.isna(torch_row["bound"])
    # in the rendered report, with two places (the report then labels device_kind by place)
    from spikebench.report import site

    two = pd.concat(
        [pd.DataFrame(rows_), pd.DataFrame([rows_[0] | {"threads": 1, "case_id": "d" * 12}])]
    )
    two[results.COLUMNS].to_csv(csv, index=False)
    site.render([csv], tmp_path / "rep")
    md = (tmp_path / "rep" / "summary.md").read_text()
    section = md.split(f"## {limits.TITLE}")[1].split("\n## ")[0]
    assert section.count("| 0.5 | 0.5 | 0 | compute |") == 2, section
    # no JSON peaks (a run before v10): rates without fractions
    csv.with_suffix(".json").write_text("{}")
    t = limits.limits_table(results.read([csv]), [families.get("psu")])
    assert t["flop_frac"].isna().all() and np.isfinite(t["gflop_s"].iloc[0])


def test_migrate_v9_leaves_the_cost_empty():
    v9 = [c for c in results.COLUMNS if c not in results.COST_COLUMNS]
    df = pd.DataFrame([{c: None for c in v9} | {"schema_version": 9, "family": "psu"}])
    out = results.migrate(df)
    assert out[results.COST_COLUMNS].isna().all().all()
    assert (out["schema_version"] == results.SCHEMA_VERSION).all()


def test_compiled_table_sets_compiled_pytorch_beside_jax_with_its_note(tmp_path):
    """torch-compile / JAX per case from one run; the kernel's speed note is carried over."""
    from spikebench import cases, profiles
    from spikebench.report import compiled

    picked = [
        cases.Case(
            **{**c.__dict__, "sizes": tuple(sorted({**c.size, "n_queues": 64, "T": 40}.items()))}
        )
        for c in profiles.profile_cases("quick", ["cpu"], family=["queues"])
        if c.impl == "lossy"
        and c.framework in ("jax", "torch-compile")
        and c.size.get("n_queues") == 10_000
        and c.size.get("delay") == 80
        and c.knob.get("tally") == "queue"
    ]
    assert len(picked) == 2
    timing = {"min_rounds": 1, "max_rounds": 1, "warmup": 0}
    with runner.Session(tmp_path, isolate=False, timing=timing) as s:
        for c in picked:
            s.run(c)
    df = results.read([s.csv_path])
    assert (df["status"] == "ok").all() and df["correct"].all(), df[["framework", "error"]]
    t = compiled.compiled_table(df)
    assert len(t) == 1
    r = t.iloc[0]
    want = df.set_index("framework")["time_median_s"]
    assert r["compiled_over_jax"] == pytest.approx(want["torch-compile"] / want["jax"])
    assert r["note"].startswith("compiled a step at a time") and ";" not in r["note"]
    # the JAX row carries its compiled cost, the PyTorch row none
    cost = df.set_index("framework")[results.COST_COLUMNS]
    assert cost.loc["jax", "cost_loops"] == 1 and cost.loc["jax", "cost_trips"] == 40
    assert cost.loc["torch-compile"].isna().all()
