"""Exact event-driven LIF in PyTorch: the public API (``spikebench.kernels.event_lif.torch``).

One layer: ``serial`` (one input event per step), ``parallel`` (chunked associative scans; its
static-budget form, ``n_steps=``, is what jit-compiled training needs) and ``bare_scan`` (the
linear state update alone, the ceiling). Networks of layers: ``network``, ``loss``,
``train_step`` (loss + gradients, timed) and ``plan_budgets`` (the static budgets a network
needs on given inputs). The JAX twin ``.jax`` has the same names and signatures.
"""

from ._net_torch import NetOut, loss, merge_spikes, network, plan_budgets, readout, train_step
from ._parallel_torch import ParSpikes, parallel
from ._torch import Spikes, bare_scan, serial

FRAMEWORK_ONLY: dict[str, tuple[str, ...]] = {}

__all__ = ["Spikes", "ParSpikes", "serial", "parallel", "bare_scan", "NetOut", "network",
           "loss", "train_step", "plan_budgets", "merge_spikes", "readout"]
