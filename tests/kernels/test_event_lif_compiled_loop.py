"""The serial event-LIF simulator and the bare scan as one compiled graph each (torch.compile of
torch's while_loop, ``_loop_torch``, framework torch-compile): against the plain-loop
reference and the eager twins, with refractory time, delays, a finite window, ragged batches,
a static buffer smaller than the spike count, and a second event count through the same graph.

Each distinct layer shape compiles once (about 20-40 s here), so the cases share shapes."""

from __future__ import annotations

import numpy as np
import pytest
from spikebench import families

from tests.helpers import AGREE_RTOL, PARAM_SETS, compare_to_reference, random_layer, reference

torch = pytest.importorskip("torch")

from spikebench.kernels.event_lif import _loop_torch as loop  # noqa: E402
from spikebench.kernels.event_lif import _torch as eager  # noqa: E402


def _t(x, dtype):
    return None if x is None else torch.as_tensor(x, dtype=dtype)


def _lanes_of(out, t_end=None):
    st = out.spike_times.double().numpy()
    return st, out.counts.numpy()


@pytest.mark.parametrize("delays", [False, True], ids=["nodelay", "delays"])
def test_compiled_serial_equals_reference(delays):
    p = PARAM_SETS["refractory"] if not delays else PARAM_SETS["tm>ts"]
    rng = np.random.default_rng([11, int(delays)])
    t_end = 0.08 if not delays else float("inf")
    for n_events in (40, 64):  # the second event count reuses the graph (E is dynamic)
        t, c, w, d = random_layer(rng, n_events=n_events, delays=delays, w_mean=1.0, w_std=1.2)
        args = (
            torch.as_tensor(t),
            torch.as_tensor(c),
            torch.as_tensor(w),
            p,
            _t(d, torch.float64),
            t_end,
        )
        out = loop.serial_compiled(*args, max_spikes=64)
        ref = reference.serial_lanes(t, c, w, p, delays=d, t_end=t_end)
        assert sum(len(r) for r in ref.values()) > 5, "test case should spike"
        st, cnt = _lanes_of(out)
        compare_to_reference(st, cnt, ref, AGREE_RTOL["float64"] * 100, p.tau_mem)
        assert not out.stalled.any()
        ea = eager.serial(*args)
        assert torch.equal(out.counts, ea.counts)


def test_compiled_serial_overflow_counts_stay_exact():
    """A static buffer smaller than a lane's spikes keeps the first ones and the exact count
    (the harness and ``simulate`` re-run with the size they need)."""
    p = PARAM_SETS["refractory"]
    rng = np.random.default_rng([11, 0])
    t, c, w, _ = random_layer(rng, n_events=40, w_mean=1.0, w_std=1.2)
    args = (torch.as_tensor(t), torch.as_tensor(c), torch.as_tensor(w), p, None, 0.08)
    full = loop.serial_compiled(*args, max_spikes=64)
    need = int(full.counts.max())
    assert need > 2
    small = loop.serial_compiled(*args, max_spikes=2)
    assert torch.equal(small.counts, full.counts)
    assert small.spike_times.shape[-1] == 2
    assert torch.equal(small.spike_times, full.spike_times[..., :2])


def test_compiled_serial_float32_agrees_with_eager():
    p = PARAM_SETS["tm>ts"]
    rng = np.random.default_rng(5)
    t, c, w, _ = random_layer(rng, n_events=50, w_mean=1.0)
    args = (
        torch.as_tensor(t, dtype=torch.float32),
        torch.as_tensor(c),
        torch.as_tensor(w, dtype=torch.float32),
        p,
    )
    out, ea = loop.serial_compiled(*args), eager.serial(*args)
    assert torch.equal(out.counts, ea.counts) and int(ea.counts.sum()) > 5
    s = out.spike_times.shape[-1]
    k = ea.spike_times.shape[-1]
    fin = torch.isfinite(ea.spike_times[..., :s])
    assert torch.equal(fin, torch.isfinite(out.spike_times[..., :k]))
    np.testing.assert_allclose(
        out.spike_times[..., :k][fin].numpy(), ea.spike_times[..., :s][fin].numpy(), rtol=1e-5
    )


@pytest.mark.parametrize("delays", [False, True], ids=["nodelay", "delays"])
def test_compiled_bare_scan_equals_eager(delays):
    p = PARAM_SETS["tm>ts"]
    rng = np.random.default_rng([3, int(delays)])
    t, c, w, d = random_layer(rng, delays=delays)
    args = (torch.as_tensor(t), torch.as_tensor(c), torch.as_tensor(w), p, _t(d, torch.float64))
    for got, want in zip(loop.bare_scan_compiled(*args), eager.bare_scan(*args), strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


def test_compiled_loop_is_registered_for_torch_compile():
    from spikebench import registry

    families.load_kernels(("torch-compile",))
    for impl in ("serial", "bare_scan"):
        fn = registry.REGISTRY[("event_lif", impl, "torch-compile")].entry("layer").fn
        assert getattr(fn, "compiles_inside", False)


def test_compiled_serial_network_matches_numpy_reference():
    """network(method="serial", compiled=True): every layer through the compiled loop (two
    8 x 8 layers share one graph), logits equal to the NumPy network's."""
    from spikebench import datasets
    from spikebench.kernels.event_lif import _net_numpy, _net_torch

    p = PARAM_SETS["tm>ts"]
    ev = datasets.synthetic_shd(3, n_events=300, n_channels=8, seed=1)
    rng = np.random.default_rng(4)
    w1 = rng.normal(1.0, 2.0, (8, 8)) * 8 / (3000 * p.tau_syn) / 2
    w2 = rng.normal(1.0, 2.0, (8, 8)) / (8 * 30.0 * p.tau_syn)
    w_out = rng.normal(0.0, 1.0, (4, 8))
    t, c = ev.times.astype(np.float64), ev.channels.astype(np.int64)
    _, ref = _net_numpy.loss(t, c, rng.integers(0, 4, 3), (w1, w2), w_out, p)
    assert all(int(x.sum()) > 5 for x in ref.counts), "every layer should spike"
    out = _net_torch.network_compiled(
        torch.as_tensor(t),
        torch.as_tensor(c),
        (torch.as_tensor(w1), torch.as_tensor(w2)),
        torch.as_tensor(w_out),
        p,
        method="serial",
    )
    assert int(out.overflow) == 0
    for got, want in zip(out.counts, ref.counts, strict=True):
        np.testing.assert_array_equal(got.numpy(), want)
    np.testing.assert_allclose(out.logits.numpy(), ref.logits, rtol=1e-9)


def test_compiled_no_events_gives_the_eager_result():
    p = PARAM_SETS["tm>ts"]
    args = (
        torch.zeros((2, 0), dtype=torch.float64),
        torch.zeros((2, 0), dtype=torch.int64),
        torch.ones((3, 4), dtype=torch.float64),
        p,
    )
    out = loop.serial_compiled(*args)
    assert out.counts.sum() == 0 and torch.isinf(out.spike_times).all()
    for got in loop.bare_scan_compiled(*args):
        assert torch.equal(got, torch.zeros((2, 3), dtype=torch.float64))
