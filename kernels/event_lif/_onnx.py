"""ONNX: the parallel-scan simulator's per-chunk step, exported from the PyTorch twin and
driven by a host loop (docs/guide/devices.md; the algorithm is in ``_parallel_jax``'s docstring).

The graph is ``_parallel_torch.chunk_step`` itself, traced by ``torch.onnx`` (opset 16): one
step of every lane — gather the next K events, the associative scan of the affine maps
(Hillis-Steele doubling), the peak bracket and the Newton spike-time solve, unrolled to
NEWTON_MAX_ITER iterations (the eager loop's early exit is a data-dependent branch; the extra
iterations are masked no-ops). The host builds the event queue (``make_queue``, PyTorch on the
host), then calls the graph with the carry until no lane is live (the same test as the eager
loop), and files the emitted spike times into the output buffer.

ONNX Runtime only: the step gathers events by data-dependent indices, which ONNX expresses
with int64 index tensors (GatherElements), and a one-hot rewrite over the whole event queue
would not fit a chip; so the graph is exported without the LPU lint and the ``lpu`` rows of
this implementation are ``unsupported``. float32 only, forward only, no synaptic delays (the
benchmark's layer has none).
"""

from __future__ import annotations

import math

import numpy as np
import onnx  # noqa: F401 - torch.onnx.export needs it (the registry notes its absence)
import torch

from ...registry import register
from . import _parallel_torch as par
from ._common import LIFParams, derive

CARRY = list(par._Carry._fields)
CARRY_OUT = [f"{n}_out" for n in CARRY]


class ChunkGraph(torch.nn.Module):
    def __init__(self, params: LIFParams, chunk: int):
        super().__init__()
        self.k, self.chunk = derive(params), chunk

    def forward(self, t, ch, wt, qlen, *carry):
        q = par.Queue(t, None, ch, wt, qlen)
        new, (tstar, fired) = par.chunk_step(self.k, self.chunk, q, par._Carry(*carry))
        return (*new, tstar, fired)


def _const(g, value, like):
    return g.op("CastLike", g.op("Constant", value_t=torch.tensor(value)), like)


def _expm1(g, x):
    """expm1(x) = 2 exp(x/2) sinh(x/2): no cancellation for small |x| (ONNX has no Expm1)."""
    half = g.op("Mul", x, _const(g, 0.5, x))
    return g.op("Mul", _const(g, 2.0, x), g.op("Mul", g.op("Exp", half), g.op("Sinh", half)))


def _log1p(g, x):
    """log1p(x) = log(u) x / (u - 1) with u = 1 + x, and x where u == 1 (Kahan's trick: the
    rounding of u cancels; ONNX has no Log1p)."""
    one = _const(g, 1.0, x)
    u = g.op("Add", one, x)
    um1 = g.op("Sub", u, one)
    same = g.op("Equal", um1, _const(g, 0.0, x))
    safe = g.op("Where", same, one, um1)
    return g.op("Where", same, x, g.op("Div", g.op("Mul", g.op("Log", u), x), safe))


SYMBOLICS = {"aten::expm1": _expm1, "aten::log1p": _log1p}


@register(
    "event_lif",
    "parallel",
    "onnx",
    entry="layer",
    devices=("onnxrt",),
    dtypes=("float32",),
    knobs=("chunk",),
)
def parallel_program(
    times,
    channels,
    weights,
    params: LIFParams,
    t_end=math.inf,
    chunk: int = 128,
    max_spikes: int = 64,
    device: str = "onnxrt",
    folder=None,
):
    """Export the chunk step for these shapes and return the host loop: a function of no
    argument giving ``ParSpikes`` (spike_times (B, N, S) +inf padded, counts, stalled,
    unprocessed, steps) as NumPy arrays, like ``_parallel_torch.parallel``."""
    from ...hardware.onnx_backend import export, graph_folder, make_runner, own_graphs

    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    if device != "onnxrt":
        raise ValueError(
            f"the event-LIF step graph runs on 'onnxrt' only, not {device!r} "
            f"(data-dependent int64 gathers)"
        )
    times = torch.as_tensor(np.asarray(times, np.float32))
    channels = torch.as_tensor(np.asarray(channels, np.int64))
    weights = torch.as_tensor(np.asarray(weights, np.float32))
    k = derive(params)
    q = par.make_queue(times, channels, weights, None, t_end)
    c0 = par._init(k, q, torch.float32)
    folder, made = graph_folder(folder)
    path = folder / f"chunk_step{chunk}.onnx"
    export(
        ChunkGraph(params, chunk),
        (q.t, q.ch, q.wt, q.qlen, *c0),
        ["t", "ch", "wt", "qlen", *CARRY],
        [*CARRY_OUT, "tstar", "fired"],
        path,
        lpu=False,
        symbolics=SYMBOLICS,
    )
    runner = make_runner(device, path)
    size = max(int(max_spikes), 1)

    def run():
        qn = par.make_queue(times, channels, weights, None, t_end)  # host side, timed
        feeds = {
            "t": qn.t.numpy(),
            "ch": qn.ch.numpy(),
            "wt": qn.wt.numpy(),
            "qlen": qn.qlen.numpy(),
        }
        qlen = feeds["qlen"]
        carry = {n: x.numpy() for n, x in zip(CARRY, c0, strict=True)}
        ts, fired = [], []
        while bool(((carry["ptr"] <= qlen) & ~carry["stalled"]).any()):
            out = runner(**feeds, **carry)
            carry = {n: out[f"{n}_out"] for n in CARRY}
            ts.append(out["tstar"])
            fired.append(out["fired"])
        buf = np.full(qlen.shape + (size,), np.inf, np.float32)
        if ts:
            t_all, f_all = np.stack(ts), np.stack(fired)
            slot = np.where(f_all, np.cumsum(f_all, 0) - 1, size)
            steps_i, bi, ni = np.nonzero(slot < size)
            buf[bi, ni, slot[steps_i, bi, ni]] = t_all[steps_i, bi, ni]
        left = np.where(carry["stalled"], 0, np.clip(qlen + 1 - carry["ptr"], 0, None))
        return par.ParSpikes(buf, carry["cnt"], carry["stalled"], left, carry["steps"])

    return own_graphs(run, folder, made)
