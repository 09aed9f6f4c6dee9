"""Anchor: the EventQueues authors' own queues (PyPI ``adseq``), on the traffic benchmarks.

Framework ``adseq`` (JAX underneath). The loop is the authors' batched benchmark with the
popped state carried: per step k = 1 .. T every queue pops(k) (``jax.vmap`` of the class's
``pop``), then the queues that spike enqueue arrival k + delay (``jax.vmap`` of
``lax.cond(spike, enqueue, keep)``), spikes from the very same hash as every other
implementation (``_jax.mix``). Design names map onto adseq's classes::

    heap   BinaryHeap.sized(capacity)     fifo  FIFORing.sized(capacity)
    ring   Ring.init(delay)               sorted SortedArray.sized(capacity)
    lossy  LossyRing.sized(capacity)

adseq's queues hold integer arrival steps only (no payload) and count no drops, so, to be
checked like ours, the row's outputs are derived from what adseq does deliver:

- delivered: the sum of pop's hits; payload sum: sum over steps of k * hits(k) -- the
  reference's payload is the arrival step, so the two agree exactly when every event leaves at
  its own step;
- pending: from the final state (heap, FIFO: ``size``; ring: the counts' sum; sorted, lossy:
  the slots not INT_MAX); dropped = offered - delivered - pending (so the accounting identity
  holds by construction for anchor rows; the per-queue comparison of delivered, dropped and
  payload with the reference is the real check).

Known differences from spikebench's designs (the row's ``note`` names them):

- adseq 0.9.4's binary heap never reorders: its ``_swap`` writes each element back to its own
  slot, so after enqueue(9), enqueue(5) a pop(5) delivers nothing. Its rows differ from the
  reference wherever a later event overtakes an earlier one, and are ``correct=False``.
- its pops deliver what is due at or before ``now`` (``<=``); ours deliver at ``now``
  exactly. Every benchmark here has delay >= 1 and pops every step, so this changes nothing
  except after a heap fault (above).
"""

from __future__ import annotations

from functools import partial

import adseq.implementations as adq
import jax
import jax.numpy as jnp
from jax import lax

from ...registry import register
from ._common import DESIGNS, SENTINEL, check_design, check_sizes, check_traffic
from ._jax import Queue, mix

KNOWN_DIFFERENCES = {
    "heap": "adseq 0.9.4's BinaryHeap never reorders (its _swap writes each element back to "
            "its own slot), so a later arrival queued behind an earlier one is delivered late "
            "or not at all",
}


def _cls(design: str, capacity: int | None):
    return {"heap": lambda: adq.BinaryHeap.sized(capacity),
            "fifo": lambda: adq.FIFORing.sized(capacity),
            "ring": lambda: adq.Ring,
            "sorted": lambda: adq.SortedArray.sized(capacity),
            "lossy": lambda: adq.LossyRing.sized(capacity)}[design]()


def init(design: str, n_queues: int, capacity: int | None = None, max_delay: int | None = None,
         dtype=jnp.float32, device=None):
    """n_queues empty adseq queues of `design`, batched along a leading axis (the state of one
    queue per lane, as the authors' batched benchmark builds it). `dtype` is ignored: adseq's
    queues hold int32 steps (the heap float32)."""
    check_sizes(check_design(design), n_queues, capacity, max_delay)
    cls = _cls(design, capacity)
    q = jax.vmap(lambda _: cls.init(max_delay))(jnp.zeros(n_queues, jnp.int32))
    return q if device is None else jax.device_put(q, device)


def _pending(design: str, q):
    if design in ("heap", "fifo"):
        return jnp.asarray(q.size, jnp.int32)
    if design == "ring":
        return jnp.sum(q.buffer, axis=1).astype(jnp.int32)
    return jnp.sum(q.buffer != SENTINEL, axis=1).astype(jnp.int32)


def _as_queue(design: str, q, hits, sent) -> Queue:
    """The final adseq state in spikebench's ``Queue`` layout (what the check reads)."""
    n = hits.shape[0]
    pending = _pending(design, q)
    keys = q.buffer.astype(jnp.int32)
    if design in ("heap", "fifo"):
        size = pending
    else:
        size = jnp.zeros(n, jnp.int32)
    return Queue(keys, jnp.zeros(keys.shape, jnp.float32), jnp.zeros(n, jnp.int32), size,
                 sent - hits - pending)


@register("queues", DESIGNS, "adseq", entry="traffic", dtypes=("float32",))
@partial(jax.jit, static_argnames=("design", "n_steps", "delay", "interval", "seed"))
def run_traffic(q, *, design: str, n_steps: int, delay: int, interval: int, seed: int = 0):
    """The traffic loop (a)-(d), (f) on adseq's queues: (Queue, delivered [Q], payload sum [Q],
    enqueued [Q]) as ``_jax.run_traffic`` returns them (module docstring)."""
    slots = q.buffer.shape[1]
    n_steps, delay, interval, seed = check_traffic(design, slots, n_steps, delay, interval, seed)
    n = q.buffer.shape[0]
    lanes = jnp.arange(n, dtype=jnp.uint32)
    zero = jnp.zeros(n, jnp.int32)

    def step(carry, k):
        qs, hits, pays, sent = carry
        qs, out = jax.vmap(lambda one: one.pop(k))(qs)
        out = jnp.asarray(out).astype(jnp.int32)
        spike = (mix(k, lanes, seed) % jnp.uint32(interval)) == 0
        qs = jax.vmap(lambda e, one: lax.cond(e, lambda: one.enqueue(k + delay),
                                              lambda: one))(spike, qs)
        return (qs, hits + out, pays + out.astype(jnp.float32) * k, sent + spike), None

    init_ = (q, zero, jnp.zeros(n, jnp.float32), zero)
    (q, hits, pays, sent), _ = lax.scan(step, init_, jnp.arange(1, n_steps + 1, dtype=jnp.int32))
    return _as_queue(design, q, hits, sent), hits, pays, sent
