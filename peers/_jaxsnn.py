"""jaxsnn (PyPI ``jaxsnn``) rows of the event-LIF family, timed in its own form: a
``Topology`` of ``Source(n_inputs) -> Linear(weights) -> LIF(n_neurons, budget)`` built and
compiled with ``jax.jit``, its ``apply_fn`` (vmapped over the batch by jaxsnn) on the case's
input events.

jaxsnn's LIF is the same current-based neuron as ours -- tau_mem dV/dt = -V + I,
tau_syn dI/dt = -I, an input event adds its weight to I, V >= theta fires and resets to
v_reset -- with exact spike times from its analytic root solver (``ttfs_solver``), which
holds only for tau_mem = tau_syn or tau_mem = 2 tau_syn: its cases use tau_mem = 10 ms,
tau_syn = 5 ms (``param_tau_mem_ms``). Parameters and units map one to one (seconds, theta =
``v_th``, ``v_leak`` 0, weights [n_neurons, n_inputs] transposed to jaxsnn's
[n_inputs, n_neurons]); padding events (channel -1) become jaxsnn's empty events (index -1,
time inf). jaxsnn creates its states in JAX's default float type, float64 under the suite's
64-bit mode, so its rows are float64.

Its output is one event list per sample of ``budget`` entries: the input events echoed with
layer index 0, then the layer's own spikes; its loop runs over the whole budget, so the rows
are timed at the smallest budget that holds the case's spikes (``fit``: the first call at
inputs + ``max_spikes`` per neuron counts them). ``convert`` (untimed) keeps the layer's own
events and sorts them into the family's per-neuron spike buffers.
"""

from __future__ import annotations

import logging
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jaxsnn.event.modules import LIF, LIFParameters, Linear, Source
from jaxsnn.event.topology import Topology
from jaxsnn.event.types import Spike
from spikebench.registry import register

# the end of simulated time for jaxsnn's solver: far beyond every case's last input (spikes
# come within a few tau_mem of the input that causes them)
T_MAX = 1e6

logging.getLogger("jaxsnn").setLevel(logging.WARNING)  # it logs each topology it builds


def _budget(n_events: int, n_neurons: int, max_spikes: int, budget: int | None) -> int:
    return int(budget) if budget is not None else n_events + max_spikes * n_neurons


def convert(out, case, static):
    """jaxsnn's event lists -> (spike_times [B, N, S], counts [B, N], stalled [B, N]); a list
    filled to its last entry may have lost spikes: then counts exceed S (overflow)."""
    time, idx, layer_idx = (np.asarray(a) for a in out)
    b, n = time.shape[0], int(case.size["n_neurons"])
    # the layer's own spikes; inputs are echoed with layer index 0, unused entries have index
    # -1 (time T_MAX)
    own = (layer_idx > 0) & (idx >= 0)
    counts = np.zeros((b, n), np.int64)
    lists = [[[] for _ in range(n)] for _ in range(b)]
    for s in range(b):
        for t, i in zip(time[s][own[s]], idx[s][own[s]], strict=True):
            lists[s][int(i)].append(float(t))
            counts[s, int(i)] += 1
    width = int(counts.max()) if counts.size else 0
    buf = np.full((b, n, max(width, 1)), np.inf)
    for s in range(b):
        for i in range(n):
            buf[s, i, : counts[s, i]] = np.sort(lists[s][i])
    full = idx[:, -1] >= 0
    if full.any():  # the budget was spent: spikes may be missing
        counts[full] += buf.shape[-1] + 1
    return buf, counts, np.zeros((b, n), bool)


def fit(out, case, static):
    """The tightest budget holding the first call's spikes (inputs + the largest sample's own
    spikes + 1, so a full list always means an overflow); a bigger first guess when it
    overflowed."""
    _, counts, _ = out
    n_events, n = int(case.size["n_events"]), int(case.size["n_neurons"])
    used = _budget(n_events, n, static["max_spikes"], static.get("budget"))
    per_sample = counts.sum(axis=1)
    if np.any(counts > out[0].shape[-1]):
        return {**static, "budget": 4 * used}
    tight = n_events + int(per_sample.max(initial=0)) + 1
    return None if tight == used else {**static, "budget": tight}


@register(
    "event_lif",
    "serial",
    "jaxsnn",
    entry="layer",
    devices=("cpu", "gpu"),
    dtypes=("float64",),
    convert=convert,
    fit=fit,
)
@partial(jax.jit, static_argnames=("params", "max_spikes", "budget"))
def layer(times, channels, weights, params, max_spikes=64, budget=None):
    n_batch, n_events = times.shape
    n, n_in = weights.shape
    lif = LIFParameters(
        tau_syn=params.tau_syn,
        tau_mem=params.tau_mem,
        v_th=params.theta,
        v_leak=0.0,
        v_reset=params.v_reset,
    )
    topo = Topology(t_max=T_MAX, backprop_method="eventprop")
    topo.add(
        {
            "inp": Source(n_in),
            "syn": Linear(pre_weights=weights.T),
            "lif": LIF(n, _budget(n_events, n, max_spikes, budget), lif),
        }
    )
    topo.connect([("inp", "syn"), ("syn", "lif")])
    _, apply_fn = topo.done()
    real = channels >= 0
    inputs = Spike(
        time=jnp.where(real, times, jnp.inf),
        idx=jnp.where(real, channels, -1),
        current=jnp.zeros(times.shape, times.dtype),
        layer_idx=jnp.zeros(times.shape, int),
        internal=jnp.ones(times.shape, bool),
    )
    events = apply_fn({"inp": inputs}, {"inp": None, "syn": weights.T, "lif": None})
    out = events["lif"]
    return out.time, out.idx, out.layer_idx
