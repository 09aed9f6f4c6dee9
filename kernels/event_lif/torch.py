"""Exact event-driven LIF in PyTorch (``spikebench.kernels.event_lif.torch``): the twin of
``.jax``, with the same names and signatures (see there). ``compiled`` (run the parallel
simulator's chunk step through torch.compile, README "Compiled PyTorch") is this twin's own
(``FRAMEWORK_ONLY``)."""

from ._common import checked
from ._net_torch import NetOut, loss, merge_spikes, network, plan_budgets, readout, train_step
from ._parallel_torch import ParSpikes, parallel
from ._torch import Spikes, bare_scan, serial

# the public functions check concrete inputs (``check=False`` skips it; the registry and the
# harness hold the unchecked kernels, so timed graphs are unchanged)
serial, parallel, bare_scan = checked(serial), checked(parallel), checked(bare_scan)
network, loss, train_step = checked(network), checked(loss), checked(train_step)
plan_budgets = checked(plan_budgets)

FRAMEWORK_ONLY: dict[str, tuple[str, ...]] = {
    "parallel": ("compiled",),
    "network": ("compiled",),
    "train_step": ("compiled",),
}

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
