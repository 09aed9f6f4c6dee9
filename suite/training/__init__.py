"""Training to accuracy, the loop only: seeded training over a family's registered
training-step kernels, with a held-out test split evaluated after every epoch (time to a
target accuracy, MLPerf Training's rule, and the learning curve kept as raw data). Each
family's task (its data, its network, its sides) lives with the family
(``spikebench.families.<name>.training``) and is described to the suite by a ``Task``.

A side (``TrainingSide``) holds one framework's step and optimizer; the optimizer is the same
algorithm with the same settings on every side: Adam (optax.adam in JAX, torch.optim.Adam in
PyTorch, ``adam_numpy`` for the NumPy float64 references; b1 = 0.9, b2 = 0.999, eps = 1e-8,
constant learning rate)::

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
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from numbers import Integral, Real
from typing import Any, Protocol

import numpy as np

ADAM = {"b1": 0.9, "b2": 0.999, "eps": 1e-8}
FRAMEWORKS = ("jax", "torch")


class TrainingSide(Protocol):
    """One framework's side of the loop (``fit``): its arrays, step and evaluation."""

    def params(self, tree) -> tuple[Any, Any]:
        """(parameters, optimizer state) from the NumPy start tree."""

    def array(self, a: np.ndarray) -> Any:
        """A NumPy batch as this side's array."""

    def step(self, params, state, x, y) -> tuple[Any, Any, Any]:
        """One training step: (params, state, loss)."""

    def evaluate(self, params, x, y) -> tuple[float, float]:
        """(test accuracy, firing rate)."""

    def sync(self, v) -> float:
        """Wait for `v` (a loss) and return it as a float."""


@dataclass(frozen=True)
class Task:
    """A family's training task as the suite sees it: ``spikebench train --task NAME`` runs
    ``run(impl, framework, config, data)`` on ``inputs(seed)`` for each of ``impls``, and the
    report labels the family's train rows with ``title``, ``impl_label`` and ``note``."""

    name: str  # the --task value
    title: str  # the report's name of the task
    impl_label: str  # what the task's implementations are (neuron, design, ...)
    note: str  # the report's note under the task's table
    impls: tuple[str, ...]  # what --impl takes (default: all)
    defaults: tuple[int, int, float]  # epochs, batch, learning rate of `spikebench train`
    inputs: Callable[[int], Any]  # seed -> the task's data, shared between runs
    run: Callable[..., TrainResult]  # (impl, framework, config, data) -> one run
    extra_columns: tuple[str, ...] = ()  # curve entries the CLI's table shows (drop_rate)


def band_note(reference: str) -> str:
    """The report's note under a training table: what time to target counts and which
    reference run the accuracy band compares with."""
    return (
        "Time to the target counts every epoch and its evaluation; 'within the band' "
        f"compares the final test accuracy with the {reference} run of the same loop."
    )


def reference_curve(result: TrainResult) -> list[dict]:
    """A reference run's curve as the check reads it: every entry but the wall time (the
    reference is data -- it enters ``inputs_version`` -- and its clock is not)."""
    return [{k: v for k, v in e.items() if k != "time_s"} for e in result.curve]


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
        if (
            isinstance(self.lr, bool)
            or not isinstance(self.lr, Real)
            or not (math.isfinite(self.lr) and self.lr > 0)
        ):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        if (
            isinstance(self.target, bool)
            or not isinstance(self.target, Real)
            or not (0.0 < self.target <= 1.0)
        ):
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
        c1, c2 = 1 - b1**t, 1 - b2**t

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
        raise ValueError(
            f"batch={config.batch} is larger than the train split ({len(y_tr)} samples)"
        )
    params, state = side.params(tree)
    x_te_a = side.array(x_te)
    first = np.arange(config.batch)

    t0 = time.perf_counter()  # compile / warm-up, discarded
    side.sync(
        side.step(*side.params(tree), side.array(take(x_tr, first)), side.array(y_tr[first]))[2]
    )
    side.evaluate(params, x_te_a, y_te)
    result.compile_s = time.perf_counter() - t0

    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        order = np.random.default_rng([config.seed, epoch]).permutation(len(y_tr))
        losses = []
        for i in range(n_batches):
            idx = np.sort(order[i * config.batch : (i + 1) * config.batch])
            params, state, value = side.step(
                params, state, side.array(take(x_tr, idx)), side.array(y_tr[idx])
            )
            losses.append(value)
        loss = float(np.mean([side.sync(v) for v in losses]))
        acc, rate, *extra = side.evaluate(params, x_te_a, y_te)
        entry = {
            "epoch": epoch,
            "time_s": time.perf_counter() - start,
            "loss": loss,
            "accuracy": acc,
            "rate": rate,
            **(extra[0] if extra else {}),
        }
        result.curve.append(entry)
        if progress is not None:
            progress(entry)
        if result.epochs_to_target is None and acc >= config.target:
            result.epochs_to_target, result.time_to_target_s = epoch, entry["time_s"]
    if result.epochs_to_target is None:
        result.reason = (
            f"best test accuracy {max(e['accuracy'] for e in result.curve):.3f} "
            f"in {config.epochs} epochs, below the target {config.target}"
        )
    return result


def case_config(case, lr: float = TrainConfig.lr) -> TrainConfig:
    """The TrainConfig of a ``train`` case: its epochs, batch and target_pct sizes, its seed,
    and the task's learning rate `lr`."""
    s = case.size
    return TrainConfig(
        epochs=int(s["epochs"]),
        batch=int(s["batch"]),
        lr=lr,
        target=s["target_pct"] / 100,
        seed=case.seed,
    )


def require_trainable(case, frameworks) -> None:
    """Unsupported unless the case trains in one of `frameworks`, float32 on the CPU (the
    training loops' placement)."""
    from ..registry import Unsupported

    if case.framework not in frameworks:
        raise Unsupported(
            f"the training loop runs in {', '.join(frameworks)}, not {case.framework}"
        )
    if case.dtype != "float32" or case.device != "cpu":
        raise Unsupported(
            f"the training loop runs float32 on the CPU (the framework's "
            f"default placement), not {case.dtype} on {case.device}"
        )


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
    return {
        "error": result.reason or None,
        "compile_s": result.compile_s,
        "time_median_s": m.median,
        "time_iqr_s": m.iqr,
        "time_min_s": m.min,
        "rounds": m.rounds,
        "samples_s": " ".join(f"{x:.9g}" for x in m.samples),
        "throughput": n_train / m.median,
        "throughput_unit": "train-samples/s",
        "correct": bool(diff[-1] <= band),
        "max_err": float(diff.max()),
        "n_checked": len(acc),
        "spike_rate": result.firing_rate,
        "target": result.config.target,
        "epochs_to_target": result.epochs_to_target,
        "time_to_target_s": result.time_to_target_s,
        "accuracy": result.final_accuracy,
        "curve_accuracy": " ".join(f"{a:.6g}" for a in acc),
    }
