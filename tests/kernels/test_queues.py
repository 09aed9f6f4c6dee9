"""Spike event queues: every design in both frameworks against the plain-Python reference on
random traffic, exact drop accounting, each design's drop policy, bad input, and gradients of
a 2-neuron delayed network against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

# these tests compare the JAX and PyTorch twins: skipped where either is missing
jax = pytest.importorskip("jax")
torch = pytest.importorskip("torch")
jnp = jax.numpy
from hypothesis import given, settings
from hypothesis import strategies as st
from spikebench.kernels import queues as Q
from spikebench.kernels.queues import NetParams
from spikebench.kernels.queues import jax as J
from spikebench.kernels.queues import jax as NJ
from spikebench.kernels.queues import torch as NT
from spikebench.kernels.queues import torch as T
from spikebench.kernels.queues._reference import RefQueue, traffic_reference

from tests.tolerances import tol

DESIGNS = Q.DESIGNS


def _traffic(seed, n_queues, steps, max_delay, rate, fixed_delay):
    """Per step: which queues enqueue, with which arrival step and payload."""
    rng = np.random.default_rng(seed)
    per_queue = rng.integers(1, max_delay + 1, n_queues)
    out = []
    for now in range(steps):
        mask = rng.random(n_queues) < rate
        d = per_queue if fixed_delay else rng.integers(1, max_delay + 1, n_queues)
        t = now + d
        out.append((mask, t, t - rng.random(n_queues)))  # payload: the exact arrival time
    return out


def _run_all(design, capacity, max_delay, traffic, n_queues):
    refs = [RefQueue(design, capacity, max_delay) for _ in range(n_queues)]
    qj = J.init(design, n_queues, capacity, max_delay, jnp.float64)
    qt = T.init(design, n_queues, capacity, max_delay, torch.float64)
    pop_j = jax.jit(lambda q, n: J.pop(design, q, n))
    enq_j = jax.jit(lambda q, t, p, m: J.enqueue(design, q, t, p, m))
    enqueued = 0
    delivered = {"ref": 0, "jax": 0, "torch": 0}
    for now, (mask, t, pay) in enumerate(traffic):
        ref = [r.pop(now) for r in refs]
        rh, rp = np.array([a for a, _ in ref]), np.array([b for _, b in ref])
        qj, hj, pj = pop_j(qj, now)
        qt, ht, pt = T.pop(design, qt, now)
        for name, h, p in (
            ("jax", np.asarray(hj), np.asarray(pj)),
            ("torch", ht.numpy(), pt.numpy()),
        ):
            np.testing.assert_array_equal(h, rh, err_msg=f"{name} hits at step {now}")
            np.testing.assert_allclose(
                p,
                rp,
                rtol=tol("ulps"),
                atol=tol("queue_net"),
                err_msg=f"{name} payload at step {now}",
            )
            delivered[name] += int(h.sum())
        delivered["ref"] += int(rh.sum())
        for i in np.nonzero(mask)[0]:
            refs[i].enqueue(int(t[i]), float(pay[i]))
        enqueued += int(mask.sum())
        qj = enq_j(qj, jnp.asarray(t, jnp.int32), jnp.asarray(pay), jnp.asarray(mask))
        qt = T.enqueue(
            design,
            qt,
            torch.as_tensor(t, dtype=torch.int32),
            torch.as_tensor(pay),
            torch.as_tensor(mask),
        )
    return refs, qj, qt, enqueued, delivered


@settings(max_examples=8, deadline=None)
@given(
    design=st.sampled_from(DESIGNS),
    capacity=st.integers(1, 6),
    max_delay=st.integers(1, 9),
    rate=st.sampled_from([0.05, 0.3, 0.8]),
    seed=st.integers(0, 2**16),
)
def test_every_design_matches_the_reference_and_accounts_for_every_event(
    design, capacity, max_delay, rate, seed
):
    n_queues, steps = 7, 60
    traffic = _traffic(seed, n_queues, steps, max_delay, rate, fixed_delay=design == "fifo")
    refs, qj, qt, enqueued, delivered = _run_all(design, capacity, max_delay, traffic, n_queues)
    dropped_ref = np.array([r.dropped for r in refs])
    pending_ref = np.array([r.pending() for r in refs])
    for name, q, mod in (("jax", qj, J), ("torch", qt, T)):
        dropped = np.asarray(q.dropped)
        np.testing.assert_array_equal(dropped, dropped_ref, err_msg=name)
        pending = np.asarray(mod.pending(design, q))
        np.testing.assert_array_equal(pending, pending_ref, err_msg=name)
        # exact accounting: every enqueued event is delivered, dropped or still pending
        assert delivered[name] + dropped.sum() + pending.sum() == enqueued
    if design == "ring":
        assert dropped_ref.sum() == 0


@pytest.mark.parametrize("design", DESIGNS)
def test_heavy_traffic_many_queues(design):
    traffic = _traffic(1, 64, 120, 12, 0.5, fixed_delay=design == "fifo")
    refs, qj, qt, enqueued, delivered = _run_all(design, 3, 12, traffic, 64)
    assert delivered["jax"] == delivered["torch"] == delivered["ref"] > 0
    if design != "ring":
        assert np.asarray(qj.dropped).sum() > 0  # the capacity really overflowed


@pytest.mark.parametrize("design", DESIGNS)
def test_torch_inplace_updates_equal_out_of_place_and_spare_the_input(design):
    traffic = _traffic(3, 16, 40, 6, 0.4, fixed_delay=design == "fifo")
    q_copy = T.init(design, 16, 3, 6, torch.float64)
    q_own = T.init(design, 16, 3, 6, torch.float64)
    for now, (mask, t, pay) in enumerate(traffic):
        before = [x.clone() for x in q_copy]
        q_next, h1, p1 = T.pop(design, q_copy, now)
        q_own, h2, p2 = T.pop(design, q_own, now, inplace=True)
        args = (torch.as_tensor(t, dtype=torch.int32), torch.as_tensor(pay), torch.as_tensor(mask))
        q_next = T.enqueue(design, q_next, *args)
        q_own = T.enqueue(design, q_own, *args, inplace=True)
        for a, b in zip(before, q_copy, strict=True):  # the default never writes its input
            assert torch.equal(a, b)
        assert torch.equal(h1, h2) and torch.equal(p1, p2)
        q_copy = q_next
    for a, b in zip(q_copy, q_own, strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("mod", [J, T], ids=["jax", "torch"])
def test_drop_policies(mod):
    conv = (
        (lambda a, dt: jnp.asarray(a, dt))
        if mod is J
        else (lambda a, dt: torch.as_tensor(np.asarray(a), dtype=dt))
    )
    i32 = jnp.int32 if mod is J else torch.int32
    f64 = jnp.float64 if mod is J else torch.float64
    boolean = bool if mod is J else torch.bool

    def offer(design, q, t):
        return mod.enqueue(design, q, conv([t], i32), conv([float(t)], f64), conv([True], boolean))

    def drain(design, q, until):
        got = []
        for now in range(until):
            q, h, p = mod.pop(design, q, now)
            got += [float(np.asarray(p)[0])] * int(np.asarray(h)[0])
        return q, got

    for design, expect in (("heap", [5.0, 7.0]), ("fifo", [7.0, 5.0]), ("sorted", [3.0, 5.0])):
        q = mod.init(design, 1, capacity=2, dtype=f64)
        for t in (7, 5, 3):  # the third finds the queue full
            q = offer(design, q, t)
        q, got = drain(design, q, 20)
        assert int(np.asarray(q.dropped)[0]) == 1, design
        if design == "fifo":  # FIFO delivers in insertion order once the head is due
            assert got == [7.0, 5.0]
        else:  # heap keeps the earliest two it accepted; sorted evicts the latest (7)
            assert sorted(got) == expect, design
    q = mod.init("lossy", 1, capacity=4, dtype=f64)
    for t in (6, 10):  # same slot: 10 overwrites 6
        q = offer("lossy", q, t)
    q, got = drain("lossy", q, 20)
    assert got == [10.0] and int(np.asarray(q.dropped)[0]) == 1
    q = mod.init("ring", 1, max_delay=8, dtype=f64)
    for t in (6, 6, 6, 8):
        q = offer("ring", q, t)
    q, h, p = mod.pop("ring", q, 6)
    assert int(np.asarray(h)[0]) == 3 and float(np.asarray(p)[0]) == 18.0


@pytest.mark.parametrize("mod", [J, T], ids=["jax", "torch"])
def test_bad_input_is_a_clear_value_error(mod):
    with pytest.raises(ValueError, match="capacity"):
        mod.init("heap", 4, capacity=0)
    with pytest.raises(ValueError, match="capacity"):
        mod.init("fifo", 4, capacity=2.5)
    with pytest.raises(ValueError, match="max_delay"):
        mod.init("ring", 4)
    with pytest.raises(ValueError, match="n_queues"):
        mod.init("sorted", 0, capacity=2)
    with pytest.raises(ValueError, match="design='tree'"):
        mod.init("tree", 4, capacity=2)
    q = mod.init("heap", 4, capacity=2)
    if mod is J:
        t, p, m = jnp.zeros(3, jnp.int32), jnp.zeros(3), jnp.ones(3, bool)
    else:
        t, p, m = torch.zeros(3, dtype=torch.int32), torch.zeros(3), torch.ones(3, dtype=bool)
    with pytest.raises(ValueError, match=r"t has shape \(3,\).*\(4,\)"):
        mod.enqueue("heap", q, t, p, m)
    t4 = (jnp.zeros(4) if mod is J else torch.zeros(4)) + 1.5
    m4 = jnp.ones(4, bool) if mod is J else torch.ones(4, dtype=bool)
    with pytest.raises(ValueError, match="integer step indices"):
        mod.enqueue("heap", q, t4, t4, m4)


def test_step_and_delay_validation():
    with pytest.raises(ValueError, match="integer step"):
        Q.check_steps("arrival", [1.0, 2.5])
    with pytest.raises(ValueError, match=r"\[0, "):
        Q.check_steps("arrival", [-1, 2])
    assert Q.check_steps("arrival", [1.0, 2.0]).tolist() == [1, 2]
    with pytest.raises(ValueError, match=">= 0"):
        Q.check_ring_delays([-0.5, 3], max_delay=8)
    with pytest.raises(ValueError, match="exceeds the ring's max_delay=8"):
        Q.check_ring_delays([3, 9], max_delay=8)


def test_jax_queues_vmap_over_an_extra_axis():
    qs = jax.vmap(lambda _: J.init("heap", 3, capacity=2))(jnp.arange(5))
    t = jnp.arange(15, dtype=jnp.int32).reshape(5, 3) + 1
    qs = jax.vmap(
        lambda q, tt: J.enqueue("heap", q, tt, tt.astype(jnp.float32), jnp.ones(3, bool))
    )(qs, t)
    assert qs.keys.shape == (5, 3, 2) and int(qs.size.sum()) == 15


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("capacity,delay,interval", [(3, 4, 2), (4, 8, 3), (5, 6, 1)])
def test_benchmark_loop_equals_the_reference_loop(design, capacity, delay, interval):
    """The timed traffic loop in both twins against the plain-Python loop; (4, 8): the arrival
    lands in the slot just popped (delay a multiple of the slots: the JAX slot-column loop's
    special case), (5, 6) and (3, 4): it does not; interval 1 overflows every capacity."""
    n, steps = 6, 40
    # lossy's slots are its capacity (4 | 8); the ring's max_delay + 1: 8 slots for delay 8
    max_delay = delay - 1 if design == "ring" and (capacity, delay) == (4, 8) else delay
    ref = traffic_reference(
        design,
        range(n),
        n_steps=steps,
        delay=delay,
        interval=interval,
        capacity=capacity,
        max_delay=max_delay,
        seed=3,
    )
    for name, mod in (("jax", J), ("torch", T)):
        q, hits, pays, sent = mod.traffic(
            design, mod.init(design, n, capacity, max_delay), steps, delay, interval, seed=3
        )
        np.testing.assert_array_equal(np.asarray(hits), ref["delivered"], err_msg=name)
        np.testing.assert_allclose(np.asarray(pays), ref["pay_sum"], err_msg=name)
        np.testing.assert_array_equal(np.asarray(sent), ref["enqueued"], err_msg=name)
        np.testing.assert_array_equal(np.asarray(q.dropped), ref["dropped"], err_msg=name)
        np.testing.assert_array_equal(
            np.asarray(mod.pending(design, q)), ref["pending"], err_msg=name
        )


def test_torch_compiled_step_loop_equals_the_reference_loop():
    """The torch-compile framework's traffic loop (its step through torch.compile) for every
    design against the plain-Python loop, on traffic that overflows the capacities."""
    from spikebench.kernels.queues import _torch as qt

    n, steps, delay, interval, cap = 5, 30, 4, 2, 3
    for design in DESIGNS:
        ref = traffic_reference(
            design,
            range(n),
            n_steps=steps,
            delay=delay,
            interval=interval,
            capacity=cap,
            max_delay=delay,
            seed=1,
        )
        q, hits, pays, sent = qt.run_traffic_compiled(
            qt.init(design, n, cap, delay),
            design=design,
            n_steps=steps,
            delay=delay,
            interval=interval,
            seed=1,
        )
        np.testing.assert_array_equal(hits.numpy(), ref["delivered"], err_msg=design)
        np.testing.assert_allclose(pays.numpy(), ref["pay_sum"], err_msg=design)
        np.testing.assert_array_equal(sent.numpy(), ref["enqueued"], err_msg=design)
        np.testing.assert_array_equal(q.dropped.numpy(), ref["dropped"], err_msg=design)
        np.testing.assert_array_equal(qt.pending(design, q).numpy(), ref["pending"], err_msg=design)


def test_jax_heap_sift_under_vmap_equals_one_batch_at_a_time():
    """Out of order arrivals sift several levels; an outer vmap turns the heap's skip-a-level
    conds into selects, which must give the same queues."""
    rng = np.random.default_rng(0)
    t = jnp.asarray(rng.integers(1, 50, (4, 6, 9)), jnp.int32)  # [batch, step, queue]

    def fill(tt):
        q = J.init("heap", 9, capacity=7)
        for k in range(tt.shape[0]):
            q = J.enqueue("heap", q, tt[k], tt[k].astype(jnp.float32), jnp.ones(9, bool))
        out = []
        for now in range(0, 50, 7):
            q, h, p = J.pop("heap", q, jnp.int32(now))
            out.append(p)
        return q, jnp.stack(out)

    batched = jax.jit(jax.vmap(fill))(t)
    one = [jax.jit(fill)(t[i]) for i in range(t.shape[0])]  # one compile, four calls
    for i, (q, out) in enumerate(one):
        np.testing.assert_array_equal(np.asarray(batched[0].keys[i]), np.asarray(q.keys))
        np.testing.assert_array_equal(np.asarray(batched[1][i]), np.asarray(out))
    assert float(batched[1].sum()) > 0


# -- gradients through the queues: a 2-neuron delayed network ---------------------------------

P2 = NetParams(n_steps=800)
W2 = np.array([[0.0, 0.9], [0.7, 0.0]])
D2 = np.array([[4.0, 4.013], [3.7071, 4.0]])  # ms; arrivals away from step boundaries


def _fd(f, w, d, h=1e-6):
    gw, gd = np.zeros_like(w), np.zeros_like(d)
    for idx in np.ndindex(w.shape):
        e = np.zeros_like(w)
        e[idx] = h
        gw[idx] = (f(w + e, d) - f(w - e, d)) / (2 * h)
        gd[idx] = (f(w, d + e) - f(w, d - e)) / (2 * h)
    return gw, gd


@pytest.fixture(scope="module")
def fd_reference():
    f = jax.jit(lambda w, d: NJ.loss(w, d, P2, "heap", 4, 400)[0])
    return _fd(lambda w, d: float(f(jnp.asarray(w), jnp.asarray(d))), W2, D2)


@pytest.mark.parametrize("design", DESIGNS)
def test_jax_gradients_match_finite_differences_and_forward_mode(design, fd_reference):
    f = lambda w, d: NJ.loss(w, d, P2, design, 4, 400)  # noqa: E731
    (value, out), (gw, gd) = jax.value_and_grad(f, argnums=(0, 1), has_aux=True)(
        jnp.asarray(W2), jnp.asarray(D2)
    )
    if design == "lossy":  # capacity-4 hashing collides here: events drop, gradients differ
        assert int(out.dropped) > 0
        fdw, fdd = _fd(lambda w, d: float(f(jnp.asarray(w), jnp.asarray(d))[0]), W2, D2)
    else:  # no overflow: every design delivers the same events, so the same gradients
        assert int(out.dropped) == 0 and out.spike_count.tolist() == [7, 7]
        fdw, fdd = fd_reference
    np.testing.assert_allclose(np.asarray(gw), fdw, rtol=tol("fd_queues"), atol=tol("fd_queues"))
    np.testing.assert_allclose(np.asarray(gd), fdd, rtol=tol("fd_queues"), atol=tol("fd_queues"))
    assert abs(float(gd[1, 0])) > 1.0  # the delay gradient is not trivially zero
    tw, td = jnp.asarray([[0.0, 1.0], [0.5, 0.0]]), jnp.asarray([[0.0, 1.0], [1.0, 0.0]])
    _, jvp = jax.jvp(lambda w, d: f(w, d)[0], (jnp.asarray(W2), jnp.asarray(D2)), (tw, td))
    assert float(jvp) == pytest.approx(float(jnp.sum(gw * tw) + jnp.sum(gd * td)), rel=tol("twin"))


@pytest.mark.slow
@pytest.mark.parametrize("design", DESIGNS)  # ring: updated in place; lossy: drops
def test_torch_network_equals_jax_in_both_modes(design):
    w = torch.tensor(W2, requires_grad=True)
    d = torch.tensor(D2, requires_grad=True)
    value, out = NT.loss(w, d, P2, design, 4, 400)
    gw, gd = torch.autograd.grad(value, [w, d])
    (vj, _), (gwj, gdj) = jax.value_and_grad(
        lambda a, b: NJ.loss(a, b, P2, design, 4, 400), argnums=(0, 1), has_aux=True
    )(jnp.asarray(W2), jnp.asarray(D2))
    assert float(value.detach()) == pytest.approx(float(vj), rel=tol("ulps"))
    np.testing.assert_allclose(gw.numpy(), np.asarray(gwj), rtol=tol("twin"))
    np.testing.assert_allclose(gd.numpy(), np.asarray(gdj), rtol=tol("twin"))
    tw = torch.tensor([[0.0, 1.0], [0.5, 0.0]], dtype=torch.float64)
    td = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    _, jvp = torch.func.jvp(
        lambda a, b: NT.loss(a, b, P2, design, 4, 400)[0], (w.detach(), d.detach()), (tw, td)
    )
    assert float(jvp) == pytest.approx(float((gw * tw).sum() + (gd * td).sum()), rel=tol("twin"))


def _erlang_b(load, c):
    import math

    terms = [load**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


@pytest.mark.parametrize("capacity", [1, 3])
def test_fifo_drop_rate_follows_the_erlang_loss_formula(capacity):
    """One queue per synapse with delay d and Poisson spikes every `interval` steps is a loss
    system M/D/c/c: the fraction dropped is Erlang B(load, c). In this loop (pop, then
    enqueue) an event blocks its slot for the enqueues of d - 1 steps, so load =
    (d - 1) / interval."""
    interval, n_queues = 20, 2000
    for load in (0.5, 1.0, 2.0):
        delay = int(load * interval)
        q = J.init("fifo", n_queues, capacity)
        run = jax.jit(J.traffic, static_argnums=(0, 2, 3, 4))
        q, hits, _, sent = run("fifo", q, 200 * interval, delay, interval)
        rate = float(q.dropped.sum()) / float(sent.sum())
        expect = _erlang_b((delay - 1) / interval, capacity)
        assert rate == pytest.approx(expect, abs=0.01), (load, rate, expect)


def test_an_input_current_array_drives_the_network_in_every_twin():
    """i_ext [n_steps, N] replaces the constant input: the constant rule written out as an
    array changes nothing, and a data-like current gives the same spikes in JAX, PyTorch and
    the NumPy calendar reference; a wrong shape is refused by all three."""
    from spikebench.kernels.queues import _net_numpy as NN

    p = NetParams(n_steps=400)
    k = np.arange(1, p.n_steps + 1)
    const = np.broadcast_to(np.where(k[:, None] * p.dt < p.t_ext, p.i_ext, 0.0), (400, 2))
    base = NJ.simulate(jnp.asarray(W2), jnp.asarray(D2), p, "fifo", 4)
    same = NJ.simulate(jnp.asarray(W2), jnp.asarray(D2), p, "fifo", 4, i_ext=jnp.asarray(const))
    assert float(same.spike_time_sum) == float(base.spike_time_sum)
    i_ext = np.random.default_rng(3).gamma(2.0, 0.4, (400, 2))  # mean 0.8 theta / ms
    ref = NN.simulate(W2, D2, p, i_ext)
    assert ref["spike_count"].sum() > 4
    outs = [
        NJ.simulate(jnp.asarray(W2), jnp.asarray(D2), p, "fifo", 4, i_ext=jnp.asarray(i_ext)),
        NT.simulate(torch.tensor(W2), torch.tensor(D2), p, "fifo", 4, i_ext=torch.tensor(i_ext)),
    ]
    for out in outs:
        assert np.asarray(out.spike_count).tolist() == ref["spike_count"].tolist()
        assert float(out.spike_time_sum) == pytest.approx(ref["spike_time_sum"], rel=tol("twin"))
        assert float(out.spike_time_sum) != pytest.approx(float(base.spike_time_sum))
    for bad in (NJ.simulate, NT.simulate):
        a, b = (
            (jnp.asarray(W2), jnp.asarray(D2))
            if bad is NJ.simulate
            else (torch.tensor(W2), torch.tensor(D2))
        )
        with pytest.raises(ValueError, match=r"i_ext must have shape \(400, 2\)"):
            bad(a, b, p, "fifo", 4, i_ext=i_ext[:10])
    with pytest.raises(ValueError, match=r"i_ext must have shape \(400, 2\)"):
        NN.simulate(W2, D2, p, i_ext.T)


@pytest.mark.parametrize("design", DESIGNS)
def test_compiled_torch_network_equals_eager(design):
    """The network forward with its step through torch.compile (framework torch-compile) gives
    the eager network's output, field for field; with an input-current array too."""
    from spikebench.kernels.queues import _net_torch

    w, d = torch.tensor(W2), torch.tensor(D2)
    i_ext = torch.tensor(np.random.default_rng(3).gamma(2.0, 0.4, (P2.n_steps, 2)))
    for cur in (None, i_ext):
        got = _net_torch.network_forward_compiled(
            w, d, cur, p=P2, design=design, capacity=4, max_delay=400
        )
        want = NT.network_forward(w, d, cur, p=P2, design=design, capacity=4, max_delay=400)
        assert int(want.spike_count.sum()) > 4
        for name, a, b in zip(want._fields, got, want, strict=True):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=tol("ulps"), err_msg=name)
    with pytest.raises(ValueError, match=r"i_ext must have shape"):
        _net_torch.network_forward_compiled(w, d, i_ext[:10], p=P2, design=design, capacity=4)


@pytest.mark.parametrize("design", ["heap", "lossy"])
def test_compiled_torch_network_gradients_equal_eager(design):
    """The compiled reverse mode (the step and its backward through torch.compile) and the
    compiled forward mode (the step's jvp through torch.compile) give the eager loss, the
    eager directional derivative along (dw, dd) and the eager NetOut; or, where the installed
    torch's compiler cannot take the step, they raise Unsupported naming torch's error."""
    from spikebench.kernels.queues import _net_torch
    from spikebench.registry import Unsupported

    w, d = torch.tensor(W2), torch.tensor(D2)
    dw = torch.tensor([[0.0, 1.0], [0.5, 0.0]], dtype=torch.float64)
    dd = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    kw = {"p": P2, "design": design, "capacity": 4, "max_delay": 400}
    want = NT.network_grad(w, d, dw, dd, None, **kw)
    assert float(want[1]) != 0.0
    for fn in (_net_torch.network_grad_compiled, _net_torch.network_jvp_compiled):
        try:
            got = fn(w, d, dw, dd, None, **kw)
        except Unsupported as exc:
            assert "inside torch" in str(exc), exc
            continue
        assert float(got[0]) == pytest.approx(float(want[0]), rel=tol("ulps"))
        assert float(got[1]) == pytest.approx(float(want[1]), rel=tol("twin"))
        for name, a, b in zip(want[2]._fields, got[2], want[2], strict=True):
            np.testing.assert_allclose(
                a.detach().numpy(), b.detach().numpy(), rtol=tol("ulps"), err_msg=name
            )


@pytest.mark.parametrize("capacity,interval", [(4, 2), (8, 3)])
def test_jax_fifo_circular_loop_equals_the_head_aligned_one(capacity, interval):
    """Large FIFO states (Q * C > DENSE_HEAP) take the circular traffic loop: the same
    deliveries, payloads, drops and final slots (rotated back to head 0) as popping and
    enqueueing through ``pop``/``enqueue``, and as the plain-Python reference; interval 2
    overflows capacity 4."""
    from jax import lax
    from spikebench.kernels.queues._jax import DENSE_HEAP

    n, steps, delay = DENSE_HEAP // capacity + 7, 30, 5
    q0 = J.init("fifo", n, capacity)
    ref = traffic_reference(
        "fifo",
        range(n),
        n_steps=steps,
        delay=delay,
        interval=interval,
        capacity=capacity,
        max_delay=delay,
        seed=2,
    )
    q, hits, pays, sent = J.traffic("fifo", q0, steps, delay, interval, seed=2)
    lanes = jnp.arange(n, dtype=jnp.uint32)

    def step(q, k):  # the head-aligned loop, one pop and one offer at a time
        q, h, p = J.pop("fifo", q, k, check=False)
        spike = (J.mix(k, lanes, 2) % jnp.uint32(interval)) == 0
        t = jnp.full(n, k + delay, jnp.int32)
        return J.enqueue("fifo", q, t, t.astype(q.pay.dtype), spike, check=False), (h, p)

    aligned, (h, p) = lax.scan(step, q0, jnp.arange(1, steps + 1, dtype=jnp.int32))
    for a, b in zip(q, aligned, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(np.asarray(hits), np.asarray(h.sum(0)))
    np.testing.assert_array_equal(np.asarray(hits), ref["delivered"])
    np.testing.assert_allclose(np.asarray(pays), ref["pay_sum"])
    np.testing.assert_array_equal(np.asarray(sent), ref["enqueued"])
    np.testing.assert_array_equal(np.asarray(q.dropped), ref["dropped"])
    assert (int(q.dropped.sum()) > 0) == (capacity == 4)  # delay 5 events in 4 slots
    _, total = J.traffic("fifo", q0, steps, delay, interval, seed=2, tally="total")
    assert int(total) == int(ref["delivered"].sum())


@pytest.mark.parametrize("design", ["heap", "fifo", "sorted"])
def test_jax_quiet_traffic_skips_idle_steps_with_the_same_results(design):
    """Quiet traffic (most steps offer nothing: one queue at interval 400, benchmark (a)) runs
    a step's pop and enqueue only when something is due or offered; the results equal the
    loop that runs every step and the plain-Python reference. A few queues at interval 3
    with delay 9 and capacity 2 overflow, so drops and late deliveries are both exercised."""
    from spikebench.kernels.queues._jax import _quiet, _step_traffic

    assert _quiet(J.init(design, 1, 4), 400) and not _quiet(J.init(design, 10_000, 4), 400)
    # one queue: its last offer (step 846) falls due at 926, with no offer after it before 1000
    for n, capacity, interval, delay, steps in ((1, 4, 400, 80, 1000), (3, 2, 3, 9, 60)):
        q0 = J.init(design, n, capacity)
        ref = traffic_reference(
            design,
            range(n),
            n_steps=steps,
            delay=delay,
            interval=interval,
            capacity=capacity,
            max_delay=delay,
            seed=1,
        )
        for tally in ("queue", "total"):
            skipped, every = (
                _step_traffic(design, q0, steps, delay, interval, 1, tally, skip)
                for skip in (True, False)
            )
            for a, b in zip(jax.tree.leaves(skipped), jax.tree.leaves(every), strict=True):
                np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
            if tally == "queue":
                q, hits, pays, sent = skipped
        np.testing.assert_array_equal(np.asarray(hits), ref["delivered"])
        np.testing.assert_allclose(np.asarray(pays), ref["pay_sum"])
        np.testing.assert_array_equal(np.asarray(sent), ref["enqueued"])
        np.testing.assert_array_equal(np.asarray(q.dropped), ref["dropped"])
        assert int(ref["enqueued"].sum()) > 0
        assert (int(ref["dropped"].sum()) > 0) == (n == 3)
