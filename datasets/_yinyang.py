"""The Yin-Yang dataset (Kriener, Goeltz and Petrovici 2021), generated — it has no files.

Geometry (the published definition): points (x, y) uniform in the disc of radius R = 0.5
centred at (0.5, 0.5) inside the unit square, dots of radius r = 0.1 centred at (0.25, 0.5)
(left) and (0.75, 0.5) (right). With d_l, d_r the distances to the dot centres:

    dot   if d_r < r or d_l < r
    yin   if d_r <= r, or r < d_l <= R / 2, or (y > R and d_r > R / 2)
    yang  otherwise

Classes are balanced as in the published generator: each sample first draws its class
uniformly, then rejection-samples points in the disc until one falls in that class. Labels:
0 yin, 1 yang, 2 dot. Usual split: 5000 / 1000 / 1000 with different seeds.

Spike-time encoding (Goeltz et al. 2021's setting): the four inputs (x, y, 1 - x, 1 - y), each
in [0, 1], spike once on channels 0 .. 3 at t = t_early + v (t_late - t_early) — a LARGER value
spikes LATER — with t_early = 0.15 tau and t_late = 2 tau, tau = 5 ms; channel 4 is a bias
spike at 0.9 tau. Five channels, five events per sample, sorted by (time, channel).
"""

from __future__ import annotations

import numpy as np

from ._format import EventBatch, pack

R_BIG, R_SMALL = 0.5, 0.1
TAU = 0.005  # s
T_EARLY, T_LATE, T_BIAS = 0.15 * TAU, 2.0 * TAU, 0.9 * TAU
CLASSES = ("yin", "yang", "dot")


def which_class(x, y):
    """0 yin, 1 yang, 2 dot for points inside the disc (vectorised)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    d_r = np.hypot(x - 1.5 * R_BIG, y - R_BIG)
    d_l = np.hypot(x - 0.5 * R_BIG, y - R_BIG)
    yin = (
        (d_r <= R_SMALL)
        | ((d_l > R_SMALL) & (d_l <= 0.5 * R_BIG))
        | ((y > R_BIG) & (d_r > 0.5 * R_BIG))
    )
    dot = (d_r < R_SMALL) | (d_l < R_SMALL)
    return np.where(dot, 2, np.where(yin, 0, 1)).astype(np.int32)


def points(n: int, seed: int = 0):
    """n balanced (x, y, label) samples: per sample a uniform class, then rejection."""
    if int(n) < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    goals = rng.integers(0, 3, int(n))
    xy = np.empty((int(n), 2))
    for i, goal in enumerate(goals):
        while True:
            x, y = rng.uniform(0.0, 2 * R_BIG, 2)
            if np.hypot(x - R_BIG, y - R_BIG) <= R_BIG and which_class(x, y) == goal:
                xy[i] = x, y
                break
    return xy[:, 0], xy[:, 1], goals.astype(np.int32)


def encode(x, y):
    """Spike times [n, 5] of the inputs (x, y, 1 - x, 1 - y) and the bias."""
    v = np.stack([x, y, 1 - x, 1 - y], axis=1)
    t = T_EARLY + v * (T_LATE - T_EARLY)
    return np.concatenate([t, np.full((len(v), 1), T_BIAS)], axis=1)


def yinyang(batch: int = 1, *, n_events: int | None = None, seed: int = 0) -> EventBatch:
    """`batch` Yin-Yang samples as events (5 per sample: n_events must be None or 5)."""
    if int(batch) < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    if n_events not in (None, 5):
        raise ValueError(f"Yin-Yang samples hold exactly 5 events, got n_events={n_events}")
    x, y, labels = points(batch, seed)
    t = encode(x, y)
    ch = np.arange(5)
    return pack([(row, ch) for row in t], 5, "yinyang", [T_LATE] * int(batch), labels)
