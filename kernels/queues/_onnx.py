"""ONNX (the LPU path): the five queue designs in operations that export to a clean graph,
and the host loops that run the exported chunk graphs (docs/guide/devices.md,
docs/families/queues.md).

The same designs, state and results as ``_torch.py`` (same names: ``init``, ``enqueue``,
``pop``, ``pending``), written for export rather than for eager speed:

- a slot is chosen by a one-hot mask over the (small, static) slot axis, ``slots == idx``,
  instead of a gather or scatter: reads are ``sum(where(onehot, x, 0))``, writes
  ``where(onehot, value, x)``. Dense, branch-free, 32-bit, and no int64 index tensor (ONNX's
  ScatterND/GatherND want int64 indices, which the LPU does not take).
- no integer division: the heap's parent index comes from a constant table, the FIFO's wrap is
  a conditional subtraction (head + size < 2 C), and the rings' ``t mod S`` is
  ``t - S floor((t + 1/2) / S)`` in float32 with a correction step, exact for steps below
  2^23 (the host loop checks T + delay against it).
- the sorted design inserts by rank (the count of pending keys <= the new key) and shifts the
  tail, since ONNX has no stable sort; the result equals ``_torch``'s stable sort.

``TrafficChunk`` and ``NetworkChunk`` are the step functions over a chunk of K unrolled steps,
with the carry as inputs and outputs; ``traffic_program`` and ``network_program`` export them
(``spikebench.hardware.onnx_backend.export``: opset 16, LPU lint) and return the host loop, which
feeds each chunk its inputs and the previous carry. The traffic's Bernoulli spikes (the hash of
``_common.mix_numpy``, the same spikes as every other implementation) are computed on the
host per chunk and passed in as a [K, Q] mask: the hash needs 32-bit unsigned products that
the graph would have to do in int64.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx  # noqa: F401 - torch.onnx.export needs it (the registry notes its absence)
import torch

from ...hardware.onnx_backend import export, graph_folder, make_runner, own_graphs
from ...registry import register
from ._common import (
    DESIGNS,
    SENTINEL,
    check_design,
    check_sizes,
    check_traffic,
    mix_numpy,
    sift_steps,
)
from ._torch import Queue, init  # the same state as the PyTorch queues

MAX_STEP = 2**23  # _mod is exact below this
CHUNK = 20  # default steps per graph call


# -- one-hot slot operations -------------------------------------------------------------------


def _i(v: int):
    """An int32 constant: comparing an int32 tensor with a Python int makes the TorchScript
    exporter widen both sides to int64."""
    return torch.tensor(v, dtype=torch.int32)


def _slots(q: Queue):
    """[1, S]: the slot indices, a constant of the graph."""
    return torch.tensor([list(range(q.keys.shape[1]))], dtype=torch.int32)


def _hot(idx, slots):
    """[Q, S] (or [1, S] for a scalar idx) mask of the slot idx."""
    return slots == idx.reshape(-1, 1)


def _take(x, hot):
    """x[q, idx[q]] for the one-hot mask of idx (integers: a max, since the TorchScript
    exporter widens integer sums to int64)."""
    if x.dtype.is_floating_point:
        return torch.sum(torch.where(hot, x, torch.zeros((), dtype=x.dtype)), dim=1)
    low = torch.full((), torch.iinfo(x.dtype).min, dtype=x.dtype)
    return torch.amax(torch.where(hot, x, low), dim=1)


def count(x, dim=None):
    """Sum of small non-negative integers (or booleans) as int32, through float32: exact below
    2^24, and without the int64 that an integer sum exports to."""
    x = x.to(torch.float32)
    return (torch.sum(x) if dim is None else torch.sum(x, dim=dim)).to(torch.int32)


def _col(v):
    return v.reshape(-1, 1)


def _mod(x, m: int):
    """x mod m for integer steps 0 <= x < 2^23, without integer division."""
    q = torch.floor((x.to(torch.float32) + 0.5) * (1.0 / m)).to(torch.int32)
    r = x - q * m
    r = torch.where(r < _i(0), r + m, r)
    return torch.where(r >= _i(m), r - m, r)


def _pick(c, a, b):
    """where(c, a, b) for boolean a, b (ONNX Runtime has no boolean Where)."""
    return (c & a) | (~c & b)


def _less(ka, pa, kb, pb):
    return (ka < kb) | ((ka == kb) & (pa < pb))


def _swap(x, hot_a, hot_b, a, b, do):
    """Write b at slot a and a at slot b where do."""
    d = _col(do)
    return torch.where(hot_a & d, _col(b), torch.where(hot_b & d, _col(a), x))


# -- heap --------------------------------------------------------------------------------------


def heap_enqueue(q: Queue, t, pay, mask) -> Queue:
    cap = q.keys.shape[1]
    s = _slots(q)
    parent_of = torch.tensor([[max((i - 1) // 2, 0) for i in range(cap)]], dtype=torch.int32)
    full = q.size >= _i(cap)
    do = mask & ~full
    pos = torch.clamp(q.size, max=cap - 1)
    hot = _hot(pos, s)
    keys = torch.where(hot & _col(do), _col(t), q.keys)
    pays = torch.where(hot & _col(do), _col(pay), q.pay)
    for _ in range(sift_steps(cap)):  # sift up
        parent = _take(parent_of.expand_as(keys), hot)
        hot_p = _hot(parent, s)
        kc, pc, kp, pp = _take(keys, hot), _take(pays, hot), _take(keys, hot_p), _take(pays, hot_p)
        swap = do & (pos > _i(0)) & _less(kc, pc, kp, pp)
        keys = _swap(keys, hot, hot_p, kc, kp, swap)
        pays = _swap(pays, hot, hot_p, pc, pp, swap)
        pos = torch.where(swap, parent, pos)
        hot = _pick(_col(swap), hot_p, hot)
    return Queue(
        keys, pays, q.head, q.size + do.to(torch.int32), q.dropped + (mask & full).to(torch.int32)
    )


def heap_pop(q: Queue, now):
    cap = q.keys.shape[1]
    s = _slots(q)
    sent = torch.full_like(q.keys, SENTINEL)
    zero = torch.zeros_like(q.pay)
    hit = (q.size > _i(0)) & (q.keys[:, 0] <= now)
    out = torch.where(hit, q.pay[:, 0], zero[:, 0])
    last = torch.clamp(q.size - 1, min=0)
    hot_l = _hot(last, s)
    k_last, p_last = _take(q.keys, hot_l), _take(q.pay, hot_l)
    keys = torch.where(hot_l & _col(hit), sent, q.keys)
    pays = torch.where(hot_l & _col(hit), zero, q.pay)
    move = hit & (last > _i(0))
    root = (s == _i(0)).expand_as(keys)
    keys = torch.where(root & _col(move), _col(k_last), keys)
    pays = torch.where(root & _col(move), _col(p_last), pays)
    pos, hot = torch.zeros_like(last), root
    for _ in range(sift_steps(cap)):  # sift down
        left, right = 2 * pos + 1, 2 * pos + 2
        hot_lc = _hot(torch.clamp(left, max=cap - 1), s)
        hot_rc = _hot(torch.clamp(right, max=cap - 1), s)
        kl = torch.where(left < _i(cap), _take(keys, hot_lc), sent[:, 0])
        kr = torch.where(right < _i(cap), _take(keys, hot_rc), sent[:, 0])
        pl, pr = _take(pays, hot_lc), _take(pays, hot_rc)
        take_r = _less(kr, pr, kl, pl)
        child = torch.where(take_r, torch.clamp(right, max=cap - 1), torch.clamp(left, max=cap - 1))
        hot_c = _pick(_col(take_r), hot_rc, hot_lc)
        kc, pc = torch.where(take_r, kr, kl), torch.where(take_r, pr, pl)
        kp, pp = _take(keys, hot), _take(pays, hot)
        swap = move & _less(kc, pc, kp, pp)
        keys = _swap(keys, hot_c, hot, kc, kp, swap)
        pays = _swap(pays, hot_c, hot, pc, pp, swap)
        pos = torch.where(swap, child, pos)
        hot = _pick(_col(swap), hot_c, hot)
    return (
        Queue(keys, pays, q.head, q.size - hit.to(torch.int32), q.dropped),
        hit.to(torch.int32),
        out,
    )


# -- FIFO --------------------------------------------------------------------------------------


def fifo_enqueue(q: Queue, t, pay, mask) -> Queue:
    cap = q.keys.shape[1]
    full = q.size >= _i(cap)
    do = mask & ~full
    idx = q.head + q.size  # < 2 cap
    idx = torch.where(idx >= _i(cap), idx - cap, idx)
    hot = _hot(idx, _slots(q)) & _col(do)
    return Queue(
        torch.where(hot, _col(t), q.keys),
        torch.where(hot, _col(pay), q.pay),
        q.head,
        q.size + do.to(torch.int32),
        q.dropped + (mask & full).to(torch.int32),
    )


def fifo_pop(q: Queue, now):
    cap = q.keys.shape[1]
    hot = _hot(q.head, _slots(q))
    k, p = _take(q.keys, hot), _take(q.pay, hot)
    hit = (q.size > _i(0)) & (k <= now)
    out = torch.where(hit, p, torch.zeros_like(p))
    gone = hot & _col(hit)
    keys = torch.where(gone, torch.full_like(q.keys, SENTINEL), q.keys)
    pays = torch.where(gone, torch.zeros_like(q.pay), q.pay)
    nxt = q.head + 1
    head = torch.where(hit, torch.where(nxt >= _i(cap), nxt - cap, nxt), q.head)
    return (
        Queue(keys, pays, head, q.size - hit.to(torch.int32), q.dropped),
        hit.to(torch.int32),
        out,
    )


# -- dense ring --------------------------------------------------------------------------------


def ring_enqueue(q: Queue, t, pay, mask) -> Queue:
    """The caller guarantees now < t <= now + max_delay + 1."""
    hot = _hot(_mod(t, q.keys.shape[1]), _slots(q)) & _col(mask)
    return q._replace(
        keys=q.keys + hot.to(torch.int32),
        pay=q.pay + torch.where(hot, _col(pay), torch.zeros_like(q.pay)),
    )


def ring_pop(q: Queue, now):
    hot = _hot(_mod(now, q.keys.shape[1]), _slots(q))
    count, out = _take(q.keys, hot), _take(q.pay, hot)
    return (
        q._replace(
            keys=torch.where(hot, torch.zeros_like(q.keys), q.keys),
            pay=torch.where(hot, torch.zeros_like(q.pay), q.pay),
        ),
        count,
        out,
    )


# -- sorted array ------------------------------------------------------------------------------


def sorted_enqueue(q: Queue, t, pay, mask) -> Queue:
    last = q.keys[:, -1]
    accept = mask & (t < last)
    s = _slots(q)
    rank = count(q.keys[:, :-1] <= _col(t), dim=1)
    r = _col(rank)
    shift_k = torch.cat([torch.full_like(q.keys[:, :1], SENTINEL), q.keys[:, :-1]], 1)
    shift_p = torch.cat([torch.zeros_like(q.pay[:, :1]), q.pay[:, :-1]], 1)
    keys = torch.where(s < r, q.keys, torch.where(s == r, _col(t), shift_k))
    pays = torch.where(s < r, q.pay, torch.where(s == r, _col(pay), shift_p))
    a = _col(accept)
    return Queue(
        torch.where(a, keys, q.keys),
        torch.where(a, pays, q.pay),
        q.head,
        q.size,
        q.dropped + (mask & (last != _i(SENTINEL))).to(torch.int32),
    )


def sorted_pop(q: Queue, now):
    hit = q.keys[:, 0] <= now
    out = torch.where(hit, q.pay[:, 0], torch.zeros_like(q.pay[:, 0]))
    shift_k = torch.cat([q.keys[:, 1:], torch.full_like(q.keys[:, :1], SENTINEL)], 1)
    shift_p = torch.cat([q.pay[:, 1:], torch.zeros_like(q.pay[:, :1])], 1)
    h = _col(hit)
    return (
        Queue(
            torch.where(h, shift_k, q.keys),
            torch.where(h, shift_p, q.pay),
            q.head,
            q.size,
            q.dropped,
        ),
        hit.to(torch.int32),
        out,
    )


# -- lossy ring --------------------------------------------------------------------------------


def lossy_enqueue(q: Queue, t, pay, mask) -> Queue:
    hot = _hot(_mod(t, q.keys.shape[1]), _slots(q))
    old = _take(q.keys, hot)
    w = hot & _col(mask)
    return Queue(
        torch.where(w, _col(t), q.keys),
        torch.where(w, _col(pay), q.pay),
        q.head,
        q.size,
        q.dropped + (mask & (old != _i(SENTINEL))).to(torch.int32),
    )


def lossy_pop(q: Queue, now):
    hot = _hot(_mod(now, q.keys.shape[1]), _slots(q))
    k, p = _take(q.keys, hot), _take(q.pay, hot)
    hit = k == now
    out = torch.where(hit, p, torch.zeros_like(p))
    gone = hot & _col(hit)
    return (
        Queue(
            torch.where(gone, torch.full_like(q.keys, SENTINEL), q.keys),
            torch.where(gone, torch.zeros_like(q.pay), q.pay),
            q.head,
            q.size,
            q.dropped,
        ),
        hit.to(torch.int32),
        out,
    )


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
    design: str, q: Queue, t, pay, mask, *, check: bool = False, inplace: bool = False
) -> Queue:
    """Offer arrival step t [Q] (int32) with payload pay [Q] where mask [Q] is set
    (``check`` and ``inplace`` are accepted for the network's sake and change nothing here:
    a traced graph holds no concrete values to check, and its callers are the benchmark
    loops, whose arrivals are valid by construction)."""
    t = torch.as_tensor(t, dtype=torch.int32).expand(q.size.shape)
    return ENQUEUE[check_design(design)](q, t, pay.to(q.pay.dtype), mask.to(torch.bool))


def pop(design: str, q: Queue, now, *, check: bool = False, inplace: bool = False):
    """Deliver what is due at step `now`: (q, hits [Q], payload sum [Q])."""
    now = torch.as_tensor(now, dtype=torch.int32)
    return POP[check_design(design)](q, now)


def pending(design: str, q: Queue):
    check_design(design)
    if design == "ring":
        return count(q.keys, dim=1)
    if design in ("heap", "fifo"):
        return q.size
    return count(q.keys != _i(SENTINEL), dim=1)


# -- the chunk step functions (exported) --------------------------------------------------------

QUEUE_IN = ["keys", "pay", "head", "size", "dropped"]


class TrafficChunk(torch.nn.Module):
    """K steps of the benchmark loop: for k = k0 .. k0 + K - 1, pop(k), then enqueue arrival
    k + delay (payload k + delay) where spikes[k - k0] is set. Carry: the queue and the
    running delivered / payload-sum / offered counts."""

    def __init__(self, design: str, steps: int, delay: int):
        super().__init__()
        self.design, self.steps, self.delay = design, steps, delay

    def forward(self, keys, pay, head, size, dropped, hits, pays, sent, k0, spikes):
        q = Queue(keys, pay, head, size, dropped)
        for j in range(self.steps):
            now = k0 + j
            q, h, p = POP[self.design](q, now)
            hits, pays = hits + h, pays + p
            t = (now + self.delay).expand(size.shape)
            q = ENQUEUE[self.design](q, t, t.to(pay.dtype), spikes[j])
            sent = sent + spikes[j].to(torch.int32)
        return (*q, hits, pays, sent)


TRAFFIC_OUT = [f"{n}_out" for n in (*QUEUE_IN, "hits", "pays", "sent")]


def _chunks(n_steps: int, chunk: int):
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    return [chunk] * (n_steps // chunk) + ([n_steps % chunk] if n_steps % chunk else [])


def _build(make, sizes, args_of, names_in, names_out, device, folder):
    """Export one graph per distinct chunk length and open a runner for each."""
    runners = {}
    for k in sorted(set(sizes)):
        path = Path(folder) / f"chunk{k}.onnx"
        export(make(k), args_of(k), names_in, names_out, path)
        runners[k] = make_runner(device, path)
    return runners


def traffic_program(
    design: str,
    n_queues: int,
    capacity: int | None,
    max_delay: int | None,
    dtype: str,
    n_steps: int,
    delay: int,
    interval: int,
    seed: int = 0,
    chunk: int = CHUNK,
    device: str = "onnxrt",
    folder=None,
):
    """Export the traffic chunk graph(s) and return the host loop: a function of no
    argument returning (Queue, delivered [Q], payload sum [Q], offered [Q]) as NumPy."""
    slots = check_sizes(design, n_queues, capacity, max_delay)
    n_steps, delay, interval, seed = check_traffic(design, slots, n_steps, delay, interval, seed)
    if n_steps + delay >= MAX_STEP:
        raise ValueError(
            f"T + delay = {n_steps + delay} steps: the LPU graphs' index "
            f"arithmetic is exact below {MAX_STEP}"
        )
    sizes = _chunks(n_steps, chunk)
    q0 = init(design, n_queues, capacity, max_delay, getattr(torch, dtype))
    zeros_i = torch.zeros(n_queues, dtype=torch.int32)
    carry0 = (*q0, zeros_i, torch.zeros(n_queues, dtype=q0.pay.dtype), zeros_i)
    folder, made = graph_folder(folder)
    runners = _build(
        lambda k: TrafficChunk(design, k, delay),
        sizes,
        lambda k: (
            *carry0,
            torch.tensor(1, dtype=torch.int32),
            torch.zeros((k, n_queues), dtype=torch.bool),
        ),
        [*QUEUE_IN, "hits", "pays", "sent", "k0", "spikes"],
        TRAFFIC_OUT,
        device,
        folder,
    )
    init_np = [x.numpy() for x in carry0]
    lanes = np.arange(n_queues, dtype=np.uint64)
    itv = np.uint64(interval)

    def run():
        carry, k0 = init_np, 1
        for k in sizes:
            steps = np.arange(k0, k0 + k, dtype=np.uint64)[:, None]
            spikes = mix_numpy(steps, lanes[None, :], seed) % itv == 0
            feeds = dict(zip(QUEUE_IN + ["hits", "pays", "sent"], carry, strict=True))
            out = runners[k](**feeds, k0=np.array(k0, np.int32), spikes=spikes)
            carry = [out[n] for n in TRAFFIC_OUT]
            k0 += k
        return (Queue(*carry[:5]), *carry[5:])

    return own_graphs(run, folder, made)


class NetworkChunk(torch.nn.Module):
    """K steps of the recurrent network (``_net_torch.step`` on these queue operations)."""

    def __init__(self, design: str, steps: int, p):
        super().__init__()
        self.design, self.steps, self.p = design, steps, p

    def forward(
        self,
        keys,
        pay,
        head,
        size,
        dropped,
        v,
        i_syn,
        t_sum,
        count,
        delivered,
        weights,
        delays,
        k0,
        i_ext,
    ):
        from . import _net_torch as net

        c = net.Carry(Queue(keys, pay, head, size, dropped), v, i_syn, t_sum, count, delivered)
        for j in range(self.steps):
            c = net.step(c, k0 + j + 1, i_ext[j], weights, delays, self.p, self.design, ops=_OPS)
        return (*c.q, c.v, c.i_syn, c.t_sum, c.count, c.delivered)


NET_CARRY = ["v", "i_syn", "t_sum", "count", "delivered"]
NET_OUT = [f"{n}_out" for n in (*QUEUE_IN, *NET_CARRY)]


# this module, as the queue operations the network's step calls (enqueue, pop, count, init)
_OPS = sys.modules[__name__]


def network_program(
    weights,
    delays,
    i_ext,
    p,
    design: str,
    capacity=None,
    max_delay=None,
    chunk: int = CHUNK,
    device: str = "onnxrt",
    folder=None,
):
    """Export the network chunk graph(s) and return the host loop: a function of no argument
    returning the ``NetOut`` fields as NumPy (spike_count, spike_time_sum, v_final, dropped,
    delivered, pending). `i_ext`: None (the constant input of `p`) or [p.n_steps, N]."""
    from . import _net_torch as net

    w = np.asarray(weights, np.float32)
    d = np.asarray(delays, np.float32)
    n, t_total = w.shape[0], int(p.n_steps)
    if i_ext is None:
        k = np.arange(1, t_total + 1)
        i_ext = np.where(k * p.dt < p.t_ext, p.i_ext, 0.0)[:, None] * np.ones((1, n))
    i_ext = np.asarray(i_ext, np.float32)
    if i_ext.shape != (t_total, n):
        raise ValueError(f"i_ext must have shape {(t_total, n)}, got {i_ext.shape}")
    if t_total + int(np.ceil(d.max() / p.dt)) + 2 >= MAX_STEP:  # the latest arrival step
        raise ValueError(
            f"T = {t_total} steps: the LPU graphs' index arithmetic is exact below {MAX_STEP}"
        )
    sizes = _chunks(t_total, chunk)
    c0 = net.init_carry(n, design, capacity, max_delay, torch.float32, None, ops=_OPS)
    carry0 = (*c0.q, c0.v, c0.i_syn, c0.t_sum, c0.count, c0.delivered)
    folder, made = graph_folder(folder)
    runners = _build(
        lambda k: NetworkChunk(design, k, p),
        sizes,
        lambda k: (
            *carry0,
            torch.from_numpy(w),
            torch.from_numpy(d),
            torch.tensor(0, dtype=torch.int32),
            torch.zeros((k, n), dtype=torch.float32),
        ),
        [*QUEUE_IN, *NET_CARRY, "weights", "delays", "k0", "i_ext"],
        NET_OUT,
        device,
        folder,
    )
    init_np = [x.numpy() for x in carry0]

    def run():
        carry, k0 = init_np, 0
        for k in sizes:
            feeds = dict(zip(QUEUE_IN + NET_CARRY, carry, strict=True))
            out = runners[k](
                **feeds, weights=w, delays=d, k0=np.array(k0, np.int32), i_ext=i_ext[k0 : k0 + k]
            )
            carry = [out[name] for name in NET_OUT]
            k0 += k
        keys, size = carry[0], carry[3]
        from ._common import pending_numpy

        return net.NetOut(
            carry[8],
            carry[7],
            carry[5],
            carry[4].sum(),
            carry[9],
            pending_numpy(design, keys, size).sum(),
        )

    return own_graphs(run, folder, made)


# the exported programs serve every design (``design`` picks it): registered per workload
register(
    "queues",
    DESIGNS,
    "onnx",
    entry="traffic",
    devices=("onnxrt", "lpu"),
    dtypes=("float32",),
    knobs=("chunk",),
)(traffic_program)
register(
    "queues",
    DESIGNS,
    "onnx",
    entry="network_forward",
    devices=("onnxrt", "lpu"),
    dtypes=("float32",),
    knobs=("chunk",),
)(network_program)
