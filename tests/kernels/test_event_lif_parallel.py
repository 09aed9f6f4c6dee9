"""Parallel-scan event-LIF simulator: equal to the serial simulator (counts identical, times to
a few ulps) on random layers and on every edge case, in JAX and PyTorch, for chunk sizes from
1 up to more than the queue; static budgets report overflow; the parallel scan is a scan."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.helpers import (
    AGREE_RTOL,
    PARAM_SETS,
    LIFParams,
    compare_to_reference,
    random_layer,
    reference,
    rel_err,
    run,
    simulate,
)
from tests.tolerances import tol

PAR = ("jax", "torch")
P = LIFParams(tau_mem=0.02, tau_syn=0.005, theta=1.0)
# 64 > the queue: one step covers it (each JAX chunk size is its own compile: kept few)
CHUNKS = {"jax": (1, 16, 64), "torch": (3, 64)}


def _serial_np(t, c, w, p, dtype="float64", d=None):
    return run("numpy", t, c, w, p, dtype=dtype, delays=d)


def _assert_same(a, b, rtol, scale):
    (st_a, cnt_a), (st_b, cnt_b) = a, b
    np.testing.assert_array_equal(cnt_a, cnt_b)
    k = min(st_a.shape[-1], st_b.shape[-1])
    fin = np.isfinite(st_b[..., :k])
    assert np.array_equal(fin, np.isfinite(st_a[..., :k]))
    if fin.any():
        err = rel_err(st_a[..., :k][fin], st_b[..., :k][fin], scale).max()
        assert err <= rtol, f"relative error {err:.3g} > {rtol}"


@pytest.mark.parametrize("pname", list(PARAM_SETS))
@pytest.mark.parametrize("delays", [False, True], ids=["nodelay", "delays"])
def test_parallel_equals_serial_random_float64(pname, delays):
    """10 random layers x 200 lanes = 2000 random lanes (each with 60 input events, ties,
    ragged padding), both frameworks. Each layer runs one chunk size per framework, in turn
    over the parameter sets, so that every chunk size meets several regimes (each JAX chunk
    size and parameter set is its own compile: all of them for every layer took 150 s)."""
    p = PARAM_SETS[pname]
    turn = list(PARAM_SETS).index(pname) + int(delays)
    # a fixed integer seed (hash() of a str is salted per process)
    rng = np.random.default_rng([list(PARAM_SETS).index(pname), int(delays), 7])
    t, c, w, d = random_layer(
        rng,
        batch=20,
        n_events=60,
        n_in=16,
        n_out=10,
        delays=delays,
        w_mean=1.2,
        w_std=1.5,
        duration=0.15,
    )
    ser = _serial_np(t, c, w, p, d=d)
    assert ser[1].sum() > 200 and (ser[1] >= 3).any(), "the case should spike, in bursts too"
    s = int(ser[1].max())
    for fw in PAR:
        k = CHUNKS[fw][turn % len(CHUNKS[fw])]
        par = run(fw, t, c, w, p, delays=d, method="parallel", chunk=k, max_spikes=s)
        _assert_same(par, ser, AGREE_RTOL["float64"], p.tau_mem)


@pytest.mark.parametrize("delays", [False, True], ids=["nodelay", "delays"])
def test_parallel_equals_serial_float32(delays):
    p = PARAM_SETS["refractory"]
    rng = np.random.default_rng(11 + delays)
    t, c, w, d = random_layer(
        rng,
        batch=20,
        n_events=60,
        n_in=16,
        n_out=10,
        delays=delays,
        w_mean=1.2,
        w_std=1.5,
        duration=0.15,
    )
    t = t.astype(np.float32).astype(np.float64)  # the same float32 inputs for both
    ser = _serial_np(t, c, w, p, "float32", d)
    for fw in PAR:
        par = run(fw, t, c, w, p, "float32", delays=d, method="parallel", chunk=16)
        _assert_same(par, ser, AGREE_RTOL["float32"], p.tau_mem)


def test_jax_equals_torch():
    rng = np.random.default_rng(5)
    t, c, w, d = random_layer(rng, batch=8, n_events=50, delays=True, w_mean=1.2, w_std=1.5)
    a = run("jax", t, c, w, P, delays=d, method="parallel", chunk=8)
    b = run("torch", t, c, w, P, delays=d, method="parallel", chunk=8)
    _assert_same(a, b, AGREE_RTOL["float64"], P.tau_mem)


@pytest.mark.slow
@pytest.mark.parametrize(
    "delays, dtype", [(False, "float64"), (True, "float32")], ids=["nodelay-f64", "delays-f32"]
)
def test_torch_compiled_chunk_step_equals_eager(delays, dtype):
    """The torch-compile framework's parallel simulator (its chunk step through torch.compile)
    against the eager one on the same random layer: counts identical, times to a few ulps (each
    case is a compile of its own: two of them)."""
    torch = pytest.importorskip("torch")
    from spikebench.kernels.event_lif import _parallel_torch as mod

    rng = np.random.default_rng(21 + delays)
    t, c, w, d = random_layer(
        rng,
        batch=6,
        n_events=40,
        n_in=12,
        n_out=8,
        delays=delays,
        w_mean=1.2,
        w_std=1.5,
        duration=0.15,
    )
    dt = getattr(torch, dtype)
    args = (torch.as_tensor(t, dtype=dt), torch.as_tensor(c), torch.as_tensor(w, dtype=dt))
    dd = None if d is None else torch.as_tensor(d, dtype=dt)
    eager = mod.parallel(*args, P, delays=dd, chunk=16, max_spikes=8)
    comp = mod.parallel_compiled(*args, P, delays=dd, chunk=16, max_spikes=8)
    assert int(eager.counts.sum()) > 0
    _assert_same(
        (comp.spike_times.numpy(), comp.counts.numpy()),
        (eager.spike_times.numpy(), eager.counts.numpy()),
        AGREE_RTOL[dtype],
        P.tau_mem,
    )


@pytest.mark.slow
def test_torch_compiled_training_step_is_a_row_or_says_why():
    """Under autograd the compiled chunk step trains like the eager one (the same loss and
    gradients) or, where the installed torch's compiler cannot take it, raises Unsupported
    naming the error (never a wrong gradient)."""
    torch = pytest.importorskip("torch")
    from spikebench.kernels.event_lif import _net_torch as net
    from spikebench.registry import Unsupported

    rng = np.random.default_rng(3)
    t, c, w1, _ = random_layer(
        rng, batch=2, n_events=30, n_in=6, n_out=5, w_mean=1.5, w_std=1.0, duration=0.1
    )
    w2 = rng.normal(1.5, 1.0, (4, 5))
    w_out = rng.normal(0.0, 1.0, (3, 4))
    args = (
        torch.as_tensor(t),
        torch.as_tensor(c),
        torch.tensor([0, 2]),
        (torch.as_tensor(w1), torch.as_tensor(w2)),
        torch.as_tensor(w_out),
        P,
    )
    value, (gw, gout), _ = net.train_step(*args, chunk=8)
    try:
        value_c, (gw_c, gout_c), _ = net.train_step_compiled(*args, chunk=8)
    except Unsupported as exc:
        assert "compiler cannot take" in str(exc) and torch.__version__ in str(exc)
        return
    np.testing.assert_allclose(value_c.numpy(), value.numpy(), rtol=1e-9)
    for a, b in zip((*gw_c, gout_c), (*gw, gout), strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-7, atol=1e-9)


EDGES = {
    # several spikes between two inputs (the restart re-examines the rest of the interval)
    "burst": (P, [0.0, 0.5], [0, 0], [[40.0]], {}),
    "refractory": (P._replace(t_ref=0.004), [0.0, 0.001, 0.0015], [0, 0, 0], [[40.0]], {}),
    "ties": (P, [0.001, 0.002, 0.002, 0.002, 0.004], [0, 1, 2, 3, 1], [[0.8, 1.5, -0.3, 2.0]], {}),
    "tau_equal": (LIFParams(0.01, 0.01, 1.0), [0.0, 0.003], [0, 0], [[3.0]], {}),
    "tau_close": (LIFParams(0.01, 0.01 * (1 + 1e-7), 1.0), [0.0, 0.003], [0, 0], [[3.0]], {}),
    "t_end": (P, [0.0, 0.01, 0.2], [0, 0, 0], [[40.0]], {"t_end": 0.05}),
    "buffer_grows": (P, [0.0], [0], [[400.0]], {"max_spikes": 2}),
    "inhibitory": (P, [0.0, 0.001], [0, 1], [[5.0, -9.0]], {}),
}


@pytest.mark.parametrize("fw", PAR)
@pytest.mark.parametrize("chunk", [1, 2, 5, 32])
@pytest.mark.parametrize("edge", list(EDGES))
def test_edge_cases_match_reference(fw, chunk, edge):
    p, t, c, w, kw = EDGES[edge]
    t, c, w = np.asarray(t, float), np.asarray(c), np.asarray(w, float)
    st_, cnt = run(fw, t, c, w, p, method="parallel", chunk=chunk, **kw)
    ref = reference.serial_lanes(t[None], c[None], w, p, t_end=kw.get("t_end", math.inf))
    compare_to_reference(st_[None], cnt[None], ref, 1e-13, p.tau_mem)
    if edge == "burst":
        assert cnt[0] >= 4


@pytest.mark.parametrize("fw", PAR)
def test_grazing_crossings(fw):
    """Threshold a hair below / above the peak of one PSP: found (at the peak) / not found."""
    r = 1 / P.tau_syn - 1 / P.tau_mem
    d_peak = math.log(P.tau_mem / P.tau_syn) / r
    v_peak = (
        P.tau_syn
        / (P.tau_mem - P.tau_syn)
        * (math.exp(-d_peak / P.tau_mem) - math.exp(-d_peak / P.tau_syn))
    )
    for gap, n in ((1e-6, 1), (1e-9, 1), (1e-12, 1), (-1e-9, 0)):
        p = P._replace(theta=v_peak * (1 - gap))
        st_, cnt = run(
            fw,
            np.array([0.0, 1.0]),
            np.array([0, 0]),
            np.array([[1.0]]),
            p,
            method="parallel",
            chunk=2,
        )
        ser = run("numpy", np.array([0.0, 1.0]), np.array([0, 0]), np.array([[1.0]]), p)
        assert cnt[0] == ser[1][0] == 2 * n, gap
        if n:
            assert 0 < st_[0, 0] <= d_peak * (1 + 1e-12)
            # the crossing's condition number grows like 1/sqrt(gap): grazing is reported
            tol = 1e-15 / math.sqrt(gap)
            assert abs(st_[0, 0] - ser[0][0, 0]) <= tol * d_peak


@pytest.mark.parametrize("fw", PAR)
def test_no_events_and_padding(fw):
    st_, cnt = run(fw, np.zeros(0), np.zeros(0, int), np.ones((3, 2)), P, method="parallel")
    assert st_.shape == (3, 0) and cnt.tolist() == [0, 0, 0]
    rng = np.random.default_rng(3)
    t, c, w, _ = random_layer(rng, batch=4, w_mean=1.2)
    full = run(fw, t, c, w, P, method="parallel", chunk=4)
    for b in range(4):
        one = run(fw, t[b : b + 1], c[b : b + 1], w, P, method="parallel", chunk=4)
        _assert_same((full[0][b : b + 1], full[1][b : b + 1]), one, 1e-15, P.tau_mem)


@pytest.mark.parametrize("fw", PAR)
def test_stalled_spike_times_raise(fw):
    with pytest.raises(ValueError, match="stopped advancing"):
        simulate(
            np.array([1.0]),
            np.array([0]),
            np.array([[1e300]]),
            P,
            framework=fw,
            method="parallel",
            chunk=4,
        )


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(framework="numpy"), "needs framework"),
        (dict(chunk=0), "chunk"),
        (dict(chunk=2.5), "chunk"),
        (dict(chunk=True), "chunk"),
    ],
)
def test_bad_parallel_arguments(bad, match):
    kw = dict(framework="jax", method="parallel") | bad
    with pytest.raises(ValueError, match=match):
        simulate(np.array([0.1]), np.array([0]), np.ones((1, 1)), P, **kw)
    with pytest.raises(ValueError, match="chunk knob"):
        simulate(np.array([0.1]), np.array([0]), np.ones((1, 1)), P, chunk=4)


def _kernel(fw):
    if fw == "jax":
        import jax.numpy as jnp
        from spikebench.kernels.event_lif import _parallel_jax as mod

        return mod, jnp.asarray, np.asarray
    import torch
    from spikebench.kernels.event_lif import _parallel_torch as mod

    return mod, torch.as_tensor, lambda x: x.detach().cpu().numpy()


@pytest.mark.parametrize("fw", PAR)
def test_static_budget_reports_overflow(fw):
    """Too few steps: unprocessed entries are reported; too small a buffer: counts stay
    exact and exceed it (the dropped spikes); enough of both: nothing is reported."""
    mod, conv, tonp = _kernel(fw)
    rng = np.random.default_rng(9)
    t, c, w, _ = random_layer(rng, batch=2, n_events=40, w_mean=1.2, w_std=1.5, pad=False)
    args = (conv(t), conv(c), conv(w))
    full = mod.parallel(*args, P, chunk=4, max_spikes=64)
    need_steps = int(tonp(full.steps).max())
    need_spikes = int(tonp(full.counts).max())
    assert need_steps >= 40 // 4 + 1 and need_spikes >= 2
    assert not tonp(full.unprocessed).any()

    short = mod.parallel(*args, P, chunk=4, max_spikes=64, n_steps=need_steps - 3)
    left = tonp(short.unprocessed)
    assert left.sum() > 0 and (left[tonp(full.steps) > need_steps - 3] > 0).all()

    small = mod.parallel(*args, P, chunk=4, max_spikes=need_spikes - 1, n_steps=need_steps)
    assert not tonp(small.unprocessed).any()
    np.testing.assert_array_equal(tonp(small.counts), tonp(full.counts))
    assert (tonp(small.counts) > tonp(small.spike_times).shape[-1]).any()

    exact = mod.parallel(*args, P, chunk=4, max_spikes=need_spikes, n_steps=need_steps)
    assert not tonp(exact.unprocessed).any()
    np.testing.assert_array_equal(
        tonp(exact.spike_times), tonp(full.spike_times)[..., :need_spikes]
    )


@pytest.mark.parametrize("fw", PAR)
def test_affine_scan_equals_sequential_composition(fw):
    """The scan of affine maps equals applying them one after the other (odd length)."""
    mod, conv, tonp = _kernel(fw)
    rng = np.random.default_rng(2)
    k = 13
    elems = [
        rng.uniform(0.1, 1.0, (3, k)),
        rng.normal(size=(3, k)),
        rng.uniform(0.1, 1.0, (3, k)),
        rng.normal(size=(3, k)),
        rng.normal(size=(3, k)),
    ]
    got = [tonp(x) for x in mod.affine_scan(tuple(conv(e) for e in elems))]
    v, i = rng.normal(size=3), rng.normal(size=3)
    v0, i0 = v.copy(), i.copy()
    for j in range(k):
        a, b, c, bv, bi = (e[:, j] for e in elems)
        v, i = a * v + b * i + bv, c * i + bi
        np.testing.assert_allclose(
            got[0][:, j] * v0 + got[1][:, j] * i0 + got[3][:, j], v, rtol=tol("ulps")
        )
        np.testing.assert_allclose(got[2][:, j] * i0 + got[4][:, j], i, rtol=tol("ulps"))
