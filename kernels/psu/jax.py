"""Discrete LIF and the PSU family in JAX: the public API (``spikebench.kernels.psu.jax``).

Neurons on time-major input [T, ...]: ``lif`` (the serial loop), ``psu``, ``ipsu``, ``rpsu``
(every step at once), ``neuron`` (by name), ``spike`` (Heaviside with the ATan surrogate),
``lif_matrix``; layers and the SHD-shaped network on a parameter dict from ``init_network``:
``layer``, ``network``, ``loss``, ``from_numpy``; and the timed entries ``neuron_forward``,
``neuron_grad``, ``network_forward``, ``network_grad`` (one training step). The PyTorch twin
``.torch`` has the same names and signatures, plus ``nn.Module`` wrappers (``FRAMEWORK_ONLY``).
"""

from ._jax import (
    NeuronOut,
    from_numpy,
    ipsu,
    layer,
    lif,
    lif_matrix,
    loss,
    network,
    network_forward,
    network_grad,
    neuron,
    neuron_forward,
    neuron_grad,
    psu,
    rpsu,
    spike,
)

FRAMEWORK_ONLY: dict[str, tuple[str, ...]] = {}

__all__ = [
    "NeuronOut",
    "spike",
    "lif",
    "lif_matrix",
    "psu",
    "ipsu",
    "rpsu",
    "neuron",
    "layer",
    "network",
    "loss",
    "from_numpy",
    "neuron_forward",
    "neuron_grad",
    "network_forward",
    "network_grad",
]
