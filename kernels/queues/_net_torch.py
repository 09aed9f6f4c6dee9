"""PyTorch: the clock-driven recurrent LIF network with one delayed queue per synapse.

A translation of ``_net_jax.py`` (same names, arguments, model and objective; the maths is in
that module's docstring). Divergence: the step loop is an eager Python loop (JAX:
``lax.scan``). Reverse mode is ``torch.autograd``; forward mode works through
``torch.func.jvp`` (the queue operations are out-of-place, so functorch can trace them).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from . import _torch as qmod
from ._net_jax import NetParams  # a plain NamedTuple of floats, shared by both twins

__all__ = ["NetParams", "NetOut", "simulate", "loss"]


class NetOut(NamedTuple):
    spike_count: torch.Tensor    # [N] spikes per neuron
    spike_time_sum: torch.Tensor  # scalar: sum of all crossing times (steps)
    v_final: torch.Tensor        # [N]
    dropped: torch.Tensor        # scalar: events lost to queue overflow
    delivered: torch.Tensor      # scalar: events delivered
    pending: torch.Tensor        # scalar: events still queued at the end


def simulate(weights, delays, p: NetParams, design: str, capacity: int | None = None,
             max_delay: int | None = None, i_ext=None) -> NetOut:
    """Run the network for p.n_steps steps; weights, delays [N, N] (post, pre); i_ext: None
    (the constant input of `p`) or the input current [p.n_steps, N] (theta / ms)."""
    n = weights.shape[0]
    dtype, dev = weights.dtype, weights.device
    if i_ext is not None:
        if tuple(i_ext.shape) != (p.n_steps, n):
            raise ValueError(f"i_ext must have shape {(p.n_steps, n)}, got "
                             f"{tuple(i_ext.shape)}")
        i_ext = torch.as_tensor(i_ext, dtype=dtype, device=dev)
    q = qmod.init(design, n * n, capacity, max_delay, dtype, dev)
    decay_s = math.exp(-p.dt / p.tau_syn)
    tau_s_steps = p.tau_syn / p.dt
    v = torch.zeros(n, dtype=dtype, device=dev)
    i_syn = torch.zeros_like(v)
    t_sum = torch.zeros((), dtype=dtype, device=dev)
    count = torch.zeros(n, dtype=torch.int32, device=dev)
    delivered = torch.zeros((), dtype=torch.int32, device=dev)
    for k in range(1, p.n_steps + 1):
        q, hits, pay = qmod.pop(design, q, k, inplace=True)
        i_syn = i_syn * decay_s + torch.sum(weights * pay.reshape(n, n), dim=1)
        if i_ext is None:
            i_in = p.i_ext if k * p.dt < p.t_ext else 0.0
        else:
            i_in = i_ext[k - 1]
        v_new = v + p.dt * (-v / p.tau_mem + i_syn + i_in)
        spike = v_new >= p.theta
        frac = (p.theta - v) / torch.where(spike, v_new - v, torch.ones_like(v))
        t_s = (k - 1) + frac
        t_a = t_s[None, :] + delays / p.dt
        key = torch.ceil(t_a).to(torch.int32)
        f = torch.exp(-(key - t_a) / tau_s_steps)
        mask = spike[None, :].expand(n, n).reshape(-1)
        q = qmod.enqueue(design, q, key.reshape(-1), f.reshape(-1), mask, inplace=True)
        t_sum = t_sum + torch.sum(torch.where(spike, t_s, torch.zeros_like(t_s)))
        v = torch.where(spike, torch.zeros_like(v_new), v_new)
        count = count + spike.int()
        delivered = delivered + torch.sum(hits).int()
    return NetOut(count, t_sum, v, torch.sum(q.dropped), delivered,
                  torch.sum(qmod.pending(design, q)))


def loss(weights, delays, p: NetParams, design: str, capacity=None, max_delay=None,
         i_ext=None):
    """Sum of spike crossing times (steps) + sum of final potentials; aux: the NetOut."""
    out = simulate(weights, delays, p, design, capacity, max_delay, i_ext)
    return out.spike_time_sum + torch.sum(out.v_final), out
