"""MNIST from its four IDX files, latency coded (docs/guide/datasets.md).

IDX layout: two zero bytes, a type byte (0x08 = unsigned byte), the number of dimensions, then
one big-endian int32 per dimension, then the data in C order. The images file holds
(N, 28, 28) and the labels file (N,). Files may also be gzipped (``*.gz``); a gzipped file is
inflated once into memory (bounded: ``read_idx``), a plain one is memory-mapped so only the
requested samples are read.

Latency code: every pixel whose intensity x = value / 255 exceeds ``threshold`` spikes once, at
t = t_max (1 - x) seconds — bright pixels fire early. Channel id = row * 28 + column (784
channels), 10 classes.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np

from ..untrusted import read_gzip, regular_file
from ._format import EventBatch, pack

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
T_MAX = 0.02  # s
THRESHOLD = 0.0


MAX_GZIP_BYTES = 128 * 2**20  # MNIST's largest file inflates to 47 MB


def _declared(path, head: bytes) -> int:
    """The file size an IDX header declares (ValueError naming the file for a bad one)."""
    if len(head) < 4 or head[:2] != b"\0\0":
        raise ValueError(f"{path}: not an IDX file (bad magic number {head[:4].hex()!r})")
    if head[2] != 0x08:
        raise ValueError(f"{path}: IDX element type 0x{head[2]:02x} is not unsigned byte (0x08)")
    ndim = head[3]
    if len(head) < 4 + 4 * ndim:
        raise ValueError(f"{path}: truncated IDX header")
    dims = tuple(int(d) for d in np.frombuffer(head[4 : 4 + 4 * ndim], dtype=">i4"))
    if any(d < 0 for d in dims):
        raise ValueError(f"{path}: IDX header gives a negative dimension {dims}")
    return 4 + 4 * ndim + (math.prod(dims) if dims else 0)


def read_idx(path) -> np.ndarray:
    """An IDX file as an array; ValueError naming the file and the problem for a bad magic
    number, an unsupported type, a truncated or overlong body, or anything but a regular file.

    A plain file is memory-mapped (only the samples asked for are read). A gzipped one is
    inflated into memory up to the size its header declares, at most ``MAX_GZIP_BYTES``
    (``untrusted.read_gzip``: a small file that inflates to gigabytes is refused after one
    slice, not after filling memory); decompress a larger file to have it memory-mapped."""
    path = Path(path)
    if path.suffix == ".gz":
        raw = read_gzip(
            path, MAX_GZIP_BYTES, "gzipped IDX file", size_of=lambda head: _declared(path, head)
        )
        size = len(raw)
        head = bytes(raw[:1024])
    else:
        regular_file(path, "IDX file")
        with open(path, "rb") as fh:
            head = fh.read(1024)
        raw, size = None, path.stat().st_size
    declared = _declared(path, head)
    ndim = head[3]
    dims = tuple(int(d) for d in np.frombuffer(head[4 : 4 + 4 * ndim], dtype=">i4"))
    body = 4 + 4 * ndim
    if size != declared:
        raise ValueError(
            f"{path}: IDX body holds {size - body} bytes, its header "
            f"{dims} needs {declared - body} (truncated?)"
        )
    if raw is not None:
        return np.frombuffer(raw, dtype=np.uint8, offset=body).reshape(dims)
    return np.memmap(path, dtype=np.uint8, mode="r", offset=body, shape=dims)


def _find(data_dir: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
        if (data_dir / name).is_file():
            return data_dir / name
    return None


class MNISTLatency:
    """One MNIST split from `data_dir`, latency coded on demand."""

    name, n_channels, n_classes = "mnist-latency", 784, 10

    def __init__(
        self, data_dir, split: str = "train", t_max: float = T_MAX, threshold: float = THRESHOLD
    ):
        if split not in FILES:
            raise ValueError(f"MNIST split must be one of {sorted(FILES)}, got {split!r}")
        if not (t_max > 0 and np.isfinite(t_max)):
            raise ValueError(f"t_max must be a positive finite number, got {t_max}")
        if not 0.0 <= threshold < 1.0:
            raise ValueError(f"threshold must be in [0, 1), got {threshold}")
        data_dir = Path(data_dir)
        found = [_find(data_dir, s) for s in FILES[split]]
        if None in found:
            raise ValueError(
                f"{data_dir}: MNIST {split} files not found; expected "
                f"{' and '.join(FILES[split])} (optionally .gz)"
            )
        self.images, self.labels = read_idx(found[0]), read_idx(found[1])
        if self.images.ndim != 3 or self.images.shape[1:] != (28, 28):
            raise ValueError(
                f"{found[0]}: images have shape {self.images.shape}, expected (N, 28, 28)"
            )
        if self.labels.shape != (self.images.shape[0],):
            raise ValueError(
                f"{found[1]}: {self.labels.shape} labels for {self.images.shape[0]} images"
            )
        self.t_max, self.threshold = float(t_max), float(threshold)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def load(self, indices) -> EventBatch:
        samples, labels = [], []
        for i in indices:
            i = int(i)
            if not 0 <= i < len(self):
                raise ValueError(f"MNIST sample index {i} out of range ({len(self)} samples)")
            label = int(self.labels[i])
            if label > 9:
                raise ValueError(f"MNIST label {label} of sample {i} outside [0, 10)")
            samples.append(latency_code(self.images[i], self.t_max, self.threshold))
            labels.append(label)
        return pack(samples, self.n_channels, self.name, [self.t_max] * len(samples), labels)


def latency_code(
    image, t_max: float = T_MAX, threshold: float = THRESHOLD, full_scale: float = 255.0
):
    """(times, channels) of one image of values 0 .. `full_scale` (uint8: 255): pixels with
    x = v / full_scale > threshold spike at t_max (1 - x)."""
    x = np.asarray(image, np.float64).reshape(-1) / full_scale
    ch = np.nonzero(x > threshold)[0]
    return t_max * (1.0 - x[ch]), ch.astype(np.int64)


def write_idx(path, array) -> None:
    """Write a uint8 array as an IDX file (tests, and users converting their own images)."""
    a = np.ascontiguousarray(array, np.uint8)
    header = bytes([0, 0, 0x08, a.ndim]) + np.asarray(a.shape, ">i4").tobytes()
    data = header + a.tobytes()
    Path(path).write_bytes(gzip.compress(data) if str(path).endswith(".gz") else data)
