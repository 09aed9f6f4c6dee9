"""Family adapters, one package per family (``spikebench.families.<name>``: the adapter, its
report page and headline, its training task and its sweeps), all subclasses of the abstract
``Family`` (``_base.py``). Kernels stay pure in ``spikebench.kernels.<name>``; everything
benchmark-specific lives here.

``FAMILIES`` holds the built-in families and any added with ``register`` -- by a plugin
(``spikebench.plugins``), a test, a notebook -- so a new family needs no suite file edited.
Importing this package imports the installed plugins (last, so that they find ``register``
and ``Family`` here): every process that looks a family up, workers included, has them.
"""

from __future__ import annotations

import importlib

from .. import plugins, registry
from . import event_lif, psu, queues, selftest
from ._base import Family, Section

FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    """Add a family adapter (an instance of a ``Family`` subclass); its name must be new.
    Its kernel modules are imported by ``load_kernels``."""
    if not isinstance(family, Family):
        raise ValueError(f"a family must be a Family instance, got {type(family).__name__}")
    if not family.name or family.name in FAMILIES:
        raise ValueError(f"family name {family.name!r} is empty or already registered")
    FAMILIES[family.name] = family
    return family


for _module in (event_lif, psu, queues, selftest):
    register(_module.FAMILY)


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


def load_kernels(frameworks=None) -> dict[tuple[str, str, str], registry.Impl]:
    """Import every family's kernel modules of the given frameworks (default: all), so that
    their ``registry.register`` decorators run; a framework whose library is not installed is
    noted in ``registry.UNAVAILABLE`` with the reason, not raised. Returns the registry."""
    for fam in FAMILIES.values():
        for fw, modules in fam.kernel_modules.items():
            if frameworks is not None and fw not in frameworks:
                continue
            for mod in modules:
                try:
                    importlib.import_module(mod)
                except ImportError as exc:
                    registry.UNAVAILABLE[fw] = f"{exc.name or fw} is not installed ({exc})"
    return registry.REGISTRY


def entry_name(case, impl: registry.Impl) -> str:
    """The registered entry a case times: a `train` case of an implementation that brings its
    own training run (a peer library's example, registered as entry "train") runs that; every
    other case the family's entry (``Family.entry``)."""
    if case.mode == "train" and "train" in impl.entries:
        return "train"
    return get(case.family).entry(case)


def implementation(family: str, impl: str, framework: str) -> registry.Impl:
    """The registered (family, impl, framework), its framework's kernels loaded first;
    ``registry.Unsupported`` when there is none."""
    load_kernels((framework,))
    try:
        return registry.REGISTRY[(family, impl, framework)]
    except KeyError:
        raise registry.Unsupported(
            f"no implementation registered for {(family, impl, framework)}"
        ) from None


__all__ = [
    "FAMILIES",
    "Family",
    "Section",
    "entry_name",
    "get",
    "implementation",
    "load_kernels",
    "register",
    "units",
]

plugins.load()  # last: a plugin imports this package and calls register
