"""Event datasets (docs/guide/datasets.md): one registry of seeded generators and readers for the
real files, all returning the canonical EventBatch (sorted events, float64 seconds, int32
channels, labels).

``load(name, batch, data_dir=..., split=..., start=..., seed=..., n_events=...)`` gives an
EventBatch; ``binned(batch, dt)`` its [T, B, C] view (``binned_span(batch, T)``: T bins over
each sample's own duration). Readers never download: without their
files they raise a ValueError naming the files they expect. ``available(data_dir)`` says what
this machine can load.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from .. import untrusted
from . import _standins
from ._digits import digits
from ._format import EventBatch, binned, binned_span, measure_source, pack
from ._generators import poisson, synthetic_shd
from ._timing import timing
from ._yinyang import yinyang

__all__ = [
    "EventBatch",
    "pack",
    "binned",
    "binned_span",
    "poisson",
    "synthetic_shd",
    "yinyang",
    "digits",
    "timing",
    "Dataset",
    "REGISTRY",
    "DATASETS",
    "get",
    "load",
    "stream",
    "available",
    "measure",
    "stats_label",
    "read_stats",
]


@dataclass(frozen=True)
class Dataset:
    """One registered dataset. Generators have ``generate(batch, n_events=, seed=)``; readers
    have ``open(data_dir, split)`` returning a source with ``len()`` and ``load(indices)``,
    the files they look for per split, and the generator that stands in for them."""

    name: str
    kind: str  # "generator" | "reader"
    n_channels: int
    n_classes: int
    description: str
    generate: Callable | None = None
    open: Callable | None = None
    files: dict = field(default_factory=dict)
    stand_in: str | None = None
    follows_stats: bool = False  # the generator takes stats= (measured on a real file)


def _hdf5_open(name, prefix, n_classes):
    def open_(data_dir, split):
        from ._hdf5 import HDF5Events

        path = Path(data_dir) / f"{prefix}_{split}.h5"
        if not path.is_file():
            raise ValueError(
                f"{name}: {path} not found (expected "
                f"{', '.join(f'{prefix}_{s}.h5' for s in _splits(prefix))} in "
                f"{data_dir}; spikebench never downloads)"
            )
        return HDF5Events(path, name, 700, n_classes)

    return open_


def _splits(prefix):
    return ("train", "valid", "test") if prefix == "ssc" else ("train", "test")


def _tonic_open(kind):
    def open_(data_dir, split):
        from . import _tonic

        return getattr(_tonic, kind)(data_dir, split)

    return open_


def _mnist_open(data_dir, split):
    from ._idx import MNISTLatency

    return MNISTLatency(data_dir, split)


REGISTRY: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "poisson",
            "generator",
            700,
            0,
            "homogeneous Poisson events: the knob for event-count sweeps",
            generate=poisson,
        ),
        Dataset(
            "synthetic-shd",
            "generator",
            700,
            20,
            "SHD stand-in: inhomogeneous speech-like rates, float16 times",
            generate=synthetic_shd,
            follows_stats=True,
        ),
        Dataset(
            "yinyang",
            "generator",
            5,
            3,
            "the Yin-Yang dataset itself (balanced classes, 4 input spikes + bias)",
            generate=yinyang,
        ),
        Dataset(
            "timing",
            "generator",
            4,
            4,
            "spike-timing classes: 4 channels of 3-spike bursts, classes differ only in onset "
            "times (the queue network's delay training)",
            generate=timing,
        ),
        Dataset(
            "synthetic-ssc",
            "generator",
            700,
            35,
            "SSC stand-in: the SHD speech model with 35 classes",
            generate=_standins.synthetic_ssc,
            follows_stats=True,
        ),
        Dataset(
            "synthetic-mnist-latency",
            "generator",
            784,
            10,
            "MNIST stand-in: latency-coded random stroke images",
            generate=_standins.synthetic_mnist_latency,
        ),
        *(
            Dataset(
                name,
                "generator",
                2 * w * h,
                k,
                f"{name[10:]} stand-in: a blob over {s} saccade(s) on a {w}x{h} sensor, "
                f"integer-microsecond times",
                generate=partial(_standins.camera, name),
                follows_stats=True,
            )
            for name, (w, h, k, _, _, _, s) in _standins.CAMERA.items()
        ),
        Dataset(
            "shd",
            "reader",
            700,
            20,
            "Spiking Heidelberg Digits (HDF5)",
            open=_hdf5_open("shd", "shd", 20),
            files={s: (f"shd_{s}.h5",) for s in ("train", "test")},
            stand_in="synthetic-shd",
        ),
        Dataset(
            "ssc",
            "reader",
            700,
            35,
            "Spiking Speech Commands (HDF5)",
            open=_hdf5_open("ssc", "ssc", 35),
            files={s: (f"ssc_{s}.h5",) for s in ("train", "valid", "test")},
            stand_in="synthetic-ssc",
        ),
        Dataset(
            "nmnist",
            "reader",
            2 * 34 * 34,
            10,
            "N-MNIST (tonic's layout, .bin files)",
            open=_tonic_open("nmnist"),
            files={"train": ("NMNIST/Train/",), "test": ("NMNIST/Test/",)},
            stand_in="synthetic-nmnist",
        ),
        Dataset(
            "dvs-gesture",
            "reader",
            2 * 128 * 128,
            11,
            "DVS Gesture (tonic's converted .npy layout)",
            open=_tonic_open("dvs_gesture"),
            files={
                "train": ("DVSGesture/ibmGestureTrain/",),
                "test": ("DVSGesture/ibmGestureTest/",),
            },
            stand_in="synthetic-dvs-gesture",
        ),
        Dataset(
            "cifar10-dvs",
            "reader",
            2 * 128 * 128,
            10,
            "CIFAR10-DVS (.aedat4, via tonic)",
            open=_tonic_open("cifar10_dvs"),
            files={"train": ("CIFAR10DVS/",)},
            stand_in="synthetic-cifar10-dvs",
        ),
        Dataset(
            "mnist-latency",
            "reader",
            784,
            10,
            "MNIST from its IDX files, one spike per pixel at t_max (1 - intensity)",
            open=_mnist_open,
            files={
                "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
            },
            stand_in="synthetic-mnist-latency",
        ),
    )
}
# the generators by name (the event families' inputs)
DATASETS = {n: d.generate for n, d in REGISTRY.items() if d.kind == "generator"}


def get(name: str) -> Dataset:
    """The dataset registered under `name`; ValueError naming the known ones otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; known: {sorted(REGISTRY)}") from None


def load(
    name: str,
    batch: int = 1,
    *,
    data_dir=None,
    split: str = "train",
    start: int = 0,
    seed: int = 0,
    n_events: int | None = None,
) -> EventBatch:
    """`batch` samples of dataset `name`: generated (seeded), or read from `data_dir`
    (samples start .. start + batch - 1 of `split`, read lazily)."""
    d = get(name)
    if int(batch) < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    if d.kind == "generator":
        return d.generate(int(batch), n_events=n_events, seed=seed)
    if data_dir is None:
        raise ValueError(
            f"dataset {name!r} reads files: give data_dir (expected "
            f"{', '.join(f for fs in d.files.values() for f in fs)})"
        )
    if split not in d.files:
        raise ValueError(f"dataset {name!r} has splits {sorted(d.files)}, not {split!r}")
    if n_events is not None:
        raise ValueError(f"dataset {name!r} holds recorded samples: n_events cannot be set")
    src = d.open(data_dir, split)
    if not 0 <= int(start) <= len(src) - int(batch):
        raise ValueError(
            f"{name} {split}: samples {start} .. {int(start) + int(batch) - 1} "
            f"requested, the split holds {len(src)}"
        )
    return src.load(range(int(start), int(start) + int(batch)))


# generators that make a sample of any size on any number of channels
SIZED = ("poisson", "synthetic-shd", "synthetic-ssc")


def stats_label(name: str, stats_file) -> str:
    """The dataset label of a stand-in following the statistics in `stats_file`:
    ``NAME@<first 8 hex of the file's sha1>`` (rows of different statistics never pool)."""
    import hashlib

    d = get(name)
    if not d.follows_stats:
        raise ValueError(
            f"dataset {name!r} does not follow measured statistics; these do: "
            f"{sorted(n for n, x in REGISTRY.items() if x.follows_stats)}"
        )
    read_stats(stats_file)
    data = untrusted.read_bytes(stats_file, MAX_STATS_BYTES, "statistics file")
    return f"{name}@{hashlib.sha1(data).hexdigest()[:8]}"


STATS_KEYS = ("events_log_mean", "events_log_sigma", "duration_mean_s")
MAX_STATS_BYTES = 2**20  # a saved statistics file is ~1 kB


def read_stats(stats_file) -> dict:
    """Statistics saved by ``spikebench datasets stats FILE --save``; ValueError naming the
    file and what is missing."""
    path = Path(stats_file)
    try:
        stats = untrusted.load_json(path, MAX_STATS_BYTES)
    except ValueError as exc:
        raise ValueError(f"{path}: not a readable statistics file: {exc}") from None
    missing = [k for k in STATS_KEYS if not isinstance(stats, dict) or k not in stats]
    if missing:
        raise ValueError(
            f"{path}: statistics file lacks {', '.join(missing)} (write it with "
            f"`spikebench datasets stats FILE --save`)"
        )
    return stats


def stream(
    name: str,
    batch: int = 1,
    n_events: int | None = None,
    *,
    n_channels: int | None = None,
    data_dir=None,
    split: str = "train",
    seed: int = 0,
    stats_file=None,
    rate_hz: float | None = None,
) -> EventBatch:
    """`batch` rows of exactly `n_events` events each from dataset `name` (None: one sample
    per row, as recorded or generated) — the input of the event-driven benchmarks.

    ``poisson`` and ``synthetic-shd`` generate rows of that size directly. Every other source
    is streamed: consecutive samples are laid back to back in time (each shifted by the
    durations before it) and the stream is cut after `n_events` events, so a row of 10^5
    events from SHD is ~25 utterances in a row. Reader rows start at sample `seed` of the
    split and wrap around; the row's label is its first sample's. `n_channels` must match the
    dataset's (only the sized generators take any). A label ``NAME@hash`` (``stats_label``)
    means NAME following the statistics in `stats_file`, whose hash must match. `rate_hz`
    (``poisson`` only): input events per second over all channels (default 20 Hz a
    channel), so a row of n_events spans n_events / rate_hz seconds."""
    label, name = name, name.split("@")[0]
    d = get(name)
    kw_stats = {}
    if label != name or stats_file is not None:
        if stats_file is None or stats_label(name, stats_file) != label:
            raise ValueError(
                f"dataset {label!r} needs the statistics file it was labelled "
                f"with (stats_file={stats_file!r})"
            )
        kw_stats = {"stats": read_stats(stats_file)}
    if int(batch) < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    if n_events is not None and int(n_events) < 0:
        raise ValueError(f"n_events must be >= 0, got {n_events}")
    if rate_hz is not None:
        if name != "poisson":
            raise ValueError(
                f"rate_hz sets the Poisson generator's rate; dataset {name!r} has its own"
            )
        if not (float(rate_hz) > 0 and math.isfinite(float(rate_hz))):
            raise ValueError(f"rate_hz must be a positive finite number, got {rate_hz!r}")
    if name in SIZED:
        kw = {} if n_channels is None else {"n_channels": int(n_channels)}
        if rate_hz is not None:
            kw["rate"] = float(rate_hz) / int(
                n_channels if n_channels is not None else d.n_channels
            )
        ev = d.generate(int(batch), n_events=n_events, seed=seed, **kw, **kw_stats)
        return ev._replace(name=label)
    if n_channels is not None and int(n_channels) != d.n_channels:
        raise ValueError(f"dataset {name!r} has {d.n_channels} channels, not {n_channels}")
    if n_events is None:
        if d.kind == "generator":
            return d.generate(int(batch), seed=seed, **kw_stats)._replace(name=label)
        return load(
            name,
            batch,
            data_dir=data_dir,
            split=split,
            start=int(seed) % max(1, len(d.open(data_dir, split)) - int(batch) + 1),
        )
    samples = _samples(d, data_dir, split, seed, kw_stats)
    rows, durations, labels = [], [], []
    for _ in range(int(batch)):
        ts, cs, offset, total, first = [], [], 0.0, 0, None
        while total < int(n_events):
            t, c, dur, lab = next(samples)
            k = min(len(t), int(n_events) - total)
            ts.append(t[:k] + offset)
            cs.append(c[:k])
            first = lab if first is None else first
            offset += dur if k == len(t) else float(t[k - 1]) if k else 0.0
            total += k
        rows.append(
            (
                np.concatenate(ts) if ts else np.zeros(0),
                np.concatenate(cs) if cs else np.zeros(0, np.int64),
            )
        )
        durations.append(offset)
        labels.append(-1 if first is None else first)
    return pack(rows, d.n_channels, label, durations, labels)


def _samples(d: Dataset, data_dir, split, seed, kw_stats, block: int = 64):
    """Endless (times, channels, duration, label) samples of `d`, read or generated in
    blocks; ValueError if a whole pass holds no event (the stream would never fill)."""
    if d.kind == "generator":
        source, n = None, None
        block = min(block, 8)  # camera stand-ins hold ~10^5 events per sample
    else:
        if data_dir is None:
            raise ValueError(f"dataset {d.name!r} reads files: give data_dir")
        source = d.open(data_dir, split)
        n = len(source)
        if n == 0:
            raise ValueError(f"{d.name} {split}: the split holds no sample")
    pos, gen_seed, since_event = int(seed) % n if n else 0, int(seed), 0
    while True:
        if source is None:
            ev = d.generate(block, seed=gen_seed, **kw_stats)
            gen_seed += 1_000_003
        else:
            idx = [(pos + j) % n for j in range(min(block, n))]
            pos = (pos + len(idx)) % n
            ev = source.load(idx)
        for b in range(len(ev.counts)):
            c = int(ev.counts[b])
            since_event = 0 if c else since_event + 1
            if n and since_event > n:
                raise ValueError(f"{d.name} {split}: no sample holds an event")
            yield (
                ev.times[b, :c],
                ev.channels[b, :c].astype(np.int64),
                float(ev.duration[b]),
                int(ev.labels[b]),
            )


def available(data_dir=None) -> list[dict]:
    """Every registered dataset and whether this machine can load it (readers: their files
    in `data_dir`)."""
    out = []
    for d in REGISTRY.values():
        row = {
            "name": d.name,
            "kind": d.kind,
            "n_channels": d.n_channels,
            "n_classes": d.n_classes,
            "description": d.description,
        }
        if d.kind == "generator":
            row["status"] = "generated"
        elif data_dir is None:
            row["status"] = "no data dir"
        else:
            have = [s for s, fs in d.files.items() if all(_present(Path(data_dir), f) for f in fs)]
            row["status"] = f"files: {', '.join(have)}" if have else "files absent"
        out.append(row)
    return out


def measure(path, limit: int | None = None) -> dict:
    """Statistics of real files (``_format.measure_source``): an SHD/SSC ``.h5`` file (its
    name says which), or a folder holding one of the other readers' train split."""
    path = Path(path)
    if path.suffix == ".h5" and (path.exists() or path.is_symlink()):  # the reader checks it
        from ._hdf5 import HDF5Events

        name = "ssc" if path.name.startswith("ssc") else "shd"
        return measure_source(HDF5Events(path, name, 700, REGISTRY[name].n_classes), name, limit)
    if not path.is_dir():
        raise ValueError(
            f"{path}: give an SHD/SSC .h5 file or a folder with another dataset's files"
        )
    for d in REGISTRY.values():
        if (
            d.kind == "reader"
            and "train" in d.files
            and all(_present(path, f) for f in d.files["train"])
        ):
            return measure_source(d.open(path, "train"), d.name, limit)
    raise ValueError(f"{path}: no dataset's train files found (see `spikebench datasets`)")


def _present(data_dir: Path, name: str) -> bool:
    if name.endswith("/"):
        return (data_dir / name).is_dir()
    return (data_dir / name).is_file() or (data_dir / (name + ".gz")).is_file()
