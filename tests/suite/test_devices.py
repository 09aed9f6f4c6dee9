"""Device kinds (docs/guide/devices.md): discovery says what is here and why the rest is not, a
sweep over every kind writes a row per kind with the right status, the ONNX rows are checked
like every other row, and the LPU path runs end to end against a stand-in GroqWare SDK (fake
compiler, assembler, lspci and groq.runner.tsp whose runner is ONNX Runtime), so everything up
to the real SDK call is exercised on any machine."""

from __future__ import annotations

import dataclasses
import importlib
import sys
import textwrap

import numpy as np
import pytest
from spikebench import families, peers, profiles, results
from spikebench.hardware import devices, groq
from spikebench.harness import runner
from spikebench.report import devices as report_devices
from spikebench.rows import PEERS
from spikebench.submission import validate

pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")

from spikebench.kernels.queues import _onnx as qo  # noqa: E402
from spikebench.kernels.queues import torch as qt  # noqa: E402


def _drop_groq_modules():
    for mod in [m for m in sys.modules if m == "groq" or m.startswith("groq.")]:
        del sys.modules[mod]


@pytest.fixture
def fresh_discovery():
    """A clean probe, and no stand-in `groq` module left behind for later tests (monkeypatch
    restores what it changed, not the modules a test imported)."""
    devices.discover.cache_clear()
    yield
    _drop_groq_modules()
    importlib.invalidate_caches()
    devices.discover.cache_clear()


def test_discovery_lists_every_kind_with_a_reason_for_the_absent(fresh_discovery):
    found = {d.kind: d for d in devices.discover()}
    assert tuple(found) == devices.KINDS
    assert found["cpu"].available and "numpy" in found["cpu"].frameworks
    assert found["onnxrt"].available, found["onnxrt"].reason
    assert found["onnxrt"].frameworks == ("onnx",)
    assert "onnxruntime" in found["onnxrt"].versions
    for d in found.values():
        assert d.available or d.reason, f"{d.kind} is unavailable without a reason"
    if not found["lpu"].available:
        assert "groq" in found["lpu"].reason
    assert devices.discover() is devices.discover()  # probed once per process


def test_frameworks_pair_only_with_the_kinds_they_reach():
    cs = profiles.profile_cases("quick", list(devices.KINDS))
    pairs = {(c.framework, c.device) for c in cs}
    # the peer libraries (docs/guide/peers.md): where their backend reaches
    assert {p for p in pairs if p[0] in PEERS} == {
        (fw, kind) for fw, peer in peers.PEERS.items() for kind in peer.reaches
    }
    assert {p for p in pairs if p[0] not in PEERS} == {
        ("jax", "cpu"),
        ("jax", "gpu"),
        ("jax", "tpu"),
        ("torch", "cpu"),
        ("torch", "gpu"),
        ("onnx", "onnxrt"),
        ("onnx", "lpu"),
        # the anchors: adseq wherever JAX goes, NEST on the CPU only
        ("adseq", "cpu"),
        ("adseq", "gpu"),
        ("adseq", "tpu"),
        ("nest", "cpu"),
        ("torch-compile", "cpu"),
        ("torch-compile", "gpu"),
    }
    onnx = [c for c in cs if c.framework == "onnx" and c.device == "onnxrt"]
    # the queues' graphs and the event-LIF chunk step: `full`
    assert {c.family for c in onnx} == {"psu"}
    full = profiles.profile_cases("full", ["onnxrt"], family=["queues"])
    assert {c.impl for c in full} == set(qo.DESIGNS)
    # the CPU-only sweep: every case but the exported graphs' (ONNX Runtime, LPU)
    cpu = profiles.profile_cases("quick", ["cpu"])
    assert {c.case_id for c in cpu} == {c.case_id for c in cs if c.device == "cpu"}


def _small(case, **sizes):
    return dataclasses.replace(case, sizes=tuple(sorted({**case.size, **sizes}.items())))


def test_a_sweep_over_every_kind_writes_each_kinds_status(tmp_path, fresh_discovery):
    # the queues' exported graphs run in `full` only
    cs = profiles.profile_cases(
        "full",
        list(devices.KINDS),
        family=["queues"],
        impl=["fifo"],
        n_queues=["10000"],
        delay=["80"],
    )
    cs = [_small(c, T=60, n_queues=1) for c in cs if c.size.get("capacity") == 4]
    assert {c.device for c in cs} == set(devices.KINDS)
    with runner.Session(
        tmp_path, isolate=False, timing={"min_rounds": 3, "max_rounds": 3, "warmup": 0}
    ) as s:
        rows = [s.run(c) for c in cs]
    for r in rows:
        here = devices.get(r["device_kind"])
        if here.available:
            assert r["status"] == "ok" and r["correct"], r
        else:
            assert r["status"] == "unavailable", r
            assert r["error"].startswith(f"no {r['device_kind']} here: ")
            assert r.get("time_median_s") is None
    onnx = [r for r in rows if r["device_kind"] == "onnxrt"]
    assert onnx and onnx[0]["framework"] == "onnx" and onnx[0]["param_chunk_size"] == 20
    # the resident high-water mark above the worker's start is measured, and may not grow
    assert (
        onnx[0]["compile_s"] > 0
        and onnx[0]["mem_method"] == "not_measured_ort"
        and onnx[0]["rss_delta_bytes"] >= 0
    )
    report = validate.validate(s.csv_path)
    assert report.ok, report.errors
    # the report sets the exported graph next to the JAX and PyTorch rows of the same case
    host = {n: f.host_params for n, f in families.FAMILIES.items()}
    table = report_devices.exported_table(results.read([s.csv_path]), host)
    assert len(table) == 1 and table["jax_s"][0] > 0 and table["torch_s"][0] > 0
    assert table["torch_over_onnx"][0] == pytest.approx(table["torch_s"][0] / table["onnx_s"][0])


def test_onnx_rows_of_both_families_are_checked(tmp_path, monkeypatch):
    """Correct rows for a queue design and the PSU family; a graph exported from a broken
    step function gives an incorrect row."""
    cs = profiles.profile_cases("quick", ["onnxrt"])
    pick = [
        _small(c, n_queues=200, T=200)
        for c in profiles.profile_cases("full", ["onnxrt"])
        if c.family == "queues" and c.impl == "sorted" and c.size.get("n_queues") == 10_000
    ]
    pick += [
        _small(c, T=16)
        for c in cs
        if c.family == "psu" and c.dataset == "gaussian" and c.size["T"] == 64
    ]
    pick += [
        _small(c, T=4, batch=4)
        for c in cs
        if c.family == "psu" and c.impl in ("lif", "ipsu") and c.dataset == "synthetic-shd"
    ]
    assert len(pick) == 7
    timing = {"min_rounds": 3, "max_rounds": 3, "warmup": 0}
    with runner.Session(tmp_path, isolate=False, timing=timing) as s:
        rows = [s.run(c) for c in pick]
    for r in rows:
        assert r["status"] == "ok" and r["correct"], r
    assert rows[0]["drop_rate"] == 0 and rows[0]["max_err"] == 0
    assert all(0 < r["spike_rate"] < 1 for r in rows[1:])

    def lossy_payload(q, now):  # loses the payload of what it delivers
        q, hits, pay = qo.sorted_pop(q, now)
        return q, hits, pay * 0.0

    monkeypatch.setitem(qo.POP, "sorted", lossy_payload)
    with runner.Session(tmp_path, isolate=False, timing=timing) as s:
        bad = s.run(pick[0])
    assert bad["status"] == "ok" and bad["correct"] is False


def test_grad_and_float64_are_unsupported_on_the_onnx_path(tmp_path):
    c = next(c for c in profiles.profile_cases("quick", ["onnxrt"], family=["psu"]))
    with runner.Session(tmp_path, isolate=False) as s:
        grad = s.run(dataclasses.replace(c, mode="grad"))
        f64 = s.run(dataclasses.replace(c, dtype="float64"))
    assert grad["status"] == "unsupported"
    assert f64["status"] == "unsupported" and "float32" in f64["error"]


# -- the LPU path against a stand-in SDK -------------------------------------------------------

TSP = '''
"""Stand-in for groq-runtime's groq.runner.tsp: the 'program' is the ONNX file."""
import onnxruntime as ort


def create_tsp_runner(iop):
    session = ort.InferenceSession(open(iop, "rb").read(),
                                   providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]

    def run(**feeds):
        return dict(zip(names, session.run(names, feeds)))

    return run
'''


def _tool(path, body):
    path.write_text("#!" + sys.executable + "\n" + textwrap.dedent(body))
    path.chmod(0o755)


@pytest.fixture
def fake_groq(tmp_path, monkeypatch, fresh_discovery):
    """A PATH with groq-compiler, aa-latest and lspci stand-ins, and groq.runner.tsp."""
    bin_dir, lib = tmp_path / "bin", tmp_path / "lib"
    (lib / "groq" / "runner").mkdir(parents=True)
    bin_dir.mkdir()
    for init in (lib / "groq" / "__init__.py", lib / "groq" / "runner" / "__init__.py"):
        init.write_text("")
    (lib / "groq" / "runner" / "tsp.py").write_text(TSP)
    log = tmp_path / "calls.log"
    _tool(
        bin_dir / "groq-compiler",
        f"""
        import shutil, sys
        open({str(log)!r}, "a").write("compile " + " ".join(sys.argv[1:]) + "\\n")
        out = sys.argv[sys.argv.index("-o") + 1]
        shutil.copy(sys.argv[1], out + ".aa")
        """,
    )
    _tool(
        bin_dir / "aa-latest",
        f"""
        import shutil, sys
        open({str(log)!r}, "a").write("assemble " + " ".join(sys.argv[1:]) + "\\n")
        shutil.copy(sys.argv[1], sys.argv[sys.argv.index("--output-iop") + 1])
        """,
    )
    _tool(
        bin_dir / "lspci",
        """
        print("00:00.0 0600: 1022:1480")
        print("41:00.0 1200: 1de0:0000 (rev 01)")
        """,
    )
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.syspath_prepend(str(lib))
    _drop_groq_modules()
    return log


def test_lpu_path_runs_end_to_end_on_a_stand_in_sdk(fake_groq, tmp_path):
    assert groq.lpu_missing() == []
    lpu = devices.get("lpu")
    assert lpu.available and lpu.count == 1 and lpu.frameworks == ("onnx",)
    n, delay = 32, 5
    run = qo.traffic_program(
        "heap",
        n,
        3,
        delay,
        "float32",
        30,
        delay,
        3,
        chunk=8,
        device="lpu",
        folder=tmp_path / "graphs",
    )
    got = run()
    ref = qt.traffic("heap", qt.init("heap", n, 3, delay), 30, delay, 3)
    assert np.array_equal(got[1], ref[1].numpy()) and np.array_equal(got[3], ref[3].numpy())
    calls = fake_groq.read_text().splitlines()
    # one program per distinct chunk length (8 and the remainder 6), compiled then assembled
    assert [c.split()[0] for c in calls] == ["compile", "assemble"] * 2
    first = calls[0].split()
    assert first[1].endswith("chunk6.onnx") and first[first.index("-o") + 1].endswith(
        "chunk6.groq/output"
    )
    assert calls[1].split()[2:] == [
        "--output-iop",
        str(tmp_path / "graphs" / "chunk6.groq" / "output.iop"),
    ]


def test_lpu_build_failure_names_the_tool_and_its_output(fake_groq, tmp_path):
    from spikebench.hardware import onnx_backend

    _tool(
        tmp_path / "bin" / "groq-compiler",
        """
        import sys
        print("error: unsupported op ScatterND")
        sys.exit(3)
        """,
    )
    with pytest.raises(RuntimeError, match=r"groq-compiler failed \(3\).*ScatterND"):
        qo.traffic_program(
            "fifo", 4, 2, 3, "float32", 4, 3, 2, chunk=4, device="lpu", folder=tmp_path / "g"
        )
    with pytest.raises(ValueError, match="runs on 'onnxrt' or 'lpu'"):
        onnx_backend.make_runner("gpu", tmp_path / "x.onnx")


def test_lpu_reasons_name_each_missing_piece(tmp_path, monkeypatch, fresh_discovery):
    """Without the SDK: each missing piece is named; a PyPI `groq` chat client is not taken
    for the runtime."""
    (tmp_path / "groq").mkdir()
    (tmp_path / "groq" / "__init__.py").write_text('"""the REST chat client"""\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    _drop_groq_modules()
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    monkeypatch.setattr(groq, "GROQ_BIN", str(tmp_path / "nothing"))
    missing = groq.lpu_missing()
    text = "; ".join(missing)
    assert "groq.runner.tsp not importable" in text and "chat REST client" in text
    assert "groq-compiler" in text and "aa-latest" in text and "GroqCard" in text
    lpu = devices.get("lpu")
    assert not lpu.available and lpu.reason == text
    with pytest.raises(RuntimeError, match="needs the GroqWare SDK"):
        from spikebench.hardware import onnx_backend

        onnx_backend.GroqRunner(tmp_path / "x.onnx")


def test_devices_command_prints_the_table_and_the_reasons():
    from spikebench.cli import app
    from typer.testing import CliRunner

    out = CliRunner().invoke(app, ["devices"], env={"COLUMNS": "160"})
    assert out.exit_code == 0, out.output
    for kind in devices.KINDS:
        assert kind in out.output
    for d in devices.discover():
        if not d.available:
            assert f"{d.kind} unavailable:" in out.output
    assert "onnxruntime" in out.output
