"""Benchmark adapter for discrete LIF and the Parallel Spiking Unit family (docs/families/psu.md).

Two levels, told apart by the sizes:

- neuron level (sizes T, n_neurons, batch; dataset ``gaussian``): the input current
  x [T, batch, n_neurons] ~ Normal(0.3, 0.5) with PARAMS (tau = 2, theta = 0.3, the published
  SHD setting), so that LIF fires on ~1/3 of the steps. ``forward`` times the neuron alone;
  ``grad`` times forward + backward of sum(R * S) for a fixed random cotangent R, w.r.t. x and
  the neuron's own parameters (IPSU / RPSU: the T x T matrix and per-step bias; the PSU family:
  the surrogate's alpha; LIF: x only, its alpha is fixed).
- network level (sizes T, n_inputs, n_neurons, batch, n_layers; dataset ``synthetic-shd``):
  the SHD-shaped network n_inputs -> n_neurons x n_layers -> N_CLASSES on each sample's events
  binned into T equal time bins (counts). LIF runs step by step, the PSU family layer by layer
  (``_jax.network``). ``forward`` times the logits; ``grad`` one training step: the mean
  cross-entropy against seeded labels and its gradient w.r.t. every parameter.

Inputs are rounded once to float32-representable values, so float32 and float64 rows get
identical inputs and one float64 reference serves both.

Correctness, against the NumPy float64 twin (``kernels/psu/_numpy.py``, hand-written gradients,
no code shared with the JAX / PyTorch kernels; since both frameworks are checked against the
same reference on identical inputs, this also bounds their agreement with each other):

- neuron forward: potentials within V_TOL[dtype] of the reference (relative to its largest
  magnitude: max_err); spikes equal except where the reference potential lies within
  MARGIN[dtype] of theta (a grazing crossing that rounding may flip). LIF's soft reset carries
  a flip forward, so for LIF the first differing step of each lane must be grazing and the lane
  is then left out of the potential error; mismatch_frac is the fraction of differing lanes
  (LIF) or entries (PSU family).
- neuron grad: every gradient within GRAD_TOL[dtype] of the reference relative to its largest
  magnitude (LIF lanes with a grazing flip left out).
- network rows return every hidden layer's spikes too, and are checked by teacher forcing:
  the NumPy network runs with the row's own hidden spikes forced (``_numpy.network(...,
  forced=)``), every forced spike must equal the threshold of the forced potential except
  within MARGIN of theta (mismatch_frac: the fraction of such grazing flips), and then the
  logits (forward) or the loss and every parameter gradient (grad) must match the forced
  reference within LOGIT_TOL / GRAD_TOL. Without forcing, one grazing float32 flip in a hidden
  layer moves the logits by ~1e-2 and a correct row would look wrong.

Training (mode ``train``, dataset ``digits``; sizes T, n_neurons (hidden), batch, n_layers,
epochs, target_pct: the target test accuracy in percent): ``families.psu.training.train_psu_digits``
trains the network 64 -> n_neurons -> 10 on scikit-learn's digits to the target test
accuracy (README "Training to accuracy"); the row's
times are the epochs' (evaluation included), its curve the test accuracy after each. The
reference is the same loop in NumPy float64 (hand-written gradients, ``adam_numpy``) on the
same data, start and batches: a row is correct when its final test accuracy lies within
ACCURACY_BAND of the reference's (max_err: the largest per-epoch accuracy difference); since
JAX and PyTorch are held to the same reference, they land within twice the band of each other.

Each row also carries ``spike_rate`` (fraction of (step, neuron) entries that spike in the
row's own output; at network level in its hidden layers) and, for the PSU family,
``lif_agreement``: the fraction of spike entries equal to discrete LIF's on the same input
(network level: the first hidden layer, whose input current is the same for every neuron
type) — the sparsity the PSU paper reports.
"""

from __future__ import annotations

import numpy as np

from ... import datasets
from ...kernels.psu import LEARNED, PSUParams, init_learned, init_network
from ...kernels.psu import _numpy as ref_np
from ...registry import Unsupported
from ...training import map_tree as _map
from .._base import Family, rel_err
from . import models as _models
from . import sweeps as _sweeps
from . import training as _training

PARAMS = PSUParams(tau=2.0, theta=0.3)
X_MEAN, X_STD = 0.3, 0.5
N_CLASSES = 20
V_TOL = {"float64": 1e-10, "float32": 1e-4}
MARGIN = {"float64": 1e-9, "float32": 1e-4}
GRAD_TOL = {"float64": 1e-8, "float32": 2e-3}
LOGIT_TOL = {"float64": 1e-10, "float32": 1e-3}
ACCURACY_BAND = 0.03  # train rows: final test accuracy vs the float64 reference run's


def level(case) -> str:
    if case.mode == "train":
        return "train"
    return "net" if "n_inputs" in case.size else "neuron"


def _train_config(case):
    from ...training import case_config

    return case_config(case)


def _train_kw(case, inputs):
    s = case.size
    return {
        "hidden": int(s["n_neurons"]),
        "n_layers": int(s.get("n_layers", 1)),
        "t": int(s["T"]),
        "data": inputs["data"],
    }


def _f32(x):
    return np.asarray(x, np.float64).astype(np.float32).astype(np.float64)


def net_tree(tree, neuron):
    """The network parameters one neuron type uses (all types share the linear layers)."""
    keep = (
        {"w", "b"}
        | ({"mat", "mat_b"} if neuron in LEARNED else set())
        | ({"alpha"} if neuron != "lif" else set())
    )
    return {
        "layers": [{k: v for k, v in lp.items() if k in keep} for lp in tree["layers"]],
        "readout": dict(tree["readout"]),
    }


def _learned(case, inputs):
    model = _models.of(case)
    takes = model.learned if model is not None else case.impl in LEARNED
    return (inputs["mat"], inputs["mat_b"]) if takes else (None, None)


# -- correctness ----------------------------------------------------------------------------


def _spike_diff(case, spikes, ref, carries):
    """(bad [T, M] bool, mismatch_frac, lanes_to_skip [M] bool) for spikes [T, ...] against
    the reference's: a difference is excused where the reference's threshold input (``u``, or
    ``v`` - theta) lies within MARGIN of the threshold (a grazing crossing rounding may flip);
    with a reset (`carries`) a flip carries forward, so only a lane's first difference must be
    grazing and the lane is then skipped. `bad`: the differences not excused."""
    t = spikes.shape[0]
    s, rs = spikes.reshape(t, -1), ref["spikes"].reshape(t, -1)
    u = ref["u"] if "u" in ref else ref["v"] - PARAMS.theta
    near = np.abs(u.reshape(t, -1)) <= MARGIN[case.dtype] * max(1.0, PARAMS.theta)
    diff = s != rs
    if carries:
        lanes = diff.any(axis=0)
        first = np.argmax(diff, axis=0)
        excused = lanes & near[first, np.arange(diff.shape[1])]
        return diff & ~excused, float(lanes.mean()), lanes
    return diff & ~near, float(diff.mean()), np.zeros(s.shape[1], bool)


def _spike_check(case, spikes, ref):
    """(ok, mismatch_frac, lanes_to_skip [M] bool) for spikes [T, ...] vs the reference
    (LIF's flips carry forward through the soft reset)."""
    bad, frac, skip = _spike_diff(case, spikes, ref, carries=case.impl == "lif")
    return not bad.any(), frac, skip


def _check_peer(case, spikes, ref, model):
    """A peer row (``models``): its spike train -- what the libraries return -- against the
    reference of its model (the family's own for an exact one), a difference excused only
    where the reference's threshold input lies within MARGIN of the threshold (a grazing
    crossing rounding may flip); for a model with a reset, only the first difference of a lane
    must be grazing (it carries forward) and the lane is then left out. max_err is the
    fraction of entries that differ from the reference outside the excused lanes or entries
    (0 for a correct row); mismatch_frac the fraction of lanes (reset) or entries that differ
    at all; lif_agreement the fraction of entries equal to discrete LIF's."""
    t = spikes.shape[0]
    s = spikes.reshape(t, -1).astype(np.float64)
    bad, frac, _ = _spike_diff(case, s, ref, carries=model.carries)
    err = float(bad.sum()) / max(bad.size, 1)
    relation = model.relation + ("" if model.relation == "exact" else f": {model.description}")
    return {
        "correct": bool(err == 0.0),
        "max_err": err,
        "mismatch_frac": frac,
        "n_checked": int(s.size),
        "note": relation if err == 0.0 else f"{relation}; spike(s) differ away from the threshold",
        "spike_rate": float(np.mean(s)),
        "lif_agreement": float(np.mean(s == ref["lif_spikes"].reshape(t, -1))),
    }


def _rates(case, spikes, ref):
    rate = float(np.mean(spikes))
    agree = None if case.impl == "lif" else float(np.mean(spikes == ref["lif_spikes"]))
    return {"spike_rate": rate, "lif_agreement": agree}


def _check_neuron_fwd(case, out, ref):
    spikes, v = out
    ok, frac, skip = _spike_check(case, spikes, ref)
    t = spikes.shape[0]
    keep = ~skip
    err = rel_err(v.reshape(t, -1)[:, keep], ref["v"].reshape(t, -1)[:, keep])
    note = None if ok else "spike mismatch away from the threshold"
    return {
        "correct": ok and err <= V_TOL[case.dtype],
        "max_err": err,
        "mismatch_frac": frac,
        "n_checked": int(spikes.size),
        "note": note,
        **_rates(case, spikes, ref),
    }


def _check_neuron_grad(case, out, ref):
    grads, spikes = out
    ok, frac, skip = _spike_check(case, spikes, ref)
    t = spikes.shape[0]
    errs = {}
    for name, g_ref in ref["grads"].items():
        g = np.asarray(grads[name], np.float64)
        if name == "x":
            g, g_ref = g.reshape(t, -1)[:, ~skip], g_ref.reshape(t, -1)[:, ~skip]
        errs[name] = rel_err(g, np.asarray(g_ref))
    err = max(errs.values())
    finite = all(np.all(np.isfinite(np.asarray(g))) for g in grads.values())
    note = None if ok else "spike mismatch away from the threshold"
    return {
        "correct": bool(ok and finite and err <= GRAD_TOL[case.dtype]),
        "max_err": err,
        "mismatch_frac": frac,
        "n_checked": sum(int(np.size(g)) for g in grads.values()),
        "note": note,
        **_rates(case, spikes, ref),
    }


def _check_net(case, inputs, out, ref):
    hidden = [np.asarray(h, np.float64) for h in out[-1]]
    tree = net_tree(inputs["tree"], case.impl)
    if case.mode == "grad":
        loss_f, grads_f, forced = ref_np.loss_and_grad(
            tree, inputs["x"], inputs["labels"], case.impl, PARAMS, forced=hidden
        )
    else:
        forced = ref_np.network(tree, inputs["x"], case.impl, PARAMS, forced=hidden)
    flips, total, grazing_only = 0, 0, True
    for s, v in zip(hidden, forced.potentials, strict=True):
        diff = s != (v - PARAMS.theta > 0)
        grazing_only &= bool(
            np.all(np.abs(v[diff] - PARAMS.theta) <= MARGIN[case.dtype] * max(1.0, PARAMS.theta))
        )
        flips += int(diff.sum())
        total += diff.size
    rates = {
        "spike_rate": float(np.mean([s.mean() for s in hidden])),
        "lif_agreement": None
        if case.impl == "lif"
        else float(np.mean(hidden[0] == ref["lif_layer1"])),
    }
    note = None if grazing_only else "hidden spike differs away from the threshold"
    frac = flips / max(total, 1)
    if case.mode == "forward":
        err = rel_err(out[0], forced.logits)
        return {
            "correct": bool(grazing_only and err <= LOGIT_TOL[case.dtype]),
            "max_err": err,
            "mismatch_frac": frac,
            "n_checked": int(np.size(out[0])),
            "note": note,
            **rates,
        }
    loss, grads = out[0], out[1]
    flat, flat_ref = _flatten(grads), _flatten(grads_f)
    err_l = abs(float(loss) - loss_f) / max(abs(loss_f), 1e-300)
    err_g = max(rel_err(g, np.asarray(r)) for g, r in zip(flat, flat_ref, strict=True))
    finite = all(np.all(np.isfinite(g)) for g in flat)
    return {
        "correct": bool(
            grazing_only
            and finite
            and err_l <= LOGIT_TOL[case.dtype]
            and err_g <= GRAD_TOL[case.dtype]
        ),
        "max_err": max(err_l, err_g),
        "mismatch_frac": frac,
        "n_checked": sum(int(np.size(g)) for g in flat),
        "note": note,
        **rates,
    }


def _flatten(tree):
    """The leaves of a dict / list tree, dict keys in sorted order (as the kernels' twins)."""
    if isinstance(tree, dict):
        return [x for k in sorted(tree) for x in _flatten(tree[k])]
    if isinstance(tree, list):
        return [x for v in tree for x in _flatten(v)]
    return [tree]


_K = "spikebench.kernels.psu"


class PSUFamily(Family):
    name = "psu"
    report_module = "spikebench.families.psu.report"
    kernel_modules = {
        "jax": (f"{_K}._jax",),
        "torch": (f"{_K}._torch",),
        "torch-compile": (f"{_K}._torch",),
        "onnx": (f"{_K}._onnx",),
    }
    sweeps = _sweeps.SWEEPS
    task = _training.TASK
    title = "PSU family"
    units = {
        "neuron-steps/s": ("param_T", "param_batch", "param_n_neurons"),
        "samples/s": ("param_batch",),
        # train rows: the train split's samples an epoch (not a schema column)
        "train-samples/s": None,
    }
    modules = {
        "jax": "spikebench.kernels.psu.jax",
        "torch": "spikebench.kernels.psu.torch",
        "onnx": "spikebench.kernels.psu._onnx",
        "torch-compile": "spikebench.kernels.psu.torch",
    }

    def takes_events(self, case) -> bool:
        """Network cases run on event samples binned into T steps; the neuron level takes
        Gaussian currents."""
        return level(case) == "net"

    def make_inputs(self, case):
        s = case.size
        t, b, n = s["T"], s["batch"], s["n_neurons"]
        if level(case) == "train":
            from .training import digits_inputs

            if case.dataset != "digits":
                raise ValueError(f"psu training cases take dataset 'digits', not {case.dataset!r}")
            data = digits_inputs(t, case.seed)
            return {
                "data": data,
                "stats": {
                    "dataset": "digits",
                    "T": t,
                    **{f"n_{k}": int(v[1].size) for k, v in data.items()},
                },
            }
        if level(case) == "neuron":
            if case.dataset != "gaussian":
                raise ValueError(
                    f"psu neuron-level cases take dataset 'gaussian', not {case.dataset!r}"
                )
            rng = np.random.default_rng([case.seed, t, b, n])
            x = _f32(rng.normal(X_MEAN, X_STD, (t, b, n)))
            mat, mat_b = init_learned(rng, t)
            return {
                "x": x,
                "cotangent": _f32(rng.normal(0.0, 1.0, (t, b, n))),
                "mat": _f32(mat),
                "mat_b": _f32(mat_b),
                "stats": {"dataset": "gaussian", "mean": X_MEAN, "std": X_STD},
            }
        if case.dataset == "gaussian":
            raise ValueError("psu network cases take event data, not dataset 'gaussian'")
        # one sample per row (synthetic-shd by default; any event dataset with --dataset)
        ev = datasets.stream(
            case.dataset,
            b,
            None,
            n_channels=s["n_inputs"],
            data_dir=case.data_dir,
            seed=case.seed,
            stats_file=case.stats_file,
        )
        tree = init_network(
            case.seed,
            n_in=s["n_inputs"],
            hidden=n,
            n_out=N_CLASSES,
            t=t,
            neuron="ipsu",
            n_layers=int(s.get("n_layers", 2)),
            alpha=PARAMS.alpha,
        )
        tree = _map(tree, _f32)
        labels = np.random.default_rng([case.seed, 2]).integers(0, N_CLASSES, b)
        return {
            "x": datasets.binned_span(ev, t).astype(np.float64),
            "tree": tree,
            "labels": labels,
            "stats": ev.stats(),
        }

    def ref_kind(self, case):
        # the reference depends on the neuron type: one per (level, impl, mode), a peer's
        # model with its own reference one per (impl, framework)
        model = _models.of(case)
        impl = (
            case.impl
            if model is None or model.reference is None
            else f"{case.impl}@{case.framework}"
        )
        return f"{level(case)}/{impl}/{case.mode}"

    def reference(self, case, inputs):
        if level(case) == "train":
            from ...training import reference_curve
            from .training import REFERENCE, train_psu_digits

            r = train_psu_digits(
                case.impl, REFERENCE, _train_config(case), **_train_kw(case, inputs)
            )
            return {"curve": reference_curve(r)}, "psu/numpy_train"
        if level(case) == "net":
            # the forced reference needs the row's own spikes: check() computes it (untimed)
            lif = ref_np.network(net_tree(inputs["tree"], "lif"), inputs["x"], "lif", PARAMS)
            return {"lif_layer1": lif.spikes[0]}, "psu/numpy_net_forced"
        model = _models.of(case)
        if model is not None and model.reference is not None:
            spikes, u = model.reference(inputs["x"], inputs, PARAMS)
            lif = ref_np.forward("lif", inputs["x"], PARAMS).spikes
            return {"spikes": spikes, "u": u, "lif_spikes": lif}, f"peers/{case.framework}_numpy"
        mat, mat_b = _learned(case, inputs)
        out = ref_np.forward(case.impl, inputs["x"], PARAMS, mat, mat_b)
        lif = ref_np.forward("lif", inputs["x"], PARAMS).spikes
        ref = {"spikes": out.spikes, "v": out.v, "lif_spikes": lif}
        if case.mode == "grad":
            ref["grads"] = ref_np.backward(
                case.impl, inputs["x"], inputs["cotangent"], PARAMS, mat, mat_b
            )
        return ref, "psu/numpy"

    def check(self, case, inputs, out, ref, timed=None):
        if level(case) == "net":
            return _check_net(case, inputs, out, ref)
        model = _models.of(case)
        if model is not None:
            if case.mode != "forward":
                raise Unsupported("peer rows of the PSU family are forward only")
            return _check_peer(case, np.asarray(out), ref, model)
        if case.mode == "grad":
            return _check_neuron_grad(case, out, ref)
        return _check_neuron_fwd(case, out, ref)

    def train(self, case, inputs, ref, fw, device):
        from ...training import FRAMEWORKS, epoch_samples, require_trainable, train_row
        from .training import train_psu_digits

        require_trainable(case, FRAMEWORKS)
        cfg = _train_config(case)
        r = train_psu_digits(case.impl, case.framework, cfg, **_train_kw(case, inputs))
        n_train = epoch_samples(inputs["data"], cfg.batch)
        return train_row(r, ref["curve"], ACCURACY_BAND, n_train)

    def work(self, case):
        s = case.size
        if level(case) == "net":
            return s["batch"], "samples/s"
        return s["T"] * s["batch"] * s["n_neurons"], "neuron-steps/s"

    def params(self, case):
        s = case.size
        out = {"param_T": s["T"], "param_n_neurons": s["n_neurons"], "param_batch": s["batch"]}
        if level(case) == "train":
            return out | {
                "param_n_inputs": 64,
                "param_n_layers": int(s.get("n_layers", 1)),
                "param_epochs": int(s["epochs"]),
            }
        if level(case) == "net":
            out |= {"param_n_inputs": s["n_inputs"], "param_n_layers": int(s.get("n_layers", 2))}
        return out

    def context(self, case, inputs):
        if level(case) == "train":
            from ... import training
            from . import training as digits

            cfg = _train_config(case)
            return {
                "dataset_stats": inputs["stats"],
                "training": {
                    "params": digits.DEFAULT_PARAMS._asdict(),
                    "optimizer": {"adam": training.ADAM, "lr": cfg.lr},
                    "w_gain": digits.W_GAIN,
                    "reference": digits.REFERENCE,
                    "accuracy_band": ACCURACY_BAND,
                    "network": "64 -> n_neurons x n_layers -> 10, time-averaged readout",
                },
            }
        return {
            "params": PARAMS._asdict(),
            "dataset_stats": inputs["stats"],
            "check": {
                "v_tol": V_TOL,
                "margin": MARGIN,
                "grad_tol": GRAD_TOL,
                "logit_tol": LOGIT_TOL,
            },
            "network": {
                "n_classes": N_CLASSES,
                "readout": "time-averaged linear readout",
                "lif": "step by step",
                "psu_family": "layer by layer",
            },
        }

    def entry(self, case):
        if level(case) == "train":  # the loop's training step
            return "network_grad"
        return ("network_" if level(case) == "net" else "neuron_") + (
            "forward" if case.mode == "forward" else "grad"
        )

    def state_bytes(self, case, args, static):
        """Neuron level: the [T, ...] potential and spikes every neuron type returns, plus what
        each one holds to compute them -- LIF its membrane potential [B, N] carried from step
        to step; the PSU family its T x T matrices (PSU: A and B; IPSU: the learned W, its
        causal mask and B, plus the bias [T]; RPSU: A, B, W and the mask, plus the bias). The
        learned arrays are counted as passed in, A and B as ``lif_matrices`` builds them.
        Network rows: none (their layers' widths differ)."""
        from ...harness import memory
        from ...kernels.psu._common import lif_matrices

        if (
            level(case) == "net"
            or case.mode == "train"
            or case.framework == "onnx"
            or _models.of(case) is not None
        ):
            return None
        x = args[0]
        t, item = int(x.shape[0]), np.dtype(case.dtype).itemsize
        size = int(np.prod(tuple(x.shape)))
        outputs = 2 * size * item
        if case.impl == "lif":
            return outputs + size // t * item
        a, b = lif_matrices(t, PARAMS.tau)
        fixed = {"psu": (a, b), "ipsu": (b,), "rpsu": (a, b)}[case.impl]
        learned = args[2:] if case.mode == "grad" else args[1:]
        mask = t * t * item if learned else 0
        return (
            outputs
            + sum(m.size for m in fixed) * item
            + mask
            + memory.nbytes(tuple(learned), distinct=False)
        )

    def prepare(self, case, inputs, fw, device):
        if case.framework == "onnx":
            return _onnx_prepare(case, inputs, device)
        self.kernels(case.framework)  # Unsupported for frameworks without PSU kernels
        dt = np.dtype(case.dtype)
        put = lambda a: fw.put(np.asarray(a, dt), device)  # noqa: E731
        static = {"p": PARAMS, "kind": case.impl}
        if level(case) == "net":
            tree = _map(net_tree(inputs["tree"], case.impl), put)
            x = put(inputs["x"])
            if case.mode == "forward":
                return (tree, x), {}, static
            return (tree, x, fw.put(inputs["labels"], device)), {}, static
        x = put(inputs["x"])
        learned = tuple(put(a) for a in _learned(case, inputs) if a is not None)
        if case.mode == "forward":
            return (x, *learned), {}, static
        return (x, put(inputs["cotangent"]), *learned), {}, static


def _onnx_prepare(case, inputs, device):
    """The exported graphs: forward, float32 (the LPU path casts 64-bit types down)."""
    if case.mode != "forward":
        raise Unsupported("the ONNX path exports forward graphs only (gradients: JAX, PyTorch)")
    if case.dtype != "float32":
        raise Unsupported(f"the ONNX path runs float32, not {case.dtype}")
    static = {"p": PARAMS, "device": device, "kind": case.impl}
    if level(case) == "net":
        return (net_tree(inputs["tree"], case.impl), inputs["x"]), {}, static
    learned = tuple(a for a in _learned(case, inputs) if a is not None)
    return (inputs["x"], *learned), {}, static


FAMILY = PSUFamily()
