"""Readers for the Spiking Heidelberg Digits (SHD) and Spiking Speech Commands (SSC) files.

Layout (one HDF5 file per split, e.g. ``shd_train.h5``, ``ssc_valid.h5``)::

    spikes/times   (N,) variable-length float16 arrays, seconds
    spikes/units   (N,) variable-length uint16 arrays, channel ids 0 .. 699
    labels         (N,) uint16 class ids (SHD 20 classes, SSC 35)
    extra/...      speaker, keys, meta (not needed here)

Times are cast to float64 *before* anything else touches them: float16 stops at 65504 and its
spacing near 1 s is ~1 ms, so arithmetic in float16 would overflow or merge events. Ties (equal
float16 times) are common; the canonical order breaks them by channel id (``_format.pack``).
Samples that are not sorted by time are sorted and counted in ``HDF5Events.n_resorted`` (the real
files are sorted). Loading is lazy: only the requested samples are read from disk, so
benchmarking 64 SSC samples never touches the other 75,000.

Anything a reader cannot trust — a missing key, lengths that disagree, negative or non-finite
times, channel ids or labels out of range, a truncated file — is a ``ValueError`` naming the
file, the sample and the problem.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..untrusted import regular_file
from ._format import EventBatch, integers, pack, seconds

KEYS = ("spikes/times", "spikes/units", "labels")


def _h5py():
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is in the `data` and `dev` extras
        raise ImportError(
            "reading SHD/SSC files needs h5py: pip install 'spikebench[data]'"
        ) from None
    return h5py


class HDF5Events:
    """One SHD/SSC split, opened lazily. ``len()`` is the number of samples; ``load(indices)``
    reads those samples into an EventBatch."""

    def __init__(self, path, name: str, n_channels: int, n_classes: int):
        self.path = Path(path)
        self.name, self.n_channels, self.n_classes = name, int(n_channels), int(n_classes)
        self.n_resorted = 0
        regular_file(self.path, "SHD/SSC file")  # not a device, pipe or folder
        with self._open() as f:
            missing = [k for k in KEYS if k not in f]
            if missing:
                raise ValueError(
                    f"{self.path}: not an SHD/SSC file, missing key(s) "
                    f"{', '.join(missing)} (expected {', '.join(KEYS)})"
                )
            groups = [k for k in KEYS if not isinstance(f[k], _h5py().Dataset)]
            if groups:
                raise ValueError(
                    f"{self.path}: {', '.join(groups)} must be a dataset (an array), not a group"
                )
            n = [f[k].shape[0] if f[k].shape else -1 for k in KEYS]
            if len(set(n)) != 1:
                raise ValueError(
                    f"{self.path}: spikes/times, spikes/units and labels have different lengths {n}"
                )
            self._len = n[0]

    def _open(self):
        try:
            return _h5py().File(self.path, "r")
        except OSError as exc:
            raise ValueError(
                f"{self.path}: not a readable HDF5 file (truncated or corrupt?): {exc}"
            ) from None

    def __len__(self) -> int:
        return self._len

    def load(self, indices) -> EventBatch:
        idx = [int(i) for i in indices]
        bad = [i for i in idx if not 0 <= i < self._len]
        if bad:
            raise ValueError(
                f"{self.path}: sample index {bad[0]} out of range (the file holds {self._len})"
            )
        samples, durations, labels = [], [], []
        with self._open() as f:
            times, units, labs = f["spikes/times"], f["spikes/units"], f["labels"]
            for i in idx:
                where = f"{self.path}: sample {i}"
                try:
                    t_raw, c_raw, lab_raw = times[i], units[i], labs[i]
                except (OSError, RuntimeError) as exc:
                    raise ValueError(f"{where} cannot be read (truncated file?): {exc}") from None
                t = seconds(t_raw, where)  # float16 -> float64 first
                c = integers(c_raw, "unit (channel id)", where)
                if np.size(lab_raw) != 1:
                    raise ValueError(
                        f"{where}: label must be one number, got shape {np.shape(lab_raw)}"
                    )
                lab = int(integers(np.reshape(lab_raw, 1), "label", where, events=False)[0])
                self._check(i, t, c, lab)
                if t.size > 1 and np.any(np.diff(t) < 0):
                    self.n_resorted += 1
                samples.append((t, c))
                durations.append(float(t.max()) if t.size else 0.0)
                labels.append(lab)
        return pack(samples, self.n_channels, self.name, durations, labels)

    def _check(self, i, t, c, label):
        where = f"{self.path}: sample {i}"
        if t.shape != c.shape:
            raise ValueError(f"{where}: {t.size} times but {c.size} units")
        if not np.all(np.isfinite(t)):
            raise ValueError(f"{where}: non-finite time at event {int(np.argmin(np.isfinite(t)))}")
        if t.size and t.min() < 0:
            raise ValueError(f"{where}: negative time {t.min()} at event {int(np.argmin(t))}")
        if c.size and (c.min() < 0 or c.max() >= self.n_channels):
            k = int(np.argmax((c < 0) | (c >= self.n_channels)))
            raise ValueError(
                f"{where}: channel id {c[k]} at event {k} outside [0, {self.n_channels})"
            )
        if not 0 <= label < self.n_classes:
            raise ValueError(f"{where}: label {label} outside [0, {self.n_classes})")


def write(path, samples, labels, n_channels: int = 700) -> None:
    """Write (times, units) samples in the SHD/SSC layout (float16 times, uint16 units) — for
    tests and for users who convert their own recordings."""
    h5py = _h5py()
    with h5py.File(path, "w") as f:
        vt = h5py.vlen_dtype(np.dtype("float16"))
        vu = h5py.vlen_dtype(np.dtype("uint16"))
        t = f.create_dataset("spikes/times", (len(samples),), dtype=vt)
        u = f.create_dataset("spikes/units", (len(samples),), dtype=vu)
        for i, (ts, us) in enumerate(samples):
            t[i] = np.asarray(ts, np.float16)
            u[i] = np.asarray(us, np.uint16)
        f.create_dataset("labels", data=np.asarray(labels, np.uint16))
        f.create_dataset("extra/speaker", data=np.zeros(len(samples), np.uint16))
        f.attrs["n_channels"] = n_channels
