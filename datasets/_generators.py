"""Seeded generators (docs/guide/datasets.md, 'Generators'): deterministic across machines and
frameworks because everything is drawn with NumPy's default_rng from the given seed.

poisson
    Homogeneous Poisson events on ``n_channels`` channels at ``rate`` Hz each. Given
    ``n_events`` the count is fixed and the window is ``n_events / (n_channels * rate)``
    seconds: conditioned on its count, a Poisson process is that many i.i.d. uniform times.

synthetic-shd
    A stand-in for Spiking Heidelberg Digits: 700 cochlear channels, utterances of
    0.5-1.4 s whose events follow an inhomogeneous rate lambda(channel, t): 3-5 formant-like
    bands whose centre channel drifts over the utterance, each gated by 1-3 syllable envelopes
    (Gaussian bumps in time), plus 5 % uniform background. Times are rounded to float16, as the
    real files store them, so ties are common (the real sets have ~1 ms float16 spacing near
    1 s). With ``n_events`` larger than one utterance holds, a sample is a stream of
    back-to-back utterances (event density stays speech-like instead of piling up ties).
    Events per utterance: log-normal, median 4000 (the spec's estimate for SHD is 1e3-1e4
    per sample; replace with measured statistics once a real file is at hand).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._format import EventBatch, pack

SHD_CHANNELS = 700
SHD_EVENTS_MEDIAN = 4000.0
SHD_EVENTS_SIGMA = 0.4


def _check_common(batch, seed, n_events):
    if int(batch) < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    if n_events is not None and int(n_events) < 0:
        raise ValueError(f"n_events must be >= 0, got {n_events}")
    if not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")


def poisson(
    batch: int = 1,
    *,
    n_events: int | None = None,
    n_channels: int = 700,
    rate: float = 20.0,
    duration: float | None = None,
    seed: int = 0,
) -> EventBatch:
    """Homogeneous Poisson input; give exactly one of n_events (fixed count) or duration."""
    _check_common(batch, seed, n_events)
    if n_channels < 1:
        raise ValueError(f"n_channels must be >= 1, got {n_channels}")
    if not (rate > 0 and math.isfinite(rate)):
        raise ValueError(f"rate must be a positive finite number, got {rate}")
    if (n_events is None) == (duration is None):
        raise ValueError("give exactly one of n_events or duration")
    rng = np.random.default_rng(seed)
    samples, durs = [], []
    for _ in range(int(batch)):
        if n_events is not None:
            count = int(n_events)
            dur = count / (n_channels * rate)
        else:
            if not duration > 0:
                raise ValueError(f"duration must be > 0, got {duration}")
            dur = float(duration)
            count = int(rng.poisson(n_channels * rate * dur))
        samples.append((rng.uniform(0.0, dur, count), rng.integers(0, n_channels, count)))
        durs.append(dur)
    return pack(samples, n_channels, "poisson", durs)


def _utterance(
    rng,
    n_events: int,
    n_channels: int,
    dur_mean: float = 0.95,
    dur_sd: float = 0.18,
    profile=None,
    bounds=(0.5, 1.4),
):
    """One speech-like utterance with exactly n_events events: (times, channels, duration).
    With a measured per-channel profile the bands start on channels drawn from it."""
    lo, hi = bounds if profile is None else (0.2 * dur_mean, 3.0 * dur_mean)
    dur = float(np.clip(rng.normal(dur_mean, dur_sd), lo, hi))
    n_bands = int(rng.integers(3, 6))
    grid = np.linspace(0.0, dur, 256)
    # syllable envelopes shared by the bands of one utterance
    n_syl = int(rng.integers(1, 4))
    centres = np.sort(rng.uniform(0.15, 0.85, n_syl)) * dur
    widths = rng.uniform(0.05, 0.15, n_syl) * dur
    env = np.exp(-0.5 * ((grid[:, None] - centres) / widths) ** 2).sum(1) + 1e-3
    start = (
        rng.uniform(0.05, 0.9, n_bands) * n_channels
        if profile is None
        else rng.choice(n_channels, size=n_bands, p=profile).astype(np.float64)
    )
    drift = rng.normal(0.0, 0.08, n_bands) * n_channels
    bw = rng.uniform(8.0, 40.0, n_bands)
    amp = rng.uniform(0.3, 1.0, n_bands)
    n_bg = int(round(0.05 * n_events))
    n_fg = n_events - n_bg
    band = rng.choice(n_bands, size=n_fg, p=amp / amp.sum())
    cdf = np.cumsum(env)
    cdf /= cdf[-1]
    t_fg = np.interp(rng.uniform(0, 1, n_fg), cdf, grid)
    centre = start[band] + drift[band] * (t_fg / dur)
    c_fg = np.rint(centre + bw[band] * rng.standard_normal(n_fg))
    c_fg = np.clip(c_fg, 0, n_channels - 1)
    t = np.concatenate([t_fg, rng.uniform(0, dur, n_bg)])
    c = np.concatenate([c_fg, rng.integers(0, n_channels, n_bg)]).astype(np.int64)
    t = np.minimum(t.astype(np.float16).astype(np.float64), dur)  # the files' float16 grid
    return t, c, dur


class SpeechDefaults(NamedTuple):
    """A speech stand-in's defaults (estimates until replaced by measured ``stats``)."""

    events_median: float  # events per utterance: log-normal median ...
    events_sigma: float  # ... and log sigma
    dur_mean: float  # utterance duration (s): normal mean, sd, clipped to [lo, hi]
    dur_sd: float
    dur_lo: float
    dur_hi: float


SHD = SpeechDefaults(SHD_EVENTS_MEDIAN, SHD_EVENTS_SIGMA, 0.95, 0.18, 0.5, 1.4)


def synthetic_shd(
    batch: int = 1,
    *,
    n_events: int | None = None,
    seed: int = 0,
    n_channels: int = SHD_CHANNELS,
    n_classes: int = 20,
    stats: dict | None = None,
) -> EventBatch:
    """SHD-like speech events; n_events fixes the count per sample (a stream of utterances).
    ``stats`` (from ``spikebench datasets stats FILE --save``) replaces the defaults: events
    per utterance log-normal with the measured log mean / sigma, durations normal with the
    measured mean / sd, formant bands starting on channels drawn from the measured profile."""
    _check_common(batch, seed, n_events)
    return speech(
        batch,
        n_events=n_events,
        rng=np.random.default_rng(seed),
        n_channels=n_channels,
        n_classes=n_classes,
        stats=stats,
        defaults=SHD,
        name="synthetic-shd",
    )


def speech(
    batch: int,
    *,
    n_events: int | None,
    rng,
    n_channels: int,
    n_classes: int,
    stats: dict | None,
    defaults: SpeechDefaults,
    name: str,
) -> EventBatch:
    """`batch` speech-like samples from `rng` (the model of the module docstring)."""
    median, sigma, dur_mean, dur_sd = defaults[:4]
    profile = None
    if stats:
        median, sigma = math.exp(stats["events_log_mean"]), stats["events_log_sigma"]
        dur_mean, dur_sd = stats["duration_mean_s"], stats.get("duration_sd_s", 0.0)
        if "channel_profile" in stats:
            profile = np.asarray(stats["channel_profile"], np.float64)
            if profile.shape != (n_channels,) or np.any(profile < 0) or not profile.sum() > 0:
                raise ValueError(f"stats channel_profile must be {n_channels} non-negative weights")
            profile = profile / profile.sum()
    samples, durs, labels = [], [], []
    for _ in range(int(batch)):
        if n_events is None:
            per = [max(1, int(rng.lognormal(math.log(median), sigma)))]
        else:
            m = max(1, round(int(n_events) / median))
            per = [int(n_events) // m + (1 if j < int(n_events) % m else 0) for j in range(m)]
        ts, cs, offset = [], [], 0.0
        for count in per:
            t, c, dur = _utterance(
                rng,
                count,
                n_channels,
                dur_mean,
                dur_sd,
                profile,
                (defaults.dur_lo, defaults.dur_hi),
            )
            ts.append(t + offset)
            cs.append(c)
            offset += dur
        samples.append((np.concatenate(ts), np.concatenate(cs)))
        durs.append(offset)
        labels.append(int(rng.integers(0, n_classes)))
    return pack(samples, n_channels, name, durs, labels)
