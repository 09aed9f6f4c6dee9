"""PyTorch: batched spike event queues — heap, FIFO, dense ring, sorted array, lossy ring.

A translation of ``_jax.py`` (same names, arguments and state; the designs are described there
and in ``_common``). Divergences: updates are out-of-place ``index_put`` (so autograd sees the
payload's every move), ``torch.sort(stable=True)`` replaces ``argsort``, the batch is
always the explicit leading queue axis (no vmap), and the FIFO stays circular (its ``head``
moves; the JAX twin's is head-aligned: the same deliveries, drops and pending counts, not the
same slot layout).

In-place ring: eager PyTorch cannot reuse a buffer the way XLA does inside ``lax.scan``, so an
out-of-place update of the dense ring copies its whole [Q, max_delay + 1] buffer, twice per
step. ``enqueue``/``pop`` with ``inplace=True`` hand the queue over to the call, and the ring
then updates its two buffers in place with ``index_put_`` (no operation saves the old buffer
for its backward, so autograd and ``torch.func.jvp`` accept it). The loops (``traffic``, the
network) use it: without it a reverse-mode pass over 10,000 ring queues of 281 slots churned
11 MB buffers through glibc's heap until the process held 7-22 GB. The other designs hold
``capacity`` slots and stay out-of-place (``inplace`` changes nothing for them).

All operations are branch-free with static shapes and static loop bounds.

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

from functools import cache, partial
from typing import NamedTuple

import torch

from ...registry import register
from .._torch_compile import compile_step
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
    keys: torch.Tensor
    pay: torch.Tensor
    head: torch.Tensor
    size: torch.Tensor
    dropped: torch.Tensor


def init(
    design: str,
    n_queues: int,
    capacity: int | None = None,
    max_delay: int | None = None,
    dtype=torch.float32,
    device=None,
) -> Queue:
    """Empty queues: capacity slots each (ring: max_delay + 1 count slots), payloads of
    `dtype` (a name or a torch dtype), on `device`."""
    slots = check_sizes(design, n_queues, capacity, max_delay)
    fill = 0 if design == "ring" else SENTINEL
    dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
    zeros = torch.zeros(n_queues, dtype=torch.int32, device=device)
    return Queue(
        torch.full((n_queues, slots), fill, dtype=torch.int32, device=device),
        torch.zeros((n_queues, slots), dtype=dtype, device=device),
        zeros,
        zeros,
        zeros,
    )


def _rows(q):
    return torch.arange(q.keys.shape[0], device=q.keys.device)


def _less(ka, pa, kb, pb):
    """(ka, pa) < (kb, pb) lexicographically."""
    return (ka < kb) | ((ka == kb) & (pa < pb))


def _put(arr, rows, idx, val):
    return arr.index_put(
        (rows, idx), torch.as_tensor(val, dtype=arr.dtype, device=arr.device).expand(rows.shape)
    )


def _where(c, a, b):
    return torch.where(c, a, b)


def _sent(like):
    return torch.full_like(like, SENTINEL)


# -- heap --------------------------------------------------------------------------------------


def heap_enqueue(q: Queue, t, pay, mask) -> Queue:
    cap = q.keys.shape[1]
    rows = _rows(q)
    full = q.size >= cap
    do = mask & ~full
    pos = torch.clamp(q.size, max=cap - 1).long()
    keys = _put(q.keys, rows, pos, _where(do, t, q.keys[rows, pos]))
    pays = _put(q.pay, rows, pos, _where(do, pay, q.pay[rows, pos]))
    for _ in range(sift_steps(cap)):  # sift up, a static number of levels
        parent = torch.clamp(torch.div(pos - 1, 2, rounding_mode="floor"), min=0)
        kc, pc, kp, pp = keys[rows, pos], pays[rows, pos], keys[rows, parent], pays[rows, parent]
        swap = do & (pos > 0) & _less(kc, pc, kp, pp)
        keys = _put(_put(keys, rows, pos, _where(swap, kp, kc)), rows, parent, _where(swap, kc, kp))
        pays = _put(_put(pays, rows, pos, _where(swap, pp, pc)), rows, parent, _where(swap, pc, pp))
        pos = _where(swap, parent, pos)
    return Queue(keys, pays, q.head, q.size + do, q.dropped + (mask & full))


def heap_pop(q: Queue, now):
    cap = q.keys.shape[1]
    rows = _rows(q)
    hit = (q.size > 0) & (q.keys[:, 0] <= now)
    out = _where(hit, q.pay[:, 0], torch.zeros_like(q.pay[:, 0]))
    last = torch.clamp(q.size - 1, min=0).long()
    k_last, p_last = q.keys[rows, last], q.pay[rows, last]
    keys = _put(q.keys, rows, last, _where(hit, _sent(k_last), k_last))
    pays = _put(q.pay, rows, last, _where(hit, torch.zeros_like(p_last), p_last))
    move = hit & (last > 0)
    zero = torch.zeros_like(last)
    keys = _put(keys, rows, zero, _where(move, k_last, keys[:, 0]))
    pays = _put(pays, rows, zero, _where(move, p_last, pays[:, 0]))
    pos = zero
    for _ in range(sift_steps(cap)):  # sift down
        left, right = 2 * pos + 1, 2 * pos + 2
        lc, rc = torch.clamp(left, max=cap - 1), torch.clamp(right, max=cap - 1)
        kl = _where(left < cap, keys[rows, lc], _sent(keys[rows, lc]))
        kr = _where(right < cap, keys[rows, rc], _sent(keys[rows, rc]))
        pl, pr = pays[rows, lc], pays[rows, rc]
        take_r = _less(kr, pr, kl, pl)
        child = _where(take_r, rc, lc)
        kc, pc = _where(take_r, kr, kl), _where(take_r, pr, pl)
        kp, pp = keys[rows, pos], pays[rows, pos]
        swap = move & _less(kc, pc, kp, pp)
        keys = _put(_put(keys, rows, child, _where(swap, kp, kc)), rows, pos, _where(swap, kc, kp))
        pays = _put(_put(pays, rows, child, _where(swap, pp, pc)), rows, pos, _where(swap, pc, pp))
        pos = _where(swap, child, pos)
    return Queue(keys, pays, q.head, q.size - hit.int(), q.dropped), hit.int(), out


# -- FIFO --------------------------------------------------------------------------------------


def fifo_enqueue(q: Queue, t, pay, mask) -> Queue:
    cap = q.keys.shape[1]
    rows = _rows(q)
    full = q.size >= cap
    do = mask & ~full
    idx = ((q.head + q.size) % cap).long()
    keys = _put(q.keys, rows, idx, _where(do, t, q.keys[rows, idx]))
    pays = _put(q.pay, rows, idx, _where(do, pay, q.pay[rows, idx]))
    return Queue(keys, pays, q.head, q.size + do.int(), q.dropped + (mask & full).int())


def fifo_pop(q: Queue, now):
    cap = q.keys.shape[1]
    rows = _rows(q)
    head = q.head.long()
    k = q.keys[rows, head]
    hit = (q.size > 0) & (k <= now)
    p = q.pay[rows, head]
    out = _where(hit, p, torch.zeros_like(p))
    keys = _put(q.keys, rows, head, _where(hit, _sent(k), k))
    pays = _put(q.pay, rows, head, _where(hit, torch.zeros_like(p), p))
    new_head = _where(hit, (q.head + 1) % cap, q.head)
    return Queue(keys, pays, new_head, q.size - hit.int(), q.dropped), hit.int(), out


# -- dense ring --------------------------------------------------------------------------------


def _own(q: Queue, inplace: bool) -> Queue:
    return q if inplace else q._replace(keys=q.keys.clone(), pay=q.pay.clone())


def ring_enqueue(q: Queue, t, pay, mask, inplace: bool = False) -> Queue:
    """The caller guarantees now < t <= now + max_delay + 1 (checked where delays are set)."""
    q = _own(q, inplace)
    idx = (_rows(q), (t % q.keys.shape[1]).long())
    q.keys.index_put_(idx, mask.to(q.keys.dtype), accumulate=True)
    q.pay.index_put_(idx, _where(mask, pay, torch.zeros_like(pay)), accumulate=True)
    return q


def ring_pop(q: Queue, now, inplace: bool = False):
    q = _own(q, inplace)
    slot = (
        (torch.as_tensor(now, device=q.keys.device) % q.keys.shape[1]).long().expand(q.size.shape)
    )
    idx = (_rows(q), slot)
    count, out = q.keys[idx], q.pay[idx]  # advanced indexing: copies
    q.keys.index_put_(idx, torch.zeros_like(count))
    q.pay.index_put_(idx, torch.zeros_like(out))
    return q, count, out


# -- sorted array ------------------------------------------------------------------------------


def sorted_enqueue(q: Queue, t, pay, mask) -> Queue:
    last = q.keys[:, -1]
    accept = mask & (t < last)
    keys = torch.cat([q.keys[:, :-1], _where(accept, t, last)[:, None]], 1)
    pays = torch.cat([q.pay[:, :-1], _where(accept, pay, q.pay[:, -1])[:, None]], 1)
    keys, order = torch.sort(keys, dim=1, stable=True)  # the new event goes after equal keys
    pays = torch.gather(pays, 1, order)
    # full: either the new event or the evicted latest one is lost
    return Queue(keys, pays, q.head, q.size, q.dropped + (mask & (last != SENTINEL)).int())


def sorted_pop(q: Queue, now):
    hit = q.keys[:, 0] <= now
    out = _where(hit, q.pay[:, 0], torch.zeros_like(q.pay[:, 0]))
    shifted_k = torch.cat([q.keys[:, 1:], _sent(q.keys[:, :1])], 1)
    shifted_p = torch.cat([q.pay[:, 1:], torch.zeros_like(q.pay[:, :1])], 1)
    keys = _where(hit[:, None], shifted_k, q.keys)
    pays = _where(hit[:, None], shifted_p, q.pay)
    return Queue(keys, pays, q.head, q.size, q.dropped), hit.int(), out


# -- lossy ring --------------------------------------------------------------------------------


def lossy_enqueue(q: Queue, t, pay, mask) -> Queue:
    rows = _rows(q)
    slot = (t % q.keys.shape[1]).long()
    old, old_p = q.keys[rows, slot], q.pay[rows, slot]
    keys = _put(q.keys, rows, slot, _where(mask, t, old))
    pays = _put(q.pay, rows, slot, _where(mask, pay, old_p))
    return Queue(keys, pays, q.head, q.size, q.dropped + (mask & (old != SENTINEL)).int())


def lossy_pop(q: Queue, now):
    rows = _rows(q)
    slot = (
        (torch.as_tensor(now, device=q.keys.device) % q.keys.shape[1]).long().expand(q.size.shape)
    )
    k, p = q.keys[rows, slot], q.pay[rows, slot]
    hit = k == now
    out = _where(hit, p, torch.zeros_like(p))
    keys = _put(q.keys, rows, slot, _where(hit, _sent(k), k))
    pays = _put(q.pay, rows, slot, _where(hit, torch.zeros_like(p), p))
    return Queue(keys, pays, q.head, q.size, q.dropped), hit.int(), out


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


def enqueue(
    design: str, q: Queue, t, pay, mask, *, now=None, check: bool = True, inplace: bool = False
) -> Queue:
    """Offer arrival step t [Q] (integer) with payload pay [Q] where mask [Q] is set.
    ``inplace=True``: q is handed over and may be updated in place (see the module doc).

    Checked (``check=True``): arrival steps must lie in [0, SENTINEL) and, when the caller
    passes the current step `now`, after it (ring: at most max_delay + 1 steps after it),
    else ValueError (``_common.check_offer``; PyTorch is eager, so every value is concrete;
    JAX counts violations inside jit instead). The benchmark loops, whose arrivals are valid
    by construction, pass ``check=False`` (the check reads the tensors back to the host).
    Payloads must be finite."""
    t, pay, mask = (
        x if isinstance(x, torch.Tensor) else torch.as_tensor(x) for x in (t, pay, mask)
    )
    check_batch(tuple(q.size.shape), t=tuple(t.shape), pay=tuple(pay.shape), mask=tuple(mask.shape))
    check_step_dtype(t.dtype)
    design = check_design(design)
    if check:
        check_offer(
            t.cpu().numpy(),
            mask.to(torch.bool).cpu().numpy(),
            None if now is None else torch.as_tensor(now).cpu().numpy(),
            q.keys.shape[1] if design == "ring" else None,
        )
        check_payload(pay.detach().cpu().numpy(), mask.to(torch.bool).cpu().numpy())
    args = (q, t.to(torch.int32), pay.to(q.pay.dtype), mask.to(torch.bool))
    if design == "ring":
        return ring_enqueue(*args, inplace=inplace)
    return ENQUEUE[design](*args)


def pop(design: str, q: Queue, now, *, check: bool = True, inplace: bool = False):
    """Deliver what is due at step `now` (an integer scalar or [Q]): (q, hits [Q], payload
    sum [Q]). ``inplace=True``: q is handed over and may be updated in place (see the module
    doc). Checked: `now` must be an integer in [0, SENTINEL) (a float is refused, not
    truncated)."""
    if tuple(getattr(now, "shape", ())) not in ((), tuple(q.size.shape)):
        check_batch(tuple(q.size.shape), now=tuple(now.shape))
    if check:
        check_now(now.cpu().numpy() if isinstance(now, torch.Tensor) else now)
    now = torch.as_tensor(now, dtype=torch.int32, device=q.keys.device)
    if design == "ring":
        return ring_pop(q, now, inplace=inplace)
    return POP[check_design(design)](q, now)


def pending(design: str, q: Queue):
    """Events held per queue."""
    check_design(design)
    if design == "ring":
        return torch.sum(q.keys, dim=1)
    if design in ("heap", "fifo"):
        return q.size
    return torch.sum(q.keys != SENTINEL, dim=1).to(torch.int32)


def count(x, dim=None):
    """Sum of integer counts (or booleans) as int32."""
    return (
        torch.sum(x, dtype=torch.int32) if dim is None else torch.sum(x, dim=dim, dtype=torch.int32)
    )


# -- the benchmark loop (spec section 5 a-d, f) ---------------------------------------------


def mix(k, q, seed: int):
    """The traffic hash of ``_common.mix_numpy`` in int64 arithmetic masked to 32 bits
    (PyTorch has no uint32 multiply)."""
    m = 0xFFFFFFFF
    x = (k * MIX[0] + q * MIX[1] + (seed * MIX[2] & m)) & m
    x = x ^ (x >> 15)
    x = (x * MIX[3]) & m
    x = x ^ (x >> 12)
    x = (x * MIX[4]) & m
    return x ^ (x >> 15)


def _loop_start(design: str, q: Queue, n_steps, delay, interval, seed, tally="queue"):
    """The benchmark loop's checked arguments, lane indices and zeroed counters (``_jax``'s
    ``_zero_counts``: hits, payload sums, offers; or the one total)."""
    checked = check_traffic(design, q.keys.shape[1], n_steps, delay, interval, seed)
    check_tally(tally)
    n, dev = q.size.shape[0], q.keys.device
    if tally == "total":
        counts = (torch.zeros((), dtype=torch.int32, device=dev),)
    else:
        hits = torch.zeros(n, dtype=torch.int32, device=dev)
        counts = (hits, torch.zeros(n, dtype=q.pay.dtype, device=dev), torch.zeros_like(hits))
    return checked, torch.arange(n, dtype=torch.int64, device=dev), counts


def _count(counts, tally: str, hits, pays, spike):
    if tally == "total":
        return (counts[0] + hits.sum(dtype=torch.int32),)
    return (counts[0] + hits, counts[1] + pays, counts[2] + spike.int())


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
    ``tally="total"``. The arguments are checked first (``check_traffic``)."""
    (n_steps, delay, interval, seed), lanes, counts = _loop_start(
        design, q, n_steps, delay, interval, seed, tally
    )
    q = _own(q, False)  # one copy per call; then the loop owns its queue
    for k in range(1, n_steps + 1):
        q, h, p = pop(design, q, k, check=False, inplace=True)
        spike = (mix(k, lanes, seed) % interval) == 0
        t = torch.full(q.size.shape, k + delay, dtype=torch.int32, device=q.keys.device)
        q = enqueue(design, q, t, t.to(q.pay.dtype), spike, check=False, inplace=True)
        counts = _count(counts, tally, h, p, spike)
    return (q, *counts)


@register("queues", DESIGNS, "torch", entry="traffic", devices=("cpu", "gpu"), knobs=("tally",))
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


# -- compiled PyTorch: the same loop with a torch.compile'd step ------------------------------


def _step(
    q: Queue, counts, lanes, k, *, design: str, delay: int, interval: int, seed: int, tally: str
):
    """One step of ``traffic`` (pop(k), then the spiking queues enqueue k + delay), with k a
    0-d int64 tensor so that one compiled graph serves every step. Out of place: inductor
    plans the buffers itself (the ring's in-place updates compiled to 327 ms on (b), out of
    place 220 ms)."""
    q, h, p = pop(design, q, k, check=False)
    spike = (mix(k, lanes, seed) % interval) == 0
    t = torch.zeros_like(q.size) + (k + delay).to(torch.int32)
    q = enqueue(design, q, t, t.to(q.pay.dtype), spike, check=False)
    return q, _count(counts, tally, h, p, spike)


@cache
def compiled_step(design: str, delay: int, interval: int, seed: int, tally: str = "queue"):
    """``_step`` through torch.compile (inductor, ``compile_step``), one per (design, delay,
    interval, seed, tally); shapes and dtypes are guarded and static, so a new queue size
    compiles a new graph once (dynamic shapes generated C++ that did not compile, torch 2.13:
    '&' on floats)."""
    return compile_step(
        partial(_step, design=design, delay=delay, interval=interval, seed=seed, tally=tally)
    )


def _ring_core(hits, pays, counts, lanes, k, *, delay: int, interval: int, seed: int, tally: str):
    """The compiled part of a dense ring's step in ``_ring_traffic_compiled``: given the
    popped slot's counts and payload sums (this step's deliveries), what the spiking queues
    add to the arrival slot (one event of payload k + delay each) and the counters."""
    spike = (mix(k, lanes, seed) % interval) == 0
    add_k = spike.to(torch.int32)
    add_p = torch.where(spike, (k + delay).to(pays.dtype), torch.zeros_like(pays))
    return add_k, add_p, _count(counts, tally, hits, pays, spike)


@cache
def compiled_ring_core(delay: int, interval: int, seed: int, tally: str = "queue"):
    """``_ring_core`` through torch.compile (``compile_step``), one per (delay, interval,
    seed, tally)."""
    return compile_step(partial(_ring_core, delay=delay, interval=interval, seed=seed, tally=tally))


def _ring_traffic_compiled(
    q: Queue, counts, lanes, n_steps: int, delay: int, interval, seed, tally
):
    """The dense ring's compiled traffic loop as a slot update: at step k every queue pops
    slot k mod S and the spiking ones add to slot (k + delay) mod S -- the same slot of every
    queue, so with the buffers slot-major ([S, Q], transposed once before and after the
    loop) a pop is one contiguous row read and cleared and an arrival one row added to, in
    place, outside the graph; the compiled graph (``compiled_ring_core``) holds the hash,
    the arrival row's values and the counters. The per-queue scatter of ``ring_pop`` /
    ``ring_enqueue`` made inductor copy both [Q, S] buffers every step (functional
    ``index_put`` on a graph input): 10,000 queues, 400 steps, 81 slots, 2 threads, in one
    process: 198 -> 40 ms."""
    keys, pay = q.keys.t().contiguous(), q.pay.t().contiguous()
    slots = keys.shape[0]
    core = compiled_ring_core(delay, interval, seed, tally)
    steps = torch.arange(1, n_steps + 1, dtype=torch.int64, device=keys.device)
    for k in range(1, n_steps + 1):
        pop, arrive = k % slots, (k + delay) % slots  # delay <= max_delay < slots: never equal
        hits, pays = keys[pop].clone(), pay[pop].clone()
        keys[pop].zero_()
        pay[pop].zero_()
        add_k, add_p, counts = core(hits, pays, counts, lanes, steps[k - 1])
        keys[arrive].add_(add_k)
        pay[arrive].add_(add_p)
    return q._replace(keys=keys.t().contiguous(), pay=pay.t().contiguous()), counts


@register(
    "queues", DESIGNS, "torch-compile", entry="traffic", devices=("cpu", "gpu"), knobs=("tally",)
)
def run_traffic_compiled(
    q: Queue,
    *,
    design: str,
    n_steps: int,
    delay: int,
    interval: int,
    seed: int = 0,
    tally: str = "queue",
):
    """``run_traffic`` with the loop body compiled (``compiled_step``) and the loop over steps
    in Python: dynamo would unroll the whole loop (n_steps copies of the step) into one graph.
    The torch-compile framework calls it as is (``compiles_inside``); its first call, which
    compiles, is the row's compile_s."""
    (n_steps, delay, interval, seed), lanes, counts = _loop_start(
        design, q, n_steps, delay, interval, seed, tally
    )
    # every field its own tensor (init shares one zeros tensor between head, size and dropped;
    # the step's outputs never alias): one set of guards, no recompiles after the first step
    q = Queue(*(x.clone() for x in q))
    if design == "ring":
        q, counts = _ring_traffic_compiled(q, counts, lanes, n_steps, delay, interval, seed, tally)
        return (q, *counts)
    step = compiled_step(design, delay, interval, seed, tally)
    steps = torch.arange(1, n_steps + 1, dtype=torch.int64, device=q.keys.device)
    for k in steps:
        q, counts = step(q, counts, lanes, k)
    return (q, *counts)


run_traffic_compiled.compiles_inside = True
run_traffic_compiled.speed_note = (
    "compiled a step at a time: torch.compile has no compiled loop on this backend that "
    "keeps the queue state in place (torch's while_loop carries copies of it, unrolling "
    "compiles every step), so each of the loop's steps pays a compiled call's dispatch "
    "(~20 us on a 2-core CPU: guards, wrapper) besides its work"
)
