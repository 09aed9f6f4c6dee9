"""jaxsnn's rows: its exact event-LIF layer against the family's reference loop (its event list
converted untimed, its budget fitted), and the check of its Yin-Yang training (its trained
weights through our float64 reference simulator)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from spikebench import families, profiles, results
from spikebench.harness import runner
from spikebench.report import peers as report_peers

pytest.importorskip("jaxsnn")

import jax.numpy as jnp  # noqa: E402
from spikebench.peers import _jaxsnn as jl  # noqa: E402
from spikebench.peers import _jaxsnn_yinyang as yy  # noqa: E402

FAST = {"min_rounds": 1, "max_rounds": 1, "warmup": 0}
SMALL = (("batch", 2), ("n_events", 300), ("n_inputs", 20), ("n_neurons", 8), ("tau_mem_ms", 10))


def test_layer_rows_equal_the_reference_loop_beside_ours(tmp_path):
    cs = [
        dataclasses.replace(c, sizes=SMALL)
        for c in profiles.profile_cases("quick", ["cpu"], family=["event_lif"])
        if c.size.get("tau_mem_ms") == 10 and c.mode == "forward"
    ]
    assert {c.framework for c in cs} == {"jax", "jaxsnn"}
    with runner.Session(tmp_path, isolate=False, timing=FAST) as s:
        rows = {r["framework"]: r for r in (s.run(c) for c in cs)}
    peer = rows["jaxsnn"]
    assert peer["status"] == "ok" and peer["correct"], peer["error"]
    assert peer["max_err"] < 1e-12 and peer["mismatch_frac"] == 0.0
    assert peer["param_tau_mem_ms"] == 10
    df = results.read([s.csv_path])
    assert set(df["param_tau_mem_ms"]) == {10}
    table = report_peers.peer_table(df)
    assert list(table["same_model"]) == ["exact"] and list(table["ours"]) == ["serial (jax)"]


def _lists(own_counts, n_events, width):
    """A fake jaxsnn event list per sample: the inputs echoed (layer 0), then own spikes of
    neuron 0 (layer 1), then empty entries."""
    b = len(own_counts)
    time = np.full((b, width), jl.T_MAX)
    idx = np.full((b, width), -1)
    layer = np.full((b, width), -1)
    for s, k in enumerate(own_counts):
        time[s, :n_events], idx[s, :n_events], layer[s, :n_events] = 0.1, 3, 0
        time[s, n_events : n_events + k] = np.arange(k) * 0.01 + 0.2
        idx[s, n_events : n_events + k], layer[s, n_events : n_events + k] = 0, 1
    return time, idx, layer


def test_convert_and_fit_time_it_at_the_tightest_budget():
    case = dataclasses.replace(
        next(
            c
            for c in profiles.profile_cases("quick", ["cpu"], family=["event_lif"])
            if c.framework == "jaxsnn" and c.mode == "forward"
        ),
        sizes=(("batch", 2), ("n_events", 10), ("n_inputs", 20), ("n_neurons", 4)),
    )
    static = {"max_spikes": 64}
    out = jl.convert(_lists([3, 5], 10, 10 + 64 * 4), case, static)
    buf, counts, stalled = out
    assert counts.tolist() == [[3, 0, 0, 0], [5, 0, 0, 0]] and not stalled.any()
    assert np.allclose(buf[1, 0, :5], [0.2, 0.21, 0.22, 0.23, 0.24])
    assert jl.fit(out, case, static) == {"max_spikes": 64, "budget": 10 + 5 + 1}
    # a list filled to its end may have lost spikes: the counts overflow the buffer
    full = jl.convert(_lists([3, 6], 10, 16), case, {"max_spikes": 64, "budget": 16})
    assert full[1].max() > full[0].shape[-1]
    assert jl.fit(full, case, {"max_spikes": 64, "budget": 16})["budget"] == 64
    # and the family's check says so
    fam = families.get("event_lif")
    assert fam.check(case, {}, full, {"lanes": []})["note"] == "spike buffer overflow"


def test_training_check_runs_its_weights_through_our_reference():
    """On random weights (cheap): jaxsnn's own first-spike predictions and our reference
    simulator's agree sample for sample."""
    from spikebench.families.event_lif.training import yinyang_inputs

    data = yinyang_inputs(0, n_train=64, n_test=120)
    side = yy.Side(16, 1, seed=3)
    rng = np.random.default_rng(1)
    weights = {
        **side.init,
        "syn1": jnp.asarray(rng.normal(0.3, 1.5, (5, 16))),
        "syn2": jnp.asarray(rng.normal(0.5, 2.0, (16, 3))),
    }
    (x, y) = data["test"]
    pred = side.predict(weights, side.array(x))
    assert len(set(pred.tolist())) > 1, "a degenerate network checks nothing"
    assert np.array_equal(yy.reference_predictions(weights, x, 16), pred)
    chk = yy.check(side, weights, data, 16, n=50)
    assert chk["n"] == 50 and chk["agreement"] == 1.0
    assert (
        chk["accuracy"] == chk["reference_accuracy"] == pytest.approx(np.mean(pred[:50] == y[:50]))
    )


def test_its_training_run_is_a_train_row_the_harness_takes(tmp_path):
    """jaxsnn's training registers its own run (entry "train"): the harness times that, not
    the family's training step, and versions it like any entry."""
    from spikebench import versions

    case = next(
        c
        for c in profiles.profile_cases("quick", ["cpu"], family=["event_lif"])
        if c.framework == "jaxsnn" and c.mode == "train"
    )
    impl = families.implementation(case.family, case.impl, case.framework)
    assert families.entry_name(case, impl) == "train"
    assert len(versions.kernel_version(impl, "train")) == 12
    with runner.Session(tmp_path, isolate=False, timing=FAST) as s:
        assert s.availability(case) is None
