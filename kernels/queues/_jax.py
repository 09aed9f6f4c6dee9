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


def _put(arr, idx, val):
    """arr[q, idx[q]] = val[q] for every queue q, as a select over the slot axis: on XLA's CPU
    backend a per-row scatter costs several times this fused elementwise pass (profiled on
    benchmark (b): the heap's sift loop was scatter-bound)."""
    hit = jnp.arange(arr.shape[1], dtype=jnp.int32)[None, :] == idx[:, None]
    return jnp.where(hit, jnp.asarray(val, arr.dtype)[..., None], arr)


def _get(arr, idx):
    """arr[q, idx[q]] for every queue q."""
    return jnp.take_along_axis(arr, idx[:, None].astype(jnp.int32), axis=1)[:, 0]


def _hput(arr, rows, idx, val):
    """The heap's per-row scatter: its sift loops stay faster as scatters than as selects
    (profiled on (b): 474 vs 748 ms), unlike every other design's single update."""
    return arr.at[rows, idx].set(val)


# -- heap --------------------------------------------------------------------------------------

def heap_enqueue(q: Queue, t, pay, mask) -> Queue:
    cap = q.keys.shape[1]
    rows = _rows(q)
    full = q.size >= cap
    do = mask & ~full
    pos = jnp.minimum(q.size, cap - 1)
    keys = _hput(q.keys, rows, pos, jnp.where(do, t, q.keys[rows, pos]))
    pays = _hput(q.pay, rows, pos, jnp.where(do, pay, q.pay[rows, pos]))
    for _ in range(sift_steps(cap)):  # sift up, a static number of levels
        parent = jnp.maximum((pos - 1) // 2, 0)
        kc, pc, kp, pp = keys[rows, pos], pays[rows, pos], keys[rows, parent], pays[rows, parent]
        swap = do & (pos > 0) & _less(kc, pc, kp, pp)
        keys = _hput(_hput(keys, rows, pos, jnp.where(swap, kp, kc)), rows, parent,
                    jnp.where(swap, kc, kp))
        pays = _hput(_hput(pays, rows, pos, jnp.where(swap, pp, pc)), rows, parent,
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
    keys = _hput(q.keys, rows, last, jnp.where(hit, SENTINEL, k_last))
    pays = _hput(q.pay, rows, last, jnp.where(hit, 0, p_last))
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
        keys = _hput(_hput(keys, rows, child, jnp.where(swap, kp, kc)), rows, pos,
                    jnp.where(swap, kc, kp))
        pays = _hput(_hput(pays, rows, child, jnp.where(swap, pp, pc)), rows, pos,
                    jnp.where(swap, pc, pp))
        pos = jnp.where(swap, child, pos)
    return Queue(keys, pays, q.head, q.size - hit, q.dropped), hit.astype(jnp.int32), out


# -- FIFO --------------------------------------------------------------------------------------

def fifo_enqueue(q: Queue, t, pay, mask) -> Queue:
    cap = q.keys.shape[1]
    full = q.size >= cap
    do = mask & ~full
    idx = (q.head + q.size) % cap
    keys = _put(q.keys, idx, jnp.where(do, t, _get(q.keys, idx)))
    pays = _put(q.pay, idx, jnp.where(do, pay, _get(q.pay, idx)))
    return Queue(keys, pays, q.head, q.size + do, q.dropped + (mask & full))


def fifo_pop(q: Queue, now):
    cap = q.keys.shape[1]
    k = _get(q.keys, q.head)
    hit = (q.size > 0) & (k <= now)
    out = jnp.where(hit, _get(q.pay, q.head), 0)
    keys = _put(q.keys, q.head, jnp.where(hit, SENTINEL, k))
    pays = _put(q.pay, q.head, jnp.where(hit, 0, _get(q.pay, q.head)))
    head = jnp.where(hit, (q.head + 1) % cap, q.head)
    return Queue(keys, pays, head, q.size - hit, q.dropped), hit.astype(jnp.int32), out


# -- dense ring --------------------------------------------------------------------------------

def ring_enqueue(q: Queue, t, pay, mask) -> Queue:
    """The caller guarantees now < t <= now + max_delay + 1, the ring's slots (the contract
    ``check_offer`` enforces in both twins)."""
    slot = t % q.keys.shape[1]
    keys = _put(q.keys, slot, _get(q.keys, slot) + mask)
    pays = _put(q.pay, slot, _get(q.pay, slot) + jnp.where(mask, pay, 0))
    return Queue(keys, pays, q.head, q.size, q.dropped)


def ring_pop(q: Queue, now):
    slot = jnp.broadcast_to(now % q.keys.shape[1], q.size.shape)
    count, out = _get(q.keys, slot), _get(q.pay, slot)
    keys = _put(q.keys, slot, 0)
    pays = _put(q.pay, slot, 0)
    return Queue(keys, pays, q.head, q.size, q.dropped), count, out


# -- sorted array ------------------------------------------------------------------------------

def sorted_enqueue(q: Queue, t, pay, mask) -> Queue:
    """Insert by rank: the new event goes after every key <= t among the first S - 1 (stable:
    after equal keys), the ones behind it move up a slot and the last slot's event is evicted
    -- what replacing the last key and re-sorting gives, as elementwise selects (an argsort per
    step cost 4x this)."""
    last = q.keys[:, -1]
    accept = (mask & (t < last))[:, None]
    rank = jnp.sum(q.keys[:, :-1] <= t[:, None], axis=1)[:, None]  # [Q, 1]
    j = jnp.arange(q.keys.shape[1], dtype=jnp.int32)[None, :]
    prev_k = jnp.concatenate([q.keys[:, :1], q.keys[:, :-1]], 1)
    prev_p = jnp.concatenate([q.pay[:, :1], q.pay[:, :-1]], 1)
    keys = jnp.where(j < rank, q.keys, jnp.where(j == rank, t[:, None], prev_k))
    pays = jnp.where(j < rank, q.pay, jnp.where(j == rank, pay[:, None], prev_p))
    keys = jnp.where(accept, keys, q.keys)
    pays = jnp.where(accept, pays, q.pay)
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
    slot = t % q.keys.shape[1]
    old = _get(q.keys, slot)
    keys = _put(q.keys, slot, jnp.where(mask, t, old))
    pays = _put(q.pay, slot, jnp.where(mask, pay, _get(q.pay, slot)))
    return Queue(keys, pays, q.head, q.size, q.dropped + (mask & (old != SENTINEL)))


def lossy_pop(q: Queue, now):
    slot = jnp.broadcast_to(now % q.keys.shape[1], q.size.shape)
    k, p = _get(q.keys, slot), _get(q.pay, slot)
    hit = k == now
    out = jnp.where(hit, p, 0)
    keys = _put(q.keys, slot, jnp.where(hit, SENTINEL, k))
    pays = _put(q.pay, slot, jnp.where(hit, 0, p))
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
