"""Differentiable spike event queues for delayed synapses (docs/families/queues.md): binary
min-heap, circular FIFO, dense ring buffer of counts, sorted array, and the lossy hashed ring.

The public API of each framework is ``spikebench.kernels.queues.jax`` and ``.torch`` (same
names and signatures): ``init``, ``enqueue``, ``pop`` and ``pending`` on a batched ``Queue``
state (leading queue axis), the benchmark loop ``traffic`` and the recurrent network
(``simulate``, ``loss``). ``_reference`` holds the plain Python queues they are tested
against. See ``_common`` for the designs and drop policies.
"""

from ._common import (
    DESIGNS,
    SENTINEL,
    NetParams,
    check_design,
    check_ring_delays,
    check_sizes,
    check_steps,
)

__all__ = [
    "DESIGNS",
    "SENTINEL",
    "NetParams",
    "check_design",
    "check_sizes",
    "check_steps",
    "check_ring_delays",
    "jax",
    "torch",
]


def __getattr__(name):
    """``.jax`` / ``.torch``: the public API of each framework, imported on first use (so
    that importing this package needs neither framework)."""
    if name in ("jax", "torch"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
