"""The anchor rows: the EventQueues authors' queues (adseq) and NEST's iaf_psc_exp_ps, run and
checked like spikebench's own kernels on the same inputs."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys

import numpy as np
import pytest
from spikebench import families, profiles, results
from spikebench.harness import runner
from spikebench.report import anchors as report_anchors

FAST = {"min_rounds": 1, "max_rounds": 1, "warmup": 0}
# never import NEST into the test process: its kernel loaded beside torch.compile's kernels
# crashed a later test in the same worker; its rows run in isolated workers
needs_nest = pytest.mark.skipif(
    importlib.util.find_spec("nest") is None,
    reason="nest-simulator is not installed (extra 'anchors')",
)


def _small(case, **sizes):
    return dataclasses.replace(case, sizes=tuple(sorted({**case.size, **sizes}.items())))


def test_adseq_traffic_rows_are_checked_against_the_reference(tmp_path):
    pytest.importorskip("adseq")
    cs = profiles.profile_cases("quick", ["cpu"], family=["queues"], framework=["adseq"])
    # (b)'s load and (d)'s (interval 10, delay 5, capacity 8), on 50 queues
    b = [
        _small(c, n_queues=50, T=400)
        for c in cs
        if c.size["n_queues"] == 10_000 and c.size["delay"] == 80
    ]
    d = [_small(c, n_queues=50) for c in cs if c.size["delay"] == 5 and c.size["capacity"] == 8]
    assert {c.impl for c in b} == {"heap", "fifo", "ring", "sorted", "lossy"}
    ours = [
        _small(c, n_queues=50)
        for c in profiles.profile_cases("quick", ["cpu"], family=["queues"], framework=["jax"])
        if c.size.get("delay") == 5 and c.size.get("capacity") == 8
    ]
    with runner.Session(tmp_path, isolate=False, timing=FAST) as s:
        rows = {(r["impl"], r["param_delay"]): r for r in (s.run(c) for c in b + d)}
        for c in ours:
            s.run(c)
    # the report's anchor table: ours / anchor on the same case, none against a wrong anchor
    table = report_anchors.anchor_table(results.read([s.csv_path]))
    d_rows = table[table["sizes"].str.contains("delay=5")].set_index("impl")
    assert set(d_rows.index) == {"heap", "fifo", "sorted", "lossy"}
    assert (
        not d_rows.loc["heap", "anchor_correct"]
        and "never reorders" in d_rows.loc["heap", "reason"]
    )
    assert d_rows["jax_over_anchor"].isna()["heap"]
    for impl in ("fifo", "sorted", "lossy"):
        r = d_rows.loc[impl]
        assert r["jax_over_anchor"] == pytest.approx(r["jax_s"] / r["anchor_s"])
    for (impl, delay), r in rows.items():
        assert r["status"] == "ok", r["error"]
        assert r["framework"] == "adseq" and r["framework_version"] == "0.9.4"
        if impl == "heap" and delay == 5:
            # adseq 0.9.4's heap never reorders: the row must show it, with the reason
            assert r["correct"] is False and r["mismatch_frac"] > 0
            assert "never reorders" in r["error"]
            assert "never reorders" in report_anchors.known_difference(r)  # the sweep: xfail
        else:
            assert r["correct"] is True, (impl, delay, r["error"])
            assert r["mismatch_frac"] == 0.0
    assert report_anchors.known_difference({"framework": "jax", "impl": "heap"}) is None
    assert report_anchors.known_difference({"framework": "adseq", "impl": "fifo"}) is None


def test_adseq_heap_fault_the_readme_describes():
    """If adseq fixes its heap, this fails: then the README and KNOWN_DIFFERENCES change."""
    adq = pytest.importorskip("adseq.implementations")
    q = adq.BinaryHeap.sized(4).init(10)
    q = q.enqueue(9).enqueue(5)
    q, hit = q.pop(5)
    assert float(hit) == 0.0  # the earlier arrival (5) sits behind 9 and is not delivered


@needs_nest
def test_nest_serial_rows_match_the_reference_loop(tmp_path):
    cs = profiles.profile_cases("quick", ["cpu"], family=["event_lif"], framework=["nest"])
    assert {c.knob.get("threads") for c in cs} == {None, 1}
    small = [
        _small(c, n_neurons=8, n_events=300)
        for c in cs
        if c.size["n_inputs"] == 100 or c.size["n_events"] == 100
    ]
    with runner.Session(tmp_path, isolate=True, timing=FAST) as s:
        rows = [s.run(c) for c in small]
    for c, r in zip(small, rows, strict=True):
        assert r["status"] == "ok", r["error"]
        assert r["correct"] is True, r["error"]
        assert r["compile_s"] > 0  # building the network is timed apart
        assert r["threads"] == (c.knob.get("threads") or s.host["cpu_cores"])
        assert r["ref_impl"] == "event_lif/reference_loop"


@needs_nest
def test_nest_refuses_a_refractory_time_below_its_grid():
    from spikebench.kernels.event_lif import LIFParams, _nest

    with pytest.raises(ValueError, match="t_ref"):
        _nest.layer(
            np.zeros((1, 2)),
            np.zeros((1, 2), np.int64),
            np.ones((1, 1)),
            LIFParams(0.02, 0.005, 1.0),
        )
    assert "nest" not in sys.modules  # refused before NEST is loaded


def test_nest_rows_get_their_own_reference():
    fam = families.get("event_lif")
    cs = profiles.profile_cases(
        "quick",
        ["cpu"],
        family=["event_lif"],
        impl=["serial"],
        dtype=["float64"],
        n_events=["1000"],
    )
    nest = next(c for c in cs if c.framework == "nest")
    jax = next(c for c in cs if c.framework == "jax" and c.input_key == nest.input_key)
    assert fam.ref_kind(nest) != fam.ref_kind(jax)  # t_ref = 0.1 ms vs 0
