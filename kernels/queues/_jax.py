"""JAX: batched spike event queues — heap, FIFO, dense ring, sorted array, lossy ring.

The designs and their drop policies are in ``_common``'s docstring (docs/families/queues.md).
Every function takes and returns a ``Queue`` whose arrays have a leading queue axis [Q, ...];
operations compute, then select with ``where``, with static shapes and static loop bounds, so
they jit, vmap (add further batch axes) and differentiate. The branches: the heap skips the
sift levels no queue needs, and the benchmark loop on quiet traffic skips the steps with
nothing due or offered (``lax.cond`` on a scalar ``any``; differentiable, and a select under
an outer vmap).

State (one NamedTuple for every design)::

    keys    int32 [Q, S]  arrival steps, SENTINEL where empty (ring: event counts per slot)
    pay     float [Q, S]  the events' float arrival times in steps (ring: their sum per slot);
                          gradients w.r.t. weights and delays flow through this payload
    head    int32 [Q]     FIFO read position (always 0 here: this FIFO is head-aligned)
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
    check_payload,
    check_sizes,
    check_step_dtype,
    check_tally,
    check_traffic,
    sift_steps,
)


class Queue(NamedTuple):
    keys: jax.Array
    pay: jax.Array
    head: jax.Array
    size: jax.Array
    dropped: jax.Array


def init(
    design: str,
    n_queues: int,
    capacity: int | None = None,
    max_delay: int | None = None,
    dtype=jnp.float32,
    device=None,
) -> Queue:
    """Empty queues: capacity slots each (ring: max_delay + 1 count slots), payloads of
    `dtype` (a name or a dtype), on `device` (default: JAX's default device)."""
    slots = check_sizes(design, n_queues, capacity, max_delay)
    fill = 0 if design == "ring" else SENTINEL
    zeros = jnp.zeros(n_queues, jnp.int32)
    q = Queue(
        jnp.full((n_queues, slots), fill, jnp.int32),
        jnp.zeros((n_queues, slots), jnp.dtype(dtype)),
        zeros,
        zeros,
        zeros,
    )
    return q if device is None else jax.device_put(q, device)


def _less(ka, pa, kb, pb):
    """(ka, pa) < (kb, pb) lexicographically."""
    return (ka < kb) | ((ka == kb) & (pa < pb))


def _put(arr, idx, val):
    """arr[q, idx[q]] = val[q] for every queue q, as a select over the slot axis (one fused
    elementwise pass; a per-row scatter cost more on XLA's CPU backend)."""
    hit = jnp.arange(arr.shape[1], dtype=jnp.int32)[None, :] == idx[:, None]
    return jnp.where(hit, jnp.asarray(val, arr.dtype)[..., None], arr)


def _get(arr, idx):
    """arr[q, idx[q]] for every queue q."""
    return jnp.take_along_axis(arr, idx[:, None].astype(jnp.int32), axis=1)[:, 0]


# -- heap --------------------------------------------------------------------------------------

DENSE_HEAP = 4096  # Q * C at or below which the heap moves events by selects, not scatters


class _Slots(NamedTuple):
    """The heap's single-slot moves, chosen statically by the state's size: ``get(arr, idx)``
    reads arr[q, idx[q]], ``put(arr, idx, val, where)`` writes val[q] there where `where` is
    set. Small states (Q * C <= DENSE_HEAP, or a single slot) use one-hot selects, which fuse
    into one pass over the Q * C slots; large ones per-row gathers and scatters, whose cost does
    not grow with C (profiled on the traffic loop, C = 7: selects 1.5 ms vs 4.7 ms at Q = 1,
    scatters 12 ms vs 22 ms at Q = 1,000 and 124 ms vs 233 ms at Q = 10,000; C = 1, Q = 10,000:
    selects 3.3 ms vs 13 ms)."""

    get: object
    put: object


def _slots(q: Queue) -> _Slots:
    n, cap = q.keys.shape
    if n * cap <= DENSE_HEAP or cap == 1:

        def hot(arr, idx):
            return jnp.arange(cap, dtype=jnp.int32)[None, :] == idx[:, None]

        def get(arr, idx):  # exactly one slot survives the select: the sum is that value
            return jnp.sum(jnp.where(hot(arr, idx), arr, 0), axis=1).astype(arr.dtype)

        def put(arr, idx, val, where):
            return jnp.where(
                hot(arr, idx) & where[:, None], jnp.asarray(val, arr.dtype)[:, None], arr
            )

        return _Slots(get, put)
    rows = jnp.arange(n)
    return _Slots(
        lambda arr, idx: arr[rows, idx],
        # out of range where nothing is written: the scatter drops it
        lambda arr, idx, val, where: arr.at[rows, jnp.where(where, idx, cap)].set(
            jnp.asarray(val, arr.dtype), mode="drop"
        ),
    )


def _levels(level, c, n: int, busy):
    """Apply `level` to the sift state `c` at most `n` times, stopping as soon as no queue
    still moves (``busy(c)`` all false). Nested ``lax.cond``s: a queue that did not move at one
    level cannot move at the next, so one false test skips every deeper level. On benchmark
    (b), where arrivals come in time order, a step usually runs none of them (profiled: the
    static levels of every step were 70 % of the heap's time). Differentiable (cond is);
    under an outer ``vmap`` the tests become selects and every level runs, with the same
    result."""
    if n == 0:
        return c
    return lax.cond(
        jnp.any(busy(c)), lambda c: _levels(level, level(c), n - 1, busy), lambda c: c, c
    )


def heap_enqueue(q: Queue, t, pay, mask) -> Queue:
    cap = q.keys.shape[1]
    get, put = _slots(q)
    full = q.size >= cap
    do = mask & ~full
    pos = jnp.minimum(q.size, cap - 1)
    t = jnp.broadcast_to(t, q.size.shape)
    pay = jnp.broadcast_to(pay, q.size.shape).astype(q.pay.dtype)
    keys, pays = put(q.keys, pos, t, do), put(q.pay, pos, pay, do)

    def swaps(keys, pays, pos, kc, pc):  # does the event at pos (kc, pc) go above its parent
        parent = jnp.maximum((pos - 1) // 2, 0)
        return do & (pos > 0) & _less(kc, pc, get(keys, parent), get(pays, parent))

    def level(c):  # sift up one level where `swap`
        keys, pays, pos, swap = c
        parent = jnp.maximum((pos - 1) // 2, 0)
        kc, pc, kp, pp = get(keys, pos), get(pays, pos), get(keys, parent), get(pays, parent)
        keys = put(put(keys, pos, kp, swap), parent, kc, swap)
        pays = put(put(pays, pos, pp, swap), parent, pc, swap)
        pos = jnp.where(swap, parent, pos)
        return keys, pays, pos, swaps(keys, pays, pos, kc, pc)

    c = _levels(
        level, (keys, pays, pos, swaps(keys, pays, pos, t, pay)), sift_steps(cap), lambda c: c[3]
    )
    return Queue(c[0], c[1], q.head, q.size + do, q.dropped + (mask & full))


def heap_pop(q: Queue, now):
    cap = q.keys.shape[1]
    get, put = _slots(q)
    hit = (q.size > 0) & (q.keys[:, 0] <= now)
    out = jnp.where(hit, q.pay[:, 0], 0)
    last = jnp.maximum(q.size - 1, 0)
    k_last, p_last = get(q.keys, last), get(q.pay, last)
    keys = put(q.keys, last, jnp.full_like(last, SENTINEL), hit)
    pays = put(q.pay, last, jnp.zeros_like(p_last), hit)
    move = hit & (last > 0)  # the last event goes to the root and sinks
    root = jnp.zeros_like(last)
    keys, pays = put(keys, root, k_last, move), put(pays, root, p_last, move)

    def probe(keys, pays, pos):  # the smaller child of pos; does the sinking event swap
        left, right = 2 * pos + 1, 2 * pos + 2
        lc, rc = jnp.minimum(left, cap - 1), jnp.minimum(right, cap - 1)
        kl = jnp.where(left < cap, get(keys, lc), SENTINEL)
        kr = jnp.where(right < cap, get(keys, rc), SENTINEL)
        pl, pr = get(pays, lc), get(pays, rc)
        take_r = _less(kr, pr, kl, pl)
        kc, pc = jnp.where(take_r, kr, kl), jnp.where(take_r, pr, pl)
        return move & _less(kc, pc, k_last, p_last), jnp.where(take_r, rc, lc), kc, pc

    def level(c):  # sift down one level where the probe says swap; the sinking event is last's
        keys, pays, pos, (swap, child, kc, pc) = c
        keys = put(put(keys, child, k_last, swap), pos, kc, swap)
        pays = put(put(pays, child, p_last, swap), pos, pc, swap)
        pos = jnp.where(swap, child, pos)
        return keys, pays, pos, probe(keys, pays, pos)

    c = _levels(
        level, (keys, pays, root, probe(keys, pays, root)), sift_steps(cap), lambda c: c[3][0]
    )
    return Queue(c[0], c[1], q.head, q.size - hit, q.dropped), hit.astype(jnp.int32), out


# -- FIFO --------------------------------------------------------------------------------------
# Head-aligned: slot 0 is always the head (``head`` stays 0) and a pop shifts the C slots down
# by one in one vector select. Same order, same drops as a circular buffer; on XLA it skips the
# per-queue gather of a moving head, and both layouts make one pass over the C slots per update
# (profiled on (b): circular 56 ms, head-aligned 33 ms).


def fifo_enqueue(q: Queue, t, pay, mask) -> Queue:
    cap = q.keys.shape[1]
    full = q.size >= cap
    do = mask & ~full
    w = (jnp.arange(cap, dtype=jnp.int32)[None, :] == q.size[:, None]) & do[:, None]
    t = jnp.broadcast_to(t, q.size.shape)[:, None]
    pay = jnp.broadcast_to(pay, q.size.shape).astype(q.pay.dtype)[:, None]
    return Queue(
        jnp.where(w, t, q.keys),
        jnp.where(w, pay, q.pay),
        q.head,
        q.size + do,
        q.dropped + (mask & full),
    )


def fifo_pop(q: Queue, now):
    hit = (q.size > 0) & (q.keys[:, 0] <= now)
    out = jnp.where(hit, q.pay[:, 0], 0)
    keys, pays = _shift_down(q, hit)
    return Queue(keys, pays, q.head, q.size - hit, q.dropped), hit.astype(jnp.int32), out


def _shift_down(q: Queue, hit):
    """Where `hit`, every slot takes its successor's event and the last slot empties."""
    shifted_k = jnp.concatenate([q.keys[:, 1:], jnp.full_like(q.keys[:, :1], SENTINEL)], 1)
    shifted_p = jnp.concatenate([q.pay[:, 1:], jnp.zeros_like(q.pay[:, :1])], 1)
    return (jnp.where(hit[:, None], shifted_k, q.keys), jnp.where(hit[:, None], shifted_p, q.pay))


# -- dense ring --------------------------------------------------------------------------------
# ring and lossy keep each event in slot t mod S, so a step's pop (and a shared arrival step's
# enqueue) touches one slot column of every queue: the *_col functions below are that column
# update, used per queue by enqueue/pop and whole-column by the benchmark loop (``_slot_traffic``).


def _ring_pop_col(kc, pc, now):
    """(keys, payloads, hits, payload out) of a popped ring column."""
    return jnp.zeros_like(kc), jnp.zeros_like(pc), kc, pc


def _ring_enqueue_col(kc, pc, t, pay, mask):
    """(keys, payloads, drops) of a ring column after the offer."""
    return kc + mask, pc + jnp.where(mask, pay, 0).astype(pc.dtype), jnp.zeros_like(kc)


def ring_enqueue(q: Queue, t, pay, mask) -> Queue:
    """The caller guarantees now < t <= now + max_delay + 1, the ring's slots (the contract
    ``check_offer`` enforces in both twins)."""
    return _enqueue_slot(q, t, pay, mask, _ring_enqueue_col)


def ring_pop(q: Queue, now):
    return _pop_slot(q, now, _ring_pop_col)


def _enqueue_slot(q: Queue, t, pay, mask, col):
    slot = t % q.keys.shape[1]
    kc, pc, drop = col(_get(q.keys, slot), _get(q.pay, slot), t, pay, mask)
    return Queue(_put(q.keys, slot, kc), _put(q.pay, slot, pc), q.head, q.size, q.dropped + drop)


def _pop_slot(q: Queue, now, col):
    slot = jnp.broadcast_to(now % q.keys.shape[1], q.size.shape)
    kc, pc, hits, out = col(_get(q.keys, slot), _get(q.pay, slot), now)
    return (
        Queue(_put(q.keys, slot, kc), _put(q.pay, slot, pc), q.head, q.size, q.dropped),
        hits,
        out,
    )


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
    keys, pays = _shift_down(q, hit)
    return Queue(keys, pays, q.head, q.size, q.dropped), hit.astype(jnp.int32), out


# -- lossy ring --------------------------------------------------------------------------------


def _lossy_pop_col(kc, pc, now):
    hit = kc == now
    return (
        jnp.where(hit, SENTINEL, kc),
        jnp.where(hit, 0, pc),
        hit.astype(jnp.int32),
        jnp.where(hit, pc, 0),
    )


def _lossy_enqueue_col(kc, pc, t, pay, mask):
    return (
        jnp.where(mask, t, kc),
        jnp.where(mask, pay, pc).astype(pc.dtype),
        (mask & (kc != SENTINEL)).astype(jnp.int32),
    )


def lossy_enqueue(q: Queue, t, pay, mask) -> Queue:
    return _enqueue_slot(q, t, pay, mask, _lossy_enqueue_col)


def lossy_pop(q: Queue, now):
    return _pop_slot(q, now, _lossy_pop_col)


SLOT_COLS = {
    "ring": (_ring_pop_col, _ring_enqueue_col),
    "lossy": (_lossy_pop_col, _lossy_enqueue_col),
}


ENQUEUE = {
    "heap": heap_enqueue,
    "fifo": fifo_enqueue,
    "ring": ring_enqueue,
    "sorted": sorted_enqueue,
    "lossy": lossy_enqueue,
}
POP = {
    "heap": heap_pop,
    "fifo": fifo_pop,
    "ring": ring_pop,
    "sorted": sorted_pop,
    "lossy": lossy_pop,
}


def _traced(*xs) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in xs)


def enqueue(design: str, q: Queue, t, pay, mask, *, now=None, check: bool = True) -> Queue:
    """Offer arrival step t [Q] (integer) with payload pay [Q] where mask [Q] is set.

    Checked (``check=True``): concrete arrival steps must lie in [0, SENTINEL) and, when the
    caller passes the current step `now`, after it (ring: at most max_delay + 1 steps after
    it), else ValueError (``_common.check_offer``). Inside jit the same rules refuse the
    offer and count it in ``dropped``, so nothing is delivered or lost uncounted. The
    benchmark loops, whose arrivals are valid by construction, pass ``check=False``.
    Concrete payloads must be finite."""
    t, pay, mask = (x if isinstance(x, jax.Array) else jnp.asarray(x) for x in (t, pay, mask))
    check_batch(tuple(q.size.shape), t=tuple(t.shape), pay=tuple(pay.shape), mask=tuple(mask.shape))
    check_step_dtype(t.dtype)
    design = check_design(design)
    mask = jnp.asarray(mask).astype(bool)
    if not check:
        return ENQUEUE[design](q, t.astype(jnp.int32), pay.astype(q.pay.dtype), mask)
    slots = q.keys.shape[1] if design == "ring" else None
    if not _traced(t, mask, now):
        check_offer(
            np.asarray(t), np.asarray(mask), None if now is None else np.asarray(now), slots
        )
        if not _traced(pay):
            check_payload(np.asarray(pay), np.asarray(mask))
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
    x = u(k) * u(MIX[0]) + q.astype(u) * u(MIX[1]) + u(seed * MIX[2] & 0xFFFFFFFF)
    x = x ^ (x >> 15)
    x = x * u(MIX[3])
    x = x ^ (x >> 12)
    x = x * u(MIX[4])
    return x ^ (x >> 15)


def traffic(
    design: str,
    q: Queue,
    n_steps: int,
    delay: int,
    interval: int,
    seed: int = 0,
    tally: str = "queue",
):
    """Per step k = 1 .. n_steps: pop(k), then every queue that spikes (probability
    1/interval, ``mix``) enqueues arrival k + delay with payload k + delay. The popped state
    is carried (the published batched script discarded it). Returns (q, delivered [Q],
    payload sum [Q], enqueued [Q]) with ``tally="queue"``, (q, total delivered) with
    ``tally="total"`` (``_common.TALLIES``: the authors' batched form, nothing per queue
    added to the loop). The arguments are checked first (``check_traffic``)."""
    n_steps, delay, interval, seed = check_traffic(
        design, q.keys.shape[1], n_steps, delay, interval, seed
    )
    check_tally(tally)
    if design in SLOT_COLS:
        return _slot_traffic(design, q, n_steps, delay, interval, seed, tally)
    if design == "fifo" and q.keys.shape[1] > 1 and q.keys.size > DENSE_HEAP:
        return _fifo_traffic(q, n_steps, delay, interval, seed, tally)
    return _step_traffic(design, q, n_steps, delay, interval, seed, tally, _quiet(q, interval))


def _quiet(q: Queue, interval: int) -> bool:
    """Whether most steps of the traffic loop offer nothing: the chance that none of the Q
    queues spikes in a step, (1 - 1/interval)^Q, is at least one half (benchmark (a): one
    queue, interval 400: 0.9975; 10,000 queues: 1e-11)."""
    return (1.0 - 1.0 / interval) ** q.size.shape[0] >= 0.5


def _step_traffic(
    design: str,
    q: Queue,
    n_steps: int,
    delay: int,
    interval: int,
    seed: int,
    tally: str,
    skip: bool,
):
    """``traffic`` through ``pop`` and ``enqueue``, one step at a time. With ``skip`` (quiet
    traffic, ``_quiet``) a step whose queues have nothing due (every head key after k: heap,
    FIFO and sorted keep their earliest event in slot 0, SENTINEL when empty) and nothing
    offered runs neither, behind one ``lax.cond``: pop and enqueue would change nothing, so
    the results are the same (tested). Profiled on (a), one queue, 1,200 steps, in one
    process: heap 1.28 -> 0.55 ms (adseq 1.15), sorted 0.63 -> 0.09 ms (adseq 0.69), FIFO 0.073
    -> 0.065 ms; at 10,000 queues a step always has work and the test would only add a
    reduction and a branch, so busy traffic runs every step unconditionally."""
    n = q.size.shape[0]
    lanes = jnp.arange(n, dtype=jnp.uint32)

    def work(q, counts, k, spike):
        q, h, p = pop(design, q, k, check=False)
        t = jnp.full(n, k + delay, jnp.int32)
        q = enqueue(design, q, t, t.astype(q.pay.dtype), spike, check=False)
        return q, _count(counts, tally, h, p, spike)

    def step(carry, k):
        q, counts = carry
        spike = (mix(k, lanes, seed) % jnp.uint32(interval)) == 0
        if not skip:
            return work(q, counts, k, spike), None
        busy = jnp.any(q.keys[:, 0] <= k) | jnp.any(spike)
        return lax.cond(busy, work, lambda q, c, *_: (q, c), q, counts, k, spike), None

    (q, counts), _ = lax.scan(
        step, (q, _zero_counts(n, q.pay.dtype, tally)), jnp.arange(1, n_steps + 1, dtype=jnp.int32)
    )
    return (q, *counts)


def _zero_counts(n: int, dtype, tally: str):
    """The loop's counters: (delivered [Q], payload sum [Q], offered [Q]) or (total,)."""
    if tally == "total":
        return (jnp.zeros((), jnp.int32),)
    zero = jnp.zeros(n, jnp.int32)
    return (zero, jnp.zeros(n, dtype), zero)


def _count(counts, tally: str, hits, pays, spike):
    if tally == "total":
        return (counts[0] + jnp.sum(hits, dtype=jnp.int32),)
    return (counts[0] + hits, counts[1] + pays, counts[2] + spike)


@register("queues", DESIGNS, "jax", entry="traffic", knobs=("tally",))
@partial(jax.jit, static_argnames=("design", "n_steps", "delay", "interval", "seed", "tally"))
def run_traffic(
    q: Queue,
    *,
    design: str,
    n_steps: int,
    delay: int,
    interval: int,
    seed: int = 0,
    tally: str = "queue",
):
    """The timed benchmark loop (a)-(d), (f): ``traffic`` with the queue state first."""
    return traffic(design, q, n_steps, delay, interval, seed, tally)


def _col(arr, s):
    """Slot s of a slot-major [S, Q] state."""
    return lax.dynamic_index_in_dim(arr, s, axis=0, keepdims=False)


def _set_col(arr, s, v):
    return lax.dynamic_update_index_in_dim(arr, v[None, :].astype(arr.dtype), s, axis=0)


def _slot_traffic(
    design: str, q: Queue, n_steps: int, delay: int, interval: int, seed: int, tally: str = "queue"
):
    """``traffic`` for ring and lossy, whose step k pops slot column k mod S of every queue and
    enqueues into column (k + delay) mod S: O(Q) work a step instead of passes over [Q, S].

    The columns a step reads are fetched at the end of the step before, after its writes, and
    carried: XLA's CPU backend updates a loop-carried array in place only when no column of it
    is read before it is written in the same iteration (a read-then-write step copied the whole
    [Q, S] state twice per step). The loop holds the state slot-major, [S, Q], so a column is
    contiguous (in [Q, S] each of the step's eight column accesses touched Q cache lines).
    Profiled on (b), 81 slots: 259 ms (passes over [Q, S]) -> 87 ms (in place) -> 15-17 ms
    (slot-major).
    Same results as popping and enqueueing through ``pop``/``enqueue`` (tested)."""
    pop_col, enq_col = SLOT_COLS[design]
    n, slots = q.keys.shape
    lanes = jnp.arange(n, dtype=jnp.uint32)
    same = delay % slots == 0  # the arrival lands in the column just popped

    def fetch(keys, pays, k):
        a, b = k % slots, (k + delay) % slots
        return _col(keys, a), _col(pays, a), _col(keys, b), _col(pays, b)

    def step(carry, k):
        keys, pays, (pk, pp, ek, ep), counts, dropped = carry
        pk, pp, h, o = pop_col(pk, pp, k)
        keys, pays = _set_col(keys, k % slots, pk), _set_col(pays, k % slots, pp)
        if same:
            ek, ep = pk, pp
        spike = (mix(k, lanes, seed) % jnp.uint32(interval)) == 0
        t = k + delay
        ek, ep, d = enq_col(ek, ep, t, t.astype(pays.dtype), spike)
        keys, pays = _set_col(keys, t % slots, ek), _set_col(pays, t % slots, ep)
        return (
            keys,
            pays,
            fetch(keys, pays, k + 1),
            _count(counts, tally, h, o, spike),
            dropped + d,
        ), None

    keys, pays = q.keys.T, q.pay.T
    init_ = (
        keys,
        pays,
        fetch(keys, pays, jnp.int32(1)),
        _zero_counts(n, q.pay.dtype, tally),
        jnp.zeros(n, jnp.int32),
    )
    (keys, pays, _, counts, dropped), _ = lax.scan(
        step, init_, jnp.arange(1, n_steps + 1, dtype=jnp.int32)
    )
    return (q._replace(keys=keys.T, pay=pays.T, dropped=q.dropped + dropped), *counts)


def _fifo_traffic(q: Queue, n_steps: int, delay: int, interval: int, seed: int, tally: str):
    """``traffic`` for the FIFO, circular inside the loop: a pop moves the head index (nothing
    written), an offer writes slot (head + size) mod C of the queues that take it, and the
    head's key and payload for the next step's pop are read at the end of the step, after the
    writes, and carried -- so the step reads neither [Q, C] array before writing it and XLA
    updates both in place. The head-aligned layout of ``fifo_pop`` shifted every slot on a
    pop: both arrays copied once a step besides the pass that updates them. The final state
    is rotated back to the head-aligned layout (head 0) once, after the loop: the same
    deliveries, drops, pending events and slots as ``pop``/``enqueue`` (tested).

    Timed against the head-aligned loop and adseq's FIFORing in one process (best of two
    medians of 21 calls): 10,000 queues, (d) C = 8, 16.0 -> 8.5 ms (adseq 12.1); (b) C = 4,
    34.0 -> 30.0 ms (adseq 42.2). Small states lose: one queue, C = 4, 0.071 -> 0.117 ms;
    C = 1 (no shift to save), 1.8 -> 2.5 ms. So ``traffic`` takes this loop only where
    Q * C exceeds ``DENSE_HEAP`` and C > 1."""
    n, cap = q.keys.shape
    lanes = jnp.arange(n, dtype=jnp.uint32)
    slot = jnp.arange(cap, dtype=jnp.int32)[None, :]

    def at_head(keys, pays, head):
        return _get(keys, head), _get(pays, head)

    def step(carry, k):
        keys, pays, head, size, (hk, hp), counts, dropped = carry
        hit = (size > 0) & (hk <= k)
        out = jnp.where(hit, hp, 0)
        head = jnp.where(hit, (head + 1) % cap, head)
        size = size - hit
        spike = (mix(k, lanes, seed) % jnp.uint32(interval)) == 0
        full = size >= cap
        w = (slot == ((head + size) % cap)[:, None]) & (spike & ~full)[:, None]
        t = k + delay
        keys = jnp.where(w, t, keys)
        pays = jnp.where(w, t.astype(pays.dtype), pays)
        size = size + (spike & ~full)
        return (
            keys,
            pays,
            head,
            size,
            at_head(keys, pays, head),
            _count(counts, tally, hit.astype(jnp.int32), out, spike),
            dropped + (spike & full),
        ), None

    head = jnp.zeros(n, jnp.int32)  # the head-aligned layout's head
    init_ = (
        q.keys,
        q.pay,
        head,
        q.size,
        at_head(q.keys, q.pay, head),
        _zero_counts(n, q.pay.dtype, tally),
        jnp.zeros(n, jnp.int32),
    )
    (keys, pays, head, size, _, counts, dropped), _ = lax.scan(
        step, init_, jnp.arange(1, n_steps + 1, dtype=jnp.int32)
    )
    src = (head[:, None] + slot) % cap  # back to head-aligned: slot j holds the j-th event
    held = slot < size[:, None]
    keys = jnp.where(held, jnp.take_along_axis(keys, src, axis=1), SENTINEL)
    pays = jnp.where(held, jnp.take_along_axis(pays, src, axis=1), 0)
    return (q._replace(keys=keys, pay=pays, size=size, dropped=q.dropped + dropped), *counts)
