"""Event-camera datasets from a local folder, through the tonic package's file readers: N-MNIST,
DVS Gesture, CIFAR10-DVS (docs/guide/datasets.md). tonic's dataset classes download whatever they
find missing, so they are never instantiated here: we list the files in tonic's on-disk layout
ourselves and decode each with tonic's reader for that format.

Layouts (the folder tonic's ``save_to`` would hold, or that folder's contents):

    N-MNIST      NMNIST/{Train,Test}/<digit>/*.bin          tonic.io.read_mnist_file
    DVS Gesture  DVSGesture/ibmGestureTrain|Test/<user>_<lighting>/<label>.npy
                 (tonic's converted arrays: columns x, y, p, t in ms)
    CIFAR10-DVS  CIFAR10DVS/<class name>/*.aedat4           tonic.io.read_aedat4

Events (x, y, polarity) become one channel id, channel = (y W + x) 2 + p, on sensors of
W x H = 34 x 34 (N-MNIST) and 128 x 128 (the others), two polarities. Times are seconds
relative to the sample's first event (recordings cut from longer streams start at arbitrary
offsets). Files are listed once (sorted, so sample i is the same everywhere) and decoded only
when a sample is requested.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..untrusted import regular_file
from ._format import EventBatch, integers, pack, seconds

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)


def _tonic_io():
    try:
        import tonic.io
    except ImportError:  # pragma: no cover - tonic is in the `data` and `dev` extras
        raise ImportError(
            "reading event-camera datasets needs tonic: pip install 'spikebench[data]'"
        ) from None
    return tonic.io


class EventFiles:
    """One split of an event-camera dataset: the sorted list of sample files and labels."""

    def __init__(self, name, files, labels, width, height, n_classes, decode):
        self.name, self.files, self.labels = name, list(files), list(labels)
        self.width, self.height, self.n_classes = int(width), int(height), int(n_classes)
        self.n_channels = 2 * self.width * self.height
        self._decode = decode

    def __len__(self) -> int:
        return len(self.files)

    def load(self, indices) -> EventBatch:
        samples, durations, labels = [], [], []
        for i in indices:
            i = int(i)
            if not 0 <= i < len(self.files):
                raise ValueError(
                    f"{self.name}: sample index {i} out of range ({len(self.files)} samples)"
                )
            path = self.files[i]
            try:
                x, y, t_s, p = self._decode(path)
            except (KeyboardInterrupt, SystemExit):
                raise
            except ValueError as exc:  # name the file when the decoder did not
                raise (
                    exc
                    if str(path) in str(exc)
                    else ValueError(f"{path}: cannot be decoded: {exc}")
                ) from None
            except BaseException as exc:  # noqa: BLE001 - a reader's error on a bad file;
                # the aedat decoder (Rust) raises a PanicException, a BaseException
                raise ValueError(f"{path}: cannot be decoded: {exc}") from None
            t, c = self._check(path, x, y, t_s, p)
            samples.append((t, c))
            durations.append(float(t.max()) if t.size else 0.0)
            labels.append(self.labels[i])
        return pack(samples, self.n_channels, self.name, durations, labels)

    def _check(self, path, x, y, t, p):
        x, y, p = (
            integers(a, name, str(path)) for a, name in ((x, "x"), (y, "y"), (p, "polarity"))
        )
        t = seconds(t, str(path))
        if not np.all(np.isfinite(t)):
            raise ValueError(f"{path}: non-finite time at event {int(np.argmin(np.isfinite(t)))}")
        if t.size and t.min() < 0:
            raise ValueError(f"{path}: negative time {t.min()} at event {int(np.argmin(t))}")
        for name, v, hi in (("x", x, self.width), ("y", y, self.height), ("polarity", p, 2)):
            bad = (v < 0) | (v >= hi)
            if np.any(bad):
                k = int(np.argmax(bad))
                raise ValueError(f"{path}: {name} = {v[k]} at event {k} outside [0, {hi})")
        t = t - t.min() if t.size else t
        return t, (y * self.width + x) * 2 + p


def _root(data_dir, folder: str) -> Path:
    data_dir = Path(data_dir)
    return data_dir / folder if (data_dir / folder).is_dir() else data_dir


def _files(root: Path, patterns, what: str) -> list[Path]:
    """The sorted files matching the glob pattern(s) under `root`; ValueError naming them if
    there is none."""
    patterns = [patterns] if isinstance(patterns, str) else patterns
    files = sorted(f for p in patterns for f in root.glob(p))
    if not files:
        raise ValueError(
            f"{root}: no {what} found (spikebench never downloads; put tonic's "
            f"extracted layout there)"
        )
    return files


def nmnist(data_dir, split: str) -> EventFiles:
    root = _root(data_dir, "NMNIST") / {"train": "Train", "test": "Test"}[split]
    files = _files(root, "[0-9]/*.bin", "N-MNIST <digit>/*.bin files")

    def decode(path):
        import tonic.datasets

        size = regular_file(path, "N-MNIST file").stat().st_size
        if size % 5:
            raise ValueError(
                f"{path}: {size} bytes is not a whole number of 5-byte N-MNIST events (truncated?)"
            )
        ev = _tonic_io().read_mnist_file(str(path), dtype=tonic.datasets.NMNIST.dtype)
        return ev["x"], ev["y"], ev["t"] * 1e-6, ev["p"]

    return EventFiles("nmnist", files, [int(f.parent.name) for f in files], 34, 34, 10, decode)


def dvs_gesture(data_dir, split: str) -> EventFiles:
    root = (
        _root(data_dir, "DVSGesture")
        / {"train": "ibmGestureTrain", "test": "ibmGestureTest"}[split]
    )
    files = _files(root, "*_*/*.npy", "DVS Gesture <user>_<lighting>/<label>.npy files")

    def decode(path):
        regular_file(path, "DVS Gesture file")
        try:  # tonic's converted arrays: x, y, p, t (ms); never a pickle; memory-mapped, so
            # a header declaring more than the file holds is refused, not allocated
            a = np.array(np.load(path, allow_pickle=False, mmap_mode="r"))
        except (ValueError, EOFError, OSError) as exc:
            raise ValueError(
                f"{path}: not a readable .npy array (truncated, or a pickle?): {exc}"
            ) from None
        if not isinstance(a, np.ndarray):
            raise ValueError(f"{path}: expected one .npy array, got {type(a).__name__}")
        if a.ndim != 2 or a.shape[1] != 4:
            raise ValueError(f"{path}: expected an (N, 4) array of x, y, p, t, got {a.shape}")
        return a[:, 0], a[:, 1], seconds(a[:, 3], str(path)) * 1e-3, a[:, 2]

    labels = []
    for f in files:
        if not f.stem.isdigit() or not 0 <= int(f.stem) < 11:
            raise ValueError(f"{f}: a DVS Gesture file is named <label>.npy with label 0..10")
        labels.append(int(f.stem))
    return EventFiles("dvs-gesture", files, labels, 128, 128, 11, decode)


def cifar10_dvs(data_dir, split: str) -> EventFiles:
    if split != "train":
        raise ValueError("CIFAR10-DVS has one split ('train'); hold out samples yourself")
    root = _root(data_dir, "CIFAR10DVS")
    files = _files(
        root, [f"{c}/*.aedat4" for c in CIFAR10_CLASSES], "CIFAR10-DVS <class>/*.aedat4 files"
    )

    def decode(path):
        ev = _tonic_io().read_aedat4(str(regular_file(path, "CIFAR10-DVS file")))
        return ev["x"], ev["y"], ev["t"].astype(np.float64) * 1e-6, ev["p"].astype(np.int64)

    return EventFiles(
        "cifar10-dvs",
        files,
        [CIFAR10_CLASSES.index(f.parent.name) for f in files],
        128,
        128,
        10,
        decode,
    )


def write_nmnist_bin(path, x, y, t_us, p) -> None:
    """Encode events in the N-MNIST .bin format (5 bytes per event: x, y, then polarity in
    bit 7 and a 23-bit microsecond timestamp) — for tests and for converting recordings."""
    x, y, t, p = (np.asarray(a, np.int64) for a in (x, y, t_us, p))
    if np.any(t >= 2**23) or np.any(t < 0):
        raise ValueError("N-MNIST timestamps are 23-bit microseconds")
    raw = np.empty((len(x), 5), np.uint8)
    raw[:, 0], raw[:, 1] = x, y
    raw[:, 2] = (p << 7) | (t >> 16)
    raw[:, 3], raw[:, 4] = (t >> 8) & 255, t & 255
    Path(path).write_bytes(raw.tobytes())
