"""Feed-forward network of exact LIF layers with a leaky-integrator readout, in PyTorch (a
translation of ``_net_jax.py``, whose docstring holds the merge rule and the readout maths).

Divergence: PyTorch has no jit here, so ``budgets`` may be None (each layer then runs until its
queues are consumed and sizes its spike buffer from the run); with budgets the result reports
overflow exactly as the JAX twin does.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ...registry import register
from .._torch_compile import call_or_unsupported
from ._common import LIFParams
from ._loop_torch import serial_compiled
from ._parallel_torch import parallel
from ._torch import serial


class NetOut(NamedTuple):
    logits: torch.Tensor
    counts: tuple
    overflow: torch.Tensor


def merge_spikes(spike_times):
    """(B, N, S) spike times (+inf padded) -> sorted (times, channels) (B, N*S), padding -1."""
    b, n, s = spike_times.shape
    flat = spike_times.reshape(b, n * s)
    order = torch.sort(flat.detach(), dim=1, stable=True).indices
    t = torch.take_along_dim(flat, order, dim=1)
    fin = torch.isfinite(t)
    return torch.where(fin, t, 0.0), torch.where(fin, order // s, -1)


def readout(times, channels, w_out, params: LIFParams, tau_li: float):
    """Logits (B, C) of the leaky-integrator readout."""
    tm, ts = params.tau_mem, params.tau_syn
    gain = 1.0 / (tm * (1 / tau_li + 1 / tm) * (1 / tau_li + 1 / ts))
    pad = channels < 0
    wt = torch.cat([w_out.T, w_out.new_zeros((1, w_out.shape[0]))])
    w = wt[torch.where(pad, w_out.shape[1], channels)]
    decay = torch.where(pad, 0.0, torch.exp(-torch.where(pad, 0.0, times) / tau_li))
    return gain * torch.einsum("be,bec->bc", decay, w)


@register(
    "event_lif",
    ("serial", "parallel"),
    "torch",
    entry="net_forward",
    devices=("cpu", "gpu"),
    knobs=("chunk",),
)
def network(
    times,
    channels,
    weights: tuple,
    w_out,
    params: LIFParams,
    delays=None,
    *,
    chunk: int = 128,
    budgets: tuple | None = None,
    tau_li: float = 0.05,
    remat: bool = True,
    method: str = "parallel",
    compiled: bool = False,
) -> NetOut:
    """Logits of the stacked layers; weights[l] is (N_l, N_{l-1}), delays None or a tuple.

    method="serial" runs every layer with the serial simulator (forward only);
    ``compiled=True``: the parallel layers' chunk step runs through torch.compile, the serial
    layers as one compiled while_loop each (``_loop_torch``)."""
    if method not in ("parallel", "serial"):
        raise ValueError(f"method={method!r} is not 'parallel' or 'serial'")
    if budgets is not None and len(budgets) != len(weights):
        raise ValueError(
            f"budgets needs one (max_spikes, n_steps) per layer ({len(weights)}), "
            f"got {len(budgets)}"
        )
    t, c = times, channels
    counts, overflow = [], torch.zeros((), dtype=torch.int64)
    for li, w in enumerate(weights):
        d = None if delays is None else delays[li]
        if budgets is None and method == "serial":
            max_spikes, n_steps = 64, None  # the serial buffer grows on demand
        elif budgets is None:
            with torch.no_grad():
                probe = parallel(t, c, w, params, delays=d, chunk=chunk, max_spikes=1)
            max_spikes, n_steps = (
                max(int(probe.counts.max()) if probe.counts.numel() else 0, 1),
                None,
            )
        else:
            max_spikes, n_steps = budgets[li]
        if method == "serial" and compiled:  # a static buffer: re-run at the size it needs
            out = serial_compiled(t, c, w, params, delays=d, max_spikes=max_spikes)
            need = int(out.counts.max()) if out.counts.numel() else 0
            if budgets is None and need > max_spikes:
                out = serial_compiled(t, c, w, params, delays=d, max_spikes=need)
            left = 0
        elif method == "serial":
            out = serial(t, c, w, params, delays=d, max_spikes=max_spikes)
            left = 0
        else:
            out = parallel(
                t,
                c,
                w,
                params,
                delays=d,
                chunk=chunk,
                max_spikes=max_spikes,
                n_steps=n_steps,
                remat=remat,
                compiled=compiled,
            )
            left = out.unprocessed.sum()
        dropped = (out.counts - out.spike_times.shape[-1]).clamp(min=0)
        overflow = overflow + left + dropped.sum() + out.stalled.sum()
        counts.append(out.counts)
        t, c = merge_spikes(out.spike_times)
    return NetOut(readout(t, c, w_out, params, tau_li), tuple(counts), overflow)


def loss(times, channels, labels, weights, w_out, params, delays=None, **kw):
    """Mean cross-entropy of the readout logits, and the network output."""
    out = network(times, channels, weights, w_out, params, delays, **kw)
    return torch.nn.functional.cross_entropy(out.logits, labels), out


@register(
    "event_lif",
    "parallel",
    "torch",
    entry="net_grad",
    modes=("grad",),
    devices=("cpu", "gpu"),
    knobs=("chunk", "remat"),
)
def train_step(
    times,
    channels,
    labels,
    weights: tuple,
    w_out,
    params: LIFParams,
    *,
    chunk: int = 128,
    budgets: tuple | None = None,
    tau_li: float = 0.05,
    remat: bool = True,
    compiled: bool = False,
):
    """One training step of the parallel network: (loss, (gradients w.r.t. weights, w.r.t.
    w_out), overflow) -- ``overflow`` must be 0 for a valid step."""
    leaves = [x.detach().requires_grad_(True) for x in (*weights, w_out)]
    value, out = loss(
        times,
        channels,
        labels,
        tuple(leaves[:-1]),
        leaves[-1],
        params,
        chunk=chunk,
        budgets=budgets,
        tau_li=tau_li,
        remat=remat,
        compiled=compiled,
    )
    grads = torch.autograd.grad(value, leaves)
    return value.detach(), (grads[:-1], grads[-1]), out.overflow


@register(
    "event_lif",
    "serial",
    "torch",
    entry="net_grad",
    modes=("grad",),
    devices=("cpu", "gpu"),
    knobs=("remat",),
)
def train_step_serial(
    times,
    channels,
    labels,
    weights: tuple,
    w_out,
    params: LIFParams,
    *,
    budgets: tuple | None = None,
    tau_li: float = 0.05,
    remat: bool = True,
    chunk: int = 1,
):
    """The serial event order's training step: ``train_step`` at chunk 1 (``_net_jax``'s
    twin; ``serial`` runs under ``no_grad``)."""
    if chunk != 1:
        raise ValueError(f"the serial training step takes one event a step, not chunk={chunk}")
    return train_step(
        times,
        channels,
        labels,
        weights,
        w_out,
        params,
        chunk=1,
        budgets=budgets,
        tau_li=tau_li,
        remat=remat,
    )


@torch.no_grad()
def plan_budgets(times, channels, weights, params, delays=None, *, chunk=128, margin=1, guess=256):
    """Per-layer (max_spikes, n_steps) that a run on these inputs needs, plus `margin` steps:
    ``_net_jax.plan_budgets``'s plan (one run a layer with room for `guess` spikes a neuron,
    a second only where a neuron fired more)."""
    t, c = times, channels
    budgets = []
    for li, w in enumerate(weights):
        d = None if delays is None else delays[li]
        out = parallel(t, c, w, params, delays=d, chunk=chunk, max_spikes=guess)
        need = max(int(out.counts.max()) if out.counts.numel() else 0, 1)
        if need > guess:  # the guess overflowed: run again with room for every spike
            out = parallel(t, c, w, params, delays=d, chunk=chunk, max_spikes=need)
        budgets.append((need, int(out.steps.max()) + margin))
        # the next layer's input as the network builds it: `need` slots a neuron
        t, c = merge_spikes(out.spike_times[..., :need])
    return tuple(budgets)


# -- compiled PyTorch: the same network with its layers compiled -----------------------------


@register(
    "event_lif",
    ("serial", "parallel"),
    "torch-compile",
    entry="net_forward",
    devices=("cpu", "gpu"),
    knobs=("chunk",),
)
def network_compiled(
    times, channels, weights: tuple, w_out, params: LIFParams, delays=None, **kw
) -> NetOut:
    """``network`` with ``compiled=True`` (either method); called as is by the torch-compile
    framework (``compiles_inside``)."""
    return network(times, channels, weights, w_out, params, delays, compiled=True, **kw)


@register(
    "event_lif",
    "parallel",
    "torch-compile",
    entry="net_grad",
    modes=("grad",),
    devices=("cpu", "gpu"),
    knobs=("chunk", "remat"),
)
def train_step_compiled(times, channels, labels, weights: tuple, w_out, params: LIFParams, **kw):
    """``train_step`` with ``compiled=True`` (``compiles_inside``). Where torch.compile itself
    fails on the step under autograd (an error raised inside torch, as torch 2.13's alias
    replay did before ``_first`` copied its output), the row is ``unsupported`` and names the
    error instead of failing."""
    return call_or_unsupported(
        "the parallel chunk step under autograd",
        train_step,
        times,
        channels,
        labels,
        weights,
        w_out,
        params,
        compiled=True,
        **kw,
    )


network_compiled.compiles_inside = train_step_compiled.compiles_inside = True
