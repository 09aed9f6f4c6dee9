"""jaxsnn's Yin-Yang training (its EventProp example, ``jaxsnn.examples.event.
yinyang_layered_event_prop``) as an event-LIF ``train`` row beside ours: its network, loss and
optimizer, on our Yin-Yang split (the same samples, labels and input spikes as our train rows),
timed epoch by epoch to the same target test accuracy.

The example, as jaxsnn ships it: ``Source(5) -> Linear(N(3/5, 1.6/5)) -> LIF(hidden, 125
events) -> Linear(N(0.5, 0.8)) -> LIF(3, 103 events)``, tau_mem 12 us, tau_syn 6 us,
theta 1, v_reset -1000 (a neuron fires once), t_max 4 tau_syn; loss: the squared difference
of each output's first spike time (capped at 2 tau_mem) from its target (correct class
0.8 tau_syn, others 1.2 tau_syn), in units of tau_mem (``mse_loss``); prediction: the output
that fires first; optimizer: ``scale(1 / tau_syn)``, ``clip(0.01)``, Adam(0.005 decayed by
0.99 an epoch's batches); EventProp gradients; its input encoding (``spatio_temporal_encode``:
the features x, y, 1 - x, 1 - y and a bias 0, each spiking 5 times on its channel at
feature * 2 tau_syn). The samples are ours: each sample's coordinates are read back from our
input spikes (``datasets.yinyang``: feature v spikes at t_early + v (t_late - t_early)), so
both networks learn the very same points and labels.

The loop is spikebench's (``training.fit``: the same batches, in the same order, per epoch
the wall time and the test accuracy); the step and the evaluation are jaxsnn's, compiled with
``jax.jit``. Check (untimed): the trained weights are run through our float64 reference
simulator (``kernels/event_lif/_reference.py``, an independent event loop) on the first
N_CHECK test samples, and its predictions must agree with jaxsnn's own on the same samples
(the family's ACCURACY_BAND is the largest fraction allowed to differ).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxsnn.event.encode import spatio_temporal_encode, target_temporal_encode
from jaxsnn.event.loss import mse_loss
from jaxsnn.event.modules import LIF, LIFParameters, Linear, Source
from jaxsnn.event.topology import Topology
from jaxsnn.event.training import update
from jaxsnn.event.types import OptState, Spike
from jaxsnn.examples.event.utils import loss_wrapper
from spikebench.datasets import _yinyang as yy
from spikebench.kernels.event_lif import LIFParams
from spikebench.kernels.event_lif import _reference as ref_loop
from spikebench.registry import register

# the example's settings (its argparse defaults)
TAU_MEM, TAU_SYN, THETA, V_RESET = 12e-6, 6e-6, 1.0, -1000.0
CORRECT_T, WRONG_T = 0.8 * 6e-6, 1.2 * 6e-6
N_SPIKES_HIDDEN, N_SPIKES_OUTPUT = 100 + 25, 103
LR, LR_DECAY = 0.005, 0.99
N_OUT = 3
T_LATE, DUPLICATION = 2.0 * 6e-6, 5
N_CHECK = 300  # test samples the check runs through the reference simulator (a Python loop)


def features(times, channels) -> np.ndarray:
    """Our Yin-Yang input spikes -> the example's features [N, 5]: x, y, 1 - x, 1 - y (read
    back from the spike times) and the bias feature 0."""
    times, channels = np.asarray(times, np.float64), np.asarray(channels)
    v = (times - yy.T_EARLY) / (yy.T_LATE - yy.T_EARLY)
    out = np.zeros((len(times), 5))
    rows = np.arange(len(times))[:, None].repeat(times.shape[1], 1)
    coord = channels < 4
    out[rows[coord], channels[coord]] = v[coord]
    return out


_encode = jax.jit(
    jax.vmap(
        partial(
            spatio_temporal_encode, t_late=T_LATE, duplication=DUPLICATION, duplicate_neurons=False
        )
    )
)


def _network(hidden: int):
    params = LIFParameters(v_reset=V_RESET, v_th=THETA, tau_syn=TAU_SYN, tau_mem=TAU_MEM)
    topo = Topology(t_max=4.0 * TAU_SYN, backprop_method="eventprop")
    topo.add(
        {
            "inp": Source(5),
            "lif1": LIF(hidden, N_SPIKES_HIDDEN, params),
            "lif2": LIF(N_OUT, N_SPIKES_OUTPUT, params),
            "syn1": Linear(mean=3.0 / 5, std=1.6 / 5, min_delay=0.0),
            "syn2": Linear(mean=0.5, std=0.8, min_delay=0.0),
        }
    )
    topo.connect([("inp", "syn1"), ("syn1", "lif1"), ("lif1", "syn2"), ("syn2", "lif2")])
    return topo.done()


def _spikes(times, channels) -> Spike:
    return _encode(jnp.asarray(features(times, channels)))


class Side:
    """``training.TrainingSide`` for jaxsnn: its update step and its first-spike accuracy."""

    def __init__(self, hidden: int, n_batches: int, seed: int):
        init_fn, apply_fn = _network(hidden)
        self.init = init_fn(jax.random.PRNGKey(seed))
        self.loss_fn = partial(loss_wrapper, apply_fn, mse_loss, TAU_MEM, "lif2", N_OUT)
        sched = optax.exponential_decay(LR, n_batches, LR_DECAY)
        self.optimizer = optax.chain(
            optax.scale(1.0 / TAU_SYN), optax.clip(0.01), optax.adam(sched)
        )
        self._update = jax.jit(partial(update, self.optimizer, self.loss_fn))
        self._targets = jax.jit(
            jax.vmap(
                partial(
                    target_temporal_encode,
                    n_classes=N_OUT,
                    correct_target_time=CORRECT_T,
                    wrong_target_time=WRONG_T,
                )
            )
        )
        self._eval = jax.jit(self._evaluate)
        self.apply_fn = apply_fn

    def params(self, tree):
        return tree, OptState(self.optimizer.init(tree), tree, jax.random.PRNGKey(0))

    def array(self, x):
        if isinstance(x, tuple):
            return _spikes(*x)
        return jnp.asarray(x)

    def step(self, params, state, x, y):
        state, (value, _) = self._update(state, ({"inp": x}, self._targets(y)))
        self.last = state.params  # the trained weights, for the check
        return state.params, state, value[0]

    def _evaluate(self, params, x, y):
        _, (t_first, events) = self.loss_fn(params, ({"inp": x}, self._targets(y)))
        hidden = events["lif1"]
        fired = jnp.sum((hidden.layer_idx > 0) & (hidden.idx >= 0), axis=-1)
        return jnp.mean(jnp.argmin(t_first, axis=-1) == y), jnp.mean(fired)

    def predict(self, params, x):
        """The class each sample's first output spike names (jaxsnn's evaluation)."""
        labels = jnp.zeros(x.time.shape[0], int)
        _, (t_first, _) = self.loss_fn(params, ({"inp": x}, self._targets(labels)))
        return np.asarray(jnp.argmin(t_first, axis=-1))

    def evaluate(self, params, x, y):
        acc, fired = self._eval(params, x, jnp.asarray(y))
        hidden = params["syn1"].shape[1]
        return float(acc), float(fired) / hidden

    def sync(self, x):
        return jax.block_until_ready(x)


def reference_predictions(weights, x, hidden: int) -> np.ndarray:
    """The class of each sample `x` = (times, channels) in our float64 reference simulator with
    jaxsnn's weights: the two LIF layers lane by lane (``_reference.serial_lanes``), the first
    output spike wins.

    The example's v_reset = -1000 makes a neuron fire once (it would have to climb 1001
    thresholds back). Our reference starts a neuron at v_reset, jaxsnn at 0, so it runs
    v_reset = 0 and keeps each neuron's first spike: the same trains, since up to its first
    spike a neuron's potential does not depend on v_reset."""
    times, channels = x
    p = LIFParams(tau_mem=TAU_MEM, tau_syn=TAU_SYN, theta=THETA, v_reset=0.0, t_ref=0.0)
    w1 = np.asarray(weights["syn1"], np.float64).T  # [hidden, 5]
    w2 = np.asarray(weights["syn2"], np.float64).T  # [3, hidden]
    enc = _spikes(times, channels)
    t_in, c_in = np.asarray(enc.time, np.float64), np.asarray(enc.idx)
    t_end = 4.0 * TAU_SYN  # jaxsnn's t_max: nothing later is simulated
    h = ref_loop.serial_lanes(t_in, c_in, w1, p, t_end=t_end)
    n = len(times)
    ev = [sorted((h[(b, j)][0], j) for j in range(hidden) if h[(b, j)]) for b in range(n)]
    width = max(1, max(len(e) for e in ev))
    t2 = np.full((n, width), np.inf)
    c2 = np.full((n, width), -1, np.int64)
    for b, e in enumerate(ev):
        if e:
            t2[b, : len(e)], c2[b, : len(e)] = zip(*e, strict=True)
    out = ref_loop.serial_lanes(np.where(c2 >= 0, t2, 0.0), c2, w2, p, t_end=t_end)
    first = np.array([[min(out[(b, k)], default=np.inf) for k in range(N_OUT)] for b in range(n)])
    return np.argmin(first, axis=1)


def check(side, weights, data, hidden: int, n: int = N_CHECK) -> dict:
    """jaxsnn's and our reference simulator's predictions on the first `n` test samples with
    the trained `weights`: their agreement, and both accuracies there."""
    (times, channels), labels = data["test"]
    x = (times[:n], channels[:n])
    theirs = side.predict(weights, side.array(x))
    ours = reference_predictions(weights, x, hidden)
    y = np.asarray(labels[:n])
    return {
        "n": len(y),
        "agreement": float(np.mean(theirs == ours)),
        "accuracy": float(np.mean(theirs == y)),
        "reference_accuracy": float(np.mean(ours == y)),
    }


@register("event_lif", "eventprop", "jaxsnn", entry="train", modes=("train",), devices=("cpu",))
def train(data, config, hidden: int):
    """jaxsnn's example trained by ``training.fit`` to `config` on `data` ({"train": ((times,
    channels), labels), "test": ...}): (TrainResult, ``check`` of its final weights)."""
    from spikebench.training import TrainResult, fit

    side = Side(hidden, len(data["train"][1]) // config.batch, config.seed)
    result = TrainResult("event_lif", "eventprop", "jaxsnn", "yinyang", config, 0.0)
    fit(side, side.init, data, result, take=lambda x, idx: (x[0][idx], x[1][idx]))
    return result, check(side, side.last, data, hidden)
