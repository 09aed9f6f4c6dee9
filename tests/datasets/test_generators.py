"""Seeded generators: deterministic, exact counts, canonical format, documented statistics."""

from __future__ import annotations

import numpy as np
import pytest
from spikebench import datasets


@pytest.mark.parametrize("name", sorted(datasets.DATASETS))
def test_deterministic_and_canonical(name):
    gen = datasets.get(name).generate
    # a Yin-Yang sample holds exactly 5 events, a latency-coded image one per lit pixel
    n = {"yinyang": 5, "timing": 12, "synthetic-mnist-latency": None}.get(name, 500)
    a = gen(3, n_events=n, seed=11)
    b = gen(3, n_events=n, seed=11)
    c = gen(3, n_events=n, seed=12)
    n = n or a.counts[0]
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(a.channels, b.channels)
    assert not np.array_equal(a.times, c.times)
    assert a.times.dtype == np.float64 and a.channels.dtype == np.int32
    if name != "synthetic-mnist-latency":
        assert a.counts.tolist() == [n, n, n]
    for s in range(3):
        t, ch = a.times[s, : a.counts[s]], a.channels[s, : a.counts[s]]
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


def test_synthetic_ssc_is_its_own_speech_set():
    ev, shd = datasets.load("synthetic-ssc", 64, seed=3), datasets.synthetic_shd(64, seed=3)
    assert ev.name == "synthetic-ssc" and ev.n_channels == 700
    assert 0.3 <= ev.duration.min() and ev.duration.max() <= 1.0  # words cut from 1 s clips
    assert ev.labels.max() < 35 and len(set(ev.labels.tolist())) > 20
    assert 1500 < ev.stats()["events_median"] < 5000
    assert not np.array_equal(ev.counts, shd.counts)  # never SHD's samples relabelled
    assert datasets.stream("synthetic-ssc", 2, 10_000).counts.tolist() == [10_000, 10_000]


def test_synthetic_shd_stream_for_large_counts():
    ev = datasets.synthetic_shd(1, n_events=40_000, seed=0)
    assert ev.counts[0] == 40_000
    assert ev.duration[0] > 5.0, "a long count is a stream of utterances, not one crowded one"


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(batch=0, n_events=10), "batch"),
        (dict(batch=1, n_events=-1), "n_events"),
        (dict(batch=1, n_events=10, seed=1.5), "seed"),
    ],
)
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


# -- Yin-Yang: the published geometry and balance ----------------------------------------------


@pytest.mark.parametrize(
    "x,y,label",
    [
        (0.25, 0.5, 2),
        (0.75, 0.5, 2),  # the dots' centres
        (0.32, 0.5, 2),
        (0.75, 0.59, 2),  # inside the dots (radius 0.1)
        (0.5, 0.9, 0),
        (0.25, 0.65, 0),  # upper half away from the right eye; ring of left
        (0.5, 0.1, 1),
        (0.75, 0.35, 1),  # lower half; around the right dot
    ],
)
def test_yinyang_regions_follow_the_published_geometry(x, y, label):
    from spikebench.datasets import _yinyang

    assert int(_yinyang.which_class(x, y)) == label


def test_yinyang_samples_are_balanced_inside_the_disc_and_encoded_as_documented():
    from spikebench.datasets import _yinyang

    x, y, labels = _yinyang.points(3000, seed=5)
    assert np.all(np.hypot(x - 0.5, y - 0.5) <= 0.5)
    np.testing.assert_array_equal(_yinyang.which_class(x, y), labels)
    frac = np.bincount(labels, minlength=3) / 3000
    assert np.all(np.abs(frac - 1 / 3) < 0.03)  # ~3.5 sigma of a fair 3-way draw
    ev = datasets.load("yinyang", 4, seed=5)
    x4, y4, l4 = _yinyang.points(4, seed=5)
    np.testing.assert_array_equal(ev.labels, l4)
    assert ev.n_channels == 5 and ev.counts.tolist() == [5] * 4
    for b in range(4):
        t = dict(zip(ev.channels[b].tolist(), ev.times[b].tolist(), strict=True))
        lo, hi = _yinyang.T_EARLY, _yinyang.T_LATE
        assert t[0] == pytest.approx(lo + x4[b] * (hi - lo))  # larger value: later spike
        assert t[3] == pytest.approx(lo + (1 - y4[b]) * (hi - lo))
        assert t[4] == _yinyang.T_BIAS
    with pytest.raises(ValueError, match="exactly 5 events"):
        datasets.load("yinyang", 1, n_events=10)


def test_binned_view_counts_every_event_once():
    ev = datasets.synthetic_shd(2, n_events=3000, seed=1)
    dt = 1e-3
    x = datasets.binned(ev, dt)
    assert x.shape == (int(np.ceil(ev.duration.max() / dt)), 2, 700) and x.dtype == np.float32
    assert x.sum() == 6000  # float16 ties land in the same bin: counts, not 0/1
    assert x.max() > 1
    b = datasets.binned(ev, dt, binary=True)
    assert b.max() == 1 and b.sum() == np.count_nonzero(x)
    k = int(np.floor(ev.times[1, 0] / dt))
    assert x[k, 1, ev.channels[1, 0]] >= 1
    short = datasets.binned(ev, dt, 10)
    assert short.shape[0] == 10 and short.sum() < 6000  # events past T dt are not kept
    with pytest.raises(ValueError, match="dt must be"):
        datasets.binned(ev, 0.0)


def test_binned_span_stretches_each_sample_onto_T_steps():
    ev = datasets.synthetic_shd(3, seed=1)  # samples of different lengths, padded rows
    x = datasets.binned_span(ev, 15)
    assert x.shape == (15, 3, 700) and x.dtype == np.float32
    assert np.array_equal(x.sum(axis=(0, 2)), ev.counts)  # every event once, padding never
    # an event at t = duration lands in the last bin; one at t = 0.5 duration in bin T / 2
    one = datasets.pack([(np.array([0.0, 0.5, 1.0]), np.array([0, 1, 2]))], 3, "x", [1.0])
    y = datasets.binned_span(one, 4)[:, 0, :]
    assert y[0, 0] == 1 and y[2, 1] == 1 and y[3, 2] == 1 and y.sum() == 3
    with pytest.raises(ValueError, match="n_bins must be >= 1, got 0"):
        datasets.binned_span(ev, 0)


@pytest.mark.parametrize(
    "name", ["synthetic-nmnist", "synthetic-dvs-gesture", "synthetic-cifar10-dvs"]
)
def test_camera_stand_ins_follow_their_table(name):
    from spikebench.datasets import _standins

    w, h, n_classes, dur, median, sigma, _ = _standins.CAMERA[name]
    ev = datasets.load(name, 6, seed=2)
    assert ev.n_channels == 2 * w * h and np.all(ev.duration == dur)
    assert median * np.exp(-3 * sigma) < np.median(ev.counts) < median * np.exp(3 * sigma)
    assert ev.labels.max() < n_classes
    t = ev.times[0, : ev.counts[0]]
    assert np.abs(t * 1e6 - np.round(t * 1e6)).max() < 1e-6  # integer microseconds
    assert ev.stats()["tie_fraction"] > 0  # camera timestamps collide at these rates
    # a blob, not uniform noise: most events on a small part of the sensor
    hist = np.bincount(ev.channels[0, : ev.counts[0]], minlength=ev.n_channels)
    assert np.count_nonzero(hist) < 0.8 * ev.n_channels
    n_ev = datasets.load(name, 2, n_events=1234, seed=2)
    assert n_ev.counts.tolist() == [1234, 1234]


def test_mnist_stand_in_is_latency_coded_like_the_reader():
    ev = datasets.load("synthetic-mnist-latency", 20, seed=0)
    assert 80 < ev.counts.mean() < 250  # about a fifth of 784 pixels
    for b in range(3):
        t = ev.times[b, : ev.counts[b]]
        assert t.min() >= 0 and t.max() < 0.02
        assert len(set(ev.channels[b, : ev.counts[b]].tolist())) == ev.counts[b]  # one each
    with pytest.raises(ValueError, match="n_events cannot be set"):
        datasets.load("synthetic-mnist-latency", 1, n_events=10)


def test_generators_follow_measured_statistics(tmp_path):
    from spikebench.datasets import _hdf5

    rng = np.random.default_rng(3)
    samples = []
    for _ in range(30):  # "real" recordings: ~900 events on channels 100..199, ~2 s long
        k = int(rng.lognormal(np.log(900), 0.2))
        samples.append((np.sort(rng.uniform(0, 2.0, k)), rng.integers(100, 200, k)))
    _hdf5.write(tmp_path / "shd_train.h5", samples, rng.integers(0, 20, 30))
    stats = datasets.measure(tmp_path / "shd_train.h5")
    assert stats["n_samples"] == 30 and len(stats["channel_profile"]) == 700
    assert sum(stats["channel_profile"][100:200]) == pytest.approx(1.0)
    ev = datasets.synthetic_shd(40, seed=0, stats=stats)
    assert np.median(ev.counts) == pytest.approx(np.exp(stats["events_log_mean"]), rel=0.15)
    assert ev.duration.mean() == pytest.approx(stats["duration_mean_s"], rel=0.1)
    ch = ev.channels[ev.channels >= 0]
    # bands start on measured channels and spread by their bandwidth (<= 40 channels)
    assert np.mean((ch >= 60) & (ch < 240)) > 0.8
    default = datasets.synthetic_shd(40, seed=0)
    assert np.median(default.counts) > 2000  # the defaults are different
    with pytest.raises(ValueError, match="channel_profile must be 700"):
        datasets.synthetic_shd(1, seed=0, stats={**stats, "channel_profile": [1.0]})


@pytest.mark.parametrize("name", ["synthetic-ssc", "synthetic-nmnist"])
def test_other_stand_ins_follow_measured_statistics(name):
    d = datasets.get(name)
    profile = np.zeros(d.n_channels)
    profile[40:80] = 1.0  # a "real" set that only ever fires channels 40..79
    stats = {
        "events_log_mean": float(np.log(600)),
        "events_log_sigma": 0.1,
        "duration_mean_s": 0.05,
        "duration_sd_s": 0.0,
        "channel_profile": profile,
    }
    ev = d.generate(40, seed=1, stats=stats)
    assert np.median(ev.counts) == pytest.approx(600, rel=0.1)
    assert ev.duration.mean() == pytest.approx(0.05, rel=0.1)
    ch = ev.channels[ev.channels >= 0]
    if name == "synthetic-nmnist":  # events drawn from the profile itself
        assert ch.min() >= 40 and ch.max() < 80
    else:  # speech bands start on profile channels and spread by their bandwidth
        assert np.mean((ch >= 0) & (ch < 160)) > 0.8
    default = d.generate(40, seed=1)
    assert np.median(default.counts) > 2000 and ch.size != default.counts.sum()


def test_timing_classes_differ_only_in_timing():
    """Every sample holds the same spikes per channel (a burst of BURST); the classes' onsets
    follow their templates within the jitter."""
    from spikebench.datasets import _timing

    ev = datasets.load("timing", 400, seed=3)
    assert ev.times.shape == (400, _timing.N_CHANNELS * _timing.BURST)
    for b in range(400):
        counts = np.bincount(ev.channels[b], minlength=_timing.N_CHANNELS)
        assert (counts == _timing.BURST).all()
        first = np.array(
            [ev.times[b][ev.channels[b] == c].min() for c in range(_timing.N_CHANNELS)]
        )
        assert np.abs(first - _timing.templates()[ev.labels[b]]).max() < 5 * _timing.JITTER
        assert ev.times[b].max() <= ev.duration[b]
    assert set(np.unique(ev.labels)) == set(range(_timing.N_CLASSES))
    with pytest.raises(ValueError, match="exactly 12 events"):
        _timing.timing(2, n_events=5)
