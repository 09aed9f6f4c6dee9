"""spyx (PyPI ``spyx``, JAX + Flax NNX) rows of the PSU family, timed in its own form: each
neuron module built with scalar beta = 1 - 1/tau and threshold theta, fed X / tau, the whole
call compiled with ``jax.jit`` (as spyx's own training loops are) and run under ``nn.run``
(``jax.lax.scan``) or the module's ``parallel`` method:

- ``lif``: ``spyx.nn.LIF`` under ``spyx.nn.run`` -- a relative of discrete LIF: the spike is
  read from the membrane before the step's input and theta is subtracted after the leak;
- ``psu_lif``: ``spyx.nn.PSU_LIF(...).parallel`` -- LIF without the reset, an associative scan;
- ``parallel_reset_lif``: ``spyx.experimental.ParallelResetLIF(...).parallel(x, K)`` -- K
  fixed-point iterations towards spyx's LIF (K = FPT_ITERATIONS, its default).

(``peers/_reference.py`` has each equation in NumPy.)
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import spyx.nn as snn
from flax import nnx
from spikebench.registry import register
from spyx.experimental import ParallelResetLIF

from . import FPT_ITERATIONS


def _module(cls, x, p):
    return cls((x.shape[-1],), beta=1.0 - 1.0 / p.tau, threshold=p.theta, rngs=nnx.Rngs(0))


@register("psu", "lif", "spyx", entry="neuron_forward", devices=("cpu", "gpu", "tpu"))
@partial(jax.jit, static_argnames=("p", "kind"))
def lif(x, p, kind="lif"):
    layer = _module(snn.LIF, x, p)
    spikes, _ = snn.run(layer, x / p.tau, jnp.zeros(x.shape[1:], x.dtype))
    return spikes


@register("psu", "psu_lif", "spyx", entry="neuron_forward", devices=("cpu", "gpu", "tpu"))
@partial(jax.jit, static_argnames=("p", "kind"))
def psu_lif(x, p, kind="psu_lif"):
    return _module(snn.PSU_LIF, x, p).parallel(x / p.tau)


@register(
    "psu", "parallel_reset_lif", "spyx", entry="neuron_forward", devices=("cpu", "gpu", "tpu")
)
@partial(jax.jit, static_argnames=("p", "kind"))
def parallel_reset_lif(x, p, kind="parallel_reset_lif"):
    return _module(ParallelResetLIF, x, p).parallel(x / p.tau, K=FPT_ITERATIONS)
