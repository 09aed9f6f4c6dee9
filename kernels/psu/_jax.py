"""JAX: discrete LIF (the serial loop) and the Parallel Spiking Unit family (docs/families/psu.md).

Inputs are time-major ``x`` [T, ...] (every non-time axis is a neuron / batch lane). With
a = 1/tau, b = 1 - 1/tau, the fixed T x T matrices A, B of ``_common`` and the causal mask M::

    lif       H[t] = b V[t-1] + a X[t];  S[t] = H(H[t] - theta);  V[t] = H[t] - theta sg(S[t])
    lif_matrix  H = A X                    (LIF without reset: what the loop gives at theta=inf)
    psu       D = A X;            U = D - theta B sigmoid(D);              S = H(U - theta)
    ipsu      D = (W*M) X + b_I;  U = D - B X;                             S = H(U - theta)
    rpsu      U = A X - B sigmoid((W*M) X + b_R);                          S = H(U - theta)

``lif`` is the sequential loop (``lax.scan``: a jit-compiled loop, the strong baseline); the
other three compute every time step at once with two T x T by T x N products, O(T^2 N) work
against the loop's O(T N). The reset spike of LIF is detached (``sg``), as in the released
baseline: no gradient flows through the reset.

Heaviside is strict (H(0) = 0); its backward is the ATan surrogate
dS/du = alpha / (2 (1 + (pi/2 alpha u)^2)), with a gradient for alpha too (learned per layer in
the PSU family; fixed at 2 for LIF).

Layers and networks (``layer``, ``network``, ``loss``) take the parameter dict of
``_common.init_network`` with arrays of this framework: LIF runs step by step (all layers per
time step inside one scan), the PSU family layer by layer (one matrix product over all T).
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ...registry import register
from ._common import (
    DEFAULT,
    PSUParams,
    causal_mask,
    check_learned,
    check_neuron,
    check_time_steps,
    dispatch,
    grad_dict,
    lif_matrices,
    linear_neuron,
    readout,
    validate_params,
)


class NeuronOut(NamedTuple):
    """spikes: [T, ...] 0/1 in x's dtype; v: [T, ...] the potential compared with theta."""

    spikes: jax.Array
    v: jax.Array


@jax.custom_vjp
def spike(u, alpha):
    """Heaviside(u) (strict) with the ATan surrogate gradient w.r.t. u and alpha."""
    return (u > 0).astype(u.dtype)


def _spike_fwd(u, alpha):
    return spike(u, alpha), (u, alpha)


def _spike_bwd(res, g):
    u, alpha = res
    q = 1.0 + (0.5 * math.pi * alpha * u) ** 2
    g_alpha = jnp.sum(g * u / (2.0 * q)).astype(jnp.result_type(alpha))
    return g * alpha / (2.0 * q), jnp.reshape(g_alpha, jnp.shape(alpha))


spike.defvjp(_spike_fwd, _spike_bwd)


def _mats(t, p, x):
    """A, B for T = t in x's dtype (same signature as the PyTorch twin's, which also needs
    x's device)."""
    big_a, big_b = lif_matrices(t, p.tau)
    return jnp.asarray(big_a, x.dtype), jnp.asarray(big_b, x.dtype)


def _tmul(m, x):
    """m [T, T] applied on the time axis of x [T, ...]."""
    return jnp.tensordot(m, x, axes=1)


def _alpha(alpha, p, x):
    return jnp.asarray(p.alpha if alpha is None else alpha, x.dtype)


def lif(x, p: PSUParams = DEFAULT, alpha=None) -> NeuronOut:
    """Discrete LIF with soft reset, one time step after the other (``lax.scan``)."""
    a, b = validate_params(p)
    check_time_steps(x.shape)
    al = _alpha(alpha, p, x)

    def step(v, xt):
        h = b * v + a * xt
        s = spike(h - p.theta, al)
        return h - p.theta * lax.stop_gradient(s), (s, h)

    _, (s, h) = lax.scan(step, jnp.zeros_like(x[0]), x)
    return NeuronOut(s, h)


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
    u = d - p.theta * _tmul(big_b, jax.nn.sigmoid(d))
    return NeuronOut(spike(u - p.theta, _alpha(alpha, p, x)), u)


def _masked(w, bias, t, dtype):
    check_learned(w.shape, bias.shape, t)
    return w * jnp.asarray(causal_mask(t), dtype)  # above-diagonal entries get zero gradient


def _add_bias(y, bias):
    return y + jnp.reshape(bias, (-1,) + (1,) * (y.ndim - 1))


def ipsu(x, w, bias, p: PSUParams = DEFAULT, alpha=None) -> NeuronOut:
    """IPSU (as released): D = (W*M) X + b_I, U = D - B X."""
    validate_params(p)
    t = check_time_steps(x.shape)
    _, big_b = _mats(t, p, x)
    wm = _masked(w, bias, t, x.dtype)
    u = _add_bias(_tmul(wm, x), bias) - _tmul(big_b, x)
    return NeuronOut(spike(u - p.theta, _alpha(alpha, p, x)), u)


def rpsu(x, w, bias, p: PSUParams = DEFAULT, alpha=None) -> NeuronOut:
    """RPSU (as released): U = A X - B sigmoid((W*M) X + b_R), reset 1 per estimated spike."""
    validate_params(p)
    t = check_time_steps(x.shape)
    big_a, big_b = _mats(t, p, x)
    wm = _masked(w, bias, t, x.dtype)
    u = _tmul(big_a, x) - _tmul(big_b, jax.nn.sigmoid(_add_bias(_tmul(wm, x), bias)))
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
    (one matmul over [T * B, n_in]), then the neuron over T (LIF: its ``lax.scan``). For LIF
    this is the same network as one scan whose body advances every layer a step (the layers
    are feed-forward) and its fastest form (README "Baselines at their best").
    Readout: the time average of a linear map of the last hidden layer's spikes (the membrane
    of a non-leaky, non-spiking integrator / T).
    """
    check_neuron(kind)
    h, hidden = x, []
    for lp in params["layers"]:
        h = layer(lp, h, kind, p).spikes
        hidden.append(h)
    logits = readout(params["readout"], jnp.mean(hidden[-1], axis=0))
    return (logits, hidden) if return_spikes else logits


def loss(params: dict, x, labels, kind: str, p: PSUParams = DEFAULT, return_spikes=False):
    """Mean cross-entropy of ``network`` against integer labels [B] (with ``return_spikes``:
    and the hidden layers' spikes, e.g. as ``has_aux`` of ``jax.value_and_grad``)."""
    out = network(params, x, kind, p, return_spikes)
    logits, hidden = out if return_spikes else (out, None)
    logp = jax.nn.log_softmax(logits, axis=-1)
    value = -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=-1))
    return (value, hidden) if return_spikes else value


def from_numpy(tree, dtype=jnp.float32):
    """A parameter dict of NumPy arrays (``init_network``) as arrays of this framework."""
    return jax.tree.map(lambda v: jnp.asarray(v, dtype), tree)


# -- the timed entries (registered; the harness compiles them ahead of time) -----------------
# Every neuron type shares one function per workload; `kind` (static) picks the neuron.

IMPLS = ("lif", "psu", "ipsu", "rpsu")
STATIC = ("p", "kind")


@register("psu", IMPLS, "jax", entry="neuron_forward")
@partial(jax.jit, static_argnames=STATIC)
def neuron_forward(x, *learned, p: PSUParams, kind: str) -> NeuronOut:
    """One neuron type on x [T, ...] (`learned`: IPSU / RPSU's matrix and bias)."""
    return neuron(kind, x, p, *learned)


@register("psu", IMPLS, "jax", entry="neuron_grad", modes=("grad",))
@partial(jax.jit, static_argnames=STATIC)
def neuron_grad(x, r, *learned, p: PSUParams, kind: str):
    """Forward + backward of sum(r * S) w.r.t. x, the learned matrix and bias and (PSU family)
    the surrogate's alpha; returns (gradients by name, spikes)."""
    alpha = None if kind == "lif" else jnp.asarray(p.alpha, x.dtype)

    def f(x, learned, alpha):
        s = neuron(kind, x, p, *learned, alpha=alpha).spikes
        return jnp.sum(s * r), s

    argnums = (0, 1) if kind == "lif" else (0, 1, 2)
    (_, s), grads = jax.value_and_grad(f, argnums=argnums, has_aux=True)(x, learned, alpha)
    return grad_dict(kind, grads[0], grads[1], grads[2] if kind != "lif" else None), s


@register("psu", IMPLS, "jax", entry="network_forward")
@partial(jax.jit, static_argnames=STATIC)
def network_forward(tree, x, *, p: PSUParams, kind: str):
    """Logits and every hidden layer's spikes of ``network``."""
    return network(tree, x, kind, p, return_spikes=True)


@register("psu", IMPLS, "jax", entry="network_grad", modes=("grad",))
@partial(jax.jit, static_argnames=STATIC)
def network_grad(tree, x, labels, *, p: PSUParams, kind: str):
    """One training step: (loss, gradient w.r.t. every parameter of `tree`, hidden spikes)."""
    (value, hidden), grads = jax.value_and_grad(loss, has_aux=True)(tree, x, labels, kind, p, True)
    return value, grads, hidden
