"""Seeded stand-ins for the recorded datasets (docs/guide/datasets.md, 'Generators'): same channels,
classes and on-disk time resolution as the real sets, and events per sample, duration and
per-channel rate profile from a statistics table — the defaults below, or the statistics
``spikebench datasets stats FILE --save stats.json`` measured on a real file (``stats=``).

Defaults (estimates, NOT measured here — no real file is on this machine; the README and the
note say so; measure yours and pass them):

============== ======== ========== ================ ========= ===========================
stand-in       channels duration   events / sample  time res. structure
============== ======== ========== ================ ========= ===========================
synthetic-ssc  700      0.8 s, sd  log-normal, med. float16   the SHD speech model, 35
                        0.12, in   3000, sigma 0.45           classes, single words of
                        0.3-1 s                               1 s Speech Commands clips
synthetic-     784      20 ms      ~150 (pixels of  exact     latency code of random
mnist-latency                      a stroke image)            stroke images
synthetic-     2x34x34  0.3 s      log-normal, med. 1 us      a blob over 3 saccades of
nmnist                             4000, sigma 0.3            100 ms each
synthetic-dvs- 2x128x128 6 s       log-normal, med. 1 us      a blob wandering for the
gesture                            2e5, sigma 0.5             whole clip
synthetic-     2x128x128 1.3 s     log-normal, med. 1 us      a blob over 4 saccades
cifar10-dvs                        2e5, sigma 0.4
============== ======== ========== ================ ========= ===========================

Camera stand-ins: every event picks a time from the saccade envelope, a position from a 2-D
Gaussian blob whose centre moves with the saccades, and a polarity (50/50); timestamps are
integer microseconds as the cameras record them, so ties appear at high rates. With measured
statistics, counts follow the measured log-normal, durations the measured mean / sd, and
channels the measured per-channel profile.
"""

from __future__ import annotations

import math

import numpy as np

from ._format import EventBatch, pack
from ._generators import SpeechDefaults, _check_common, speech
from ._idx import latency_code

CAMERA = {
    # name: (width, height, classes, duration s, events median, log sigma, saccades)
    "synthetic-nmnist": (34, 34, 10, 0.3, 4000.0, 0.3, 3),
    "synthetic-dvs-gesture": (128, 128, 11, 6.0, 2e5, 0.5, 1),
    "synthetic-cifar10-dvs": (128, 128, 10, 1.3, 2e5, 0.4, 4),
}


def _check(batch, seed):
    if int(batch) < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    if not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")


def _counts(rng, batch, n_events, median, sigma, stats):
    if n_events is not None:
        return [int(n_events)] * int(batch)
    if stats:
        median, sigma = math.exp(stats["events_log_mean"]), stats["events_log_sigma"]
    return [max(1, int(rng.lognormal(math.log(median), sigma))) for _ in range(int(batch))]


def _duration(rng, mean, stats):
    if stats:
        mean, sd = stats["duration_mean_s"], stats.get("duration_sd_s", 0.0)
        return float(max(1e-6, rng.normal(mean, sd)))
    return float(mean)


def camera(
    name: str,
    batch: int = 1,
    *,
    n_events: int | None = None,
    seed: int = 0,
    stats: dict | None = None,
) -> EventBatch:
    """An event-camera stand-in (see the module table); n_events fixes the count."""
    _check(batch, seed)
    w, h, n_classes, dur0, median, sigma, n_sacc = CAMERA[name]
    n_ch = 2 * w * h
    profile = _profile(stats, n_ch)
    rng = np.random.default_rng(seed)
    samples, durs, labels = [], [], []
    for count in _counts(rng, batch, n_events, median, sigma, stats):
        dur = _duration(rng, dur0, stats)
        # saccades: equal segments, each a linear sweep of the blob centre
        seg = rng.integers(0, n_sacc, count)
        u = rng.uniform(0.0, 1.0, count)
        t = np.floor((seg + u) / n_sacc * dur * 1e6) * 1e-6  # integer microseconds
        if profile is not None:
            ch = rng.choice(n_ch, size=count, p=profile)
        else:
            start = rng.uniform(0.3, 0.7, (n_sacc, 2)) * (w, h)
            step = rng.normal(0.0, 0.15, (n_sacc, 2)) * (w, h)
            centre = start[seg] + u[:, None] * step[seg]
            xy = np.rint(centre + rng.normal(0.0, 0.12 * w, (count, 2)))
            x = np.clip(xy[:, 0], 0, w - 1).astype(np.int64)
            y = np.clip(xy[:, 1], 0, h - 1).astype(np.int64)
            ch = (y * w + x) * 2 + rng.integers(0, 2, count)
        samples.append((t, ch))
        durs.append(dur)
        labels.append(int(rng.integers(0, n_classes)))
    return pack(samples, n_ch, name, durs, labels)


def _profile(stats, n_ch):
    if not stats or "channel_profile" not in stats:
        return None
    p = np.asarray(stats["channel_profile"], np.float64)
    if p.shape != (n_ch,) or np.any(p < 0) or not p.sum() > 0:
        raise ValueError(f"stats channel_profile must be {n_ch} non-negative weights")
    return p / p.sum()


SSC = SpeechDefaults(3000.0, 0.45, 0.8, 0.12, 0.3, 1.0)


def synthetic_ssc(
    batch: int = 1,
    *,
    n_events: int | None = None,
    seed: int = 0,
    n_channels: int = 700,
    stats: dict | None = None,
) -> EventBatch:
    """SSC stand-in: SHD's speech model with 35 classes, single words cut from 1 s clips (the
    SSC row of the module table; ``stats`` as for synthetic-shd), from its own random stream
    (never the samples of synthetic-shd relabelled)."""
    _check_common(batch, seed, n_events)
    return speech(
        batch,
        n_events=n_events,
        rng=np.random.default_rng([int(seed), 35]),
        n_channels=n_channels,
        n_classes=35,
        stats=stats,
        defaults=SSC,
        name="synthetic-ssc",
    )


def synthetic_mnist_latency(
    batch: int = 1, *, n_events: int | None = None, seed: int = 0, stats: dict | None = None
) -> EventBatch:
    """Latency-coded random stroke images: 3-5 thick strokes on 28 x 28 (about a fifth of the
    pixels lit, as in MNIST), coded exactly like the IDX reader does."""
    _check(batch, seed)
    if n_events is not None:
        raise ValueError(
            "mnist-latency samples hold one event per lit pixel: n_events cannot be set"
        )
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    samples, labels = [], []
    for _ in range(int(batch)):
        img = np.zeros((28, 28))
        for _ in range(int(rng.integers(3, 6))):
            a, b = rng.uniform(5, 23, 2), rng.uniform(5, 23, 2)
            s = np.linspace(0, 1, 40)[:, None]
            pts = a + s * (b - a)
            d = np.min(np.hypot(xx[..., None] - pts[:, 0], yy[..., None] - pts[:, 1]), -1)
            img = np.maximum(img, np.clip(1.6 - d / 1.2, 0, 1))
        samples.append(latency_code(np.rint(img * 255).astype(np.uint8)))
        labels.append(int(rng.integers(0, 10)))
    return pack(samples, 784, "synthetic-mnist-latency", [0.02] * int(batch), labels)
