"""scikit-learn's 8x8 handwritten digits, latency coded: a real recorded image set that ships
inside scikit-learn (1,797 samples, 10 classes: the test part of the UCI optical recognition
of handwritten digits set), so it needs no download.

Coding, as the MNIST reader's (``_idx.latency_code``): every pixel whose intensity
x = value / 16 exceeds ``threshold`` spikes once, at t = t_max (1 - x) seconds: bright pixels
fire early. Channel id = row * 8 + column (64 channels).

Split: ``test_fraction`` of every class goes to ``test``, chosen by ``seed`` (stratified; the
rest is ``train``), so both splits keep the classes balanced and every framework trains and
tests on the very same samples.
"""

from __future__ import annotations

import math

import numpy as np

from ._format import EventBatch, pack
from ._idx import latency_code

T_MAX = 0.02  # s
N_CLASSES = 10
N_CHANNELS = 64
FULL_SCALE = 16.0  # pixel values 0 .. 16
SPLITS = ("train", "test")


def _images():
    try:
        from sklearn.datasets import load_digits
    except ImportError:  # pragma: no cover - scikit-learn is a core dependency
        raise ValueError(
            "the digits dataset ships inside scikit-learn: pip install scikit-learn"
        ) from None
    d = load_digits()
    return np.asarray(d.images, np.float64), np.asarray(d.target, np.int64)


def split_indices(labels, seed: int, test_fraction: float) -> dict:
    """Per split, the sample indices (sorted): ``test_fraction`` of each class (rounded, at
    least one) for test, chosen with a NumPy generator seeded by `seed`."""
    if not (isinstance(test_fraction, (int, float)) and 0.0 < test_fraction < 1.0):
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    rng = np.random.default_rng(seed)
    test = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        k = min(len(idx) - 1, max(1, round(test_fraction * len(idx))))
        test.append(rng.choice(idx, size=k, replace=False))
    test = np.sort(np.concatenate(test))
    train = np.setdiff1d(np.arange(len(labels)), test)
    return {"train": train, "test": test}


def digits(
    split: str = "train",
    *,
    seed: int = 0,
    test_fraction: float = 0.2,
    t_max: float = T_MAX,
    threshold: float = 0.0,
) -> EventBatch:
    """The `split` of the digits, latency coded (module docstring): an EventBatch of 64
    channels and 10 classes, samples in their order in scikit-learn's set."""
    if split not in SPLITS:
        raise ValueError(f"digits has splits {list(SPLITS)}, not {split!r}")
    if not (isinstance(t_max, (int, float)) and math.isfinite(t_max) and t_max > 0):
        raise ValueError(f"t_max must be a positive finite number, got {t_max!r}")
    if not (isinstance(threshold, (int, float)) and 0.0 <= threshold < 1.0):
        raise ValueError(f"threshold must lie in [0, 1), got {threshold!r}")
    images, labels = _images()
    idx = split_indices(labels, seed, test_fraction)[split]
    samples = [latency_code(images[i], float(t_max), float(threshold), FULL_SCALE) for i in idx]
    return pack(samples, N_CHANNELS, "digits", [float(t_max)] * len(idx), labels[idx])
