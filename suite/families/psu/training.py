"""The PSU family's training task: the neurons ``lif``, ``psu``, ``ipsu``, ``rpsu`` on
scikit-learn's 8x8 digits (``datasets.digits``: latency coded, T time bins, binary), in JAX and
PyTorch, and in NumPy float64 as the reference (the hand-written gradients of
``kernels/psu/_numpy.py``, no code shared with the two frameworks), through the suite's one
training loop (``spikebench.training.fit``). The three differ only in the step kernel (the
registry's ``network_grad`` / ``network_forward`` entries; NumPy's ``loss_and_grad`` /
``network``) and the optimizer, the same algorithm with the same settings (Adam,
``training.ADAM``)."""

from __future__ import annotations

import numpy as np

from ...kernels.psu._common import PSUParams
from ...training import (
    ADAM,
    FRAMEWORKS,
    Task,
    TrainConfig,
    TrainResult,
    adam_numpy,
    band_note,
    fit,
    map_tree,
)

# the neuron parameters of the training task (``kernels.psu``'s defaults: tau 2, theta 1)
DEFAULT_PARAMS = PSUParams()


REFERENCE = "numpy"  # the float64 reference run (``train_psu_digits(kind, "numpy")``)


PSU_KINDS = ("lif", "psu", "ipsu", "rpsu")


T_STEPS = 15  # time bins of the digits' latency code (the PSU paper's T)


# the first layer's weight scale on the digits: the latency code is sparse (about 33 of 64
# pixels spike once in 15 bins), and at init_network's default gain of 1 the hidden layer is
# silent (firing rate 0.000-0.004 over the first 5 epochs, test accuracy 0.32)
W_GAIN = 3.0


def digits_inputs(t: int, seed: int):
    """The digits task's arrays: x [T, N, 64] float32 (binary, T bins over the latency code's
    window) and labels [N] int64, per split (train / test), the same for every framework."""
    from ...datasets import binned
    from ...datasets._digits import T_MAX, digits

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

        from .. import implementation

        entries = implementation("psu", kind, "jax").entries
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
        from ...kernels.psu.jax import from_numpy

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

        from .. import implementation

        entries = implementation("psu", kind, "torch").entries
        self.grad_fn, self.fwd_fn = entries["network_grad"].fn, entries["network_forward"].fn
        self.kind, self.p, self.lr, self.torch = kind, p, lr, torch

    def params(self, tree):
        from ...kernels.psu._torch import _leaves, from_numpy

        params = from_numpy(tree)
        opt = self.torch.optim.Adam(
            _leaves(params), lr=self.lr, betas=(ADAM["b1"], ADAM["b2"]), eps=ADAM["eps"]
        )
        return params, opt

    def array(self, a):
        return self.torch.as_tensor(a)

    def step(self, params, opt, x, y):
        from ...kernels.psu._torch import _leaves

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


class _Numpy:
    """The reference: float64 NumPy, hand-written gradients, ``adam_numpy``."""

    def __init__(self, kind, p, lr):
        from ...kernels.psu import _numpy as ref_np

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


def train_psu_digits(
    kind: str,
    framework: str,
    config: TrainConfig | None = None,
    *,
    hidden: int = 128,
    n_layers: int = 1,
    t: int = T_STEPS,
    w_gain: float = W_GAIN,
    data=None,
    progress=None,
) -> TrainResult:
    """Train the PSU family's `kind` on the digits in `framework` (module docstring).

    `data`: ``digits_inputs(t, seed)`` computed once, to share between runs; `progress`: a
    callable given each epoch's curve entry (e.g. to print it)."""
    from ...kernels.psu._common import init_network

    config = config or TrainConfig()
    if kind not in PSU_KINDS:
        raise ValueError(f"unknown PSU-family neuron {kind!r}; known: {list(PSU_KINDS)}")
    if framework not in (*FRAMEWORKS, REFERENCE):
        raise ValueError(
            f"training runs in {list(FRAMEWORKS)} (and the reference "
            f"{REFERENCE!r}), not {framework!r}"
        )
    data = data or digits_inputs(t, config.seed)
    if data["train"][0].shape[0] != t:
        raise ValueError(f"data has {data['train'][0].shape[0]} time bins, t={t}")
    side = {"jax": _Jax, "torch": _Torch, REFERENCE: _Numpy}[framework](
        kind, DEFAULT_PARAMS, config.lr
    )
    tree = init_network(
        config.seed,
        n_in=data["train"][0].shape[2],
        hidden=hidden,
        n_out=10,
        t=t,
        neuron=kind,
        n_layers=n_layers,
        w_gain=w_gain,
    )
    result = TrainResult("psu", kind, framework, "digits", config, 0.0)
    return fit(side, tree, data, result, take=lambda x, idx: x[:, idx], progress=progress)


TASK = Task(
    name="digits",
    title="digits",
    impl_label="neuron",
    note=band_note("NumPy float64"),
    impls=PSU_KINDS,
    defaults=(10, 64, 5e-3),
    inputs=lambda seed: digits_inputs(T_STEPS, seed),
    run=lambda impl, fw, config, data: train_psu_digits(impl, fw, config, data=data),
)
