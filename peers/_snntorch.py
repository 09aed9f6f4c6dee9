"""snnTorch (PyPI ``snntorch``) rows of the PSU family, timed in its own form: the ``Leaky``
module called once per time step in a Python loop (snnTorch's idiom), the input scaled by 1/tau
in the timed call.

``lif``: ``snntorch.Leaky(beta=1 - 1/tau, threshold=theta, reset_mechanism="subtract",
reset_delay=False)`` fed X / tau. Its default, ``reset_delay=True``, subtracts the reset one
step late; with ``reset_delay=False`` it equals discrete LIF with soft reset except where the
membrane after a reset still exceeds theta (``peers/_reference.py``: ``snntorch_leaky``).
"""

from __future__ import annotations

import functools

import snntorch
import torch
from spikebench.registry import register


@functools.cache
def _leaky(tau: float, theta: float, dtype, device):
    beta = torch.tensor(1.0 - 1.0 / tau, dtype=dtype, device=device)
    thr = torch.tensor(theta, dtype=dtype, device=device)
    return snntorch.Leaky(
        beta=beta, threshold=thr, reset_mechanism="subtract", reset_delay=False
    ).to(device)


@register("psu", "lif", "snntorch", entry="neuron_forward", devices=("cpu", "gpu"))
def lif(x, p, kind="lif"):
    leaky = _leaky(float(p.tau), float(p.theta), x.dtype, x.device)
    with torch.no_grad():
        cur = x / p.tau
        mem = torch.zeros_like(cur[0])
        out = []
        for t in range(cur.shape[0]):
            spk, mem = leaky(cur[t], mem)
            out.append(spk)
        return torch.stack(out)
