"""The malformed-dataset corpus: files in the real formats (written here, never committed),
broken the way a bad conversion or a truncated copy breaks them. Each must give a ValueError
naming the file (and the sample or event, where there is one) -- never a silently changed
value (a float label truncated, a unit 12.7 read as 12) and never an obscure error."""

from __future__ import annotations

import gzip
import pickle

import h5py
import numpy as np
import pytest
from spikebench import datasets
from spikebench.cli import app
from spikebench.datasets import _idx, _tonic
from typer.testing import CliRunner


def _h5(
    path,
    times=None,
    units=None,
    labels=None,
    times_dtype=np.float16,
    units_dtype=np.uint16,
    labels_group=False,
):
    times = [[0.1, 0.2]] if times is None else times
    units = [[1, 2]] if units is None else units
    labels = [0] if labels is None else labels
    with h5py.File(path, "w") as f:
        vt = (
            h5py.vlen_dtype(np.dtype(times_dtype))
            if times_dtype is not str
            else h5py.string_dtype()
        )
        d = f.create_dataset("spikes/times", (len(times),), dtype=vt)
        for i, t in enumerate(times):
            d[i] = np.asarray(t, times_dtype) if times_dtype is not str else " ".join(map(str, t))
        d = f.create_dataset(
            "spikes/units", (len(units),), dtype=h5py.vlen_dtype(np.dtype(units_dtype))
        )
        for i, u in enumerate(units):
            d[i] = np.asarray(u, units_dtype)
        if labels_group:
            f.create_group("labels").create_dataset("x", data=np.asarray(labels))
        else:
            f.create_dataset("labels", data=np.asarray(labels))


# (name, writer(tmp_path), message)
HDF5 = [
    ("float label -0.5", lambda p: _h5(p, labels=np.array([-0.5])), r"label = -0\.5"),
    ("float label 1.5", lambda p: _h5(p, labels=np.array([1.5])), r"label = 1\.5"),
    (
        "float unit 12.7",
        lambda p: _h5(p, units=[[1, 12.7]], units_dtype=np.float32),
        r"unit \(channel id\) = 12\.69",
    ),
    (
        "NaN unit",
        lambda p: _h5(p, units=[[1, np.nan]], units_dtype=np.float32),
        r"unit \(channel id\) = nan",
    ),
    ("string times", lambda p: _h5(p, times_dtype=str), "times must be numbers"),
    ("string labels", lambda p: _h5(p, labels=np.array([b"one"])), "label must be integers"),
    ("labels a group", lambda p: _h5(p, labels_group=True), "labels must be a dataset"),
    (
        "labels 2-d",
        lambda p: _h5(p, labels=np.zeros((1, 2), np.uint16)),
        "label must be one number",
    ),
    (
        "negative integer unit",
        lambda p: _h5(p, units=[[1, -3]], units_dtype=np.int16),
        r"channel id -3 at event 1 outside",
    ),
    ("zero-byte file", lambda p: p.write_bytes(b""), "not a readable HDF5 file"),
]


@pytest.mark.parametrize("name,write,message", HDF5, ids=[h[0] for h in HDF5])
def test_malformed_hdf5_is_refused_naming_file_and_sample(tmp_path, name, write, message):
    path = tmp_path / "shd_train.h5"
    write(path)
    with pytest.raises(ValueError, match=message) as err:
        datasets.load("shd", 1, data_dir=tmp_path)
    assert "shd_train.h5" in str(err.value)
    assert "sample 0" in str(err.value) or name in ("labels a group", "zero-byte file")
    # `datasets stats` says the same through the CLI (no traceback)
    res = CliRunner().invoke(app, ["datasets", "stats", str(path)], env={"COLUMNS": "300"})
    assert res.exit_code == 2 and "shd_train.h5" in res.output, res.output
    assert "Traceback" not in res.output


def _nmnist(tmp_path, data: bytes):
    folder = tmp_path / "NMNIST" / "Train" / "3"
    folder.mkdir(parents=True)
    (folder / "00000.bin").write_bytes(data)
    return folder / "00000.bin"


def _gesture(tmp_path, write):
    folder = tmp_path / "DVSGesture" / "ibmGestureTrain" / "user01_natural"
    folder.mkdir(parents=True)
    write(folder / "3.npy")
    return "dvs-gesture"


def _good_bin(tmp_path):
    p = tmp_path / "good.bin"
    _tonic.write_nmnist_bin(p, [1, 2, 3], [4, 5, 6], [10, 20, 30], [0, 1, 0])
    return p.read_bytes()


def _npy_truncated(path):
    np.save(path, np.arange(40.0).reshape(10, 4))
    path.write_bytes(path.read_bytes()[:-13])


CAMERA = [
    (
        "N-MNIST truncated",
        lambda t: (_nmnist(t, _good_bin(t)[:-2]), "nmnist")[1],
        r"00000\.bin: 13 bytes is not a whole number of 5-byte",
    ),
    ("npy truncated", lambda t: _gesture(t, _npy_truncated), r"3\.npy: not a readable \.npy"),
    (
        "npy pickled",
        lambda t: _gesture(t, lambda p: p.write_bytes(pickle.dumps([1, 2]))),
        r"3\.npy: not a readable \.npy",
    ),
    (
        "npy of objects",
        lambda t: _gesture(t, lambda p: np.save(p, np.array([[1, 2, 3, None]], dtype=object))),
        r"3\.npy: not a readable \.npy",
    ),
    (
        "DVS x = 1.9",
        lambda t: _gesture(t, lambda p: np.save(p, np.array([[1.9, 2, 1, 5.0]]))),
        r"3\.npy: x = 1\.9 at event 0 is not an integer",
    ),
    (
        "DVS polarity 0.5",
        lambda t: _gesture(t, lambda p: np.save(p, np.array([[1, 2, 0.5, 5.0]]))),
        r"3\.npy: polarity = 0\.5",
    ),
    (
        "DVS string array",
        lambda t: _gesture(t, lambda p: np.save(p, np.array([["a"] * 4]))),
        r"3\.npy: times must be numbers",
    ),
    (
        "npy 1-d",
        lambda t: _gesture(t, lambda p: np.save(p, np.arange(8.0))),
        r"3\.npy: expected an \(N, 4\) array",
    ),
    (
        "npy not a numpy file",
        lambda t: _gesture(t, lambda p: p.write_text("x,y,p,t\n")),
        r"3\.npy: not a readable \.npy",
    ),
]


@pytest.mark.parametrize("name,make,message", CAMERA, ids=[c[0] for c in CAMERA])
def test_malformed_camera_files_are_refused_naming_the_file(tmp_path, name, make, message):
    dataset = make(tmp_path)
    with pytest.raises(ValueError, match=message):
        datasets.load(dataset, 1, data_dir=tmp_path)


def _idx_files(tmp_path, images_header=None, gz=False):
    stems = _idx.FILES["train"]
    _idx.write_idx(tmp_path / stems[0], np.zeros((2, 28, 28), np.uint8))
    _idx.write_idx(tmp_path / stems[1], np.zeros(2, np.uint8))
    if images_header is not None:
        p = tmp_path / stems[0]
        p.write_bytes(images_header(p.read_bytes()))
    if gz:
        for s in stems:
            p = tmp_path / s
            (tmp_path / (s + ".gz")).write_bytes(gzip.compress(p.read_bytes()))
            p.unlink()


def _negative_dim(raw: bytes) -> bytes:
    return raw[:4] + np.array([-2], ">i4").tobytes() + raw[8:]


IDX = [
    ("negative dimension", lambda t: _idx_files(t, _negative_dim), "negative dimension"),
    (
        "negative dimension, gzipped",
        lambda t: _idx_files(t, _negative_dim, gz=True),
        "negative dimension",
    ),
    ("truncated body", lambda t: _idx_files(t, lambda r: r[:-100]), "truncated"),
    ("bad magic", lambda t: _idx_files(t, lambda r: b"\x01\x02" + r[2:]), "bad magic"),
    ("truncated header", lambda t: _idx_files(t, lambda r: r[:6]), "truncated IDX header"),
    (
        "corrupt gzip",
        lambda t: (
            _idx_files(t, gz=True),
            (t / (_idx.FILES["train"][0] + ".gz")).write_bytes(b"\x1f\x8b not gzip"),
        ),
        "not a readable gzip",
    ),
    (
        "not unsigned bytes",
        lambda t: _idx_files(t, lambda r: r[:2] + b"\x0d" + r[3:]),
        "is not unsigned byte",
    ),
]


@pytest.mark.parametrize("name,make,message", IDX, ids=[i[0] for i in IDX])
def test_malformed_idx_is_refused_naming_the_file(tmp_path, name, make, message):
    make(tmp_path)
    with pytest.raises(ValueError, match=message) as err:
        datasets.load("mnist-latency", 1, data_dir=tmp_path)
    assert "train-images-idx3-ubyte" in str(err.value)
