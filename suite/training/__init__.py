"""Training to accuracy: seeded training loops over the registered training-step kernels,
with a held-out test split evaluated after every epoch (time to a target accuracy, MLPerf
Training's rule, and the learning curve kept as raw data).

First task: the PSU family (``lif``, ``psu``, ``ipsu``, ``rpsu``) on scikit-learn's 8x8
digits (``datasets.digits``: latency coded, T time bins, binary), in JAX and PyTorch, and in
NumPy float64 as the reference (the hand-written gradients of ``kernels/psu/_numpy.py``, no
code shared with the two frameworks). One loop for all three; they differ only in the step
kernel (the registry's ``network_grad`` / ``network_forward`` entries; NumPy's
``loss_and_grad`` / ``network``) and the optimizer, which is the same algorithm with the same
settings: Adam (optax.adam in JAX, torch.optim.Adam in PyTorch, ``adam_numpy`` here; b1 = 0.9,
b2 = 0.999, eps = 1e-8, constant learning rate)::

    params = init_network(seed, ...)               # NumPy, float64: the same start everywhere
    for epoch in 1 .. epochs:
        for batch in a permutation of the train split (NumPy, seeded by (seed, epoch)):
            loss, grads = network_grad(params, x[batch], y[batch])
            params = adam(params, grads)
        evaluate: test accuracy and the hidden layers' firing rate (network_forward)

The last incomplete batch of an epoch is left out (static shapes: one compiled step).

Timing: before the clock starts, one step on the first batch and one evaluation run and are
discarded (JAX compiles both there); their time is ``compile_s``. The clock then runs over
the whole loop, evaluations included (as MLPerf's time to train does); ``curve`` holds, per
epoch, the wall time at its evaluation, the mean training loss, the test accuracy and the
firing rate. ``time_to_target_s`` is the wall time at the first evaluation at or above the
target, None (with ``reason``) when no epoch reached it.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from numbers import Integral, Real

import numpy as np

from ..kernels.psu._common import PSUParams

ADAM = {"b1": 0.9, "b2": 0.999, "eps": 1e-8}
# the neuron parameters of the training task (``kernels.psu``'s defaults: tau 2, theta 1)
DEFAULT_PARAMS = PSUParams()
FRAMEWORKS = ("jax", "torch")
REFERENCE = "numpy"  # the float64 reference run (``train_psu_digits(kind, "numpy")``)
PSU_KINDS = ("lif", "psu", "ipsu", "rpsu")
T_STEPS = 15  # time bins of the digits' latency code (the PSU paper's T)
# the first layer's weight scale on the digits: the latency code is sparse (about 33 of 64
# pixels spike once in 15 bins), and at init_network's default gain of 1 the hidden layer is
# silent (firing rate 0.000-0.004 over the first 5 epochs, test accuracy 0.32)
W_GAIN = 3.0


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run (checked: a ValueError names the bad value)."""

    epochs: int = 10
    batch: int = 64
    lr: float = 5e-3
    target: float = 0.85
    seed: int = 0

    def __post_init__(self):
        def whole(name, v, low):
            if isinstance(v, bool) or not isinstance(v, Integral) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")

        whole("epochs", self.epochs, 1)
        whole("batch", self.batch, 1)
        whole("seed", self.seed, 0)
        if isinstance(self.lr, bool) or not isinstance(self.lr, Real) or \
                not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        if isinstance(self.target, bool) or not isinstance(self.target, Real) or \
                not (0.0 < self.target <= 1.0):
            raise ValueError(f"target must lie in (0, 1], got {self.target!r}")


@dataclass
class TrainResult:
    """One run: what was trained, its settings, the time to the target and the raw curve."""

    family: str
    impl: str
    framework: str
    task: str
    config: TrainConfig
    compile_s: float
    curve: list = field(default_factory=list)  # per epoch: epoch, time_s, loss, accuracy, rate
    epochs_to_target: int | None = None
    time_to_target_s: float | None = None
    reason: str = ""

    @property
    def final_accuracy(self) -> float:
        return self.curve[-1]["accuracy"]

    @property
    def firing_rate(self) -> float:
        return self.curve[-1]["rate"]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["final_accuracy"], d["firing_rate"] = self.final_accuracy, self.firing_rate
        return d


def digits_inputs(t: int, seed: int):
    """The digits task's arrays: x [T, N, 64] float32 (binary, T bins over the latency code's
    window) and labels [N] int64, per split (train / test), the same for every framework."""
    from ..datasets import binned
    from ..datasets._digits import T_MAX, digits

    out = {}
    for split in ("train", "test"):
        b = digits(split, seed=seed)
        out[split] = (binned(b, T_MAX / t, n_bins=t, binary=True), b.labels.astype(np.int64))
    return out


class _Jax:
    """The JAX side of the loop: optax Adam over a parameter pytree."""

    def __init__(self, kind, p, lr):
        import jax
        import optax

        from ..registry import get

        entries = get("psu", kind, "jax").entries
        grad_fn, fwd_fn = entries["network_grad"].fn, entries["network_forward"].fn
        self.opt = optax.adam(lr, **ADAM)
        opt = self.opt

        @jax.jit
        def step(params, state, x, y):
            value, grads, _ = grad_fn(params, x, y, p=p, kind=kind)
            updates, state = opt.update(grads, state, params)
            return optax.apply_updates(params, updates), state, value

        self.step_fn = step
        self.fwd = lambda params, x: fwd_fn(params, x, p=p, kind=kind)
        self.jax = jax

    def params(self, tree):
        from ..kernels.psu.jax import from_numpy

        params = from_numpy(tree)
        return params, self.opt.init(params)

    def array(self, a):
        return self.jax.numpy.asarray(a)

    def step(self, params, state, x, y):
        return self.step_fn(params, state, x, y)

    def evaluate(self, params, x, y):
        logits, hidden = self.fwd(params, x)
        pred = np.asarray(logits).argmax(-1)
        rate = float(np.mean([np.asarray(h).mean() for h in hidden]))
        return float(np.mean(pred == y)), rate

    def sync(self, v):
        return float(self.jax.block_until_ready(v))


class _Torch:
    """The PyTorch side of the loop: torch.optim.Adam over the leaves of a parameter tree."""

    def __init__(self, kind, p, lr):
        import torch

        from ..registry import get

        entries = get("psu", kind, "torch").entries
        self.grad_fn, self.fwd_fn = entries["network_grad"].fn, entries["network_forward"].fn
        self.kind, self.p, self.lr, self.torch = kind, p, lr, torch

    def params(self, tree):
        from ..kernels.psu._torch import _leaves, from_numpy

        params = from_numpy(tree)
        opt = self.torch.optim.Adam(_leaves(params), lr=self.lr,
                                    betas=(ADAM["b1"], ADAM["b2"]), eps=ADAM["eps"])
        return params, opt

    def array(self, a):
        return self.torch.as_tensor(a)

    def step(self, params, opt, x, y):
        from ..kernels.psu._torch import _leaves

        value, grads, _ = self.grad_fn(params, x, y, p=self.p, kind=self.kind)
        for leaf, g in zip(_leaves(params), _leaves(grads), strict=True):
            leaf.grad = g
        opt.step()
        return params, opt, value

    def evaluate(self, params, x, y):
        logits, hidden = self.fwd_fn(params, x, p=self.p, kind=self.kind)
        pred = logits.argmax(-1).numpy()
        rate = float(np.mean([h.float().mean().item() for h in hidden]))
        return float(np.mean(pred == y)), rate

    def sync(self, v):
        return float(v)


def adam_numpy(lr: float):
    """Adam on a NumPy parameter tree, as optax.adam / torch.optim.Adam compute it (bias
    corrected moments, eps added to the root of the second): (init, update) with
    update(grads, state, params) -> (params, state)."""
    b1, b2, eps = ADAM["b1"], ADAM["b2"], ADAM["eps"]

    def init(params):
        zeros = map_tree(params, np.zeros_like)
        return {"m": zeros, "v": map_tree(params, np.zeros_like), "t": 0}

    def update(grads, state, params):
        t = state["t"] + 1
        m = _tree2(state["m"], grads, lambda m, g: b1 * m + (1 - b1) * g)
        v = _tree2(state["v"], grads, lambda v, g: b2 * v + (1 - b2) * g * g)
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t

        def move(p, mv):
            mm, vv = mv
            return p - lr * (mm / c1) / (np.sqrt(vv / c2) + eps)

        return _tree2(params, _tree2(m, v, lambda a, b: (a, b)), move), {"m": m, "v": v, "t": t}

    return init, update


def map_tree(t, f):
    """f over the leaves of a parameter tree of dicts and lists (``init_network``'s)."""
    if isinstance(t, dict):
        return {k: map_tree(v, f) for k, v in t.items()}
    if isinstance(t, list):
        return [map_tree(v, f) for v in t]
    return f(t)


def _tree2(a, b, f):
    if isinstance(a, dict):
        return {k: _tree2(a[k], b[k], f) for k in a}
    if isinstance(a, list):
        return [_tree2(x, y, f) for x, y in zip(a, b, strict=True)]
    return f(a, b)


class _Numpy:
    """The reference: float64 NumPy, hand-written gradients, ``adam_numpy``."""

    def __init__(self, kind, p, lr):
        from ..kernels.psu import _numpy as ref_np

        self.ref, self.kind, self.p = ref_np, kind, p
        self.init, self.update = adam_numpy(lr)

    def params(self, tree):
        params = map_tree(tree, lambda a: np.array(a, np.float64))
        return params, self.init(params)

    def array(self, a):
        return np.asarray(a, np.float64) if np.asarray(a).dtype.kind == "f" else np.asarray(a)

    def step(self, params, state, x, y):
        value, grads, _ = self.ref.loss_and_grad(params, x, y, self.kind, self.p)
        params, state = self.update(grads, state, params)
        return params, state, value

    def evaluate(self, params, x, y):
        out = self.ref.network(params, x, self.kind, self.p)
        rate = float(np.mean([s.mean() for s in out.spikes]))
        return float(np.mean(out.logits.argmax(-1) == y)), rate

    def sync(self, v):
        return float(v)


def train_psu_digits(kind: str, framework: str, config: TrainConfig | None = None, *,
                     hidden: int = 128, n_layers: int = 1, t: int = T_STEPS,
                     w_gain: float = W_GAIN, data=None, progress=None) -> TrainResult:
    """Train the PSU family's `kind` on the digits in `framework` (module docstring).

    `data`: ``digits_inputs(t, seed)`` computed once, to share between runs; `progress`: a
    callable given each epoch's curve entry (e.g. to print it)."""
    from ..kernels.psu._common import init_network

    config = config or TrainConfig()
    if kind not in PSU_KINDS:
        raise ValueError(f"unknown PSU-family neuron {kind!r}; known: {list(PSU_KINDS)}")
    if framework not in (*FRAMEWORKS, REFERENCE):
        raise ValueError(f"training runs in {list(FRAMEWORKS)} (and the reference "
                         f"{REFERENCE!r}), not {framework!r}")
    data = data or digits_inputs(t, config.seed)
    if data["train"][0].shape[0] != t:
        raise ValueError(f"data has {data['train'][0].shape[0]} time bins, t={t}")
    side = {"jax": _Jax, "torch": _Torch, REFERENCE: _Numpy}[framework](kind, DEFAULT_PARAMS,
                                                                       config.lr)
    tree = init_network(config.seed, n_in=data["train"][0].shape[2], hidden=hidden, n_out=10,
                        t=t, neuron=kind, n_layers=n_layers, w_gain=w_gain)
    result = TrainResult("psu", kind, framework, "digits", config, 0.0)
    return fit(side, tree, data, result, take=lambda x, idx: x[:, idx], progress=progress)


def fit(side, tree, data, result: TrainResult, *, take, progress=None) -> TrainResult:
    """The loop of the module docstring, for any task and framework.

    `side`: the framework's half (``params(tree) -> (params, state)``, ``array``, ``step``,
    ``evaluate(params, x, y) -> (accuracy, rate)`` or (accuracy, rate, {more figures of the
    curve entry}), ``sync``); `tree`: the initial parameters
    (NumPy); `data`: {"train": (x, labels), "test": (x, labels)} in NumPy; `take(x, idx)`: the
    samples `idx` of `x` (x may be a tuple of arrays). Fills `result` (its ``config`` holds
    the settings) and returns it."""
    config = result.config
    (x_tr, y_tr), (x_te, y_te) = data["train"], data["test"]
    n_batches = len(y_tr) // config.batch
    if n_batches < 1:
        raise ValueError(f"batch={config.batch} is larger than the train split "
                         f"({len(y_tr)} samples)")
    params, state = side.params(tree)
    x_te_a = side.array(x_te)
    first = np.arange(config.batch)

    t0 = time.perf_counter()  # compile / warm-up, discarded
    side.sync(side.step(*side.params(tree), side.array(take(x_tr, first)),
                        side.array(y_tr[first]))[2])
    side.evaluate(params, x_te_a, y_te)
    result.compile_s = time.perf_counter() - t0

    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        order = np.random.default_rng([config.seed, epoch]).permutation(len(y_tr))
        losses = []
        for i in range(n_batches):
            idx = np.sort(order[i * config.batch:(i + 1) * config.batch])
            params, state, value = side.step(params, state, side.array(take(x_tr, idx)),
                                             side.array(y_tr[idx]))
            losses.append(value)
        loss = float(np.mean([side.sync(v) for v in losses]))
        acc, rate, *extra = side.evaluate(params, x_te_a, y_te)
        entry = {"epoch": epoch, "time_s": time.perf_counter() - start, "loss": loss,
                 "accuracy": acc, "rate": rate, **(extra[0] if extra else {})}
        result.curve.append(entry)
        if progress is not None:
            progress(entry)
        if result.epochs_to_target is None and acc >= config.target:
            result.epochs_to_target, result.time_to_target_s = epoch, entry["time_s"]
    if result.epochs_to_target is None:
        result.reason = (f"best test accuracy {max(e['accuracy'] for e in result.curve):.3f} "
                         f"in {config.epochs} epochs, below the target {config.target}")
    return result


def case_config(case, lr: float = TrainConfig.lr) -> TrainConfig:
    """The TrainConfig of a ``train`` case: its epochs, batch and target_pct sizes, its seed,
    and the task's learning rate `lr`."""
    s = case.size
    return TrainConfig(epochs=int(s["epochs"]), batch=int(s["batch"]), lr=lr,
                       target=s["target_pct"] / 100, seed=case.seed)


def require_trainable(case, frameworks) -> None:
    """Unsupported unless the case trains in one of `frameworks`, float32 on the CPU (the
    training loops' placement)."""
    from ..registry import Unsupported

    if case.framework not in frameworks:
        raise Unsupported(f"the training loop runs in {', '.join(frameworks)}, not "
                          f"{case.framework}")
    if case.dtype != "float32" or case.device != "cpu":
        raise Unsupported(f"the training loop runs float32 on the CPU (the framework's "
                          f"default placement), not {case.dtype} on {case.device}")


def epoch_samples(data, batch: int) -> int:
    """Training samples an epoch: whole batches of the training split (the last incomplete
    batch is left out)."""
    return (data["train"][1].size // batch) * batch


def train_row(result: TrainResult, ref_curve: list, band: float, n_train: int) -> dict:
    """A ``train`` row's measured columns from a run and its reference run's curve: the
    epochs' wall times as the raw samples, correct iff the final test accuracies lie within
    `band` (max_err: the largest per-epoch accuracy difference), `n_train` samples an epoch."""
    from ..harness.timing import Measurement

    m = Measurement(list(np.diff([0.0, *(e["time_s"] for e in result.curve)])))
    acc = [e["accuracy"] for e in result.curve]
    diff = np.abs(np.subtract(acc, [e["accuracy"] for e in ref_curve]))
    return {"error": result.reason or None, "compile_s": result.compile_s,
            "time_median_s": m.median, "time_iqr_s": m.iqr, "time_min_s": m.min,
            "rounds": m.rounds, "samples_s": " ".join(f"{x:.9g}" for x in m.samples),
            "throughput": n_train / m.median, "throughput_unit": "train-samples/s",
            "correct": bool(diff[-1] <= band), "max_err": float(diff.max()),
            "n_checked": len(acc), "spike_rate": result.firing_rate,
            "target": result.config.target, "epochs_to_target": result.epochs_to_target,
            "time_to_target_s": result.time_to_target_s, "accuracy": result.final_accuracy,
            "curve_accuracy": " ".join(f"{a:.6g}" for a in acc)}
