"""The network of ``_net_jax.py`` in NumPy, serial simulator only: the reference that network
rows of the benchmark (and the tests) are checked against. Same merge rule and readout."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._common import LIFParams
from ._numpy import serial


class NetOut(NamedTuple):
    logits: np.ndarray
    counts: tuple
    spike_times: tuple  # per layer (B, N_l, S_l)


def merge_spikes(spike_times):
    b, n, s = spike_times.shape
    flat = spike_times.reshape(b, n * s)
    order = np.argsort(flat, axis=1, kind="stable")
    t = np.take_along_axis(flat, order, axis=1)
    fin = np.isfinite(t)
    return np.where(fin, t, 0.0), np.where(fin, order // max(s, 1), -1)


def readout(times, channels, w_out, params: LIFParams, tau_li: float):
    tm, ts = params.tau_mem, params.tau_syn
    gain = 1.0 / (tm * (1 / tau_li + 1 / tm) * (1 / tau_li + 1 / ts))
    pad = channels < 0
    wt = np.concatenate([w_out.T, np.zeros((1, w_out.shape[0]), w_out.dtype)])
    w = wt[np.where(pad, w_out.shape[1], channels)]
    decay = np.where(pad, 0.0, np.exp(-np.where(pad, 0.0, times) / tau_li))
    return gain * np.einsum("be,bec->bc", decay, w)


def network(
    times, channels, weights, w_out, params: LIFParams, delays=None, *, tau_li: float = 0.05
) -> NetOut:
    t, c = times, channels
    counts, trains = [], []
    for li, w in enumerate(weights):
        out = serial(t, c, w, params, delays=None if delays is None else delays[li])
        s = int(out.counts.max()) if out.counts.size else 0
        st = out.spike_times[..., : max(s, 1)]
        counts.append(out.counts)
        trains.append(st)
        t, c = merge_spikes(st)
    return NetOut(readout(t, c, w_out, params, tau_li), tuple(counts), tuple(trains))


def loss(times, channels, labels, weights, w_out, params, delays=None, **kw):
    out = network(times, channels, weights, w_out, params, delays, **kw)
    z = out.logits - out.logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -float(np.mean(logp[np.arange(len(labels)), labels])), out
