"""SpikingJelly (PyPI ``spikingjelly``) rows of the PSU family, timed in its own form: a
multi-step module called on the whole [T, ...] input (SpikingJelly 2.0 picks the operator by
device: its PyTorch one on the CPU, Triton on CUDA where installed), its state reset before
each call as a training loop does (``functional.reset_net``).

- ``lif``: ``neuron.LIFNode(tau, decay_input=True, v_threshold=theta, v_reset=None,
  detach_reset=True, surrogate_function=surrogate.ATan(), step_mode='m')`` -- discrete LIF
  with soft reset, H = V + (X - V) / tau (exact; its Heaviside counts H = theta as a spike);
- ``psn``: ``neuron.PSN(T)`` with weight W and bias b - theta (the case's learned T x T matrix
  and per-step bias): S = H(W X + b - theta);
- ``masked_psn``: ``neuron.MaskedPSN(k, T, lambda_init=1, step_mode='m')``, the same W and
  bias, W masked to a band of k steps.

The modules are built once per (parameters, shape, dtype, device) and reused by every call.
"""

from __future__ import annotations

import functools

import torch
from spikebench.registry import register
from spikingjelly.activation_based import functional, neuron, surrogate

from . import MASKED_PSN_K

DEVICES = ("cpu", "gpu")


@functools.cache
def _lif(tau: float, theta: float, dtype, device):
    node = neuron.LIFNode(
        tau=tau,
        decay_input=True,
        v_threshold=theta,
        v_reset=None,
        detach_reset=True,
        surrogate_function=surrogate.ATan(),
        step_mode="m",
    )
    return node.to(device=device, dtype=dtype)


def _psn(kind: str, w, b, theta: float):
    t = int(w.shape[0])
    node = (
        neuron.PSN(T=t)
        if kind == "psn"
        else neuron.MaskedPSN(k=MASKED_PSN_K, T=t, lambda_init=1.0, step_mode="m")
    )
    node = node.to(device=w.device, dtype=w.dtype)
    with torch.no_grad():
        node.weight.copy_(w)
        node.bias.copy_((b - theta).reshape(-1, 1))
    return node


@register("psu", "lif", "spikingjelly", entry="neuron_forward", devices=DEVICES)
def lif(x, p, kind="lif"):
    node = _lif(float(p.tau), float(p.theta), x.dtype, x.device)
    functional.reset_net(node)
    with torch.no_grad():
        return node(x)


_NODES: dict = {}


@register("psu", ("psn", "masked_psn"), "spikingjelly", entry="neuron_forward", devices=DEVICES)
def psn(x, w, b, p, kind="psn"):
    key = (kind, id(w), id(b), float(p.theta))
    if key not in _NODES:  # built once per case (the inputs are the module's parameters)
        _NODES.clear()
        _NODES[key] = (_psn(kind, w, b, float(p.theta)), w, b)
    node = _NODES[key][0]
    functional.reset_net(node)
    with torch.no_grad():
        return node(x)
