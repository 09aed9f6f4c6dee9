"""bare_scan, the linear state update alone (the ceiling the spike logic is measured against):
(V, I) right after each lane's last input equal the closed-form sum of post-synaptic kernels,
in NumPy, JAX and PyTorch, with and without delays, for tau_mem >, < and == tau_syn.

With tau_mem dV/dt = -V + I and dI/dt = -I / tau_syn, a unit jump of I at lag d gives
I(d) = exp(-d / tau_syn) and V(d) = tau_syn (exp(-d / tau_mem) - exp(-d / tau_syn)) /
(tau_mem - tau_syn) (d / tau_mem exp(-d / tau_mem) when the two are equal): written here from
the ODE, not from the kernels' propagator."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import LIFParams, random_layer
from tests.tolerances import assert_agree

PARAMS = {
    "tm>ts": LIFParams(0.02, 0.005, 1.0),
    "ts>tm": LIFParams(0.005, 0.02, 1.0),
    "tm==ts": LIFParams(0.01, 0.01, 1.0),
}


def _kernels(p, d):
    tm, ts = p.tau_mem, p.tau_syn
    i = np.exp(-d / ts)
    if tm == ts:
        return d / tm * np.exp(-d / tm), i
    return ts * (np.exp(-d / tm) - np.exp(-d / ts)) / (tm - ts), i


def _closed_form(times, channels, weights, p, delays):
    b, n = channels.shape[0], weights.shape[0]
    v, i, scale = np.zeros((b, n)), np.zeros((b, n)), np.zeros((b, n))
    for s in range(b):
        real = channels[s] >= 0
        t, ch = times[s][real], channels[s][real]
        for j in range(n):
            arr = t + (0.0 if delays is None else delays[j, ch])
            if not arr.size:
                continue
            kv, ki = _kernels(p, arr.max() - arr)
            w = weights[j, ch]
            v[s, j], i[s, j] = np.sum(w * kv), np.sum(w * ki)
            scale[s, j] = np.sum(np.abs(w * kv)) + np.sum(np.abs(w * ki))
    return v, i, scale


def _bare(fw, t, c, w, p, d):
    if fw == "numpy":
        from spikebench.kernels.event_lif import _numpy as mod

        return mod.bare_scan(t, c, w, p, delays=d)
    pytest.importorskip(fw)
    import importlib

    mod = importlib.import_module(f"spikebench.kernels.event_lif.{fw}")
    if fw == "jax":
        import jax.numpy as jnp

        conv = jnp.asarray
    else:
        import torch

        conv = torch.as_tensor
    out = mod.bare_scan(conv(t), conv(c), conv(w), p, delays=None if d is None else conv(d))
    return tuple(np.asarray(x) for x in out)


@pytest.mark.parametrize("fw", ["numpy", "jax", "torch"])
@pytest.mark.parametrize("pname", list(PARAMS))
@pytest.mark.parametrize("delays", [False, True], ids=["nodelay", "delays"])
def test_bare_scan_equals_the_closed_form_psp_sum(fw, pname, delays):
    p = PARAMS[pname]
    rng = np.random.default_rng([list(PARAMS).index(pname), int(delays), 11])
    t, c, w, d = random_layer(rng, batch=3, n_events=50, n_in=6, n_out=4, delays=delays)
    v, i = _bare(fw, t, c, w, p, d)
    v_ref, i_ref, scale = _closed_form(t, c, w, p, d)
    assert np.abs(v_ref).max() > 0.1  # the inputs do move the state
    assert_agree(v, v_ref, "agree", "float64", scale=scale)
    assert_agree(i, i_ref, "agree", "float64", scale=scale)
