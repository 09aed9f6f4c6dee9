"""NumPy float64 references of the peers' own equations (the neuron-level PSU cases).

Each function takes the case's input current X [T, M] (time-major, every other axis
flattened) and the family's parameters (a = 1/tau, b = 1 - 1/tau, theta) and returns
``(spikes, u)``: the spike train a library computes under the adapter's mapping and, for each
entry, the value its threshold compares with 0 (so a spike that rounding may flip lies where
|u| is tiny). No code is shared with the libraries or with the family's own reference.

snnTorch ``Leaky(beta=b, threshold=theta, reset_mechanism="subtract", reset_delay=False)`` fed
a X (``snntorch_leaky``)::

    r[t] = H(M[t-1] - theta)                 # the reset signal of the previous membrane
    M'[t] = b M[t-1] + a X[t] - theta r[t];  S[t] = H(M'[t] - theta)
    M[t] = M'[t] - theta (S[t] - r[t])       # = b M[t-1] + a X[t] - theta S[t]

It equals discrete LIF with soft reset (``H[t] = b V[t-1] + a X[t]; S = H(H - theta);
V = H - theta S``) except where the post-reset membrane M[t-1] still exceeds theta: there it
compares M'[t] = H[t] - theta with theta, not H[t] -- the reset of the previous step is
applied a second time before the comparison (and then undone).

spyx ``nn.LIF(beta=b, threshold=theta)`` fed a X (``spyx_lif``)::

    S[t] = H(V[t-1] - theta);  V[t] = b V[t-1] + a X[t] - theta S[t]

a spike is read from the membrane *before* the step's input (so S[t] depends on X[..t-1]
only) and the reset subtracts theta after the leak (discrete LIF subtracts it before, i.e.
b theta after).

spyx ``experimental.ParallelResetLIF(beta=b, threshold=theta).parallel(a X, K)`` (``spyx_fpt``):
the fixed-point iteration of spyx's LIF, U[t] = sum_{j<t} b^(t-1-j) a X[j],
S0 = H(U - theta), S_k = H(U - R_k - theta) with R_k[t] = theta sum_{j<t} b^(t-1-j) S_{k-1}[j],
k = 1..K; equal to ``spyx_lif`` from K >= T on.

spyx ``PSU_LIF(beta=b, threshold=theta).parallel(a X)`` (``spyx_psu_lif``): the reset-free
leaky integrator V[t] = b V[t-1] + a X[t], S = H(V - theta).

SpikingJelly ``PSN(T)`` with weight W and bias c (``psn``): H = W X + c, S = H(H >= 0);
``MaskedPSN(k, T, lambda_init=1)`` (``masked_psn``): the same with W * M_k, M_k[i, j] = 1 for
j <= i <= j + k - 1. SpikingJelly's Heaviside counts 0 as a spike (>=); every other library
here, and spikebench, counts only > 0.
"""

from __future__ import annotations

import numpy as np


def _flat(x) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return x.reshape(x.shape[0], -1)


def _leaky(inp: np.ndarray, b: float) -> np.ndarray:
    """V[t] = b V[t-1] + inp[t], V[-1] = 0 (a loop: the reference needs no scan)."""
    out = np.empty_like(inp)
    v = np.zeros(inp.shape[1:])
    for t in range(inp.shape[0]):
        v = b * v + inp[t]
        out[t] = v
    return out


def _shifted(v: np.ndarray) -> np.ndarray:
    return np.concatenate([np.zeros_like(v[:1]), v[:-1]])


def snntorch_leaky(x, a: float, b: float, theta: float):
    xf = _flat(x)
    m = np.zeros(xf.shape[1])
    s_all, u_all = np.empty_like(xf), np.empty_like(xf)
    for t in range(xf.shape[0]):
        r = (m - theta > 0).astype(np.float64)
        m1 = b * m + a * xf[t] - theta * r
        s = (m1 - theta > 0).astype(np.float64)
        m = m1 - theta * (s - r)
        s_all[t], u_all[t] = s, m1 - theta
    return s_all, u_all


def spyx_lif(x, a: float, b: float, theta: float):
    xf = _flat(x)
    v = np.zeros(xf.shape[1])
    s_all, u_all = np.empty_like(xf), np.empty_like(xf)
    for t in range(xf.shape[0]):
        s = (v - theta > 0).astype(np.float64)
        s_all[t], u_all[t] = s, v - theta
        v = b * v + a * xf[t] - theta * s
    return s_all, u_all


def spyx_fpt(x, a: float, b: float, theta: float, k: int):
    u = _shifted(_leaky(a * _flat(x), b))
    s = (u - theta > 0).astype(np.float64)
    d = u - theta
    for _ in range(k):
        d = u - _shifted(_leaky(theta * s, b)) - theta
        s = (d > 0).astype(np.float64)
    return s, d


def spyx_psu_lif(x, a: float, b: float, theta: float):
    v = _leaky(a * _flat(x), b)
    return (v - theta > 0).astype(np.float64), v - theta


def masked(w, k: int | None) -> np.ndarray:
    """W * M_k (the band j <= i <= j + k - 1); W itself for k None."""
    w = np.asarray(w, np.float64)
    if k is None:
        return w
    i, j = np.indices(w.shape)
    return w * ((j <= i) & (i <= j + k - 1))


def psn(x, w, c, k: int | None = None):
    h = masked(w, k) @ _flat(x) + np.asarray(c, np.float64).reshape(-1, 1)
    return (h >= 0).astype(np.float64), h
