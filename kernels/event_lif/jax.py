"""Exact event-driven LIF in JAX: the public API (``spikebench.kernels.event_lif.jax``).

One layer: ``serial`` (one input event per step), ``parallel`` (chunked associative scans; its
static-budget form, ``n_steps=``, is what jit-compiled training needs) and ``bare_scan`` (the
linear state update alone, the ceiling). Networks of layers: ``network``, ``loss``,
``train_step`` (loss + gradients, timed) and ``plan_budgets`` (the static budgets a network
needs on given inputs). The PyTorch twin ``.torch`` has the same names and signatures.
"""

from ._common import checked
from ._jax import Spikes, bare_scan, serial
from ._net_jax import NetOut, loss, merge_spikes, network, plan_budgets, readout, train_step
from ._parallel_jax import ParSpikes, parallel

# the public functions check concrete inputs (``check=False`` skips it; the registry and the
# harness hold the unchecked kernels, so timed graphs are unchanged)
serial, parallel, bare_scan = checked(serial), checked(parallel), checked(bare_scan)
network, loss, train_step = checked(network), checked(loss), checked(train_step)
plan_budgets = checked(plan_budgets)

FRAMEWORK_ONLY: dict[str, tuple[str, ...]] = {}

__all__ = [
    "Spikes",
    "ParSpikes",
    "serial",
    "parallel",
    "bare_scan",
    "NetOut",
    "network",
    "loss",
    "train_step",
    "plan_budgets",
    "merge_spikes",
    "readout",
]
