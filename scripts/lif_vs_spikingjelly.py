"""Our discrete LIF against SpikingJelly's ``LIFNode`` on the same input, in one process.

The PSU family's LIF / unit ratios divide by our LIF, so our LIF must be at least as fast as the
best-known form of the same recurrence. SpikingJelly's multi-step ``LIFNode(tau, decay_input=
True, v_reset=None, step_mode='m')`` computes H_k = V_{k-1} (1 - 1/tau) + X_k / tau, S_k =
Heaviside(H_k - theta), V_k = H_k - theta S_k (soft reset), with the ATan surrogate -- exactly
``spikebench.kernels.psu.torch.lif``. This script checks that the spikes are identical and
times both (forward, and forward + backward of sum(R * S) w.r.t. X), plus our JAX LIF, with
the suite's timing (``spikebench.harness.timing.time_calls``: median of at least 3 rounds, each
ending in a sync), on 2 threads, for T = 15, 64, 256 at B x N = 16 x 128.

    pip install spikingjelly
    python scripts/lif_vs_spikingjelly.py [--threads 2] [--dtype float32] [--json out.json]

Prints one row per (T, mode) with the three medians and the ratios ours / SpikingJelly.
"""

from __future__ import annotations

import argparse
import json

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--steps", type=int, nargs="+", default=[15, 64, 256])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--neurons", type=int, default=128)
    ap.add_argument("--json", default=None, help="write the rows here too")
    args = ap.parse_args(argv)

    import jax
    import torch
    from spikebench.harness.timing import time_calls
    from spikebench.kernels.psu import jax as pj
    from spikebench.kernels.psu import torch as pt
    from spikebench.kernels.psu._common import DEFAULT
    from spikingjelly.activation_based import neuron, surrogate

    jax.config.update("jax_enable_x64", True)
    torch.set_num_threads(args.threads)
    p = DEFAULT
    rows = []

    def one_t(t):  # one T: its closures bind this call's arrays
        rng = np.random.default_rng(t)
        x_np = rng.normal(0.6, 1.0, (t, args.batch, args.neurons)).astype(args.dtype)
        r_np = rng.normal(0.0, 1.0, x_np.shape).astype(args.dtype)
        x, r = torch.from_numpy(x_np), torch.from_numpy(r_np)
        node = neuron.LIFNode(
            tau=p.tau,
            decay_input=True,
            v_threshold=p.theta,
            v_reset=None,
            surrogate_function=surrogate.ATan(alpha=p.alpha),
            step_mode="m",
            detach_reset=True,
        )
        if args.dtype == "float64":
            node = node.double()

        def sj_fwd():
            node.reset()
            with torch.no_grad():
                return node(x)

        def sj_grad():
            node.reset()
            xx = x.detach().requires_grad_(True)
            s = node(xx)
            return torch.autograd.grad(torch.sum(s * r), xx)[0]

        def ours_fwd():
            return pt.neuron_forward(x, p=p, kind="lif").spikes

        def ours_grad():
            return pt.neuron_grad(x, r, p=p, kind="lif")[0]["x"]

        xj, rj = jax.numpy.asarray(x_np), jax.numpy.asarray(r_np)
        jf = jax.jit(lambda x: pj.neuron_forward(x, p=p, kind="lif").spikes)
        jg = jax.jit(lambda x, r: pj.neuron_grad(x, r, p=p, kind="lif")[0]["x"])
        differ = int((sj_fwd() != ours_fwd()).sum())
        gdiff = float((sj_grad() - ours_grad()).abs().max())
        sync_t, sync_j = (lambda o: o), jax.block_until_ready
        for mode, sj, ours, jx in (
            ("forward", sj_fwd, ours_fwd, lambda: jf(xj)),
            ("forward+backward", sj_grad, ours_grad, lambda: jg(xj, rj)),
        ):
            med = {
                name: time_calls(fn, sync, warmup=1).median
                for name, fn, sync in (
                    ("spikingjelly", sj, sync_t),
                    ("torch", ours, sync_t),
                    ("jax", jx, sync_j),
                )
            }
            rows.append(
                {
                    "T": t,
                    "mode": mode,
                    **{f"{k}_s": v for k, v in med.items()},
                    "torch_over_sj": med["torch"] / med["spikingjelly"],
                    "jax_over_sj": med["jax"] / med["spikingjelly"],
                    "spikes_differ": differ,
                    "spikes": int(x.numel()),
                    "grad_max_abs_diff": gdiff,
                }
            )
            rr = rows[-1]
            print(
                f"T={t:4d} {mode:17s} SJ {rr['spikingjelly_s'] * 1e3:8.3f} ms  torch "
                f"{rr['torch_s'] * 1e3:8.3f} ms ({rr['torch_over_sj']:.2f}x)  jax "
                f"{rr['jax_s'] * 1e3:8.3f} ms ({rr['jax_over_sj']:.2f}x)  spikes differ "
                f"{differ}/{x.numel()}  grad diff {gdiff:.1e}",
                flush=True,
            )

    for t in args.steps:
        one_t(t)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
