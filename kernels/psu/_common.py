"""Parameters, validation, the fixed LIF matrices and the seeded initialisation shared by the
NumPy, JAX and PyTorch discrete-time LIF / PSU kernels (docs/families/psu.md).

Notation: X is the input current, time-major [T, ...]; the T x T matrices act on the time axis
and are shared by every neuron of a layer. a = 1/tau, b = 1 - 1/tau.

    A[i, j] = a * b**(i - j)   for i >= j, else 0      (leaky integration of the input)
    B[i, j] =     b**(i - j)   for i >  j, else 0      (leaky integration of past resets)

so that discrete LIF with soft reset, unrolled over time, is H = A X - theta * B S. The released
PSU code builds A = (1/tau)**(i-j+1) and B = (1/tau)**(i-j) instead; these equal the LIF matrices
only at tau = 2 (a = b = 1/2), the setting of every published experiment. We build the exact LIF
matrices (``released_matrices`` exists for the test of that equality).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._checks import as_int, check_fits

NEURONS = ("lif", "psu", "ipsu", "rpsu")
LEARNED = ("ipsu", "rpsu")  # neurons with a learned T x T matrix and per-step bias
DTYPES = ("float32", "float64")
ALPHA = 2.0  # ATan surrogate sharpness (fixed for LIF, the initial value of the PSU family's)


class PSUParams(NamedTuple):
    """Discrete-time neuron parameters (dimensionless; one time step is the unit of time).

    tau:   membrane constant in steps, > 1 (b = 1 - 1/tau must lie in (0, 1); tau = 1 would
           leave no memory at all and the reset matrix B would vanish).
    theta: firing threshold, > 0.
    alpha: ATan surrogate sharpness, > 0 (the initial value where it is learned).
    """

    tau: float = 2.0
    theta: float = 1.0
    alpha: float = ALPHA


DEFAULT = PSUParams()


def validate_params(p: PSUParams) -> tuple[float, float]:
    """Check `p` (ValueError naming the bad value); returns (a, b)."""
    if not isinstance(p, PSUParams):
        raise ValueError(f"params must be a PSUParams, got {type(p).__name__}")
    tau, theta, alpha = (float(v) for v in p)
    check_tau(tau)
    if not (math.isfinite(theta) and theta > 0.0):
        raise ValueError(f"theta must be a finite number > 0, got {theta}")
    if not (math.isfinite(alpha) and alpha > 0.0):
        raise ValueError(f"alpha must be a finite number > 0, got {alpha}")
    return 1.0 / tau, 1.0 - 1.0 / tau


def check_neuron(neuron: str) -> str:
    if neuron not in NEURONS:
        raise ValueError(f"neuron={neuron!r} is not one of {', '.join(map(repr, NEURONS))}")
    return neuron


def check_time_steps(x_shape, n_steps: int | None = None) -> int:
    """T of a time-major input; with `n_steps`, the T a learned matrix was built for."""
    if len(x_shape) < 1 or x_shape[0] < 1:
        raise ValueError(
            f"input must be time-major [T, ...] with T >= 1, got shape {tuple(x_shape)}"
        )
    t = int(x_shape[0])
    if n_steps is not None and int(n_steps) != t:
        raise ValueError(
            f"input has T={t} time steps but the learned matrix was built for T={int(n_steps)}"
        )
    return t


def check_learned(w_shape, b_shape, t: int) -> None:
    if tuple(w_shape) != (t, t) or tuple(b_shape) != (t,):
        if len(w_shape) == 2 and w_shape[0] == w_shape[1] and w_shape[0] != t:
            check_time_steps((t,), w_shape[0])
        raise ValueError(
            f"learned matrix must be ({t}, {t}) and its bias ({t},), got "
            f"{tuple(w_shape)} and {tuple(b_shape)}"
        )


def check_finite(x, name: str = "input", dtype="float64") -> None:
    """ValueError when a NumPy array holds NaN or inf, or a value that overflows `dtype` (the
    dtype the kernel computes in: 1e39 is finite in float64 and inf in float32); for the
    boundary, outside jit."""
    arr = np.asarray(x)
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"{name} holds a non-finite value {arr[tuple(bad)]} at index "
            f"{tuple(int(i) for i in bad)}"
        )
    check_fits(arr, name, dtype)


def check_tau(tau) -> float:
    tau = float(tau)
    if not (math.isfinite(tau) and tau > 1.0):
        raise ValueError(f"tau must be a finite number > 1 (b = 1 - 1/tau in (0, 1)), got {tau}")
    return tau


def lif_matrices(t: int, tau: float, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """The exact LIF matrices A (integration) and B (reset), both T x T, lower-triangular."""
    t, tau = as_int("t", t, 1), check_tau(tau)
    a, b = 1.0 / tau, 1.0 - 1.0 / tau
    d = np.arange(t)[:, None] - np.arange(t)[None, :]
    pw = b ** np.maximum(d, 0).astype(np.float64)
    return (np.where(d >= 0, a * pw, 0.0).astype(dtype), np.where(d > 0, pw, 0.0).astype(dtype))


def released_matrices(t: int, tau: float, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """The released code's A = (1/tau)^(i-j+1), B = (1/tau)^(i-j) (lower part); equal to
    ``lif_matrices`` at tau = 2 only."""
    t, tau = as_int("t", t, 1), check_tau(tau)
    d = np.arange(t)[:, None] - np.arange(t)[None, :]
    r = (1.0 / tau) ** np.maximum(d, 0).astype(np.float64)
    return (np.where(d >= 0, r / tau, 0.0).astype(dtype), np.where(d > 0, r, 0.0).astype(dtype))


def causal_mask(t: int, dtype=np.float64) -> np.ndarray:
    """M: lower-triangular ones, diagonal included."""
    return np.tril(np.ones((t, t))).astype(dtype)


def init_learned(rng: np.random.Generator, t: int) -> tuple[np.ndarray, np.ndarray]:
    """IPSU / RPSU initialisation as released: W ~ Normal(0, variance 2/T) (Kaiming normal,
    fan_out = T, ReLU gain) and a zero per-step bias. Entries above the diagonal exist but are
    masked in the forward pass, so they get zero gradient."""
    t = as_int("t", t, 1)
    return rng.normal(0.0, math.sqrt(2.0 / t), (t, t)), np.zeros(t)


def init_network(
    seed: int,
    *,
    n_in: int,
    hidden: int,
    n_out: int,
    t: int,
    neuron: str,
    n_layers: int = 2,
    alpha: float = ALPHA,
    w_gain: float = 1.0,
) -> dict:
    """Seeded float64 parameters of the SHD-shaped network n_in -> hidden x n_layers -> n_out.

    Linear layers: W ~ Normal(0, w_gain^2 / fan_in), zero bias; per hidden layer a learned
    (T x T matrix, bias) for IPSU / RPSU (``init_learned``) and the surrogate's alpha for the
    PSU family (LIF's alpha is fixed and not a parameter). The linear weights come from their
    own stream, so every neuron type gets the very same linear layers for one seed (what
    makes "agreement with LIF on the same input" meaningful). The same dict feeds every
    framework.
    """
    check_neuron(neuron)
    for name, v in (
        ("n_in", n_in),
        ("hidden", hidden),
        ("n_out", n_out),
        ("t", t),
        ("n_layers", n_layers),
    ):
        as_int(name, v, 1)
    for name, v in (("w_gain", w_gain), ("alpha", alpha)):
        if not (
            isinstance(v, (int, float, np.integer, np.floating)) and math.isfinite(v) and v > 0
        ):
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
    rng, rng_mat = np.random.default_rng([seed, 0]), np.random.default_rng([seed, 1])
    layers = []
    fan_in = n_in
    for _ in range(n_layers):
        layer = {
            "w": rng.normal(0.0, w_gain / math.sqrt(fan_in), (hidden, fan_in)),
            "b": np.zeros(hidden),
        }
        mat = init_learned(rng_mat, t)
        if neuron in LEARNED:
            layer["mat"], layer["mat_b"] = mat
        if neuron != "lif":
            layer["alpha"] = np.asarray(alpha, np.float64)
        layers.append(layer)
        fan_in = hidden
    readout = {"w": rng.normal(0.0, 1.0 / math.sqrt(hidden), (n_out, hidden)), "b": np.zeros(n_out)}
    return {"layers": layers, "readout": readout}


# -- framework-free pieces the JAX and PyTorch twins share (they pass their own functions) --


def dispatch(fns: dict, kind: str, x, p: PSUParams, mat=None, mat_b=None, alpha=None):
    """Run neuron `kind` from `fns` (name -> function); `mat`, `mat_b` are required for ipsu /
    rpsu and refused otherwise."""
    check_neuron(kind)
    if kind in LEARNED:
        if mat is None or mat_b is None:
            raise ValueError(f"{kind} needs its learned matrix and bias (mat, mat_b)")
        return fns[kind](x, mat, mat_b, p, alpha)
    if mat is not None or mat_b is not None:
        raise ValueError(f"{kind} has no learned matrix; got mat / mat_b")
    return fns[kind](x, p, alpha)


def linear_neuron(neuron, layer_params: dict, x, kind: str, p: PSUParams):
    """A linear layer + neuron on time-major x [T, B, N_in] -> [T, B, N_out], layer by layer:
    the linear map runs once over all T * B rows, then the neuron over time."""
    cur = x @ layer_params["w"].T + layer_params["b"]
    return neuron(
        kind, cur, p, layer_params.get("mat"), layer_params.get("mat_b"), layer_params.get("alpha")
    )


def readout(r: dict, spikes_mean):
    """The time-averaged linear readout: mean spikes [B, hidden] -> logits [B, n_out]."""
    return spikes_mean @ r["w"].T + r["b"]


def grad_dict(kind: str, g_x, g_learned, g_alpha) -> dict:
    """The gradients of a neuron-level training step by name: x, then mat / mat_b (IPSU,
    RPSU) and alpha (the PSU family; LIF's is fixed)."""
    out = {"x": g_x}
    if kind in LEARNED:
        out["mat"], out["mat_b"] = g_learned
    if kind != "lif":
        out["alpha"] = g_alpha
    return out
