"""The implementation registry: a plain dict keyed by (family, impl, framework).

Every function the harness times is registered with a decorator next to its definition in
``kernels/<family>/_<framework>.py``; the decorator returns the function unchanged, so kernels
stay plain functions. One implementation may register several *entries*, one per workload
(e.g. the event-LIF ``parallel`` implementation has ``layer`` for one layer, ``net_forward``
for a network and ``net_grad`` for a training step); the family adapter names the entry a case
runs (``Family.entry``) and only builds its arguments. A registration records the modes,
devices, dtypes and knobs the entry supports.

Which modules hold a family's kernels is the family's own data (``Family.kernel_modules``);
``families.load_kernels`` imports them and records why a framework is unavailable instead of
failing when it is not installed, and ``families.implementation`` looks one up. This module
holds only the registry itself, so kernels import it without importing the suite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .rows import DTYPES, FRAMEWORKS, MODES


class Unsupported(Exception):
    """An implementation cannot run this case (the harness records status `unsupported`)."""


@dataclass(frozen=True)
class Entry:
    """One registered timed callable: what it runs and the cases it supports."""

    name: str
    fn: Callable = field(compare=False, repr=False)
    module: str = ""  # hashed (with what it imports) into kernel_version
    modes: tuple[str, ...] = ("forward",)
    devices: tuple[str, ...] = ("cpu", "gpu", "tpu")
    dtypes: tuple[str, ...] = DTYPES
    knobs: tuple[str, ...] = ()
    # host-side, untimed: convert(out, case, static) turns the entry's own output (as NumPy)
    # into the form the family checks (a peer library timed in its own form, e.g. jaxsnn's
    # event list -> per-neuron spike buffers); fit(converted, case, static) returns the static
    # arguments the timed calls should use (e.g. the tightest event budget), or None
    convert: Callable | None = field(default=None, compare=False, repr=False)
    fit: Callable | None = field(default=None, compare=False, repr=False)

    def supports(self, mode: str) -> bool:
        """Whether a case of `mode` runs on this entry (``train``: a loop over its training
        steps, so the entry must register ``grad``, or a whole training run of its own -- a
        peer library's -- registered as mode ``train``)."""
        return mode in self.modes or (mode == "train" and "grad" in self.modes)


@dataclass(frozen=True)
class Impl:
    family: str
    impl: str
    framework: str
    entries: dict[str, Entry] = field(default_factory=dict, compare=False, repr=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.family, self.impl, self.framework)

    @property
    def modes(self) -> tuple[str, ...]:
        return tuple(m for m in MODES if any(m in e.modes for e in self.entries.values()))

    @property
    def fn(self) -> Callable:
        """The ``forward`` entry, or the only one."""
        return self.entry("forward" if "forward" in self.entries else next(iter(self.entries))).fn

    def entry(self, name: str) -> Entry:
        try:
            return self.entries[name]
        except KeyError:
            raise Unsupported(
                f"{self.key} has no {name!r} entry (it has {sorted(self.entries)})"
            ) from None


REGISTRY: dict[tuple[str, str, str], Impl] = {}
UNAVAILABLE: dict[str, str] = {}  # framework -> why it cannot be imported here


def register(
    family: str,
    impl: str | tuple[str, ...],
    framework: str,
    *,
    entry="forward",
    modes=("forward",),
    devices=("cpu", "gpu", "tpu"),
    dtypes=DTYPES,
    knobs=(),
    convert=None,
    fit=None,
):
    """Decorator: add `fn` as entry `entry` of (family, impl, framework) -- of each impl when
    `impl` is a tuple (one function serving several implementations, told apart by a static
    argument). `convert` and `fit` (optional, untimed): the entry's output as the family's
    check reads it, and the static arguments its timed calls should use (``Entry``).
    A second registration of the same entry raises."""
    if framework not in FRAMEWORKS:
        raise ValueError(
            f"framework {framework!r} is not one of {FRAMEWORKS} (a plugin adds "
            f"one with spikebench.hardware.frameworks.register)"
        )
    bad = set(modes) - set(MODES)
    if bad:
        raise ValueError(f"unknown mode(s) {sorted(bad)}; known: {MODES}")
    bad = set(dtypes) - set(DTYPES)
    if bad:
        raise ValueError(f"unknown dtype(s) {sorted(bad)}; known: {DTYPES}")
    impls = (impl,) if isinstance(impl, str) else tuple(impl)

    def deco(fn):
        module = getattr(fn, "__module__", "") or ""
        for name in impls:
            key = (family, name, framework)
            found = REGISTRY.setdefault(key, Impl(family, name, framework))
            if entry in found.entries:
                raise ValueError(f"duplicate registration for {key} entry {entry!r}")
            found.entries[entry] = Entry(
                entry,
                fn,
                module,
                tuple(modes),
                tuple(devices),
                tuple(dtypes),
                tuple(knobs),
                convert,
                fit,
            )
        return fn

    return deco
