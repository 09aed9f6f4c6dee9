"""Differentiable spike event queues for delayed synapses (spec/queues.md): binary min-heap,
circular FIFO, dense ring buffer of counts, sorted array, and the lossy hashed ring.

The framework modules ``_jax`` and ``_torch`` expose ``init``, ``enqueue``, ``pop`` and
``pending`` on a batched ``Queue`` state (leading queue axis); ``_reference`` holds the plain
Python queues they are tested against. See ``_common`` for the designs and drop policies.
"""

from ._common import DESIGNS, SENTINEL, check_design, check_ring_delays, check_sizes, check_steps

__all__ = ["DESIGNS", "SENTINEL", "check_design", "check_sizes", "check_steps",
           "check_ring_delays"]
