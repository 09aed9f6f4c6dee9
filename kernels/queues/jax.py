"""The event queues in JAX: the public API (``spikebench.kernels.queues.jax``).

``init``, ``enqueue``, ``pop``, ``pending`` on a batched ``Queue`` (leading queue axis), the
benchmark loop ``traffic`` and its timed form ``run_traffic``, and the recurrent network of
benchmark (e): ``simulate``, ``loss`` and the timed ``network_forward`` / ``network_grad``
(reverse mode) / ``network_jvp`` (forward mode). The PyTorch twin ``.torch`` has the same
names and signatures (plus the keyword arguments in its ``FRAMEWORK_ONLY``).
"""

from ._jax import Queue, enqueue, init, mix, pending, pop, run_traffic, traffic
from ._net_jax import NetOut, loss, network_forward, network_grad, network_jvp, simulate

FRAMEWORK_ONLY: dict[str, tuple[str, ...]] = {}

__all__ = [
    "Queue",
    "init",
    "enqueue",
    "pop",
    "pending",
    "mix",
    "traffic",
    "run_traffic",
    "NetOut",
    "simulate",
    "loss",
    "network_forward",
    "network_grad",
    "network_jvp",
]
