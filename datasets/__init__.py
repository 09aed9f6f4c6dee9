"""Event datasets: seeded generators now; readers for the real files join later.

``get(name)`` returns a generator ``f(batch, *, n_events=None, seed=0, **kw) -> EventBatch``.
"""

from __future__ import annotations

from ._format import EventBatch, pack
from ._generators import poisson, synthetic_shd

__all__ = ["EventBatch", "pack", "poisson", "synthetic_shd", "DATASETS", "get"]

DATASETS = {"poisson": poisson, "synthetic-shd": synthetic_shd}


def get(name: str):
    """The generator registered under `name`; ValueError naming the known ones otherwise."""
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; known: {sorted(DATASETS)}") from None
