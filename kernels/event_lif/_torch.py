"""Exact event-driven LIF layer, serial algorithm, in PyTorch (a translation of ``_jax.py``).

Same maths, names and arguments as the NumPy reference (``_numpy.py``; its docstring holds the
closed forms and the loop this kernel must equal). The loop over input events runs in Python,
vectorised over samples and neurons; each step applies the precomputed linear propagator and
runs the exact path (``advance``) on the lanes that ``candidates`` flags.

Divergences from the JAX twin: candidate lanes are compacted dynamically (``nonzero``, one
host sync per step, cheap on CPU) instead of ``chunk`` at a time, and ``lax.while_loop``
becomes a Python ``while`` on ``.any()``; the spike buffer grows on demand instead of being a
static size, so ``max_spikes`` is only the initial size.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ...registry import register
from ._common import NEWTON_MAX_ITER, SERIES_CUTOFF, Derived, LIFParams, derive, touch_level


class Spikes(NamedTuple):
    spike_times: torch.Tensor  # (B, N, S), +inf padded
    counts: torch.Tensor  # (B, N), exact even past S; int64 (PyTorch's index type; JAX: int32)
    stalled: torch.Tensor  # (B, N) bool


def expm1_over_x(y):
    small = y.abs() < SERIES_CUTOFF
    safe = torch.where(small, torch.ones_like(y), y)
    series = 1.0 + y * (0.5 + y * (1.0 / 6.0 + y / 24.0))
    return torch.where(small, series, torch.expm1(safe) / safe)


def log1p_over_x(x):
    small = x.abs() < SERIES_CUTOFF
    safe = torch.where(small, torch.ones_like(x), x)
    series = 1.0 - x * (0.5 - x * (1.0 / 3.0 - x / 4.0))
    return torch.where(small, series, torch.log1p(safe) / safe)


def v_at(k: Derived, v0, i0, d):
    return torch.exp(-d / k.tau_mem) * v0 + i0 * torch.exp(-d * k.inv_slow) * (
        d / k.tau_mem
    ) * expm1_over_x(-k.abs_r * d)


def propagator(k: Derived, dt):
    a = torch.exp(-dt / k.tau_mem)
    b = torch.exp(-dt * k.inv_slow) * (dt / k.tau_mem) * expm1_over_x(-k.abs_r * dt)
    c = torch.exp(-dt / k.tau_syn)
    return a, b, c


def peak_bracket(k: Derived, v0, i0, length):
    possible = (i0 > k.theta) & (length > 0)
    den = i0 + k.r * k.tau_mem * v0
    has_peak = possible & (den > 0)
    c = k.tau_mem * (i0 - v0) / torch.where(has_peak, den, torch.ones_like(den))
    d_peak = torch.where(has_peak, c * log1p_over_x(k.r * c), torch.full_like(c, math.inf))
    d_hi = torch.minimum(d_peak, length)
    d_eval = torch.where(torch.isfinite(d_hi), d_hi, torch.zeros_like(d_hi))
    fires = has_peak & (v_at(k, v0, i0, d_eval) >= touch_level(k.theta, torch.finfo(v0.dtype).eps))
    return fires, d_eval


def spike_time(k: Derived, v0, i0, d_hi, t_start, active):
    """Newton from the left for V(d) = theta on [0, d_hi]; returns d (0 where not active)."""
    eps = torch.finfo(v0.dtype).eps
    d = torch.zeros_like(d_hi)
    todo = active.clone()
    for _ in range(NEWTON_MAX_ITER):
        # the early exit is a data-dependent branch: a traced graph (the ONNX export) runs
        # every iteration, where the finished lanes' updates are masked no-ops
        if not torch.jit.is_tracing() and not bool(todo.any()):
            break
        v = v_at(k, v0, i0, d)
        cur = i0 * torch.exp(-d / k.tau_syn)
        f = v - k.theta
        fp = (cur - v) / k.tau_mem
        ok = todo & (f < 0) & (fp > 0)
        step = torch.where(
            ok, -f / torch.where(fp > 0, fp, torch.ones_like(fp)), torch.zeros_like(f)
        )
        d_new = torch.minimum(d + step, d_hi)
        todo = todo & (d_new - d > 4 * eps * (t_start.abs() + d_new))
        d = torch.where(active, d_new, d)
    return d


class _State:
    """Per-lane state, flat over lanes (sample, neuron) -> b * N + n."""

    def __init__(self, lanes: int, dtype, device, k: Derived, max_spikes: int):
        self.v = torch.full((lanes,), k.v_reset, dtype=dtype, device=device)
        self.i = torch.zeros(lanes, dtype=dtype, device=device)
        self.rend = torch.full((lanes,), -math.inf, dtype=dtype, device=device)
        self.buf = torch.full((lanes, max(max_spikes, 1)), math.inf, dtype=dtype, device=device)
        self.cnt = torch.zeros(lanes, dtype=torch.int64, device=device)
        self.stalled = torch.zeros(lanes, dtype=torch.bool, device=device)

    def record(self, lanes, tstar):
        slot = self.cnt[lanes]
        if slot.numel() and int(slot.max()) >= self.buf.shape[-1]:
            self.buf = torch.cat([self.buf, torch.full_like(self.buf, math.inf)], dim=-1)
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
    eps = torch.finfo(v.dtype).eps
    bound = v + torch.clamp(torch.clamp(i, min=0.0) - v, min=0.0) * reach
    return (bound + 32 * eps * (v.abs() + i.abs() + k.theta) >= k.theta) | (rend > t_prev)


def advance(k: Derived, st: _State, lanes, t0, t1):
    """Move the given lanes from t0 to t1, emitting every spike in (t0, t1]."""
    v, i, rend, stalled = st.v[lanes], st.i[lanes], st.rend[lanes], st.stalled[lanes]
    tc = t0.clone()
    still = torch.zeros_like(stalled)  # the lane's last spike did not advance its time
    while True:
        sc = torch.minimum(torch.maximum(tc, rend), t1)
        i_s = i * torch.exp(-(sc - tc) / k.tau_syn)
        v_s = torch.where(rend > tc, torch.full_like(v, k.v_reset), v)
        fires, d_hi = peak_bracket(k, v_s, i_s, t1 - sc)
        fires &= ~stalled
        if not bool(fires.any()):
            break
        d = spike_time(k, v_s, i_s, d_hi, sc, fires)
        tstar = sc + d
        # A spike may round onto the current time (d below its ulp); two in a row means the
        # spike times stopped advancing in this dtype: stop the lane, simulate() raises.
        same = ~(tstar > tc)
        stall = fires & same & still
        still = fires & same
        stalled = stalled | stall
        fired = fires & ~stall
        st.record(lanes[fired], tstar[fired])
        i = torch.where(fires, i_s * torch.exp(-d / k.tau_syn), i)
        v = torch.where(fires, torch.full_like(v, k.v_reset), v)
        rend = torch.where(fires, tstar + k.t_ref, rend)
        tc = torch.where(fires, tstar, tc)
    sc = torch.minimum(torch.maximum(tc, rend), t1)
    i_s = i * torch.exp(-(sc - tc) / k.tau_syn)
    v_s = torch.where(rend > tc, torch.full_like(v, k.v_reset), v)
    length = t1 - sc
    inf = torch.isinf(length)  # open tail (t_end = inf): the state afterwards is 0
    d = torch.where(inf, torch.zeros_like(length), length)
    zero = torch.zeros_like(v)
    st.v[lanes] = torch.where(inf, zero, v_at(k, v_s, i_s, d))
    st.i[lanes] = torch.where(inf, zero, i_s * torch.exp(-d / k.tau_syn))
    st.rend[lanes], st.stalled[lanes] = rend, stalled


def lane_queues(times, channels, weights, delays, t_end):
    n_out, n_in = weights.shape
    pad = channels < 0
    ch = torch.where(pad, torch.full_like(channels, n_in), channels)
    wt = torch.cat([weights.T, weights.new_zeros((1, n_out))])
    inf = torch.tensor(math.inf, dtype=times.dtype, device=times.device)
    if delays is None:
        arr = torch.where(pad, inf, times)[:, :, None]
        late = arr > t_end
        arr = torch.where(late, inf, arr)
        ch = torch.where(late[:, :, 0], torch.full_like(ch, n_in), ch)
        w = None
    else:
        dt = torch.cat([delays.T, delays.new_zeros((1, n_out))])
        arr = torch.where(pad[:, :, None], inf, times[:, :, None] + dt[ch])
        arr, order = torch.sort(arr, dim=1, stable=True)
        w = torch.take_along_dim(wt[ch], order, dim=1)
        w = torch.where(arr > t_end, torch.zeros_like(w), w)
        arr = torch.where(arr > t_end, inf, arr)
    arr = torch.cummax(torch.where(torch.isinf(arr), -inf, arr), dim=1).values
    arr = torch.clamp(arr, min=0.0)
    return arr, ch, wt, w


def layer_queues(times, channels, weights, delays, t_end):
    """``lane_queues`` with times and delays in the weights' dtype (the layer's dtype)."""
    dtype = weights.dtype
    return lane_queues(
        times.to(dtype), channels, weights, None if delays is None else delays.to(dtype), t_end
    )


def _steps(arr):
    prev = torch.cat([torch.zeros_like(arr[:, :1]), arr[:, :-1]], dim=1)
    return prev, arr - prev


def _per_step(*tensors, block: int = 4096):
    """Yield the step-k slices (along dim 1) of several tensors. Indexing a tensor per step
    costs a dispatch each time, so steps are unbound a block at a time (bounded memory: one
    view object per step of the current block only)."""
    n = tensors[0].shape[1]
    for start in range(0, n, block):
        parts = [t[:, start : start + block].unbind(1) for t in tensors]
        yield from zip(*parts, strict=True)


@register("event_lif", "serial", "torch", entry="layer", devices=("cpu", "gpu"))
@torch.no_grad()
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

    `chunk` is accepted for parity with the JAX twin and unused: PyTorch compacts the candidate
    lanes dynamically (nonzero), as the NumPy reference does."""
    k = derive(params)
    dtype, dev = weights.dtype, weights.device
    arr, ch, wt, w = layer_queues(times, channels, weights, delays, t_end)
    b, e = channels.shape
    n = weights.shape[0]
    full = (b, n)
    st = _State(b * n, dtype, dev, k, max_spikes)
    prev, gap = _steps(arr)
    pa, pb, pc = propagator(k, gap)
    reach = -torch.expm1(-gap / k.tau_mem)
    steps = _per_step(prev, arr, pa, pb, pc, reach, ch if w is None else w)
    for t_prev, t_k, a, bb, c, r, inp in steps:
        v2, i2 = st.v.view(full), st.i.view(full)
        cand = candidates(k, v2, i2, st.rend.view(full), t_prev, r).view(-1)
        v = (a * v2 + bb * i2).view(-1)
        i = (c * i2).view(-1)
        lanes = cand.nonzero().squeeze(1)
        if lanes.numel():
            advance(
                k,
                st,
                lanes,
                t_prev.expand(full).reshape(-1)[lanes],
                t_k.expand(full).reshape(-1)[lanes],
            )
            v[lanes], i[lanes] = st.v[lanes], st.i[lanes]
        st.v = v
        st.i = i + (wt[inp] if w is None else inp).reshape(-1)
    last = (arr[:, -1] if e else torch.zeros((b, 1), dtype=dtype, device=dev)).expand(full)
    advance(
        k,
        st,
        torch.arange(b * n, device=dev),
        last.reshape(-1),
        torch.full((b * n,), t_end, dtype=dtype, device=dev),
    )
    return Spikes(st.buf.view(b, n, -1), st.cnt.view(full), st.stalled.view(full))


@register("event_lif", "bare_scan", "torch", entry="layer", devices=("cpu", "gpu"))
@torch.no_grad()
def bare_scan(times, channels, weights, params: LIFParams, delays=None):
    """The linear state update alone (the ceiling); (V, I) right after each lane's last input."""
    k = derive(params)
    arr, ch, wt, w = layer_queues(times, channels, weights, delays, math.inf)
    b = channels.shape[0]
    v = weights.new_zeros((b, weights.shape[0]))
    i = torch.zeros_like(v)
    pa, pb, pc = propagator(k, _steps(arr)[1])
    for a, bb, c, inp in _per_step(pa, pb, pc, ch if w is None else w):
        v = a * v + bb * i
        i = c * i + (wt[inp] if w is None else inp)
    return v, i
