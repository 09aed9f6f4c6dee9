"""Benchmark adapter for the spike event queues (docs/families/queues.md).

Two kinds of case, told apart by the sizes:

- traffic (sizes n_queues, capacity, delay, interval, T; dataset ``bernoulli``): the paper's
  loops (a)-(d) and (f). For k = 1 .. T every queue pops(k), then spikes with probability
  1/interval (a hash of (k, queue) that JAX, PyTorch and NumPy compute bit-identically: the
  same inputs everywhere, with no [T, Q] array) and enqueues arrival k + delay. The popped
  state is carried (the published batched script enqueued onto the pre-pop queues, so its
  queues only filled up). The row's throughput is simulated steps/s; the report shows
  microseconds per step.
- network (sizes n_neurons, T, capacity; dataset ``recurrent``): benchmark (e), the recurrent
  LIF network of ``_net_jax`` with one queue per synapse, W ~ N(0.006, 0.02), delays
  U(3.5, 4.5) ms, the ring sized for 7 ms. ``forward`` simulates; ``grad`` differentiates the
  spike-time objective w.r.t. W and D, in reverse mode (knob ad=reverse: the gradient) or
  forward mode (ad=forward: one directional derivative, ``jvp``). With ``--dataset NAME``
  (docs/guide/datasets.md: queue networks take the binned view) the constant input current gives
  way to one sample of the dataset: its events binned into T equal steps over the sample's
  duration (``datasets.binned_span``), projected onto the N neurons by a fixed seeded
  non-negative matrix W_in [N, C] ~ U(0, 1), and scaled so that the mean input current is
  DRIVE theta / ms (a neuron driven by DRIVE alone fires every tau_mem ln(5 / 4) ~ 2.2 ms):
  I_ext[k, n] = kappa sum_c W_in[n, c] counts[k, c], kappa = DRIVE / mean(W_in counts).

Correctness:

- traffic: N_CHECK sampled queues (queues are independent, so a sample is an exact check of
  those queues at any size) against the plain-Python reference queues on the same spikes —
  delivered count, payload sum, dropped count and events offered must be identical; and over
  every queue delivered + dropped + pending == offered (exact drop accounting). max_err is the
  largest payload-sum difference, mismatch_frac the fraction of sampled queues that differ.
  ``drop_rate`` = dropped / offered.
- network: against the NumPy network driven by the plain-Python reference queues of the
  row's design (``_net_numpy.simulate(queue=...)``), event by event: spike counts equal, the
  spike-time sum within TOL, and delivered, dropped and pending events equal -- so a design
  that drops (the lossy ring) is checked like every other one -- plus the accounting
  delivered + dropped + pending == sent. grad rows:
  the directional derivative along a fixed random direction (of the gradient, or the jvp)
  against a central difference of the float64 reference objective.
"""

from __future__ import annotations

import math

import numpy as np

from ... import datasets
from ...kernels.queues import NetParams
from ...kernels.queues import _common as qc
from ...kernels.queues import _net_numpy as net_np
from ...kernels.queues._reference import traffic_reference
from ...registry import Unsupported
from .._base import Family
from . import sweeps as _sweeps
from . import training as _training

N_CHECK = 8
TOL = {"float64": 1e-9, "float32": 1e-4}
GRAD_TOL = {"float64": 1e-4, "float32": 2e-2}
FD_STEP = 1e-6
RING_MAX_DELAY_MS = 7.0
DRIVE = 0.5  # mean input current (theta / ms) of a dataset-driven network
NET = NetParams()


def kind(case) -> str:
    if case.mode == "train":
        return "train"
    return "network" if "n_neurons" in case.size else "traffic"


# train rows: final test accuracy vs the float64 reference run's. Far wider than the other
# families' 0.03, so a loose check: a float32 rounding that flips one spike changes which
# events the queues drop, and the runs part ways (measured, 3-6 epochs at capacities 1, 2, 4:
# per-epoch differences up to 0.19; the test accuracy itself moves by up to 0.1 between
# epochs). A kernel error shows in the grad rows' finite-difference check instead.
ACCURACY_BAND = 0.20


def _train_config(case):
    from ...training import case_config
    from .training import LR

    return case_config(case, LR)


def _net_params(case) -> NetParams:
    return NET._replace(n_steps=int(case.size["T"]))


def _max_delay(case) -> int:
    if kind(case) == "network":
        return int(math.ceil(RING_MAX_DELAY_MS / NET.dt))
    return int(case.size["delay"])


def _capacity(case):
    return None if case.impl == "ring" else int(case.size["capacity"])


def _data_drive(case, n: int):
    """The input current [T, N] of a dataset-driven network (module docstring) and the stats
    of the sample it came from."""
    t = int(case.size["T"])
    ev = datasets.stream(
        case.dataset, 1, None, data_dir=case.data_dir, seed=case.seed, stats_file=case.stats_file
    )
    counts = datasets.binned_span(ev, t)[:, 0, :].astype(np.float64)
    w_in = np.random.default_rng([case.seed, n, 3]).random((n, ev.n_channels))
    drive = counts @ w_in.T
    if not drive.mean() > 0:
        raise ValueError(
            f"dataset {case.dataset!r}: the sample holds no event to drive the network"
        )
    i_ext = _f32(drive * (DRIVE / drive.mean()))
    return i_ext, {
        **ev.stats(),
        "input": f"W_in U(0, 1) [{n}, {ev.n_channels}], "
        f"mean current {DRIVE} theta/ms over {t} equal bins of the sample",
    }


def _f32(x):
    """Values every framework and dtype represents exactly (the same inputs everywhere)."""
    return np.asarray(x, np.float64).astype(np.float32).astype(np.float64)


def ref_kind(case):
    # every reference depends on the design: the network too is driven by the reference
    # queues of the case's design (its drop policy), event by event
    if kind(case) == "network":
        return f"network/{case.mode}/{case.impl}"
    if kind(case) == "train":
        return f"train/{case.impl}"
    return f"traffic/{case.impl}"


def _check_traffic(case, inputs, out, ref):
    q, hits, pays, sent = out
    lanes = inputs["lanes"]
    pending = qc.pending_numpy(case.impl, q.keys, q.size)
    dropped = np.asarray(q.dropped)
    exact = bool(np.all(hits + dropped + pending == sent))
    rows = {
        "delivered": hits[lanes],
        "pay_sum": pays[lanes],
        "dropped": dropped[lanes],
        "enqueued": sent[lanes],
    }
    differ = np.zeros(len(lanes), bool)
    for name, got in rows.items():
        differ |= np.asarray(got, np.float64) != np.asarray(ref[name], np.float64)
    err = float(np.max(np.abs(np.asarray(pays[lanes], np.float64) - ref["pay_sum"])))
    offered = int(sent.sum())
    note = None if exact else "delivered + dropped + pending != offered"
    return {
        "correct": bool(exact and not differ.any()),
        "max_err": err,
        "mismatch_frac": float(differ.mean()),
        "n_checked": len(lanes),
        "note": note,
        "drop_rate": float(dropped.sum()) / offered if offered else 0.0,
    }


def tally(case) -> str:
    """What a traffic row's loop carries besides the queues (``_common.TALLIES``): the
    anchor's default is its own form ("total": one scalar, as the authors' benchmark), ours
    and the exported graphs' the per-queue counters ("queue"); a knob overrides both."""
    return case.knob.get("tally", "total" if case.framework == "adseq" else "queue")


def _agree(timed, seen) -> str | None:
    """Why a "total" row's timed output (final queues, total) differs from its instrumented
    run's (final queues, per-queue counters), or None: the same final state, array for array,
    and the total equal to the delivered counts' sum."""
    q_t, total = timed
    q_i, hits = seen[0], seen[1]
    for name in ("keys", "size"):
        if not np.array_equal(np.asarray(getattr(q_t, name)), np.asarray(getattr(q_i, name))):
            return f"the timed run's final queue {name} differ from the instrumented run's"
    if int(np.asarray(total)) != int(np.asarray(hits).sum()):
        return (
            f"the timed run delivered {int(np.asarray(total))} events, the instrumented "
            f"run {int(np.asarray(hits).sum())}"
        )
    return None


def _check_network(case, out, ref):
    deriv, net_out = (out[1], out[2]) if case.mode == "grad" else (None, out)
    count = np.asarray(net_out.spike_count)
    dropped, delivered, pending = (
        int(np.asarray(x)) for x in (net_out.dropped, net_out.delivered, net_out.pending)
    )
    sent = int(count.sum()) * count.size
    accounted = delivered + dropped + pending == sent
    drop_rate = dropped / sent if sent else 0.0
    same = np.array_equal(count, ref["spike_count"])
    err = abs(float(np.asarray(net_out.spike_time_sum)) - ref["spike_time_sum"]) / max(
        abs(ref["spike_time_sum"]), 1e-300
    )
    differ = [
        f"{name} {got} != {ref[name]}"
        for name, got in (("delivered", delivered), ("dropped", dropped), ("pending", pending))
        if got != ref[name]
    ]
    ok = bool(accounted and same and not differ and err <= TOL[case.dtype])
    note = (
        "; ".join(
            (["spike counts differ from the reference-queue network"] if not same else [])
            + [f"{d} (reference queues)" for d in differ]
        )
        or None
    )
    if case.mode == "grad":
        if ref.get("fd") is None:
            note = "a spike appears or vanishes within the difference step"
            ok = False
        else:
            err_g = abs(float(deriv) - ref["fd"]) / max(abs(ref["fd"]), 1e-300)
            ok = ok and bool(np.isfinite(float(deriv))) and err_g <= GRAD_TOL[case.dtype]
            err = max(err, err_g)
    return {
        "correct": ok,
        "max_err": err,
        "mismatch_frac": float(np.mean(count != ref["spike_count"])),
        "n_checked": int(count.size),
        "drop_rate": drop_rate,
        "note": note,
    }


def _chunk(case) -> int:
    from ...kernels.queues._onnx import CHUNK

    return int(case.knob.get("chunk", CHUNK))


def _known_difference(framework: str, impl: str) -> str | None:
    """The documented reason an anchor row disagrees with the reference (docs: Anchors), or
    None: then a wrong anchor row is as wrong as any other."""
    if framework != "adseq":
        return None
    import importlib

    module = importlib.import_module(f"{_K}._adseq")
    return module.KNOWN_DIFFERENCES.get(impl)


_K = "spikebench.kernels.queues"


class Queues(Family):
    name = "queues"
    report_module = "spikebench.families.queues.report"
    kernel_modules = {
        "jax": (f"{_K}._jax", f"{_K}._net_jax"),
        "torch": (f"{_K}._torch", f"{_K}._net_torch"),
        "torch-compile": (f"{_K}._torch", f"{_K}._net_torch"),
        "onnx": (f"{_K}._onnx",),
        "adseq": (f"{_K}._adseq",),
    }  # the anchor: the EventQueues authors' code
    sweeps = _sweeps.SWEEPS
    task = _training.TASK
    title = "event queues"
    units = {
        "steps/s": ("param_T",),
        # train rows: the train split's samples an epoch (not a schema column)
        "train-samples/s": None,
    }
    modules = {
        "jax": "spikebench.kernels.queues.jax",
        "torch": "spikebench.kernels.queues.torch",
        "onnx": "spikebench.kernels.queues._onnx",
        "adseq": "spikebench.kernels.queues._adseq",
        "torch-compile": "spikebench.kernels.queues.torch",
    }
    # the exported graphs' steps per call is the host loop's own knob
    host_params = ("param_chunk_size",)

    def ref_kind(self, case):
        return ref_kind(case)

    def takes_events(self, case) -> bool:
        """Network cases can run on an event dataset (its binned events become the input
        current); the traffic cases are the paper's Bernoulli loads, which ``--dataset`` leaves
        out."""
        return kind(case) == "network"

    def make_inputs(self, case):
        s = case.size
        if kind(case) == "train":
            from .training import DESIGN, delay_inputs

            if case.dataset != "timing":
                raise ValueError(
                    f"queue training cases take dataset 'timing', not {case.dataset!r}"
                )
            if case.impl != DESIGN:
                raise Unsupported(f"the delay task trains the {DESIGN} design, not {case.impl}")
            data = delay_inputs(case.seed)
            return {
                "data": data,
                "stats": {
                    "dataset": "timing",
                    **{f"n_{k}": int(v[1].size) for k, v in data.items()},
                },
            }
        if kind(case) == "traffic":
            if case.dataset != "bernoulli":
                raise ValueError(
                    f"queue traffic cases take dataset 'bernoulli', not {case.dataset!r}"
                )
            for name in ("n_queues", "capacity", "delay", "interval", "T"):
                if int(s[name]) < 1:
                    raise ValueError(f"{name} must be >= 1, got {s[name]}")
            rng = np.random.default_rng([case.seed, 7])
            lanes = np.sort(
                rng.choice(s["n_queues"], size=min(N_CHECK, s["n_queues"]), replace=False)
            )
            return {
                "lanes": lanes.tolist(),
                "stats": {"dataset": "bernoulli", "rate_per_step": 1.0 / s["interval"]},
            }
        n = int(s["n_neurons"])
        rng = np.random.default_rng([case.seed, n])
        w = rng.normal(0.006, 0.02, (n, n)).astype(np.float32).astype(np.float64)
        d = rng.uniform(3.5, 4.5, (n, n)).astype(np.float32).astype(np.float64)
        qc.check_ring_delays(np.ceil(d / NET.dt) + 1, _max_delay(case))
        direction = (rng.normal(0.0, 0.02, (n, n)), rng.normal(0.0, 0.1, (n, n)))
        stats = {"dataset": "recurrent", "w": "N(0.006, 0.02)", "delay_ms": "U(3.5, 4.5)"}
        i_ext = None
        if case.dataset != "recurrent":
            i_ext, data_stats = _data_drive(case, n)
            stats.update(data_stats)
        return {"weights": w, "delays": d, "direction": direction, "i_ext": i_ext, "stats": stats}

    def reference(self, case, inputs):
        s = case.size
        if kind(case) == "train":
            from ...training import reference_curve
            from .training import REFERENCE, train_delays

            r = train_delays(
                int(s["capacity"]),
                REFERENCE[0],
                _train_config(case),
                dtype=REFERENCE[1],
                data=inputs["data"],
            )
            return {"curve": reference_curve(r)}, "queues/jax_float64_train"
        if kind(case) == "traffic":
            ref = traffic_reference(
                case.impl,
                inputs["lanes"],
                n_steps=int(s["T"]),
                delay=int(s["delay"]),
                interval=int(s["interval"]),
                capacity=_capacity(case),
                max_delay=_max_delay(case),
                seed=case.seed,
            )
            return ref, "queues/python_reference"
        p = _net_params(case)
        i_ext = inputs["i_ext"]
        queue = (case.impl, _capacity(case), _max_delay(case))
        ref = net_np.simulate(inputs["weights"], inputs["delays"], p, i_ext, queue=queue)
        if case.mode == "grad":
            dw, dd = inputs["direction"]
            h = FD_STEP
            plus = net_np.simulate(
                inputs["weights"] + h * dw, inputs["delays"] + h * dd, p, i_ext, queue=queue
            )
            minus = net_np.simulate(
                inputs["weights"] - h * dw, inputs["delays"] - h * dd, p, i_ext, queue=queue
            )
            same = all(
                np.array_equal(x["spike_count"], ref["spike_count"])
                and x["dropped"] == ref["dropped"]
                for x in (plus, minus)
            )
            ref["fd"] = (plus["loss"] - minus["loss"]) / (2 * h) if same else None
        return ref, "queues/numpy_reference_queues"

    def state_bytes(self, case, args, static):
        """The queues' arrays (traffic: the state the loop carries, as passed in; network:
        the N x N synapses' queues as the network builds them, plus each neuron's membrane
        potential and synaptic current)."""
        from ...harness import memory

        if kind(case) == "traffic" and case.framework != "onnx":
            return memory.nbytes(args[0], distinct=False)
        if kind(case) != "network" or case.framework not in ("jax", "torch", "torch-compile"):
            return None
        n = int(case.size["n_neurons"])
        q0 = self.kernels(case.framework).init(
            case.impl, n * n, _capacity(case), _max_delay(case), case.dtype
        )
        return memory.nbytes(q0, distinct=False) + 2 * n * np.dtype(case.dtype).itemsize

    def instrumented(self, case):
        if kind(case) == "traffic" and tally(case) == "total":
            return {"tally": "queue"}
        return None

    def check(self, case, inputs, out, ref, timed=None):
        if kind(case) == "traffic":
            row = _check_traffic(case, inputs, out, ref)
            why = None if timed is None else _agree(timed, out)
            if why:
                row = {
                    **row,
                    "correct": False,
                    "note": "; ".join(x for x in (row["note"], why) if x),
                }
            known = None if row["correct"] else _known_difference(case.framework, case.impl)
            if known:  # an anchor's documented difference (README "Anchors")
                row["note"] = "; ".join(x for x in (row["note"], known) if x)
            return row
        return _check_network(case, out, ref)

    def train(self, case, inputs, ref, fw, device):
        from ...training import epoch_samples, require_trainable, train_row
        from .training import FRAMEWORKS, train_delays

        require_trainable(case, FRAMEWORKS)
        cfg = _train_config(case)
        r = train_delays(int(case.size["capacity"]), case.framework, cfg, data=inputs["data"])
        n_train = epoch_samples(inputs["data"], cfg.batch)
        return train_row(r, ref["curve"], ACCURACY_BAND, n_train) | {
            "drop_rate": r.curve[-1]["drop_rate"]
        }

    def work(self, case):
        return case.size["T"], "steps/s"

    def params(self, case):
        s = case.size
        if kind(case) == "train":
            from . import training as td

            n = td.n_in() + td.N_HIDDEN
            return {
                "param_n_neurons": n,
                "param_n_queues": n * n,
                "param_capacity": int(s["capacity"]),
                "param_T": td.N_STEPS,
                "param_n_inputs": td.n_in(),
                "param_batch": int(s["batch"]),
                "param_epochs": int(s["epochs"]),
            }
        # the exported graphs' steps per call (the host loops over chunks)
        chunk = {"param_chunk_size": _chunk(case)} if case.framework == "onnx" else {}
        if kind(case) == "traffic":
            return {
                "param_n_queues": s["n_queues"],
                "param_capacity": _capacity(case),
                "param_delay": s["delay"],
                "param_interval": s["interval"],
                "param_T": s["T"],
                "param_tally": tally(case),
                **chunk,
            }
        return {
            **chunk,
            "param_n_neurons": s["n_neurons"],
            "param_n_queues": s["n_neurons"] ** 2,
            "param_capacity": _capacity(case),
            "param_T": s["T"],
            "param_n_inputs": None
            if case.dataset == "recurrent"
            else datasets.get(case.dataset.split("@")[0]).n_channels,
            "param_ad": case.knob.get("ad") if case.mode == "grad" else None,
        }

    def context(self, case, inputs):
        if kind(case) == "train":
            from ... import training
            from . import training as td

            return {
                "dataset_stats": inputs["stats"],
                "training": {
                    "network": td.NET._asdict(),
                    "n_hidden": td.N_HIDDEN,
                    "d_max_ms": td.D_MAX,
                    "pulse": td.PULSE,
                    "optimizer": {"adam": training.ADAM, "lr": td.LR},
                    "reference": "/".join(td.REFERENCE),
                    "accuracy_band": ACCURACY_BAND,
                    "readout": "phi_j = sum over spikes of (1 - t_s / n_steps), "
                    "hidden neurons, linear",
                },
            }
        return {
            "dataset_stats": inputs["stats"],
            "network": NET._asdict(),
            "check": {"lanes": N_CHECK, "tol": TOL, "grad_tol": GRAD_TOL, "fd_step": FD_STEP},
        }

    def entry(self, case):
        if kind(case) == "train":
            return "classify_grad"
        if kind(case) == "traffic":
            return "traffic"
        if case.mode == "forward":
            return "network_forward"
        return "network_jvp" if case.knob.get("ad", "reverse") == "forward" else "network_grad"

    def prepare(self, case, inputs, fw, device):
        if case.framework == "onnx":
            return _onnx_prepare(case, inputs, device)
        q = self.kernels(case.framework)
        dt = np.dtype(case.dtype)
        s = case.size
        if kind(case) == "traffic":
            if case.mode != "forward":
                raise Unsupported("queue traffic is timed forward only (gradients: the network)")
            static = {
                "design": case.impl,
                "n_steps": int(s["T"]),
                "delay": int(s["delay"]),
                "interval": int(s["interval"]),
                "seed": case.seed,
                "tally": tally(case),
            }
            q0 = q.init(
                case.impl, int(s["n_queues"]), _capacity(case), _max_delay(case), case.dtype, device
            )
            return (q0,), {}, static
        w, d = (fw.put(inputs[k].astype(dt), device) for k in ("weights", "delays"))
        i_ext = None if inputs["i_ext"] is None else fw.put(inputs["i_ext"].astype(dt), device)
        static = {
            "p": _net_params(case),
            "design": case.impl,
            "capacity": _capacity(case),
            "max_delay": _max_delay(case),
        }
        if case.mode == "forward":
            return (w, d, i_ext), {}, static
        dirs = tuple(fw.put(x.astype(dt), device) for x in inputs["direction"])
        return (w, d, *dirs, i_ext), {}, static


def _onnx_prepare(case, inputs, device):
    """The exported chunk graphs and their host loop: forward, float32."""
    if case.mode != "forward":
        raise Unsupported(
            "the ONNX path exports forward step functions only (gradients: JAX, PyTorch)"
        )
    if case.dtype != "float32":
        raise Unsupported(f"the ONNX path runs float32, not {case.dtype}")
    if tally(case) != "queue":
        raise Unsupported(
            "the exported traffic graphs carry the per-queue counters (tally 'queue') only"
        )
    s = case.size
    common = {
        "design": case.impl,
        "capacity": _capacity(case),
        "max_delay": _max_delay(case),
        "chunk": _chunk(case),
        "device": device,
    }
    if kind(case) == "traffic":
        return (
            (),
            {},
            {
                **common,
                "n_queues": int(s["n_queues"]),
                "dtype": case.dtype,
                "n_steps": int(s["T"]),
                "delay": int(s["delay"]),
                "interval": int(s["interval"]),
                "seed": case.seed,
            },
        )
    return (
        (inputs["weights"], inputs["delays"], inputs["i_ext"]),
        {},
        {**common, "p": _net_params(case)},
    )


FAMILY = Queues()
