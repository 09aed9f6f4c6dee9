"""Benchmark adapter for the exact event-driven LIF layer and network (docs/families/event_lif.md).

Inputs: a seeded dataset batch (poisson or synthetic-shd) of `n_events` input events per
sample on `n_inputs` channels, a layer of `n_neurons` LIF neurons with LAYER parameters and
weights W ~ N(1, 2) * theta / (nominal input rate * tau_syn): at the dataset's nominal rate
(poisson: 20 Hz per channel; synthetic-shd: 4000 events per 0.95 s utterance) the mean drive
sits at threshold and neurons fire at ~10 Hz. The weights do not depend on n_events, so a
sparser sample simply drives the layer less. Times and weights are rounded once to values that
float32 represents exactly, so float32 and float64 kernels get bit-identical inputs (the same
inputs for every implementation, literally) and one reference serves both dtypes: a float32
row measures the kernel's arithmetic, not the rounding of its inputs (which at t ~ 70 s is
~4 us, a few percent of a 70 us inter-event gap).

Networks (`n_layers` > 1): hidden layers of `n_neurons` with weights scaled the same way for a
nominal HIDDEN_RATE per input neuron, and a leaky-integrator readout of N_CLASSES classes
(``_net_jax``); `mode=grad` is one training step of that network (`n_layers` >= 1): the
cross-entropy loss against seeded labels and its gradient w.r.t. every weight matrix.

Correctness, by reference kind:

- ``serial`` (one layer, forward): the plain-loop reference (``_reference.py``) on N_CHECK
  lanes (sample, neuron) chosen by a fixed seed — lanes do not interact, so a subset is an
  exact check of those lanes at any size. A reference spike counts as reproduced when the row
  has a spike within TOL[dtype] * max(t, tau_mem). float64 must reproduce every spike (max_err
  is the largest relative time error); float32 may flip grazing crossings and must reproduce
  at least 99 %. A parallel row must also have consumed every queue.
- ``bare_scan``: the closed-form sum of post-synaptic kernels at each lane's last input.
- ``net`` (network forward): the NumPy serial network in float64; spike counts of every
  neuron of every layer (mismatch fraction as above) and the logits (max_err, relative).
- ``grad``: the loss, and the gradient's directional derivative along a fixed random
  direction against a central finite difference of the float64 NumPy loss (max_err is the
  larger relative error; GRAD_TOL per dtype). Rows with overflowing budgets are incorrect.
"""

from __future__ import annotations

import math

import numpy as np

from ... import datasets
from ...datasets._generators import SHD_EVENTS_MEDIAN
from ...kernels.event_lif import LIFParams
from ...kernels.event_lif import _net_numpy as net_np
from ...kernels.event_lif import _reference as ref_mod
from ...kernels.event_lif._numpy import v_at
from ...registry import Unsupported
from .._base import Family
from . import sweeps as _sweeps
from . import training as _training

LAYER = LIFParams(tau_mem=0.02, tau_syn=0.005, theta=1.0, v_reset=0.0, t_ref=0.0)
# NEST's iaf_psc_exp_ps needs a refractory time of at least one grid step (0.1 ms, its default
# grid; kernels/event_lif/_nest.py): its rows simulate, and are checked against the reference
# loop with, LAYER but t_ref = NEST_T_REF. Every other implementation runs LAYER as it is.
NEST_T_REF = 1e-4


def case_layer(case) -> LIFParams:
    """The layer of a case: LAYER, with the case's ``tau_mem_ms`` size (milliseconds) where it
    has one (the jaxsnn cases: its solver takes only tau_mem = tau_syn or 2 tau_syn; column
    ``param_tau_mem_ms``)."""
    if "tau_mem_ms" in case.size:
        return LAYER._replace(tau_mem=case.size["tau_mem_ms"] / 1000.0)
    return LAYER


def layer_params(case) -> LIFParams:
    """The layer parameters a case simulates (``case_layer``; NEST: t_ref = NEST_T_REF)."""
    p = case_layer(case)
    if case.framework == "nest":
        return p._replace(t_ref=max(p.t_ref, NEST_T_REF))
    return p


N_CHECK = 8
# network forward rows: samples do not interact, so at larger batches the float64 NumPy
# reference runs on NET_CHECK seeded samples (an exact check of those samples; the reference
# of 2 x 512 at batch 128 alone took a minute)
NET_CHECK = 8
TOL = {"float64": 1e-9, "float32": 1e-4}
# the spike-time check (_match): pairing window (relative), the voltage error behind the
# conditioning term of the bound, and the band (I - theta) / theta of a grazing crossing
WINDOW = {"float64": 1e-3, "float32": 1e-2}
DV = {"float64": 1e-12, "float32": 1e-5}
GRAZE = {"float64": 0.0, "float32": 1e-2}
CURRENT_HORIZON = 40.0  # tau_syn: exp(-40) ~ 4e-18, below float64 resolution
CONSEQUENCE = 5.0  # tau_mem: how long a grazing flip's reset shifts the lane's later spikes
ALLOWED_MISMATCH = {"float64": 0.0, "float32": 0.01}
LOGIT_TOL = {"float64": 1e-9, "float32": 1e-3}
GRAD_TOL = {"float64": 1e-3, "float32": 1e-2}  # see FD_STEPS; the tests hold 1e-6
N_CLASSES = 20
TAU_LI = 0.05
HIDDEN_RATE = 10.0  # nominal firing rate (Hz) of a hidden neuron, for the weight scale
# Central differences of the float64 loss at relative steps h and h/2 (Richardson: truncation
# O(h^4)), for each h here whose spike counts stay fixed; the h whose two estimates agree best
# wins. Rounding grows as h shrinks (~ eps * loss / h) and so does the chance that a spike
# time crosses an input time within +-h (a kink of the loss), hence no single h fits all.
FD_STEPS = (1e-4, 1e-5, 1e-6)
ACCURACY_BAND = 0.03  # train rows: final test accuracy vs the float64 reference run's


def n_layers(case) -> int:
    return int(case.size.get("n_layers", 1))


def _f32(x):
    return x.astype(np.float32).astype(np.float64)


def _float32_exact(times, channels):
    """Round times to float32 values and restore the (time, channel) order within ties."""
    t = times.astype(np.float32).astype(np.float64)
    c = channels.copy()
    for b in range(t.shape[0]):
        real = c[b] >= 0
        order = np.lexsort((c[b][real], t[b][real]))
        t[b][real], c[b][real] = t[b][real][order], c[b][real][order]
    return t, c


def input_rate(case, nominal: bool = False) -> float | None:
    """Input events per simulated second of an event case, over all its inputs: the size
    ``rate_hz`` where the case sets it (Poisson input), else the generators' nominal rate
    (Poisson 20 Hz a channel; synthetic SHD one median utterance in 0.95 s); None for a
    recorded dataset (its rate is measured on the rows it streams). NEST's cost follows
    simulated time and ours events, so their ratio depends on this (README "Anchors").
    `nominal`: the generator's default rate even where ``rate_hz`` is set (the weights'
    scale)."""
    s = case.size
    if "rate_hz" in s and not nominal:
        return float(s["rate_hz"])
    if case.dataset == "poisson":
        return float(s["n_inputs"]) * 20.0
    if case.dataset == "synthetic-shd":
        return SHD_EVENTS_MEDIAN / 0.95
    return None


def ref_kind(case):
    if case.mode == "train" and case.impl not in _training.IMPLS:
        return "train_peer"  # a peer's own training run: checked on its trained weights
    if case.impl == "bare_scan":
        return "bare_scan"
    if case.mode in ("grad", "train"):
        return case.mode
    return "net" if n_layers(case) > 1 else "serial"


def _train_config(case):
    from ...training import case_config
    from .training import LR

    return case_config(case, LR)


def _lanes(case):
    b, n = case.size["batch"], case.size["n_neurons"]
    rng = np.random.default_rng(12345)
    flat = rng.choice(b * n, size=min(N_CHECK, b * n), replace=False)
    return [(int(f // n), int(f % n)) for f in np.sort(flat)]


def _psp_sums(k, t_last, arr, w):
    """V, I at t_last from (arrival, weight) pairs by summing closed-form kernels; also the
    sums of the terms' magnitudes (the scale the error is measured against)."""
    d = t_last - arr
    ker_i = np.exp(-d / k.tau_syn)
    ker_v = v_at(k, 0.0, 1.0, d)  # V after d from (V, I) = (0, 1): the PSP kernel
    return (
        float(np.sum(w * ker_v)),
        float(np.sum(w * ker_i)),
        float(np.sum(np.abs(w * ker_v))),
        float(np.sum(np.abs(w * ker_i))),
    )


def _np_loss(inputs, layers, w_out):
    return net_np.loss(
        inputs["times"], inputs["channels"], inputs["labels"], layers, w_out, LAYER, tau_li=TAU_LI
    )


def _grad_reference(inputs):
    """Loss and a central finite difference of it along a fixed random direction (float64)."""
    rng = np.random.default_rng(777)
    params = [*inputs["layers"], inputs["w_out"]]
    direction = [rng.normal(0.0, 1.0, p.shape) * p.std() for p in params]
    loss, out = _np_loss(inputs, inputs["layers"], inputs["w_out"])
    best = None
    for h in FD_STEPS:
        vals, same = {}, True
        for step in (h, -h, h / 2, -h / 2):
            moved = [p + step * v for p, v in zip(params, direction, strict=True)]
            vals[step], o = _np_loss(inputs, tuple(moved[:-1]), moved[-1])
            same &= all(np.array_equal(a, b) for a, b in zip(o.counts, out.counts, strict=True))
        if same:
            d_h = (vals[h] - vals[-h]) / (2 * h)
            d_h2 = (vals[h / 2] - vals[-h / 2]) / h
            if best is None or abs(d_h - d_h2) < best[1]:
                best = ((4 * d_h2 - d_h) / 3, abs(d_h - d_h2), h)
    if best is not None:
        return {
            "loss": loss,
            "direction": direction,
            "fd": best[0],
            "fd_err_est": best[1],
            "h": best[2],
            "counts": out.counts,
        }
    raise ValueError("no finite-difference step keeps every spike count fixed (grazing input)")


def _current_at(arr, w, t):
    """The synaptic current just before each time in `t` from sorted arrivals `arr` with
    weights `w` (I does not depend on the spikes: a reset touches V only). Terms older than
    CURRENT_HORIZON tau_syn are below float64 resolution and are left out."""
    t = np.atleast_1d(np.asarray(t, np.float64))
    hi = np.searchsorted(arr, t, side="left")
    lo = np.searchsorted(arr, t - CURRENT_HORIZON * LAYER.tau_syn, side="left")
    return np.array(
        [
            float(np.sum(w[a:b] * np.exp(-(x - arr[a:b]) / LAYER.tau_syn)))
            for a, b, x in zip(lo, hi, t, strict=True)
        ]
    )


def _match(ref_t, out_t, dtype, arr, w, p=LAYER):
    """Compare a lane's spike train with the reference's (both sorted).

    Pairs: in order, an output spike pairs with the reference spike within half the distance
    to that spike's neighbours (so a window never spans an inter-spike interval, and one
    missing or extra spike is always left unpaired, at any t). A pair is within the bound
    when |dt| <= max(TOL * max(t, tau_mem), DV * theta * tau_mem / (I(t) - theta)): the
    second term is the time error a voltage error DV * theta makes where V crosses theta
    with slope (I - theta) / tau_mem -- near a grazing crossing the time is ill-conditioned
    (e.g. 200 simultaneous events at t = 0 in float32). A mismatch -- an unpaired spike, or
    a pair beyond its bound -- is explained in float32 when its crossing is grazing:
    |I(t) - theta| <= GRAZE * theta at its time (V can cross theta only where I > theta, and
    tangentially only where I = theta); so is any mismatch within CONSEQUENCE tau_mem after
    an explained one on the lane (the flipped spike's reset moves the next spike or two).

    Returns (explained, unexplained, worst relative error of the pairs)."""
    ref_t, out_t = np.asarray(ref_t, np.float64), np.asarray(out_t, np.float64)
    gaps = np.diff(ref_t)
    half = np.minimum(np.r_[np.inf, gaps], np.r_[gaps, np.inf]) / 2
    tol = TOL[dtype]
    i = j = 0
    pairs, unpaired = [], []
    while i < len(ref_t) and j < len(out_t):
        d = out_t[j] - ref_t[i]
        if abs(d) <= half[i] and abs(d) <= max(
            tol * max(abs(ref_t[i]), p.tau_mem),
            WINDOW[dtype] * max(abs(ref_t[i]), p.tau_mem),
        ):
            pairs.append((i, j))
            i += 1
            j += 1
        elif d < 0:
            unpaired.append(out_t[j])
            j += 1
        else:
            unpaired.append(ref_t[i])
            i += 1
    unpaired += list(ref_t[i:]) + list(out_t[j:])
    worst, events = 0.0, []  # mismatches: (time, [times whose crossing may be grazing])
    for i, j in pairs:
        scale = max(abs(ref_t[i]), p.tau_mem)
        err = abs(out_t[j] - ref_t[i])
        worst = max(worst, err / scale)
        if err > tol * scale:
            slope = max(float(_current_at(arr, w, ref_t[i])[0]) - p.theta, 1e-300)
            if not err <= DV[dtype] * p.theta * p.tau_mem / slope:
                events.append((min(ref_t[i], out_t[j]), [ref_t[i], out_t[j]]))
    events += [(t, [t]) for t in unpaired]
    # A grazing flip (float32) is explained, and so is what it causes on the lane for the
    # next CONSEQUENCE tau_mem (a reset at another time shifts the next spike or two)
    explained = unexplained = 0
    last = -np.inf
    for t, at in sorted(events):
        cur = _current_at(arr, w, at)
        if np.any(np.abs(cur - p.theta) <= GRAZE[dtype] * p.theta) and GRAZE[dtype]:
            explained, last = explained + 1, t
        elif t - last <= CONSEQUENCE * p.tau_mem:
            explained += 1
        else:
            unexplained += 1
    return explained, unexplained, worst


def _net_samples(case) -> np.ndarray:
    """The samples a network forward row is checked on: all, or NET_CHECK seeded ones."""
    b = int(case.size["batch"])
    if b <= NET_CHECK:
        return np.arange(b)
    return np.sort(np.random.default_rng(54321).choice(b, NET_CHECK, replace=False))


def _check_net(case, out, ref):
    logits, counts, overflow = out
    rows = ref.get("samples", np.arange(np.shape(logits)[0]))
    logits = np.asarray(logits)[rows]
    counts = [np.asarray(c)[rows] for c in counts]
    miss = sum(
        int(np.abs(np.asarray(a) - b).sum()) for a, b in zip(counts, ref["counts"], strict=True)
    )
    frac = miss / max(sum(int(b.sum()) for b in ref["counts"]), 1)
    err = float(np.max(np.abs(logits - ref["logits"])) / max(np.max(np.abs(ref["logits"])), 1e-300))
    correct = bool(
        frac <= ALLOWED_MISMATCH[case.dtype] and err <= LOGIT_TOL[case.dtype] and int(overflow) == 0
    )
    n = sum(int(np.size(b)) for b in ref["counts"])
    note = f"budget overflow: {int(overflow)}" if int(overflow) else None
    return {"correct": correct, "max_err": err, "mismatch_frac": frac, "n_checked": n, "note": note}


def _check_grad(case, out, ref):
    loss, (g_layers, g_out), overflow = out
    grads = [*g_layers, g_out]
    finite = all(np.all(np.isfinite(g)) for g in grads)
    dd = sum(float(np.sum(g * v)) for g, v in zip(grads, ref["direction"], strict=True))
    err_g = abs(dd - ref["fd"]) / max(abs(ref["fd"]), 1e-300)
    err_l = abs(float(loss) - ref["loss"]) / max(abs(ref["loss"]), 1e-300)
    err = max(err_g, err_l)
    correct = bool(
        finite
        and int(overflow) == 0
        and err_g <= GRAD_TOL[case.dtype]
        and err_l <= LOGIT_TOL[case.dtype]
    )
    note = f"budget overflow: {int(overflow)}" if int(overflow) else None
    if not finite:
        note = "non-finite gradient (grazing crossing)"
    return {
        "correct": correct,
        "max_err": err,
        "mismatch_frac": None,
        "n_checked": sum(int(np.size(g)) for g in grads),
        "note": note,
    }


_K = "spikebench.kernels.event_lif"


class EventLIF(Family):
    name = "event_lif"
    report_module = "spikebench.families.event_lif.report"
    kernel_modules = {
        "numpy": (f"{_K}._numpy",),
        "jax": (f"{_K}._jax", f"{_K}._parallel_jax", f"{_K}._net_jax"),
        "torch": (f"{_K}._torch", f"{_K}._parallel_torch", f"{_K}._net_torch"),
        # the exported graphs (torch.onnx) run by ONNX Runtime or a GroqChip
        "onnx": (f"{_K}._onnx",),
        # the parallel simulator and the network with a compiled step; the serial simulator
        # and the bare scan as one compiled while_loop each (docs: Compiled PyTorch)
        "torch-compile": (f"{_K}._parallel_torch", f"{_K}._net_torch", f"{_K}._loop_torch"),
        "nest": (f"{_K}._nest",),  # the anchor: NEST's exact LIF neuron
    }
    sweeps = _sweeps.SWEEPS
    task = _training.TASK
    title = "event LIF (Bullet Trains)"
    units = {
        "neuron-events/s": ("param_batch", "param_n_neurons", "param_n_events"),
        "samples/s": ("param_batch",),
        # train rows: the train split's samples an epoch (not a schema column)
        "train-samples/s": None,
    }
    modules = {
        "numpy": "spikebench.kernels.event_lif._numpy",
        "jax": "spikebench.kernels.event_lif.jax",
        "torch": "spikebench.kernels.event_lif.torch",
        "torch-compile": "spikebench.kernels.event_lif.torch",
        "onnx": "spikebench.kernels.event_lif._onnx",
        "nest": "spikebench.kernels.event_lif._nest",
    }

    def ref_kind(self, case):
        # a reference per parameter set (NEST's rows run with a refractory time)
        p = layer_params(case)
        extra = [f"t_ref={p.t_ref}"] if p.t_ref != LAYER.t_ref else []
        extra += [f"tau_mem={p.tau_mem}"] if p.tau_mem != LAYER.tau_mem else []
        return "/".join([ref_kind(case), *extra])

    def takes_events(self, case) -> bool:
        """Every event-LIF case runs on event samples (``--dataset`` can move it to any),
        except the training runs: their task is Yin-Yang."""
        return case.mode != "train"

    def make_inputs(self, case):
        s = case.size
        if case.mode == "train":
            from .training import yinyang_inputs

            if case.dataset != "yinyang":
                raise ValueError(
                    f"event_lif training cases take dataset 'yinyang', not {case.dataset!r}"
                )
            data = yinyang_inputs(case.seed)
            return {
                "data": data,
                "stats": {
                    "dataset": "yinyang",
                    **{f"n_{k}": int(v[1].size) for k, v in data.items()},
                },
            }
        b, e, n, n_in = s["batch"], s["n_events"], s["n_neurons"], s["n_inputs"]
        # rows of exactly e events: generated, or streamed from a dataset's samples
        ev = datasets.stream(
            case.dataset,
            b,
            e,
            n_channels=n_in,
            data_dir=case.data_dir,
            seed=case.seed,
            stats_file=case.stats_file,
            rate_hz=s.get("rate_hz"),
        )
        # input events per second (for the weight scale): nominal for the two generators the
        # profiles use, measured on the rows for any other dataset
        # the weights are one network's whatever the input's rate: denser input drives more
        # output spikes (the spike-heavy regime of the NEST density sweep)
        rate = input_rate(case, nominal=True)
        if rate is None:
            rate = float(ev.counts.sum()) / max(float(ev.duration.sum()), 1e-9)
        rng = np.random.default_rng(case.seed + 1)
        w = rng.normal(1.0, 2.0, (n, n_in)) * LAYER.theta / (rate * LAYER.tau_syn)
        times, channels = _float32_exact(ev.times, ev.channels.astype(np.int64))
        layers = [w]
        for _ in range(n_layers(case) - 1):
            layers.append(
                rng.normal(1.0, 2.0, (n, n)) * LAYER.theta / (n * HIDDEN_RATE * LAYER.tau_syn)
            )
        w_out = rng.normal(0.0, 1.0, (N_CLASSES, n)) / math.sqrt(n)
        return {
            "times": times,
            "channels": channels,
            "weights": _f32(w),
            "layers": tuple(_f32(x) for x in layers),
            "w_out": _f32(w_out),
            "labels": rng.integers(0, N_CLASSES, b),
            "stats": ev.stats(),
        }

    def reference(self, case, inputs):
        lanes = _lanes(case)
        kind = ref_kind(case)
        if kind == "train_peer":  # the check runs our reference simulator on its weights
            return {}, "event_lif/reference_loop_on_trained_weights"
        if kind == "train":
            from ...training import reference_curve
            from .training import REFERENCE, train_yinyang

            r = train_yinyang(
                *REFERENCE[:2],
                _train_config(case),
                dtype=REFERENCE[2],
                hidden=int(case.size["n_neurons"]),
                data=inputs["data"],
            )
            return {"curve": reference_curve(r)}, "event_lif/jax_float64_train"
        if kind == "grad":
            return _grad_reference(inputs), "event_lif/numpy_net_fd"
        if kind == "net":
            rows = _net_samples(case)
            out = net_np.network(
                inputs["times"][rows],
                inputs["channels"][rows],
                inputs["layers"],
                inputs["w_out"],
                LAYER,
                tau_li=TAU_LI,
            )
            return {
                "logits": out.logits,
                "counts": out.counts,
                "samples": rows,
            }, "event_lif/numpy_serial_net"
        if kind == "serial":
            spikes = ref_mod.serial_lanes(
                inputs["times"],
                inputs["channels"],
                inputs["weights"],
                layer_params(case),
                lanes=lanes,
            )
            return {
                "lanes": lanes,
                "spikes": [np.asarray(spikes[ln]) for ln in lanes],
            }, "event_lif/reference_loop"
        from ...kernels.event_lif._common import derive

        k = derive(LAYER)
        vals = []
        for b, n in lanes:
            real = inputs["channels"][b] >= 0
            t, ch = inputs["times"][b][real], inputs["channels"][b][real]
            t_last = t[-1] if t.size else 0.0
            vals.append(_psp_sums(k, t_last, t, inputs["weights"][n, ch]))
        return {"lanes": lanes, "vi": np.asarray(vals).reshape(-1, 4)}, "event_lif/psp_sum"

    def check(self, case, inputs, out, ref, timed=None):
        kind = ref_kind(case)
        if kind == "net":
            return _check_net(case, out, ref)
        if kind == "grad":
            return _check_grad(case, out, ref)
        lanes = ref["lanes"]
        if kind == "serial":
            spike_times, counts, stalled = out[:3]
            if counts.size and counts.max() > spike_times.shape[-1]:
                return {
                    "correct": False,
                    "max_err": None,
                    "mismatch_frac": None,
                    "n_checked": len(lanes),
                    "note": "spike buffer overflow",
                }
            if len(out) > 3 and np.asarray(out[3]).any():  # parallel: queues left unconsumed
                return {
                    "correct": False,
                    "max_err": None,
                    "mismatch_frac": None,
                    "n_checked": len(lanes),
                    "note": "unprocessed events (step budget)",
                }
            explained = unexplained = n_ref = 0
            worst = 0.0
            for (b, n), r in zip(lanes, ref["spikes"], strict=True):
                o = spike_times[b, n, : counts[b, n]].astype(np.float64)
                real = inputs["channels"][b] >= 0
                arr = inputs["times"][b][real]
                w = inputs["weights"][n, inputs["channels"][b][real]]
                e, u, wst = _match(r, o, case.dtype, arr, w, layer_params(case))
                explained, unexplained = explained + e, unexplained + u
                worst = max(worst, wst)
                n_ref += len(r)
            frac = (explained + unexplained) / max(n_ref, 1)
            correct = bool(
                unexplained == 0
                and explained / max(n_ref, 1) <= ALLOWED_MISMATCH[case.dtype]
                and not stalled.any()
            )
            note = (
                f"{unexplained} spike(s) missing, extra or off beyond the bound (not a "
                f"grazing crossing)"
                if unexplained
                else None
            )
            return {
                "correct": correct,
                "max_err": worst,
                "mismatch_frac": frac,
                "n_checked": len(lanes),
                "note": note,
            }
        v, i = out
        worst = 0.0
        for (b, n), (vr, ir, sv, si) in zip(lanes, ref["vi"], strict=True):
            worst = max(
                worst,
                abs(float(v[b, n]) - vr) / max(sv, 1e-300),
                abs(float(i[b, n]) - ir) / max(si, 1e-300),
            )
        return {
            "correct": bool(worst <= TOL[case.dtype]),
            "max_err": worst,
            "mismatch_frac": 0.0,
            "n_checked": len(lanes),
        }

    def train(self, case, inputs, ref, fw, device):
        from ...training import epoch_samples, require_trainable, train_row
        from .. import entry_name, implementation
        from .training import FRAMEWORKS, train_yinyang

        impl = implementation(case.family, case.impl, case.framework)
        if entry_name(case, impl) == "train":  # a peer's own training run (``_peer_train``)
            return _peer_train(case, inputs, impl.entry("train").fn)

        require_trainable(case, FRAMEWORKS)
        cfg = _train_config(case)
        r = train_yinyang(
            case.impl, case.framework, cfg, hidden=int(case.size["n_neurons"]), data=inputs["data"]
        )
        n_train = epoch_samples(inputs["data"], cfg.batch)
        # spike_rate is a fraction of (step, neuron) entries; an exact LIF neuron's rate is
        # spikes per sample (the curve's ``rate``, ``spikebench train``), not a fraction
        return train_row(r, ref["curve"], ACCURACY_BAND, n_train) | {"spike_rate": None}

    def work(self, case):
        s = case.size
        if ref_kind(case) in ("net", "grad"):
            return s["batch"], "samples/s"
        return s["batch"] * s["n_neurons"] * s["n_events"], "neuron-events/s"

    def params(self, case):
        s, k = case.size, case.knob
        if case.mode == "train":
            from .training import CHUNK

            return {
                "param_n_events": 5,
                "param_n_inputs": 5,
                "param_n_neurons": s["n_neurons"],
                "param_batch": s["batch"],
                "param_n_layers": 1,
                "param_epochs": int(s["epochs"]),
                "param_chunk_size": CHUNK if case.impl == "parallel" else None,
                "param_remat": None,
            }
        return {
            "param_n_events": s["n_events"],
            "param_n_inputs": s["n_inputs"],
            "param_rate_hz": input_rate(case),
            "param_n_neurons": s["n_neurons"],
            "param_batch": s["batch"],
            "param_n_layers": n_layers(case),
            "param_chunk_size": k.get("chunk") if case.impl == "parallel" else None,
            "param_remat": k.get("remat") if case.mode == "grad" else None,
            "param_tau_mem_ms": case_layer(case).tau_mem * 1000.0,
        }

    def context(self, case, inputs):
        if ref_kind(case) == "train_peer":
            return {
                "dataset_stats": inputs["stats"],
                "training": {
                    "network": f"the {case.framework} library's own Yin-Yang example",
                    "accuracy_band": ACCURACY_BAND,
                    "check": "its trained weights in the float64 reference simulator",
                },
            }
        if case.mode == "train":
            from ... import training
            from . import training as ty

            return {
                "dataset_stats": inputs["stats"],
                "training": {
                    "params": ty.PARAMS._asdict(),
                    "tau_li": ty.TAU_LI,
                    "optimizer": {"adam": training.ADAM, "lr": ty.LR},
                    "init": {"w_mean": ty.W_MEAN, "w_std": ty.W_STD, "u_std": ty.U_STD},
                    "readout_scale": ty.READOUT_SCALE,
                    "chunk": ty.CHUNK,
                    "reference": "/".join(ty.REFERENCE),
                    "accuracy_band": ACCURACY_BAND,
                    "network": "5 -> n_neurons exact LIF -> 3 leaky integrators",
                },
            }
        return {
            "layer": case_layer(case)._asdict(),
            "dataset_stats": inputs["stats"],
            "check": {
                "lanes": N_CHECK,
                "tol": TOL,
                "allowed_mismatch": ALLOWED_MISMATCH,
                "logit_tol": LOGIT_TOL,
                "grad_tol": GRAD_TOL,
            },
            "network": {
                "n_layers": n_layers(case),
                "n_classes": N_CLASSES,
                "tau_li": TAU_LI,
                "hidden_rate_hz": HIDDEN_RATE,
            },
            "t_end": math.inf,
        }

    def entry(self, case):
        kind = ref_kind(case)
        return {"net": "net_forward", "grad": "net_grad", "train": "net_grad"}.get(kind, "layer")

    def prepare(self, case, inputs, fw, device):
        if case.framework == "onnx":
            return _onnx_prepare(case, inputs, device)
        dt = np.dtype(case.dtype)
        times = fw.put(inputs["times"].astype(dt), device)
        channels = fw.put(inputs["channels"], device)
        knob = case.knob
        kind = ref_kind(case)
        if kind in ("serial", "bare_scan"):
            static = {"params": layer_params(case)}
            if case.impl == "parallel":
                static["chunk"] = int(knob.get("chunk", 128))
            if case.framework == "nest":  # as many threads as the worker has cores
                import os

                static["threads"] = (
                    len(os.sched_getaffinity(0))
                    if hasattr(os, "sched_getaffinity")
                    else (os.cpu_count() or 1)
                )
            if case.impl in ("serial", "parallel"):
                # a generous first guess; resize() grows it if a lane overflows (JAX's is
                # static)
                static["max_spikes"] = 64
            return (times, channels, fw.put(inputs["weights"].astype(dt), device)), {}, static
        if case.framework == "numpy":
            raise Unsupported("no NumPy network of event-LIF layers (JAX and PyTorch only)")
        mod = self.kernels(case.framework)
        layers = tuple(fw.put(x.astype(dt), device) for x in inputs["layers"])
        w_out = fw.put(inputs["w_out"].astype(dt), device)
        # the serial training step takes one event a step
        chunk = 1 if (kind == "grad" and case.impl == "serial") else int(knob.get("chunk", 128))
        budgets = mod.plan_budgets(times, channels, layers, LAYER, chunk=chunk)
        static = {"params": LAYER, "chunk": chunk, "tau_li": TAU_LI}
        if kind == "net":
            static |= {"budgets": tuple((s, None) for s, _ in budgets), "method": case.impl}
            return (times, channels, layers, w_out), {}, static
        static |= {"budgets": budgets, "remat": bool(knob.get("remat", True))}
        labels = fw.put(inputs["labels"], device)
        return (times, channels, labels, layers, w_out), {}, static

    def state_bytes(self, case, args, static):
        """The carry of the simulator's outermost loop -- the lanes' potentials, currents,
        clocks and counters and their spike buffers -- read from the JAX program at the case's
        shapes (``memory.loop_state_bytes``). The parallel simulator's chunk buffers of K
        events live within a step and show in the kernel figure, not here. PyTorch rows carry
        the same state (the twins' arrays match) and report the JAX twin's figure; NEST and
        the exported graphs: none."""
        from ... import registry
        from ...hardware import frameworks
        from ...harness import memory
        from .. import implementation as _implementation

        if case.mode == "train" or case.framework not in ("jax", "torch", "torch-compile"):
            return None
        try:
            twin = _implementation(case.family, case.impl, "jax").entry(self.entry(case)).fn
        except registry.Unsupported:
            return None
        host = self.to_numpy(args, frameworks.adapter(case.framework))
        static = {k: v for k, v in static.items() if k != "threads"}
        return memory.loop_state_bytes(twin, host, static=static)

    def resize(self, case, out, static):
        if case.impl not in ("serial", "parallel") or ref_kind(case) != "serial":
            return None
        counts = np.asarray(out[1])
        need = int(counts.max()) if counts.size else 0
        if need > static["max_spikes"]:
            return {**static, "max_spikes": need}
        return None


def _peer_train(case, inputs, run) -> dict:
    """A peer library's own Yin-Yang training (e.g. jaxsnn's EventProp example, ``peers``)
    on our split, to the case's target: ``run(data, config, hidden)`` returns its TrainResult
    and the check of its trained weights in our float64 reference simulator ({"n",
    "agreement", "accuracy", "reference_accuracy"}: on n test samples, the fraction whose
    predicted class both agree on, and each one's accuracy there). The row is correct when at
    most ACCURACY_BAND of them differ (max_err: the fraction that differ): the peer's accuracy
    is what its network computes."""
    from ...training import case_config, epoch_samples, train_row

    cfg = case_config(case)
    result, chk = run(inputs["data"], cfg, int(case.size["n_neurons"]))
    # the timing and curve columns (its own curve as the "reference": the check is below)
    row = train_row(result, result.curve, ACCURACY_BAND, epoch_samples(inputs["data"], cfg.batch))
    differ = 1.0 - chk["agreement"]
    note = (
        f"its trained weights in our reference simulator: {chk['agreement']:.3f} of "
        f"{chk['n']} test predictions agree (accuracy {chk['reference_accuracy']:.3f} against "
        f"its {chk['accuracy']:.3f})"
    )
    return row | {
        "max_err": differ,
        "correct": bool(differ <= ACCURACY_BAND),
        "n_checked": chk["n"],
        "spike_rate": None,
        "error": "; ".join(x for x in (row.get("error"), note) if x),
    }


def _onnx_prepare(case, inputs, device):
    """The exported chunk step and its host loop: one layer, forward, float32."""
    if ref_kind(case) != "serial" or case.impl != "parallel":
        raise Unsupported(
            "the ONNX path exports the parallel simulator's chunk step (one layer) only"
        )
    if case.mode != "forward" or case.dtype != "float32":
        raise Unsupported(f"the ONNX path runs forward float32, not {case.mode} {case.dtype}")
    return (
        (inputs["times"], inputs["channels"], inputs["weights"]),
        {},
        {
            "params": LAYER,
            "chunk": int(case.knob.get("chunk", 128)),
            "max_spikes": 64,
            "device": device,
        },
    )


FAMILY = EventLIF()
