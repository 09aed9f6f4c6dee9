"""Family adapters (``Family`` in ``_base.py``): how the harness builds inputs, the reference,
the arguments of the timed kernel entry and the correctness check of each kernel family, and
how its rows are summarised and reported. Kernels stay pure; everything benchmark-specific
lives here.

``FAMILIES`` is explicit: the built-in families, plus any added with ``register`` (a family
defined outside the suite -- in a test, a plugin -- needs no suite file edited).
"""

from __future__ import annotations

from . import event_lif, psu, queues, selftest
from ._base import Family, Section

FAMILIES: dict[str, Family] = {m.FAMILY.name: m.FAMILY for m in (event_lif, psu, queues,
                                                                  selftest)}


def register(family: Family) -> Family:
    """Add a family adapter (instance of a ``Family`` subclass); its name must be new."""
    if not isinstance(family, Family):
        raise ValueError(f"a family must be a Family instance, got {type(family).__name__}")
    if not family.name or family.name in FAMILIES:
        raise ValueError(f"family name {family.name!r} is empty or already registered")
    FAMILIES[family.name] = family
    return family


def get(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown family {name!r}; known: {sorted(FAMILIES)}") from None


def units() -> dict[str, tuple[str, ...] | None]:
    """Every family's throughput units and the size columns whose product is their work."""
    out: dict = {}
    for fam in FAMILIES.values():
        out.update(fam.units)
    return out


__all__ = ["FAMILIES", "Family", "Section", "get", "register", "units"]
