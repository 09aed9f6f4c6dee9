"""Exact event-driven LIF layer, parallel-scan algorithm, in PyTorch (a translation of
``_parallel_jax.py``, whose docstring holds the algorithm and the loop it must equal).

Divergences from the JAX twin: the associative scan is written out (Hillis-Steele doubling,
O(log K) depth, O(K log K) work) since PyTorch has none; the step loop runs in Python and stops
when every queue is consumed (``n_steps=None``) or after ``n_steps`` steps; ``remat=True``
wraps each step in ``torch.utils.checkpoint`` (non-reentrant) when autograd records, so the
backward recomputes one chunk at a time; ``spike_time`` is a ``torch.autograd.Function`` with
the implicit-function-theorem backward (and forward-mode ``jvp``).
"""

from __future__ import annotations

import math
from functools import cache, partial
from typing import NamedTuple

import torch
from torch.utils.checkpoint import checkpoint

from ...registry import register
from .._torch_compile import compile_step
from . import _torch as ser
from ._common import Derived, LIFParams, derive


class ParSpikes(NamedTuple):
    spike_times: torch.Tensor  # (B, N, S), +inf padded
    counts: torch.Tensor  # (B, N), exact even past S
    stalled: torch.Tensor  # (B, N) bool
    unprocessed: torch.Tensor  # (B, N) queue entries left when the step budget ran out
    steps: torch.Tensor  # (B, N) chunk steps the lane needed (capped at the budget)


class _SpikeTime(torch.autograd.Function):
    """Newton's first crossing, with dt*/d(v0, i0) from the implicit function theorem."""

    @staticmethod
    def forward(v0, i0, d_hi, t_start, active, k):
        return ser.spike_time(k, v0.detach(), i0.detach(), d_hi.detach(), t_start.detach(), active)

    @staticmethod
    def setup_context(ctx, inputs, output):
        v0, i0, _, _, active, k = inputs
        ctx.k = k
        ctx.save_for_backward(i0, output, active)
        ctx.save_for_forward(i0, output, active)

    @staticmethod
    def _coeffs(ctx):
        i0, d, active = ctx.saved_tensors
        k = ctx.k
        a, b, c = ser.propagator(k, d)
        vdot = (i0 * c - k.theta) / k.tau_mem  # V = theta at the crossing
        vdot = torch.where(active, vdot, torch.ones_like(vdot))
        zero = torch.zeros_like(a)
        return torch.where(active, -a / vdot, zero), torch.where(active, -b / vdot, zero)

    @staticmethod
    def backward(ctx, g):
        gv, gi = _SpikeTime._coeffs(ctx)
        return g * gv, g * gi, None, None, None, None

    @staticmethod
    def jvp(ctx, dv0, di0, *_):
        gv, gi = _SpikeTime._coeffs(ctx)
        out = torch.zeros_like(gv)
        if dv0 is not None:
            out = out + gv * dv0
        if di0 is not None:
            out = out + gi * di0
        return out


def spike_time(k: Derived, v0, i0, d_hi, t_start, active):
    return _SpikeTime.apply(v0, i0, d_hi, t_start, active, k)


class Queue(NamedTuple):
    t: torch.Tensor  # (B, 1 or N, E+1)
    w: torch.Tensor | None  # (B, N, E+1)
    ch: torch.Tensor | None  # (B, 1, E+1)
    wt: torch.Tensor  # (N_in+1, N)
    qlen: torch.Tensor  # (B, N)


def make_queue(times, channels, weights, delays, t_end) -> Queue:
    n_out, n_in = weights.shape
    b, e = channels.shape
    dev = weights.device
    pad = channels < 0
    ch = torch.where(pad, n_in, channels)
    wt = torch.cat([weights.T, weights.new_zeros((1, n_out))])
    col = torch.arange(e + 1, device=dev)
    end = torch.as_tensor(t_end, dtype=weights.dtype, device=dev)
    if delays is None:
        real = ~pad & (times <= end)
        qlen = real.sum(1, dtype=torch.int32)
        keep = col[None, :e] < qlen[:, None]
        t = torch.cat([torch.where(keep, times, end), end.expand(b, 1)], 1)[:, None]
        chq = torch.cat([torch.where(keep, ch, n_in), ch.new_full((b, 1), n_in)], 1)
        return Queue(t, None, chq[:, None], wt, qlen[:, None].expand(b, n_out))
    dt = torch.cat([delays.T, delays.new_zeros((1, n_out))])
    arr = torch.where(pad[:, :, None], math.inf, times[:, :, None] + dt[ch])  # (B, E, N)
    order = torch.sort(arr.detach(), dim=1, stable=True).indices
    arr = torch.take_along_dim(arr, order, dim=1)
    w = torch.take_along_dim(wt[ch], order, dim=1)
    qlen = (arr <= end).sum(1, dtype=torch.int32)
    keep = col[None, :e, None] < qlen[:, None, :]
    t = torch.cat([torch.where(keep, arr, end), end.expand(b, 1, n_out)], 1)
    w = torch.cat([torch.where(keep, w, 0.0), w.new_zeros((b, 1, n_out))], 1)
    return Queue(t.transpose(1, 2), w.transpose(1, 2), None, wt, qlen)


def _along(x, idx):
    """x[..., idx] along the last axis, x broadcast to idx's leading shape (``gather``, not
    ``take_along_dim``: the ONNX exporter knows only the former)."""
    return torch.gather(x.expand(*idx.shape[:-1], x.shape[-1]), -1, idx)


def _gather(q: Queue, idx):
    idx = idx.clamp(max=q.t.shape[-1] - 1).long()
    t = _along(q.t, idx)
    if q.w is not None:
        return t, _along(q.w, idx)
    ch = _along(q.ch, idx)
    return t, q.wt[ch, torch.arange(q.wt.shape[1], device=ch.device)[None, :, None]]


def _combine(e1, e2):
    a1, b1, c1, v1, i1 = e1
    a2, b2, c2, v2, i2 = e2
    return a2 * a1, a2 * b1 + b2 * c1, c2 * c1, a2 * v1 + b2 * i1 + v2, c2 * i1 + i2


def affine_scan(elems):
    """Inclusive scan of affine maps along the last axis (Hillis-Steele doubling)."""
    identity = (1.0, 0.0, 1.0, 0.0, 0.0)
    n = elems[0].shape[-1]
    off = 1
    while off < n:
        earlier = tuple(
            torch.cat([torch.full_like(x[..., :off], fill), x[..., :-off]], -1)
            for x, fill in zip(elems, identity, strict=True)
        )
        elems = _combine(earlier, elems)
        off *= 2
    return elems


class _Carry(NamedTuple):
    v: torch.Tensor
    i: torch.Tensor
    tc: torch.Tensor
    rend: torch.Tensor
    ptr: torch.Tensor
    cnt: torch.Tensor
    steps: torch.Tensor
    stalled: torch.Tensor
    still: torch.Tensor


def _first(x, e):
    out = torch.gather(x, -1, e[..., None].long())[..., 0]
    # under torch.compile a view here reaches the graph's outputs, whose alias replay under
    # autograd fails (torch 2.13: IndexError in functionalization); a copy is free there
    return out.clone() if torch.compiler.is_compiling() else out


def _first_true(fires):
    """Index of the first True along the last axis (0 where there is none): argmax of the
    mask, or, under torch.compile, the least index that fires -- inductor's vectorised argmax
    over a boolean mask read out of bounds on CPU (torch 2.13: an index-check abort)."""
    if not torch.compiler.is_compiling():
        return torch.argmax(fires.to(torch.uint8), dim=-1)
    n = fires.shape[-1]
    at = torch.where(fires, torch.arange(n, device=fires.device), n).amin(-1)
    return torch.where(at < n, at, 0)


def chunk_step(k: Derived, chunk: int, q: Queue, c: _Carry):
    """One step of every lane; returns the new carry and the emitted (t*, fired)."""
    live = (c.ptr <= q.qlen) & ~c.stalled
    idx = c.ptr[..., None] + torch.arange(chunk, device=c.ptr.device, dtype=c.ptr.dtype)
    valid = (idx <= q.qlen[..., None]) & live[..., None]
    t_ev, w_ev = _gather(q, idx)
    t_prev = torch.cat([c.tc[..., None], t_ev[..., :-1]], -1)
    rf = c.rend[..., None] > t_prev
    # s = clip(r_end, t_prev, t_ev) by branches: min/max split the gradient at ties
    # (duplicate events), where only one argument is the value
    r_end = c.rend[..., None]
    s = torch.where(rf, torch.where(r_end < t_ev, r_end, t_ev), t_prev)
    free, pre = t_ev - s, s - t_prev
    fin = torch.isfinite(free)
    a, b, _ = ser.propagator(k, torch.where(fin & valid, free, 0.0))
    c_pre = torch.exp(-torch.where(valid, pre, 0.0) / k.tau_syn)
    c_gap = torch.exp(-torch.where(valid, t_ev - t_prev, 0.0) / k.tau_syn)
    m11 = torch.where(valid, torch.where(fin & ~rf, a, 0.0), 1.0)
    m12 = torch.where(valid & fin, b * c_pre, 0.0)
    m22 = torch.where(valid, c_gap, 1.0)
    bv = torch.where(valid & fin & rf, a * k.v_reset, 0.0)
    bi = torch.where(valid, w_ev, 0.0)
    pa, pb, pc, pv, pi = affine_scan((m11, m12, m22, bv, bi))
    v_after = pa * c.v[..., None] + pb * c.i[..., None] + pv
    i_after = pc * c.i[..., None] + pi
    v_before = torch.cat([c.v[..., None], v_after[..., :-1]], -1)
    i_before = torch.cat([c.i[..., None], i_after[..., :-1]], -1)
    v_s = torch.where(rf, k.v_reset, v_before)
    i_s = i_before * c_pre
    fires, d_hi = ser.peak_bracket(
        k, v_s.detach(), i_s.detach(), torch.where(valid, free.detach(), 0.0)
    )
    fires = fires & valid
    anyf = fires.any(-1)
    e = _first_true(fires).to(c.ptr.dtype)
    v_e, i_e, s_e = _first(v_s, e), _first(i_s, e), _first(s, e)
    d = spike_time(k, v_e, i_e, _first(d_hi, e), s_e.detach(), anyf)
    tstar = s_e + d
    same = anyf & ~(tstar > c.tc)
    stall = same & c.still
    fired = anyf & ~stall
    last = (q.qlen + 1 - c.ptr).clamp(1, chunk) - 1
    spike = live & anyf
    move = live & ~anyf
    new = _Carry(
        v=torch.where(spike, k.v_reset, torch.where(move, _first(v_after, last), c.v)),
        i=torch.where(
            spike, i_e * torch.exp(-d / k.tau_syn), torch.where(move, _first(i_after, last), c.i)
        ),
        tc=torch.where(spike, tstar, torch.where(move, _first(t_ev, last), c.tc)),
        rend=torch.where(spike, tstar + k.t_ref, c.rend),
        ptr=torch.where(spike, c.ptr + e, torch.where(move, c.ptr + chunk, c.ptr)),
        cnt=c.cnt + (live & fired),
        steps=c.steps + live,
        stalled=c.stalled | (live & stall),
        # a boolean select written out: ONNX Runtime has no boolean Where
        still=(live & same) | (~live & c.still),
    )
    return new, (tstar, live & fired)


def _init(k: Derived, q: Queue, dtype):
    shape, dev = q.qlen.shape, q.qlen.device
    z = torch.zeros(shape, dtype=dtype, device=dev)
    zi = torch.zeros(shape, dtype=torch.int32, device=dev)
    no = torch.zeros(shape, dtype=torch.bool, device=dev)
    return _Carry(
        torch.full_like(z, k.v_reset), z, z, torch.full_like(z, -math.inf), zi, zi, zi, no, no
    )


def _left(q: Queue, c: _Carry):
    return torch.where(c.stalled, 0, (q.qlen + 1 - c.ptr).clamp(min=0))


def _flat_step(*xs, k: Derived, chunk: int):
    """``chunk_step`` on flat tensors: the queue's fields, then the carry's; returns the new
    carry's fields, t* and fired."""
    nq = len(Queue._fields)
    new, (tstar, fired) = chunk_step(k, chunk, Queue(*xs[:nq]), _Carry(*xs[nq:]))
    return (*new, tstar, fired)


@cache
def compiled_step(k: Derived, chunk: int):
    """``_flat_step`` through torch.compile (inductor), one per (constants, chunk). Newton's
    data-dependent loop inside ``spike_time`` stays eager (a graph break); the gathers, the
    affine scan and the elementwise work around it compile. dynamic=False: every layer shape
    gets its own static graph (as in the queues)."""
    return compile_step(partial(_flat_step, k=k, chunk=chunk))


@register(
    "event_lif",
    "parallel",
    "torch",
    entry="layer",
    devices=("cpu", "gpu"),
    knobs=("chunk", "n_steps", "remat"),
)
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
    compiled: bool = False,
) -> ParSpikes:
    """Parallel-scan exact simulation of one LIF layer; inputs batched (B, E), dtype of
    `weights`. See ``_parallel_jax`` for the budgets (`n_steps`, `max_spikes`).
    ``compiled=True``: the chunk step runs through ``compiled_step`` (framework
    torch-compile)."""
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    k = derive(params)
    dtype = weights.dtype
    q = make_queue(
        times.to(dtype), channels, weights, None if delays is None else delays.to(dtype), t_end
    )
    size = max(int(max_spikes), 1)
    c = _init(k, q, dtype)
    n_fields = len(_Carry._fields)
    step = partial(_flat_step, k=k, chunk=chunk)
    if compiled:  # _init shares zero tensors between fields: each its own, one set of guards
        step, c = compiled_step(k, chunk), _Carry(*(x.clone() for x in c))

    def flat_step(*xs):
        return step(*q, *xs)

    tracked = torch.is_grad_enabled() and any(
        x is not None and x.requires_grad for x in (times, weights, delays)
    )
    emitted = []
    step_no = 0
    while (n_steps is None or step_no < n_steps) and (
        n_steps is not None or bool(((c.ptr <= q.qlen) & ~c.stalled).any())
    ):
        if remat and tracked:
            out = checkpoint(flat_step, *c, use_reentrant=False)
        else:
            out = flat_step(*c)
        c = _Carry(*out[:n_fields])
        emitted.append(out[n_fields:])
        step_no += 1
    buf = weights.new_full(q.qlen.shape + (size,), math.inf)
    if emitted:
        ts = torch.stack([t for t, _ in emitted])
        fired = torch.stack([f for _, f in emitted])
        slot = torch.where(fired, fired.cumsum(0) - 1, size)
        keep = slot < size
        steps_i, bi, ni = keep.nonzero(as_tuple=True)
        buf = buf.index_put((bi, ni, slot[keep]), ts[steps_i, bi, ni])
    return ParSpikes(buf, c.cnt, c.stalled, _left(q, c), c.steps)


@register(
    "event_lif",
    "parallel",
    "torch-compile",
    entry="layer",
    devices=("cpu", "gpu"),
    knobs=("chunk", "n_steps", "remat"),
)
def parallel_compiled(
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
    """``parallel`` with its chunk step compiled; the loop over steps stays in Python (dynamo
    would unroll it), so the torch-compile framework calls this as is (``compiles_inside``)."""
    return parallel(
        times,
        channels,
        weights,
        params,
        delays,
        t_end,
        chunk,
        max_spikes,
        n_steps,
        remat,
        compiled=True,
    )


parallel_compiled.compiles_inside = True
