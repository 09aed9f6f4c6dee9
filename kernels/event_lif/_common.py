"""Parameters and input validation shared by the NumPy, JAX and PyTorch event-LIF kernels.

Model (docs/families/event_lif.md), per neuron, dimensionless voltage, resting potential 0::

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

import functools
import inspect
import math
import sys
from typing import NamedTuple

import numpy as np

from .._checks import as_int, check_fits

DTYPES = ("float32", "float64")
# Below these |x| the ratios expm1(x)/x and log1p(x)/x are evaluated by their Taylor series;
# the truncation error (x**4/120 resp. x**4/5) is below float64 rounding there.
SERIES_CUTOFF = 1e-4
# Newton iteration cap. Measured: median 5 iterations (tests/kernels/test_event_lif_oracle.py);
# a peak grazing theta 1e-16 below needs 29 in float64 (Newton converges linearly on a near-
# double root; tests/kernels/test_event_lif.py measures it and holds the cap at >= 2x that);
# past the cap the iterate is still a lower bound inside the bracket, so termination holds.
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
    return Derived(
        tm, ts, float(p.theta), float(p.v_reset), float(p.t_ref), r, abs(r), 1.0 / max(tm, ts)
    )


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
        if (
            isinstance(v, (bool, np.bool_))
            or not isinstance(v, (int, float, np.floating, np.integer))
            or not math.isfinite(v)
        ):
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


def _real(a: np.ndarray) -> bool:
    return (
        np.issubdtype(a.dtype, np.number)
        and not np.issubdtype(a.dtype, np.complexfloating)
        and a.dtype != np.bool_
    )


def _first(mask: np.ndarray, batched: bool = True):
    """The index of the first True entry of `mask` (a tuple for 2-d; of the sample's events
    when a single sample was given)."""
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    if not batched and len(idx) == 2:
        idx = idx[1:]
    return idx[0] if len(idx) == 1 else idx


def validate_inputs(
    times, channels, weights, delays=None, t_end=math.inf, dtype="float64"
) -> EventInputs:
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
    for name, a in (("times", t), ("weights", w)):
        if not _real(a):
            raise ValueError(f"{name} must be real numbers, got dtype {a.dtype}")
    if c.size and not np.issubdtype(c.dtype, np.integer):
        if not np.issubdtype(c.dtype, np.floating):
            raise ValueError(f"channels must be integer ids, got dtype {c.dtype}")
        if not np.all(np.isfinite(c)) or not np.all(np.mod(c, 1) == 0):
            raise ValueError(
                f"channels must be integer ids, got non-integer values (first at "
                f"index {_first(~np.isfinite(c) | (np.mod(c, 1) != 0))})"
            )
    batched = t.ndim == 2
    t = np.atleast_2d(t).astype(np.float64, copy=False)
    c = np.atleast_2d(c)
    n_out, n_in = w.shape
    if n_out < 1 or n_in < 1:
        raise ValueError(f"weights must have at least one neuron and one input, got {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError(
            f"weights contain non-finite values (first at index {_first(~np.isfinite(w))})"
        )
    # range checks in the ids' own dtype, before the int64 cast (uint64 2**64-1 would wrap to
    # -1, the padding id, and the event would vanish)
    bad = (c < -1) | (c >= n_in)
    if np.any(bad):
        k = tuple(np.argwhere(bad)[0])
        raise ValueError(
            f"channel id {c[k]} at index {_first(bad, batched)} is out of range: "
            f"channel ids must be in [0, {n_in}) for weights with N_in={n_in} "
            f"(or -1 for padding)"
        )
    c = c.astype(np.int64, copy=False)
    pad = c < 0
    # padding must be trailing: once a sample pads, it stays padded
    if np.any(pad[:, :-1] & ~pad[:, 1:]):
        b = int(np.nonzero(np.any(pad[:, :-1] & ~pad[:, 1:], axis=1))[0][0])
        raise ValueError(f"sample {b}: padding (channel -1) must come after all real events")
    real_t = np.where(pad, 0.0, t)
    if not np.all(np.isfinite(real_t)):
        raise ValueError(
            f"times contain non-finite values (NaN or inf), first at index "
            f"{_first(~np.isfinite(real_t), batched)}"
        )
    if np.any(real_t < 0):
        raise ValueError(
            f"times must be >= 0, found {float(real_t.min())} at index "
            f"{_first(real_t < 0, batched)}"
        )
    filled = np.where(pad, np.inf, t)
    unsorted = filled[:, 1:] < filled[:, :-1]
    if np.any(unsorted):
        b, e = np.argwhere(unsorted)[0]
        at = (int(b), int(e) + 1) if batched else int(e) + 1
        raise ValueError(
            f"sample {b}: times are not sorted at index {at} (sort by time, then channel id)"
        )
    d = None
    if delays is not None:
        d = np.asarray(delays)
        if not _real(d):
            raise ValueError(f"delays must be real numbers, got dtype {d.dtype}")
        d = d.astype(np.float64)
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
        check_fits(
            real_t.max(initial=0.0) + d.max(initial=0.0), "arrival times (time + delay)", dtype
        )
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


# -- the public API's checks ---------------------------------------------------------------


def _traced(x) -> bool:
    """A value known only inside a trace (jax.jit, torch.compile): it cannot be checked."""
    if "jax" in sys.modules and isinstance(x, sys.modules["jax"].core.Tracer):
        return True
    torch = sys.modules.get("torch")
    return torch is not None and torch.compiler.is_compiling()


def _host(x):
    """A framework array (or nested sequence) as a NumPy array (a copy from a device)."""
    if x is None:
        return None
    if hasattr(x, "detach"):  # torch.Tensor
        return x.detach().cpu().numpy()
    return np.asarray(x)


def check_call(args: dict) -> None:
    """The boundary checks of ``validate_inputs`` on a public kernel call's arguments (a
    network's first layer gets the input events; every layer's weights must be finite), and
    the budgets: ``max_spikes`` and ``n_steps`` positive integers (or None). Skipped for
    values inside a trace."""
    layers = args["weights"]
    many = isinstance(layers, tuple | list)
    first = layers[0] if many and len(layers) else layers
    delays = args.get("delays")
    if isinstance(delays, tuple | list):
        delays = delays[0] if len(delays) else None
    leaves = [args["times"], args["channels"], first, delays, *(layers if many else ())]
    if any(_traced(x) for x in leaves):
        return
    w = _host(first)
    dtype = "float32" if w is not None and w.dtype == np.float32 else "float64"
    validate_inputs(
        _host(args["times"]),
        _host(args["channels"]),
        w,
        _host(delays),
        args.get("t_end", math.inf),
        dtype,
    )
    for i, wl in enumerate(layers if many else ()):
        wl = _host(wl)
        if not (_real(wl) and np.all(np.isfinite(wl))):
            raise ValueError(f"weights[{i}] must hold finite real numbers")
    for name in ("max_spikes", "n_steps"):
        if args.get(name) is not None:
            as_int(name, args[name], 1)


def checked(fn):
    """The public, checked form of kernel function `fn`: its signature plus a keyword
    ``check=True`` that runs ``check_call`` on concrete arguments first (NaN / inf or
    negative times, unsorted times, channels outside [0, n_inputs), non-finite weights, bad
    budgets: a ValueError naming the index). ``check=False`` calls `fn` as it is, which is
    what the harness times (the registry holds the unchecked kernels)."""
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    at = next((i for i, p in enumerate(params) if p.kind is p.VAR_KEYWORD), len(params))
    params.insert(at, inspect.Parameter("check", inspect.Parameter.KEYWORD_ONLY, default=True))

    @functools.wraps(fn)
    def call(*args, check: bool = True, **kwargs):
        if check:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            check_call(bound.arguments)
        return fn(*args, **kwargs)

    call.__signature__ = sig.replace(parameters=params)
    return call
