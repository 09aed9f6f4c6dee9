"""Seeded generators: deterministic, exact counts, canonical format, documented statistics."""

from __future__ import annotations

import numpy as np
import pytest
from spikebench import datasets


@pytest.mark.parametrize("name", sorted(datasets.DATASETS))
def test_deterministic_and_canonical(name):
    gen = datasets.get(name)
    a = gen(3, n_events=500, seed=11)
    b = gen(3, n_events=500, seed=11)
    c = gen(3, n_events=500, seed=12)
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(a.channels, b.channels)
    assert not np.array_equal(a.times, c.times)
    assert a.times.dtype == np.float64 and a.channels.dtype == np.int32
    assert a.counts.tolist() == [500, 500, 500]
    for s in range(3):
        t, ch = a.times[s], a.channels[s]
        assert np.all(np.isfinite(t)) and np.all(t >= 0) and np.all(t <= a.duration[s])
        assert np.all((ch >= 0) & (ch < a.n_channels))
        order = np.lexsort((ch, t))
        np.testing.assert_array_equal(order, np.arange(len(t)))  # sorted by (time, channel)


def test_poisson_window_and_rate():
    ev = datasets.poisson(2, n_events=14_000, n_channels=700, rate=20.0, seed=0)
    assert ev.duration.tolist() == [1.0, 1.0]
    ev2 = datasets.poisson(200, duration=0.5, n_channels=10, rate=20.0, seed=0)
    assert ev2.counts.mean() == pytest.approx(100, rel=0.05)
    # padding: trailing -1 channels after each sample's events
    for s, n in enumerate(ev2.counts):
        assert np.all(ev2.channels[s, n:] == -1)


def test_synthetic_shd_statistics():
    ev = datasets.synthetic_shd(20, seed=3)
    st = ev.stats()
    assert st["n_channels"] == 700
    assert 2000 < st["events_median"] < 8000
    assert 0.5 <= ev.duration.min() and ev.duration.max() <= 1.4
    assert st["tie_fraction"] > 0.2, "float16 times should tie as in the real files"
    t = ev.times[0, : ev.counts[0]]
    np.testing.assert_array_equal(t.astype(np.float16).astype(np.float64), t)
    assert ev.labels.min() >= 0 and ev.labels.max() < 20
    # inhomogeneous: channel occupancy far from flat
    hist = np.bincount(ev.channels[ev.channels >= 0], minlength=700)
    assert hist.std() > 2 * np.sqrt(hist.mean())


def test_synthetic_shd_stream_for_large_counts():
    ev = datasets.synthetic_shd(1, n_events=40_000, seed=0)
    assert ev.counts[0] == 40_000
    assert ev.duration[0] > 5.0, "a long count is a stream of utterances, not one crowded one"


@pytest.mark.parametrize("kwargs,match", [
    (dict(batch=0, n_events=10), "batch"),
    (dict(batch=1, n_events=-1), "n_events"),
    (dict(batch=1, n_events=10, seed=1.5), "seed"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.synthetic_shd(**kwargs)


def test_poisson_needs_count_or_duration():
    with pytest.raises(ValueError, match="exactly one"):
        datasets.poisson(1)
    with pytest.raises(ValueError, match="rate"):
        datasets.poisson(1, n_events=5, rate=-1.0)


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset"):
        datasets.get("mnist-in-3d")
