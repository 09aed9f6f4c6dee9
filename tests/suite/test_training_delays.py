"""Training to accuracy, the queue network with learned delays on the timing classes
(``spikebench.families.queues.training``): the input currents, the JAX and PyTorch gradient twins,
tiny runs learn, smaller queues drop more, and the harness's train rows are correct and
valid."""

from __future__ import annotations

import numpy as np
import pytest
from spikebench.datasets import timing
from spikebench.families.queues import report as queues_report
from spikebench.families.queues import training as td
from spikebench.training import TrainConfig

from tests.helpers import resized, run_train_rows

N_TRAIN, N_TEST = 320, 160


@pytest.fixture(scope="module")
def data():
    return td.delay_inputs(0, N_TRAIN, N_TEST)


def test_currents_pulse_the_input_neurons_in_the_steps_of_their_spikes():
    ev = timing(3, seed=4)
    cur = td.currents(ev)
    n_in = td.n_in()
    assert cur.shape == (3, td.N_STEPS, n_in + td.N_HIDDEN)
    assert not cur[:, :, n_in:].any()  # the hidden neurons get no input current
    for b in range(3):
        steps = np.ceil(ev.times[b] * 1e3 / td.DT).astype(int) - 1
        assert (cur[b, steps, ev.channels[b]] == td.PULSE).all()
        assert np.count_nonzero(cur[b]) == len(set(zip(steps, ev.channels[b], strict=True)))


def test_jax_and_torch_gradients_are_twins_in_float64(data):
    """One training step's loss and gradients (W, D, W_out) on 32 samples: JAX and PyTorch
    agree to rounding in float64, and so do spikes and drops."""
    import jax.numpy as jnp
    import torch
    from spikebench.kernels.queues import _net_jax as nj
    from spikebench.kernels.queues import _net_torch as nt

    x, y = data["train"][0][:32].transpose(1, 0, 2).astype(np.float64), data["train"][1][:32]
    tree = td.init_weights(0)
    static = td._static(2)
    vj, gj, oj = nj.classify_grad(*map(jnp.asarray, tree), jnp.asarray(x), jnp.asarray(y), **static)
    vt, gt, ot = nt.classify_grad(
        *map(torch.tensor, tree), torch.as_tensor(x), torch.as_tensor(y), **static
    )
    assert float(vj) == pytest.approx(float(vt), rel=1e-12)
    for a, b in zip(gj, gt, strict=True):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=1e-9, atol=1e-12)
        assert np.abs(np.asarray(a)).max() > 0  # every parameter gets a gradient
    np.testing.assert_array_equal(np.asarray(oj.spike_count), ot.spike_count.numpy())
    np.testing.assert_array_equal(np.asarray(oj.dropped), ot.dropped.numpy())
    assert np.asarray(oj.dropped).sum() > 0  # capacity 2: the bursts overflow some queues


def test_smaller_queues_drop_more(data):
    from spikebench.kernels.queues import _net_jax as nj

    x = data["test"][0][:64].transpose(1, 0, 2)
    tree = [np.asarray(a, np.float32) for a in td.init_weights(0)]
    rates = [td._drop_rate(nj.classify_forward(*tree, x, **td._static(c))[1]) for c in (1, 2, 8)]
    assert rates[0] > rates[1] > rates[2] >= 0.0, rates
    assert rates[0] > 0.2


@pytest.mark.parametrize("fw", td.FRAMEWORKS)
def test_tiny_runs_learn(fw, data):
    """10 steps an epoch, 3 epochs, 4 classes: test accuracy well above chance (0.25); every
    curve entry holds the test split's drop rate."""
    r = td.train_delays(2, fw, TrainConfig(epochs=3, batch=32, lr=td.LR, target=0.4), data=data)
    assert r.final_accuracy > 0.45, r.curve
    assert all(0.0 < e["drop_rate"] < 1.0 for e in r.curve)
    assert 0.0 < r.firing_rate < 1.0 and r.epochs_to_target is not None


@pytest.mark.parametrize(
    ("args", "kw", "says"),
    [
        ((0, "jax"), {}, "capacity must be an integer >= 1, got 0"),
        ((2, "numpy"), {}, "not 'numpy'"),
        ((2, "jax"), {"dtype": "int8"}, "dtype must be"),
    ],
)
def test_bad_runs_are_refused(args, kw, says, data):
    with pytest.raises(ValueError, match=says):
        td.train_delays(*args, data=data, **kw)


# -- train rows in the harness ------------------------------------------------------------------


@pytest.fixture(scope="module")
def train_rows(tmp_path_factory):
    from spikebench import profiles

    quick = [
        c for c in profiles.profile_cases("quick", ["cpu"], family=["queues"]) if c.mode == "train"
    ]
    assert {(c.framework, c.size["capacity"]) for c in quick} == {("jax", 1), ("jax", 4)}
    cs = [
        c for c in profiles.profile_cases("full", ["cpu"], family=["queues"]) if c.mode == "train"
    ]
    assert {(c.framework, c.size["capacity"]) for c in cs} == {
        (f, k) for f in td.FRAMEWORKS for k in td.CAPACITIES
    }
    # JAX at capacities 1 and 2 (PyTorch's train rows go through the same harness path in
    # test_training_yinyang.py; its delay training is tested above)
    cs = [
        resized(c, epochs=3, target_pct=40)
        for c in cs
        if c.framework == "jax" and c.size["capacity"] in (1, 2)
    ]
    return run_train_rows(td, cs, tmp_path_factory.mktemp("train"), N_TRAIN, N_TEST)


def test_train_rows_are_ok_correct_and_valid(train_rows):
    from spikebench.submission import validate

    rows, path = train_rows
    assert len(rows) == 2
    for r in rows:
        # the band check: float32 runs of this chaotic task part ways from the float64
        # reference (README), so a row may be off the band; its figure must say so
        assert r["status"] == "ok" and isinstance(r["correct"], bool), r
        assert r["correct"] or r["max_err"] > 0.20
        assert r["family"] == "queues" and r["impl"] == "fifo" and r["dataset"] == "timing"
        assert r["rounds"] == 3 and r["param_epochs"] == 3 and r["param_batch"] == 32
        assert 0.0 < r["drop_rate"] < 1.0 and 0.0 < r["spike_rate"] < 1.0
        assert r["throughput_unit"] == "train-samples/s"
    by_cap = {(r["framework"], r["param_capacity"]): r["drop_rate"] for r in rows}
    assert by_cap[("jax", 1)] > by_cap[("jax", 2)]
    # at capacity 1 the float32 JAX run follows the float64 one (measured: the same curve)
    assert (
        next(r for r in rows if r["framework"] == "jax" and r["param_capacity"] == 1)["correct"]
        is True
    )
    rep = validate.validate(path, strict=True)  # strict: an incorrect row is an error
    assert all("is incorrect here" in str(e) for e in rep.errors), rep.errors
    assert validate.validate(path).ok


def test_the_report_shows_accuracy_against_drop_rate(train_rows, tmp_path):
    from spikebench import results
    from spikebench.report import site as report
    from spikebench.report import training as report_training

    _, path = train_rows
    df = results.read([path])
    t = queues_report.accuracy_vs_drop(df)
    assert len(t) == 2 and set(t["param_capacity"]) == {1, 2}
    assert t["drop_rate"].between(0, 1).all() and t["accuracy"].between(0, 1).all()
    assert [p.name for p in queues_report.plot_accuracy_vs_drop(df, tmp_path)] == [
        "queues_accuracy_vs_drop.png",
        "queues_accuracy_vs_drop.svg",
    ]
    table = report_training.table(df, "queues", "design")
    assert {"capacity", "drop rate", "design"} <= set(table.columns) and len(table) == 2
    assert queues_report.plot_accuracy_vs_drop(df[df["mode"] != "train"], tmp_path) == []
    # the whole report: the index's time-to-accuracy lines and the queue page's figures
    written = report.render([path], tmp_path / "rep")
    index = (tmp_path / "rep" / "index.html").read_text()
    assert report_training.INDEX_TITLE in index and "timing classes" in index
    names = {p.name for p in written}
    assert {"queues_training.png", "queues_accuracy_vs_drop.png"} <= names
