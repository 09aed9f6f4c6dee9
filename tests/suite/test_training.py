"""Training to accuracy (``spikebench.training``) and the digits dataset it trains on: tiny runs
learn well above chance, the same seed gives the same curve, JAX and PyTorch follow the same
curve from the same NumPy start, and bad settings are refused with the value named."""

from __future__ import annotations

import math

import numpy as np
import pytest
from spikebench import training
from spikebench.datasets import binned, digits
from spikebench.datasets._digits import split_indices
from spikebench.families.psu import report as psu_report
from spikebench.families.psu.training import digits_inputs, train_psu_digits
from spikebench.training import TrainConfig

T = 15


@pytest.fixture(scope="module")
def data():
    return digits_inputs(T, 0)


# -- the dataset --------------------------------------------------------------------------------


def test_digits_splits_are_stratified_disjoint_and_seeded():
    train, test = digits("train"), digits("test")
    assert train.n_channels == 64 and len(train.labels) + len(test.labels) == 1797
    # 20 % of every class (rounded) is test
    for c in range(10):
        n_c = np.sum(train.labels == c) + np.sum(test.labels == c)
        assert np.sum(test.labels == c) == round(0.2 * n_c)
    labels = np.concatenate([train.labels, test.labels])
    a, b = split_indices(labels, 0, 0.2), split_indices(labels, 1, 0.2)
    assert not set(a["train"]) & set(a["test"])
    assert not np.array_equal(a["test"], b["test"])
    assert np.array_equal(digits("test", seed=0).times, test.times)


def test_digits_latency_code():
    """Bright pixels spike early: a pixel of full intensity (16) at t = 0, none at 0."""
    from sklearn.datasets import load_digits

    images = load_digits().images
    b = digits("train", t_max=0.01)
    i = int(split_indices(load_digits().target, 0, 0.2)["train"][0])
    img = images[i].ravel()
    got = {int(c): t for t, c in zip(b.times[0], b.channels[0], strict=True) if c >= 0}
    assert set(got) == set(np.flatnonzero(img > 0))
    for c, t in got.items():
        assert math.isclose(t, 0.01 * (1 - img[c] / 16))
    x = binned(b, 0.01 / T, n_bins=T, binary=True)
    assert x.shape == (T, len(b.labels), 64) and x.max() == 1.0


@pytest.mark.parametrize(
    "kw, name",
    [
        (dict(split="valid"), "valid"),
        (dict(test_fraction=0.0), "test_fraction"),
        (dict(test_fraction=1.0), "test_fraction"),
        (dict(t_max=-1.0), "t_max"),
        (dict(threshold=1.0), "threshold"),
    ],
)
def test_digits_bad_arguments(kw, name):
    with pytest.raises(ValueError, match=name):
        digits(**kw)


# -- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw, name",
    [
        (dict(lr=0.0), "lr"),
        (dict(lr=-1e-3), "lr"),
        (dict(lr=float("nan")), "lr"),
        (dict(epochs=0), "epochs"),
        (dict(epochs=2.5), "epochs"),
        (dict(batch=0), "batch"),
        (dict(target=0.0), "target"),
        (dict(target=1.5), "target"),
        (dict(seed=-1), "seed"),
    ],
)
def test_bad_settings_are_refused(kw, name):
    with pytest.raises(ValueError, match=name):
        TrainConfig(**kw)


def test_bad_runs_are_refused(data):
    with pytest.raises(ValueError, match="nosuch"):
        train_psu_digits("nosuch", "jax", data=data)
    with pytest.raises(ValueError, match="tensorflow"):
        train_psu_digits("psu", "tensorflow", data=data)
    with pytest.raises(ValueError, match="batch=5000"):
        train_psu_digits("psu", "jax", TrainConfig(batch=5000), data=data)


# -- learning -----------------------------------------------------------------------------------


def _run(kind, fw, data, epochs=3, **kw):
    return train_psu_digits(
        kind, fw, TrainConfig(epochs=epochs, target=0.5), hidden=64, data=data, **kw
    )


@pytest.mark.parametrize("fw", ["jax", "torch"])
@pytest.mark.parametrize("kind", ["lif", "ipsu"])
def test_tiny_runs_learn(kind, fw, data):
    """3 epochs of 22 batches on 10 classes: test accuracy far above chance (0.1)."""
    seen = []
    r = _run(kind, fw, data, progress=seen.append)
    assert seen == r.curve and [e["epoch"] for e in r.curve] == [1, 2, 3]
    assert r.final_accuracy > 0.5, r.curve
    assert r.curve[-1]["loss"] < r.curve[0]["loss"]
    assert 0.0 < r.firing_rate < 1.0
    assert r.epochs_to_target is not None and r.time_to_target_s > 0 and r.reason == ""
    assert r.compile_s > 0
    times = [e["time_s"] for e in r.curve]
    assert times == sorted(times)


def test_same_seed_same_curve_and_a_missed_target_says_why(data):
    a, b = (
        train_psu_digits("psu", "jax", TrainConfig(epochs=2, target=1.0), hidden=32, data=data)
        for _ in range(2)
    )
    strip = [{k: v for k, v in e.items() if k != "time_s"} for e in a.curve]
    assert strip == [{k: v for k, v in e.items() if k != "time_s"} for e in b.curve]
    assert a.epochs_to_target is None and a.time_to_target_s is None
    assert "below the target 1.0" in a.reason
    assert a.to_dict()["final_accuracy"] == a.final_accuracy


def test_jax_and_torch_follow_the_same_curve(data):
    """Same NumPy start, same batches, the same Adam: the curves agree within float32
    rounding (accuracy within 0.02 every epoch)."""
    j, t = (_run("rpsu", fw, data, epochs=2) for fw in training.FRAMEWORKS)
    for ej, et in zip(j.curve, t.curve, strict=True):
        assert abs(ej["accuracy"] - et["accuracy"]) <= 0.02
        assert ej["loss"] == pytest.approx(et["loss"], rel=1e-3)


# -- the command --------------------------------------------------------------------------------


def test_train_command(tmp_path):
    import json

    from spikebench.cli import app
    from typer.testing import CliRunner

    runner = CliRunner()
    out = tmp_path / "runs.json"
    res = runner.invoke(
        app,
        [
            "train",
            "--kind",
            "ipsu",
            "--framework",
            "jax",
            "--epochs",
            "2",
            "--target",
            "0.5",
            "--json",
            str(out),
        ],
        env={"COLUMNS": "200"},
    )
    assert res.exit_code == 0, res.output
    assert "ipsu" in res.output and "time to target" in res.output
    (run,) = json.loads(out.read_text())
    assert run["impl"] == "ipsu" and run["framework"] == "jax" and len(run["curve"]) == 2
    assert run["final_accuracy"] == run["curve"][-1]["accuracy"] > 0.5
    for args, says in (
        (["--kind", "nosuch"], "nosuch not in"),
        (["--framework", "numpy"], "numpy not in"),
        (["--epochs", "0"], "epochs must be"),
    ):
        res = runner.invoke(app, ["train", *args], env={"COLUMNS": "200"})
        assert res.exit_code == 2 and says in res.output, res.output


def test_train_command_other_tasks(tmp_path):
    """--task picks the task; --impl its implementations (capacities for the delay task);
    a value outside the task's is a usage error naming the allowed ones."""
    import json

    from spikebench.cli import app
    from typer.testing import CliRunner

    runner = CliRunner()
    out = tmp_path / "runs.json"
    res = runner.invoke(
        app,
        [
            "train",
            "--task",
            "delays",
            "--impl",
            "1",
            "--framework",
            "jax",
            "--epochs",
            "1",
            "--json",
            str(out),
        ],
        env={"COLUMNS": "200"},
    )
    assert res.exit_code == 0, res.output
    assert "drop rate" in res.output
    (run,) = json.loads(out.read_text())
    assert run["task"] == "timing/capacity=1" and 0 < run["curve"][0]["drop_rate"] < 1
    for args, says in (
        (["--task", "nosuch"], "nosuch not in delays, digits, yinyang"),
        (["--task", "yinyang", "--impl", "ipsu"], "ipsu not in serial, parallel"),
        (["--task", "delays", "--impl", "3"], "3 not in 1, 2, 4, 8"),
    ):
        res = runner.invoke(app, ["train", *args], env={"COLUMNS": "200"})
        assert res.exit_code == 2 and says in res.output, res.output


# -- train rows in the harness (mode `train`, schema v6) ----------------------------------------


def _train_cases(**sizes):
    from spikebench import cases, profiles

    cs = [c for c in profiles.profile_cases("quick", ["cpu"], family=["psu"]) if c.mode == "train"]
    assert {(c.impl, c.framework) for c in cs} == {
        (i, f) for i in ("lif", "psu") for f in ("jax", "torch")
    }
    return [
        cases.Case(**{**c.__dict__, "sizes": tuple(sorted({**c.size, **sizes}.items()))})
        for c in cs
    ]


@pytest.fixture(scope="module")
def train_rows(tmp_path_factory):
    from spikebench.harness import runner

    cs = _train_cases(epochs=3, n_neurons=64, target_pct=50)
    with runner.Session(tmp_path_factory.mktemp("train"), isolate=False) as s:
        rows = [s.run(c) for c in cs]
    return rows, s.csv_path


def test_train_rows_are_ok_correct_and_valid(train_rows):
    from spikebench import results
    from spikebench.families.psu import report as report_psu
    from spikebench.submission import validate

    rows, path = train_rows
    for r in rows:
        assert r["status"] == "ok" and r["correct"] is True, r
        assert r["mode"] == "train" and r["rounds"] == 3 and r["param_epochs"] == 3
        acc = [float(a) for a in r["curve_accuracy"].split()]
        assert len(acc) == 3 and acc[-1] == pytest.approx(r["accuracy"], abs=1e-6)
        assert r["target"] == 0.5 and r["epochs_to_target"] >= 1
        assert r["max_err"] <= 0.03 and r["throughput_unit"] == "train-samples/s"
    rep = validate.validate(path, strict=True)
    assert rep.ok, rep.errors
    table = report_psu.training(results.read([path]))
    assert len(table) == 4 and set(table["framework"]) == {"jax", "torch"}
    assert report_psu.ratios(results.read([path])).empty  # training runs are not timed calls


def test_an_edited_curve_or_time_to_target_fails_validation(train_rows, tmp_path):
    import pandas as pd
    from spikebench.submission import validate

    _, path = train_rows
    for col, value, says in (
        ("curve_accuracy", "0.1 0.2 0.3", "curve ends at"),
        ("time_to_target_s", 123.0, "edited figure"),
        ("curve_accuracy", "0.5 0.6", "one accuracy in [0, 1] per epoch"),
    ):
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        df.loc[0, col] = str(value)
        bad = tmp_path / path.name
        df.to_csv(bad, index=False)
        (tmp_path / path.with_suffix(".json").name).write_text(
            path.with_suffix(".json").read_text()
        )
        rep = validate.validate(bad)
        assert not rep.ok and any(says in e for e in map(str, rep.errors)), (col, rep.errors)


def test_migrate_v5_adds_the_training_columns_empty():
    import pandas as pd
    from spikebench import results

    v5 = [c for c in results.COLUMNS if c not in results.ADDED[5]]
    out = results.migrate(pd.DataFrame([{c: None for c in v5} | {"schema_version": 5}]))
    assert set(out.columns) >= set(results.COLUMNS)
    assert all(pd.isna(out[c][0]) for c in results.ADDED[5])


def test_the_learning_curves_are_plotted(train_rows, tmp_path):
    from spikebench import results
    from spikebench.families.psu import report as report_psu

    _, path = train_rows
    df = results.read([path])
    c = report_psu.curves(df)
    assert len(c) == 4 * 3 and set(c["epoch"]) == {1, 2, 3}
    for _, g in c.groupby(["impl", "framework"]):
        assert list(g["time_s"]) == sorted(g["time_s"])  # the running sum of the epochs
    written = report_psu.plot_curves(df, tmp_path)
    assert [p.name for p in written] == ["psu_training.png", "psu_training.svg"]
    assert all(p.stat().st_size > 1000 for p in written)
    assert report_psu.plot_curves(df[df["mode"] != "train"], tmp_path) == []


def test_accuracy_against_the_lif_time_ratio(train_rows, tmp_path):
    """The PSU family's accuracy-against-speed view: each unit's accuracy beside LIF's and
    LIF's time per epoch over the unit's, per framework and place."""
    from spikebench import results

    _, path = train_rows
    df = results.read([path])
    t = psu_report.accuracy_vs_ratio(df)
    assert len(t) == 2 and set(t["impl"]) == {"psu"} and set(t["framework"]) == {"jax", "torch"}
    rows = df.set_index(["impl", "framework"])
    for _, r in t.iterrows():
        want = (
            rows.loc[("lif", r["framework"]), "time_median_s"]
            / rows.loc[("psu", r["framework"]), "time_median_s"]
        )
        assert r["lif_over"] == pytest.approx(want)
        assert r["lif_accuracy"] == rows.loc[("lif", r["framework"]), "accuracy"]
    assert [p.name for p in psu_report.plot_accuracy_vs_ratio(df, tmp_path)] == [
        "psu_accuracy_vs_ratio.png",
        "psu_accuracy_vs_ratio.svg",
    ]
