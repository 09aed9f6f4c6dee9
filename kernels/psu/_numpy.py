"""NumPy float64 reference of discrete LIF and the PSU family, with hand-written backward passes.

Every benchmark row of the ``psu`` family is checked against this module, which shares no code
with the JAX and PyTorch twins beyond the matrices of ``_common``. Forward
(docs/families/psu.md; X is [T, M], every non-time axis flattened; u = potential - theta;
S = Heaviside(u), strict)::

    lif    H[t] = b V[t-1] + a X[t];  S[t] = H(H[t] - theta);  V[t] = H[t] - theta S[t]
    psu    D = A X;           U = D - theta B sigmoid(D);                  S = H(U - theta)
    ipsu   D = (W*M) X + b_I; U = D - B X;                                 S = H(U - theta)
    rpsu   U = A X - B sigmoid((W*M) X + b_R);                             S = H(U - theta)

Backward (for a cotangent G_S of the spikes), with the ATan surrogate
dS/du = alpha / (2 (1 + (pi/2 alpha u)^2)) and dS/dalpha = u / (2 (1 + (pi/2 alpha u)^2)),
G_U = G_S * dS/du::

    lif    G_H[t] = G_U[t] + b G_H[t+1]  (reset detached: V[t] passes G_H[t+1] through b only)
           G_X[t] = a G_H[t]
    psu    G_D = G_U - theta (B^T G_U) * s'(D);  G_X = A^T G_D
    ipsu   G_X = (W*M)^T G_U - B^T G_U;  G_W = (G_U X^T) * M;  G_b = sum_m G_U
    rpsu   G_D2 = -(B^T G_U) * s'(D2);  G_X = A^T G_U + (W*M)^T G_D2;  G_W = (G_D2 X^T) * M;
           G_b = sum_m G_D2

with s' = sigmoid (1 - sigmoid).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._common import LEARNED, PSUParams, causal_mask, lif_matrices, validate_params


class NeuronOut(NamedTuple):
    """spikes: [T, ...] 0/1; v: [T, ...] the potential compared with theta (LIF: H before the
    reset; the PSU family: U)."""

    spikes: np.ndarray
    v: np.ndarray


def _flat(x):
    x = np.asarray(x, np.float64)
    return x.reshape(x.shape[0], -1)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic


def _surrogate(u, alpha):
    """(dS/du, dS/dalpha) of the ATan surrogate at u = potential - theta."""
    q = 1.0 + (0.5 * math.pi * alpha * u) ** 2
    return alpha / (2.0 * q), u / (2.0 * q)


def forward(neuron: str, x, p: PSUParams, mat=None, mat_b=None, spikes=None) -> NeuronOut:
    """Spikes and potentials of one neuron type on x [T, ...] (float64).

    ``spikes`` forces the spike train (teacher forcing): the output and, for LIF, the reset use
    it instead of the threshold, so the potentials are those the given spikes imply. This is
    how another implementation's output is checked when rounding flipped a grazing crossing.
    """
    a, b = validate_params(p)
    shape = np.shape(x)
    xf = _flat(x)
    t = xf.shape[0]
    big_a, big_b = lif_matrices(t, p.tau)
    if neuron == "lif":
        v = np.zeros(xf.shape[1])
        h_all, s_all = np.empty_like(xf), np.empty_like(xf)
        forced = None if spikes is None else _flat(spikes)
        for k in range(t):
            h = b * v + a * xf[k]
            s = (h - p.theta > 0).astype(np.float64) if forced is None else forced[k]
            v = h - p.theta * s
            h_all[k], s_all[k] = h, s
        return NeuronOut(s_all.reshape(shape), h_all.reshape(shape))
    if neuron == "psu":
        d = big_a @ xf
        u = d - p.theta * (big_b @ _sigmoid(d))
    elif neuron == "ipsu":
        u = (mat * causal_mask(t)) @ xf + np.asarray(mat_b)[:, None] - big_b @ xf
    elif neuron == "rpsu":
        d2 = (mat * causal_mask(t)) @ xf + np.asarray(mat_b)[:, None]
        u = big_a @ xf - big_b @ _sigmoid(d2)
    else:
        raise ValueError(f"unknown neuron {neuron!r}")
    s = (u - p.theta > 0).astype(np.float64) if spikes is None else _flat(spikes)
    return NeuronOut(s.reshape(shape), u.reshape(shape))


def backward(
    neuron: str, x, g_s, p: PSUParams, mat=None, mat_b=None, alpha=None, spikes=None
) -> dict:
    """Gradients of sum(G_S * S) w.r.t. x (and mat, mat_b, alpha for the learned neurons / the
    PSU family), by the formulas of the module docstring. `alpha` defaults to p.alpha;
    `spikes` forces the forward pass's spikes (see ``forward``)."""
    a, b = validate_params(p)
    alpha = p.alpha if alpha is None else float(alpha)
    shape = np.shape(x)
    xf, gs = _flat(x), _flat(g_s)
    t = xf.shape[0]
    big_a, big_b = lif_matrices(t, p.tau)
    out = forward(neuron, x, p, mat, mat_b, spikes)
    u = _flat(out.v) - p.theta
    du, dalpha = _surrogate(u, alpha)
    g_u = gs * du
    grads = {}
    if neuron == "lif":
        g_h = np.zeros_like(g_u)
        carry = np.zeros(xf.shape[1])
        for k in range(t - 1, -1, -1):
            g_h[k] = g_u[k] + carry
            carry = b * g_h[k]
        grads["x"] = (a * g_h).reshape(shape)
        return grads
    grads["alpha"] = float(np.sum(gs * dalpha))
    m = causal_mask(t)
    if neuron == "psu":
        d = big_a @ xf
        sg = _sigmoid(d)
        g_d = g_u - p.theta * (big_b.T @ g_u) * sg * (1.0 - sg)
        grads["x"] = (big_a.T @ g_d).reshape(shape)
    elif neuron == "ipsu":
        wm = mat * m
        grads["x"] = (wm.T @ g_u - big_b.T @ g_u).reshape(shape)
        grads["mat"] = (g_u @ xf.T) * m
        grads["mat_b"] = g_u.sum(axis=1)
    elif neuron == "rpsu":
        wm = mat * m
        sg = _sigmoid(wm @ xf + np.asarray(mat_b)[:, None])
        g_d2 = -(big_b.T @ g_u) * sg * (1.0 - sg)
        grads["x"] = (big_a.T @ g_u + wm.T @ g_d2).reshape(shape)
        grads["mat"] = (g_d2 @ xf.T) * m
        grads["mat_b"] = g_d2.sum(axis=1)
    return grads


class NetOut(NamedTuple):
    logits: np.ndarray  # [B, n_out]
    spikes: list[np.ndarray]  # per hidden layer, [T, B, hidden]
    potentials: list[np.ndarray]  # per hidden layer, [T, B, hidden]


def network(params: dict, x, neuron: str, p: PSUParams, forced=None) -> NetOut:
    """The SHD-shaped network, layer by layer: per hidden layer cur = x W^T + b then the neuron;
    readout logits = mean_t(S_last) W_out^T + b_out (the time-averaged membrane of a
    non-leaky, non-spiking integrator). ``forced``: per hidden layer, spikes to force (see
    ``forward``)."""
    h = np.asarray(x, np.float64)
    spikes, pots = [], []
    for i, layer in enumerate(params["layers"]):
        cur = h @ layer["w"].T + layer["b"]
        q = p._replace(alpha=float(layer.get("alpha", p.alpha)))
        out = forward(
            neuron,
            cur,
            q,
            layer.get("mat"),
            layer.get("mat_b"),
            None if forced is None else forced[i],
        )
        spikes.append(out.spikes)
        pots.append(out.v)
        h = out.spikes
    r = params["readout"]
    logits = h.mean(axis=0) @ r["w"].T + r["b"]
    return NetOut(logits, spikes, pots)


def loss_and_grad(params: dict, x, labels, neuron: str, p: PSUParams, forced=None):
    """Mean cross-entropy of `network` and its gradient w.r.t. every parameter (same nesting
    as `params`), by hand. ``forced`` as in ``network``."""
    x = np.asarray(x, np.float64)
    out = network(params, x, neuron, p, forced)
    z = out.logits - out.logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    nb = x.shape[1]
    loss = -float(np.mean(logp[np.arange(nb), labels]))
    g_logits = np.exp(logp)
    g_logits[np.arange(nb), labels] -= 1.0
    g_logits /= nb
    r = params["readout"]
    last = out.spikes[-1]
    grads = {
        "readout": {"w": g_logits.T @ last.mean(axis=0), "b": g_logits.sum(axis=0)},
        "layers": [None] * len(params["layers"]),
    }
    g_h = np.broadcast_to(g_logits @ r["w"] / x.shape[0], last.shape)
    inputs = [x] + out.spikes[:-1]
    for i in range(len(params["layers"]) - 1, -1, -1):
        layer = params["layers"][i]
        h_in = inputs[i]
        cur = h_in @ layer["w"].T + layer["b"]
        q = p._replace(alpha=float(layer.get("alpha", p.alpha)))
        g = backward(
            neuron, cur, g_h, q, layer.get("mat"), layer.get("mat_b"), spikes=out.spikes[i]
        )
        g_cur = g["x"]
        gl = {"w": np.einsum("tbo,tbi->oi", g_cur, h_in), "b": g_cur.sum(axis=(0, 1))}
        if neuron in LEARNED:
            gl["mat"], gl["mat_b"] = g["mat"], g["mat_b"]
        if neuron != "lif":
            gl["alpha"] = np.asarray(g["alpha"])
        grads["layers"][i] = gl
        g_h = g_cur @ layer["w"]
    return loss, grads, out
