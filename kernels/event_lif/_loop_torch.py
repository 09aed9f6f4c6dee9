"""Serial exact LIF layer and the bare scan as one compiled graph each (framework
torch-compile): the loop over input events is torch's ``while_loop`` higher-order op, the exact
path a ``torch.cond`` around nested ``while_loop``s, and inductor compiles the whole of it with
its C++ wrapper, so no step returns to Python.

The algorithm is the JAX twin's (``_jax.py``, maths in ``_numpy.py``): every lane takes the
linear propagator; the lanes ``candidates`` flags run ``advance`` ``chunk`` at a time
(``advance_all``), spikes go into a static buffer of ``max_spikes`` per lane (``counts`` stay
exact past it; ``simulate`` and the harness re-run with the size they need). Static shapes as
in JAX: the per-lane state carries one extra *sink* lane (index ``lanes``) and the buffer one
extra column, so the padding of a chunk and the spikes past the buffer land there instead of
needing masked scatters. The eager twin (``_torch.py``) compacts candidates with ``nonzero``
instead, one host sync per event, which is why it cannot be one graph.

Where the time goes (perf, 128 neurons x batch 2, 1e4 Poisson events, float64): a carried
tensor that changes is copied every loop iteration, so the exact path's loops copy the spike
buffer at each pass and each emitted spike (about 65 us per event with candidates, against
2.5 us for a quiet event, which carries V and I only: ``_serial_loop``). A loop that wrote
spikes to a small per-pass log instead would cut that; not done yet.

Why the C++ wrapper: with inductor's default Python wrapper every loop iteration goes back to
Python (profiled on the bare scan, 1e5 events x 256 lanes, float64: 0.83 s compiled with the
Python wrapper, 0.20 s with the C++ one, 3.2 s eager).
"""

from __future__ import annotations

import math
from functools import cache, partial
from typing import NamedTuple

import torch
from torch._higher_order_ops.while_loop import while_loop

from ...registry import register
from .._torch_compile import compile_step
from ._common import NEWTON_MAX_ITER, Derived, LIFParams, auto_chunk, derive
from ._torch import Spikes, _steps, candidates, layer_queues, peak_bracket, propagator, v_at
from ._torch import bare_scan as _torch_bare_scan
from ._torch import serial as _torch_serial

COMPILE_OPTIONS = {"cpp_wrapper": True, "cpp.threads": 1}


def _compile(fn):
    """``compile_step`` (fullgraph, C++ wrapper): one graph per (constants, chunk, layer
    shape, dtype), all recompiles of the same code object (``_serial_loop``)."""
    return compile_step(fn, fullgraph=True, options=COMPILE_OPTIONS)


class _State(NamedTuple):
    """Per-lane state over lanes + 1 (the last is the sink lane); buf is (lanes + 1, S + 1)."""

    v: torch.Tensor
    i: torch.Tensor
    rend: torch.Tensor
    buf: torch.Tensor
    cnt: torch.Tensor
    stalled: torch.Tensor


def _at(x, j):
    """Step j (a 0-d tensor) of a step-major tensor, as a graph op."""
    return torch.index_select(x, 0, j.view(1)).squeeze(0)


def spike_time(k: Derived, v0, i0, d_hi, t_start, active):
    """Newton from the left for V(d) = theta on [0, d_hi] (the JAX twin's while_loop)."""
    eps = torch.finfo(v0.dtype).eps

    def cond(d, todo, it):
        return todo.any() & (it < NEWTON_MAX_ITER)

    def body(d, todo, it):
        v = v_at(k, v0, i0, d)
        cur = i0 * torch.exp(-d / k.tau_syn)
        f = v - k.theta
        fp = (cur - v) / k.tau_mem
        step = torch.where(todo & (f < 0) & (fp > 0), -f / torch.where(fp > 0, fp, 1.0), 0.0)
        d_new = torch.minimum(d + step, d_hi)
        todo = todo & (d_new - d > 4 * eps * (t_start.abs() + d_new))
        return torch.where(active, d_new, d), todo, it + 1

    it = torch.zeros((), dtype=torch.int64, device=v0.device)
    return while_loop(cond, body, (torch.zeros_like(d_hi), active.clone(), it))[0]


def advance(k: Derived, st: _State, lanes, valid, t0, t1) -> _State:
    """Move the given lanes (a static-size index vector; padding points at the sink lane) from
    t0 to t1, emitting every spike in (t0, t1]."""
    size = st.buf.shape[1] - 1
    v, i, rend = st.v[lanes], st.i[lanes], st.rend[lanes]
    stalled = st.stalled[lanes] | ~valid

    def start(v, i, rend, tc):
        sc = torch.minimum(torch.maximum(tc, rend), t1)
        return sc, torch.where(rend > tc, k.v_reset, v), i * torch.exp(-(sc - tc) / k.tau_syn)

    def fires_of(v, i, rend, stalled, tc):
        sc, v_s, i_s = start(v, i, rend, tc)
        fires, d_hi = peak_bracket(k, v_s, i_s, t1 - sc)
        return fires & ~stalled, d_hi, sc, v_s, i_s

    def cond(v, i, rend, stalled, still, tc, buf, cnt, fires):
        return fires.any()

    def body(v, i, rend, stalled, still, tc, buf, cnt, fires):
        _, d_hi, sc, v_s, i_s = fires_of(v, i, rend, stalled, tc)
        d = spike_time(k, v_s, i_s, d_hi, sc, fires)
        tstar = sc + d
        # a spike that rounds onto the current time twice in a row stalls the lane (_jax.py)
        same = ~(tstar > tc)
        stall = fires & same & still
        still = fires & same
        fired = fires & ~stall
        lane_cnt = cnt[lanes]
        slot = torch.where(fired & (lane_cnt < size), lane_cnt, size)  # overflow: counted
        buf = buf.index_put((lanes, slot), tstar)
        cnt = cnt.index_put((lanes,), lane_cnt + fired.to(cnt.dtype))
        i = torch.where(fires, i_s * torch.exp(-d / k.tau_syn), i)
        v = torch.where(fires, k.v_reset, v)
        rend = torch.where(fires, tstar + k.t_ref, rend)
        tc = torch.where(fires, tstar, tc)
        stalled = stalled | stall
        return v, i, rend, stalled, still, tc, buf, cnt, fires_of(v, i, rend, stalled, tc)[0]

    tc = t0.clone()
    c = (
        v,
        i,
        rend,
        stalled,
        torch.zeros_like(stalled),
        tc,
        st.buf.clone(),
        st.cnt.clone(),
        fires_of(v, i, rend, stalled, tc)[0],
    )
    v, i, rend, stalled, _, tc, buf, cnt, _ = while_loop(cond, body, c)
    sc, v_s, i_s = start(v, i, rend, tc)
    length = t1 - sc
    inf = torch.isinf(length)  # open tail (t_end = inf): the state afterwards is 0
    d = torch.where(inf, 0.0, length)
    v = torch.where(inf, 0.0, v_at(k, v_s, i_s, d))
    i = torch.where(inf, 0.0, i_s * torch.exp(-d / k.tau_syn))
    return _State(
        st.v.index_put((lanes,), v),
        st.i.index_put((lanes,), i),
        st.rend.index_put((lanes,), rend),
        buf,
        cnt,
        st.stalled.index_put((lanes,), stalled & valid),
    )


def _first(rem, chunk: int):
    """The first `chunk` lanes set in `rem`, padded with the sink lane (index len(rem)): the
    static-size nonzero of the JAX twin, from a cumulative sum."""
    n = rem.shape[0]
    pos = torch.cumsum(rem.to(torch.int64), 0) - 1
    take = rem & (pos < chunk)
    slots = torch.full((chunk + 1,), n, dtype=torch.int64, device=rem.device)
    idx = torch.arange(n, dtype=torch.int64, device=rem.device)
    slots = slots.index_put((torch.where(take, pos, chunk),), torch.where(take, idx, n))
    return slots[:chunk], take


def advance_all(k: Derived, st: _State, cand, t0, t1, chunk: int) -> _State:
    """advance() on every lane of `cand` (over lanes + 1; the sink is never set), `chunk` lanes
    a pass."""
    n = cand.shape[0] - 1

    def cond(rem, *st):
        return rem.any()

    def body(rem, *fields):
        s = _State(*fields)
        lanes, take = _first(rem[:n], chunk)
        valid = lanes < n
        s = advance(k, s, lanes, valid, t0[lanes], t1[lanes])
        return (rem & ~torch.cat([take, take.new_zeros(1)]), *s)

    out = while_loop(cond, body, (cand.clone(), *(x.clone() for x in st)))
    return _State(*out[1:])


def _with_sink(x, fill):
    return torch.cat([x, x.new_full((1,), fill)])


def _serial_loop(
    prev,
    arr,
    pa,
    pb,
    pc,
    reach,
    inp,
    wt,
    v,
    i,
    rend,
    buf,
    cnt,
    stalled,
    *,
    k: Derived,
    chunk: int,
    shape: tuple[int, int],
    per_event: bool,
):
    """The whole event loop on step-major inputs ((E, B, 1), inp (E, B) or (E, B, N); the last
    event is the tail to t_end, ``serial_compiled``); returns the final state.

    Two levels, so that the spike buffer is not carried through every event: the inner
    while_loop takes the quiet stretch (events where no lane is a candidate: the linear update
    alone, carrying V and I only), the outer one the event that stops it (the exact path,
    which writes the buffer). Carried tensors that change are copied every iteration, and the
    buffer is (lanes + 1) x (S + 1): one copy per quiet event was most of a step's cost."""
    b, nn = shape
    n = b * nn
    e = arr.shape[0]

    def cand_at(j, v, i, rend):
        return candidates(
            k,
            v[:n].view(shape),
            i[:n].view(shape),
            rend[:n].view(shape),
            _at(prev, j),
            _at(reach, j),
        ).reshape(-1)

    def linear_at(j, v, i):
        v2, i2 = v[:n].view(shape), i[:n].view(shape)
        return ((_at(pa, j) * v2 + _at(pb, j) * i2).reshape(-1), (_at(pc, j) * i2).reshape(-1))

    def input_at(j):
        x = _at(inp, j)
        return (wt[x] if not per_event else x).reshape(-1)

    def outer_cond(j, *fields):
        return j < e

    def outer_body(j, v, i, rend, buf, cnt, stalled):
        def quiet_cond(j, v, i):
            return (j < e) & ~cand_at(torch.clamp(j, max=e - 1), v, i, rend).any()

        def quiet_body(j, v, i):
            v_lin, i_lin = linear_at(j, v, i)
            return j + 1, torch.cat([v_lin, v[n:]]), torch.cat([i_lin + input_at(j), i[n:]])

        j, v, i = while_loop(quiet_cond, quiet_body, (j.clone(), v.clone(), i.clone()))

        def exact_step(j, v, i, rend, buf, cnt, stalled):
            cand = cand_at(j, v, i, rend)
            v_lin, i_lin = linear_at(j, v, i)
            t0 = _with_sink(_at(prev, j).expand(shape).reshape(-1), 0.0)
            t1 = _with_sink(_at(arr, j).expand(shape).reshape(-1), 0.0)
            ex = advance_all(
                k,
                _State(v, i, rend, buf, cnt, stalled),
                torch.cat([cand, cand.new_zeros(1)]),
                t0,
                t1,
                chunk,
            )
            v_new = torch.where(cand, ex.v[:n], v_lin)
            i_new = torch.where(cand, ex.i[:n], i_lin) + input_at(j)
            return (j + 1, torch.cat([v_new, ex.v[n:]]), torch.cat([i_new, ex.i[n:]]), *ex[2:])

        def at_end(*fields):
            return tuple(x.clone() for x in fields)

        return torch.cond(j < e, exact_step, at_end, (j, v, i, rend, buf, cnt, stalled))

    j = torch.zeros((), dtype=torch.int64, device=arr.device)
    return tuple(while_loop(outer_cond, outer_body, (j, v, i, rend, buf, cnt, stalled))[1:])


@cache
def compiled_loop(k: Derived, chunk: int, shape: tuple[int, int], per_event: bool):
    """``_serial_loop`` through torch.compile (fullgraph, static shapes, C++ wrapper), one per
    (constants, chunk, layer shape, input kind)."""
    return _compile(partial(_serial_loop, k=k, chunk=chunk, shape=shape, per_event=per_event))


def _step_major(x):
    """(B, E, ...) -> (E, B, ...), contiguous, with E marked dynamic: one graph serves every
    event count (the loop bound is E), so a decade sweep compiles once per layer shape."""
    x = x.movedim(1, 0).contiguous()
    if x.shape[0] > 1:  # sizes 0 and 1 are always specialised
        torch._dynamo.mark_dynamic(x, 0)
    return x


@register(
    "event_lif", "serial", "torch-compile", entry="layer", devices=("cpu", "gpu"), knobs=("chunk",)
)
@torch.no_grad()
def serial_compiled(
    times,
    channels,
    weights,
    params: LIFParams,
    delays=None,
    t_end=math.inf,
    max_spikes: int = 64,
    chunk: int | None = None,
) -> Spikes:
    """``_torch.serial`` as one compiled graph (see the module docstring); `chunk` candidate
    lanes a pass, as in the JAX twin's multi-lane layout (default ``auto_chunk(B * N)``; the
    JAX twin's one-lane layout, its default on small layers, is shaped for XLA's CPU runtime
    and has no twin here). The first call per shape compiles (``compiles_inside``:
    the torch-compile framework calls this as is and times that call as compile_s)."""
    k = derive(params)
    dtype, dev = weights.dtype, weights.device
    arr, ch, wt, w = layer_queues(times, channels, weights, delays, t_end)
    b, e = channels.shape
    n = weights.shape[0]
    lanes = b * n
    if e == 0:  # no input: nothing to loop over (the eager twin's empty result)
        return _torch_serial(times, channels, weights, params, delays, t_end, max_spikes)
    chunk = max(1, min(auto_chunk(lanes) if chunk is None else int(chunk), lanes))
    # the tail [last input, t_end] is one more event with no input (channel n_in: the zero
    # row of wt), so the loop's exact path also covers it: its candidate bound is rigorous
    # over any gap, an infinite one included (reach = 1)
    zero = torch.zeros((b, 1, arr.shape[2]), dtype=dtype, device=dev)  # arr: (B, E, 1 | N)
    arr = torch.cat([arr, zero + float(t_end)], dim=1)
    prev, gap = _steps(arr)
    pa, pb, pc = (torch.where(torch.isfinite(gap), x, 0.0) for x in propagator(k, gap))
    reach = -torch.expm1(-gap / k.tau_mem)
    if w is None:
        ch = torch.cat([ch, torch.full_like(ch[:, :1], weights.shape[1])], dim=1)
    else:
        w = torch.cat([w, torch.zeros_like(w[:, :1])], dim=1)
    size = max(int(max_spikes), 1)
    st = (
        torch.full((lanes + 1,), k.v_reset, dtype=dtype, device=dev),
        torch.zeros(lanes + 1, dtype=dtype, device=dev),
        torch.full((lanes + 1,), -math.inf, dtype=dtype, device=dev),
        torch.full((lanes + 1, size + 1), math.inf, dtype=dtype, device=dev),
        torch.zeros(lanes + 1, dtype=torch.int64, device=dev),
        torch.zeros(lanes + 1, dtype=torch.bool, device=dev),
    )
    # the buffer's size is dynamic too: a re-run that grows it reuses the graph
    torch._dynamo.mark_dynamic(st[3], 1)
    xs = [_step_major(x) for x in (prev, arr, pa, pb, pc, reach)]
    inp = _step_major(ch if w is None else w)
    loop = compiled_loop(k, chunk, (b, n), w is not None)
    out = _State(*loop(*xs, inp, wt, *st))
    return Spikes(
        out.buf[:lanes, :size].reshape(b, n, size),
        out.cnt[:lanes].view(b, n),
        out.stalled[:lanes].view(b, n),
    )


def _bare_loop(pa, pb, pc, inp, wt, v, i, *, per_event: bool):
    def cond(j, v, i):
        return j < pa.shape[0]

    def body(j, v, i):
        x = _at(inp, j)
        add = wt[x] if not per_event else x
        return j + 1, _at(pa, j) * v + _at(pb, j) * i, _at(pc, j) * i + add

    j = torch.zeros((), dtype=torch.int64, device=v.device)
    return while_loop(cond, body, (j, v, i))[1:]


@cache
def compiled_bare(per_event: bool):
    return _compile(partial(_bare_loop, per_event=per_event))


@register("event_lif", "bare_scan", "torch-compile", entry="layer", devices=("cpu", "gpu"))
@torch.no_grad()
def bare_scan_compiled(times, channels, weights, params: LIFParams, delays=None):
    """``_torch.bare_scan`` (the linear update alone) as one compiled while_loop."""
    k = derive(params)
    arr, ch, wt, w = layer_queues(times, channels, weights, delays, math.inf)
    b = channels.shape[0]
    if channels.shape[1] == 0:  # no input: the eager twin's zero state
        return _torch_bare_scan(times, channels, weights, params, delays)
    pa, pb, pc = (_step_major(x) for x in propagator(k, _steps(arr)[1]))
    zero = weights.new_zeros((b, weights.shape[0]))
    return tuple(
        compiled_bare(w is not None)(
            pa, pb, pc, _step_major(ch if w is None else w), wt, zero, zero.clone()
        )
    )


serial_compiled.compiles_inside = bare_scan_compiled.compiles_inside = True
