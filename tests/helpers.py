"""Shared test helpers: inputs made once with NumPy's default_rng (tolerances: tolerances.py)."""

from __future__ import annotations

import numpy as np
import spikebench  # noqa: F401  (enables JAX x64 before jax is imported)
from spikebench.kernels.event_lif import LIFParams, simulate
from spikebench.kernels.event_lif import _reference as reference

FRAMEWORKS = ("numpy", "jax", "torch")

P = LIFParams(tau_mem=0.02, tau_syn=0.005, theta=1.0)
# the parameter regimes every event-LIF kernel test sweeps
PARAM_SETS = {
    "tm>ts": P,
    "tm==ts": LIFParams(0.01, 0.01, 1.0),
    "tm~ts": LIFParams(0.01, 0.01 * (1 + 1e-7), 1.0),
    "ts>tm,v_reset<0": LIFParams(0.005, 0.02, 1.0, v_reset=-0.2),
    "refractory": LIFParams(0.02, 0.005, 1.0, t_ref=0.003),
}

from tests.tolerances import TOLERANCES  # noqa: E402

# relative spike-time tolerance against the reference / oracle, per dtype
TIME_RTOL = TOLERANCES["spike_time"]
# implementations against each other, same dtype (spec: a few ulps in float64)
AGREE_RTOL = TOLERANCES["agree"]


def random_layer(
    rng,
    *,
    batch=3,
    n_events=40,
    n_in=12,
    n_out=5,
    duration=0.1,
    w_mean=0.6,
    w_std=0.8,
    delays=False,
    pad=True,
):
    """Random batched inputs: sorted times with some exact ties, optional ragged padding."""
    times = np.sort(rng.uniform(0, duration, (batch, n_events)), axis=1)
    if n_events > 3:  # force a few ties
        times[:, 2] = times[:, 1]
    channels = rng.integers(0, n_in, (batch, n_events))
    if pad and batch > 1:
        for b in range(1, batch):
            cut = rng.integers(0, n_events + 1)
            channels[b, cut:] = -1
            times[b, cut:] = 0.0
    weights = rng.normal(w_mean, w_std, (n_out, n_in))
    d = rng.uniform(0, 0.01, (n_out, n_in)) if delays else None
    return times, channels, weights, d


def np_out(x):
    return np.asarray(x.cpu()) if hasattr(x, "cpu") else np.asarray(x)


def run(fw, times, channels, weights, params, dtype="float64", **kw):
    st, cnt = simulate(times, channels, weights, params, framework=fw, dtype=dtype, **kw)
    return np_out(st).astype(np.float64), np_out(cnt)


def rel_err(a, b, scale):
    return np.abs(a - b) / np.maximum(np.abs(b), scale)


def compare_to_reference(st, cnt, ref: dict, rtol, scale):
    """Assert identical counts and spike times within rtol (relative to max(|t|, scale))."""
    for (b, n), r in ref.items():
        assert cnt[b, n] == len(r), f"lane {(b, n)}: {cnt[b, n]} spikes, reference {len(r)}"
        if r:
            err = rel_err(st[b, n, : len(r)], np.asarray(r), scale).max()
            assert err <= rtol, f"lane {(b, n)}: relative error {err:.3g} > {rtol}"


__all__ = [
    "P",
    "PARAM_SETS",
    "LIFParams",
    "simulate",
    "reference",
    "FRAMEWORKS",
    "TIME_RTOL",
    "AGREE_RTOL",
    "random_layer",
    "run",
    "rel_err",
    "compare_to_reference",
    "np_out",
]


def resized(case, **sizes):
    """`case` with some of its sizes replaced (e.g. fewer epochs for a test)."""
    from spikebench import cases

    return cases.Case(**{**case.__dict__, "sizes": tuple(sorted({**case.size, **sizes}.items()))})


def run_train_rows(module, cs, folder, n_train: int, n_test: int):
    """The harness rows of the train cases `cs`, in-process, with the task module's split
    made small (module.N_TRAIN / N_TEST); returns (rows, the CSV's path)."""
    import pytest
    from spikebench.harness import runner

    mp = pytest.MonkeyPatch()
    mp.setattr(module, "N_TRAIN", n_train)
    mp.setattr(module, "N_TEST", n_test)
    try:
        with runner.Session(folder, isolate=False) as s:
            rows = [s.run(c) for c in cs]
    finally:
        mp.undo()
    return rows, s.csv_path
