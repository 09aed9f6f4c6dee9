"""The canonical in-memory event format (docs/guide/datasets.md)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class EventBatch(NamedTuple):
    """A batch of event samples in the padded layout every kernel takes.

    times:    (B, E) float64 seconds, sorted by (time, channel) within a sample; padding: 0.
    channels: (B, E) int32 in [0, n_channels); padding: -1 (trailing).
    counts:   (B,) real events per sample.
    duration: (B,) seconds covered by each sample.
    labels:   (B,) int32 class labels (-1 where the set has none).
    """

    times: np.ndarray
    channels: np.ndarray
    counts: np.ndarray
    duration: np.ndarray
    labels: np.ndarray
    n_channels: int
    name: str

    def stats(self) -> dict:
        """Events per sample (mean/median/max), duration, and the fraction of events that share
        their time with an earlier event of the same sample (ties)."""
        ties = 0
        for b, c in enumerate(self.counts):
            t = self.times[b, :c]
            ties += int(np.count_nonzero(np.diff(t) == 0))
        total = int(self.counts.sum())
        return {
            "dataset": self.name,
            "n_samples": int(len(self.counts)),
            "n_channels": int(self.n_channels),
            "events_mean": float(np.mean(self.counts)) if len(self.counts) else 0.0,
            "events_median": float(np.median(self.counts)) if len(self.counts) else 0.0,
            "events_max": int(np.max(self.counts)) if len(self.counts) else 0,
            "duration_mean_s": float(np.mean(self.duration)) if len(self.duration) else 0.0,
            "tie_fraction": ties / total if total else 0.0,
        }


def integers(values, what: str, where: str, events: bool = True) -> np.ndarray:
    """`values` as int64, refusing what a cast would silently change: a non-numeric dtype
    (strings, objects) or a float that is not integral (label -0.5 -> 0, unit 12.7 -> 12,
    x = 1.9 -> 1). ValueError names `where` (file, sample), the field and the value."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64)
    if arr.dtype.kind != "f":
        raise ValueError(f"{where}: {what} must be integers, got dtype {arr.dtype}")
    bad = ~np.isfinite(arr) | (arr != np.round(arr))
    if np.any(bad):
        k = int(np.argmax(bad.ravel()))
        at = f" at event {k}" if events else ""
        raise ValueError(f"{where}: {what} = {arr.ravel()[k].item()!r}{at} is not an integer")
    return arr.astype(np.int64)


def seconds(values, where: str) -> np.ndarray:
    """Event times as float64 (float16 is cast first, before any arithmetic); ValueError
    naming `where` for a non-numeric dtype (e.g. times stored as strings)."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{where}: times must be numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64)


def pack(samples, n_channels: int, name: str, durations, labels=None) -> EventBatch:
    """Pad a list of (times, channels) samples into an EventBatch, sorting by (time, channel)."""
    n = len(samples)
    e = max((len(t) for t, _ in samples), default=0)
    times = np.zeros((n, e), np.float64)
    chans = np.full((n, e), -1, np.int32)
    counts = np.zeros(n, np.int64)
    for b, (t, c) in enumerate(samples):
        order = np.lexsort((c, t))
        times[b, : len(t)] = np.asarray(t, np.float64)[order]
        chans[b, : len(t)] = np.asarray(c, np.int32)[order]
        counts[b] = len(t)
    lab = np.full(n, -1, np.int32) if labels is None else np.asarray(labels, np.int32)
    return EventBatch(
        times, chans, counts, np.asarray(durations, np.float64), lab, int(n_channels), name
    )


def binned(
    batch: EventBatch, dt: float, n_bins: int | None = None, *, binary: bool = False
) -> np.ndarray:
    """The discrete-time view [T, B, C] for the PSU family and clock-driven networks: event
    counts per time bin [k dt, (k + 1) dt), or spikes clipped to 0/1 with ``binary=True``.
    T defaults to ceil(max duration / dt); events at or after T dt are dropped (say so by
    choosing T). float32 counts."""
    if not (dt > 0 and np.isfinite(dt)):
        raise ValueError(f"dt must be a positive finite number, got {dt}")
    if n_bins is None:
        longest = float(np.max(batch.duration)) if len(batch.duration) else 0.0
        n_bins = max(1, int(np.ceil(longest / dt)))
    if int(n_bins) < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    n_b = batch.times.shape[0]
    out = np.zeros((int(n_bins), n_b, batch.n_channels), np.float32)
    valid = batch.channels >= 0
    k = np.floor(batch.times / dt).astype(np.int64)
    keep = valid & (k < n_bins)
    b_idx = np.broadcast_to(np.arange(n_b)[:, None], batch.times.shape)
    np.add.at(out, (k[keep], b_idx[keep], batch.channels[keep]), 1.0)
    return np.minimum(out, 1.0) if binary else out


def binned_span(batch: EventBatch, n_bins: int) -> np.ndarray:
    """Event counts [T, B, C] in T = `n_bins` equal bins over each sample's own duration
    (a sample of any length becomes T steps: how clock-driven benchmarks with a fixed number
    of steps take recorded samples). Event t of a sample of duration D goes to bin
    min(floor(t / D * T), T - 1), so every event is counted exactly once. float32 counts."""
    if int(n_bins) < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    t = int(n_bins)
    n_b = batch.times.shape[0]
    out = np.zeros((t, n_b, batch.n_channels), np.float32)
    valid = batch.channels >= 0
    dur = np.maximum(np.asarray(batch.duration, np.float64), 1e-300)[:, None]
    k = np.minimum((batch.times / dur * t).astype(np.int64), t - 1)
    b_idx = np.broadcast_to(np.arange(n_b)[:, None], batch.times.shape)
    np.add.at(out, (k[valid], b_idx[valid], batch.channels[valid]), 1.0)
    return out


def measure_source(source, name: str, limit: int | None = None, block: int = 256) -> dict:
    """Statistics of a reader's samples (the first `limit`, read in blocks): EventBatch.stats
    plus what a stand-in generator needs to follow them — the log-normal fit of events per
    sample (``events_log_mean``, ``events_log_sigma``), ``duration_sd_s`` and the
    per-channel rate profile ``channel_profile`` (fractions of all events)."""
    n = len(source) if limit is None else min(int(limit), len(source))
    if n < 1:
        raise ValueError(f"{name}: no sample to measure")
    counts, durs, ties, hist = [], [], 0.0, None
    for start in range(0, n, block):
        b = source.load(range(start, min(n, start + block)))
        counts += b.counts.tolist()
        durs += b.duration.tolist()
        ties += b.stats()["tie_fraction"] * int(b.counts.sum())
        h = np.bincount(b.channels[b.channels >= 0], minlength=b.n_channels)
        hist = h if hist is None else hist + h
    counts = np.asarray(counts, np.float64)
    logs = np.log(np.maximum(counts, 1.0))
    total = counts.sum()
    return {
        "dataset": name,
        "n_samples": int(n),
        "n_channels": int(len(hist)),
        "events_mean": float(counts.mean()),
        "events_median": float(np.median(counts)),
        "events_max": int(counts.max()),
        "events_log_mean": float(logs.mean()),
        "events_log_sigma": float(logs.std()),
        "duration_mean_s": float(np.mean(durs)),
        "duration_sd_s": float(np.std(durs)),
        "tie_fraction": float(ties / total) if total else 0.0,
        "channel_profile": (hist / max(total, 1.0)).tolist(),
    }
