"""Readers for the real files, on small files written here in the exact real layouts: SHD/SSC
HDF5 (variable-length float16 times, uint16 units) and MNIST IDX. Each round-trips exactly,
reads lazily, and rejects malformed files with a message naming the file and the problem."""

from __future__ import annotations

import gzip

import h5py  # in the dev extra: these tests run everywhere, never skip
import numpy as np
import pytest
from spikebench import datasets
from spikebench.datasets import _hdf5, _idx


def _shd_samples(n=6, seed=0):
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n):
        k = int(rng.integers(0, 400))
        t = np.sort(rng.uniform(0, 1.2, k)).astype(np.float16)  # float16 ties are common
        u = rng.integers(0, 700, k).astype(np.uint16)
        if i == 2 and k > 3:  # one unsorted sample: the reader sorts it and counts it
            t[[0, -1]] = t[[-1, 0]]
        samples.append((t, u))
    return samples, rng.integers(0, 20, n)


def _expected(t, u):
    t = np.asarray(t, np.float16).astype(np.float64)
    u = np.asarray(u, np.int64)
    order = np.lexsort((u, t))
    return t[order], u[order]


@pytest.fixture
def shd_dir(tmp_path):
    samples, labels = _shd_samples()
    _hdf5.write(tmp_path / "shd_train.h5", samples, labels)
    _hdf5.write(tmp_path / "shd_test.h5", samples[:2], labels[:2])
    return tmp_path, samples, labels


def test_shd_round_trips_exactly(shd_dir):
    path, samples, labels = shd_dir
    ev = datasets.load("shd", 6, data_dir=path)
    assert ev.times.dtype == np.float64 and ev.channels.dtype == np.int32
    assert ev.n_channels == 700 and ev.name == "shd"
    np.testing.assert_array_equal(ev.labels, labels)
    for b, (t, u) in enumerate(samples):
        et, eu = _expected(t, u)
        n = ev.counts[b]
        assert n == len(t)
        np.testing.assert_array_equal(ev.times[b, :n], et)  # float16 values, exactly
        np.testing.assert_array_equal(ev.channels[b, :n], eu)
        assert np.all(ev.channels[b, n:] == -1)
    part = datasets.load("shd", 2, data_dir=path, start=3)
    np.testing.assert_array_equal(part.labels, labels[3:5])
    assert datasets.load("shd", 2, data_dir=path, split="test").counts.tolist() == [
        len(samples[0][0]),
        len(samples[1][0]),
    ]


def test_shd_times_are_cast_to_float64_before_scaling(tmp_path):
    # float16 overflows past 65504: 60000 s * 2 must not become inf
    _hdf5.write(tmp_path / "shd_train.h5", [(np.array([1.0, 60000.0]), [0, 1])], [0])
    ev = datasets.load("shd", 1, data_dir=tmp_path)
    assert np.all(np.isfinite(ev.times * 2)) and ev.times[0, 1] == 60000.0


def test_unsorted_samples_are_sorted_and_counted(shd_dir):
    path, _, _ = shd_dir
    src = _hdf5.HDF5Events(path / "shd_train.h5", "shd", 700, 20)
    src.load(range(6))
    assert src.n_resorted == 1


def test_reading_is_lazy(tmp_path):
    # a bad sample past the requested ones is never read, so it cannot fail the load
    samples, labels = _shd_samples(4)
    samples[3] = (np.array([0.1, -0.5], np.float16), np.array([1, 2], np.uint16))
    _hdf5.write(tmp_path / "ssc_valid.h5", samples, labels)
    ev = datasets.load("ssc", 3, data_dir=tmp_path, split="valid")
    assert ev.name == "ssc" and len(ev.counts) == 3
    with pytest.raises(ValueError, match=r"ssc_valid\.h5: sample 3: negative time"):
        datasets.load("ssc", 1, data_dir=tmp_path, split="valid", start=3)


def _write_raw(path, times, units, labels, drop=None):
    with h5py.File(path, "w") as f:
        vt, vu = h5py.vlen_dtype(np.float16), h5py.vlen_dtype(np.uint16)
        if drop != "spikes/times":
            d = f.create_dataset("spikes/times", (len(times),), dtype=vt)
            for i, t in enumerate(times):
                d[i] = np.asarray(t, np.float16)
        if drop != "spikes/units":
            d = f.create_dataset("spikes/units", (len(units),), dtype=vu)
            for i, u in enumerate(units):
                d[i] = np.asarray(u, np.uint16)
        if drop != "labels":
            f.create_dataset("labels", data=np.asarray(labels, np.uint16))


@pytest.mark.parametrize(
    "times,units,labels,drop,match",
    [
        ([[0.1]], [[1]], [0], "labels", r"missing key\(s\) labels"),
        ([[0.1]], [[1]], [0], "spikes/units", r"missing key\(s\) spikes/units"),
        ([[0.1], [0.2]], [[1]], [0, 1], None, "different lengths"),
        ([[0.1, 0.2]], [[1]], [0], None, "sample 0: 2 times but 1 units"),
        ([[0.1, np.nan]], [[1, 2]], [0], None, "sample 0: non-finite time at event 1"),
        ([[0.1, np.inf]], [[1, 2]], [0], None, "non-finite time"),
        ([[-0.1, 0.2]], [[1, 2]], [0], None, "negative time"),
        ([[0.1, 0.2]], [[1, 700]], [0], None, r"channel id 700 at event 1 outside \[0, 700\)"),
        ([[0.1]], [[1]], [20], None, r"label 20 outside \[0, 20\)"),
    ],
)
def test_malformed_shd_files_are_rejected(tmp_path, times, units, labels, drop, match):
    path = tmp_path / "shd_train.h5"
    _write_raw(path, times, units, labels, drop)
    with pytest.raises(ValueError, match=match) as err:
        datasets.load("shd", 1, data_dir=tmp_path)
    assert "shd_train.h5" in str(err.value)


def test_truncated_and_foreign_files_are_rejected(tmp_path, shd_dir):
    path, _, _ = shd_dir
    data = (path / "shd_train.h5").read_bytes()
    (tmp_path / "shd_train.h5").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"shd_train\.h5.*(truncated|cannot be read)"):
        datasets.load("shd", 6, data_dir=tmp_path)
    (tmp_path / "shd_train.h5").write_text("not hdf5 at all")
    with pytest.raises(ValueError, match=r"shd_train\.h5: not a readable HDF5 file"):
        datasets.load("shd", 1, data_dir=tmp_path)


def test_reader_errors_name_the_expected_files(tmp_path, shd_dir):
    with pytest.raises(ValueError, match=r"shd_train\.h5, shd_test\.h5"):
        datasets.load("shd", 1, data_dir=tmp_path / "empty")
    with pytest.raises(ValueError, match="give data_dir"):
        datasets.load("ssc", 1)
    path, _, _ = shd_dir
    with pytest.raises(ValueError, match="splits"):
        datasets.load("shd", 1, data_dir=path, split="valid")
    with pytest.raises(ValueError, match=r"samples 5 \.\. 6 requested, the split holds 6"):
        datasets.load("shd", 2, data_dir=path, start=5)
    with pytest.raises(ValueError, match="n_events cannot be set"):
        datasets.load("shd", 1, data_dir=path, n_events=10)


# -- MNIST (IDX) -------------------------------------------------------------------------------


def _mnist_files(tmp_path, n=5, gz=False, split="train"):
    rng = np.random.default_rng(1)
    images = (rng.random((n, 28, 28)) < 0.2) * rng.integers(1, 256, (n, 28, 28))
    labels = rng.integers(0, 10, n)
    stems = _idx.FILES[split]
    suffix = ".gz" if gz else ""
    _idx.write_idx(tmp_path / (stems[0] + suffix), images)
    _idx.write_idx(tmp_path / (stems[1] + suffix), labels)
    return images.astype(np.uint8), labels


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_latency_round_trips_exactly(tmp_path, gz):
    images, labels = _mnist_files(tmp_path, gz=gz)
    ev = datasets.load("mnist-latency", 5, data_dir=tmp_path)
    np.testing.assert_array_equal(ev.labels, labels)
    assert ev.n_channels == 784
    for b in range(5):
        x = images[b].reshape(-1) / 255.0
        ch = np.nonzero(x > 0)[0]
        t = _idx.T_MAX * (1 - x[ch])
        order = np.lexsort((ch, t))
        n = ev.counts[b]
        assert n == len(ch)
        np.testing.assert_array_equal(ev.times[b, :n], t[order])
        np.testing.assert_array_equal(ev.channels[b, :n], ch[order])
    # the brightest pixel fires first
    b0 = images[0].reshape(-1)
    assert ev.channels[0, 0] == np.lexsort((np.arange(784), -b0.astype(int)))[0]


def test_mnist_files_are_checked(tmp_path):
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte and train-labels-idx1-ubyte"):
        datasets.load("mnist-latency", 1, data_dir=tmp_path)
    images, _ = _mnist_files(tmp_path)
    img = tmp_path / "train-images-idx3-ubyte"
    data = img.read_bytes()
    img.write_bytes(data[:-10])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte: IDX body holds .*truncated"):
        datasets.load("mnist-latency", 1, data_dir=tmp_path)
    img.write_bytes(b"\x01\x02" + data[2:])
    with pytest.raises(ValueError, match="bad magic number"):
        datasets.load("mnist-latency", 1, data_dir=tmp_path)
    _idx.write_idx(img, images[:, :14])  # wrong image shape
    with pytest.raises(ValueError, match=r"expected \(N, 28, 28\)"):
        datasets.load("mnist-latency", 1, data_dir=tmp_path)
    _idx.write_idx(img, images)
    _idx.write_idx(tmp_path / "train-labels-idx1-ubyte", np.array([1, 2, 3, 4, 12]))
    with pytest.raises(ValueError, match=r"label 12 of sample 4"):
        datasets.load("mnist-latency", 1, data_dir=tmp_path, start=4)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"")[:5])
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"")
    with pytest.raises(ValueError, match="not a readable gzip file"):
        datasets.load("mnist-latency", 1, data_dir=tmp_path, split="test")


def test_available_lists_generators_and_present_files(tmp_path, shd_dir):
    path, _, _ = shd_dir
    rows = {r["name"]: r for r in datasets.available(path)}
    assert rows["synthetic-shd"]["status"] == "generated"
    assert rows["shd"]["status"] == "files: train, test"
    assert rows["ssc"]["status"] == "files absent"
    assert {r["status"] for r in datasets.available()} >= {"generated", "no data dir"}


def test_stream_lays_samples_back_to_back_and_cuts_at_n_events(shd_dir):
    path, samples, labels = shd_dir
    n = len(samples[0][0]) + len(samples[1][0]) + 7
    ev = datasets.stream("shd", 1, n, data_dir=path)
    assert ev.counts.tolist() == [n] and ev.labels[0] == labels[0]
    t0, u0 = _expected(*samples[0])
    t1, u1 = _expected(*samples[1])
    t2, u2 = _expected(*samples[2])
    want_t = np.concatenate([t0, t1 + t0.max(), (t2 + t0.max() + t1.max())[:7]])
    want_u = np.concatenate([u0, u1, u2[:7]])
    order = np.lexsort((want_u, want_t))
    np.testing.assert_array_equal(ev.times[0], want_t[order])
    np.testing.assert_array_equal(ev.channels[0], want_u[order])
    # rows start at sample `seed` and wrap around the split
    ev = datasets.stream("shd", 2, 10, data_dir=path, seed=5)
    assert ev.labels.tolist() == [labels[5], labels[0]]
    with pytest.raises(ValueError, match="700 channels, not 64"):
        datasets.stream("shd", 1, 10, n_channels=64, data_dir=path)


def test_stream_refuses_a_split_without_events(tmp_path):
    _hdf5.write(tmp_path / "shd_train.h5", [(np.zeros(0), np.zeros(0))] * 3, [0, 1, 2])
    with pytest.raises(ValueError, match="no sample holds an event"):
        datasets.stream("shd", 1, 10, data_dir=tmp_path)
