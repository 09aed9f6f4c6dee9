"""The plain-loop reference: one lane (sample, neuron) at a time, Python floats, no tricks.

This is the serial algorithm of docs/families/event_lif.md written as directly as possible —
no vectorisation, no candidate filter, no compaction — so that it checks the vectorised kernels
(``_numpy``, ``_jax``, ``_torch``) rather than sharing their bugs. It is itself checked against
an ODE solver with event detection (tests/kernels/test_event_lif_oracle.py).

Because lanes of one layer do not interact, the reference can be run on any subset of lanes;
the benchmark harness uses that to check every row at every size in bounded time.
"""

from __future__ import annotations

import math

import numpy as np

from ._common import NEWTON_MAX_ITER, Derived, LIFParams, derive, touch_level

EPS = float(np.finfo(np.float64).eps)  # Python floats are float64


def _g(y: float) -> float:
    """expm1(y)/y with g(0) = 1."""
    return 1.0 + y * (0.5 + y * (1.0 / 6.0 + y / 24.0)) if abs(y) < 1e-4 else math.expm1(y) / y


def _h(x: float) -> float:
    """log1p(x)/x with h(0) = 1."""
    return 1.0 - x * (0.5 - x * (1.0 / 3.0 - x / 4.0)) if abs(x) < 1e-4 else math.log1p(x) / x


def _v(k: Derived, v0: float, i0: float, d: float) -> float:
    return math.exp(-d / k.tau_mem) * v0 + i0 * math.exp(-d * k.inv_slow) * (d / k.tau_mem) * _g(
        -k.abs_r * d
    )


def _first_crossing(k: Derived, v0: float, i0: float, length: float, t0: float):
    """Elapsed time of the first V = theta in [0, length] from (v0 < theta, i0), or None."""
    if i0 <= k.theta or length <= 0:
        return None
    den = i0 + k.r * k.tau_mem * v0
    if den <= 0:  # no stationary point: V rises monotonically towards 0 < theta
        return None
    c = k.tau_mem * (i0 - v0) / den
    hi = min(c * _h(k.r * c), length)
    if _v(k, v0, i0, hi) < touch_level(k.theta, EPS):  # the crossing rule (_common)
        return None
    d = 0.0
    eps = EPS
    for _ in range(NEWTON_MAX_ITER):
        v = _v(k, v0, i0, d)
        f = v - k.theta
        fp = (i0 * math.exp(-d / k.tau_syn) - v) / k.tau_mem
        if f >= 0 or fp <= 0:
            break
        d_new = min(d - f / fp, hi)
        done = d_new - d <= 4 * eps * (abs(t0) + d_new)
        d = d_new
        if done:
            break
    return d


def lane(k: Derived, arrivals, weights, t_end: float) -> list[float]:
    """Spike times of one neuron fed (arrival time, weight) pairs sorted by time."""
    v, i, t, rend = k.v_reset, 0.0, 0.0, -math.inf
    out: list[float] = []

    def run_to(t1: float):
        nonlocal v, i, t, rend
        still = False
        while True:
            s = min(max(t, rend), t1)  # free evolution starts after the refractory period
            i_s = i * math.exp(-(s - t) / k.tau_syn)
            v_s = k.v_reset if rend > t else v
            d = _first_crossing(k, v_s, i_s, t1 - s, s)
            if d is None:
                break
            if not (s + d > t):  # rounds onto the current time; twice in a row: stuck
                if still:
                    raise ValueError("spike times stopped advancing in float64")
                still = True
            else:
                still = False
            out.append(s + d)
            v, i, t, rend = k.v_reset, i_s * math.exp(-d / k.tau_syn), s + d, s + d + k.t_ref
        if math.isinf(t1 - s):
            v, i = 0.0, 0.0
        else:
            v, i = _v(k, v_s, i_s, t1 - s), i_s * math.exp(-(t1 - s) / k.tau_syn)
        t = t1

    for ta, w in zip(arrivals, weights, strict=True):
        if ta > t_end:
            break
        run_to(ta)
        i += w
    run_to(t_end)
    return out


def serial_lanes(
    times, channels, weights, params: LIFParams, delays=None, t_end=math.inf, lanes=None
) -> dict[tuple[int, int], list[float]]:
    """Reference spike times for the given lanes [(b, n), ...] (all lanes when None).

    Inputs as the kernels take them, batched: times (B, E) float64, channels (B, E) (-1 pads).
    """
    k = derive(params)
    times = np.asarray(times, np.float64)
    channels = np.asarray(channels)
    weights = np.asarray(weights, np.float64)
    b_size, n_out = times.shape[0], weights.shape[0]
    if lanes is None:
        lanes = [(b, n) for b in range(b_size) for n in range(n_out)]
    out = {}
    for b, n in lanes:
        real = channels[b] >= 0
        t, ch = times[b][real], channels[b][real]
        arr = t + (delays[n, ch] if delays is not None else 0.0)
        order = np.argsort(arr, kind="stable")
        out[(b, n)] = lane(k, arr[order].tolist(), weights[n, ch][order].tolist(), t_end)
    return out
