"""Exact event-driven LIF layer: the NumPy reference of the serial algorithm.

Closed form between inputs (spec section 2), elapsed d from state (V0, I0)::

    I(d) = I0 exp(-d/tau_syn)
    V(d) = exp(-d/tau_mem) V0 + I0 exp(-d/tau_slow) (d/tau_mem) g(-|r| d)

with r = 1/tau_syn - 1/tau_mem, tau_slow = max(tau_mem, tau_syn) and g(y) = expm1(y)/y
(g(0) = 1). This is the spec's exp(-d/tau_mem)(V0 + I0 phi(d)) rewritten so that it neither
cancels for tau_mem ~ tau_syn (r -> 0 gives V0 e^{-d/tau} + I0 (d/tau) e^{-d/tau} exactly)
nor overflows for tau_syn > tau_mem and long intervals.

Peak (section 4): V' = (I - V)/tau_mem vanishes once, at

    d_peak = c * log1p(r c)/(r c),   c = tau_mem (I0 - V0) / (I0 + r tau_mem V0)

(no stationary point when the denominator is <= 0: V then rises monotonically towards 0 and
cannot reach theta > 0). An interval of length L fires iff I0 > theta and V(min(d_peak, L)) >=
theta. The crossing is found by Newton from d = 0 (V rising and concave there, so the iterates
increase monotonically towards the root), clamped to [0, min(d_peak, L)], until the step is
below a few ulps of the absolute spike time (spec section 5).

The serial algorithm (section 7), per lane (sample b, neuron n), one input per step::

    V, I, t = v_reset, 0, 0
    for (t_k, w_k) in the lane's time-sorted queue:
        while the interval [t, t_k] fires:      # several spikes between two inputs are possible
            t* = first crossing; emit t*; V = v_reset; I = I(t*); t = t* (+ t_ref: V held)
        V, I = state at t_k;  I += w_k;  t = t_k
    the same while-loop for the tail [t, t_end]

The loop here runs over events and is vectorised over lanes. Every lane takes the linear update
with the precomputed propagator; only lanes that a rigorous bound says may fire in the gap
(V(d) <= V0 + max(0, max(I0, 0) - V0) (1 - exp(-d / tau_mem)), see ``candidates``) or that
are refractory run the exact path (peak check, Newton, reset), compacted to those lanes.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ...registry import register
from ._common import NEWTON_MAX_ITER, SERIES_CUTOFF, Derived, LIFParams, derive, touch_level


class Spikes(NamedTuple):
    """Output of the serial simulator: spike_times (B, N, S) padded with +inf, counts (B, N)
    (exact even when S is too small to hold them all), stalled (B, N) lanes whose spike
    times stopped advancing in this dtype (an input current too large for the time scale)."""

    spike_times: np.ndarray
    counts: np.ndarray
    stalled: np.ndarray


def expm1_over_x(y):
    """expm1(y)/y, 1 at y = 0, accurate for tiny |y|."""
    small = np.abs(y) < SERIES_CUTOFF
    safe = np.where(small, 1.0, y)
    series = 1.0 + y * (0.5 + y * (1.0 / 6.0 + y / 24.0))
    return np.where(small, series, np.expm1(safe) / safe)


def log1p_over_x(x):
    """log1p(x)/x, 1 at x = 0, accurate for tiny |x|."""
    small = np.abs(x) < SERIES_CUTOFF
    safe = np.where(small, 1.0, x)
    series = 1.0 - x * (0.5 - x * (1.0 / 3.0 - x / 4.0))
    return np.where(small, series, np.log1p(safe) / safe)


def v_at(k: Derived, v0, i0, d):
    """V(d) from (v0, i0); d finite and >= 0."""
    return np.exp(-d / k.tau_mem) * v0 + i0 * np.exp(-d * k.inv_slow) * (
        d / k.tau_mem
    ) * expm1_over_x(-k.abs_r * d)


def propagator(k: Derived, dt):
    """(a, b, c) with V(dt) = a V0 + b I0 and I(dt) = c I0; dt finite >= 0."""
    a = np.exp(-dt / k.tau_mem)
    b = np.exp(-dt * k.inv_slow) * (dt / k.tau_mem) * expm1_over_x(-k.abs_r * dt)
    c = np.exp(-dt / k.tau_syn)
    return a, b, c


def peak_bracket(k: Derived, v0, i0, length):
    """(fires, d_hi): whether [0, length] reaches theta, and the right end of the bracket."""
    possible = (i0 > k.theta) & (length > 0)
    den = i0 + k.r * k.tau_mem * v0
    has_peak = possible & (den > 0)
    c = k.tau_mem * (i0 - v0) / np.where(has_peak, den, 1.0)
    d_peak = np.where(has_peak, c * log1p_over_x(k.r * c), np.inf)
    d_hi = np.minimum(d_peak, length)
    d_eval = np.where(np.isfinite(d_hi), d_hi, 0.0)
    fires = has_peak & (v_at(k, v0, i0, d_eval) >= touch_level(k.theta, np.finfo(v0.dtype).eps))
    return fires, d_eval


def spike_time(k: Derived, v0, i0, d_hi, t_start, active):
    """Newton from the left for V(d) = theta on [0, d_hi]; returns d (0 where not active)."""
    eps = np.finfo(np.asarray(v0).dtype).eps
    d = np.zeros_like(d_hi)
    todo = active.copy()
    for _ in range(NEWTON_MAX_ITER):
        if not todo.any():
            break
        v = v_at(k, v0, i0, d)
        cur = i0 * np.exp(-d / k.tau_syn)
        f = v - k.theta
        fp = (cur - v) / k.tau_mem
        step = np.where(todo & (f < 0) & (fp > 0), -f / np.where(fp > 0, fp, 1.0), 0.0)
        d_new = np.minimum(d + step, d_hi)
        todo = todo & (d_new - d > 4 * eps * (np.abs(t_start) + d_new))
        d = np.where(active, d_new, d)
    return d


class _State:
    """Per-lane state of one simulation, flat over lanes (sample, neuron) -> b * N + n."""

    def __init__(self, lanes: int, dtype, k: Derived, max_spikes: int):
        self.v = np.full(lanes, k.v_reset, dtype)
        self.i = np.zeros(lanes, dtype)
        self.rend = np.full(lanes, -np.inf, dtype)
        self.buf = np.full((lanes, max(max_spikes, 1)), np.inf, dtype)
        self.cnt = np.zeros(lanes, np.int64)
        self.stalled = np.zeros(lanes, bool)

    def record(self, lanes, tstar):
        slot = self.cnt[lanes]
        if slot.size and slot.max() >= self.buf.shape[-1]:  # grow: NumPy has no static budget
            self.buf = np.concatenate([self.buf, np.full_like(self.buf, np.inf)], axis=-1)
        self.buf[lanes, slot] = tstar
        self.cnt[lanes] += 1


def candidates(k: Derived, v, i, rend, t_prev, reach):
    """Lanes that may fire (or are refractory) in the next gap: a cheap, rigorous filter.

    `reach` = 1 - exp(-gap / tau_mem). Between inputs I(t) = I0 exp(-t / tau_syn) <= Ip =
    max(I0, 0), so dV/dt <= (Ip - V) / tau_mem and, by comparison with the solution at constant
    Ip, V(d) <= V0 + max(Ip - V0, 0) (1 - exp(-d / tau_mem)) <= max(V0, Ip) on the whole gap.
    (Tighter than the linear V0 + max(0, I0 - V0) d / tau_mem: a lane with V0, I0 < theta is
    never a candidate, however long the gap.) A margin of a few ulps keeps lanes whose exact
    check could round the other way.
    """
    eps = np.finfo(v.dtype).eps
    bound = v + np.maximum(np.maximum(i, 0.0) - v, 0.0) * reach
    return (bound + 32 * eps * (np.abs(v) + np.abs(i) + k.theta) >= k.theta) | (rend > t_prev)


def advance(k: Derived, st: _State, lanes, t0, t1):
    """Move the given lanes from t0 to t1 (arrays over those lanes), emitting every spike in
    (t0, t1], refractory periods included; writes the lanes' state back into st."""
    v, i, rend, stalled = st.v[lanes], st.i[lanes], st.rend[lanes], st.stalled[lanes]
    tc = t0.copy()
    still = np.zeros(len(lanes), bool)  # the lane's last spike did not advance its time
    while True:
        sc = np.minimum(np.maximum(tc, rend), t1)
        i_s = i * np.exp(-(sc - tc) / k.tau_syn)
        v_s = np.where(rend > tc, k.v_reset, v)
        fires, d_hi = peak_bracket(k, v_s, i_s, t1 - sc)
        fires &= ~stalled
        if not fires.any():
            break
        d = spike_time(k, v_s, i_s, d_hi, sc, fires)
        tstar = sc + d
        # A spike may round onto the current time (d below its ulp); two in a row means the
        # spike times stopped advancing in this dtype: stop the lane, simulate() raises.
        same = ~(tstar > tc)
        stall = fires & same & still
        still = fires & same
        stalled |= stall
        fired = fires & ~stall
        st.record(lanes[fired], tstar[fired])
        i = np.where(fires, i_s * np.exp(-d / k.tau_syn), i)
        v = np.where(fires, k.v_reset, v)
        rend = np.where(fires, tstar + k.t_ref, rend)
        tc = np.where(fires, tstar, tc)
    sc = np.minimum(np.maximum(tc, rend), t1)
    i_s = i * np.exp(-(sc - tc) / k.tau_syn)
    v_s = np.where(rend > tc, k.v_reset, v)
    length = t1 - sc
    inf = np.isinf(length)  # open tail (t_end = inf): the state afterwards is 0
    d = np.where(inf, 0.0, length)
    st.v[lanes] = np.where(inf, 0.0, v_at(k, v_s, i_s, d))
    st.i[lanes] = np.where(inf, 0.0, i_s * np.exp(-d / k.tau_syn))
    st.rend[lanes], st.stalled[lanes] = rend, stalled


def lane_queues(times, channels, weights, delays, t_end):
    """Per-step arrival times and input ids/weights.

    Without delays all neurons of a sample share one queue: returns t (B, E, 1) and the
    channel ids (B, E) with padding mapped to an extra all-zero weight row. With delays each
    neuron has its own order: t (B, E, N) and weights (B, E, N), sorted by arrival.
    Padding and events after t_end carry weight 0 at the lane's last real time (no advance).
    """
    n_out, n_in = weights.shape
    pad = channels < 0
    ch = np.where(pad, n_in, channels)
    wt = np.concatenate([weights.T, np.zeros((1, n_out), weights.dtype)])  # (N_in+1, N)
    if delays is None:
        arr = np.where(pad, np.inf, times)[:, :, None]
        late = arr > t_end
        arr = np.where(late, np.inf, arr)
        ch = np.where(late[:, :, 0], n_in, ch)
        w = None
    else:
        dt = np.concatenate([delays.T, np.zeros((1, n_out), delays.dtype)])
        arr = np.where(pad[:, :, None], np.inf, times[:, :, None] + dt[ch])
        w = wt[ch]
        order = np.argsort(arr, axis=1, kind="stable")
        arr = np.take_along_axis(arr, order, axis=1)
        w = np.take_along_axis(w, order, axis=1)
        w = np.where(arr > t_end, 0.0, w)
        arr = np.where(arr > t_end, np.inf, arr)
    # padding / late events: no advance (the lane's last real time, 0 when it has none)
    arr = np.maximum.accumulate(np.where(np.isinf(arr), -np.inf, arr), axis=1)
    arr = np.maximum(arr, 0.0)
    return arr, ch, wt, w


def _steps(arr):
    """Per step: the lanes' previous time and the propagator over the gap."""
    prev = np.concatenate([np.zeros_like(arr[:, :1]), arr[:, :-1]], axis=1)
    return prev, arr - prev


@register("event_lif", "serial", "numpy", entry="layer", devices=("cpu",))
def serial(
    times,
    channels,
    weights,
    params: LIFParams,
    delays=None,
    t_end=math.inf,
    max_spikes: int = 64,
    chunk: int = 32,
) -> Spikes:
    """Serial exact simulation of one LIF layer; inputs batched (B, E), dtype of `weights`.

    `chunk` is accepted for parity with the JAX twin and unused: candidate lanes are compacted
    dynamically (flatnonzero)."""
    k = derive(params)
    dtype = weights.dtype
    arr, ch, wt, w = lane_queues(
        times.astype(dtype),
        channels,
        weights,
        None if delays is None else delays.astype(dtype),
        t_end,
    )
    b, e = channels.shape
    n = weights.shape[0]
    st = _State(b * n, dtype, k, max_spikes)
    prev, gap = _steps(arr)
    pa, pb, pc = propagator(k, gap)
    reach = -np.expm1(-gap / k.tau_mem)
    full = (b, n)
    with np.errstate(all="ignore"):  # masked lanes may hold inf/nan intermediates
        for j in range(e):
            t_prev = np.broadcast_to(prev[:, j], full).ravel()
            cand = candidates(
                k,
                st.v.reshape(full),
                st.i.reshape(full),
                st.rend.reshape(full),
                prev[:, j],
                reach[:, j],
            ).ravel()
            v = (pa[:, j] * st.v.reshape(full) + pb[:, j] * st.i.reshape(full)).ravel()
            i = (pc[:, j] * st.i.reshape(full)).ravel()
            if cand.any():
                lanes = np.flatnonzero(cand)
                t_k = np.broadcast_to(arr[:, j], full).ravel()
                advance(k, st, lanes, t_prev[lanes], t_k[lanes])
                v[lanes], i[lanes] = st.v[lanes], st.i[lanes]
            st.v = v
            st.i = i + (wt[ch[:, j]] if w is None else w[:, j]).ravel()
        last = np.broadcast_to(arr[:, -1] if e else np.zeros((b, 1), dtype), full).ravel()
        advance(k, st, np.arange(b * n), last, np.full(b * n, t_end, dtype))
    return Spikes(st.buf.reshape(b, n, -1), st.cnt.reshape(full), st.stalled.reshape(full))


@register("event_lif", "bare_scan", "numpy", entry="layer", devices=("cpu",))
def bare_scan(times, channels, weights, params: LIFParams, delays=None):
    """The linear state update alone (no peak check, no reset): the ceiling the spike logic is
    measured against. Returns (V, I) (B, N) right after each lane's last input."""
    k = derive(params)
    dtype = weights.dtype
    arr, ch, wt, w = lane_queues(
        times.astype(dtype),
        channels,
        weights,
        None if delays is None else delays.astype(dtype),
        math.inf,
    )
    b, e = channels.shape
    v = np.zeros((b, weights.shape[0]), dtype)
    i = np.zeros_like(v)
    pa, pb, pc = propagator(k, _steps(arr)[1])
    for j in range(e):
        v, i = pa[:, j] * v + pb[:, j] * i, pc[:, j] * i
        i = i + (wt[ch[:, j]] if w is None else w[:, j])
    return v, i
