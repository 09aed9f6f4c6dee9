"""Training to accuracy, task 3: spike-timing classes through the recurrent queue network with
learned synaptic delays, at several queue capacities (EventQueues' accuracy / speed knob).

Data: ``datasets.timing`` (4 channels of 3-spike bursts; the 4 classes differ only in the
bursts' onsets, jittered by 1 ms). Each spike becomes a current pulse PULSE (theta / ms) in
its time step on the input neuron of its channel, which then fires in that step.

Network (``kernels.queues._net_jax``, benchmark (e)'s clock-driven LIF network, NET: dt
0.25 ms, tau_mem 10 ms, tau_syn 2 ms, N_STEPS = 25 ms): N = N_IN + N_HIDDEN neurons, all to
all, every synapse with its own queue of the given design and capacity, weight W [N, N] and
delay D [N, N] in [0, D_MAX] ms, both learned. Neurons 0 .. N_IN-1 receive the pulses; the
readout reads the hidden neurons only: phi_j = sum over j's spikes of (1 - t_s / N_STEPS),
logits = phi @ W_out.T (``classify``). Cross-entropy, Adam (``training.ADAM``), the loop of
``training.fit``; N_TRAIN / N_TEST samples (seeds `seed`, `seed` + 1).

Capacity: a synapse's queue holds the events in flight on it; a burst of 3 spikes with a
delay over 1 ms puts 3 in flight, recurrent spikes more. A full queue drops the new event
(FIFO, DESIGN). ``drop_rate`` (per evaluation, over the test split) = dropped / offered over
all N^2 queues, offered = delivered + dropped + still pending at the end. The task is then
trained at each capacity: test accuracy against drop rate, and the time a step takes, is the
trade-off.

Init (seeded NumPy, the same in both frameworks): W ~ N(0, 0.05), input -> hidden
N(0.3, 0.15) (the bursts drive hidden neurons near threshold); D ~ U(0, D_MAX);
W_out ~ N(0, 1 / sqrt(N_HIDDEN)).

Tried (JAX, 6 epochs of 800 samples, jitter 1 ms): capacity 1 -> accuracy 0.93 at a drop rate
0.43, capacity 2 -> 0.885 at 0.23, capacity 8 -> 0.96 at 0.014 (a step: 0.3 s, 0.5 s, 1 s).
A readout of the output neurons' final potentials instead did not learn (chance).
"""

from __future__ import annotations

import math

import numpy as np

from ...kernels.queues._common import NetParams
from ...training import ADAM, Task, TrainConfig, TrainResult, band_note, fit

DT = 0.25  # ms
N_STEPS = 100
NET = NetParams(dt=DT, tau_mem=10.0, tau_syn=2.0, theta=1.0, i_ext=0.0, t_ext=0.0, n_steps=N_STEPS)
N_HIDDEN = 20
D_MAX = 10.0  # ms
PULSE = 1.5 / DT  # theta / ms: one step of it lifts a resting neuron to 1.5 theta
DESIGN = "fifo"
CAPACITIES = (1, 2, 4, 8)
FRAMEWORKS = ("jax", "torch")
N_TRAIN, N_TEST = 800, 400
LR = 5e-3
# the train rows' reference run (``families.queues``): JAX, float64, the same capacity
REFERENCE = ("jax", "float64")


def n_in() -> int:
    from ...datasets._timing import N_CHANNELS

    return N_CHANNELS


def currents(batch) -> np.ndarray:
    """The pulses of an EventBatch as input current [B, N_STEPS, N] float32 (the input neurons
    first, the hidden ones get none)."""
    out = np.zeros((batch.times.shape[0], N_STEPS, n_in() + N_HIDDEN), np.float32)
    for b in range(out.shape[0]):
        real = batch.channels[b] >= 0
        k = np.ceil(batch.times[b][real] * 1e3 / DT).astype(int)  # s -> the step (1-based)
        k = np.clip(k, 1, N_STEPS)
        out[b, k - 1, batch.channels[b][real]] = PULSE
    return out


def delay_inputs(seed: int = 0, n_train: int | None = None, n_test: int | None = None):
    """{"train": (currents [n, N_STEPS, N], labels), "test": ...} (``currents``)."""
    from ...datasets._timing import timing

    out = {}
    for split, n, s in (("train", n_train or N_TRAIN, seed), ("test", n_test or N_TEST, seed + 1)):
        b = timing(n, seed=s)
        out[split] = (currents(b), b.labels.astype(np.int64))
    return out


def init_weights(seed: int, hidden: int = N_HIDDEN):
    """(W [N, N], D [N, N] ms, W_out [K, hidden]) float64 (module docstring)."""
    from ...datasets._timing import N_CLASSES

    rng = np.random.default_rng([seed, 23])
    n = n_in() + hidden
    w = rng.normal(0.0, 0.05, (n, n))
    w[n_in() :, : n_in()] = rng.normal(0.3, 0.15, (hidden, n_in()))
    d = rng.uniform(0.0, D_MAX, (n, n))
    w_out = rng.normal(0.0, 1.0 / math.sqrt(hidden), (N_CLASSES, hidden))
    return w, d, w_out


def _static(capacity: int):
    return {
        "p": NET,
        "design": DESIGN,
        "capacity": capacity,
        "max_delay": int(math.ceil(D_MAX / DT)) + 1,
        "readout_from": n_in(),
        "d_max": D_MAX,
    }


def _take(x, idx):
    return x[idx]


def _drop_rate(out) -> float:
    dropped = float(np.sum(np.asarray(out.dropped)))
    offered = (
        dropped + float(np.sum(np.asarray(out.delivered))) + float(np.sum(np.asarray(out.pending)))
    )
    return dropped / offered if offered else 0.0


class _Side:
    framework = ""

    def __init__(self, capacity, lr, dtype):
        from .. import implementation

        entries = implementation("queues", DESIGN, self.framework).entries
        self.grad_fn, self.fwd_fn = entries["classify_grad"].fn, entries["classify_forward"].fn
        self.static, self.lr, self.dtype = _static(capacity), lr, np.dtype(dtype)

    def evaluate(self, params, x, y):
        logits, out = self.fwd_fn(*params, x, **self.static)
        rate = float(np.mean(np.asarray(out.spike_count))) / N_STEPS
        return (
            float(np.mean(np.asarray(logits).argmax(-1) == y)),
            rate,
            {"drop_rate": _drop_rate(out)},
        )


class _Jax(_Side):
    framework = "jax"

    def __init__(self, capacity, lr, dtype):
        import jax
        import optax

        super().__init__(capacity, lr, dtype)
        self.jax, self.opt = jax, optax.adam(lr, **ADAM)
        opt, grad_fn, static = self.opt, self.grad_fn, self.static

        @jax.jit
        def step(params, state, x, y):
            value, grads, _ = grad_fn(*params, x, y, **static)
            updates, state = opt.update(grads, state, params)
            return optax.apply_updates(params, updates), state, value

        self.step = step

    def params(self, tree):
        params = tuple(self.jax.numpy.asarray(a, self.dtype) for a in tree)
        return params, self.opt.init(params)

    def array(self, a):
        a = np.asarray(a)
        return self.jax.numpy.asarray(a.transpose(1, 0, 2).astype(self.dtype) if a.ndim == 3 else a)

    def sync(self, v):
        return float(self.jax.block_until_ready(v))


class _Torch(_Side):
    framework = "torch"

    def __init__(self, capacity, lr, dtype):
        import torch

        super().__init__(capacity, lr, dtype)
        self.torch = torch

    def params(self, tree):
        params = tuple(
            self.torch.tensor(a, dtype=getattr(self.torch, self.dtype.name)) for a in tree
        )
        opt = self.torch.optim.Adam(
            params, lr=self.lr, betas=(ADAM["b1"], ADAM["b2"]), eps=ADAM["eps"]
        )
        return params, opt

    def array(self, a):
        a = np.asarray(a)
        return self.torch.as_tensor(
            np.ascontiguousarray(a.transpose(1, 0, 2).astype(self.dtype)) if a.ndim == 3 else a
        )

    def step(self, params, opt, x, y):
        value, grads, _ = self.grad_fn(*params, x, y, **self.static)
        for leaf, g in zip(params, grads, strict=True):
            leaf.grad = g
        opt.step()
        return params, opt, value

    def sync(self, v):
        return float(v)


def train_delays(
    capacity: int,
    framework: str,
    config: TrainConfig | None = None,
    *,
    dtype: str = "float32",
    data=None,
    progress=None,
) -> TrainResult:
    """Train the queue network on the timing classes at queue `capacity` in `framework`
    (module docstring); `data`: ``delay_inputs(seed)`` to share between runs. Every curve
    entry also holds the test split's ``drop_rate``."""
    config = config or TrainConfig(epochs=6, batch=32, lr=LR, target=0.85)
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise ValueError(f"capacity must be an integer >= 1, got {capacity!r}")
    if framework not in FRAMEWORKS:
        raise ValueError(f"training runs in {list(FRAMEWORKS)}, not {framework!r}")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    data = data or delay_inputs(config.seed)
    side = {"jax": _Jax, "torch": _Torch}[framework](capacity, config.lr, dtype)
    result = TrainResult("queues", DESIGN, framework, f"timing/capacity={capacity}", config, 0.0)
    return fit(side, init_weights(config.seed), data, result, take=_take, progress=progress)


TASK = Task(
    name="delays",
    title="timing classes (learned delays)",
    impl_label="design",
    note=band_note("JAX float64") + " Drop rate: events dropped / offered on the test "
    "split after training, over every synapse's queue.",
    impls=tuple(map(str, CAPACITIES)),
    defaults=(6, 32, LR),
    inputs=delay_inputs,
    run=lambda impl, fw, config, data: train_delays(int(impl), fw, config, data=data),
    extra_columns=("drop_rate",),
)
