"""PyTorch: discrete LIF (the serial loop) and the Parallel Spiking Unit family
(docs/families/psu.md).

A translation of ``_jax.py`` (same names, arguments and defaults; the maths is in that
module's docstring). Divergences, each for a reason:

- ``lif`` is a tight eager Python loop over T (PyTorch's sequential baseline: one fused
  multiply-add, one compare and one subtract per step, no per-step allocation of parameters).
- the fixed matrices are built once per (T, tau, dtype, device) and cached: the JAX twin gets
  them as compile-time constants, and rebuilding them would put a host-to-device copy in every
  timed GPU call.
- ``Spike`` is an ``autograd.Function`` (JAX: ``custom_vjp``).
- ``Layer`` / ``Network`` are ``nn.Module`` wrappers holding the parameters for users who
  train with ``torch.optim``; they call the same functional ``layer`` / ``network``.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
import torch

from ...registry import register
from ._common import (
    DEFAULT,
    LEARNED,
    PSUParams,
    causal_mask,
    check_learned,
    check_neuron,
    check_time_steps,
    dispatch,
    grad_dict,
    init_network,
    lif_matrices,
    linear_neuron,
    readout,
    validate_params,
)


class NeuronOut(NamedTuple):
    """spikes: [T, ...] 0/1 in x's dtype; v: [T, ...] the potential compared with theta."""

    spikes: torch.Tensor
    v: torch.Tensor


class Spike(torch.autograd.Function):
    """Heaviside(u) (strict) with the ATan surrogate gradient w.r.t. u and alpha."""

    @staticmethod
    def forward(u, alpha):
        return (u > 0).to(u.dtype)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx, g):
        u, alpha = ctx.saved_tensors
        q = 1.0 + (0.5 * math.pi * alpha * u) ** 2
        g_u = g * alpha / (2.0 * q) if ctx.needs_input_grad[0] else None
        g_alpha = (
            torch.sum(g * u / (2.0 * q)).reshape(alpha.shape) if ctx.needs_input_grad[1] else None
        )
        return g_u, g_alpha


def spike(u, alpha):
    return Spike.apply(u, alpha)


@functools.lru_cache(maxsize=64)
def _mats_cached(t, tau, dtype, device):
    big_a, big_b = lif_matrices(t, tau)
    return (
        torch.as_tensor(big_a, dtype=dtype, device=device),
        torch.as_tensor(big_b, dtype=dtype, device=device),
    )


@functools.lru_cache(maxsize=64)
def _mask_cached(t, dtype, device):
    return torch.as_tensor(causal_mask(t), dtype=dtype, device=device)


def _mats(t, p, x):
    return _mats_cached(t, float(p.tau), x.dtype, x.device)


def _tmul(m, x):
    """m [T, T] applied on the time axis of x [T, ...]."""
    return (m @ x.reshape(x.shape[0], -1)).reshape(x.shape)


def _alpha(alpha, p, x):
    if alpha is None:
        return torch.tensor(p.alpha, dtype=x.dtype, device=x.device)
    return torch.as_tensor(alpha, dtype=x.dtype, device=x.device)


def _lif_loop(x, a: float, b: float, theta: float):
    """The forward recurrence without autograd, three ops a step written into preallocated
    [T, ...] outputs: H_k = a X_k + b V_{k-1}, S_k = [H_k > theta], V_k = H_k - theta S_k.
    Traced for export (ONNX), the same steps out of place: a trace records no ``out=``
    writes into a buffer it did not create."""
    ax = x * a
    if torch.jit.is_tracing():
        v, hs, ss = torch.zeros_like(x[0]), [], []
        for k in range(x.shape[0]):
            h = torch.add(ax[k], v, alpha=b)
            s = (h > theta).to(x.dtype)
            v = torch.sub(h, s, alpha=theta)
            hs.append(h)
            ss.append(s)
        return torch.stack(ss), torch.stack(hs)
    hs, ss = torch.empty_like(x), torch.empty_like(x)
    v = torch.zeros_like(x[0])
    for k in range(x.shape[0]):
        h = torch.add(ax[k], v, alpha=b, out=hs[k])
        s = torch.gt(h, theta, out=ss[k])
        v = torch.sub(h, s, alpha=theta)
    return ss, hs


class _LIF(torch.autograd.Function):
    """The whole LIF loop as one autograd node (a deliberate divergence from the JAX twin,
    which differentiates its ``lax.scan`` step by step): with a node per step, each step's
    backward of ``x[k]`` filled a zero [T, ...] tensor (O(T^2) traffic) and the per-step
    surrogate nodes cost Python dispatch; measured 1.4-1.8x SpikingJelly's LIFNode on the same
    recurrence (scripts/lif_vs_spikingjelly.py). Same gradients as the per-step graph: the
    reset is detached, so dV_k/dH_k = 1 and the backward is the reverse linear recurrence

        G_k  = gS_k * sg'(H_k - theta) + gH_k          (one op over all T)
        gh_k = G_k + b gh_{k+1},   gX_k = a gh_k

    with the ATan surrogate sg' of ``Spike`` (and its alpha derivative, summed)."""

    @staticmethod
    def forward(x, alpha, a, b, theta):
        return _lif_loop(x, a, b, theta)

    @staticmethod
    def setup_context(ctx, inputs, output):
        _, alpha, a, b, theta = inputs
        ctx.a, ctx.b, ctx.theta = a, b, theta
        ctx.save_for_backward(alpha, output[1])

    @staticmethod
    def backward(ctx, g_s, g_h):
        alpha, hs = ctx.saved_tensors
        u = hs - ctx.theta
        q = 1.0 + (0.5 * math.pi * alpha * u) ** 2
        g = torch.zeros_like(hs) if g_h is None else g_h.clone()
        g_alpha = None
        if g_s is not None:
            g.addcmul_(g_s, alpha / (2.0 * q))
            if ctx.needs_input_grad[1]:
                g_alpha = torch.sum(g_s * u / (2.0 * q)).reshape(alpha.shape)
        nxt = torch.zeros_like(hs[0])
        for k in range(hs.shape[0] - 1, -1, -1):  # in place: g becomes gh
            nxt = g[k].add_(nxt, alpha=ctx.b)
        g_x = g.mul_(ctx.a) if ctx.needs_input_grad[0] else None
        return g_x, g_alpha, None, None, None


def lif(x, p: PSUParams = DEFAULT, alpha=None) -> NeuronOut:
    """Discrete LIF with soft reset, one time step after the other (eager loop; as one
    autograd node when a gradient is needed, ``_LIF``)."""
    a, b = validate_params(p)
    check_time_steps(x.shape)
    al = _alpha(alpha, p, x)
    if torch.is_grad_enabled() and (x.requires_grad or al.requires_grad):
        ss, hs = _LIF.apply(x, al, a, b, float(p.theta))
    else:
        ss, hs = _lif_loop(x, a, b, float(p.theta))
    return NeuronOut(ss, hs)


def lif_matrix(x, p: PSUParams = DEFAULT):
    """LIF without reset in matrix form, H = A X (equals ``lif``'s H while nothing fires)."""
    validate_params(p)
    big_a, _ = _mats(check_time_steps(x.shape), p, x)
    return _tmul(big_a, x)


def psu(x, p: PSUParams = DEFAULT, alpha=None) -> NeuronOut:
    """PSU: fixed leak, reset estimated as theta * B sigmoid(A X)."""
    validate_params(p)
    big_a, big_b = _mats(check_time_steps(x.shape), p, x)
    d = _tmul(big_a, x)
    u = d - p.theta * _tmul(big_b, torch.sigmoid(d))
    return NeuronOut(spike(u - p.theta, _alpha(alpha, p, x)), u)


def _masked(w, bias, t, x):
    check_learned(w.shape, bias.shape, t)
    return w * _mask_cached(t, x.dtype, x.device)  # above-diagonal entries get zero gradient


def _add_bias(y, bias):
    return y + bias.reshape((-1,) + (1,) * (y.dim() - 1))


def ipsu(x, w, bias, p: PSUParams = DEFAULT, alpha=None) -> NeuronOut:
    """IPSU (as released): D = (W*M) X + b_I, U = D - B X."""
    validate_params(p)
    t = check_time_steps(x.shape)
    _, big_b = _mats(t, p, x)
    wm = _masked(w, bias, t, x)
    u = _add_bias(_tmul(wm, x), bias) - _tmul(big_b, x)
    return NeuronOut(spike(u - p.theta, _alpha(alpha, p, x)), u)


def rpsu(x, w, bias, p: PSUParams = DEFAULT, alpha=None) -> NeuronOut:
    """RPSU (as released): U = A X - B sigmoid((W*M) X + b_R), reset 1 per estimated spike."""
    validate_params(p)
    t = check_time_steps(x.shape)
    big_a, big_b = _mats(t, p, x)
    wm = _masked(w, bias, t, x)
    u = _tmul(big_a, x) - _tmul(big_b, torch.sigmoid(_add_bias(_tmul(wm, x), bias)))
    return NeuronOut(spike(u - p.theta, _alpha(alpha, p, x)), u)


NEURON_FNS = {"lif": lif, "psu": psu, "ipsu": ipsu, "rpsu": rpsu}


def neuron(kind: str, x, p: PSUParams, mat=None, mat_b=None, alpha=None) -> NeuronOut:
    """Dispatch by name (``_common.dispatch``): `mat`, `mat_b` are required for ipsu / rpsu
    and refused otherwise."""
    return dispatch(NEURON_FNS, kind, x, p, mat, mat_b, alpha)


def layer(layer_params: dict, x, kind: str, p: PSUParams) -> NeuronOut:
    """A linear layer + neuron on time-major x [T, B, N_in] -> [T, B, N_out], layer by layer
    (``_common.linear_neuron``)."""
    return linear_neuron(neuron, layer_params, x, kind, p)


def network(params: dict, x, kind: str, p: PSUParams = DEFAULT, return_spikes=False):
    """Logits [B, n_out] of the SHD-shaped network on x [T, B, n_in] (with
    ``return_spikes``: and the list of every hidden layer's spikes [T, B, hidden]).

    Every neuron type runs layer by layer: each layer's input current for all T steps at once
    (one matmul over [T * B, n_in]), then the neuron over T. For LIF this is the same network
    as advancing every layer one step at a time (the layers are feed-forward: layer l at step
    k reads only layer l - 1 at step k) and the fastest form of it, SpikingJelly's multi-step
    mode: the baseline every LIF / unit ratio divides by is at its best (README "Baselines
    at their best"; the step-by-step loop's per-step [B, n_in] matmuls took 1.3-2x as long).
    Readout: the time average of a linear map of the last hidden layer's spikes (the membrane
    of a non-leaky, non-spiking integrator / T).
    """
    check_neuron(kind)
    h, hidden = x, []
    for lp in params["layers"]:
        h = layer(lp, h, kind, p).spikes
        hidden.append(h)
    mean_last = torch.mean(h, dim=0)
    logits = readout(params["readout"], mean_last)
    return (logits, hidden) if return_spikes else logits


def loss(params: dict, x, labels, kind: str, p: PSUParams = DEFAULT, return_spikes=False):
    """Mean cross-entropy of ``network`` against integer labels [B] (with ``return_spikes``:
    and the hidden layers' spikes)."""
    logits, hidden = (
        network(params, x, kind, p, return_spikes=True)
        if return_spikes
        else (network(params, x, kind, p), None)
    )
    value = torch.nn.functional.cross_entropy(logits, labels)
    return (value, hidden) if return_spikes else value


def from_numpy(tree, dtype=torch.float32, device=None, requires_grad=False):
    """A parameter dict of NumPy arrays (``init_network``) as tensors (leaves)."""
    if isinstance(tree, dict):
        return {k: from_numpy(v, dtype, device, requires_grad) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(from_numpy(v, dtype, device, requires_grad) for v in tree)
    return torch.as_tensor(np.asarray(tree), dtype=dtype, device=device).requires_grad_(
        requires_grad
    )


class Layer(torch.nn.Module):
    """Linear layer + neuron (time-major [T, B, N_in] -> spikes [T, B, N_out]) with its
    parameters: weight, bias, and for IPSU / RPSU the T x T matrix and per-step bias (built for
    one T), for the PSU family a learnable surrogate alpha."""

    def __init__(
        self,
        n_in: int,
        n_out: int,
        kind: str,
        t: int | None = None,
        p: PSUParams = DEFAULT,
        seed: int = 0,
        dtype=torch.float32,
    ):
        super().__init__()
        check_neuron(kind)
        if kind in LEARNED and t is None:
            raise ValueError(f"{kind} needs the number of time steps t it is built for")
        tree = init_network(
            seed, n_in=n_in, hidden=n_out, n_out=1, t=t or 1, neuron=kind, n_layers=1, alpha=p.alpha
        )["layers"][0]
        self.kind, self.p = kind, p
        for name, value in tree.items():
            self.register_parameter(name, torch.nn.Parameter(from_numpy(value, dtype)))

    def forward(self, x):
        return layer(dict(self.named_parameters()), x, self.kind, self.p).spikes


class Network(torch.nn.Module):
    """The SHD-shaped network n_in -> hidden x n_layers -> n_out (see ``network``)."""

    def __init__(
        self,
        n_in: int = 700,
        hidden: int = 128,
        n_out: int = 20,
        *,
        kind: str,
        t: int,
        n_layers: int = 2,
        p: PSUParams = DEFAULT,
        seed: int = 0,
        dtype=torch.float32,
    ):
        super().__init__()
        tree = init_network(
            seed,
            n_in=n_in,
            hidden=hidden,
            n_out=n_out,
            t=t,
            neuron=kind,
            n_layers=n_layers,
            alpha=p.alpha,
        )
        self.kind, self.p = kind, p
        self.layers = torch.nn.ModuleList()
        for lp in tree["layers"]:
            m = torch.nn.Module()
            for name, value in lp.items():
                m.register_parameter(name, torch.nn.Parameter(from_numpy(value, dtype)))
            self.layers.append(m)
        self.readout = torch.nn.Module()
        for name, value in tree["readout"].items():
            self.readout.register_parameter(name, torch.nn.Parameter(from_numpy(value, dtype)))

    def params_tree(self) -> dict:
        return {
            "layers": [dict(m.named_parameters()) for m in self.layers],
            "readout": dict(self.readout.named_parameters()),
        }

    def forward(self, x):
        return network(self.params_tree(), x, self.kind, self.p)


# -- the timed entries (registered; eager PyTorch) -------------------------------------------
# Every neuron type shares one function per workload; `kind` picks the neuron.

IMPLS = ("lif", "psu", "ipsu", "rpsu")


@register("psu", IMPLS, "torch", entry="neuron_forward", devices=("cpu", "gpu"))
@register("psu", IMPLS, "torch-compile", entry="neuron_forward", devices=("cpu", "gpu"))
def neuron_forward(x, *learned, p: PSUParams, kind: str) -> NeuronOut:
    """One neuron type on x [T, ...] (`learned`: IPSU / RPSU's matrix and bias)."""
    with torch.no_grad():
        return neuron(kind, x, p, *learned)


@register("psu", IMPLS, "torch", entry="neuron_grad", modes=("grad",), devices=("cpu", "gpu"))
@register(
    "psu", IMPLS, "torch-compile", entry="neuron_grad", modes=("grad",), devices=("cpu", "gpu")
)
def neuron_grad(x, r, *learned, p: PSUParams, kind: str):
    """Forward + backward of sum(r * S) w.r.t. x, the learned matrix and bias and (PSU family)
    the surrogate's alpha; returns (gradients by name, spikes)."""
    x = x.detach().requires_grad_(True)
    learned = tuple(a.detach().requires_grad_(True) for a in learned)
    leaves = [x, *learned]
    alpha = None
    if kind != "lif":
        alpha = torch.tensor(p.alpha, dtype=x.dtype, device=x.device, requires_grad=True)
        leaves.append(alpha)
    s = neuron(kind, x, p, *learned, alpha=alpha).spikes
    grads = torch.autograd.grad(torch.sum(s * r), leaves)
    return grad_dict(
        kind, grads[0], tuple(grads[1 : 1 + len(learned)]), grads[-1] if alpha is not None else None
    ), s.detach()


@register("psu", IMPLS, "torch", entry="network_forward", devices=("cpu", "gpu"))
@register("psu", IMPLS, "torch-compile", entry="network_forward", devices=("cpu", "gpu"))
def network_forward(tree, x, *, p: PSUParams, kind: str):
    """Logits and every hidden layer's spikes of ``network``."""
    with torch.no_grad():
        return network(tree, x, kind, p, return_spikes=True)


@register("psu", IMPLS, "torch", entry="network_grad", modes=("grad",), devices=("cpu", "gpu"))
@register(
    "psu", IMPLS, "torch-compile", entry="network_grad", modes=("grad",), devices=("cpu", "gpu")
)
def network_grad(tree, x, labels, *, p: PSUParams, kind: str):
    """One training step: (loss, gradient w.r.t. every parameter of `tree`, hidden spikes)."""
    leaves = _tree_map(tree, lambda a: a.detach().requires_grad_(True))
    flat = _leaves(leaves)
    value, hidden = loss(leaves, x, labels, kind, p, return_spikes=True)
    grads = list(torch.autograd.grad(value, flat))
    return value.detach(), _tree_map(leaves, lambda _: grads.pop(0)), [h.detach() for h in hidden]


def _leaves(tree) -> list:
    """The leaves of a dict / list tree in the order ``_tree_map`` visits them."""
    if isinstance(tree, dict):
        return [x for k in sorted(tree) for x in _leaves(tree[k])]
    if isinstance(tree, list):
        return [x for v in tree for x in _leaves(v)]
    return [tree]


def _tree_map(tree, f):
    if isinstance(tree, dict):
        return {k: _tree_map(tree[k], f) for k in sorted(tree)}
    if isinstance(tree, list):
        return [_tree_map(v, f) for v in tree]
    return f(tree)
