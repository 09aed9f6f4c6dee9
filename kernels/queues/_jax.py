"""JAX: batched spike event queues — heap, FIFO, dense ring, sorted array, lossy ring.

The designs and their drop policies are in ``_common``'s docstring (spec/queues.md section 3).
Every function takes and returns a ``Queue`` whose arrays have a leading queue axis [Q, ...];
all operations are branch-free (compute, then select with ``where``) with static shapes and
static loop bounds, so they jit, vmap (add further batch axes) and differentiate.

State (one NamedTuple for every design)::

    keys    int32 [Q, S]  arrival steps, SENTINEL where empty (ring: event counts per slot)
    pay     float [Q, S]  the events' float arrival times in steps (ring: their sum per slot);
                          gradients w.r.t. weights and delays flow through this payload
    head    int32 [Q]     FIFO read position (0 otherwise)
    size    int32 [Q]     events held (heap, FIFO; 0 otherwise)
    dropped int32 [Q]     events lost to overflow so far

``enqueue(design, q, t, pay, mask)`` offers one event per queue where ``mask`` is set;
``pop(design, q, now)`` returns ``(q, hits, pay_out)``: per queue the number of events
delivered at step ``now`` (0/1 for heap, FIFO and sorted; a count for ring and lossy) and the
sum of their payloads. The heap orders by (key, payload), so equal keys leave in a
deterministic order; FIFO and sorted keep insertion order among equal keys.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ...registry import register
from ._common import (
    DESIGNS,
    MIX,
    SENTINEL,
    check_batch,
    check_design,
    check_now,
    check_offer,
    check_sizes,
    check_step_dtype,
    check_traffic,
    sift_steps,
)


class Queue(NamedTuple):
    keys: jax.Array
    pay: jax.Array
    head: jax.Array
    size: jax.Array
    dropped: jax.Array


def init(design: str, n_queues: int, capacity: int | None = None, max_delay: int | None = None,
         dtype=jnp.float32, device=None) -> Queue:
    """Empty queues: capacity slots each (ring: max_delay + 1 count slots), payloads of
    `dtype` (a name or a dtype), on `device` (default: JAX's default device)."""
    slots = check_sizes(design, n_queues, capacity, max_delay)
    fill = 0 if design == "ring" else SENTINEL
    zeros = jnp.zeros(n_queues, jnp.int32)
    q = Queue(jnp.full((n_queues, slots), fill, jnp.int32),
              jnp.zeros((n_queues, slots), jnp.dtype(dtype)), zeros, zeros, zeros)
    return q if device is None else jax.device_put(q, device)


def _rows(q):
    return jnp.arange(q.keys.shape[0])


def _less(ka, pa, kb, pb):
    """(ka, pa) < (kb, pb) lexicographically."""
    return (ka < kb) | ((ka == kb) & (pa < pb))


def _put(arr, rows, idx, val):
    return arr.at[rows, idx].set(val)


# -- heap --------------------------------------------------------------------------------------

def heap_enqueue(q: Queue, t, pay, mask) -> Queue:
    cap = q.keys.shape[1]
    rows = _rows(q)
    full = q.size >= cap
    do = mask & ~full
    pos = jnp.minimum(q.size, cap - 1)
    keys = _put(q.keys, rows, pos, jnp.where(do, t, q.keys[rows, pos]))
    pays = _put(q.pay, rows, pos, jnp.where(do, pay, q.pay[rows, pos]))
    for _ in range(sift_steps(cap)):  # sift up, a static number of levels
        parent = jnp.maximum((pos - 1) // 2, 0)
        kc, pc, kp, pp = keys[rows, pos], pays[rows, pos], keys[rows, parent], pays[rows, parent]
        swap = do & (pos > 0) & _less(kc, pc, kp, pp)
        keys = _put(_put(keys, rows, pos, jnp.where(swap, kp, kc)), rows, parent,
                    jnp.where(swap, kc, kp))
        pays = _put(_put(pays, rows, pos, jnp.where(swap, pp, pc)), rows, parent,
                    jnp.where(swap, pc, pp))
        pos = jnp.where(swap, parent, pos)
    return Queue(keys, pays, q.head, q.size + do, q.dropped + (mask & full))


def heap_pop(q: Queue, now):
    cap = q.keys.shape[1]
    rows = _rows(q)
    hit = (q.size > 0) & (q.keys[:, 0] <= now)
    out = jnp.where(hit, q.pay[:, 0], 0)
    last = jnp.maximum(q.size - 1, 0)
    k_last, p_last = q.keys[rows, last], q.pay[rows, last]
    keys = _put(q.keys, rows, last, jnp.where(hit, SENTINEL, k_last))
    pays = _put(q.pay, rows, last, jnp.where(hit, 0, p_last))
    move = hit & (last > 0)
    keys = keys.at[:, 0].set(jnp.where(move, k_last, keys[:, 0]))
    pays = pays.at[:, 0].set(jnp.where(move, p_last, pays[:, 0]))
    pos = jnp.zeros_like(q.size)
    for _ in range(sift_steps(cap)):  # sift down
        left, right = 2 * pos + 1, 2 * pos + 2
        lc, rc = jnp.minimum(left, cap - 1), jnp.minimum(right, cap - 1)
        kl = jnp.where(left < cap, keys[rows, lc], SENTINEL)
        kr = jnp.where(right < cap, keys[rows, rc], SENTINEL)
        pl, pr = pays[rows, lc], pays[rows, rc]
        take_r = _less(kr, pr, kl, pl)
        child = jnp.where(take_r, rc, lc)
        kc, pc = jnp.where(take_r, kr, kl), jnp.where(take_r, pr, pl)
        kp, pp = keys[rows, pos], pays[rows, pos]
        swap = move & _less(kc, pc, kp, pp)
        keys = _put(_put(keys, rows, child, jnp.where(swap, kp, kc)), rows, pos,
                    jnp.where(swap, kc, kp))
        pays = _put(_put(pays, rows, child, jnp.where(swap, pp, pc)), rows, pos,
                    jnp.where(swap, pc, pp))
        pos = jnp.where(swap, child, pos)
    return Queue(keys, pays, q.head, q.size - hit, q.dropped), hit.astype(jnp.int32), out


# -- FIFO --------------------------------------------------------------------------------------

def fifo_enqueue(q: Queue, t, pay, mask) -> Queue:
    cap = q.keys.shape[1]
    rows = _rows(q)
    full = q.size >= cap
    do = mask & ~full
    idx = (q.head + q.size) % cap
    keys = _put(q.keys, rows, idx, jnp.where(do, t, q.keys[rows, idx]))
    pays = _put(q.pay, rows, idx, jnp.where(do, pay, q.pay[rows, idx]))
    return Queue(keys, pays, q.head, q.size + do, q.dropped + (mask & full))


def fifo_pop(q: Queue, now):
    cap = q.keys.shape[1]
    rows = _rows(q)
    k = q.keys[rows, q.head]
    hit = (q.size > 0) & (k <= now)
    out = jnp.where(hit, q.pay[rows, q.head], 0)
    keys = _put(q.keys, rows, q.head, jnp.where(hit, SENTINEL, k))
    pays = _put(q.pay, rows, q.head, jnp.where(hit, 0, q.pay[rows, q.head]))
    head = jnp.where(hit, (q.head + 1) % cap, q.head)
    return Queue(keys, pays, head, q.size - hit, q.dropped), hit.astype(jnp.int32), out


# -- dense ring --------------------------------------------------------------------------------

def ring_enqueue(q: Queue, t, pay, mask) -> Queue:
    """The caller guarantees now < t <= now + max_delay + 1, the ring's slots (the contract
    ``check_offer`` enforces in both twins)."""
    rows = _rows(q)
    slot = t % q.keys.shape[1]
    keys = _put(q.keys, rows, slot, q.keys[rows, slot] + mask)
    pays = _put(q.pay, rows, slot, q.pay[rows, slot] + jnp.where(mask, pay, 0))
    return Queue(keys, pays, q.head, q.size, q.dropped)


def ring_pop(q: Queue, now):
    rows = _rows(q)
    slot = jnp.broadcast_to(now % q.keys.shape[1], q.size.shape)
    count, out = q.keys[rows, slot], q.pay[rows, slot]
    keys = _put(q.keys, rows, slot, 0)
    pays = _put(q.pay, rows, slot, 0)
    return Queue(keys, pays, q.head, q.size, q.dropped), count, out


# -- sorted array ------------------------------------------------------------------------------

def sorted_enqueue(q: Queue, t, pay, mask) -> Queue:
    last = q.keys[:, -1]
    accept = mask & (t < last)
    keys = q.keys.at[:, -1].set(jnp.where(accept, t, last))
    pays = q.pay.at[:, -1].set(jnp.where(accept, pay, q.pay[:, -1]))
    order = jnp.argsort(keys, axis=1, stable=True)  # the new event goes after equal keys
    keys = jnp.take_along_axis(keys, order, axis=1)
    pays = jnp.take_along_axis(pays, order, axis=1)
    # full: either the new event or the evicted latest one is lost
    return Queue(keys, pays, q.head, q.size, q.dropped + (mask & (last != SENTINEL)))


def sorted_pop(q: Queue, now):
    hit = q.keys[:, 0] <= now
    out = jnp.where(hit, q.pay[:, 0], 0)
    shifted_k = jnp.concatenate([q.keys[:, 1:], jnp.full_like(q.keys[:, :1], SENTINEL)], 1)
    shifted_p = jnp.concatenate([q.pay[:, 1:], jnp.zeros_like(q.pay[:, :1])], 1)
    keys = jnp.where(hit[:, None], shifted_k, q.keys)
    pays = jnp.where(hit[:, None], shifted_p, q.pay)
    return Queue(keys, pays, q.head, q.size, q.dropped), hit.astype(jnp.int32), out


# -- lossy ring --------------------------------------------------------------------------------

def lossy_enqueue(q: Queue, t, pay, mask) -> Queue:
    rows = _rows(q)
    slot = t % q.keys.shape[1]
    old = q.keys[rows, slot]
    keys = _put(q.keys, rows, slot, jnp.where(mask, t, old))
    pays = _put(q.pay, rows, slot, jnp.where(mask, pay, q.pay[rows, slot]))
    return Queue(keys, pays, q.head, q.size, q.dropped + (mask & (old != SENTINEL)))


def lossy_pop(q: Queue, now):
    rows = _rows(q)
    slot = jnp.broadcast_to(now % q.keys.shape[1], q.size.shape)
    k = q.keys[rows, slot]
    hit = k == now
    out = jnp.where(hit, q.pay[rows, slot], 0)
    keys = _put(q.keys, rows, slot, jnp.where(hit, SENTINEL, k))
    pays = _put(q.pay, rows, slot, jnp.where(hit, 0, q.pay[rows, slot]))
    return Queue(keys, pays, q.head, q.size, q.dropped), hit.astype(jnp.int32), out


ENQUEUE = {"heap": heap_enqueue, "fifo": fifo_enqueue, "ring": ring_enqueue,
           "sorted": sorted_enqueue, "lossy": lossy_enqueue}
POP = {"heap": heap_pop, "fifo": fifo_pop, "ring": ring_pop, "sorted": sorted_pop,
       "lossy": lossy_pop}


def _traced(*xs) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in xs)


def enqueue(design: str, q: Queue, t, pay, mask, *, now=None, check: bool = True) -> Queue:
    """Offer arrival step t [Q] (integer) with payload pay [Q] where mask [Q] is set.

    Checked (``check=True``): concrete arrival steps must lie in [0, SENTINEL) and, when the
    caller passes the current step `now`, after it (ring: at most max_delay + 1 steps after
    it), else ValueError (``_common.check_offer``). Inside jit the same rules refuse the
    offer and count it in ``dropped``, so nothing is delivered or lost uncounted. The
    benchmark loops, whose arrivals are valid by construction, pass ``check=False``."""
    check_batch(tuple(q.size.shape), t=tuple(t.shape), pay=tuple(pay.shape),
                mask=tuple(mask.shape))
    check_step_dtype(t.dtype)
    design = check_design(design)
    mask = jnp.asarray(mask).astype(bool)
    if not check:
        return ENQUEUE[design](q, t.astype(jnp.int32), pay.astype(q.pay.dtype), mask)
    slots = q.keys.shape[1] if design == "ring" else None
    if not _traced(t, mask, now):
        check_offer(np.asarray(t), np.asarray(mask), None if now is None else np.asarray(now),
                    slots)
        return ENQUEUE[design](q, t.astype(jnp.int32), pay.astype(q.pay.dtype), mask)
    ok = mask & (t >= 0) & (t < SENTINEL)  # in t's own dtype: before any int32 wrap
    if now is not None:
        ok = ok & (t > now)
        if slots is not None:
            ok = ok & (t <= now + slots)
    q = ENQUEUE[design](q, jnp.where(ok, t, 0).astype(jnp.int32), pay.astype(q.pay.dtype), ok)
    return q._replace(dropped=q.dropped + (mask & ~ok))


def pop(design: str, q: Queue, now, *, check: bool = True):
    """Deliver what is due at step `now` (an integer scalar or [Q]): (q, hits [Q], payload
    sum [Q]). A concrete `now` must be an integer in [0, SENTINEL) (a float is refused, not
    truncated)."""
    if tuple(getattr(now, "shape", ())) not in ((), tuple(q.size.shape)):
        check_batch(tuple(q.size.shape), now=tuple(now.shape))
    if check:
        if _traced(now):
            check_step_dtype(now.dtype)
        else:
            check_now(now)
    return POP[check_design(design)](q, jnp.asarray(now, jnp.int32))


def pending(design: str, q: Queue):
    """Events held per queue."""
    check_design(design)
    if design == "ring":
        return jnp.sum(q.keys, axis=1)
    if design in ("heap", "fifo"):
        return q.size
    return jnp.sum(q.keys != SENTINEL, axis=1).astype(jnp.int32)


# -- the benchmark loop (spec section 5 a-d, f) ---------------------------------------------

def mix(k, q, seed: int):
    """The traffic hash of ``_common.mix_numpy`` in uint32 arithmetic (wraps mod 2^32)."""
    u = jnp.uint32
    x = (u(k) * u(MIX[0]) + q.astype(u) * u(MIX[1]) + u(seed * MIX[2] & 0xFFFFFFFF))
    x = x ^ (x >> 15)
    x = x * u(MIX[3])
    x = x ^ (x >> 12)
    x = x * u(MIX[4])
    return x ^ (x >> 15)


def traffic(design: str, q: Queue, n_steps: int, delay: int, interval: int, seed: int = 0):
    """Per step k = 1 .. n_steps: pop(k), then every queue that spikes (probability
    1/interval, ``mix``) enqueues arrival k + delay with payload k + delay. The popped state
    is carried (the published batched script discarded it). Returns (q, delivered [Q],
    payload sum [Q], enqueued [Q]). The arguments are checked first (``check_traffic``)."""
    n_steps, delay, interval, seed = check_traffic(design, q.keys.shape[1], n_steps, delay,
                                                   interval, seed)
    n = q.size.shape[0]
    lanes = jnp.arange(n, dtype=jnp.uint32)
    zero = jnp.zeros(n, jnp.int32)

    def step(carry, k):
        q, hits, pays, sent = carry
        q, h, p = pop(design, q, k, check=False)
        spike = (mix(k, lanes, seed) % jnp.uint32(interval)) == 0
        t = jnp.full(n, k + delay, jnp.int32)
        q = enqueue(design, q, t, t.astype(q.pay.dtype), spike, check=False)
        return (q, hits + h, pays + p, sent + spike), None

    init = (q, zero, jnp.zeros(n, q.pay.dtype), zero)
    (q, hits, pays, sent), _ = lax.scan(step, init, jnp.arange(1, n_steps + 1, dtype=jnp.int32))
    return q, hits, pays, sent


@register("queues", DESIGNS, "jax", entry="traffic")
@partial(jax.jit, static_argnames=("design", "n_steps", "delay", "interval", "seed"))
def run_traffic(q: Queue, *, design: str, n_steps: int, delay: int, interval: int,
                seed: int = 0):
    """The timed benchmark loop (a)-(d), (f): ``traffic`` with the queue state first."""
    return traffic(design, q, n_steps, delay, interval, seed)
