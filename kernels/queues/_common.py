"""Shared by the JAX, PyTorch and reference spike event queues (docs/families/queues.md).

A queue holds pending arrivals of delayed spikes. Each event has an integer arrival step (the
key the queue orders by; empty slots hold SENTINEL) and a float payload: the arrival time in
steps, whose derivative w.r.t. weights and delays is the "arrival-time tangent" that travels
with the event through every move of the queue (so autodiff of the payload is the spec's
forward-mode rule, and its transpose the reverse-mode one).

Designs (every queue of a batch has the same design; the leading axis is the queue axis):

- heap (binary min-heap): keys[C] and size. Enqueue appends and sifts up; pop takes the root
  if it is due (<= now), moves the last event to the root and sifts down. Full: the NEW event
  is dropped.
- fifo (circular FIFO): keys[C], head, size. Enqueue writes at head + size; pop takes the head
  if due. Full: the NEW event is dropped. Assumes arrivals in time order (one queue per
  synapse with a fixed delay).
- ring (dense circular buffer): counts[D], D = max_delay + 1. Enqueue: counts[t mod D] += 1;
  pop delivers counts[now mod D] and zeroes it. Never drops; memory grows with the delay.
  Arrivals must lie 1 .. D steps after the pop of the step that enqueues them.
- sorted (sorted array): keys[C] ascending. Enqueue: if new < last, the new event replaces the
  last slot and the array is sorted. Pop takes keys[0] if due and shifts. Full: the LATEST
  pending event is evicted (or the new one is dropped when it is the latest).
- lossy (hashed ring): keys[C], slot t mod C. Enqueue overwrites the slot (a pending event
  there is lost); pop delivers slot now mod C if its key is now.

heap, fifo and sorted deliver at most one event per queue per step (a second event due at the
same step leaves a step later); ring and lossy deliver every event due at `now` (a count).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._checks import as_int

DESIGNS = ("heap", "fifo", "ring", "sorted", "lossy")
SENTINEL = np.iinfo(np.int32).max


def check_design(design: str) -> str:
    if design not in DESIGNS:
        raise ValueError(f"design={design!r} is not one of {', '.join(map(repr, DESIGNS))}")
    return design


def check_sizes(design: str, n_queues: int, capacity: int | None, max_delay: int | None):
    """Validate the static sizes; returns the slot count of the state (C, or D for ring)."""
    check_design(design)
    if isinstance(n_queues, bool) or int(n_queues) != n_queues or n_queues < 1:
        raise ValueError(f"n_queues must be an integer >= 1, got {n_queues!r}")
    if design == "ring":
        if (
            max_delay is None
            or isinstance(max_delay, bool)
            or int(max_delay) != max_delay
            or max_delay < 0
        ):
            raise ValueError(
                f"the ring needs max_delay, an integer >= 0 (steps), got {max_delay!r}"
            )
        return int(max_delay) + 1
    if capacity is None or isinstance(capacity, bool) or int(capacity) != capacity or capacity < 1:
        raise ValueError(f"capacity must be an integer >= 1, got {capacity!r}")
    return int(capacity)


def check_batch(queue_shape: tuple, **shapes) -> None:
    """Every per-queue argument must have the queue batch shape (static: free under jit)."""
    for name, shape in shapes.items():
        if tuple(shape) != tuple(queue_shape):
            raise ValueError(
                f"{name} has shape {tuple(shape)} but the queues are batched as "
                f"{tuple(queue_shape)}"
            )


def check_step_dtype(dtype) -> None:
    """Arrival steps are integers (static: free under jit); a float array is refused rather
    than truncated."""
    if np.dtype(str(dtype).replace("torch.", "")).kind not in "iu":
        raise ValueError(
            f"arrival steps must be integer step indices, got dtype {dtype} "
            f"(round (t + d) / dt first)"
        )


def sift_steps(capacity: int) -> int:
    """Static bound of a heap's sift loops: its height floor(log2(C)), the most swaps a sift
    can make (slot C - 1 is that many parent steps from the root; 0 for C = 1)."""
    return int(math.floor(math.log2(max(capacity, 1))))


def check_steps(name: str, steps) -> np.ndarray:
    """Integer step indices (ValueError for non-integers, negatives or out-of-range values)."""
    arr = np.asarray(steps)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"{name} must be integer step indices, got non-integer values")
    elif arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must be integer step indices, got dtype {arr.dtype}")
    if np.any(arr < 0) or np.any(arr >= SENTINEL):
        raise ValueError(f"{name} must lie in [0, {SENTINEL}), got {arr.min()}..{arr.max()}")
    return arr.astype(np.int64)


def check_ring_delays(delays, max_delay: int) -> None:
    """The ring holds arrivals at most max_delay steps ahead: delays in [0, max_delay]."""
    d = np.asarray(delays)
    if d.dtype.kind not in "iuf" or not np.all(np.isfinite(d)):
        raise ValueError(
            "delays must be finite numbers of steps (got NaN, inf or a "
            f"non-number of dtype {d.dtype})"
        )
    if np.any(d < 0):
        raise ValueError(f"delays must be >= 0 steps, got {d.min()}")
    if np.any(d > max_delay):
        raise ValueError(f"a delay of {d.max()} steps exceeds the ring's max_delay={max_delay}")


def check_traffic(design: str, slots: int, n_steps, delay, interval, seed) -> tuple:
    """The benchmark loop's arguments (concrete, checked before any tracing): every arrival
    k + delay must be a step the queue can hold -- after the pop of step k (delay >= 1), within
    the ring's window (delay <= max_delay + 1 = its slots), below SENTINEL -- so that the loop
    never delivers or drops an event without counting it. Returns them as Python ints."""
    check_design(design)
    n_steps = as_int("n_steps", n_steps, 0)
    delay = as_int("delay", delay, 1, slots if design == "ring" else None)
    interval = as_int("interval", interval, 1)
    seed = as_int("seed", seed, 0)
    if n_steps + delay >= SENTINEL:
        raise ValueError(
            f"n_steps + delay = {n_steps + delay} does not fit an int32 step "
            f"below SENTINEL = {SENTINEL}"
        )
    return n_steps, delay, interval, seed


# What the benchmark loop returns besides the final queues (``traffic(tally=...)``):
#   "queue": per-queue counters -- delivered [Q], payload sum [Q], offered [Q] -- from which
#            the row's check reads its sampled queues (the instrumented form);
#   "total": one scalar, the events delivered by all queues, as the EventQueues authors'
#            batched benchmark carries it (``total + out.sum()``): nothing per queue is
#            added to the loop, so a row of this form times the same work as the authors'.
TALLIES = ("queue", "total")


def check_tally(tally) -> str:
    """`tally` must be one of TALLIES (ValueError naming it)."""
    if tally not in TALLIES:
        raise ValueError(f"tally must be one of {TALLIES}, got {tally!r}")
    return tally


def check_offer(t, mask, now=None, slots: int | None = None) -> None:
    """Concrete arrival steps offered to ``enqueue`` (NumPy arrays): where mask is set, in
    [0, SENTINEL), and, when the caller says which step it is (`now`), after it -- and for the
    ring (`slots`) at most `slots` steps after it (later ones would alias a nearer slot)."""
    t, m = np.asarray(t), np.asarray(mask, bool)
    tt = t[m] if t.shape == m.shape else t[np.broadcast_to(m, t.shape)]
    if not tt.size:
        return
    if tt.min() < 0 or tt.max() >= SENTINEL:
        raise ValueError(f"arrival steps must lie in [0, {SENTINEL}), got {tt.min()}..{tt.max()}")
    if now is not None:
        n = np.broadcast_to(np.asarray(now), t.shape)[np.broadcast_to(m, t.shape)]
        if np.any(tt <= n):
            raise ValueError(
                f"arrival step {tt[tt <= n].min()} is not after now = "
                f"{n[tt <= n][0]}: the queue would deliver it late, or never"
            )
        if slots is not None and np.any(tt > n + slots):
            raise ValueError(
                f"arrival step {tt[tt > n + slots].max()} is more than the "
                f"ring's {slots} slots after now (max_delay = {slots - 1})"
            )


def check_payload(pay, mask) -> None:
    """Concrete payloads offered where mask is set are finite (a NaN payload would be
    delivered and summed into every later total)."""
    p, m = np.asarray(pay), np.asarray(mask, bool)
    bad = ~np.isfinite(p) & np.broadcast_to(m, p.shape)
    if np.any(bad):
        k = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"payload {p[k]} at index {k[0] if len(k) == 1 else k} is not finite")


def check_now(now) -> None:
    """A concrete pop step: an integer (a float is refused rather than truncated) in
    [0, SENTINEL)."""
    arr = np.asarray(now)
    if isinstance(now, (bool, np.bool_)) or arr.dtype.kind not in "iu":
        raise ValueError(f"now must be an integer step index, got {now!r} (dtype {arr.dtype})")
    if arr.size and (arr.min() < 0 or arr.max() >= SENTINEL):
        raise ValueError(f"now must lie in [0, {SENTINEL}), got {arr.min()}..{arr.max()}")


# Benchmark traffic: queue q spikes at step k when mix(k, q, seed) % interval == 0, a
# Bernoulli(1/interval) stream that JAX (uint32), PyTorch (int64 & mask) and NumPy compute
# bit-identically, so every implementation sees the very same spikes without storing a
# [steps, queues] array.
MIX = (0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x2C1B3C6D, 0x297A2D39)
MASK32 = 0xFFFFFFFF


def mix_numpy(k, q, seed: int) -> np.ndarray:
    """The traffic hash in NumPy (uint64 arithmetic reduced mod 2^32)."""
    k, q = np.asarray(k, np.uint64), np.asarray(q, np.uint64)
    x = (
        k * np.uint64(MIX[0]) + q * np.uint64(MIX[1]) + np.uint64(seed * MIX[2] & MASK32)
    ) & np.uint64(MASK32)
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(MIX[3])) & np.uint64(MASK32)
    x ^= x >> np.uint64(12)
    x = (x * np.uint64(MIX[4])) & np.uint64(MASK32)
    x ^= x >> np.uint64(15)
    return x


def pending_numpy(design: str, keys, size) -> np.ndarray:
    """Events held per queue, from a state's keys [Q, S] and size [Q] (NumPy)."""
    keys = np.asarray(keys)
    if design == "ring":
        return keys.sum(axis=1)
    if design in ("heap", "fifo"):
        return np.asarray(size)
    return (keys != SENTINEL).sum(axis=1)


class NetParams(NamedTuple):
    """Static network parameters (ms unless stated)."""

    dt: float = 0.025
    tau_mem: float = 10.0
    tau_syn: float = 2.0
    theta: float = 1.0
    i_ext: float = 1.0  # input current (theta / ms) while t < t_ext
    t_ext: float = 2.0
    n_steps: int = 10_000
