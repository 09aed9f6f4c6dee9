"""The queues family in the harness: traffic and network rows of every design are correct,
carry the drop rate, a wrong output makes a row incorrect, and the report renders."""

from __future__ import annotations

import numpy as np
import pytest
from spikebench import cases, profiles
from spikebench.families import queues as fam
from spikebench.harness import runner


def _small(case, **sizes):
    return cases.Case(**{**case.__dict__, "sizes": tuple(sorted({**case.size, **sizes}.items()))})


@pytest.fixture(scope="module")
def queue_rows(tmp_path_factory):
    cs = profiles.profile_cases("quick", ["cpu"], family=["queues"])
    traffic = [
        _small(c, n_queues=50, T=300)
        for c in cs
        if c.dataset == "bernoulli" and c.size["n_queues"] == 1 and c.framework in ("jax", "torch")
    ]
    drops = [
        _small(c, n_queues=50)
        for c in cs
        if c.dataset == "bernoulli"
        and c.size["interval"] == 10
        and c.size.get("capacity") == 1
        and c.size["delay"] == 20
    ]
    # the network: every design simulates (JAX); gradients in both modes for two designs
    # (JAX) and for the FIFO in PyTorch, eager and compiled (whose gradient rows only `full`
    # runs)
    full = profiles.profile_cases("full", ["cpu"], family=["queues"])
    net = [
        _small(c, n_neurons=12, T=240)
        for c in full
        if c.dataset == "recurrent"
        and (
            (c.framework == "jax" and (c.mode == "forward" or c.impl in ("fifo", "ring")))
            or (c.framework == "torch" and c.impl == "fifo")
            or (c.framework == "torch-compile" and c.impl == "fifo" and c.mode == "grad")
        )
    ]
    assert len(traffic) == 10 and drops and len(net) == 14
    with runner.Session(
        tmp_path_factory.mktemp("q"),
        isolate=False,
        timing={"min_rounds": 1, "max_rounds": 1, "warmup": 0},
    ) as s:
        rows = [s.run(c) for c in traffic + drops + net]
    queue_csv.append(s.csv_path)
    return rows


queue_csv: list = []


def test_every_queue_row_is_ok_and_correct(queue_rows):
    for row in queue_rows:
        assert row["status"] == "ok", row["error"]
        assert row["correct"] is True, row
        assert row["drop_rate"] is not None and 0.0 <= row["drop_rate"] <= 1.0
    assert any(r["drop_rate"] > 0.1 for r in queue_rows)  # the single-slot FIFO overflows
    assert {r["param_ad"] for r in queue_rows if r["mode"] == "grad"} == {"reverse", "forward"}


def test_report_renders_the_queue_plots(queue_rows, tmp_path):
    from spikebench.report import site as report

    report.render(queue_csv, tmp_path)
    assert (tmp_path / "queues.png").stat().st_size > 10_000
    md = (tmp_path / "summary.md").read_text()
    assert "microseconds per simulated step" in md and "carries the popped state" in md


def _benchmark_b_rows():
    base = {
        "family": "queues",
        "status": "ok",
        "correct": True,
        "mode": "forward",
        "dtype": "float32",
        "device_kind": "cpu",
        "param_n_queues": 10_000,
        "param_interval": 400,
        "param_delay": 80,
        "param_T": 400,
        "drop_rate": 0.0,
    }
    rows = [
        {**base, "impl": "heap", "framework": "jax", "param_capacity": 7, "time_median_s": 0.2},
        {
            **base,
            "impl": "heap",
            "framework": "jax",
            "param_capacity": 4,  # not published
            "time_median_s": 9.0,
        },
        {
            **base,
            "impl": "ring",
            "framework": "torch",
            "param_capacity": None,
            "time_median_s": 0.4,
        },
        {
            **base,
            "impl": "fifo",
            "framework": "jax",
            "param_capacity": 4,
            "param_n_queues": 1_000,
            "time_median_s": 0.1,
        },
    ]  # another size
    return rows


def test_published_table_sets_benchmark_b_next_to_the_paper():
    import pandas as pd
    from spikebench.families.queues import report as rq

    t = rq.published_table(pd.DataFrame(_benchmark_b_rows())).set_index("impl")
    assert t.loc["heap", "jax cpu float32"] == pytest.approx(500.0)  # 1e6 * 0.2 / 400
    assert t.loc["ring", "torch cpu float32"] == pytest.approx(1000.0)
    assert np.isnan(t.loc["fifo", "jax cpu float32"])
    assert t.loc["sorted", "published i7-1195G7 CPU"] == 1538
    assert rq.published_table(pd.DataFrame()).empty


def test_the_benchmark_summary_prints_benchmark_b(capsys):
    from spikebench import cli

    cli.print_summary(_benchmark_b_rows())
    out = capsys.readouterr().out
    assert "10,000 queues" in out and "heap" in out and "500" in out and "1538" in out


def _traffic_case(design="fifo"):
    c = next(
        c
        for c in profiles.profile_cases(
            "quick", ["cpu"], family=["queues"], impl=[design], framework=["jax"]
        )
        if c.dataset == "bernoulli"
    )
    return _small(c, n_queues=20, T=400)


def test_lost_events_and_wrong_payloads_make_the_row_incorrect():
    import jax
    from spikebench.kernels.queues import jax as qj

    case = _traffic_case()
    inputs = fam.FAMILY.make_inputs(case)
    ref, _ = fam.FAMILY.reference(case, inputs)
    q0 = qj.init("fifo", 20, case.size["capacity"], None)
    out = jax.device_get(qj.traffic("fifo", q0, 400, case.size["delay"], case.size["interval"]))
    out = tuple(
        np.asarray(x) if not hasattr(x, "_fields") else type(x)(*map(np.asarray, x)) for x in out
    )
    assert fam.FAMILY.check(case, inputs, out, ref)["correct"]
    q, hits, pays, sent = out
    lane = inputs["lanes"][0]
    bad_hits = hits.copy()
    bad_hits[lane] -= 1  # one event lost without being counted as dropped
    chk = fam.FAMILY.check(case, inputs, (q, bad_hits, pays, sent), ref)
    assert not chk["correct"] and "offered" in chk["note"]
    # the same loss in a queue the reference does not replay: the accounting catches it
    other = next(i for i in range(20) if i not in set(inputs["lanes"]) and hits[i] > 0)
    bad_hits = hits.copy()
    bad_hits[other] -= 1
    assert not fam.FAMILY.check(case, inputs, (q, bad_hits, pays, sent), ref)["correct"]
    # a payload moved by a wrong amount (the tangent would be wrong too)
    bad_pays = pays.copy()
    bad_pays[lane] += 0.5
    chk = fam.FAMILY.check(case, inputs, (q, hits, bad_pays, sent), ref)
    assert not chk["correct"] and chk["max_err"] >= 0.5


@pytest.mark.parametrize("name", ["synthetic-shd", "yinyang"])
def test_a_dataset_drives_the_network(name, tmp_path):
    full = profiles.profile_cases("full", ["cpu"], family=["queues"])
    net = [
        _small(c, n_neurons=12, T=240)
        for c in full
        if c.dataset == "recurrent"
        and c.impl == "fifo"
        and (c.framework == "jax" or c.mode == "forward")
    ]
    moved = profiles.with_dataset(net, name)
    assert len(moved) == len(net) == 5 and {c.dataset for c in moved} == {name}
    a, b = fam.FAMILY.make_inputs(moved[0]), fam.FAMILY.make_inputs(moved[0])
    np.testing.assert_array_equal(a["i_ext"], b["i_ext"])  # deterministic
    assert a["i_ext"].shape == (240, 12) and a["i_ext"].mean() == pytest.approx(fam.DRIVE)
    assert np.array_equal(a["i_ext"], a["i_ext"].astype(np.float32))  # same in every dtype
    assert fam.FAMILY.make_inputs(net[0])["i_ext"] is None  # the default keeps its constant input
    assert a["stats"]["dataset"] == name and "W_in" in a["stats"]["input"]
    with runner.Session(
        tmp_path, isolate=False, timing={"min_rounds": 1, "max_rounds": 1, "warmup": 0}
    ) as s:
        rows = [s.run(c) for c in moved]
    for row in rows:
        assert row["status"] == "ok", row["error"]
        assert row["correct"] is True and row["dataset"] == name
        assert row["param_n_inputs"] == (700 if name == "synthetic-shd" else 5)
    fwd = next(c for c in moved if c.mode == "forward" and c.framework == "jax")
    ref, _ = fam.FAMILY.reference(fwd, a)
    assert ref["spike_count"].sum() > 12  # the data makes the network spike
    # a kernel that ignored the data's current (ran the constant input) is caught
    import jax.numpy as jnp
    from spikebench.kernels.queues import _net_jax

    w, d = (jnp.asarray(a[k], jnp.float32) for k in ("weights", "delays"))
    const = _net_jax.simulate(w, d, fam._net_params(fwd), "fifo", 4)
    from spikebench.hardware import frameworks

    out = fam.FAMILY.to_numpy(const, frameworks.adapter("jax"))
    assert not fam.FAMILY.check(fwd, a, out, ref)["correct"]


def test_queue_cases_reject_bad_sizes_and_datasets():
    case = _traffic_case()
    with pytest.raises(ValueError, match="bernoulli"):
        fam.FAMILY.make_inputs(cases.Case(**{**case.__dict__, "dataset": "poisson"}))
    with pytest.raises(ValueError, match="interval must be >= 1"):
        fam.FAMILY.make_inputs(_small(case, interval=0))
