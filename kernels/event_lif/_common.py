"""Parameters and input validation shared by the NumPy, JAX and PyTorch event-LIF kernels.

Model (spec/event_lif.md section 1), per neuron, dimensionless voltage, resting potential 0::

    tau_mem * dV/dt = -V + I          tau_syn * dI/dt = -I

An input event of channel j arriving at t adds ``W[n, j]`` to I (never to V). V reaching
``theta`` from below is a spike: V <- v_reset, I unchanged, V held at v_reset for ``t_ref``.

Because the resting potential is 0 we require ``theta > 0``: then a crossing needs
``I(t*) >= theta > 0``, I only decays between inputs, and so ``I0 <= theta`` at the start of an
interval proves that the interval cannot fire (the cheap check every kernel relies on).

The crossing rule, the same in every kernel (NumPy, JAX, PyTorch, the plain-loop reference):
an interval fires when V at its peak (or at its end) reaches ``theta * (1 - TOUCH_ULPS * eps)``
in the kernel's dtype. A peak that touches theta exactly -- e.g. tau_mem = tau_syn and
w = e * theta, where V = theta only at t = tau -- therefore spikes (at the peak) in every
framework, although their libm / XLA evaluations of V(peak) differ by an ulp or two either
side of theta. Without the margin the verdict on a tangent touch was a coin toss of rounding
(JAX said no, NumPy and PyTorch yes). A touch is a double root of V - theta, so its time is
determined only to about sqrt(eps) relative (float64: ~1e-8), not to machine precision.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._checks import check_fits

DTYPES = ("float32", "float64")
# Below these |x| the ratios expm1(x)/x and log1p(x)/x are evaluated by their Taylor series;
# the truncation error (x**4/120 resp. x**4/5) is below float64 rounding there.
SERIES_CUTOFF = 1e-4
# Newton iteration cap. Measured (tests/kernels/test_event_lif_oracle.py): median 5 iterations,
# grazing crossings up to ~60 (Newton converges linearly on a double root); past the cap the
# iterate is still a lower bound inside the bracket, so termination is guaranteed.
NEWTON_MAX_ITER = 100
# The crossing rule's margin (module docstring): peaks within this many ulps below theta fire.
TOUCH_ULPS = 4


def touch_level(theta: float, eps: float) -> float:
    """The voltage a peak must reach to count as a crossing (the crossing rule)."""
    return theta * (1.0 - TOUCH_ULPS * eps)


class LIFParams(NamedTuple):
    """Current-based LIF parameters.

    tau_mem: membrane time constant (time units of the input, e.g. seconds), > 0.
    tau_syn: synaptic current time constant (same unit), > 0. tau_syn == tau_mem is allowed.
    theta:   firing threshold (dimensionless voltage), > 0 and > v_reset.
    v_reset: reset potential after a spike (dimensionless), < theta. Also the initial V.
    t_ref:   absolute refractory period (time unit), >= 0; V is held at v_reset meanwhile.
    """

    tau_mem: float
    tau_syn: float
    theta: float
    v_reset: float = 0.0
    t_ref: float = 0.0


class Derived(NamedTuple):
    """Constants every kernel derives from LIFParams (plain Python floats)."""

    tau_mem: float
    tau_syn: float
    theta: float
    v_reset: float
    t_ref: float
    r: float  # 1/tau_syn - 1/tau_mem
    abs_r: float
    inv_slow: float  # 1 / max(tau_mem, tau_syn)


def derive(p: LIFParams) -> Derived:
    tm, ts = float(p.tau_mem), float(p.tau_syn)
    r = 1.0 / ts - 1.0 / tm
    return Derived(tm, ts, float(p.theta), float(p.v_reset), float(p.t_ref), r, abs(r),
                   1.0 / max(tm, ts))


def validate_params(p: LIFParams, dtype="float64") -> LIFParams:
    """Check `p` (ValueError naming the bad field); returns it with plain float fields.
    Numbers and 0-d arrays are accepted; every value must fit `dtype`."""
    if not isinstance(p, LIFParams):
        raise ValueError(f"params must be a LIFParams, got {type(p).__name__}")
    vals = {}
    for name in LIFParams._fields:
        v = getattr(p, name)
        if isinstance(v, np.ndarray) and v.ndim == 0:
            v = v[()]
        if isinstance(v, (bool, np.bool_)) or \
                not isinstance(v, (int, float, np.floating, np.integer)) or not math.isfinite(v):
            raise ValueError(f"LIFParams.{name} must be a finite number, got {v!r}")
        check_fits(float(v), f"LIFParams.{name}", dtype)
        vals[name] = float(v)
    p = LIFParams(**vals)
    if p.tau_mem <= 0:
        raise ValueError(f"LIFParams.tau_mem must be > 0, got {p.tau_mem}")
    if p.tau_syn <= 0:
        raise ValueError(f"LIFParams.tau_syn must be > 0, got {p.tau_syn}")
    if p.theta <= p.v_reset:
        raise ValueError(f"LIFParams.theta ({p.theta}) must be > v_reset ({p.v_reset})")
    if p.theta <= 0:
        raise ValueError(f"LIFParams.theta must be > 0 (the resting potential is 0), got {p.theta}")
    if p.t_ref < 0:
        raise ValueError(f"LIFParams.t_ref must be >= 0, got {p.t_ref}")
    return p


class EventInputs(NamedTuple):
    """Validated host inputs, always batched: times (B, E), channels (B, E) int64 with -1 as
    trailing padding, weights (N_out, N_in), delays (N_out, N_in) or None, t_end float."""

    times: np.ndarray
    channels: np.ndarray
    weights: np.ndarray
    delays: np.ndarray | None
    t_end: float
    batched: bool


def validate_inputs(times, channels, weights, delays=None, t_end=math.inf,
                    dtype="float64") -> EventInputs:
    """Check shapes and values at the boundary; raise ValueError naming the problem.

    One sample is ``times`` (E,) and ``channels`` (E,); a batch adds a leading axis (B, E).
    Samples shorter than E are padded at the end with channel id -1 (their times are ignored).
    Real events must have finite times >= 0, sorted non-decreasingly within each sample.
    Times, weights, delays, arrival times (time + delay) and a finite t_end must fit `dtype`,
    the dtype the kernel computes in.
    """
    t = np.asarray(times)
    c = np.asarray(channels)
    w = np.asarray(weights)
    if t.ndim not in (1, 2):
        raise ValueError(f"times must have shape (E,) or (B, E), got shape {t.shape}")
    if c.shape != t.shape:
        raise ValueError(f"channels shape {c.shape} does not match times shape {t.shape}")
    if w.ndim != 2:
        raise ValueError(f"weights must have shape (N_out, N_in), got shape {w.shape}")
    if not np.issubdtype(t.dtype, np.number) or np.issubdtype(t.dtype, np.complexfloating):
        raise ValueError(f"times must be real numbers, got dtype {t.dtype}")
    if c.size and not np.issubdtype(c.dtype, np.integer):
        if not np.issubdtype(c.dtype, np.floating):
            raise ValueError(f"channels must be integer ids, got dtype {c.dtype}")
        if not np.all(np.isfinite(c)) or not np.all(np.mod(c, 1) == 0):
            raise ValueError("channels must be integer ids, got non-integer values")
    batched = t.ndim == 2
    t = np.atleast_2d(t).astype(np.float64, copy=False)
    c = np.atleast_2d(c).astype(np.int64, copy=False)
    n_out, n_in = w.shape
    if n_out < 1 or n_in < 1:
        raise ValueError(f"weights must have at least one neuron and one input, got {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights contain non-finite values")
    pad = c < 0
    if np.any(c < -1):
        raise ValueError(f"channel ids must be in [0, {n_in}) (or -1 for padding), "
                         f"found {int(c.min())}")
    if np.any(c >= n_in):
        raise ValueError(f"channel id {int(c.max())} out of range for weights with "
                         f"N_in={n_in}")
    # padding must be trailing: once a sample pads, it stays padded
    if np.any(pad[:, :-1] & ~pad[:, 1:]):
        b = int(np.nonzero(np.any(pad[:, :-1] & ~pad[:, 1:], axis=1))[0][0])
        raise ValueError(f"sample {b}: padding (channel -1) must come after all real events")
    real_t = np.where(pad, 0.0, t)
    if not np.all(np.isfinite(real_t)):
        raise ValueError("times contain non-finite values (NaN or inf)")
    if np.any(real_t < 0):
        raise ValueError(f"times must be >= 0, found {float(real_t.min())}")
    filled = np.where(pad, np.inf, t)
    unsorted = filled[:, 1:] < filled[:, :-1]
    if np.any(unsorted):
        b = int(np.nonzero(np.any(unsorted, axis=1))[0][0])
        raise ValueError(f"sample {b}: times are not sorted (sort by time, then channel id)")
    d = None
    if delays is not None:
        d = np.asarray(delays, dtype=np.float64)
        if d.shape != w.shape:
            raise ValueError(f"delays shape {d.shape} does not match weights shape {w.shape}")
        if not np.all(np.isfinite(d)):
            raise ValueError("delays contain non-finite values")
        if np.any(d < 0):
            raise ValueError(f"delays must be >= 0, found {float(d.min())}")
    t_end = float(t_end)
    if math.isnan(t_end) or t_end < 0:
        raise ValueError(f"t_end must be >= 0 (or inf), got {t_end}")
    check_fits(real_t, "times", dtype)
    check_fits(w, "weights", dtype)
    if d is not None:
        check_fits(d, "delays", dtype)
        # times and delays are >= 0, so the latest arrival is the sum of the maxima
        check_fits(real_t.max(initial=0.0) + d.max(initial=0.0), "arrival times (time + delay)",
                   dtype)
    if math.isfinite(t_end):
        check_fits(t_end, "t_end", dtype)
    return EventInputs(t, c, w.astype(np.float64, copy=False), d, t_end, batched)


def auto_chunk(lanes: int) -> int:
    """The exact path's default width: about one lane in 64 may be near threshold at one input,
    so 4 for a few hundred lanes up to 32 from 2,048 lanes. A pass costs O(width) whether its
    lanes are candidates or padding (profiled on the serial layer, 128 neurons x batch 2, 1e5
    events: width 4 took 0.75x the time of width 32; a layer with many candidates per input
    needs the wide pass, or it loops)."""
    return int(min(32, max(4, lanes // 64)))
