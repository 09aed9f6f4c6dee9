"""Anchor: NEST's exact current-based LIF neuron ``iaf_psc_exp_ps`` on the serial layer cases.

Framework ``nest`` (CPU). NEST integrates the same model as every event-LIF kernel here
(``_common``) exactly between events and locates threshold crossings in continuous time
(precise spike timing: spikes carry an offset within the grid step). Units map as

    time        t_nest [ms]  = 1000 t + T0          (T0 = OFFSET_MS: NEST refuses a spike at 0)
    voltage     V_nest [mV]  = V                   (E_L = V_reset = 0, V_th = theta)
    current     I_nest [pA]  = I C_m / tau_m[ms]   (C_m dV/dt = -C_m V / tau_m + I_nest)
    weight      w_nest [pA]  = W C_m / tau_m[ms]   (an input adds W to I: the same jump)

Negative weights go to the inhibitory port; both ports get tau_syn. Each sample of the batch
is its own population of N neurons fed by its own n_inputs precise spike generators (all to
all, weights W[n, j]); every connection has the grid's smallest delay d = the resolution,
which is subtracted from the recorded spike times.

``layer`` is a *builder* (the path's compile step, timed apart: ResetKernel, Create,
Connect). It returns the timed call, which simulates one presentation of the inputs: it sets
every neuron to rest (V = v_reset, both synaptic currents 0), moves the spike generators'
``origin`` to the kernel's current time (NEST 3 has no ResetNetwork; the generators replay
their spikes relative to the origin), clears the recorders and runs ``nest.Simulate`` past the
last input by the tail after which no neuron can cross: a lane fires only while its current
exceeds theta (``_common``), and |I| after the last input is at most the sum of |W| of its
inputs decayed to that time, so the tail tau_syn ln(max |I| / theta) suffices. Returns
(spike_times [B, N, max_spikes] s, counts [B, N], stalled [B, N]) as the serial kernels do.
``threads`` is NEST's ``local_num_threads``.

Known difference: NEST requires a refractory time of at least one grid step (RESOLUTION_MS),
so ``layer`` refuses a smaller ``params.t_ref`` (ValueError) instead of changing the model;
the harness runs NEST's rows with t_ref = 0.1 ms and checks them against the reference loop
with that t_ref. The grid does not limit spike times, which are exact.
"""

from __future__ import annotations

import importlib.util
import math
import os

import numpy as np

from ...registry import register
from ._common import LIFParams

# NEST is imported by the builder only, in the case's worker: loading its kernel into a
# process that also runs torch.compile's kernels crashed that process (a test run's segfault),
# and registering the entry must not do that. Absent, the framework is unavailable.
if importlib.util.find_spec("nest") is None:
    raise ImportError(
        "nest-simulator is not installed (pip install 'spikebench[anchors]')", name="nest"
    )


def _nest():
    """The nest module, imported quietly (no banner; no OMP_NUM_THREADS notice: NEST threads
    by local_num_threads only, and the worker pins its cores either way)."""
    os.environ.setdefault("PYNEST_QUIET", "1")
    os.environ.pop("OMP_NUM_THREADS", None)
    import nest

    try:
        nest.verbosity = nest.VerbosityLevel.ERROR
    except AttributeError:  # older NEST
        nest.set_verbosity("M_ERROR")
    return nest


OFFSET_MS = 1.0  # the inputs' time origin in NEST (spike generators refuse t <= 0)
RESOLUTION_MS = 0.1
C_M = 250.0  # pF; any value: weights scale with it


def _tail_ms(times, channels, weights, params: LIFParams) -> float:
    """How long after the last input [ms] some lane could still cross (module docstring)."""
    worst = 0.0
    for s in range(channels.shape[0]):
        real = channels[s] >= 0
        if not real.any():
            continue
        t, ch = times[s][real], channels[s][real]
        decay = np.exp(-(t[-1] - t) / params.tau_syn)  # [E]
        bound = np.abs(weights[:, ch]) @ decay  # [N]: |I| at the last input, at most
        worst = max(worst, float(bound.max()))
    if worst <= params.theta:
        return 0.0
    return 1000.0 * params.tau_syn * math.log(worst / params.theta)


@register(
    "event_lif",
    "serial",
    "nest",
    entry="layer",
    devices=("cpu",),
    dtypes=("float64",),
    knobs=("threads",),
)
def layer(times, channels, weights, params: LIFParams, max_spikes: int = 64, threads=None):
    """Build the NEST network for one batch of inputs; returns the timed call (module
    docstring)."""
    if params.t_ref * 1000.0 < RESOLUTION_MS * (1 - 1e-9):
        raise ValueError(
            f"NEST's iaf_psc_exp_ps needs t_ref >= its resolution "
            f"{RESOLUTION_MS} ms, got t_ref = {params.t_ref} s"
        )
    nest = _nest()
    times = np.asarray(times, np.float64)
    channels = np.asarray(channels)
    weights = np.asarray(weights, np.float64)
    b, _ = channels.shape
    n, n_in = weights.shape
    tau_ms = 1000.0 * params.tau_mem
    nest.ResetKernel()
    nest.SetKernelStatus(
        {"resolution": RESOLUTION_MS, "print_time": False, "local_num_threads": int(threads or 1)}
    )
    neuron = {
        "tau_m": tau_ms,
        "tau_syn_ex": 1000.0 * params.tau_syn,
        "tau_syn_in": 1000.0 * params.tau_syn,
        "C_m": C_M,
        "E_L": 0.0,
        "V_reset": params.v_reset,
        "V_th": params.theta,
        "V_m": params.v_reset,
        "t_ref": 1000.0 * params.t_ref,
        "I_e": 0.0,
    }
    scale = C_M / tau_ms
    pops, recorders, gens, t_stop = [], [], [], OFFSET_MS
    for s in range(b):
        real = channels[s] >= 0
        t_ms = 1000.0 * times[s][real] + OFFSET_MS
        ch = channels[s][real]
        pop = nest.Create("iaf_psc_exp_ps", n, params=neuron)
        gen = nest.Create("spike_generator", n_in, params={"precise_times": True})
        per_ch = [t_ms[ch == j] for j in range(n_in)]
        gen.set([{"spike_times": x.tolist()} for x in per_ch])
        w = weights * scale  # [n, n_in]: target n, source j
        nest.Connect(gen, pop, "all_to_all", syn_spec={"weight": w, "delay": RESOLUTION_MS})
        rec = nest.Create("spike_recorder")
        nest.Connect(pop, rec)
        pops.append(pop)
        recorders.append(rec)
        gens.append(gen)
        if t_ms.size:
            t_stop = max(t_stop, float(t_ms.max()))
    tail = _tail_ms(times, channels, weights, params)
    sim_ms = math.ceil((t_stop + tail) / RESOLUTION_MS + 1) * RESOLUTION_MS
    first = [pop[0].global_id for pop in pops]
    rest = {"V_m": params.v_reset, "I_syn_ex": 0.0, "I_syn_in": 0.0}
    origin = [0.0]

    def run():
        origin[0] = float(nest.biological_time)
        for pop, gen, rec in zip(pops, gens, recorders, strict=True):
            pop.set(rest)
            gen.origin = origin[0]
            rec.n_events = 0
        nest.Simulate(sim_ms)
        out = np.full((b, n, max(max_spikes, 1)), np.inf)
        counts = np.zeros((b, n), np.int64)
        for s, rec in enumerate(recorders):
            ev = rec.get("events")
            senders, t = np.asarray(ev["senders"]), np.asarray(ev["times"], np.float64)
            order = np.lexsort((t, senders))
            for g, tt in zip(senders[order], t[order], strict=True):
                j = int(g) - first[s]
                c = counts[s, j]
                if c < out.shape[2]:
                    out[s, j, c] = (tt - origin[0] - RESOLUTION_MS - OFFSET_MS) / 1000.0
                counts[s, j] = c + 1
        return out, counts, np.zeros((b, n), bool)

    return run
