"""The implementation registry: a plain dict keyed by (family, impl, framework).

Every function the harness times is registered with a decorator next to its definition in
``kernels/<family>/_<framework>.py``; the decorator returns the function unchanged, so kernels
stay plain functions. One implementation may register several *entries*, one per workload
(e.g. the event-LIF ``parallel`` implementation has ``layer`` for one layer, ``net_forward``
for a network and ``net_grad`` for a training step); the family adapter names the entry a case
runs (``Family.entry``) and only builds its arguments. A registration records the modes,
devices, dtypes and knobs the entry supports.

``load()`` imports the kernel modules listed in ``KERNEL_MODULES`` (an explicit list, no
discovery magic) and records why a framework is unavailable instead of failing when it is not
installed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

# adseq and nest: the field's own code as anchor rows (README "Anchors"), not spikebench kernels
# torch-compile: PyTorch kernels run through torch.compile (their compiled variant, next to the
# eager rows)
FRAMEWORKS = ("numpy", "jax", "torch", "torch-compile", "onnx", "adseq", "nest")
# train: a training loop to a target accuracy over an entry's training steps (the entry
# registers "grad"; the family's ``train`` runs the loop, README "Training to accuracy")
MODES = ("forward", "grad", "train")
DTYPES = ("float32", "float64")


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

    def supports(self, mode: str) -> bool:
        """Whether a case of `mode` runs on this entry (``train``: a loop over its training
        steps, so the entry must register ``grad``)."""
        return ("grad" if mode == "train" else mode) in self.modes


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
        return self.entry("forward" if "forward" in self.entries else next(iter(self.entries)))\
            .fn

    def entry(self, name: str) -> Entry:
        try:
            return self.entries[name]
        except KeyError:
            raise Unsupported(f"{self.key} has no {name!r} entry (it has "
                              f"{sorted(self.entries)})") from None


REGISTRY: dict[tuple[str, str, str], Impl] = {}
UNAVAILABLE: dict[str, str] = {}  # framework -> why it cannot be imported here

# Explicit: every module that registers implementations, per framework.
KERNEL_MODULES: dict[str, list[str]] = {
    "numpy": ["spikebench.kernels.event_lif._numpy", "spikebench.families.selftest"],
    "jax": ["spikebench.kernels.event_lif._jax", "spikebench.kernels.event_lif._parallel_jax",
            "spikebench.kernels.event_lif._net_jax", "spikebench.kernels.psu._jax",
            "spikebench.kernels.queues._jax", "spikebench.kernels.queues._net_jax"],
    "torch": ["spikebench.kernels.event_lif._torch",
              "spikebench.kernels.event_lif._parallel_torch",
              "spikebench.kernels.event_lif._net_torch", "spikebench.kernels.psu._torch",
              "spikebench.kernels.queues._torch", "spikebench.kernels.queues._net_torch"],
    # the exported graphs (torch.onnx) run by ONNX Runtime or a GroqChip (spec/devices.md)
    "onnx": ["spikebench.kernels.event_lif._onnx", "spikebench.kernels.psu._onnx",
             "spikebench.kernels.queues._onnx"],
    # PyTorch kernels registered a second time for torch.compile: the PSU family whole; the
    # parallel event-LIF simulator and the queues' traffic loop and recurrent network with a
    # compiled step; the serial event-LIF simulator and the bare scan as one compiled
    # while_loop each (README "Compiled PyTorch")
    "torch-compile": ["spikebench.kernels.psu._torch", "spikebench.kernels.queues._torch",
                      "spikebench.kernels.queues._net_torch",
                      "spikebench.kernels.event_lif._parallel_torch",
                      "spikebench.kernels.event_lif._net_torch",
                      "spikebench.kernels.event_lif._loop_torch"],
    # anchors: the EventQueues authors' queues (PyPI adseq) and NEST's exact LIF neuron
    "adseq": ["spikebench.kernels.queues._adseq"],
    "nest": ["spikebench.kernels.event_lif._nest"],
}


def register(family: str, impl: str | tuple[str, ...], framework: str, *, entry="forward",
             modes=("forward",), devices=("cpu", "gpu", "tpu"), dtypes=DTYPES, knobs=()):
    """Decorator: add `fn` as entry `entry` of (family, impl, framework) -- of each impl when
    `impl` is a tuple (one function serving several implementations, told apart by a static
    argument). A second registration of the same entry raises."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework {framework!r} is not one of {FRAMEWORKS}")
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
            found.entries[entry] = Entry(entry, fn, module, tuple(modes), tuple(devices),
                                         tuple(dtypes), tuple(knobs))
        return fn

    return deco


def load(frameworks=FRAMEWORKS) -> dict[tuple[str, str, str], Impl]:
    """Import the kernel modules of the given frameworks; returns REGISTRY."""
    for fw in frameworks:
        for mod in KERNEL_MODULES.get(fw, []):
            try:
                importlib.import_module(mod)
            except ImportError as exc:
                UNAVAILABLE[fw] = f"{exc.name or fw} is not installed ({exc})"
    return REGISTRY


def get(family: str, impl: str, framework: str) -> Impl:
    load((framework,))
    try:
        return REGISTRY[(family, impl, framework)]
    except KeyError:
        raise Unsupported(f"no implementation registered for {(family, impl, framework)}") \
            from None
