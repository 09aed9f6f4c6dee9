"""NumPy reference of the recurrent network of ``_net_jax``, in two forms:

- without any queue (``queue=None``): a calendar array collects, for every future step, the
  synaptic factor of each arrival (exact as long as no queue drops an event and none delivers
  late, which holds for one queue per synapse with a fixed delay and capacity for every event
  in flight);
- driven by the plain-Python reference queues (``queue=(design, capacity, max_delay)``): one
  ``_reference.RefQueue`` per synapse (queue index post * N + pre, as in the kernels), popped
  and offered event by event, so a design that drops (the lossy ring) is checked on its
  spikes, deliveries, drops and pending events like every other one.
"""

from __future__ import annotations

import math

import numpy as np

from ._common import NetParams
from ._reference import RefQueue


def simulate(weights, delays, p: NetParams, i_ext=None, queue=None) -> dict:
    """Spike counts [N], the sum of crossing times (steps), final V [N], events sent and
    delivered (and, with `queue`, dropped and pending); float64. i_ext: None (the constant
    input of `p`) or [p.n_steps, N]. queue: None (the calendar) or (design, capacity,
    max_delay) of the reference queues to deliver through."""
    w, d = np.asarray(weights, np.float64), np.asarray(delays, np.float64)
    n = w.shape[0]
    if i_ext is not None:
        i_ext = np.asarray(i_ext, np.float64)
        if i_ext.shape != (p.n_steps, n):
            raise ValueError(f"i_ext must have shape {(p.n_steps, n)}, got {i_ext.shape}")
    horizon = p.n_steps + int(math.ceil(d.max() / p.dt)) + 3
    cal = np.zeros((horizon, n))
    arrivals = np.zeros(horizon, np.int64)
    v, i_syn = np.zeros(n), np.zeros(n)
    decay_s = math.exp(-p.dt / p.tau_syn)
    tau_s_steps = p.tau_syn / p.dt
    t_sum, count, sent = 0.0, np.zeros(n, np.int64), 0
    queues = None if queue is None else [RefQueue(*queue) for _ in range(n * n)]
    live: set[int] = set()  # queues holding events (only those need a pop)
    delivered = 0
    for k in range(1, p.n_steps + 1):
        if queues is None:
            incoming = cal[k]
        else:
            incoming = np.zeros(n)
            for qi in sorted(live):
                hits, pay = queues[qi].pop(k)
                if hits:
                    post, pre = divmod(qi, n)
                    incoming[post] += w[post, pre] * pay
                    delivered += hits
                if not queues[qi].pending():
                    live.discard(qi)
        i_syn = i_syn * decay_s + incoming
        if i_ext is None:
            i_in = p.i_ext if k * p.dt < p.t_ext else 0.0
        else:
            i_in = i_ext[k - 1]
        v_new = v + p.dt * (-v / p.tau_mem + i_syn + i_in)
        spike = v_new >= p.theta
        if spike.any():
            j = np.nonzero(spike)[0]
            t_s = (k - 1) + (p.theta - v[j]) / (v_new[j] - v[j])
            t_a = t_s[None, :] + d[:, j] / p.dt
            key = np.ceil(t_a).astype(np.int64)
            f = np.exp(-(key - t_a) / tau_s_steps)
            if queues is None:
                np.add.at(
                    cal, (key, np.broadcast_to(np.arange(n)[:, None], key.shape)), w[:, j] * f
                )
                np.add.at(arrivals, key.ravel(), 1)
            else:
                for post in range(n):
                    for col, pre in enumerate(j):
                        qi = post * n + int(pre)
                        queues[qi].enqueue(int(key[post, col]), float(f[post, col]))
                        live.add(qi)
            t_sum += float(t_s.sum())
            sent += key.size
        v = np.where(spike, 0.0, v_new)
        count += spike
    out = {
        "spike_count": count,
        "spike_time_sum": t_sum,
        "v_final": v,
        "sent": sent,
        "loss": t_sum + float(v.sum()),
    }
    if queues is None:
        return {**out, "delivered": int(arrivals[: p.n_steps + 1].sum())}
    return {
        **out,
        "delivered": delivered,
        "dropped": sum(r.dropped for r in queues),
        "pending": sum(r.pending() for r in queues),
    }
