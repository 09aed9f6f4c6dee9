"""JAX: a clock-driven recurrent LIF network with one delayed queue per synapse
(docs/families/queues.md, benchmark (e)), generic over the queue design.

N neurons, all-to-all: synapse (post n, pre j) has weight W[n, j] and delay D[n, j] (ms) and
its own queue (queue index n * N + j). Time step dt (ms), step k at t = k dt. Per step k:

    1. every queue pops what is due at k; the payload it delivers is the event's synaptic
       factor f = exp(-(key - t_a) / tau_syn), t_a its exact arrival time and key = ceil(t_a)
       its arrival step (both in steps), so I_n gets sum_j W[n, j] f_nj: the exact value at k
       of an exponential synapse hit at t_a
    2. I <- I exp(-dt / tau_syn) + delivered;  V <- V + dt (-V / tau_mem + I + I_ext(k))
       where I_ext(k) is i_ext for k dt < t_ext and 0 after (the default), or row k - 1 of a
       given input current [n_steps, N] (an event dataset's drive, ``i_ext=``)
    3. V >= theta: a spike. Its crossing time in steps, t_s = k - 1 + (theta - V_prev) /
       (V - V_prev) (linear interpolation inside the step), is differentiable: its derivative
       is the implicit-function term -dV / Vdot of the spec. V is reset to 0.
    4. each spike of neuron j offers t_a = t_s + D[n, j] / dt to every queue (n, j).

Gradients: the payload f is a float that every queue operation moves with its event (where /
gather / sort permutations), so its tangent — (f / tau_syn) times the arrival-time tangent,
which carries d t_s and d D — travels with the event exactly as spec section 4 prescribes;
jax.jvp (forward mode) and jax.grad (its transpose) need no custom rule. A dropped event
delivers neither value nor tangent. The spec's delivery rule "I += w, tangent += (w / tau_syn)
dt_a" is the f -> 1 limit of ours (f is within exp(-1 / tau_syn) of 1).

The differentiated objective (``loss``) is the sum of every spike's crossing time (steps) plus
the final membrane potentials: unlike the spike count, whose derivative is zero almost
everywhere, it is smooth wherever no spike appears or vanishes.
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ...registry import register
from . import _jax as qmod
from ._common import DESIGNS, NetParams


class NetOut(NamedTuple):
    """What a run gives; with a batch of inputs, every field gets the batch's leading axis."""

    spike_count: jax.Array  # [N] spikes per neuron
    spike_time_sum: jax.Array  # scalar: sum of all crossing times (steps)
    v_final: jax.Array  # [N]
    dropped: jax.Array  # scalar: events lost to queue overflow
    delivered: jax.Array  # scalar: events delivered
    pending: jax.Array  # scalar: events still queued at the end
    time_sums: jax.Array | None = None  # [N] per neuron: sum of its crossing times (steps)


def _arrivals(t_s, delays, p):
    """Arrival time t_a (steps, float) and step key = ceil(t_a) for every synapse [N, N]."""
    t_a = t_s[None, :] + delays / p.dt
    return t_a, jnp.ceil(t_a).astype(jnp.int32)


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
    them [p.n_steps, B, N]: B independent copies of the network (vmap; every NetOut field
    then per copy)."""
    n = weights.shape[0]
    dtype = weights.dtype
    if i_ext is not None and i_ext.ndim == 3:
        return jax.vmap(
            lambda x: simulate(weights, delays, p, design, capacity, max_delay, x), in_axes=1
        )(i_ext)
    if i_ext is None:
        k_all = jnp.arange(1, p.n_steps + 1)
        i_ext = jnp.where(k_all[:, None] * p.dt < p.t_ext, p.i_ext, 0.0)
        i_ext = jnp.broadcast_to(i_ext, (p.n_steps, n))
    elif i_ext.shape != (p.n_steps, n):
        raise ValueError(f"i_ext must have shape {(p.n_steps, n)}, got {i_ext.shape}")
    i_ext = jnp.asarray(i_ext, dtype)
    q0 = qmod.init(design, n * n, capacity, max_delay, dtype)
    decay_s = math.exp(-p.dt / p.tau_syn)
    tau_s_steps = p.tau_syn / p.dt

    def step(carry, xs):
        k, i_in = xs
        q, v, i_syn, t_sum, count, delivered = carry
        q, hits, pay = qmod.pop(design, q, k, check=False)
        i_syn = i_syn * decay_s + jnp.sum(weights * pay.reshape(n, n), axis=1)
        v_new = v + p.dt * (-v / p.tau_mem + i_syn + i_in)
        spike = v_new >= p.theta
        frac = (p.theta - v) / jnp.where(spike, v_new - v, 1.0)
        t_s = (k - 1) + frac
        t_a, key = _arrivals(t_s, delays, p)
        f = jnp.exp(-(key - t_a) / tau_s_steps)
        mask = jnp.broadcast_to(spike[None, :], (n, n)).reshape(-1)
        q = qmod.enqueue(design, q, key.reshape(-1), f.reshape(-1), mask, check=False)
        t_sum = t_sum + jnp.where(spike, t_s, 0.0)
        v_new = jnp.where(spike, 0.0, v_new)
        return (
            q,
            v_new,
            i_syn,
            t_sum,
            count + spike,
            delivered + jnp.sum(hits).astype(jnp.int32),
        ), None

    zero = jnp.zeros(n, dtype)
    init = (q0, zero, zero, zero, jnp.zeros(n, jnp.int32), jnp.zeros((), jnp.int32))
    (q, v, _, t_sum, count, delivered), _ = lax.scan(
        step, init, (jnp.arange(1, p.n_steps + 1), i_ext)
    )
    return NetOut(
        count,
        jnp.sum(t_sum),
        v,
        jnp.sum(q.dropped),
        delivered,
        jnp.sum(qmod.pending(design, q)),
        t_sum,
    )


def loss(weights, delays, p: NetParams, design: str, capacity=None, max_delay=None, i_ext=None):
    """Sum of spike crossing times (steps) + sum of final potentials; aux: the NetOut."""
    out = simulate(weights, delays, p, design, capacity, max_delay, i_ext)
    return out.spike_time_sum + jnp.sum(out.v_final), out


# -- the timed entries (registered) ------------------------------------------------------------
STATIC = ("p", "design", "capacity", "max_delay")


@register("queues", DESIGNS, "jax", entry="network_forward")
@partial(jax.jit, static_argnames=STATIC)
def network_forward(
    weights, delays, i_ext, *, p: NetParams, design: str, capacity=None, max_delay=None
) -> NetOut:
    """``simulate`` (benchmark (e) forward)."""
    return simulate(weights, delays, p, design, capacity, max_delay, i_ext)


@register("queues", DESIGNS, "jax", entry="network_grad", modes=("grad",), knobs=("ad",))
@partial(jax.jit, static_argnames=STATIC)
def network_grad(
    weights, delays, dw, dd, i_ext, *, p: NetParams, design: str, capacity=None, max_delay=None
):
    """Reverse mode: (loss, the gradient's derivative along (dw, dd), NetOut)."""
    f = partial(_objective, p=p, design=design, capacity=capacity, max_delay=max_delay, i_ext=i_ext)
    (value, out), (gw, gd) = jax.value_and_grad(f, argnums=(0, 1), has_aux=True)(weights, delays)
    return value, jnp.sum(gw * dw) + jnp.sum(gd * dd), out


@register("queues", DESIGNS, "jax", entry="network_jvp", modes=("grad",), knobs=("ad",))
@partial(jax.jit, static_argnames=STATIC)
def network_jvp(
    weights, delays, dw, dd, i_ext, *, p: NetParams, design: str, capacity=None, max_delay=None
):
    """Forward mode: (loss, its directional derivative along (dw, dd), NetOut)."""
    f = partial(_objective, p=p, design=design, capacity=capacity, max_delay=max_delay, i_ext=i_ext)
    return jax.jvp(f, (weights, delays), (dw, dd), has_aux=True)


def _objective(w, d, *, p, design, capacity, max_delay, i_ext):
    return loss(w, d, p, design, capacity, max_delay, i_ext)


# -- classification with learned delays (training to accuracy; families/queues/training.py) --
CLASSIFY_STATIC = STATIC + ("readout_from", "d_max")


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
    """Logits [B, C] of a batch i_ext [n_steps, B, N] and its NetOut.

    Readout: every neuron j >= readout_from gives phi_j = sum over its spikes of
    (1 - t_s / n_steps) = count_j - time_sums_j / n_steps (earlier spikes weigh more; every
    spike time gets a gradient), logits = phi @ w_out.T. Delays are clipped to [0, d_max] ms
    (the queues' window)."""
    out = simulate(weights, jnp.clip(delays, 0.0, d_max), p, design, capacity, max_delay, i_ext)
    phi = (
        out.spike_count[:, readout_from:].astype(weights.dtype)
        - out.time_sums[:, readout_from:] / p.n_steps
    )
    return phi @ w_out.T, out


@register("queues", DESIGNS, "jax", entry="classify_forward")
@partial(jax.jit, static_argnames=CLASSIFY_STATIC)
def classify_forward(weights, delays, w_out, i_ext, **kw):
    """``classify``: (logits, NetOut)."""
    return classify(weights, delays, w_out, i_ext, **kw)


@register("queues", DESIGNS, "jax", entry="classify_grad", modes=("grad",))
@partial(jax.jit, static_argnames=CLASSIFY_STATIC)
def classify_grad(weights, delays, w_out, i_ext, labels, **kw):
    """One training step's gradient: (mean cross-entropy, (dW, dD, dW_out), NetOut), reverse
    mode through the queues (the payload carries the arrival-time tangent)."""

    def f(w, d, wo):
        logits, out = classify(w, d, wo, i_ext, **kw)
        logp = jax.nn.log_softmax(logits, axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1)), out

    (value, out), grads = jax.value_and_grad(f, argnums=(0, 1, 2), has_aux=True)(
        weights, delays, w_out
    )
    return value, grads, out
