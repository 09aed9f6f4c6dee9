"""The event queues in PyTorch: the public API (``spikebench.kernels.queues.torch``).

``init``, ``enqueue``, ``pop``, ``pending`` on a batched ``Queue`` (leading queue axis), the
benchmark loop ``traffic`` and its timed form ``run_traffic``, and the recurrent network of
benchmark (e): ``simulate``, ``loss`` and the timed ``network_forward`` / ``network_grad``
(reverse mode) / ``network_jvp`` (forward mode). The JAX twin ``.jax`` has the same
names and signatures; ``inplace`` (update the state tensors in place, for loops that own
them) is this twin's own (``FRAMEWORK_ONLY``).
"""

from ._net_torch import NetOut, loss, network_forward, network_grad, network_jvp, simulate
from ._torch import Queue, enqueue, init, mix, pending, pop, run_traffic, traffic

FRAMEWORK_ONLY: dict[str, tuple[str, ...]] = {"enqueue": ("inplace",), "pop": ("inplace",)}

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
