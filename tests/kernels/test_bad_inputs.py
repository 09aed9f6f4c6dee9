"""The bad-input corpus for the kernels' public entry points, as a careless user would call
them: every entry must raise a ValueError whose message names the problem (no obscure
TypeError / ZeroDivisionError / RuntimeError from deep inside, no silent wrong result), or,
where it is valid after all, return what the reference returns.

Values are checked in the dtype the kernel computes in (1e39 is finite in float64, inf in
float32), and inside jit the queues count what they refuse instead of raising.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

# these tests compare the JAX and PyTorch twins: skipped where either is missing
jax = pytest.importorskip("jax")
torch = pytest.importorskip("torch")
jnp = jax.numpy
from spikebench.kernels import psu
from spikebench.kernels.event_lif import LIFParams, simulate
from spikebench.kernels.queues import SENTINEL, check_ring_delays
from spikebench.kernels.queues import jax as qj
from spikebench.kernels.queues import torch as qt

from tests.tolerances import tol

P = LIFParams(10.0, 5.0, 1.0)
ONE = (np.array([1.0]), np.array([0]), np.full((1, 1), 3.0))
LIF_FWS = [
    ("numpy", "serial"),
    ("jax", "serial"),
    ("jax", "parallel"),
    ("torch", "serial"),
    ("torch", "parallel"),
]


def _sim(times, channels, weights, params=P, fw="numpy", method="serial", **kw):
    return simulate(times, channels, weights, params, framework=fw, method=method, **kw)


# (name, call, message): each call must raise ValueError matching message
EVENT_LIF = [
    (
        "time beyond float32",
        lambda fw, m: _sim(
            np.array([1.0, 1e39]),
            np.array([0, 0]),
            np.full((1, 1), 3.0),
            fw=fw,
            method=m,
            dtype="float32",
        ),
        "beyond float32",
    ),
    (
        "weight beyond float32",
        lambda fw, m: _sim(*ONE[:2], np.full((1, 1), 3e39), fw=fw, method=m, dtype="float32"),
        "beyond float32",
    ),
    (
        "delay beyond float32",
        lambda fw, m: _sim(*ONE, fw=fw, method=m, dtype="float32", delays=np.full((1, 1), 1e39)),
        "beyond float32",
    ),
    (
        "arrival beyond float32",
        lambda fw, m: _sim(
            np.array([3e38]),
            np.array([0]),
            np.full((1, 1), 3.0),
            fw=fw,
            method=m,
            dtype="float32",
            delays=np.full((1, 1), 1e38),
        ),
        "arrival times",
    ),
    (
        "t_end beyond float32",
        lambda fw, m: _sim(*ONE, fw=fw, method=m, dtype="float32", t_end=1e39),
        "t_end",
    ),
    (
        "tau_mem beyond float32",
        lambda fw, m: _sim(*ONE, LIFParams(1e39, 5.0, 1.0), fw=fw, method=m, dtype="float32"),
        "tau_mem",
    ),
    (
        "string channels",
        lambda fw, m: _sim(np.array([1.0]), np.array(["a"]), np.full((1, 1), 3.0), fw=fw, method=m),
        "integer ids",
    ),
    (
        "fractional channels",
        lambda fw, m: _sim(np.array([1.0]), np.array([0.5]), np.full((1, 1), 3.0), fw=fw, method=m),
        "integer ids",
    ),
    (
        "NaN channel",
        lambda fw, m: _sim(
            np.array([1.0]), np.array([np.nan]), np.full((1, 1), 3.0), fw=fw, method=m
        ),
        "integer ids",
    ),
    (
        "NaN time",
        lambda fw, m: _sim(
            np.array([np.nan]), np.array([0]), np.full((1, 1), 3.0), fw=fw, method=m
        ),
        "non-finite",
    ),
    (
        "negative time",
        lambda fw, m: _sim(np.array([-1.0]), np.array([0]), np.full((1, 1), 3.0), fw=fw, method=m),
        ">= 0",
    ),
    (
        "unsorted times",
        lambda fw, m: _sim(
            np.array([2.0, 1.0]), np.array([0, 0]), np.full((1, 1), 3.0), fw=fw, method=m
        ),
        "sorted",
    ),
    (
        "channel out of range",
        lambda fw, m: _sim(np.array([1.0]), np.array([3]), np.full((1, 1), 3.0), fw=fw, method=m),
        "out of range",
    ),
    (
        "inf weight",
        lambda fw, m: _sim(*ONE[:2], np.full((1, 1), np.inf), fw=fw, method=m),
        "non-finite",
    ),
    ("NaN t_end", lambda fw, m: _sim(*ONE, fw=fw, method=m, t_end=float("nan")), "t_end"),
    (
        "negative delay",
        lambda fw, m: _sim(*ONE, fw=fw, method=m, delays=np.full((1, 1), -1.0)),
        "delays",
    ),
    ("tau_mem 0", lambda fw, m: _sim(*ONE, LIFParams(0.0, 5.0, 1.0), fw=fw, method=m), "tau_mem"),
    (
        "theta below v_reset",
        lambda fw, m: _sim(*ONE, LIFParams(10.0, 5.0, 0.1, 0.5), fw=fw, method=m),
        "theta",
    ),
    (
        "tau a string",
        lambda fw, m: _sim(*ONE, LIFParams("10", 5.0, 1.0), fw=fw, method=m),
        "tau_mem",
    ),
    ("tau a bool", lambda fw, m: _sim(*ONE, LIFParams(True, 5.0, 1.0), fw=fw, method=m), "tau_mem"),
    (
        "tau a 1-d array",
        lambda fw, m: _sim(*ONE, LIFParams(np.array([10.0]), 5.0, 1.0), fw=fw, method=m),
        "tau_mem",
    ),
    # Hardening II
    (
        "uint64 channel 2**64-1",
        lambda fw, m: _sim(
            np.array([1.0, 2.0]),
            np.array([0, 2**64 - 1], np.uint64),
            np.full((1, 1), 3.0),
            fw=fw,
            method=m,
        ),
        r"channel id 18446744073709551615 at index 1 is out of range",
    ),
    (
        "channel -2",
        lambda fw, m: _sim(np.array([1.0]), np.array([-2]), np.full((1, 1), 3.0), fw=fw, method=m),
        r"at index 0 is out of range: channel ids must be in \[0, 1\)",
    ),
    (
        "string weights",
        lambda fw, m: _sim(*ONE[:2], np.array([["a"]]), fw=fw, method=m),
        "weights must be real numbers",
    ),
    (
        "bool times",
        lambda fw, m: _sim(np.array([True]), np.array([0]), np.full((1, 1), 3.0), fw=fw, method=m),
        "times must be real numbers",
    ),
    (
        "string delays",
        lambda fw, m: _sim(*ONE, fw=fw, method=m, delays=np.array([["1"]])),
        "delays must be real numbers",
    ),
    (
        "max_spikes 0",
        lambda fw, m: _sim(*ONE, fw=fw, method=m, max_spikes=0),
        "max_spikes must be an integer >= 1",
    ),
    (
        "max_spikes -3",
        lambda fw, m: _sim(*ONE, fw=fw, method=m, max_spikes=-3),
        "max_spikes must be an integer >= 1",
    ),
    (
        "max_spikes 2.5",
        lambda fw, m: _sim(*ONE, fw=fw, method=m, max_spikes=2.5),
        "max_spikes must be an integer",
    ),
    (
        "unsorted at index 2",
        lambda fw, m: _sim(
            np.array([1.0, 2.0, 1.5]), np.array([0, 0, 0]), np.full((1, 1), 3.0), fw=fw, method=m
        ),
        r"not sorted at index 2",
    ),
]


@pytest.mark.parametrize("fw,method", LIF_FWS)
@pytest.mark.parametrize("name,call,message", EVENT_LIF, ids=[e[0] for e in EVENT_LIF])
def test_event_lif_refuses_bad_input_clearly(fw, method, name, call, message):
    with pytest.raises(ValueError, match=message):
        call(fw, method)


@pytest.mark.parametrize("fw,method", LIF_FWS)
def test_event_lif_accepts_numpy_scalars(fw, method):
    """np.int64 chunk and 0-d arrays in LIFParams are numbers like any other."""
    kw = {"chunk": np.int64(4)} if method == "parallel" else {}
    p0 = LIFParams(np.array(10.0), np.float32(5.0), np.array(1.0))
    st, c = _sim(*ONE, p0, fw=fw, method=method, **kw)
    ref_st, ref_c = _sim(*ONE)
    assert np.array_equal(np.asarray(c), ref_c)
    np.testing.assert_allclose(np.asarray(st), ref_st, rtol=tol("twin"))


@pytest.mark.parametrize("chunk", [0, -1, 2.5, True, "4", np.array([4])])
def test_event_lif_refuses_a_bad_chunk(chunk):
    with pytest.raises(ValueError, match="chunk must be an integer"):
        _sim(*ONE, fw="jax", method="parallel", chunk=chunk)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_event_lif_frameworks_agree_on_a_tangent_touch(dtype):
    """tau_mem = tau_syn, w = e theta: V touches theta at t = tau only. The crossing rule
    (_common: within TOUCH_ULPS ulps below theta counts) makes every kernel spike there."""
    p = LIFParams(10.0, 10.0, 1.0)
    got = {}
    for fw, m in LIF_FWS:
        if dtype == "float32" and fw == "numpy":
            continue
        st, c = _sim(
            np.array([0.0]), np.array([0]), np.full((1, 1), math.e), p, fw=fw, method=m, dtype=dtype
        )
        got[(fw, m)] = (int(np.asarray(c)[0]), np.asarray(st, np.float64).ravel())
    from spikebench.kernels.event_lif import _reference

    ref = _reference.serial_lanes(
        np.zeros((1, 1)), np.zeros((1, 1), np.int64), np.full((1, 1), math.e), p
    )[(0, 0)]
    assert ref == [pytest.approx(10.0, rel=1e-7)]
    for key, (count, times) in got.items():
        assert count == 1, key
        # a touch is a double root: its time is defined to ~sqrt(eps) only
        assert times[0] == pytest.approx(10.0, rel=3e-4 if dtype == "float32" else 1e-7), key


PSU = [
    (
        "input beyond float32 (torch)",
        lambda: psu.simulate(np.full((8, 2), 1e39), framework="torch", dtype="float32"),
        "beyond float32",
    ),
    (
        "input beyond float32 (jax)",
        lambda: psu.simulate(np.full((8, 2), 1e39), framework="jax", dtype="float32"),
        "beyond float32",
    ),
    ("NaN input", lambda: psu.simulate(np.full((8, 2), np.nan)), "non-finite"),
    (
        "overflow on the way (float32)",
        lambda: psu.simulate(
            np.full((8, 2), 3e38),
            "ipsu",
            framework="torch",
            dtype="float32",
            mat=np.full((8, 8), 100.0),
            mat_b=np.zeros(8),
        ),
        "overflowed float32",
    ),
    ("init_learned with T = 0", lambda: psu.init_learned(np.random.default_rng(0), 0), ">= 1"),
    (
        "init_learned with T = 2.5",
        lambda: psu.init_learned(np.random.default_rng(0), 2.5),
        "integer",
    ),
    ("lif_matrices with tau = 0", lambda: psu.lif_matrices(4, 0.0), "tau"),
    ("lif_matrices with tau = 1", lambda: psu.lif_matrices(4, 1.0), "tau"),
    ("lif_matrices with T = 0", lambda: psu.lif_matrices(0, 2.0), ">= 1"),
    ("released_matrices with tau = NaN", lambda: psu.released_matrices(4, float("nan")), "tau"),
    (
        "init_network with a NaN gain",
        lambda: psu.init_network(
            0, n_in=2, hidden=3, n_out=2, t=4, neuron="psu", w_gain=float("nan")
        ),
        "w_gain",
    ),
    (
        "init_network with alpha 0",
        lambda: psu.init_network(0, n_in=2, hidden=3, n_out=2, t=4, neuron="psu", alpha=0.0),
        "alpha",
    ),
    (
        "init_network with hidden 0",
        lambda: psu.init_network(0, n_in=2, hidden=0, n_out=2, t=4, neuron="psu"),
        "hidden",
    ),
    (
        "tau 1 in PSUParams",
        lambda: psu.simulate(np.ones((4, 2)), "psu", psu.PSUParams(tau=1.0)),
        "tau",
    ),
    ("unknown neuron", lambda: psu.simulate(np.ones((4, 2)), "lifx"), "lifx"),
]


@pytest.mark.parametrize("name,call,message", PSU, ids=[p[0] for p in PSU])
def test_psu_refuses_bad_input_clearly(name, call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_psu_accepts_numpy_integers_for_sizes():
    a, b = psu.lif_matrices(np.int64(4), np.float32(2.0))
    a2, b2 = psu.lif_matrices(4, 2.0)
    assert np.array_equal(a, a2) and np.array_equal(b, b2)


QUEUE_MODS = {
    "jax": (qj, jnp.asarray, lambda a: jnp.asarray(a, jnp.int32)),
    "torch": (qt, torch.as_tensor, lambda a: torch.as_tensor(a, dtype=torch.int32)),
}


def _offer(fw, design, t, now=None, n=2, **kw):
    mod, f, i32 = QUEUE_MODS[fw]
    q = mod.init(design, n, capacity=4, max_delay=4)
    tt = f(np.broadcast_to(np.asarray(t), (n,)).copy())
    pay = f(np.zeros(n, np.float32))
    mask = f(np.ones(n, bool))
    return mod.enqueue(design, q, tt, pay, mask, now=now, **kw)


QUEUES = [
    ("arrival before now", lambda fw, d: _offer(fw, d, 3, now=5), "not after now"),
    ("arrival at now", lambda fw, d: _offer(fw, d, 5, now=5), "not after now"),
    ("arrival at SENTINEL", lambda fw, d: _offer(fw, d, np.int64(SENTINEL)), "must lie in"),
    ("arrival at 2^31", lambda fw, d: _offer(fw, d, np.int64(2**31)), "must lie in"),
    ("negative arrival", lambda fw, d: _offer(fw, d, -1), "must lie in"),
    ("float arrival", lambda fw, d: _offer(fw, d, 3.0), "integer step"),
    (
        "float now",
        lambda fw, d: QUEUE_MODS[fw][0].pop(d, QUEUE_MODS[fw][0].init(d, 2, 4, 4), 2.7),
        "integer step",
    ),
    (
        "now a bool",
        lambda fw, d: QUEUE_MODS[fw][0].pop(d, QUEUE_MODS[fw][0].init(d, 2, 4, 4), True),
        "integer step",
    ),
    (
        "negative now",
        lambda fw, d: QUEUE_MODS[fw][0].pop(d, QUEUE_MODS[fw][0].init(d, 2, 4, 4), -3),
        "must lie in",
    ),
    (
        "traffic interval 0",
        lambda fw, d: QUEUE_MODS[fw][0].traffic(d, QUEUE_MODS[fw][0].init(d, 2, 4, 4), 10, 2, 0),
        "interval",
    ),
    (
        "traffic delay 0",
        lambda fw, d: QUEUE_MODS[fw][0].traffic(d, QUEUE_MODS[fw][0].init(d, 2, 4, 4), 10, 0, 1),
        "delay",
    ),
    (
        "traffic float steps",
        lambda fw, d: QUEUE_MODS[fw][0].traffic(d, QUEUE_MODS[fw][0].init(d, 2, 4, 4), 10.5, 2, 1),
        "n_steps",
    ),
    (
        "traffic past int32",
        lambda fw, d: QUEUE_MODS[fw][0].traffic(
            d, QUEUE_MODS[fw][0].init(d, 2, 4, 4), 2**31 - 3, 5, 1
        ),
        "int32",
    ),
    # Hardening II
    (
        "NaN payload",
        lambda fw, d: _offer_pay(fw, d, [np.nan, 1.0]),
        "payload nan at index 0 is not finite",
    ),
    (
        "inf payload",
        lambda fw, d: _offer_pay(fw, d, [1.0, -np.inf]),
        "payload -inf at index 1 is not finite",
    ),
    (
        "Python float step 2.5",
        lambda fw, d: QUEUE_MODS[fw][0].enqueue(
            d, QUEUE_MODS[fw][0].init(d, 1, 4, 4), [2.5], [1.0], [True]
        ),
        "integer step",
    ),
    (
        "scalar step for a batch",
        lambda fw, d: QUEUE_MODS[fw][0].enqueue(
            d, QUEUE_MODS[fw][0].init(d, 2, 4, 4), 2, 1.0, True
        ),
        "batched as",
    ),
]


def _offer_pay(fw, design, pay):
    mod, f, _ = QUEUE_MODS[fw]
    q = mod.init(design, 2, capacity=4, max_delay=4)
    return mod.enqueue(
        design, q, f(np.array([2, 3])), f(np.array(pay, np.float32)), f(np.ones(2, bool))
    )


@pytest.mark.parametrize("fw", ["jax", "torch"])
def test_queues_take_python_numbers(fw):
    """Lists and scalars are arrays of the queue's batch (the audit's enqueue(t=2.5) was an
    AttributeError); a masked-out NaN payload is never offered, so it is accepted."""
    mod = QUEUE_MODS[fw][0]
    q = mod.enqueue("fifo", mod.init("fifo", 2, 4, 4), [2, 3], [0.5, np.nan], [True, False])
    q, hits, pay = mod.pop("fifo", q, 2)
    assert np.asarray(hits).tolist() == [1, 0] and np.asarray(pay).tolist() == [0.5, 0.0]


@pytest.mark.parametrize("fw", ["jax", "torch"])
@pytest.mark.parametrize("design", ["heap", "fifo", "ring", "sorted", "lossy"])
@pytest.mark.parametrize("name,call,message", QUEUES, ids=[q[0] for q in QUEUES])
def test_queues_refuse_bad_input_clearly(fw, design, name, call, message):
    with pytest.raises(ValueError, match=message):
        call(fw, design)


@pytest.mark.parametrize("fw", ["jax", "torch"])
def test_the_ring_refuses_a_delay_beyond_its_window(fw):
    """traffic("ring", init(max_delay=4), delay=20) used to alias and deliver 25 events per
    queue where the reference delivers 10, with dropped = 0."""
    mod = QUEUE_MODS[fw][0]
    with pytest.raises(ValueError, match="delay must be an integer in"):
        mod.traffic("ring", mod.init("ring", 2, max_delay=4), 30, 20, 1)
    with pytest.raises(ValueError, match="more than the ring's 5 slots"):
        _offer(fw, "ring", 11, now=5)
    _offer(fw, "ring", 10, now=5)  # max_delay + 1 = 5 steps ahead is the last slot


@pytest.mark.parametrize("design", ["heap", "fifo", "ring", "sorted", "lossy"])
def test_inside_jit_a_refused_offer_is_counted_as_dropped(design):
    """Traced values cannot raise: out-of-range offers are refused and counted instead."""
    q = qj.init(design, 3, capacity=4, max_delay=4)

    @jax.jit
    def offer(q, t, now):
        return qj.enqueue(design, q, t, jnp.zeros(3), jnp.ones(3, bool), now=now)

    t = jnp.array([7, 3, SENTINEL], jnp.int32)  # valid, before now, SENTINEL
    q = offer(q, t, jnp.int32(5))
    assert np.asarray(q.dropped).tolist() == [0, 1, 1]
    assert np.asarray(qj.pending(design, q)).tolist() == [1, 0, 0]
    q, hits, _ = jax.jit(lambda q: qj.pop(design, q, jnp.int32(7)))(q)
    assert np.asarray(hits).tolist() == [1, 0, 0]


@pytest.mark.parametrize(
    "bad,message",
    [
        ([np.nan], "finite"),
        ([np.inf], "finite"),
        (["3"], "finite"),
        ([-1], ">= 0"),
        ([9], "exceeds"),
    ],
)
def test_ring_delays_are_checked(bad, message):
    with pytest.raises(ValueError, match=message):
        check_ring_delays(np.array(bad), 4)


# -- the public JAX / PyTorch event-LIF kernels (not only `simulate`) ---------------------------

W34 = np.full((3, 4), 0.5)


def _raw(fw, name, t, c, w=W34, **kw):
    from spikebench.kernels.event_lif import jax as ej
    from spikebench.kernels.event_lif import torch as et

    mod, conv = (ej, jnp.asarray) if fw == "jax" else (et, torch.as_tensor)
    t, c, w = conv(np.atleast_2d(t)), conv(np.atleast_2d(c)), conv(w)
    if name in ("network", "loss", "train_step"):
        w_out = conv(np.ones((2, 3)))
        if name == "network":
            return mod.network(t, c, (w,), w_out, P, **kw)
        labels = conv(np.zeros(t.shape[0], np.int64))
        return getattr(mod, name)(t, c, labels, (w,), w_out, P, **kw)
    if name == "plan_budgets":
        return mod.plan_budgets(t, c, (w,), P, **kw)
    return getattr(mod, name)(t, c, w, P, **kw)


RAW = ["serial", "parallel", "bare_scan", "network", "loss", "train_step", "plan_budgets"]
RAW_BAD = [
    ("NaN time", [1.0, np.nan, 3.0], [0, 1, 2], r"non-finite .* index \(0, 1\)"),
    ("inf time", [1.0, 2.0, np.inf], [0, 1, 2], r"non-finite .* index \(0, 2\)"),
    ("negative time", [-1.0, 2.0, 3.0], [0, 1, 2], r">= 0, found -1.0 at index \(0, 0\)"),
    ("unsorted", [1.0, 3.0, 2.0], [0, 1, 2], r"not sorted at index \(0, 2\)"),
    ("channel >= n_inputs", [1.0, 2.0, 3.0], [0, 4, 2], r"channel id 4 at index \(0, 1\)"),
    ("channel -3", [1.0, 2.0, 3.0], [0, 1, -3], r"channel id -3 at index \(0, 2\)"),
]


@pytest.mark.parametrize("fw", ["jax", "torch"])
@pytest.mark.parametrize("name", RAW)
@pytest.mark.parametrize("bad,t,c,message", RAW_BAD, ids=[b[0] for b in RAW_BAD])
def test_public_kernels_refuse_what_they_would_silently_get_wrong(fw, name, bad, t, c, message):
    """The audit: a NaN time gave 0 spikes, JAX dropped channels >= n_inputs (PyTorch raised
    IndexError), and the twins disagreed on a negative time."""
    with pytest.raises(ValueError, match=message):
        _raw(fw, name, t, c)


@pytest.mark.parametrize("fw", ["jax", "torch"])
def test_check_false_is_the_unchecked_kernel_and_budgets_are_checked(fw):
    from spikebench.kernels.event_lif import _jax, _torch

    t, c = [[0.5, 1.0, 1.5]], [[0, 1, 2]]
    checked = _raw(fw, "serial", t, c)
    unchecked = _raw(fw, "serial", t, c, check=False)
    raw = (_jax if fw == "jax" else _torch).serial
    conv = jnp.asarray if fw == "jax" else torch.as_tensor
    direct = raw(conv(np.array(t)), conv(np.array(c)), conv(np.full((3, 4), 0.5)), P)
    for a, b in ((checked, unchecked), (checked, direct)):
        np.testing.assert_array_equal(np.asarray(a.spike_times), np.asarray(b.spike_times))
    for bad in (0, -3, 2.5):
        with pytest.raises(ValueError, match="max_spikes"):
            _raw(fw, "serial", t, c, max_spikes=bad)
        with pytest.raises(ValueError, match="n_steps"):
            _raw(fw, "parallel", t, c, n_steps=bad)
    _raw(fw, "serial", [[0.5, np.nan, 1.5]], c, check=False)  # unchecked: no error raised


def test_inside_jit_the_public_kernel_skips_the_check():
    from spikebench.kernels.event_lif import jax as ej

    f = jax.jit(lambda t, c, w: ej.serial(t, c, w, P).counts)
    got = f(jnp.asarray([[0.5, 1.0]]), jnp.asarray([[0, 1]]), jnp.full((3, 4), 2.0))
    assert np.asarray(got).shape == (1, 3)
