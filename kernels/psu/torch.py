"""Discrete LIF and the PSU family in PyTorch: the public API (``spikebench.kernels.psu.torch``).

The same names and signatures as the JAX twin ``.jax`` (see there), plus ``Layer`` and
``Network``, ``nn.Module`` wrappers holding the parameters (this twin's own:
``FRAMEWORK_ONLY``). ``from_numpy`` also takes ``device`` and ``requires_grad``.
"""

from ._torch import (
    Layer,
    Network,
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

FRAMEWORK_ONLY: dict[str, tuple[str, ...]] = {
    "Layer": (),
    "Network": (),
    "from_numpy": ("device", "requires_grad"),
}

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
    "Layer",
    "Network",
]
