"""What the machine can do: a streaming copy's bandwidth and a dense matmul's flop rate per
device kind, measured at the start of a run (a few seconds) and kept in the run's JSON
(``peaks``), so that a row's achieved bandwidth and flop rate read as fractions of them.

Both are measured the way the rows run: with JAX where it reaches the device kind (the
same XLA runtime, thread pool and precision defaults as the JAX rows), else PyTorch, else
NumPy, at the run's thread count, each the best of ``ROUNDS`` timed calls after a warm-up
(the peak is what the device reached, not its typical speed; the median is kept beside it):

- copy: ``y = x + 1`` over an array far larger than the last-level cache (``COPY_BYTES``);
  bytes moved = read + write = 2 x the array's size. A STREAM "add"-like kernel: the rate a
  memory-bound elementwise kernel can reach here;
- matmul: ``a @ b``, square, ``MATMUL_N[kind]``, float32 and float64; flops = 2 n^3 (the
  device's default precision: TF32 on recent NVIDIA GPUs for float32, as JAX runs it).

A row's cost (``cost_flops``, ``cost_bytes``) over its median time, divided by these, is the
fraction of the limit it reached; ``roofline`` names the bound that applies.
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np

ROUNDS = 5
COPY_BYTES = {"cpu": 256 * 2**20, "gpu": 1 * 2**30, "tpu": 1 * 2**30}
MATMUL_N = {"cpu": 1024, "gpu": 8192, "tpu": 8192}
MATMUL_N_F64 = {"cpu": 1024, "gpu": 4096, "tpu": 0}  # TPUs have no float64 matmul
KINDS = tuple(COPY_BYTES)


def _best(call, sync, rounds=ROUNDS):
    sync(call())  # warm-up (compile, first touch of the pages)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        sync(call())
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times))


def _library(kind: str) -> str | None:
    from . import devices

    dev = devices.get(kind)
    if not dev.available:
        return None
    for lib in ("jax", "torch", "numpy"):
        if lib in dev.frameworks:
            return lib
    return None


def _ops(lib: str, kind: str):
    """(put, sync, add_one, matmul) of `lib` on device `kind`."""
    if lib == "jax":
        import jax

        dev = jax.devices({"cpu": "cpu", "gpu": "gpu", "tpu": "tpu"}[kind])[0]
        add = jax.jit(lambda x: x + 1)
        mm = jax.jit(lambda a, b: a @ b)
        return (lambda x: jax.device_put(x, dev)), jax.block_until_ready, add, mm
    if lib == "torch":
        import torch

        dev = torch.device("cuda" if kind == "gpu" else "cpu")

        def sync(out):
            if dev.type == "cuda":
                torch.cuda.synchronize()
            return out

        return (lambda x: torch.as_tensor(x).to(dev)), sync, (lambda x: x + 1), torch.matmul
    return (lambda x: x), (lambda out: out), (lambda x: x + 1), np.matmul


def measure(kind: str) -> dict:
    """The peaks of device `kind` in this process (see the module docstring); raises
    LookupError when no library here reaches it."""
    if kind not in KINDS:
        raise ValueError(f"peaks are measured on {', '.join(KINDS)}, not {kind!r}")
    lib = _library(kind)
    if lib is None:
        raise LookupError(f"no library here reaches the {kind}")
    put, sync, add, mm = _ops(lib, kind)
    n_copy = COPY_BYTES[kind] // 4
    x = put(np.ones(n_copy, np.float32))
    best, med = _best(partial(add, x), sync)
    del x
    out: dict = {
        "library": lib,
        "copy": {
            "bytes": 2 * n_copy * 4,
            "best_s": best,
            "median_s": med,
            "bytes_per_s": 2 * n_copy * 4 / best,
        },
        "matmul": {},
    }
    rng = np.random.default_rng(0)
    for dtype, n in (("float32", MATMUL_N[kind]), ("float64", MATMUL_N_F64[kind])):
        if not n or (lib == "jax" and dtype == "float64" and not _x64()):
            continue
        a = put(rng.standard_normal((n, n)).astype(dtype))
        b = put(rng.standard_normal((n, n)).astype(dtype))
        best, med = _best(lambda a=a, b=b: mm(a, b), sync)
        out["matmul"][dtype] = {
            "n": n,
            "best_s": best,
            "median_s": med,
            "flops_per_s": 2 * n**3 / best,
        }
    return out


def _x64() -> bool:
    import jax

    return bool(jax.config.jax_enable_x64)


def measure_all(kinds, threads: int | None = None) -> dict:
    """{kind: peaks or {"error": why}} for each device kind in `kinds` this module knows."""
    import os

    if threads:
        os.environ["OMP_NUM_THREADS"] = str(threads)
        try:
            import torch

            torch.set_num_threads(threads)
        except ImportError:
            pass
    found = {}
    for kind in dict.fromkeys(k for k in kinds if k in KINDS):
        try:
            found[kind] = measure(kind)
        except Exception as exc:  # noqa: BLE001 - a peak that cannot be measured is said so
            found[kind] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
        if threads:
            found[kind]["threads"] = threads
    return found


def roofline(
    flops: float | None,
    nbytes: float | None,
    seconds: float | None,
    peak_flops: float | None,
    peak_bytes: float | None,
    trips: float | None = 1.0,
    near: float = 0.25,
) -> dict:
    """Where a row stands against the machine's limits.

    ``flop_frac`` = flops / seconds / peak_flops and ``bw_frac`` = bytes / seconds /
    peak_bytes, each as (low, high): a program with loops is counted with each loop body once
    (low), and at most ``trips`` times that (high: the product of the loops' trip counts;
    None when a count depends on the data). Without loops (``trips`` 1) the two are equal.

    The bound: ``compute`` or ``memory`` when that fraction's low end reaches `near` (the row
    runs within 4x of what that resource allows, whatever the loops do); ``latency`` when
    both high ends stay below it (neither resource is near its limit: the time goes to
    sequential depth -- a loop's steps each waiting for the last -- dispatch or
    synchronisation); ``undetermined`` when the loops leave it open."""
    out: dict = {"flop_frac": None, "bw_frac": None, "bound": None}
    if not seconds or seconds <= 0:
        return out
    spans = {}
    for side, amount, peak, key in (
        ("compute", flops, peak_flops, "flop_frac"),
        ("memory", nbytes, peak_bytes, "bw_frac"),
    ):
        if amount is None or not peak:
            continue
        lo = amount / seconds / peak
        hi = None if trips is None else lo * max(1.0, trips)
        out[key] = (lo, hi)
        spans[side] = (lo, hi)
    if not spans:
        return out
    side = max(spans, key=lambda k: spans[k][0])
    if spans[side][0] >= near:
        out["bound"] = side
    elif all(hi is not None and hi < near for _, hi in spans.values()):
        out["bound"] = "latency"
    else:
        out["bound"] = "undetermined"
    return out
