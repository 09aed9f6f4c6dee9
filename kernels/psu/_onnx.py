"""ONNX (the LPU path): discrete LIF and the PSU family exported from the PyTorch twin.

The graphs are ``_torch``'s own forward functions traced by ``torch.onnx`` (opset 16, float32,
checked by ``spikebench.hardware.onnx_backend.lint``), so there is no third copy of the maths:

- neuron level: ``neuron(kind, x, p, mat, mat_b)`` over all T steps in one graph. The PSU
  family is all-steps-at-once by construction (T x T matrix products and elementwise maps);
  LIF's loop is unrolled over T, which is how a sequential neuron runs on a static-schedule
  chip. The fixed matrices A, B (and the causal mask) are graph constants; IPSU / RPSU's
  learned matrix and bias are graph inputs.
- network level: ``network(params, x, kind, p, return_spikes=True)``: the logits and every
  hidden layer's spikes, with every weight a graph input (the compiled program does not depend
  on the weights).

Forward only: the exported graphs hold no backward pass (the gradients are measured in JAX
and PyTorch).
"""

from __future__ import annotations

import numpy as np
import onnx  # noqa: F401 - torch.onnx.export needs it (the registry notes its absence)
import torch

from ...registry import register
from . import _torch as mod
from ._common import LEARNED, NEURONS, PSUParams


class NeuronGraph(torch.nn.Module):
    def __init__(self, kind: str, p: PSUParams):
        super().__init__()
        self.kind, self.p = kind, p

    def forward(self, x, *learned):
        out = mod.neuron(self.kind, x, self.p, *learned)
        return out.spikes, out.v


def _flat(tree) -> list:
    """Leaves in a fixed order: layers (sorted keys), then the readout."""
    return [lp[k] for lp in tree["layers"] for k in sorted(lp)] + [
        tree["readout"][k] for k in sorted(tree["readout"])
    ]


def _rebuild(like, leaves: list):
    it = iter(leaves)
    return {
        "layers": [{k: next(it) for k in sorted(lp)} for lp in like["layers"]],
        "readout": {k: next(it) for k in sorted(like["readout"])},
    }


class NetworkGraph(torch.nn.Module):
    def __init__(self, kind: str, p: PSUParams, like: dict):
        super().__init__()
        self.kind, self.p, self.like = kind, p, like

    def forward(self, x, *leaves):
        logits, hidden = mod.network(
            _rebuild(self.like, list(leaves)), x, self.kind, self.p, return_spikes=True
        )
        return (logits, *hidden)


def _f32(a) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, np.float32))


def _program(module, inputs: dict, outputs: list[str], device: str, folder):
    from ...hardware.onnx_backend import export, graph_folder, make_runner, own_graphs

    folder, made = graph_folder(folder)
    path = folder / "graph.onnx"
    export(module, tuple(torch.from_numpy(a) for a in inputs.values()), list(inputs), outputs, path)
    runner = make_runner(device, path)  # drops the feeds the exporter pruned (alpha)

    def run():
        out = runner(**inputs)
        return [out[name] for name in outputs]

    return own_graphs(run, folder, made)


def neuron_program(
    kind: str,
    x,
    mat=None,
    mat_b=None,
    p: PSUParams = mod.DEFAULT,
    device: str = "onnxrt",
    folder=None,
):
    """Export ``neuron(kind, ...)`` for x [T, ...] and return a function of no argument
    giving ``NeuronOut`` (spikes, v) as float32 NumPy arrays."""
    if kind not in NEURONS:
        raise ValueError(f"kind={kind!r} is not one of {NEURONS}")
    inputs = {"x": _f32(x)}
    if kind in LEARNED:
        if mat is None or mat_b is None:
            raise ValueError(f"{kind} needs its learned matrix and bias (mat, mat_b)")
        inputs |= {"mat": _f32(mat), "mat_b": _f32(mat_b)}
    run = _program(NeuronGraph(kind, p), inputs, ["spikes", "v"], device, folder)

    def neuron_out():
        return mod.NeuronOut(*run())

    neuron_out.graphs = run.graphs
    return neuron_out


def network_program(
    tree: dict, x, kind: str, p: PSUParams = mod.DEFAULT, device: str = "onnxrt", folder=None
):
    """Export ``network(tree, x, kind, p, return_spikes=True)`` and return a function of no
    argument giving (logits [B, classes], [hidden spikes [T, B, H] per layer])."""
    if kind not in NEURONS:
        raise ValueError(f"kind={kind!r} is not one of {NEURONS}")
    leaves = [_f32(a) for a in _flat(tree)]
    inputs = {"x": _f32(x), **{f"param{i}": a for i, a in enumerate(leaves)}}
    n_layers = len(tree["layers"])
    outputs = ["logits", *(f"hidden{i}" for i in range(n_layers))]
    run = _program(NetworkGraph(kind, p, tree), inputs, outputs, device, folder)

    def net_out():
        out = run()
        return out[0], out[1:]

    net_out.graphs = run.graphs
    return net_out


@register(
    "psu", NEURONS, "onnx", entry="neuron_forward", devices=("onnxrt", "lpu"), dtypes=("float32",)
)
def neuron_forward_program(
    x, *learned, p: PSUParams = mod.DEFAULT, kind: str, device: str = "onnxrt"
):
    """Build the exported forward of neuron `kind` (see ``neuron_program``)."""
    return neuron_program(kind, x, *learned, p=p, device=device)


register(
    "psu", NEURONS, "onnx", entry="network_forward", devices=("onnxrt", "lpu"), dtypes=("float32",)
)(network_program)
