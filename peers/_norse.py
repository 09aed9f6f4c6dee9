"""Norse (PyPI ``norse``) rows of the PSU family, timed in its own form: the ``LIFBoxCell``
(a leaky integrate-and-fire neuron without a synaptic current) called once per time step in a
Python loop, with its state carried.

``lif``: ``LIFBoxCell(LIFBoxParameters(tau_mem_inv=1/tau, v_th=theta, v_leak=0, v_reset=0,
reset_method=reset_subtract, method="heaviside"), dt=1)`` computes
V' = V + (X - V) / tau, S = H(V' - theta) (strict), V = V' - theta S: discrete LIF with soft
reset, exactly (its default ``reset_value`` would reset hard to v_reset).
"""

from __future__ import annotations

import functools

import torch
from norse.torch import LIFBoxCell, LIFBoxParameters
from norse.torch.functional.reset import reset_subtract
from spikebench.registry import register


@functools.cache
def _cell(tau: float, theta: float, dtype, device):
    p = LIFBoxParameters(
        tau_mem_inv=torch.tensor(1.0 / tau, dtype=dtype, device=device),
        v_leak=torch.tensor(0.0, dtype=dtype, device=device),
        v_th=torch.tensor(theta, dtype=dtype, device=device),
        v_reset=torch.tensor(0.0, dtype=dtype, device=device),
        method="heaviside",
        reset_method=reset_subtract,
    )
    return LIFBoxCell(p, dt=1.0)


@register("psu", "lif", "norse", entry="neuron_forward", devices=("cpu", "gpu"))
def lif(x, p, kind="lif"):
    cell = _cell(float(p.tau), float(p.theta), x.dtype, x.device)
    with torch.no_grad():
        state = None
        out = []
        for t in range(x.shape[0]):
            z, state = cell(x[t], state)
            out.append(z)
        return torch.stack(out)
