"""Event-camera datasets through tonic's file readers, on small files written here in tonic's
on-disk layouts: N-MNIST .bin (5-byte events), DVS Gesture converted .npy arrays, and the
CIFAR10-DVS folder layout. Exact round trips, lazy listing, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from spikebench import datasets
from spikebench.datasets import _tonic


def _events(rng, n, w, h, t_max_us):
    t = np.sort(rng.integers(0, t_max_us, n))
    return rng.integers(0, w, n), rng.integers(0, h, n), t, rng.integers(0, 2, n)


def _canonical(x, y, t_s, p, w):
    c = (np.asarray(y) * w + np.asarray(x)) * 2 + np.asarray(p)
    t = np.asarray(t_s, np.float64)
    t = t - t.min()
    order = np.lexsort((c, t))
    return t[order], c[order]


@pytest.fixture
def nmnist_dir(tmp_path):
    rng = np.random.default_rng(0)
    written = []
    for digit in (3, 7):
        folder = tmp_path / "NMNIST" / "Train" / str(digit)
        folder.mkdir(parents=True)
        for k in range(2):
            ev = _events(rng, int(rng.integers(50, 300)), 34, 34, 300_000)
            _tonic.write_nmnist_bin(folder / f"{k:05d}.bin", *ev)
            written.append((digit, ev))
    return tmp_path, written


def test_nmnist_round_trips_exactly(nmnist_dir):
    path, written = nmnist_dir
    ev = datasets.load("nmnist", 4, data_dir=path)
    assert ev.n_channels == 2 * 34 * 34 and ev.labels.tolist() == [3, 3, 7, 7]
    for b, (_, (x, y, t, p)) in enumerate(written):  # files are listed in sorted order
        want_t, want_c = _canonical(x, y, t * 1e-6, p, 34)
        n = ev.counts[b]
        np.testing.assert_array_equal(ev.times[b, :n], want_t)
        np.testing.assert_array_equal(ev.channels[b, :n], want_c)
    # the folder itself can be given, too
    assert datasets.load("nmnist", 1, data_dir=path / "NMNIST").labels.tolist() == [3]


def test_dvs_gesture_round_trips_exactly(tmp_path):
    rng = np.random.default_rng(1)
    folder = tmp_path / "DVSGesture" / "ibmGestureTest" / "user24_led"
    folder.mkdir(parents=True)
    arrays = {}
    for label in (2, 10):
        x, y, t_us, p = _events(rng, 500, 128, 128, 6_000_000)
        a = np.stack([x, y, p, t_us / 1000.0], axis=1)  # tonic's converted columns, t in ms
        np.save(folder / f"{label}.npy", a)
        arrays[label] = a
    ev = datasets.load("dvs-gesture", 2, data_dir=tmp_path, split="test")
    assert ev.labels.tolist() == [10, 2]  # "10.npy" sorts before "2.npy"
    for b, label in enumerate((10, 2)):
        a = arrays[label]
        want_t, want_c = _canonical(a[:, 0], a[:, 1], a[:, 3] * 1e-3, a[:, 2], 128)
        np.testing.assert_array_equal(ev.times[b, : ev.counts[b]], want_t)
        np.testing.assert_array_equal(ev.channels[b, : ev.counts[b]], want_c)
        assert ev.times[b, 0] == 0.0  # relative to the sample's first event


def _write_aedat4(path, x, y, t_us, p):
    import dv_processing as dv

    store = dv.EventStore()
    for xi, yi, ti, pi in zip(x, y, t_us, p, strict=True):
        store.push_back(int(ti), int(xi), int(yi), bool(pi))
    writer = dv.io.MonoCameraWriter(
        str(path), dv.io.MonoCameraWriter.EventOnlyConfig("DVS128_test", (128, 128))
    )
    writer.writeEvents(store)
    del writer  # closes the file


def test_cifar10_dvs_round_trips_exactly(tmp_path):
    rng = np.random.default_rng(2)
    written = {}
    for cls in ("automobile", "ship"):
        (tmp_path / "CIFAR10DVS" / cls).mkdir(parents=True)
        ev = _events(rng, 400, 128, 128, 1_300_000)
        ev = (ev[0], ev[1], ev[2] + 5_000_000, ev[3])  # recordings start at an offset
        _write_aedat4(tmp_path / "CIFAR10DVS" / cls / f"{cls}_0.aedat4", *ev)
        written[cls] = ev
    got = datasets.load("cifar10-dvs", 2, data_dir=tmp_path)
    assert got.labels.tolist() == [1, 8] and got.n_channels == 2 * 128 * 128
    for b, cls in enumerate(("automobile", "ship")):
        x, y, t, p = written[cls]
        want_t, want_c = _canonical(x, y, t * 1e-6, p, 128)
        np.testing.assert_array_equal(got.times[b, : got.counts[b]], want_t)
        np.testing.assert_array_equal(got.channels[b, : got.counts[b]], want_c)


def test_event_camera_files_are_checked(tmp_path, nmnist_dir):
    with pytest.raises(ValueError, match=r"no N-MNIST <digit>/\*\.bin files found"):
        datasets.load("nmnist", 1, data_dir=tmp_path / "nowhere")
    with pytest.raises(ValueError, match="no CIFAR10-DVS"):
        datasets.load("cifar10-dvs", 1, data_dir=tmp_path)
    folder = tmp_path / "DVSGesture" / "ibmGestureTrain" / "user01_natural"
    folder.mkdir(parents=True)
    np.save(folder / "3.npy", np.array([[5, 200, 1, 0.5]]))
    with pytest.raises(ValueError, match=r"3\.npy: y = 200 at event 0 outside \[0, 128\)"):
        datasets.load("dvs-gesture", 1, data_dir=tmp_path)
    np.save(folder / "3.npy", np.array([[5, 6, 1, np.nan]]))
    with pytest.raises(ValueError, match=r"3\.npy: non-finite time"):
        datasets.load("dvs-gesture", 1, data_dir=tmp_path)
    np.save(folder / "3.npy", np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"expected an \(N, 4\) array"):
        datasets.load("dvs-gesture", 1, data_dir=tmp_path)
    (folder / "3.npy").rename(folder / "12.npy")
    with pytest.raises(ValueError, match=r"12\.npy: a DVS Gesture file is named"):
        datasets.load("dvs-gesture", 1, data_dir=tmp_path)
    cls = tmp_path / "CIFAR10DVS" / "cat"
    cls.mkdir(parents=True)
    (cls / "cat_0001.aedat4").write_bytes(b"#!AER-DAT4.0\r\n" + b"\0" * 7)  # truncated
    with pytest.raises(ValueError, match=r"cat_0001\.aedat4: cannot be decoded"):
        datasets.load("cifar10-dvs", 1, data_dir=tmp_path)
    with pytest.raises(ValueError, match=r"has splits \['train'\], not 'test'"):
        datasets.load("cifar10-dvs", 1, data_dir=tmp_path, split="test")
    with pytest.raises(ValueError, match="23-bit"):
        _tonic.write_nmnist_bin(tmp_path / "x.bin", [0], [0], [2**23], [0])
    rows = {r["name"]: r["status"] for r in datasets.available(nmnist_dir[0])}
    assert rows["nmnist"] == rows["dvs-gesture"] == rows["cifar10-dvs"] == "files: train"
    assert rows["ssc"] == "files absent"
