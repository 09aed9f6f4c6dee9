"""Exact event-driven LIF layers (docs/families/event_lif.md).

Public API::

    simulate(times, channels, weights, params, *, method="serial", framework="numpy",
             dtype="float64", delays=None, t_end=inf, max_spikes=None, chunk=128)
        -> (spike_times, counts)

``method="serial"`` consumes one input event per step (NumPy, JAX, PyTorch); ``"parallel"``
is the chunked associative-scan simulator (JAX, PyTorch; ``chunk`` entries per step). Both are
exact and give the same spikes.

One sample is ``times`` (E,) and ``channels`` (E,) (sorted by time, then channel id; shorter
samples of a batch padded at the end with channel -1), ``weights`` (N_out, N_in); a batch adds
a leading axis. ``spike_times`` is (..., N_out, S) padded with +inf, with S the largest count;
``counts`` is (..., N_out). Arrays come back in the framework's own type.

The public API of each framework, ``spikebench.kernels.event_lif.jax`` and ``.torch`` (same
names and signatures), holds the kernel functions on batched arrays -- ``serial``,
``bare_scan``, ``parallel`` (with a static step budget, ``n_steps=``, and gradients) -- and
the networks (``network``, ``loss``, ``train_step``, ``plan_budgets``), for users who want to
stay inside jit / on a device or differentiate. ``_numpy`` is the NumPy twin of the layer
kernels.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from .._checks import as_int
from ._common import DTYPES, LIFParams, validate_inputs, validate_params

__all__ = ["LIFParams", "simulate", "METHODS", "FRAMEWORKS", "jax", "torch"]

METHODS = ("serial", "parallel")
FRAMEWORKS = ("numpy", "jax", "torch")
KNOBS = ("t_end", "max_spikes", "chunk")


def _check_choice(name, value, allowed):
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(map(repr, allowed))}")


def simulate(
    times,
    channels,
    weights,
    params: LIFParams,
    *,
    method="serial",
    framework="numpy",
    dtype="float64",
    delays=None,
    **knobs,
):
    """Simulate one layer of current-based LIF neurons exactly, event by event.

    Knobs: ``t_end`` (end of the simulation window, default inf: every spike the input causes;
    events arriving after t_end are ignored), ``max_spikes`` (initial size of the spike
    buffer; a static buffer that overflows is re-run with the exact size, so no spike is ever
    dropped) and, for ``method="parallel"``, ``chunk`` (queue entries per step, >= 1). The
    parallel method runs until every queue is consumed; its static-budget form (what
    jit-compiled training needs) is ``jax.parallel(..., n_steps=)`` (the framework modules).
    """
    _check_choice("method", method, METHODS)
    _check_choice("framework", framework, FRAMEWORKS)
    _check_choice("dtype", dtype, DTYPES)
    unknown = sorted(set(knobs) - set(KNOBS))
    if unknown:
        raise ValueError(f"unknown knob(s) {unknown}; known: {list(KNOBS)}")
    params = validate_params(params, dtype)
    inp = validate_inputs(times, channels, weights, delays, knobs.get("t_end", math.inf), dtype)
    max_spikes = knobs.get("max_spikes")
    max_spikes = 16 if max_spikes is None else as_int("max_spikes", max_spikes, 1)
    chunk = knobs.get("chunk", 128)
    if method == "parallel" and framework == "numpy":
        raise ValueError(
            "method='parallel' needs framework 'jax' or 'torch' (NumPy holds the "
            "serial reference only)"
        )
    if method != "parallel" and "chunk" in knobs:
        raise ValueError("the chunk knob belongs to method='parallel'")
    chunk = as_int("chunk", chunk, 1)  # numpy integers and 0-d integer arrays too
    np_dtype = np.dtype(dtype)
    args = [
        inp.times.astype(np_dtype),
        inp.channels,
        inp.weights.astype(np_dtype),
        None if inp.delays is None else inp.delays.astype(np_dtype),
    ]

    if framework == "numpy":
        from . import _numpy as mod

        conv, tonp = (lambda a: a), np.asarray
    elif framework == "jax":
        import jax.numpy as jnp

        from . import _jax as mod
        from . import _parallel_jax as par

        if np_dtype == np.float64 and jnp.zeros(1, np.float64).dtype != np.float64:
            raise ValueError(
                "float64 needs JAX x64; import spikebench before jax or set JAX_ENABLE_X64=1"
            )
        conv, tonp = jnp.asarray, np.asarray
    else:
        import torch

        from . import _parallel_torch as par
        from . import _torch as mod

        conv, tonp = torch.as_tensor, lambda a: a.cpu().numpy()
    args = [None if a is None else conv(a) for a in args]
    if method == "parallel":
        fn = partial(par.parallel, chunk=chunk)
    else:
        fn = mod.serial
    out = fn(*args[:3], params, delays=args[3], t_end=inp.t_end, max_spikes=int(max_spikes))
    counts = tonp(out.counts)
    if counts.size and counts.max() > out.spike_times.shape[-1]:  # a static buffer overflowed
        out = fn(*args[:3], params, delays=args[3], t_end=inp.t_end, max_spikes=int(counts.max()))
    if bool(tonp(out.stalled).any()):
        raise ValueError(
            "spike times stopped advancing in this dtype: the input current is "
            "too large for the time resolution (use float64 or smaller weights)"
        )
    s = int(counts.max()) if counts.size else 0
    spike_times, counts = out.spike_times[..., :s], out.counts
    if not inp.batched:
        spike_times, counts = spike_times[0], counts[0]
    return spike_times, counts


def __getattr__(name):
    """``.jax`` / ``.torch``: the public API of each framework, imported on first use (so
    that importing this package needs neither framework)."""
    if name in ("jax", "torch"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
