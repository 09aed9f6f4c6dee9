"""A family defined here, in a test file, runs through `run`, `validate` and `report` without
any suite file edited: the registry entry, the adapter (a ``Family`` subclass) and
``families.register`` are all it takes."""

from __future__ import annotations

import numpy as np
import pytest
from spikebench import cases, families, registry
from spikebench.families import Family, Section
from spikebench.harness import runner
from spikebench.report import site as report
from spikebench.submission import validate


def toy_running_max(x):
    """The toy kernel: the running maximum (NumPy)."""
    return np.maximum.accumulate(x)


class Toy(Family):
    name = "toy"
    title = "toy family"
    units = {"toy-items/s": ("param_n_events",)}

    def make_inputs(self, case):
        rng = np.random.default_rng([case.seed, case.size["n_events"]])
        return {"x": rng.normal(size=case.size["n_events"])}

    def ref_kind(self, case):
        return "running-max"

    def reference(self, case, inputs):
        out = np.array([inputs["x"][: i + 1].max() for i in range(inputs["x"].size)])
        return out, "toy/python_loop"

    def prepare(self, case, inputs, fw, device):
        return (fw.put(inputs["x"], device),), {}, {}

    def check(self, case, inputs, out, ref):
        err = float(np.max(np.abs(out - ref)))
        return {
            "correct": err == 0.0,
            "max_err": err,
            "mismatch_frac": 0.0,
            "n_checked": int(ref.size),
        }

    def work(self, case):
        return case.size["n_events"], "toy-items/s"

    def params(self, case):
        return {"param_n_events": case.size["n_events"]}

    def summary(self, df):
        return [("toy: median per size", df[["param_n_events", "time_median_s"]])]

    def report(self, df, out_dir):
        return Section(
            self.title,
            [],
            [("toy rows", df[["impl", "time_median_s"]], "the toy family's own table")],
        )


@pytest.fixture
def toy(monkeypatch):
    fam = Toy()
    monkeypatch.setitem(families.FAMILIES, "toy", fam)  # restored after the test
    monkeypatch.setitem(
        registry.REGISTRY,
        ("toy", "running_max", "numpy"),
        registry.Impl("toy", "running_max", "numpy"),
    )
    registry.REGISTRY[("toy", "running_max", "numpy")].entries["forward"] = registry.Entry(
        "forward", toy_running_max, __name__, devices=("cpu",)
    )
    return fam


def test_register_refuses_a_non_family_and_a_taken_name():
    with pytest.raises(ValueError, match="Family instance"):
        families.register(object())
    with pytest.raises(ValueError, match="already registered"):
        families.register(families.get("psu"))


def test_a_toy_family_runs_validates_and_reports_without_suite_edits(toy, tmp_path, capsys):
    case = cases.Case(
        "toy", "running_max", "numpy", "cpu", "float64", "forward", "gaussian", (("n_events", 300),)
    )
    # in-process: a worker process imports the suite's own modules only, not this test file
    session = runner.run_sweep([case], out_root=tmp_path / "results", isolate=False, progress=False)
    (row,) = session.rows
    assert row["status"] == "ok" and row["correct"], row
    assert row["throughput_unit"] == "toy-items/s"
    assert row["throughput"] * row["time_median_s"] == pytest.approx(300)
    assert row["kernel_version"] and row["inputs_version"]
    rep = validate.validate(session.csv_path)
    assert rep.ok, rep.errors
    files = report.render([session.csv_path], tmp_path / "report")
    names = {f.name for f in files}
    assert {"toy.html", "index.html", "summary.md"} <= names
    page = (tmp_path / "report" / "toy.html").read_text()
    assert "the toy family&#x27;s own table" in page or "the toy family's own table" in page
    assert 'href="toy.html"' in (tmp_path / "report" / "index.html").read_text()
    from spikebench import cli

    cli.print_summary(session.rows)
    assert "toy: median per size" in capsys.readouterr().out


def test_the_json_holds_machine_facts_and_agrees_with_the_csv_on_threads(toy, tmp_path):
    import json

    from spikebench import results

    case = cases.Case(
        "toy", "running_max", "numpy", "cpu", "float64", "forward", "gaussian", (("n_events", 50),)
    )
    session = runner.run_sweep([case], out_root=tmp_path / "results", isolate=False, progress=False)
    ctx = json.loads(session.json_path.read_text())
    cpu = ctx["cpu"]
    assert cpu["model"] == ctx["cpu_model"] and cpu["logical_cores"] == ctx["cpu_cores"] >= 1
    for key in ("physical_cores", "freq_mhz", "governor", "cache_bytes", "load_average_start"):
        assert key in cpu  # None where this OS does not show it
    assert set(cpu["cache_bytes"]) == {"l1_data", "l1_instruction", "l2", "l3"}
    assert len(cpu["load_average_start"]) == 3
    (row,) = results.read([session.csv_path]).to_dict("records")
    assert ctx["threads"] == row["threads"] == ctx["cpu_cores"]
    assert ctx["threads_from"] == "every core"
