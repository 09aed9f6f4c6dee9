"""Discrete-time LIF and the Parallel Spiking Unit family: PSU, IPSU, RPSU (docs/families/psu.md).

Public API::

    simulate(x, neuron="psu", params=PSUParams(), *, framework="numpy", dtype="float64",
             mat=None, mat_b=None) -> NeuronOut(spikes, v)

``x`` is the input current, time-major [T, ...]. ``neuron`` is one of NEURONS: ``"lif"`` (the
serial loop with soft reset), ``"psu"``, ``"ipsu"``, ``"rpsu"`` (all time steps at once; IPSU
and RPSU need their learned T x T matrix ``mat`` and per-step bias ``mat_b``, e.g. from
``init_learned``). ``spikes`` are 0/1, ``v`` is the potential compared with theta (LIF: before
the reset). Arrays come back in the framework's own type.

``_numpy`` is the float64 reference with hand-written gradients; the public API of each
framework, ``spikebench.kernels.psu.jax`` and ``.torch`` (same names and signatures), exposes
the kernels (``lif``, ``lif_matrix``, ``psu``, ``ipsu``, ``rpsu``, ``spike``),
the layer-level ``layer`` / ``network`` / ``loss`` on a parameter dict from ``init_network``,
and (PyTorch) ``nn.Module`` wrappers ``Layer`` and ``Network``, for use inside jit / autograd.

Difference to the released PSU code: it builds A = (1/tau)^(i-j+1), B = (1/tau)^(i-j); we build
the exact LIF matrices A = a b^(i-j), B = b^(i-j) (a = 1/tau, b = 1 - 1/tau). They coincide at
tau = 2, the setting of every published experiment; at other tau the released form is not LIF.
"""

from __future__ import annotations

import numpy as np

from ._common import (
    DEFAULT,
    DTYPES,
    LEARNED,
    NEURONS,
    PSUParams,
    causal_mask,
    check_finite,
    check_neuron,
    check_time_steps,
    init_learned,
    init_network,
    lif_matrices,
    released_matrices,
    validate_params,
)

__all__ = [
    "PSUParams",
    "NEURONS",
    "LEARNED",
    "FRAMEWORKS",
    "simulate",
    "init_learned",
    "init_network",
    "lif_matrices",
    "released_matrices",
    "causal_mask",
    "jax",
    "torch",
]

FRAMEWORKS = ("numpy", "jax", "torch")


def simulate(
    x,
    neuron: str = "psu",
    params: PSUParams = DEFAULT,
    *,
    framework="numpy",
    dtype="float64",
    mat=None,
    mat_b=None,
):
    """Run one neuron type on the input current x [T, ...]; validates everything first
    (non-finite input, tau <= 1, theta <= 0, a learned matrix built for another T)."""
    check_neuron(neuron)
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework={framework!r} is not one of {FRAMEWORKS}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype={dtype!r} is not one of {DTYPES}")
    if framework == "numpy" and dtype != "float64":
        raise ValueError(
            "framework='numpy' is the float64 reference; use dtype='float64' (or "
            "framework 'jax' / 'torch' for float32)"
        )
    validate_params(params)
    x = np.asarray(x, np.float64)
    t = check_time_steps(x.shape)
    check_finite(x, "input current x", dtype)
    if neuron in LEARNED:
        if mat is None or mat_b is None:
            raise ValueError(f"{neuron} needs its learned matrix and bias (mat, mat_b)")
        mat, mat_b = np.asarray(mat, np.float64), np.asarray(mat_b, np.float64)
        if mat.ndim == 2 and mat.shape[0] == mat.shape[1]:
            check_time_steps(x.shape, mat.shape[0])
        check_finite(mat, "mat", dtype)
        check_finite(mat_b, "mat_b", dtype)
        if mat.shape != (t, t) or mat_b.shape != (t,):
            raise ValueError(
                f"mat must be ({t}, {t}) and mat_b ({t},), got {mat.shape} and {mat_b.shape}"
            )
    elif mat is not None or mat_b is not None:
        raise ValueError(f"{neuron} has no learned matrix; got mat / mat_b")
    extra = () if neuron not in LEARNED else (mat, mat_b)
    if framework == "numpy":
        from . import _numpy

        return _checked(_numpy.forward(neuron, x, params, *extra), dtype, np.asarray)
    if framework == "jax":
        import jax.numpy as jnp

        from . import _jax as mod

        if dtype == "float64" and jnp.zeros(1, np.float64).dtype != np.float64:
            raise ValueError(
                "float64 needs JAX x64; import spikebench before jax or set JAX_ENABLE_X64=1"
            )
        conv = lambda a: jnp.asarray(a, dtype)  # noqa: E731
    else:
        import torch

        from . import _torch as mod

        conv = lambda a: torch.as_tensor(a, dtype=getattr(torch, dtype))  # noqa: E731
    out = mod.neuron(neuron, conv(x), params, *(conv(a) for a in extra))
    tonp = np.asarray if framework == "jax" else lambda a: a.detach().cpu().numpy()  # noqa: E731
    return _checked(out, dtype, tonp)


def _checked(out, dtype, tonp):
    """Inputs in range can still overflow on the way (a learned matrix's gain): say so
    rather than return NaN potentials and no spikes."""
    v = tonp(out.v)
    if not np.all(np.isfinite(v)):
        raise ValueError(
            f"the potential overflowed {dtype} (largest finite input is "
            f"{np.finfo(dtype).max:.3g}): scale the input down or use float64"
        )
    return out


def __getattr__(name):
    """``.jax`` / ``.torch``: the public API of each framework, imported on first use (so
    that importing this package needs neither framework)."""
    if name in ("jax", "torch"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
