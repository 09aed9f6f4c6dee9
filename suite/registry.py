"""The implementation registry: a plain dict keyed by (family, impl, framework).

Each implementation registers itself with a decorator next to its definition; the decorator
returns the function unchanged, so kernels stay plain functions. ``load()`` imports the kernel
modules listed in ``KERNEL_MODULES`` (an explicit list, no discovery magic) and records why a
framework is unavailable instead of failing when it is not installed.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

FRAMEWORKS = ("numpy", "jax", "torch", "onnx")
MODES = ("forward", "grad")


class Unsupported(Exception):
    """An implementation cannot run this case (the harness records status `unsupported`)."""


@dataclass(frozen=True)
class Impl:
    family: str
    impl: str
    framework: str
    fn: Callable = field(compare=False, repr=False)
    modes: tuple[str, ...] = ("forward",)
    devices: tuple[str, ...] = ("cpu", "gpu", "tpu")
    knobs: tuple[str, ...] = ()
    source: str = ""  # module file, hashed into kernel_version

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.family, self.impl, self.framework)


REGISTRY: dict[tuple[str, str, str], Impl] = {}
UNAVAILABLE: dict[str, str] = {}  # framework -> why it cannot be imported here

# Explicit: every module that registers implementations, per framework.
KERNEL_MODULES: dict[str, list[str]] = {
    "numpy": ["spikebench.kernels.event_lif._numpy", "spikebench.families.selftest"],
    "jax": ["spikebench.kernels.event_lif._jax", "spikebench.kernels.event_lif._parallel_jax",
            "spikebench.kernels.psu._jax", "spikebench.kernels.queues._jax"],
    "torch": ["spikebench.kernels.event_lif._torch",
              "spikebench.kernels.event_lif._parallel_torch", "spikebench.kernels.psu._torch",
              "spikebench.kernels.queues._torch"],
    # the exported graphs (torch.onnx) run by ONNX Runtime or a GroqChip (spec/devices.md)
    "onnx": ["spikebench.kernels.event_lif._onnx", "spikebench.kernels.psu._onnx",
             "spikebench.kernels.queues._onnx"],
}


def register(family: str, impl: str, framework: str, *, modes=("forward",),
             devices=("cpu", "gpu", "tpu"), knobs=()):
    """Decorator: add `fn` to REGISTRY under (family, impl, framework); duplicates raise."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework {framework!r} is not one of {FRAMEWORKS}")
    bad = set(modes) - set(MODES)
    if bad:
        raise ValueError(f"unknown mode(s) {sorted(bad)}; known: {MODES}")

    def deco(fn):
        key = (family, impl, framework)
        if key in REGISTRY:
            raise ValueError(f"duplicate registration for {key}")
        src = getattr(sys.modules.get(getattr(fn, "__module__", "")), "__file__", "") or ""
        REGISTRY[key] = Impl(family, impl, framework, fn, tuple(modes), tuple(devices),
                             tuple(knobs), src)
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
