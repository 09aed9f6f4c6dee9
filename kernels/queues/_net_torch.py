"""PyTorch: the clock-driven recurrent LIF network with one delayed queue per synapse.

A translation of ``_net_jax.py`` (same names, arguments, model and objective; the maths is in
that module's docstring). Divergence: the step loop is an eager Python loop (JAX:
``lax.scan``). Reverse mode is ``torch.autograd``; forward mode works through
``torch.func.jvp`` (the queue operations are out-of-place, so functorch can trace them).
"""

from __future__ import annotations

import math
from functools import cache, partial
from typing import NamedTuple

import torch

from ...registry import register
from .._torch_compile import call_or_unsupported, compile_step
from . import _torch as qmod
from ._common import DESIGNS, NetParams

__all__ = ["NetParams", "NetOut", "Carry", "init_carry", "step", "simulate", "loss"]


class NetOut(NamedTuple):
    """What a run gives; with a batch of inputs, every field gets the batch's leading axes."""

    spike_count: torch.Tensor  # [N] spikes per neuron
    spike_time_sum: torch.Tensor  # scalar: sum of all crossing times (steps)
    v_final: torch.Tensor  # [N]
    dropped: torch.Tensor  # scalar: events lost to queue overflow
    delivered: torch.Tensor  # scalar: events delivered
    pending: torch.Tensor  # scalar: events still queued at the end
    time_sums: torch.Tensor | None = None  # [N] per neuron: sum of its crossing times (steps)


class Carry(NamedTuple):
    """The state carried from step to step (with a batch: its axes lead every field but the
    queues, whose queue axis holds batch x N x N queues)."""

    q: NamedTuple  # the queues (one per synapse)
    v: torch.Tensor  # [N] membrane potential
    i_syn: torch.Tensor  # [N] synaptic current
    t_sum: torch.Tensor  # scalar (or [N] per neuron): sum of crossing times so far
    count: torch.Tensor  # [N] int32 spikes so far
    delivered: torch.Tensor  # scalar int32: events delivered so far


def init_carry(
    n: int,
    design: str,
    capacity,
    max_delay,
    dtype,
    device,
    ops=qmod,
    batch: tuple = (),
    per_neuron: bool = False,
) -> Carry:
    """The empty network; `batch`: leading axes of independent copies (one set of queues
    each); `per_neuron`: keep the crossing-time sum per neuron (``NetOut.time_sums``)."""
    v = torch.zeros((*batch, n), dtype=dtype, device=device)
    copies = math.prod(batch)
    return Carry(
        ops.init(design, copies * n * n, capacity, max_delay, dtype, device),
        v,
        torch.zeros_like(v),
        torch.zeros(v.shape if per_neuron else batch, dtype=dtype, device=device),
        torch.zeros((*batch, n), dtype=torch.int32, device=device),
        torch.zeros(batch, dtype=torch.int32, device=device),
    )


def step(
    c: Carry, k, i_in, weights, delays, p: NetParams, design: str, ops=qmod, inplace: bool = True
) -> Carry:
    """Step k (1-based; an int or an int32 scalar tensor) with input current i_in (a number
    or [N]); `ops` is the queue module (``_torch``, or ``_onnx`` for the exported graph);
    ``inplace=False``: the queue operations out of place (the compiled step)."""
    n = weights.shape[0]
    batch = c.v.shape[:-1]  # () for one network
    q, hits, pay = ops.pop(design, c.q, k, check=False, inplace=inplace)
    i_syn = c.i_syn * math.exp(-p.dt / p.tau_syn) + torch.sum(
        weights * pay.reshape(*batch, n, n), dim=-1
    )
    v = c.v
    v_new = v + p.dt * (-v / p.tau_mem + i_syn + i_in)
    spike = v_new >= p.theta
    frac = (p.theta - v) / torch.where(spike, v_new - v, torch.ones_like(v))
    t_s = (k - 1) + frac
    t_a = t_s[..., None, :] + delays / p.dt
    key = torch.ceil(t_a).to(torch.int32)
    f = torch.exp(-(key - t_a) / (p.tau_syn / p.dt))
    mask = spike[..., None, :].expand(*batch, n, n).reshape(-1)
    q = ops.enqueue(design, q, key.reshape(-1), f.reshape(-1), mask, check=False, inplace=inplace)
    times = torch.where(spike, t_s, torch.zeros_like(t_s))
    return Carry(
        q,
        torch.where(spike, torch.zeros_like(v_new), v_new),
        i_syn,
        c.t_sum + (times if c.t_sum.dim() > len(batch) else torch.sum(times, dim=-1)),
        c.count + spike.to(torch.int32),
        c.delivered + (ops.count(hits.reshape(*batch, -1), dim=-1) if batch else ops.count(hits)),
    )


def simulate(
    weights,
    delays,
    p: NetParams,
    design: str,
    capacity: int | None = None,
    max_delay: int | None = None,
    i_ext=None,
) -> NetOut:
    """Run the network for p.n_steps steps; weights, delays [N, N] (post, pre); i_ext: None
    (the constant input of `p`), the input current [p.n_steps, N] (theta / ms), or a batch of
    them [p.n_steps, B, N]: B independent copies of the network (every NetOut field then
    per copy; the twin of ``_net_jax.simulate``'s vmap)."""
    n = weights.shape[0]
    dtype, dev = weights.dtype, weights.device
    batch = ()
    if i_ext is not None:
        shape = tuple(i_ext.shape)
        if len(shape) not in (2, 3) or shape[0] != p.n_steps or shape[-1] != n:
            raise ValueError(
                f"i_ext must have shape {(p.n_steps, n)} or {(p.n_steps, 'B', n)}, got {shape}"
            )
        batch = shape[1:-1]
        i_ext = torch.as_tensor(i_ext, dtype=dtype, device=dev)
    c = init_carry(n, design, capacity, max_delay, dtype, dev, batch=batch, per_neuron=True)
    for k in range(1, p.n_steps + 1):
        if i_ext is None:
            i_in = p.i_ext if k * p.dt < p.t_ext else 0.0
        else:
            i_in = i_ext[k - 1]
        c = step(c, k, i_in, weights, delays, p, design)
    per_copy = (*batch, -1)
    return NetOut(
        c.count,
        torch.sum(c.t_sum, dim=-1),
        c.v,
        torch.sum(c.q.dropped.reshape(per_copy), dim=-1),
        c.delivered,
        torch.sum(qmod.pending(design, c.q).reshape(per_copy), dim=-1),
        c.t_sum,
    )


def _loss_of(out: NetOut):
    """The differentiated scalar: sum of spike crossing times (steps) + sum of final
    potentials."""
    return out.spike_time_sum + torch.sum(out.v_final)


def loss(weights, delays, p: NetParams, design: str, capacity=None, max_delay=None, i_ext=None):
    """``_loss_of`` the simulated network; aux: the NetOut."""
    out = simulate(weights, delays, p, design, capacity, max_delay, i_ext)
    return _loss_of(out), out


# -- the timed entries (registered; eager PyTorch) ------------------------------------------


@register("queues", DESIGNS, "torch", entry="network_forward", devices=("cpu", "gpu"))
def network_forward(
    weights, delays, i_ext, *, p: NetParams, design: str, capacity=None, max_delay=None
) -> NetOut:
    """``simulate`` (benchmark (e) forward)."""
    with torch.no_grad():
        return simulate(weights, delays, p, design, capacity, max_delay, i_ext)


@register(
    "queues",
    DESIGNS,
    "torch",
    entry="network_grad",
    modes=("grad",),
    knobs=("ad",),
    devices=("cpu", "gpu"),
)
def network_grad(
    weights, delays, dw, dd, i_ext, *, p: NetParams, design: str, capacity=None, max_delay=None
):
    """Reverse mode: (loss, the gradient's derivative along (dw, dd), NetOut)."""
    leaves = (weights.detach().requires_grad_(True), delays.detach().requires_grad_(True))
    value, out = loss(*leaves, p, design, capacity, max_delay, i_ext)
    gw, gd = torch.autograd.grad(value, leaves)
    return value.detach(), torch.sum(gw * dw) + torch.sum(gd * dd), out


@register(
    "queues",
    DESIGNS,
    "torch",
    entry="network_jvp",
    modes=("grad",),
    knobs=("ad",),
    devices=("cpu", "gpu"),
)
def network_jvp(
    weights, delays, dw, dd, i_ext, *, p: NetParams, design: str, capacity=None, max_delay=None
):
    """Forward mode: (loss, its directional derivative along (dw, dd), NetOut)."""
    return torch.func.jvp(
        lambda a, b: loss(a, b, p, design, capacity, max_delay, i_ext),
        (weights, delays),
        (dw, dd),
        has_aux=True,
    )


# -- compiled PyTorch: the same loop with a torch.compile'd step ------------------------------


def _flat_step(
    q, v, i_syn, t_sum, count, delivered, k, i_in, weights, delays, *, p: NetParams, design: str
):
    """``step`` on a flat carry, out of place, k a 0-d tensor: one graph for every step."""
    c = step(
        Carry(q, v, i_syn, t_sum, count, delivered),
        k,
        i_in,
        weights,
        delays,
        p,
        design,
        inplace=False,
    )
    return tuple(c)


@cache
def compiled_step(p: NetParams, design: str):
    """``_flat_step`` through torch.compile (inductor), one per (parameters, design); static
    shapes (dynamic=False, as the traffic loop's ``compiled_step``)."""
    return compile_step(partial(_flat_step, p=p, design=design))


def _compiled_start(weights, p: NetParams, design: str, capacity, max_delay, i_ext):
    """What every compiled loop starts from: the input current as one [n_steps, N] table (so
    every step has the same signature), the initial carry with every field its own tensor
    (init shares zero tensors; one set of guards) and the step numbers as 0-d tensors."""
    n = weights.shape[0]
    dtype, dev = weights.dtype, weights.device
    if i_ext is None:
        on = (torch.arange(1, p.n_steps + 1, dtype=dtype, device=dev) * p.dt) < p.t_ext
        table = torch.where(on, p.i_ext, 0.0)[:, None].expand(p.n_steps, n).contiguous()
    else:
        if tuple(i_ext.shape) != (p.n_steps, n):
            raise ValueError(f"i_ext must have shape {(p.n_steps, n)}, got {tuple(i_ext.shape)}")
        table = torch.as_tensor(i_ext, dtype=dtype, device=dev)
    c = init_carry(n, design, capacity, max_delay, dtype, dev, per_neuron=True)
    c = Carry(type(c.q)(*(x.clone() for x in c.q)), *(x.clone() for x in c[1:]))
    ks = torch.arange(1, p.n_steps + 1, dtype=torch.int64, device=dev)
    return c, zip(ks, table, strict=True)


def _net_out(c: Carry, design: str) -> NetOut:
    return NetOut(
        c.count,
        torch.sum(c.t_sum),
        c.v,
        torch.sum(c.q.dropped),
        c.delivered,
        torch.sum(qmod.pending(design, c.q)),
        c.t_sum,
    )


def simulate_compiled(
    weights, delays, p: NetParams, design: str, capacity=None, max_delay=None, i_ext=None
) -> NetOut:
    """``simulate`` with the step compiled (``compiled_step``) and the loop over steps in
    Python (dynamo would unroll it). Under autograd (weights or delays requiring grad) the
    step is compiled with its backward (AOTAutograd), so reverse mode runs compiled too."""
    c, steps = _compiled_start(weights, p, design, capacity, max_delay, i_ext)
    q, *rest = c
    fn = compiled_step(p, design)
    for k, i_in in steps:
        q, *rest = fn(q, *rest, k, i_in, weights, delays)
    return _net_out(Carry(q, *rest), design)


def _flat_jvp_step(
    q,
    v,
    i_syn,
    t_sum,
    count,
    delivered,
    tpay,
    tv,
    ti,
    tt,
    k,
    i_in,
    weights,
    delays,
    dw,
    dd,
    *,
    p: NetParams,
    design: str,
):
    """One step in forward mode: ``step``'s new carry and the tangents of its float part
    (the queue payloads, v, i_syn, t_sum) along (dw, dd), via ``torch.func.jvp``; the integer
    part (keys, sizes, counts) carries no tangent."""

    def float_step(pay, v, i_syn, t_sum, w, d):
        c = step(
            Carry(q._replace(pay=pay), v, i_syn, t_sum, count, delivered),
            k,
            i_in,
            w,
            d,
            p,
            design,
            inplace=False,
        )
        return (c.q.pay, c.v, c.i_syn, c.t_sum), c

    _, tangents, c = torch.func.jvp(
        float_step,
        (q.pay, v, i_syn, t_sum, weights, delays),
        (tpay, tv, ti, tt, dw, dd),
        has_aux=True,
    )
    return (*c, *tangents)


@cache
def compiled_jvp_step(p: NetParams, design: str):
    """``_flat_jvp_step`` through torch.compile, one per (parameters, design)."""
    return compile_step(partial(_flat_jvp_step, p=p, design=design))


def loss_jvp_compiled(
    weights, delays, dw, dd, p: NetParams, design: str, capacity=None, max_delay=None, i_ext=None
):
    """``loss`` and its directional derivative along (dw, dd) in forward mode, the step
    compiled with its tangents (``compiled_jvp_step``): (loss, derivative, NetOut)."""
    c, steps = _compiled_start(weights, p, design, capacity, max_delay, i_ext)
    tangents = tuple(torch.zeros_like(x) for x in (c.q.pay, c.v, c.i_syn, c.t_sum))
    carry = tuple(c)
    fn = compiled_jvp_step(p, design)
    for k, i_in in steps:
        q, *rest = fn(*carry, *tangents, k, i_in, weights, delays, dw, dd)
        carry, tangents = (q, *rest[:5]), tuple(rest[5:])
    out = _net_out(Carry(*carry), design)
    _, tv, _, tt = tangents
    return _loss_of(out), torch.sum(tt) + torch.sum(tv), out  # the objective's tangent


@register("queues", DESIGNS, "torch-compile", entry="network_forward", devices=("cpu", "gpu"))
def network_forward_compiled(
    weights, delays, i_ext, *, p: NetParams, design: str, capacity=None, max_delay=None
) -> NetOut:
    """``network_forward`` through ``simulate_compiled``; called as is by the torch-compile
    framework (``compiles_inside``)."""
    with torch.no_grad():
        return simulate_compiled(weights, delays, p, design, capacity, max_delay, i_ext)


@register(
    "queues",
    DESIGNS,
    "torch-compile",
    entry="network_grad",
    modes=("grad",),
    knobs=("ad",),
    devices=("cpu", "gpu"),
)
def network_grad_compiled(
    weights, delays, dw, dd, i_ext, *, p: NetParams, design: str, capacity=None, max_delay=None
):
    """``network_grad`` (reverse mode) with the step and its backward compiled; a step that
    torch's compiler cannot take under autograd is an ``unsupported`` row naming why."""

    def run():
        leaves = (weights.detach().requires_grad_(True), delays.detach().requires_grad_(True))
        out = simulate_compiled(*leaves, p, design, capacity, max_delay, i_ext)
        value = _loss_of(out)
        gw, gd = torch.autograd.grad(value, leaves)
        return value.detach(), torch.sum(gw * dw) + torch.sum(gd * dd), out

    return call_or_unsupported("the queue network's step under autograd", run)


@register(
    "queues",
    DESIGNS,
    "torch-compile",
    entry="network_jvp",
    modes=("grad",),
    knobs=("ad",),
    devices=("cpu", "gpu"),
)
def network_jvp_compiled(
    weights, delays, dw, dd, i_ext, *, p: NetParams, design: str, capacity=None, max_delay=None
):
    """``network_jvp`` (forward mode) through ``loss_jvp_compiled``; a step that torch's
    compiler cannot take in forward mode is an ``unsupported`` row naming why."""
    return call_or_unsupported(
        "the queue network's step in forward mode (torch.func.jvp)",
        loss_jvp_compiled,
        weights,
        delays,
        dw,
        dd,
        p,
        design,
        capacity,
        max_delay,
        i_ext,
    )


network_forward_compiled.compiles_inside = True
network_grad_compiled.compiles_inside = network_jvp_compiled.compiles_inside = True


# -- classification with learned delays (training to accuracy; families/queues/training.py) --


def classify(
    weights,
    delays,
    w_out,
    i_ext,
    *,
    p: NetParams,
    design: str,
    capacity=None,
    max_delay=None,
    readout_from: int = 0,
    d_max: float = math.inf,
):
    """Logits [B, C] of a batch i_ext [n_steps, B, N] and its NetOut (``_net_jax.classify``'s
    twin: the batch runs as B copies of the network in one loop, not a vmap)."""
    out = simulate(weights, torch.clamp(delays, 0.0, d_max), p, design, capacity, max_delay, i_ext)
    phi = (
        out.spike_count[:, readout_from:].to(weights.dtype)
        - out.time_sums[:, readout_from:] / p.n_steps
    )
    return phi @ w_out.T, out


@register("queues", DESIGNS, "torch", entry="classify_forward", devices=("cpu", "gpu"))
@torch.no_grad()
def classify_forward(weights, delays, w_out, i_ext, **kw):
    """``classify``: (logits, NetOut)."""
    return classify(weights, delays, w_out, i_ext, **kw)


@register(
    "queues", DESIGNS, "torch", entry="classify_grad", modes=("grad",), devices=("cpu", "gpu")
)
def classify_grad(weights, delays, w_out, i_ext, labels, **kw):
    """One training step's gradient: (mean cross-entropy, (dW, dD, dW_out), NetOut)."""
    leaves = [x.detach().requires_grad_(True) for x in (weights, delays, w_out)]
    logits, out = classify(*leaves, i_ext, **kw)
    value = torch.nn.functional.cross_entropy(logits, labels)
    grads = torch.autograd.grad(value, leaves)
    return value.detach(), tuple(grads), out
