"""The harness: registry, cases and profiles, timer, results writer, worker isolation."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from spikebench import cases, families, profiles, registry, results
from spikebench.families.event_lif import sweeps as lif_sweeps
from spikebench.families.psu import sweeps as psu_sweeps
from spikebench.harness import runner, timing, worker


def test_registry_has_every_framework_twin():
    reg = families.load_kernels()
    for fw in ("numpy", "jax", "torch"):
        assert ("event_lif", "serial", fw) in reg
        assert ("event_lif", "bare_scan", fw) in reg
    for fw in ("jax", "torch"):
        par = reg[("event_lif", "parallel", fw)]
        assert par.modes == ("forward", "grad") and "chunk" in par.entry("layer").knobs
        assert set(par.entries) == {"layer", "net_forward", "net_grad"}
        assert par.entry("net_grad").modes == ("grad",)
        # serial: the serial event order's training step (the parallel kernel at chunk 1)
        assert set(reg[("event_lif", "serial", fw)].entries) == {"layer", "net_forward", "net_grad"}
        for neuron in ("lif", "psu", "ipsu", "rpsu"):
            psu = reg[("psu", neuron, fw)]
            assert psu.modes == ("forward", "grad")
            assert set(psu.entries) == {
                "neuron_forward",
                "neuron_grad",
                "network_forward",
                "network_grad",
            }
        for design in ("heap", "fifo", "ring", "sorted", "lossy"):
            q = reg[("queues", design, fw)]
            assert set(q.entries) == {
                "traffic",
                "network_forward",
                "network_grad",
                "network_jvp",
                "classify_forward",
                "classify_grad",
            }
            assert q.entry("network_jvp").knobs == ("ad",)
    assert not registry.UNAVAILABLE


def test_duplicate_registration_raises():
    registry.register("selftest_dup", "x", "numpy")(lambda: None)
    with pytest.raises(ValueError, match="duplicate"):
        registry.register("selftest_dup", "x", "numpy")(lambda: None)
    del registry.REGISTRY[("selftest_dup", "x", "numpy")]


def test_register_rejects_unknown_framework_and_mode():
    with pytest.raises(ValueError, match="framework"):
        registry.register("f", "i", "tensorflow")
    with pytest.raises(ValueError, match="mode"):
        registry.register("f", "i", "numpy", modes=("sideways",))
    with pytest.raises(ValueError, match="dtype"):
        registry.register("f", "i", "numpy", dtypes=("float16",))


def test_one_function_registers_several_impls_and_entries():
    fn = registry.register(
        "selftest_multi",
        ("a", "b"),
        "numpy",
        entry="run",
        modes=("grad",),
        dtypes=("float32",),
        knobs=("k",),
    )(lambda: None)
    try:
        for name in ("a", "b"):
            impl = registry.REGISTRY[("selftest_multi", name, "numpy")]
            e = impl.entry("run")
            assert e.fn is fn and e.modes == ("grad",) and e.dtypes == ("float32",)
            assert e.knobs == ("k",) and impl.modes == ("grad",)
            with pytest.raises(registry.Unsupported, match="no 'forward' entry"):
                impl.entry("forward")
    finally:
        for name in ("a", "b"):
            del registry.REGISTRY[("selftest_multi", name, "numpy")]


def test_missing_implementation_is_unsupported():
    with pytest.raises(registry.Unsupported):
        families.implementation("event_lif", "no_such_impl", "numpy")


def test_missing_framework_module_is_recorded(monkeypatch):
    fam = families.get("selftest")
    monkeypatch.setattr(fam, "kernel_modules", {"numpy": ("spikebench_no_such_module",)})
    monkeypatch.setattr(registry, "UNAVAILABLE", {})
    families.load_kernels(("numpy",))
    assert "numpy" in registry.UNAVAILABLE


def test_case_is_hashable_and_id_stable():
    a = cases.Case(
        "event_lif", "serial", "jax", "cpu", "float64", "forward", "poisson", (("n_events", 100),)
    )
    b = cases.Case(
        "event_lif",
        "serial",
        "jax",
        "cpu",
        "float64",
        "forward",
        "poisson",
        (("n_events", 100),),
        timeout_s=5,
    )
    assert a == b and hash(a) == hash(b) and a.case_id == b.case_id
    assert len({a, b}) == 1


def test_quick_profile_expansion_and_limits():
    every = profiles.profile_cases("quick", ["cpu"])
    assert every and len(every) == len(set(every))
    assert {c.family for c in every} == {"event_lif", "psu", "queues"}
    cs = [c for c in every if c.family == "event_lif"]
    torch_serial = [
        c for c in cs if c.framework == "torch" and c.impl == "serial" and c.dataset == "poisson"
    ]
    assert max(c.size["n_events"] for c in torch_serial) == 1_000
    jax_serial = [c for c in cs if c.framework == "jax" and c.impl == "serial"]
    assert {c.size["n_events"] for c in jax_serial} == {10**k for k in range(2, 6)} | {
        4000,
        2000,
    } | set(lif_sweeps.RATES_HZ)  # the NEST density cases: one simulated second
    # the NEST anchor: serial rows on the same inputs as JAX's, some at one thread
    nest = [c for c in cs if c.framework == "nest"]
    assert nest and {c.impl for c in nest} == {"serial"}
    for c in nest:
        assert any(
            j.framework == "jax" and j.input_key == c.input_key and j.knobs == c.knobs for j in cs
        )
    assert {c.knob.get("threads") for c in nest} == {None, 1}
    assert {c.dtype for c in cs} == {"float32", "float64"}
    assert {c.dataset for c in cs} == {"poisson", "synthetic-shd", "yinyang"}  # yinyang: train
    # the PSU family: every neuron, framework and mode over the whole T range (float32)
    psu = [c for c in every if c.family == "psu"]
    neuron = [
        c
        for c in psu
        if c.dataset == "gaussian" and c.dtype == "float32" and c.framework in ("jax", "torch")
    ]
    assert {(c.impl, c.framework, c.mode, c.size["T"]) for c in neuron} == {
        (i, f, m, t)
        for i in ("lif", "psu", "ipsu", "rpsu")
        for f in ("jax", "torch")
        for m in ("forward", "grad")
        for t in psu_sweeps.QUICK_STEPS
    }
    net = [c for c in psu if c.dataset == "synthetic-shd"]
    assert 15 in {c.size["T"] for c in net} and {c.mode for c in net} == {"forward", "grad"}
    assert {c.dtype for c in psu} == {"float32"}  # float64: `full`
    # the chunk sweep: every power of four 1..1024 and 128, with the serial baseline on the
    # same inputs
    par = [
        c
        for c in cs
        if c.impl == "parallel" and c.mode == "forward" and c.size.get("n_layers", 1) == 1
    ]
    assert {c.knob["chunk"] for c in par if c.framework == "jax"} == set(lif_sweeps.QUICK_CHUNKS)
    assert {16, 128, 1024} <= {c.knob["chunk"] for c in par if c.framework == "torch"}
    for c in par:  # compiled PyTorch's baseline is eager PyTorch's serial simulator
        base = "torch" if c.framework == "torch-compile" else c.framework
        assert any(
            s.impl == "serial" and s.input_key == c.input_key and s.framework == base for s in cs
        )
    assert {c.framework for c in par} == {"jax", "torch", "torch-compile"}
    # knobs belong to their implementation; "drop" limits remove combinations
    assert all(c.knobs == () or set(c.knob) == {"threads"} for c in cs if c.impl != "parallel")
    grad = [c for c in cs if c.mode == "grad" and c.impl == "parallel"]
    assert {c.knob["remat"] for c in grad if c.framework == "jax"} == {True}  # False: full
    assert not any("remat" in c.knob and not c.knob["remat"] for c in cs if c.mode == "forward")


def test_profile_filters_and_errors():
    cs = profiles.profile_cases("quick", ["cpu"], framework=["jax"], n_events=["1e3"])
    assert cs and all(c.framework == "jax" and c.size["n_events"] == 1000 for c in cs)
    with pytest.raises(ValueError, match="unknown filter"):
        profiles.profile_cases("quick", ["cpu"], colour=["red"])
    with pytest.raises(ValueError, match="unknown profile"):
        profiles.profile_cases("enormous", ["cpu"])


def test_timer_rounds_and_stats():
    calls = []
    m = timing.time_calls(
        lambda: calls.append(1), lambda x: x, min_rounds=5, max_rounds=5, min_time=0.0, warmup=2
    )
    assert m.rounds == 5 and len(calls) == 7
    m.samples = [1.0, 2.0, 3.0, 4.0]
    assert m.median == 2.5 and m.iqr == pytest.approx(1.5) and m.min == 1.0
    with pytest.raises(ValueError):
        timing.time_calls(lambda: 0, lambda x: x, min_rounds=0)


def test_timer_syncs_inside_every_timed_call():
    log = []
    timing.time_calls(
        lambda: log.append("call") or "out",
        lambda o: log.append("sync"),
        min_rounds=3,
        max_rounds=3,
        warmup=0,
    )
    assert log == ["call", "sync"] * 3


def test_writer_flushes_each_row_and_never_overwrites(tmp_path):
    path = tmp_path / "r.csv"
    w = results.ResultWriter(path)
    assert path.read_text().startswith("schema_version,")
    w.append({"status": "ok", "family": "x", "max_err": np.float64(1e-3), "correct": np.True_})
    rows = list(csv.DictReader(open(path)))  # readable while still open
    assert rows[0]["status"] == "ok" and rows[0]["max_err"] == "0.001"
    assert rows[0]["correct"] == "True"
    assert rows[0]["schema_version"] == str(results.SCHEMA_VERSION)
    assert rows[0]["peak_mem_bytes"] == ""  # unmeasured stays empty
    with pytest.raises(ValueError, match="outside schema"):
        w.append({"status": "ok", "speedup": 3.0})
    with pytest.raises(ValueError, match="status"):
        w.append({"status": "great"})
    w.close()
    with pytest.raises(FileExistsError):
        results.ResultWriter(path)


def test_migrate_v1_adds_the_layer_and_remat_columns():
    import pandas as pd

    v1 = [c for c in results.COLUMNS if c not in ("param_n_layers", "param_remat")]
    df = pd.DataFrame(
        [
            {c: None for c in v1} | {"schema_version": 1, "family": "event_lif"},
            {c: None for c in v1} | {"schema_version": 1, "family": "psu"},
        ]
    )
    out = results.migrate(df)
    assert set(out.columns) >= set(results.COLUMNS)
    assert out["param_n_layers"].tolist()[0] == 1 and pd.isna(out["param_n_layers"][1])
    assert (out["schema_version"] == results.SCHEMA_VERSION).all()


def test_migrate_v8_gives_event_lif_rows_their_one_layer():
    import pandas as pd

    v8 = [c for c in results.COLUMNS if c != "param_tau_mem_ms"]
    rows = [("event_lif", "forward"), ("event_lif", "train"), ("psu", "forward")]
    df = pd.DataFrame(
        [{c: None for c in v8} | {"schema_version": 8, "family": f, "mode": m} for f, m in rows]
    )
    out = results.migrate(df)
    assert out["param_tau_mem_ms"].tolist()[0] == results.V8_TAU_MEM_MS == 20.0
    assert out["param_tau_mem_ms"][1:].isna().all()  # training rows, other families: empty
    assert (out["schema_version"] == results.SCHEMA_VERSION).all()


def test_migrate_v2_adds_the_sparsity_columns_empty():
    import pandas as pd

    v2 = [c for c in results.COLUMNS if c not in ("spike_rate", "lif_agreement")]
    df = pd.DataFrame([{c: None for c in v2} | {"schema_version": 2, "family": "event_lif"}])
    out = results.migrate(df)
    assert set(out.columns) >= set(results.COLUMNS)
    assert pd.isna(out["spike_rate"][0]) and pd.isna(out["lif_agreement"][0])
    assert (out["schema_version"] == results.SCHEMA_VERSION).all()


def test_migrate_v3_adds_the_queue_columns_empty():
    import pandas as pd

    v3 = [c for c in results.COLUMNS if c not in ("param_interval", "param_ad", "drop_rate")]
    df = pd.DataFrame([{c: None for c in v3} | {"schema_version": 3, "family": "psu"}])
    out = results.migrate(df)
    assert set(out.columns) >= set(results.COLUMNS)
    assert (out["schema_version"] == results.SCHEMA_VERSION).all()
    assert pd.isna(out["inputs_version"][0])  # v5: unknown for older rows
    assert pd.isna(out["drop_rate"][0]) and pd.isna(out["param_interval"][0])


def test_migrate_rejects_newer_schema():
    import pandas as pd

    df = pd.DataFrame({"schema_version": [results.SCHEMA_VERSION + 1]})
    with pytest.raises(ValueError, match="newer"):
        results.migrate(df)


@pytest.fixture(scope="module")
def selftest_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("res")
    cs = profiles.profile_cases("selftest", ["cpu"])
    cs = [c if c.impl != "hangs" else cases.Case(**{**c.__dict__, "timeout_s": 3}) for c in cs]
    session = runner.run_sweep(cs, out_root=out, profile="selftest", progress=False)
    return session


def test_failing_and_hanging_cases_become_rows_and_the_sweep_goes_on(selftest_run):
    statuses = {r["impl"]: r["status"] for r in selftest_run.rows}
    assert statuses == {"ok": "ok", "raises": "failed", "hangs": "timeout"}
    rows = {r["impl"]: r for r in selftest_run.rows}
    assert "deliberate failure" in rows["raises"]["error"]
    assert "no result within" in rows["hangs"]["error"]
    assert rows["ok"]["correct"] is True


def test_csv_has_every_schema_column_and_json_context(selftest_run):
    import json

    df = results.read([selftest_run.csv_path])
    assert list(df.columns[: len(results.COLUMNS)]) == results.COLUMNS
    assert len(df) == 3
    ok = df[df["status"] == "ok"].iloc[0]
    assert ok["rounds"] >= 3 and ok["time_median_s"] > 0 and not math.isnan(ok["time_iqr_s"])
    assert len(str(ok["samples_s"]).split()) == ok["rounds"]
    # the kernel's own figure (NumPy: tracemalloc), the process high-water mark apart
    assert ok["mem_method"] == "numpy_tracemalloc_peak" and ok["peak_mem_bytes"] >= 0
    assert float(ok["rss_delta_bytes"]) >= 0
    ctx = json.loads(selftest_run.json_path.read_text())
    assert ctx["run_id"] == ok["run_id"] and ctx["git_commit"] == str(ok["git_commit"])
    assert ctx["cpu_cores"] >= 1 and "devices" in ctx and "inputs" in ctx


def test_json_context_holds_dataset_statistics(tmp_path):
    import json

    c = [
        cases.Case(**{**x.__dict__, "framework": "numpy"})
        for x in profiles.profile_cases(
            "quick",
            ["cpu"],
            framework=["jax"],
            n_events=[100],
            impl=["bare_scan"],
            dtype=["float64"],
            dataset=["poisson"],
        )
    ]
    with runner.Session(tmp_path, isolate=False, timing={"min_rounds": 3, "max_rounds": 3}) as s:
        row = s.run(c[0])
    assert row["status"] == "ok" and row["correct"] is True
    ctx = json.loads(s.json_path.read_text())
    (inputs,) = ctx["inputs"].values()
    assert inputs["dataset_stats"]["events_mean"] == 100
    assert inputs["layer"]["tau_mem"] == 0.02


def test_unavailable_device_and_framework_rows(tmp_path, monkeypatch):
    cs = profiles.profile_cases(
        "quick",
        ["gpu", "lpu"],
        framework=["jax"],
        n_events=[100],
        impl=["serial"],
        dtype=["float64"],
        dataset=["poisson"],
    )
    with runner.Session(tmp_path, isolate=False) as s:
        for c in cs:
            row = s.run(c)
            assert row["status"] == "unavailable" and row["error"]
        monkeypatch.setitem(registry.UNAVAILABLE, "torch", "torch is not installed (test)")
        c = profiles.profile_cases(
            "quick",
            ["cpu"],
            framework=["torch"],
            n_events=[100],
            impl=["serial"],
            dtype=["float64"],
            dataset=["poisson"],
        )[0]
        row = s.run(c)
        assert row["status"] == "unavailable" and "not installed" in row["error"]


def test_unsupported_mode_is_a_row(tmp_path):
    c = profiles.profile_cases(
        "quick",
        ["cpu"],
        framework=["jax"],
        n_events=[100],
        impl=["bare_scan"],
        dtype=["float64"],
        dataset=["poisson"],
    )[0]
    c = cases.Case(**{**c.__dict__, "mode": "grad"})
    with runner.Session(tmp_path, isolate=False) as s:
        row = s.run(c)
    assert row["status"] == "unsupported" and "not 'grad'" in row["error"]


def test_in_process_event_lif_row_is_correct(tmp_path):
    c = profiles.profile_cases(
        "quick",
        ["cpu"],
        framework=["torch"],
        n_events=[100],
        impl=["serial"],
        dtype=["float32"],
        dataset=["poisson"],
    )[0]
    with runner.Session(tmp_path, isolate=False, timing={"min_rounds": 3, "max_rounds": 3}) as s:
        row = s.run(c)
    assert row["status"] == "ok", row["error"]
    assert row["correct"] is True and row["max_err"] is not None
    assert row["throughput_unit"] == "neuron-events/s" and row["kernel_version"]


def _small(case, **sizes):
    return cases.Case(**{**case.__dict__, "sizes": tuple(sorted({**case.size, **sizes}.items()))})


@pytest.mark.parametrize("fw", ["jax", "torch"])
def test_parallel_network_and_training_rows_are_correct(tmp_path, fw):
    cs = profiles.profile_cases("quick", ["cpu"], framework=[fw], impl=["parallel"])
    layer = _small(
        next(c for c in cs if c.size["n_neurons"] == 128 and c.knob["chunk"] == 16),
        n_events=300,
        batch=2,
        n_neurons=16,
    )
    net = [
        _small(c, n_events=300, n_neurons=16, batch=2)
        for c in cs
        if c.size.get("n_layers") == 2
        and c.knob.get("chunk") == (16 if fw == "jax" else 128)
        and c.knob.get("remat", True)
    ]
    with runner.Session(tmp_path, isolate=False, timing={"min_rounds": 3, "max_rounds": 3}) as s:
        rows = [s.run(c) for c in [layer, *net]]
    for row in rows:
        assert row["status"] == "ok", row["error"]
        assert row["correct"] is True and row["max_err"] is not None, row
        assert row["param_chunk_size"] in (16, 128)
    assert {r["mode"] for r in rows} == {"forward", "grad"}
    assert rows[-1]["param_remat"] in (True, False) and rows[-1]["param_n_layers"] == 2


def test_overflowing_budgets_make_rows_incorrect():
    from spikebench.families import event_lif

    fam = event_lif.FAMILY

    case = next(
        c
        for c in profiles.profile_cases("quick", ["cpu"], framework=["jax"], impl=["parallel"])
        if c.mode == "grad"
    )
    ref = {"loss": 1.0, "fd": 1.0, "direction": [np.ones(2)]}
    good = (1.0, ((), np.array([0.5, 0.5])), 0)
    assert fam.check(case, None, good, ref)["correct"] is True
    bad = fam.check(case, None, (1.0, ((), np.array([0.5, 0.5])), 3), ref)
    assert bad["correct"] is False and "overflow" in bad["note"]
    nan = fam.check(case, None, (1.0, ((), np.array([np.inf, 0.5])), 0), ref)
    assert nan["correct"] is False and "non-finite" in nan["note"]
    layer = next(
        c
        for c in profiles.profile_cases("quick", ["cpu"], framework=["jax"], impl=["parallel"])
        if c.mode == "forward"
    )
    out = (
        np.full((1, 1, 2), np.inf),
        np.zeros((1, 1), int),
        np.zeros((1, 1), bool),
        np.ones((1, 1), int),
        np.ones((1, 1), int),
    )
    chk = fam.check(layer, None, out, {"lanes": [(0, 0)], "spikes": [np.array([])]})
    assert chk["correct"] is False and "unprocessed" in chk["note"]


def test_worker_classifies_errors():
    assert worker._classify(registry.Unsupported("x")) == "unsupported"
    assert worker._classify(MemoryError()) == "oom"
    assert worker._classify(RuntimeError("RESOURCE_EXHAUSTED: out of memory")) == "oom"
    assert worker._classify(RuntimeError("boom")) == "failed"
