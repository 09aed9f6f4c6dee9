"""JAX: discrete LIF (the serial loop) and the Parallel Spiking Unit family (spec/psu.md).

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
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ...registry import register
from ._common import (
    DEFAULT,
    LEARNED,
    PSUParams,
    causal_mask,
    check_learned,
    check_neuron,
    check_time_steps,
    lif_matrices,
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


def _mats(t, p, dtype):
    big_a, big_b = lif_matrices(t, p.tau)
    return jnp.asarray(big_a, dtype), jnp.asarray(big_b, dtype)


def _tmul(m, x):
    """m [T, T] applied on the time axis of x [T, ...]."""
    return jnp.tensordot(m, x, axes=1)


def _alpha(alpha, p, dtype):
    return jnp.asarray(p.alpha if alpha is None else alpha, dtype)


@register("psu", "lif", "jax", modes=("forward", "grad"))
def lif(x, p: PSUParams = DEFAULT, alpha=None) -> NeuronOut:
    """Discrete LIF with soft reset, one time step after the other (``lax.scan``)."""
    a, b = validate_params(p)
    check_time_steps(x.shape)
    al = _alpha(alpha, p, x.dtype)

    def step(v, xt):
        h = b * v + a * xt
        s = spike(h - p.theta, al)
        return h - p.theta * lax.stop_gradient(s), (s, h)

    _, (s, h) = lax.scan(step, jnp.zeros_like(x[0]), x)
    return NeuronOut(s, h)


def lif_matrix(x, p: PSUParams = DEFAULT):
    """LIF without reset in matrix form, H = A X (equals ``lif``'s H while nothing fires)."""
    validate_params(p)
    big_a, _ = _mats(check_time_steps(x.shape), p, x.dtype)
    return _tmul(big_a, x)


@register("psu", "psu", "jax", modes=("forward", "grad"))
def psu(x, p: PSUParams = DEFAULT, alpha=None) -> NeuronOut:
    """PSU: fixed leak, reset estimated as theta * B sigmoid(A X)."""
    validate_params(p)
    big_a, big_b = _mats(check_time_steps(x.shape), p, x.dtype)
    d = _tmul(big_a, x)
    u = d - p.theta * _tmul(big_b, jax.nn.sigmoid(d))
    return NeuronOut(spike(u - p.theta, _alpha(alpha, p, x.dtype)), u)


def _masked(w, bias, t, dtype):
    check_learned(w.shape, bias.shape, t)
    return w * jnp.asarray(causal_mask(t), dtype)  # above-diagonal entries get zero gradient


def _add_bias(y, bias):
    return y + jnp.reshape(bias, (-1,) + (1,) * (y.ndim - 1))


@register("psu", "ipsu", "jax", modes=("forward", "grad"))
def ipsu(x, w, bias, p: PSUParams = DEFAULT, alpha=None) -> NeuronOut:
    """IPSU (as released): D = (W*M) X + b_I, U = D - B X."""
    validate_params(p)
    t = check_time_steps(x.shape)
    _, big_b = _mats(t, p, x.dtype)
    wm = _masked(w, bias, t, x.dtype)
    u = _add_bias(_tmul(wm, x), bias) - _tmul(big_b, x)
    return NeuronOut(spike(u - p.theta, _alpha(alpha, p, x.dtype)), u)


@register("psu", "rpsu", "jax", modes=("forward", "grad"))
def rpsu(x, w, bias, p: PSUParams = DEFAULT, alpha=None) -> NeuronOut:
    """RPSU (as released): U = A X - B sigmoid((W*M) X + b_R), reset 1 per estimated spike."""
    validate_params(p)
    t = check_time_steps(x.shape)
    big_a, big_b = _mats(t, p, x.dtype)
    wm = _masked(w, bias, t, x.dtype)
    u = _tmul(big_a, x) - _tmul(big_b, jax.nn.sigmoid(_add_bias(_tmul(wm, x), bias)))
    return NeuronOut(spike(u - p.theta, _alpha(alpha, p, x.dtype)), u)


NEURON_FNS = {"lif": lif, "psu": psu, "ipsu": ipsu, "rpsu": rpsu}


def neuron(kind: str, x, p: PSUParams, mat=None, mat_b=None, alpha=None) -> NeuronOut:
    """Dispatch by name; `mat`, `mat_b` are required for ipsu / rpsu and refused otherwise."""
    check_neuron(kind)
    if kind in LEARNED:
        if mat is None or mat_b is None:
            raise ValueError(f"{kind} needs its learned matrix and bias (mat, mat_b)")
        return NEURON_FNS[kind](x, mat, mat_b, p, alpha)
    if mat is not None or mat_b is not None:
        raise ValueError(f"{kind} has no learned matrix; got mat / mat_b")
    return NEURON_FNS[kind](x, p, alpha)


def layer(layer_params: dict, x, kind: str, p: PSUParams) -> NeuronOut:
    """A linear layer + neuron on time-major x [T, B, N_in] -> [T, B, N_out], layer by layer:
    the linear map runs once over all T * B rows, then the neuron over time."""
    cur = x @ layer_params["w"].T + layer_params["b"]
    return neuron(kind, cur, p, layer_params.get("mat"), layer_params.get("mat_b"),
                  layer_params.get("alpha"))


def _readout(r, spikes_mean):
    return spikes_mean @ r["w"].T + r["b"]


def network(params: dict, x, kind: str, p: PSUParams = DEFAULT, return_spikes=False):
    """Logits [B, n_out] of the SHD-shaped network on x [T, B, n_in] (with
    ``return_spikes``: and the list of every hidden layer's spikes [T, B, hidden]).

    LIF runs step by step: one ``lax.scan`` over T whose body advances every layer by one
    step. The PSU family runs layer by layer. Readout: the time average of a linear map of
    the last hidden layer's spikes (the membrane of a non-leaky, non-spiking integrator / T).
    """
    check_neuron(kind)
    if kind != "lif":
        h, hidden = x, []
        for lp in params["layers"]:
            h = layer(lp, h, kind, p).spikes
            hidden.append(h)
    else:
        a, b = validate_params(p)
        al = jnp.asarray(p.alpha, x.dtype)
        layers = params["layers"]

        def step(vs, xt):
            h, new, out = xt, [], []
            for lp, v in zip(layers, vs, strict=True):
                hh = b * v + a * (h @ lp["w"].T + lp["b"])
                h = spike(hh - p.theta, al)
                new.append(hh - p.theta * lax.stop_gradient(h))
                out.append(h)
            return tuple(new), (tuple(out) if return_spikes else h)

        v0 = tuple(jnp.zeros(x.shape[1:-1] + (lp["w"].shape[0],), x.dtype) for lp in layers)
        _, ys = lax.scan(step, v0, x)
        hidden = list(ys) if return_spikes else [ys]
    logits = _readout(params["readout"], jnp.mean(hidden[-1], axis=0))
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
