"""Plain Python reference queues (one object per queue, event by event): a ``heapq``, a
``deque``, a dict of lists and a sorted list, with each design's drop policy written out
literally. The kernels must deliver exactly what these deliver on the same enqueue / pop
sequence."""

from __future__ import annotations

import bisect
import heapq
from collections import deque

import numpy as np

from ._common import check_design, mix_numpy


class RefQueue:
    """One queue of `design`; `enqueue(t, pay)` and `pop(now) -> (hits, pay_sum)`."""

    def __init__(self, design: str, capacity: int | None = None, max_delay: int | None = None):
        self.design = check_design(design)
        self.cap = capacity
        self.slots = (max_delay + 1) if design == "ring" else capacity
        self.dropped = 0
        self.items: list = []  # heap: [(t, pay)], sorted: [(t, seq, pay)]
        self.fifo: deque = deque()
        self.table: dict = {}  # ring: t -> [pay...]; lossy: slot -> (t, pay)
        self.seq = 0

    def enqueue(self, t: int, pay: float) -> None:
        d = self.design
        if d == "heap":
            if len(self.items) >= self.cap:
                self.dropped += 1
            else:
                heapq.heappush(self.items, (t, pay))
        elif d == "fifo":
            if len(self.fifo) >= self.cap:
                self.dropped += 1
            else:
                self.fifo.append((t, pay))
        elif d == "ring":
            self.table.setdefault(t, []).append(pay)
        elif d == "sorted":
            if len(self.items) >= self.cap:
                self.dropped += 1  # the new event or the latest pending one
                if t < self.items[-1][0]:
                    self.items.pop()
                else:
                    return
            keys = [k for k, _, _ in self.items]
            self.items.insert(bisect.bisect_right(keys, t), (t, self.seq, pay))
            self.seq += 1
        else:  # lossy
            slot = t % self.cap
            if slot in self.table:
                self.dropped += 1
            self.table[slot] = (t, pay)

    def pop(self, now: int) -> tuple[int, float]:
        d = self.design
        if d == "heap":
            if self.items and self.items[0][0] <= now:
                return 1, heapq.heappop(self.items)[1]
        elif d == "fifo":
            if self.fifo and self.fifo[0][0] <= now:
                return 1, self.fifo.popleft()[1]
        elif d == "ring":
            pays = self.table.pop(now, [])
            return len(pays), float(sum(pays))
        elif d == "sorted":
            if self.items and self.items[0][0] <= now:
                return 1, self.items.pop(0)[2]
        else:
            slot = now % self.cap
            if slot in self.table and self.table[slot][0] == now:
                return 1, self.table.pop(slot)[1]
        return 0, 0.0

    def pending(self) -> int:
        if self.design == "ring":
            return sum(len(v) for v in self.table.values())
        if self.design == "lossy":
            return len(self.table)
        return len(self.fifo) if self.design == "fifo" else len(self.items)


def traffic_reference(
    design: str,
    lanes,
    *,
    n_steps: int,
    delay: int,
    interval: int,
    capacity: int | None,
    max_delay: int | None,
    seed: int = 0,
) -> dict:
    """The benchmark loop on the plain-Python reference queues of `lanes`: per step k = 1 ..
    n_steps, pop(k) then, where queue q spikes, enqueue(k + delay) with payload k + delay."""
    lanes = list(lanes)
    refs = [RefQueue(design, capacity, max_delay) for _ in lanes]
    steps = np.arange(1, n_steps + 1)
    spikes = {q: steps[mix_numpy(steps, q, seed) % np.uint64(interval) == 0] for q in lanes}
    hits, pays, sent = np.zeros(len(lanes), np.int64), np.zeros(len(lanes)), 0
    for i, (q, r) in enumerate(zip(lanes, refs, strict=True)):
        todo = set(spikes[q].tolist())
        for k in range(1, n_steps + 1):
            h, p = r.pop(k)
            hits[i] += h
            pays[i] += p
            if k in todo:
                r.enqueue(k + delay, float(k + delay))
        sent += len(todo)
    return {
        "delivered": hits,
        "pay_sum": pays,
        "dropped": np.array([r.dropped for r in refs]),
        "pending": np.array([r.pending() for r in refs]),
        "enqueued": np.array([len(spikes[q]) for q in lanes]),
    }
