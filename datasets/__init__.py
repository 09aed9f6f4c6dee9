"""Event datasets (spec/datasets.md): one registry of seeded generators and readers for the
real files, all returning the canonical EventBatch (sorted events, float64 seconds, int32
channels, labels).

``load(name, batch, data_dir=..., split=..., start=..., seed=..., n_events=...)`` gives an
EventBatch; ``binned(batch, dt)`` its [T, B, C] view. Readers never download: without their
files they raise a ValueError naming the files they expect. ``available(data_dir)`` says what
this machine can load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ._format import EventBatch, binned, pack
from ._generators import poisson, synthetic_shd
from ._yinyang import yinyang

__all__ = ["EventBatch", "pack", "binned", "poisson", "synthetic_shd", "yinyang", "Dataset",
           "REGISTRY", "DATASETS", "get", "load", "available", "measure"]


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


def _hdf5_open(name, prefix, n_classes):
    def open_(data_dir, split):
        from ._hdf5 import HDF5Events

        path = Path(data_dir) / f"{prefix}_{split}.h5"
        if not path.is_file():
            raise ValueError(f"{name}: {path} not found (expected "
                             f"{', '.join(f'{prefix}_{s}.h5' for s in _splits(prefix))} in "
                             f"{data_dir}; spikebench never downloads)")
        return HDF5Events(path, name, 700, n_classes)

    return open_


def _splits(prefix):
    return ("train", "valid", "test") if prefix == "ssc" else ("train", "test")


def _mnist_open(data_dir, split):
    from ._idx import MNISTLatency

    return MNISTLatency(data_dir, split)


REGISTRY: dict[str, Dataset] = {d.name: d for d in (
    Dataset("poisson", "generator", 700, 0,
            "homogeneous Poisson events: the knob for event-count sweeps", generate=poisson),
    Dataset("synthetic-shd", "generator", 700, 20,
            "SHD stand-in: inhomogeneous speech-like rates, float16 times",
            generate=synthetic_shd),
    Dataset("yinyang", "generator", 5, 3,
            "the Yin-Yang dataset itself (balanced classes, 4 input spikes + bias)",
            generate=yinyang),
    Dataset("shd", "reader", 700, 20, "Spiking Heidelberg Digits (HDF5)",
            open=_hdf5_open("shd", "shd", 20),
            files={s: (f"shd_{s}.h5",) for s in ("train", "test")},
            stand_in="synthetic-shd"),
    Dataset("ssc", "reader", 700, 35, "Spiking Speech Commands (HDF5)",
            open=_hdf5_open("ssc", "ssc", 35),
            files={s: (f"ssc_{s}.h5",) for s in ("train", "valid", "test")},
            stand_in="synthetic-shd"),
    Dataset("mnist-latency", "reader", 784, 10,
            "MNIST from its IDX files, one spike per pixel at t_max (1 - intensity)",
            open=_mnist_open,
            files={"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                   "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}),
)}
# the generators by name (the event families' inputs)
DATASETS = {n: d.generate for n, d in REGISTRY.items() if d.kind == "generator"}


def get(name: str) -> Dataset:
    """The dataset registered under `name`; ValueError naming the known ones otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; known: {sorted(REGISTRY)}") from None


def load(name: str, batch: int = 1, *, data_dir=None, split: str = "train", start: int = 0,
         seed: int = 0, n_events: int | None = None) -> EventBatch:
    """`batch` samples of dataset `name`: generated (seeded), or read from `data_dir`
    (samples start .. start + batch - 1 of `split`, read lazily)."""
    d = get(name)
    if int(batch) < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    if d.kind == "generator":
        return d.generate(int(batch), n_events=n_events, seed=seed)
    if data_dir is None:
        raise ValueError(f"dataset {name!r} reads files: give data_dir (expected "
                         f"{', '.join(f for fs in d.files.values() for f in fs)})")
    if split not in d.files:
        raise ValueError(f"dataset {name!r} has splits {sorted(d.files)}, not {split!r}")
    if n_events is not None:
        raise ValueError(f"dataset {name!r} holds recorded samples: n_events cannot be set")
    src = d.open(data_dir, split)
    if not 0 <= int(start) <= len(src) - int(batch):
        raise ValueError(f"{name} {split}: samples {start} .. {int(start) + int(batch) - 1} "
                         f"requested, the split holds {len(src)}")
    return src.load(range(int(start), int(start) + int(batch)))


def available(data_dir=None) -> list[dict]:
    """Every registered dataset and whether this machine can load it (readers: their files
    in `data_dir`)."""
    out = []
    for d in REGISTRY.values():
        row = {"name": d.name, "kind": d.kind, "n_channels": d.n_channels,
               "n_classes": d.n_classes, "description": d.description}
        if d.kind == "generator":
            row["status"] = "generated"
        elif data_dir is None:
            row["status"] = "no data dir"
        else:
            have = [s for s, fs in d.files.items()
                    if all(_present(Path(data_dir), f) for f in fs)]
            row["status"] = f"files: {', '.join(have)}" if have else "files absent"
        out.append(row)
    return out


def measure(path, limit: int | None = None) -> dict:
    """Statistics of a real file: an SHD/SSC ``.h5`` file (its name says which) or a folder
    with the MNIST IDX files (train split)."""
    path = Path(path)
    if path.is_dir():
        from ._idx import MNISTLatency

        src = MNISTLatency(path, "train")
        n = len(src) if limit is None else min(int(limit), len(src))
        return src.load(range(n)).stats()
    if path.suffix != ".h5":
        raise ValueError(f"{path}: give an SHD/SSC .h5 file or a folder with MNIST IDX files")
    from ._hdf5 import HDF5Events

    name = "ssc" if path.name.startswith("ssc") else "shd"
    src = HDF5Events(path, name, 700, REGISTRY[name].n_classes)
    return src.stats(limit)


def _present(data_dir: Path, name: str) -> bool:
    return (data_dir / name).is_file() or (data_dir / (name + ".gz")).is_file()
