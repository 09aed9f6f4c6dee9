"""Exact event-driven LIF layer, parallel-scan algorithm (Bullet Trains), in JAX.

Every lane (sample b, neuron n) consumes its own time-sorted queue of input arrivals (per-lane
because delays reorder it), ``chunk`` = K entries per step, all lanes at once. The queue ends
with a sentinel entry at ``t_end`` of weight 0, so the tail interval is checked like any other.

One step, per lane, from the state (V, I) at time t_c, refractory until r_end (spec section 6)::

    entries j = 0..K-1 of the queue from ptr: arrival t_j, weight w_j; t_{-1} = t_c
    element j (the interval (t_{j-1}, t_j] and then the input):
        s_j = clip(r_end, t_{j-1}, t_j)    (free evolution starts after the refractory period)
        V <- a(t_j - s_j) (r_end > t_{j-1} ? v_reset : V) + b(t_j - s_j) c(s_j - t_{j-1}) I
        I <- c(t_j - t_{j-1}) I + w_j
    with a(d) = e^{-d/tau_mem}, b(d) V's response to unit current, c(d) = e^{-d/tau_syn}: an
    affine map s -> M s + beta with M upper triangular, so the states after every entry of the
    chunk are one associative scan (``affine_scan``) with

        combine((M1, beta1), (M2, beta2)) = (M2 M1, M2 beta1 + beta2)     # 1 first, then 2

    every interval j starts from the scanned state after entry j-1 (the carried state for j=0)
    and is peak-checked in parallel (``peak_bracket``); the first firing interval e wins:
        t* = s_e + newton(state entering e)      emit t*; V = v_reset; I = I(t*); t_c = t*;
        r_end = t* + t_ref; ptr += e             (entry e is not consumed: the rest of the
                                                  interval is re-examined, so several spikes
                                                  between two inputs are found)
    no interval fires: the state after entry K-1 is carried, t_c = t_{K-1}, ptr += K.
    A lane is done once its sentinel is consumed.

It equals the serial loop of ``_numpy.py`` (one entry per step, the while-loop over spikes
inside each interval): both emit the first crossing after t_c and restart from the reset.
Work after the first firing interval of a chunk is discarded; that is the price of the
parallelism. K = 1 is the ablation that processes one entry per step.

Budgets. ``n_steps=None`` loops until every queue is consumed (``lax.while_loop``; forward
only). An integer ``n_steps`` runs exactly that many steps (``lax.scan``; reverse-mode
differentiable, what jit-compiled training needs) and reports what it could not do:
``unprocessed`` counts the queue entries left per lane (the end-of-window check counts as one)
and ``counts`` stays exact when more than ``max_spikes`` spikes come, so overflow is never
silent. ``remat=True`` checkpoints the step: reverse mode keeps the carry of each step (O(lanes))
and recomputes one chunk at a time, instead of keeping every chunk's intermediates.

Gradients. Newton's iterations are not differentiated: ``spike_time`` carries a custom JVP from
the implicit function theorem, dt*/dp = -(dV/dp)(t*) / Vdot(t*) with Vdot = (I(t*) - theta) /
tau_mem (spec section 5); it diverges at grazing and is left to diverge. Everything else (the
scan, the propagators, the gathers of weights and arrival times) is differentiated by JAX, so
spike times are differentiable w.r.t. weights, delays and input times (the discrete choices,
which interval fires and the queue order, are locally constant).
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ...registry import register
from . import _jax as ser
from ._common import Derived, LIFParams, derive


class ParSpikes(NamedTuple):
    spike_times: jax.Array  # (B, N, S), +inf padded
    counts: jax.Array  # (B, N), exact even past S (dropped = counts - S where positive)
    stalled: jax.Array  # (B, N) bool: spike times stopped advancing in this dtype
    unprocessed: jax.Array  # (B, N) queue entries left when the step budget ran out
    steps: jax.Array  # (B, N) chunk steps the lane needed (capped at the budget)


@partial(jax.custom_jvp, nondiff_argnums=(0,))
def spike_time(k: Derived, v0, i0, d_hi, t_start, active):
    """Newton's first crossing of theta on [0, d_hi] (``_jax.spike_time``), differentiable
    through the implicit function theorem."""
    return ser.spike_time(
        k,
        lax.stop_gradient(v0),
        lax.stop_gradient(i0),
        lax.stop_gradient(d_hi),
        lax.stop_gradient(t_start),
        active,
    )


@spike_time.defjvp
def _spike_time_jvp(k, primals, tangents):
    v0, i0, d_hi, t_start, active = primals
    dv0, di0 = tangents[0], tangents[1]
    d = spike_time(k, v0, i0, d_hi, t_start, active)
    a, b, c = ser.propagator(k, d)
    vdot = (i0 * c - k.theta) / k.tau_mem  # V = theta at the crossing
    dd = -(a * dv0 + b * di0) / jnp.where(active, vdot, 1.0)
    return d, jnp.where(active, dd, 0.0)


class Queue(NamedTuple):
    """Per-lane input queues, sentinel at t_end and padding after it (time t_end, weight 0).

    t: (B, 1, E+1) shared order (no delays) or (B, N, E+1); w: (B, N, E+1) per-lane weights,
    or None with ch (B, 1, E+1) channel ids into wt (N_in+1, N) (row N_in is zero);
    qlen: (B, N) real entries per lane (the sentinel sits at index qlen)."""

    t: jax.Array
    w: jax.Array | None
    ch: jax.Array | None
    wt: jax.Array
    qlen: jax.Array


def make_queue(times, channels, weights, delays, t_end) -> Queue:
    n_out, n_in = weights.shape
    b, e = channels.shape
    pad = channels < 0
    ch = jnp.where(pad, n_in, channels)
    wt = jnp.concatenate([weights.T, jnp.zeros((1, n_out), weights.dtype)])
    col = jnp.arange(e + 1)
    if delays is None:
        real = ~pad & (times <= t_end)  # sorted: a prefix
        qlen = jnp.sum(real, axis=1, dtype=jnp.int32)
        keep = col[None, :e] < qlen[:, None]
        t = jnp.where(keep, times, t_end)
        t = jnp.concatenate([t, jnp.full((b, 1), t_end, t.dtype)], axis=1)[:, None]
        chq = jnp.concatenate([jnp.where(keep, ch, n_in), jnp.full((b, 1), n_in, ch.dtype)], 1)
        return Queue(t, None, chq[:, None], wt, jnp.broadcast_to(qlen[:, None], (b, n_out)))
    dt = jnp.concatenate([delays.T, jnp.zeros((1, n_out), delays.dtype)])
    arr = jnp.where(pad[:, :, None], jnp.inf, times[:, :, None] + dt[ch])  # (B, E, N)
    order = jnp.argsort(lax.stop_gradient(arr), axis=1, stable=True)
    arr = jnp.take_along_axis(arr, order, axis=1)
    w = jnp.take_along_axis(wt[ch], order, axis=1)
    real = arr <= t_end
    qlen = jnp.sum(real, axis=1, dtype=jnp.int32)  # (B, N)
    keep = col[None, :e, None] < qlen[:, None, :]
    t = jnp.concatenate(
        [jnp.where(keep, arr, t_end), jnp.full((b, 1, n_out), t_end, arr.dtype)], axis=1
    )
    w = jnp.concatenate([jnp.where(keep, w, 0.0), jnp.zeros((b, 1, n_out), w.dtype)], axis=1)
    return Queue(jnp.moveaxis(t, 1, 2), jnp.moveaxis(w, 1, 2), None, wt, qlen)


def _gather(q: Queue, idx):
    """Arrival times and weights of queue entries idx (B, N, K) (clamped to the queue)."""
    idx = jnp.minimum(idx, q.t.shape[-1] - 1)
    t = jnp.take_along_axis(q.t, idx, axis=-1)
    if q.w is not None:
        return t, jnp.take_along_axis(q.w, idx, axis=-1)
    ch = jnp.take_along_axis(q.ch, idx, axis=-1)
    return t, q.wt[ch, jnp.arange(q.wt.shape[1])[None, :, None]]


def _combine(e1, e2):
    """(M2, beta2) after (M1, beta1); M = [[m11, m12], [0, m22]], beta = (bv, bi)."""
    a1, b1, c1, v1, i1 = e1
    a2, b2, c2, v2, i2 = e2
    return a2 * a1, a2 * b1 + b2 * c1, c2 * c1, a2 * v1 + b2 * i1 + v2, c2 * i1 + i2


def affine_scan(elems):
    """Inclusive scan of affine maps along the last axis: O(log K) depth."""
    return lax.associative_scan(_combine, elems, axis=-1)


class _Carry(NamedTuple):
    v: jax.Array
    i: jax.Array
    tc: jax.Array
    rend: jax.Array
    ptr: jax.Array
    cnt: jax.Array
    steps: jax.Array
    stalled: jax.Array
    still: jax.Array


def _first(x, e):
    return jnp.take_along_axis(x, e[..., None], axis=-1)[..., 0]


def chunk_step(k: Derived, chunk: int, q: Queue, c: _Carry):
    """One step of every lane; returns the new carry and the emitted (t*, fired)."""
    sg = lax.stop_gradient
    live = (c.ptr <= q.qlen) & ~c.stalled
    idx = c.ptr[..., None] + jnp.arange(chunk)
    valid = (idx <= q.qlen[..., None]) & live[..., None]
    t_ev, w_ev = _gather(q, idx)
    t_prev = jnp.concatenate([c.tc[..., None], t_ev[..., :-1]], axis=-1)
    rf = c.rend[..., None] > t_prev
    # s = clip(r_end, t_prev, t_ev) by branches: min/max split the gradient at ties
    # (duplicate events), where only one argument is the value
    r_end = c.rend[..., None]
    s = jnp.where(rf, jnp.where(r_end < t_ev, r_end, t_ev), t_prev)
    free, pre = t_ev - s, s - t_prev
    fin = jnp.isfinite(free)  # the sentinel at t_end = inf: the state afterwards is 0
    a, b, _ = ser.propagator(k, jnp.where(fin & valid, free, 0.0))
    c_pre = jnp.exp(-jnp.where(valid, pre, 0.0) / k.tau_syn)
    c_gap = jnp.exp(-jnp.where(valid, t_ev - t_prev, 0.0) / k.tau_syn)
    one, zero = jnp.ones_like(a), jnp.zeros_like(a)
    m11 = jnp.where(valid, jnp.where(fin & ~rf, a, 0.0), one)
    m12 = jnp.where(valid & fin, b * c_pre, zero)
    m22 = jnp.where(valid, c_gap, one)
    bv = jnp.where(valid & fin & rf, a * k.v_reset, zero)
    bi = jnp.where(valid, w_ev, zero)
    pa, pb, pc, pv, pi = affine_scan((m11, m12, m22, bv, bi))
    v_after = pa * c.v[..., None] + pb * c.i[..., None] + pv
    i_after = pc * c.i[..., None] + pi
    v_before = jnp.concatenate([c.v[..., None], v_after[..., :-1]], axis=-1)
    i_before = jnp.concatenate([c.i[..., None], i_after[..., :-1]], axis=-1)
    v_s = jnp.where(rf, k.v_reset, v_before)
    i_s = i_before * c_pre
    fires, d_hi = ser.peak_bracket(k, sg(v_s), sg(i_s), jnp.where(valid, sg(free), 0.0))
    fires = fires & valid
    anyf = jnp.any(fires, axis=-1)
    e = jnp.argmax(fires, axis=-1).astype(jnp.int32)
    v_e, i_e, s_e = _first(v_s, e), _first(i_s, e), _first(s, e)
    d = spike_time(k, v_e, i_e, _first(d_hi, e), sg(s_e), anyf)
    tstar = s_e + d
    # spike times that stop advancing (twice in a row) in this dtype: stop the lane
    same = anyf & ~(tstar > c.tc)
    stall = same & c.still
    fired = anyf & ~stall
    last = jnp.clip(q.qlen + 1 - c.ptr, 1, chunk) - 1  # the chunk's last real entry
    spike = live & anyf
    move = live & ~anyf
    new = _Carry(
        v=jnp.where(spike, k.v_reset, jnp.where(move, _first(v_after, last), c.v)),
        i=jnp.where(
            spike, i_e * jnp.exp(-d / k.tau_syn), jnp.where(move, _first(i_after, last), c.i)
        ),
        tc=jnp.where(spike, tstar, jnp.where(move, _first(t_ev, last), c.tc)),
        rend=jnp.where(spike, tstar + k.t_ref, c.rend),
        ptr=jnp.where(spike, c.ptr + e, jnp.where(move, c.ptr + chunk, c.ptr)),
        cnt=c.cnt + (live & fired),
        steps=c.steps + live,
        stalled=c.stalled | (live & stall),
        still=jnp.where(live, same, c.still),
    )
    return new, (tstar, live & fired)


def _init(k: Derived, q: Queue, dtype):
    shape = q.qlen.shape
    z = jnp.zeros(shape, dtype)
    zi = jnp.zeros(shape, jnp.int32)
    return _Carry(
        jnp.full(shape, k.v_reset, dtype),
        z,
        z,
        jnp.full(shape, -jnp.inf, dtype),
        zi,
        zi,
        zi,
        jnp.zeros(shape, bool),
        jnp.zeros(shape, bool),
    )


def _left(q: Queue, c: _Carry):
    return jnp.where(c.stalled, 0, jnp.maximum(q.qlen + 1 - c.ptr, 0))


@register(
    "event_lif",
    "parallel",
    "jax",
    entry="layer",
    devices=("cpu", "gpu", "tpu"),
    knobs=("chunk", "n_steps", "remat"),
)
@partial(jax.jit, static_argnames=("params", "chunk", "max_spikes", "n_steps", "remat"))
def parallel(
    times,
    channels,
    weights,
    params: LIFParams,
    delays=None,
    t_end=math.inf,
    chunk: int = 128,
    max_spikes: int = 64,
    n_steps: int | None = None,
    remat: bool = True,
) -> ParSpikes:
    """Parallel-scan exact simulation of one LIF layer; inputs batched (B, E), dtype of
    `weights`. See the module docstring for the budgets (`n_steps`, `max_spikes`)."""
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    k = derive(params)
    dtype = weights.dtype
    t_end = jnp.asarray(t_end, dtype)
    q = make_queue(
        times.astype(dtype),
        channels,
        weights,
        None if delays is None else delays.astype(dtype),
        t_end,
    )
    size = max(int(max_spikes), 1)
    c0 = _init(k, q, dtype)
    step = partial(chunk_step, k, chunk, q)
    if n_steps is None:
        slots = jnp.arange(size)

        def body(state):
            c, buf = state
            c2, (tstar, fired) = step(c)
            put = fired[..., None] & (slots == c.cnt[..., None])
            return c2, jnp.where(put, tstar[..., None], buf)

        def more(state):
            c = state[0]
            return jnp.any((c.ptr <= q.qlen) & ~c.stalled)

        buf0 = jnp.full(q.qlen.shape + (size,), jnp.inf, dtype)
        c, buf = lax.while_loop(more, body, (c0, buf0))
        return ParSpikes(buf, c.cnt, c.stalled, _left(q, c), c.steps)

    body = jax.checkpoint(step) if remat else step
    c, (ts, fired) = lax.scan(lambda c, _: body(c), c0, None, length=int(n_steps))
    # spikes of each step -> slot = how many the lane fired before (drop past the buffer)
    slot = jnp.where(fired, jnp.cumsum(fired, axis=0) - 1, size)
    bi, ni = jnp.indices(q.qlen.shape)
    buf = jnp.full(q.qlen.shape + (size,), jnp.inf, dtype)
    buf = buf.at[bi[None], ni[None], slot].set(ts, mode="drop")
    return ParSpikes(buf, c.cnt, c.stalled, _left(q, c), c.steps)
