"""Exact event-driven LIF layer, serial algorithm, in JAX (jit, lax.scan over input events).

Same maths, names and arguments as the NumPy reference (``_numpy.py``; its docstring holds the
closed forms and the loop this kernel must equal). Vectorised over samples and neurons: the
scan carries the state of every lane; each step applies the precomputed linear propagator,
and the lanes that ``candidates`` flags run the exact path (``advance``: a ``lax.while_loop``
that emits every spike of the interval, Newton in a nested while_loop).

Divergences from NumPy/PyTorch: candidate lanes are compacted ``chunk`` at a time with
``jnp.nonzero(size=chunk)`` inside a while_loop (``advance_all``), since jit needs static
shapes; for the same reason the spike buffer has a static size ``max_spikes``. ``counts``
stay exact when it overflows; ``spikebench.kernels.event_lif.simulate`` re-runs with a larger
buffer, so no spike is lost silently.

Two layouts of the same loop. ``chunk > 1`` (wide layers, accelerators): the lane state in
separate arrays, ``advance_all`` above. ``chunk == 1`` (the default up to ``ONE_LANE_MAX``
lanes): one candidate lane a pass (``argmax``, ``one_lane_pass``), the state packed in two arrays
(V and I as rows of one [2, lanes] array; refractory end, count, stall flag, [lanes, 3], only
in the exact path), the weight rows gathered a block of events at a time. Why, measured on
XLA's CPU runtime: it runs a loop body's thunks (one per fusion, copy, gather, scatter, nested
loop) concurrently on its thread pool unless the body has at most 8 of them or touches only
buffers of at most 512 bytes, and the concurrent mode costs about 0.5 us a body run (an
otherwise identical scan over 256 lanes took 83 ms with 10 thunks, 37 ms with 8). Here every
event's body has at most 8 thunks (7 now, see below) and the exact path's inner loops touch
only one lane's scalars; the bodies that still run concurrently (one lane's pass, its spike
flush) run once per candidate lane. 1e5 Poisson events, 128 neurons x batch 2, float64:
265 -> 195 ms (the bare scan: 29 ms); 2,048 lanes (chunk 32 -> one lane): 285 -> 209 ms.
``lax.top_k`` as the compaction sorts the whole mask on CPU and cost more than the loop it
fed.

The data layout of the event's body matters as much as its thunk count: with V and I
interleaved ([lanes, 2]) and the event's six coefficients packed in a trailing axis, the
linear update alone (no spikes at all) ran at a third of the bare scan's speed; as rows
([2, lanes]) and separate coefficient arrays (only the gap's two ends packed, for the exact
path), the same results come out bitwise and, in one process: 1e5 events, 128 x 2, float64
296 -> 159 ms, float32 222 -> 91 ms; 1e3 events 4.3 -> 2.8 ms; 1e4 events, 512 x 4,
293 -> 220 ms.

Then, profiled again (HLO of every loop body, ablations of the event loop, perf): (1) a
block's weight rows come from one plain gather (``wt[idx]``); ``weight_rows``' 512-byte
column split pays off for one event's gather inside a loop body, not for a block's (all 1e5
events' gathers: 11.6 ms split, 7.0 ms plain; the linear update alone with the split
gather ran 38 ms against the bare scan's 29); (2) a block's events run as a ``fori_loop``
that indexes the block's arrays inside the fusions using them (a scan sliced every input
per event: two thunks more in the event's body); (3) Newton's loop carries one stacked
array (9 -> 2 thunks an iteration) and the spike loop's body builds its output through
``pack`` (29 -> 17 thunks). Spike times equal the previous layout's to 2.5e-16 s (the
fusions round differently in the last bit), spike counts exactly. Interleaved A/B rounds in
one process, 1e5 events, 128 x 2: float64 0.70-0.80x the time (118 -> 93 ms, serial / bare
4.1 -> 3.2 on a quiet phase), float32 0.9-1.0x; 1e4 events, 512 x 4, float64 0.81x.
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ...registry import register
from ._common import (
    NEWTON_MAX_ITER,
    SERIES_CUTOFF,
    Derived,
    LIFParams,
    auto_chunk,
    derive,
    touch_level,
)


class Spikes(NamedTuple):
    spike_times: jax.Array  # (B, N, S), +inf padded
    # (B, N), exact even past S. int32 here, int64 in the PyTorch twin, on purpose: JAX
    # without x64 has no int64, and a count never nears 2**31 (the values are equal)
    counts: jax.Array
    stalled: jax.Array  # (B, N) bool


def expm1_over_x(y):
    small = jnp.abs(y) < SERIES_CUTOFF
    safe = jnp.where(small, 1.0, y)
    series = 1.0 + y * (0.5 + y * (1.0 / 6.0 + y / 24.0))
    return jnp.where(small, series, jnp.expm1(safe) / safe)


def log1p_over_x(x):
    small = jnp.abs(x) < SERIES_CUTOFF
    safe = jnp.where(small, 1.0, x)
    series = 1.0 - x * (0.5 - x * (1.0 / 3.0 - x / 4.0))
    return jnp.where(small, series, jnp.log1p(safe) / safe)


def v_at(k: Derived, v0, i0, d):
    return jnp.exp(-d / k.tau_mem) * v0 + i0 * jnp.exp(-d * k.inv_slow) * (
        d / k.tau_mem
    ) * expm1_over_x(-k.abs_r * d)


def propagator(k: Derived, dt):
    a = jnp.exp(-dt / k.tau_mem)
    b = jnp.exp(-dt * k.inv_slow) * (dt / k.tau_mem) * expm1_over_x(-k.abs_r * dt)
    c = jnp.exp(-dt / k.tau_syn)
    return a, b, c


def peak_bracket(k: Derived, v0, i0, length):
    possible = (i0 > k.theta) & (length > 0)
    den = i0 + k.r * k.tau_mem * v0
    has_peak = possible & (den > 0)
    c = k.tau_mem * (i0 - v0) / jnp.where(has_peak, den, 1.0)
    d_peak = jnp.where(has_peak, c * log1p_over_x(k.r * c), jnp.inf)
    d_hi = jnp.minimum(d_peak, length)
    d_eval = jnp.where(jnp.isfinite(d_hi), d_hi, 0.0)
    fires = has_peak & (v_at(k, v0, i0, d_eval) >= touch_level(k.theta, jnp.finfo(v0.dtype).eps))
    return fires, d_eval


# Newton's loop state, stacked in one array: the step d, still going, iterations done, then
# the problem, carried unchanged: V and I at the start, the bracket's end, t_start, active
(ND, NTODO, NIT, NV0, NI0, NDHI, NT0, NACT) = range(8)


def pack(vals):
    """``jnp.stack(vals)`` built as rows of 4: XLA's CPU backend fuses a concatenate's
    producers into it only up to about 7 operands (measured: 6 scalars of work and a tail
    made one kernel, 8 made 10), so a wide stack of scalars left every value its own thunk;
    as a [rows, 4] grid the concatenates stay small and the values and the work behind them
    fuse into one kernel."""
    n = len(vals)
    vals = list(vals) + [jnp.zeros_like(vals[0])] * (-n % 4)
    rows = jnp.stack([jnp.stack(vals[r : r + 4]) for r in range(0, len(vals), 4)])
    return rows.reshape(-1, *rows.shape[2:])[:n]


def newton_start(v0, i0, d_hi, t_start, active):
    """Newton's initial loop state (``ND`` ...), all of it one array of the inputs' shape."""
    dtype = jnp.result_type(v0)
    shape = jnp.broadcast_shapes(*(jnp.shape(x) for x in (v0, i0, d_hi, t_start, active)))
    zero = jnp.zeros(shape, dtype)
    on = jnp.broadcast_to(active, shape).astype(dtype)
    return pack(
        [
            zero,
            on,
            zero,
            *(jnp.broadcast_to(x, shape).astype(dtype) for x in (v0, i0, d_hi, t_start)),
            on,
        ]
    )


def newton(k: Derived, s):
    """Newton from the left for V(d) = theta on [0, d_hi], from the state ``newton_start``
    gives; returns the final state (d in ``s[ND]``, 0 where not active; the problem as given).

    The loop carries one stacked array rather than separate values: XLA's CPU backend then
    fuses an iteration into one kernel (a scalar iteration was 9 thunks as separate values,
    2 as one array), and a caller that reads the problem back from the result fuses its own
    work before and after the loop the same way."""
    eps = jnp.finfo(s.dtype).eps

    def body(s):
        d, todo, it = s[ND], s[NTODO] > 0, s[NIT]
        v0, i0, d_hi, t_start, active = s[NV0], s[NI0], s[NDHI], s[NT0], s[NACT] > 0
        v = v_at(k, v0, i0, d)
        cur = i0 * jnp.exp(-d / k.tau_syn)
        f = v - k.theta
        fp = (cur - v) / k.tau_mem
        step = jnp.where(todo & (f < 0) & (fp > 0), -f / jnp.where(fp > 0, fp, 1.0), 0.0)
        d_new = jnp.minimum(d + step, d_hi)
        todo = (
            todo & (d_new - d > 4 * eps * (jnp.abs(t_start) + d_new)) & (it + 1 < NEWTON_MAX_ITER)
        )
        return jnp.concatenate(
            [jnp.stack([jnp.where(active, d_new, d), todo.astype(s.dtype), it + 1]), s[NV0:]]
        )

    return lax.while_loop(lambda s: jnp.any(s[NTODO] > 0), body, s)


def spike_time(k: Derived, v0, i0, d_hi, t_start, active):
    """Newton from the left for V(d) = theta on [0, d_hi]; returns d (0 where not active).
    Any shape (one lane's scalars or a chunk of lanes)."""
    return newton(k, newton_start(v0, i0, d_hi, t_start, active))[ND]


class _State(NamedTuple):
    """Per-lane state, flat over lanes (sample, neuron) -> b * N + n."""

    v: jax.Array
    i: jax.Array
    rend: jax.Array
    buf: jax.Array
    cnt: jax.Array
    stalled: jax.Array


def candidates(k: Derived, v, i, rend, t_prev, reach):
    """Lanes that may fire (or are refractory) in the next gap: a cheap, rigorous filter.

    `reach` = 1 - exp(-gap / tau_mem). Between inputs I(t) = I0 exp(-t / tau_syn) <= Ip =
    max(I0, 0), so dV/dt <= (Ip - V) / tau_mem and, by comparison with the solution at constant
    Ip, V(d) <= V0 + max(Ip - V0, 0) (1 - exp(-d / tau_mem)) <= max(V0, Ip) on the whole gap.
    (Tighter than the linear V0 + max(0, I0 - V0) d / tau_mem: a lane with V0, I0 < theta is
    never a candidate, however long the gap.) A margin of a few ulps keeps lanes whose exact
    check could round the other way.

    Without a refractory period (``t_ref == 0``, static) no lane is refractory at a gap's
    start (its last spike is at the latest the gap's start, but for rounding in the last bit),
    so the refractory test and its read of `rend` are left out; the same holds for
    ``_origin``. Measured, 1e5 events, 128 x 2, in one process: 0.93-0.95x the time in
    float64, 0.86-0.92x in float32, the same spikes bitwise.
    """
    eps = jnp.finfo(v.dtype).eps
    bound = v + jnp.maximum(jnp.maximum(i, 0.0) - v, 0.0) * reach
    near = bound + 32 * eps * (jnp.abs(v) + jnp.abs(i) + k.theta) >= k.theta
    return (near | (rend > t_prev)) if k.t_ref > 0 else near


def _origin(k: Derived, v, i, rend, tc, t1):
    """Where a lane's free evolution restarts after time tc: sc = the end of its refractory
    period (within t1), V there (v_reset while refractory) and I decayed to it (tc itself and
    no decay without a refractory period)."""
    if k.t_ref == 0:  # static: no refractory period, the lane restarts where it is
        return jnp.minimum(tc, t1), v, i
    sc = jnp.minimum(jnp.maximum(tc, rend), t1)
    return sc, jnp.where(rend > tc, k.v_reset, v), i * jnp.exp(-(sc - tc) / k.tau_syn)


def _fires_of(k: Derived, v, i, rend, stalled, tc, t1):
    """Whether the lane crosses theta in (tc, t1], Newton's bracket and the ``_origin``."""
    sc, v_s, i_s = _origin(k, v, i, rend, tc, t1)
    fires, d_hi = peak_bracket(k, v_s, i_s, t1 - sc)
    return fires & ~stalled, d_hi, sc, v_s, i_s


def _state_at(k: Derived, v, i, rend, tc, t1):
    """(V, I) at t1 with no spike after tc; an open tail (t1 = inf) ends at 0."""
    sc, v_s, i_s = _origin(k, v, i, rend, tc, t1)
    length = t1 - sc
    inf = jnp.isinf(length)
    d = jnp.where(inf, 0.0, length)
    return (
        jnp.where(inf, 0.0, v_at(k, v_s, i_s, d)),
        jnp.where(inf, 0.0, i_s * jnp.exp(-d / k.tau_syn)),
    )


def advance(k: Derived, st: _State, lanes, valid, t0, t1) -> _State:
    """Move the given lanes from t0 to t1, emitting every spike in (t0, t1].

    `lanes` is a static-size index vector; entries with valid == False are padding (their
    index is out of range, so gathers fill and scatters drop them)."""
    n_lanes, size = st.buf.shape

    def get(x, fill):
        return x.at[lanes].get(mode="fill", fill_value=fill)

    v, i, rend, stalled = get(st.v, 0), get(st.i, 0), get(st.rend, -jnp.inf), get(st.stalled, True)
    stalled = stalled | ~valid

    def fires_of(v, i, rend, stalled, tc):
        return _fires_of(k, v, i, rend, stalled, tc, t1)

    def body(c):
        v, i, rend, stalled, still, tc, buf, cnt, fires = c
        _, d_hi, sc, v_s, i_s = fires_of(v, i, rend, stalled, tc)
        d = spike_time(k, v_s, i_s, d_hi, sc, fires)
        tstar = sc + d
        # A spike may round onto the current time (d below its ulp); two in a row means the
        # spike times stopped advancing in this dtype: stop the lane, simulate() raises.
        same = ~(tstar > tc)
        stall = fires & same & still
        still = fires & same
        fired = fires & ~stall
        lane_cnt = cnt.at[lanes].get(mode="fill", fill_value=size)
        slot = jnp.where(fired & (lane_cnt < size), lane_cnt, size)  # overflow: counted, dropped
        buf = buf.at[lanes, slot].set(tstar, mode="drop")
        cnt = cnt.at[lanes].add(fired.astype(cnt.dtype), mode="drop")
        i = jnp.where(fires, i_s * jnp.exp(-d / k.tau_syn), i)
        v = jnp.where(fires, k.v_reset, v)
        rend = jnp.where(fires, tstar + k.t_ref, rend)
        tc = jnp.where(fires, tstar, tc)
        stalled = stalled | stall
        return v, i, rend, stalled, still, tc, buf, cnt, fires_of(v, i, rend, stalled, tc)[0]

    tc = t0
    c = (
        v,
        i,
        rend,
        stalled,
        jnp.zeros_like(stalled),
        tc,
        st.buf,
        st.cnt,
        fires_of(v, i, rend, stalled, tc)[0],
    )
    v, i, rend, stalled, _, tc, buf, cnt, _ = lax.while_loop(lambda c: jnp.any(c[-1]), body, c)
    v, i = _state_at(k, v, i, rend, tc, t1)

    def put(x, val):
        return x.at[lanes].set(val, mode="drop")

    return _State(
        put(st.v, v), put(st.i, i), put(st.rend, rend), buf, cnt, put(st.stalled, stalled & valid)
    )


def advance_all(k: Derived, st: _State, cand, t0, t1, chunk: int) -> _State:
    """advance() on every lane of `cand`, `chunk` lanes at a time (static shapes: the exact
    path costs O(chunk), not O(lanes), per pass)."""
    n_lanes = st.v.shape[0]

    def body(c):
        st, rem = c
        lanes = jnp.nonzero(rem, size=chunk, fill_value=n_lanes)[0]
        valid = lanes < n_lanes
        st = advance(
            k,
            st,
            lanes,
            valid,
            t0.at[lanes].get(mode="fill", fill_value=0),
            t1.at[lanes].get(mode="fill", fill_value=0),
        )
        return st, rem.at[lanes].set(False, mode="drop")

    st, _ = lax.while_loop(lambda c: jnp.any(c[1]), body, (st, cand))
    return st


# spikes one pass of the one-lane spike loop holds before they go into the buffer
STAGE = 4
# the largest layer (B * N lanes) whose default pass takes one lane (module docstring)
ONE_LANE_MAX = 4096


# The one-lane loop's state: one small float vector (a loop's initial carry costs a thunk per
# array, so its scalars travel together): V, I, refractory end, spike count, stall flag (the
# lane's row of ``vi`` and ``aux``), the time reached and the gap's end (its row of the
# coefficients), then the loop's own: stall watch, fires again, spikes staged, V and I at the
# gap's end, the staged spike times.
(PV, PI, PREND, PCNT, PSTALLED, PTC, PT1, PSTILL, PMORE, PNEW, PVEND, PIEND, PSTAGE) = range(13)


def _one_lane_body(k: Derived):
    """The spike loop's body for one lane (the state vector above): at most one spike into the
    stage, then, from the state it leaves, whether the lane fires again before the gap's end
    and its V, I there (an open tail, end = inf, ends at 0), so the loop exits with everything
    the caller writes back. The first pass finds out whether the lane fires at all (``more``
    starts at 1)."""

    def body(p):
        v, i, rend, tc, t1, n_new = p[PV], p[PI], p[PREND], p[PTC], p[PT1], p[PNEW]
        stalled, still = p[PSTALLED] > 0, p[PSTILL] > 0
        fires, d_hi, sc, v_s, i_s = _fires_of(k, v, i, rend, stalled, tc, t1)
        # everything after Newton reads its inputs back from Newton's state (one array), so
        # the work before and after the loop each fuse into one kernel
        s = newton(k, newton_start(v_s, i_s, d_hi, sc, fires & (n_new < STAGE)))
        d, v_s, i_s, sc, go = s[ND], s[NV0], s[NI0], s[NT0], s[NACT] > 0
        tstar = sc + d
        # A spike may round onto the current time (d below its ulp); two in a row means the
        # spike times stopped advancing in this dtype: stop the lane, simulate() raises.
        same = ~(tstar > tc)
        stall = go & same & still
        still = jnp.where(go, same, still)
        fired = go & ~stall
        i = jnp.where(go, i_s * jnp.exp(-d / k.tau_syn), i)
        v = jnp.where(go, k.v_reset, v)
        rend = jnp.where(go, tstar + k.t_ref, rend)
        tc = jnp.where(go, tstar, tc)
        stalled = stalled | stall
        more = _fires_of(k, v, i, rend, stalled, tc, t1)[0]
        v_end, i_end = _state_at(k, v, i, rend, tc, t1)
        one = jnp.ones((), p.dtype)
        stage = [jnp.where((n_new == j) & fired, tstar, p[PSTAGE + j]) for j in range(STAGE)]
        return pack(
            [
                v,
                i,
                rend,
                p[PCNT],
                stalled * one,
                tc,
                t1,
                still * one,
                more * one,
                n_new + fired,
                v_end,
                i_end,
                *stage,
            ]
        )

    return body


def one_lane_pass(k: Derived, vi, aux, buf, cand, gap, add, n: int, src=None, at=None):
    """Run every lane flagged in `cand` exactly over its gap, one lane a pass, and write its
    state at the gap's end into `vi` (plus `add`, the input's weight), its spikes into `buf`.

    vi, src: [2, lanes] (V row, I row): a lane's column is read from `src` (default `vi`: the
    serial step reads the state before the input's linear update and writes into the updated
    array); aux: [lanes, 3] (refractory end, spike count, stall flag, as floats: the count is
    exact below 2**24 in float32, 2**53 in float64); gap: [B, L, 2], the gap's start and end
    per sample (L = 1) or lane (L = N, delays); add: [B, N] or None; buf: [lanes, size + STAGE]
    (the last STAGE columns spare, see ``flush``). ``counts`` past `size` are kept, the spikes
    dropped (``simulate`` re-runs with a larger buffer).

    `at`: with it, `gap` and `add` are a whole block of events ([block, B, L, 2], [block, B, N])
    and the pass reads event `at`'s rows itself, inside the fusions that use them (the serial
    loop's event body then slices nothing per event)."""
    src = vi if src is None else src
    size = buf.shape[1] - STAGE
    if at is None:
        gap, add, at = gap[None], None if add is None else add[None], 0
    per_lane = gap.shape[2] > 1
    gaps = gap.reshape(gap.shape[0], -1, 2)
    add = None if add is None else add.reshape(add.shape[0], -1)
    dtype = vi.dtype
    spike_body = _one_lane_body(k)
    # still = 0, more = 1, nothing staged, V and I at the end unknown, an empty stage
    own = jnp.concatenate(
        [jnp.array([0.0, 1.0, 0.0, 0.0, 0.0], dtype), jnp.full((STAGE,), jnp.inf, dtype)]
    )
    none_staged, empty_stage = own[PNEW - PSTILL : PNEW - PSTILL + 1], own[-STAGE:]

    def flush(f):  # spike until the lane is done or its stage is full, then empty the stage
        p, buf, lane = f
        p = lax.while_loop(lambda p: (p[PMORE] > 0) & (p[PNEW] < STAGE), spike_body, p)
        # the whole stage goes to columns cnt .. cnt + STAGE - 1 (its unused slots are +inf,
        # as the columns after the last spike are); `buf` has STAGE spare columns, so a lane
        # past `size` spikes writes there (counted, dropped) and nothing is clamped back
        col = jnp.minimum(p[PCNT].astype(jnp.int32), size)
        buf = lax.dynamic_update_slice(buf, p[None, PSTAGE:], (lane, col))
        # the count takes the staged spikes, the stage empties (one concatenation: a chain of
        # updates was more thunks in this body)
        return (
            jnp.concatenate(
                [p[:PNEW].at[PCNT].add(p[PNEW]), none_staged, p[PVEND:PSTAGE], empty_stage]
            ),
            buf,
            lane,
        )

    def body(c):
        vi, aux, buf, rem = c
        lane = jnp.argmax(rem).astype(jnp.int32)
        p = jnp.concatenate(
            [
                lax.dynamic_slice_in_dim(src, lane, 1, axis=1)[:, 0],
                lax.dynamic_index_in_dim(aux, lane, keepdims=False),
                gaps[at, lane if per_lane else lane // n],
                own,
            ]
        )
        p, buf, _ = lax.while_loop(lambda f: f[0][PMORE] > 0, flush, (p, buf, lane))
        a_l = 0.0 if add is None else add[at, lane]
        vi = lax.dynamic_update_slice(
            vi, jnp.stack([p[PVEND], p[PIEND] + a_l])[:, None], (jnp.zeros((), jnp.int32), lane)
        )
        aux = lax.dynamic_update_index_in_dim(aux, p[PREND : PSTALLED + 1], lane, 0)
        return vi, aux, buf, lax.dynamic_update_index_in_dim(rem, False, lane, 0)

    vi, aux, buf, _ = lax.while_loop(lambda c: jnp.any(c[-1]), body, (vi, aux, buf, cand))
    return vi, aux, buf


def lane_queues(times, channels, weights, delays, t_end):
    n_out, n_in = weights.shape
    pad = channels < 0
    ch = jnp.where(pad, n_in, channels)
    wt = jnp.concatenate([weights.T, jnp.zeros((1, n_out), weights.dtype)])
    if delays is None:
        arr = jnp.where(pad, jnp.inf, times)[:, :, None]
        late = arr > t_end
        arr = jnp.where(late, jnp.inf, arr)
        ch = jnp.where(late[:, :, 0], n_in, ch)
        w = None
    else:
        dt = jnp.concatenate([delays.T, jnp.zeros((1, n_out), delays.dtype)])
        arr = jnp.where(pad[:, :, None], jnp.inf, times[:, :, None] + dt[ch])
        order = jnp.argsort(arr, axis=1, stable=True)
        arr = jnp.take_along_axis(arr, order, axis=1)
        w = jnp.take_along_axis(wt[ch], order, axis=1)
        w = jnp.where(arr > t_end, 0.0, w)
        arr = jnp.where(arr > t_end, jnp.inf, arr)
    arr = lax.cummax(jnp.where(jnp.isinf(arr), -jnp.inf, arr), axis=1)
    arr = jnp.maximum(arr, 0.0)
    return arr, ch, wt, w


def weight_rows(wt, idx):
    """``wt[idx]`` (one weight row per sample of the current input), gathered in column
    blocks of at most 512 bytes. XLA's CPU gather falls off a cliff past 512 bytes a row:
    measured in a 1e4-step scan, 128 float64 columns at batch 2 took 36 ms as one gather and
    3.7 ms as two, 256 float32 columns 28 ms and 2.8 ms (64 float64 or 128 float32 columns:
    about 1 ms either way). Same values; one block is the plain gather."""
    per = max(1, 512 // wt.dtype.itemsize)
    if wt.shape[1] <= per:
        return wt[idx]
    return jnp.concatenate([wt[:, s : s + per][idx] for s in range(0, wt.shape[1], per)], axis=-1)


def _steps(arr):
    prev = jnp.concatenate([jnp.zeros_like(arr[:, :1]), arr[:, :-1]], axis=1)
    return prev, arr - prev


@register(
    "event_lif", "serial", "jax", entry="layer", devices=("cpu", "gpu", "tpu"), knobs=("chunk",)
)
@partial(jax.jit, static_argnames=("params", "max_spikes", "chunk"))
def serial(
    times,
    channels,
    weights,
    params: LIFParams,
    delays=None,
    t_end=math.inf,
    max_spikes: int = 64,
    chunk: int | None = None,
) -> Spikes:
    """Serial exact simulation of one LIF layer; inputs batched (B, E), dtype of `weights`.

    `chunk` (JAX only): how many candidate lanes one pass of the exact path takes; default
    one up to ``ONE_LANE_MAX`` lanes, else ``auto_chunk(B * N)`` (module docstring)."""
    k = derive(params)
    dtype = weights.dtype
    t_end = jnp.asarray(t_end, dtype)
    arr, ch, wt, w = lane_queues(
        times.astype(dtype),
        channels,
        weights,
        None if delays is None else delays.astype(dtype),
        t_end,
    )
    b, e = channels.shape
    n = weights.shape[0]
    full, lanes = (b, n), b * n
    if chunk is None:
        chunk = 1 if lanes <= ONE_LANE_MAX else auto_chunk(lanes)
    chunk = max(1, min(chunk, lanes))
    if chunk == 1:
        return _serial_one_lane(k, arr, ch, wt, w, t_end, b, n, max(max_spikes, 1))
    st = _State(
        jnp.full(lanes, k.v_reset, dtype),
        jnp.zeros(lanes, dtype),
        jnp.full(lanes, -jnp.inf, dtype),
        jnp.full((lanes, max(max_spikes, 1)), jnp.inf, dtype),
        jnp.zeros(lanes, jnp.int32),
        jnp.zeros(lanes, bool),
    )
    prev, gap = _steps(arr)
    pa, pb, pc = propagator(k, gap)
    inp = ch if w is None else w

    def step(st: _State, x):
        t_prev, t_k, a, bb, c, reach, inp_k = x
        v2, i2 = st.v.reshape(full), st.i.reshape(full)
        cand = candidates(k, v2, i2, st.rend.reshape(full), t_prev, reach).ravel()
        v = (a * v2 + bb * i2).ravel()
        i = (c * i2).ravel()
        ex = advance_all(
            k,
            st,
            cand,
            jnp.broadcast_to(t_prev, full).ravel(),
            jnp.broadcast_to(t_k, full).ravel(),
            chunk,
        )
        i = jnp.where(cand, ex.i, i) + (weight_rows(wt, inp_k) if w is None else inp_k).ravel()
        return ex._replace(v=jnp.where(cand, ex.v, v), i=i), None

    reach = -jnp.expm1(-gap / k.tau_mem)
    xs = tuple(jnp.moveaxis(x, 1, 0) for x in (prev, arr, pa, pb, pc, reach, inp))
    st, _ = lax.scan(step, st, xs)
    last = jnp.broadcast_to(arr[:, -1] if e else jnp.zeros((b, 1), dtype), full).ravel()
    st = advance_all(k, st, jnp.ones(lanes, bool), last, jnp.full(lanes, t_end, dtype), chunk)
    return Spikes(st.buf.reshape(b, n, -1), st.cnt.reshape(full), st.stalled.reshape(full))


def _event_blocks(arr, ch, wt, w, k: Derived, block: int):
    """The per-event inputs of the one-lane loop, step-major, in blocks of `block` events: the
    gap [n_blocks, block, B, L, 2] (t_prev, t_k packed: ``one_lane_pass`` reads a lane's pair),
    the propagator a, b, c and reach = 1 - exp(-gap / tau_mem), each [n_blocks, block, B, L]
    (L = 1 without delays, N with; apart, not packed in a trailing axis: reading a packed row
    per event made the linear update 2x slower), and the input's channel (its weight row is
    gathered a block at a time: a gather per event was two thunks more in the event's body)
    or, with delays, its weights. The tail is padded with empty events (gap 0: the identity
    propagator, no input)."""
    b, e, per = arr.shape
    prev, gap = _steps(arr)
    pa, pb, pc = propagator(k, gap)
    reach = -jnp.expm1(-gap / k.tau_mem)
    n_blocks = max(1, -(-e // block))
    pad = n_blocks * block - e
    last = arr[:, -1] if e else jnp.zeros((b, per), arr.dtype)

    def blocks(x, fill):
        """(B, E, ...) -> step-major [n_blocks, block, B, ...], the tail padded with `fill`."""
        x = jnp.moveaxis(x, 1, 0)
        tail = jnp.broadcast_to(jnp.asarray(fill, x.dtype), (pad, *x.shape[1:]))
        return jnp.concatenate([x, tail]).reshape(n_blocks, block, *x.shape[1:])

    gaps = jnp.stack([blocks(prev, last), blocks(arr, last)], -1)
    coef = (gaps, *(blocks(x, fill) for x, fill in ((pa, 1.0), (pb, 0.0), (pc, 1.0), (reach, 0.0))))
    # a padding event's channel is the zero row of wt (no input); with delays, zero weights
    inp = blocks(ch, wt.shape[0] - 1) if w is None else blocks(w, 0)
    return coef, inp


# events a block of the one-lane loop
BLOCK = 256


def _serial_one_lane(k: Derived, arr, ch, wt, w, t_end, b: int, n: int, size: int) -> Spikes:
    """``serial`` with one candidate lane a pass (module docstring): per event, the linear
    update of every lane and the candidate filter, then ``one_lane_pass`` on the flagged
    lanes; the tail to t_end at the end."""
    dtype = wt.dtype
    full, lanes = (b, n), b * n
    e = arr.shape[1]
    vi = jnp.stack([jnp.full(lanes, k.v_reset, dtype), jnp.zeros(lanes, dtype)])
    aux = jnp.stack(
        [jnp.full(lanes, -jnp.inf, dtype), jnp.zeros(lanes, dtype), jnp.zeros(lanes, dtype)], axis=1
    )
    coef, inp = _event_blocks(arr, ch, wt, w, k, min(BLOCK, max(e, 1)))

    def block(carry, xb):
        gaps, pa, pb, pc, reach, ib = xb
        adds = wt[ib] if w is None else ib  # [block, B, N]

        def event(j, carry):
            vi, aux, buf = carry
            v, i = vi[0].reshape(full), vi[1].reshape(full)
            gap = gaps[j]
            cand = candidates(k, v, i, aux[:, 0].reshape(full), gap[..., 0], reach[j]).ravel()
            new = jnp.stack([(pa[j] * v + pb[j] * i).ravel(), (pc[j] * i + adds[j]).ravel()])
            return one_lane_pass(k, new, aux, buf, cand, gaps, adds, n, src=vi, at=j)

        return lax.fori_loop(0, gaps.shape[0], event, carry), None

    carry = (vi, aux, jnp.full((lanes, size + STAGE), jnp.inf, dtype))
    (vi, aux, buf), _ = lax.scan(block, carry, (*coef, inp))
    last = arr[:, -1] if e else jnp.zeros((b, 1), dtype)
    vi, aux, buf = one_lane_pass(
        k,
        vi,
        aux,
        buf,
        jnp.ones(lanes, bool),
        jnp.stack([last, jnp.full_like(last, t_end)], -1),
        None,
        n,
    )
    return Spikes(
        buf[:, :size].reshape(b, n, -1),
        aux[:, 1].astype(jnp.int32).reshape(full),
        (aux[:, 2] > 0).reshape(full),
    )


@register("event_lif", "bare_scan", "jax", entry="layer", devices=("cpu", "gpu", "tpu"))
@partial(jax.jit, static_argnames=("params",))
def bare_scan(times, channels, weights, params: LIFParams, delays=None):
    """The linear state update alone (the ceiling); (V, I) right after each lane's last input."""
    k = derive(params)
    dtype = weights.dtype
    arr, ch, wt, w = lane_queues(
        times.astype(dtype),
        channels,
        weights,
        None if delays is None else delays.astype(dtype),
        jnp.inf,
    )
    b = channels.shape[0]
    n = weights.shape[0]
    pa, pb, pc = propagator(k, _steps(arr)[1])
    inp = ch if w is None else w

    def step(s, x):
        v, i = s
        a, bb, c, inp_k = x
        v, i = a * v + bb * i, c * i
        return (v, i + (weight_rows(wt, inp_k) if w is None else inp_k)), None

    xs = tuple(jnp.moveaxis(x, 1, 0) for x in (pa, pb, pc, inp))
    zero = jnp.zeros((b, n), dtype)
    (v, i), _ = lax.scan(step, (zero, zero), xs)
    return v, i
