"""Training to accuracy, Yin-Yang with the exact event-driven LIF network
(``spikebench.families.event_lif.training``):
tiny runs learn, the serial event order and the chunked
simulator follow the same curve in JAX and PyTorch, budgets grow instead of truncating, and the
harness's train rows are correct and valid."""

from __future__ import annotations

import numpy as np
import pytest
from spikebench.families.event_lif import training as ty
from spikebench.training import TrainConfig

from tests.helpers import resized, run_train_rows

N_TRAIN, N_TEST = 600, 300


@pytest.fixture(scope="module")
def data():
    return ty.yinyang_inputs(0, N_TRAIN, N_TEST)


def _run(impl, fw, data, epochs=3, **kw):
    return ty.train_yinyang(
        impl,
        fw,
        TrainConfig(epochs=epochs, batch=30, lr=ty.LR, target=0.6),
        hidden=40,
        data=data,
        **kw,
    )


def test_inputs_are_the_yinyang_events(data):
    (t, c), y = data["train"]
    assert t.shape == c.shape == (N_TRAIN, 5) and y.shape == (N_TRAIN,)
    assert set(np.unique(y)) == {0, 1, 2} and (np.diff(t, axis=1) >= 0).all()
    assert sorted(c[0]) == [0, 1, 2, 3, 4]
    assert not np.array_equal(data["test"][0][0][:10], t[:10])  # another seed


@pytest.fixture(scope="module")
def parallel_runs(data):
    """The parallel run of each framework (3 epochs) and the progress it reported, shared by
    the tests below (the first two epochs of a run are the 2-epoch run: the batch order is
    seeded by (seed, epoch))."""
    out = {}
    for fw in ty.FRAMEWORKS:
        seen: list = []
        out[fw] = (_run("parallel", fw, data, progress=seen.append), seen)
    return out


@pytest.mark.parametrize("fw", ty.FRAMEWORKS)
def test_tiny_runs_learn_and_serial_equals_parallel(fw, data, parallel_runs):
    """20 steps a epoch, 3 epochs, 3 classes: test accuracy far above chance (1/3); the serial
    event order (chunk 1) and the chunked simulator compute the same spikes and gradients,
    so their curves agree (float32: accuracy within 0.02)."""
    par, seen = parallel_runs[fw]
    ser = _run("serial", fw, data)
    assert seen == par.curve and [e["epoch"] for e in par.curve] == [1, 2, 3]
    assert par.final_accuracy > 0.6, par.curve
    assert par.curve[-1]["loss"] < par.curve[0]["loss"]
    assert 0.5 < par.firing_rate < 5.0  # hidden spikes per neuron and sample
    assert par.compile_s > 0 and par.epochs_to_target is not None
    for es, ep in zip(ser.curve, par.curve, strict=True):
        assert abs(es["accuracy"] - ep["accuracy"]) <= 0.02
        assert es["loss"] == pytest.approx(ep["loss"], rel=1e-3)


def test_jax_and_torch_follow_the_same_curve(parallel_runs):
    """The first two epochs agree (float32 rounding apart; the third drifts further)."""
    (j, _), (t, _) = (parallel_runs[fw] for fw in ty.FRAMEWORKS)
    for ej, et in zip(j.curve[:2], t.curve[:2], strict=True):
        assert abs(ej["accuracy"] - et["accuracy"]) <= 0.02
        assert ej["loss"] == pytest.approx(et["loss"], rel=1e-3)


ty_initial = ty.initial_budgets


@pytest.mark.parametrize("fw", ty.FRAMEWORKS)
def test_budgets_too_small_grow_and_the_run_says_so(fw, monkeypatch):
    """Budgets that cannot hold the spikes: the step is thrown away and runs again with
    doubled budgets (never a truncated step); the same curve as with roomy budgets (one epoch
    of 4 steps: the growth happens at the first step and the evaluation)."""
    data = ty.yinyang_inputs(0, 120, 60)
    roomy = _run("parallel", fw, data, epochs=1)
    # half the default spike room: one doubling (each one is a compile in JAX)
    monkeypatch.setattr(
        ty,
        "initial_budgets",
        lambda chunk: tuple((max(1, a // 2), b) for a, b in ty_initial(chunk)),
    )
    tight = _run("parallel", fw, data, epochs=1)
    assert "budgets grew" in tight.reason and "budgets" not in roomy.reason
    assert tight.curve[0]["accuracy"] == roomy.curve[0]["accuracy"]
    assert tight.curve[0]["loss"] == pytest.approx(roomy.curve[0]["loss"], rel=1e-6)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("nosuch", "jax"), "unknown event-LIF training implementation 'nosuch'"),
        (("parallel", "numpy"), "not 'numpy'"),
    ],
)
def test_bad_runs_are_refused(args, says, data):
    with pytest.raises(ValueError, match=says):
        ty.train_yinyang(*args, data=data)
    with pytest.raises(ValueError, match="dtype must be"):
        ty.train_yinyang("parallel", "jax", dtype="float16", data=data)


# -- train rows in the harness ------------------------------------------------------------------


@pytest.fixture(scope="module")
def train_rows(tmp_path_factory):
    from spikebench import profiles

    quick = [
        c
        for c in profiles.profile_cases("quick", ["cpu"], family=["event_lif"])
        if c.mode == "train" and c.framework in ("jax", "torch")  # jaxsnn's: tests/peers
    ]
    assert [(c.impl, c.framework) for c in quick] == [("parallel", "jax")]
    cs = [
        c
        for c in profiles.profile_cases("full", ["cpu"], family=["event_lif"])
        if c.mode == "train" and c.framework in ("jax", "torch")
    ]
    assert {(c.impl, c.framework) for c in cs} == {(i, f) for i in ty.IMPLS for f in ty.FRAMEWORKS}
    small = {"epochs": 3, "n_neurons": 40, "batch": 30, "target_pct": 60}
    # both implementations and both frameworks, in two rows (PyTorch's parallel chunk loop
    # is the slow one; the tests above train every pair)
    cs = [
        resized(c, **small)
        for c in cs
        if (c.impl, c.framework) in {("parallel", "jax"), ("serial", "torch")}
    ]
    return run_train_rows(ty, cs, tmp_path_factory.mktemp("train"), N_TRAIN, N_TEST)


def test_train_rows_are_ok_correct_and_valid(train_rows):
    from spikebench import results
    from spikebench.submission import validate

    rows, path = train_rows
    for r in rows:
        assert r["status"] == "ok" and r["correct"] is True, r
        assert r["family"] == "event_lif" and r["dataset"] == "yinyang"
        assert r["rounds"] == 3 and r["param_epochs"] == 3 and r["param_n_neurons"] == 40
        assert r["param_chunk_size"] == (ty.CHUNK if r["impl"] == "parallel" else None)
        acc = [float(a) for a in r["curve_accuracy"].split()]
        assert len(acc) == 3 and acc[-1] == pytest.approx(r["accuracy"], abs=1e-6)
        assert r["max_err"] <= 0.03 and r["throughput_unit"] == "train-samples/s"
    rep = validate.validate(path, strict=True)
    assert rep.ok, rep.errors
    df = results.read([path])
    assert set(df["impl"]) == set(ty.IMPLS)


def test_the_report_shows_the_yinyang_curves(train_rows, tmp_path):
    from spikebench import results
    from spikebench.report import training as report_training

    _, path = train_rows
    df = results.read([path])
    c = report_training.curves(df, "event_lif")
    assert len(c) == 2 * 3 and set(c["impl"]) == set(ty.IMPLS)
    assert [p.name for p in report_training.plot_curves(df, tmp_path, "event_lif", "Yin-Yang")] == [
        "event_lif_training.png",
        "event_lif_training.svg",
    ]
    table = report_training.table(df, "event_lif", "implementation")
    assert "implementation" in table and "firing rate" not in table  # not a fraction here
    idx = report_training.index_table(df, {"event_lif": "Yin-Yang"})
    assert set(idx["task"]) == {"Yin-Yang"} and len(idx) == 2
