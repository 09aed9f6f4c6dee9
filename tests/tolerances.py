"""Test tolerances in one place, and ``assert_agree``, the comparison that uses them.

Each table is keyed by dtype. A test names *what* it compares (a kind below); the numbers
live here, next to the reason for each.
"""

from __future__ import annotations

import numpy as np

TOLERANCES: dict[str, dict[str, float]] = {
    # event-LIF spike times against the reference / the analytic oracle, relative to
    # max(|t|, tau_mem)
    "spike_time": {"float64": 1e-10, "float32": 1e-5},
    # implementations against each other, same dtype (spec: a few ulps in float64)
    "agree": {"float64": 1e-12, "float32": 1e-5},
    # serial against parallel event-LIF spike times, absolute (seconds): the property test
    "spike_time_abs": {"float64": 1e-9, "float32": 1e-5},
    # PSU-family potentials and gradients against the NumPy float64 twin, relative
    "psu_v": {"float64": 1e-12, "float32": 1e-5},
    "psu_grad": {"float64": 1e-11, "float32": 1e-4},
    # gradients against central finite differences of the float64 loss, relative
    "finite_difference": {"float64": 1e-6, "float32": 1e-6},
    # queue network / gradients, JAX against PyTorch on the same inputs, relative
    "queue_net": {"float64": 1e-9, "float32": 1e-4},
    # one program run twice on the same numbers (batch lanes, chunk sizes that cannot matter):
    # equal up to the last bit or so
    "same_program": {"float64": 1e-15, "float32": 1e-7},
    # one computation written two ways in float64 (a kernel against a closed form, a matrix
    # form against a loop): a few ulps, relative
    "ulps": {"float64": 1e-13, "float32": 1e-6},
    # absolute floor for potentials and logits of order 1 compared at "ulps"
    "ulps_abs": {"float64": 1e-13, "float32": 1e-6},
    # JAX against PyTorch (or against the NumPy twin) through a whole network or a long
    # loop in float64: rounding accumulates over steps and layers
    "twin": {"float64": 1e-11, "float32": 1e-5},
    # gradients of a whole event-LIF network, twin against twin (the spike-time solver's
    # Newton iterates differ in the last bits, and the backward amplifies them)
    "twin_grad": {"float64": 1e-9, "float32": 1e-4},
    # gradients of one layer, or forward against reverse mode, twin against twin
    "grad_modes": {"float64": 1e-10, "float32": 1e-4},
    # a loss or a single spike time, twin against twin or against an exact root
    "twin_scalar": {"float64": 1e-12, "float32": 1e-6},
    # gradients against central finite differences of a queue network (step 1e-6)
    "fd_queues": {"float64": 1e-6, "float32": 1e-3},
    # the exported ONNX graphs (float32) against the PyTorch code they came from
    "onnx": {"float64": 1e-5, "float32": 1e-5},
    "onnx_abs": {"float64": 1e-6, "float32": 1e-6},
}


def tol(kind: str, dtype: str = "float64") -> float:
    try:
        return TOLERANCES[kind][dtype]
    except KeyError:
        raise KeyError(
            f"no tolerance for {kind!r} / {dtype!r}; known kinds: {sorted(TOLERANCES)}"
        ) from None


def assert_agree(actual, desired, kind: str, dtype: str = "float64", scale=None) -> None:
    """|actual - desired| <= tol(kind, dtype) * max(|desired|, scale) elementwise (absolute
    when the kind ends in ``_abs``), with inf / NaN required in the same places."""
    a = np.asarray(actual, np.float64)
    d = np.asarray(desired, np.float64)
    assert a.shape == d.shape, f"shapes differ: {a.shape} vs {d.shape}"
    fin = np.isfinite(d)
    np.testing.assert_array_equal(np.isfinite(a), fin)
    np.testing.assert_array_equal(a[~fin], d[~fin])
    t = tol(kind, dtype)
    if kind.endswith("_abs"):
        bound = np.full(d[fin].shape, t)
    else:
        sc = 0.0 if scale is None else np.broadcast_to(np.asarray(scale, np.float64), d.shape)[fin]
        bound = t * np.maximum(np.abs(d[fin]), sc)
    err = np.abs(a[fin] - d[fin])
    if err.size and not np.all(err <= bound):
        i = int(np.argmax(err - bound))
        raise AssertionError(
            f"{kind} ({dtype}): |{a[fin][i]!r} - {d[fin][i]!r}| = {err[i]:.3g} > {bound[i]:.3g}"
        )
