"""The ONNX path's kernels (docs/guide/devices.md): the export-friendly queue twin equals the
PyTorch queues operation by operation; the exported chunk graphs, run by ONNX Runtime in the
host loop, equal the eager loops; every graph passes the LPU lint, and the lint catches what
the LPU lacks."""

from __future__ import annotations

import numpy as np
import pytest

from tests.tolerances import tol

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

from spikebench.hardware import onnx_backend  # noqa: E402
from spikebench.kernels.psu import _onnx as psu_onnx  # noqa: E402
from spikebench.kernels.psu import _torch as psu_torch  # noqa: E402
from spikebench.kernels.queues import NetParams  # noqa: E402
from spikebench.kernels.queues import _onnx as qo  # noqa: E402
from spikebench.kernels.queues import torch as net_torch  # noqa: E402
from spikebench.kernels.queues import torch as qt  # noqa: E402

PARAMS = psu_torch.PSUParams(tau=2.0, theta=0.3)  # the benchmark's: LIF fires ~1/3 of steps

DESIGNS = ("heap", "fifo", "ring", "sorted", "lossy")


def _same_state(a, b):
    for name, x, y in zip(qt.Queue._fields, a, b, strict=True):
        assert torch.equal(x, y), f"{name} differs"


@pytest.mark.parametrize("design", DESIGNS)
def test_export_twin_equals_torch_queues_op_by_op(design):
    """Random offers (ties, overflow, arbitrary arrival steps) and pops: the one-hot,
    division-free operations give the very state, hits and payloads of ``_torch``."""
    rng = np.random.default_rng(3)
    n, cap, max_delay = 40, 3, 9
    a = qt.init(design, n, cap, max_delay)
    b = qo.init(design, n, cap, max_delay)
    for now in range(1, 120):
        a, ha, pa = qt.pop(design, a, now)
        b, hb, pb = qo.pop(design, b, now)
        assert torch.equal(ha, hb) and torch.equal(pa, pb), f"pop at step {now}"
        _same_state(a, b)
        for _ in range(2):  # two offers per step: ties and overflow
            t = torch.as_tensor(now + rng.integers(1, max_delay + 2, n), dtype=torch.int32)
            pay = torch.as_tensor(rng.random(n), dtype=torch.float32)
            mask = torch.as_tensor(rng.random(n) < 0.6)
            a = qt.enqueue(design, a, t, pay, mask)
            b = qo.enqueue(design, b, t, pay, mask)
            _same_state(a, b)
    assert torch.equal(qt.pending(design, a), qo.pending(design, b))
    assert int(a.dropped.sum()) > 0 or design == "ring"  # the overflow paths ran


def test_mod_without_division_is_exact():
    x = torch.arange(0, qo.MAX_STEP, 997, dtype=torch.int32)
    x = torch.cat([x, torch.tensor([qo.MAX_STEP - 1, 0, 1], dtype=torch.int32)])
    for m in (1, 2, 3, 4, 7, 81, 281, 1000):
        assert torch.equal(qo._mod(x, m), x % m), m


@pytest.mark.parametrize("design", DESIGNS)
def test_traffic_graphs_on_onnxruntime_equal_the_eager_loop(design, tmp_path):
    """45 steps in chunks of 8 (five full graphs and a remainder graph of 5 steps)."""
    n, delay, interval, cap = 64, 6, 3, 2
    run = qo.traffic_program(
        design, n, cap, delay, "float32", 45, delay, interval, seed=1, chunk=8, folder=tmp_path
    )
    assert sorted(p.name for p in tmp_path.glob("*.onnx")) == ["chunk5.onnx", "chunk8.onnx"]
    got = run()
    ref = qt.traffic(design, qt.init(design, n, cap, delay), 45, delay, interval, seed=1)
    _same_state(qt.Queue(*(torch.from_numpy(x) for x in got[0])), ref[0])
    for g, r in zip(got[1:], ref[1:], strict=True):
        assert np.array_equal(g, r.numpy())
    assert int(ref[0].dropped.sum()) > 0 or design == "ring"
    # a second call starts from the initial state again
    assert np.array_equal(run()[1], got[1])


def test_temporary_graph_folders_go_with_their_program(tmp_path):
    """Without a folder the graphs go to a temporary one, removed once the program is garbage
    (a sweep built one per ONNX row and left them all in the temp dir); a given folder stays."""
    import gc
    from pathlib import Path

    args = ("fifo", 8, 2, None, "float32", 10, 2, 3)
    run = qo.traffic_program(*args, chunk=8)
    tmp = Path(run.graphs)
    assert sorted(p.name for p in tmp.glob("*.onnx")) == ["chunk2.onnx", "chunk8.onnx"]
    run()
    del run
    gc.collect()
    assert not tmp.exists()
    kept = qo.traffic_program(*args, chunk=8, folder=tmp_path / "mine")
    del kept
    gc.collect()
    assert len(list((tmp_path / "mine").glob("*.onnx"))) == 2


@pytest.mark.parametrize("design,cap", [("heap", 3), ("ring", None), ("lossy", 2)])
def test_network_graph_equals_the_eager_network(design, cap, tmp_path):
    n = 12
    rng = np.random.default_rng(0)
    w = rng.normal(0.1, 0.05, (n, n)).astype(np.float32)
    d = rng.uniform(3.5, 4.5, (n, n)).astype(np.float32)
    p = NetParams()._replace(n_steps=90)
    max_delay = 281 if design == "ring" else None
    got = qo.network_program(w, d, None, p, design, cap, max_delay, chunk=10, folder=tmp_path)()
    ref = net_torch.simulate(torch.from_numpy(w), torch.from_numpy(d), p, design, cap, max_delay)
    assert int(ref.spike_count.sum()) > 0
    assert np.array_equal(got.spike_count, ref.spike_count.numpy())
    np.testing.assert_allclose(got.spike_time_sum, float(ref.spike_time_sum), rtol=tol("onnx_abs"))
    np.testing.assert_allclose(got.v_final, ref.v_final.numpy(), atol=tol("onnx"))
    for name in ("dropped", "delivered", "pending"):
        assert int(getattr(got, name)) == int(getattr(ref, name)), name
    if design != "lossy":
        return
    # a data-driven current [T, N] goes through the same graphs
    i_ext = rng.uniform(0, 1.0, (90, n)).astype(np.float32)
    got2 = qo.network_program(w, d, i_ext, p, design, cap, max_delay, chunk=10)()
    ref2 = net_torch.simulate(
        torch.from_numpy(w),
        torch.from_numpy(d),
        p,
        design,
        cap,
        max_delay,
        i_ext=torch.from_numpy(i_ext),
    )
    assert np.array_equal(got2.spike_count, ref2.spike_count.numpy())
    with pytest.raises(ValueError, match="i_ext must have shape"):
        qo.network_program(w, d, i_ext[:10], p, design, cap, max_delay)


@pytest.mark.parametrize("kind", ["lif", "psu", "ipsu", "rpsu"])
def test_psu_graphs_equal_the_torch_neurons(kind):
    rng = np.random.default_rng(1)
    x = rng.normal(0.3, 0.5, (12, 2, 5)).astype(np.float32)
    learned = ()
    if kind in ("ipsu", "rpsu"):
        learned = (
            rng.normal(0, 0.2, (12, 12)).astype(np.float32),
            rng.normal(0, 0.1, 12).astype(np.float32),
        )
    p = PARAMS
    got = psu_onnx.neuron_program(kind, x, *learned, p=p)()
    ref = psu_torch.neuron(kind, torch.from_numpy(x), p, *(torch.from_numpy(a) for a in learned))
    np.testing.assert_allclose(got.v, ref.v.numpy(), rtol=tol("onnx"), atol=tol("onnx_abs"))
    assert np.array_equal(got.spikes, ref.spikes.numpy())
    assert 0 < got.spikes.mean() < 1


def test_psu_network_graph_equals_the_torch_network():
    from spikebench.kernels.psu import init_network

    rng = np.random.default_rng(2)
    x = (rng.random((8, 3, 20)) < 0.3).astype(np.float32)
    for kind in ("lif", "rpsu"):
        t = init_network(2, n_in=20, hidden=16, n_out=4, t=8, neuron=kind)
        logits, hidden = psu_onnx.network_program(t, x, kind, PARAMS)()
        tt = psu_torch.from_numpy(t)
        ref_logits, ref_hidden = psu_torch.network(
            tt, torch.from_numpy(x), kind, PARAMS, return_spikes=True
        )
        np.testing.assert_allclose(
            logits, ref_logits.detach().numpy(), rtol=tol("onnx"), atol=tol("onnx_abs")
        )
        assert len(hidden) == 2
        for h, r in zip(hidden, ref_hidden, strict=True):
            assert np.array_equal(h, r.detach().numpy())


def test_event_lif_chunk_step_graph_equals_the_eager_parallel_simulator(tmp_path):
    """The exported chunk step, driven by the host loop, gives the eager simulator's spikes;
    its data-dependent gathers are int64, which is why it has no LPU rows (the lint says so)."""
    import onnx
    from spikebench.kernels.event_lif import _onnx as ev_onnx
    from spikebench.kernels.event_lif import torch as par
    from spikebench.kernels.event_lif._common import LIFParams

    rng = np.random.default_rng(0)
    times = np.sort(rng.uniform(0, 0.1, (2, 300)), 1).astype(np.float32)
    times[:, 5] = times[:, 4]  # a tie
    channels = rng.integers(0, 20, (2, 300))
    channels[1, 250:] = -1  # a ragged row
    weights = rng.normal(0.6, 0.8, (8, 20)).astype(np.float32)
    p = LIFParams(tau_mem=0.02, tau_syn=0.005, theta=1.0)
    run = ev_onnx.parallel_program(
        times, channels, weights, p, chunk=16, max_spikes=96, folder=tmp_path
    )
    got = run()
    ref = par.parallel(
        torch.from_numpy(times),
        torch.from_numpy(channels),
        torch.from_numpy(weights),
        p,
        chunk=16,
        max_spikes=96,
    )
    assert int(ref.counts.sum()) > 100
    assert np.array_equal(got.counts, ref.counts.numpy())
    assert np.array_equal(got.steps, ref.steps.numpy())
    fin = np.isfinite(ref.spike_times.numpy())
    assert np.array_equal(np.isfinite(got.spike_times), fin)
    np.testing.assert_allclose(got.spike_times[fin], ref.spike_times.numpy()[fin], rtol=tol("onnx"))
    problems = onnx_backend.lint(onnx.load(str(next(tmp_path.glob("*.onnx")))))
    assert any("GatherElements computes INT64" in p for p in problems)
    with pytest.raises(ValueError, match="'onnxrt' only"):
        ev_onnx.parallel_program(times, channels, weights, p, device="lpu")


class _Bad(torch.nn.Module):
    def forward(self, x):
        return torch.div(x, 3, rounding_mode="floor"), x.to(torch.int64) * 2


class _Good(torch.nn.Module):
    def forward(self, x):
        return qo._mod(x, 3), x * 2


def test_lint_names_what_the_lpu_lacks(tmp_path):
    x = torch.arange(10, dtype=torch.int32)
    with pytest.raises(ValueError) as err:
        onnx_backend.export(_Bad(), (x,), ["x"], ["q", "y"], tmp_path / "bad.onnx")
    text = str(err.value)
    assert "bad.onnx does not suit the LPU path" in text
    assert "integer Div" in text and "INT64" in text and "graph output 'y'" in text
    onnx_backend.export(_Good(), (x,), ["x"], ["r", "y"], tmp_path / "good.onnx")
    run = onnx_backend.OrtRunner(tmp_path / "good.onnx")
    out = run(x=x.numpy())
    assert np.array_equal(out["r"], x.numpy() % 3)


def test_every_exported_graph_is_lpu_clean(tmp_path):
    """One graph per design (traffic and network) and per neuron: opset 16, 32-bit."""
    import onnx

    for design in DESIGNS:
        qo.traffic_program(design, 8, 2, 5, "float32", 4, 5, 2, chunk=4, folder=tmp_path / design)
    for path in tmp_path.glob("*/*.onnx"):
        model = onnx.load(str(path))
        assert onnx_backend.lint(model) == []
        assert model.opset_import[0].version == onnx_backend.OPSET
        ops = onnx_backend.op_counts(path)
        assert not {"Mod", "ScatterND", "GatherND", "Loop", "If"} & set(ops), (path, ops)
