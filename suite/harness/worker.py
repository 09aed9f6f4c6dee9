"""Run one case: in this process, or isolated in a fresh worker process with a timeout.

A worker measures exactly one case: it loads the inputs and the reference the parent prepared,
builds the call, compiles it (timed apart), grows static buffers if the first call overflowed
them, times the steady state with device syncs, records peak memory, and checks the output of
a timed call against the reference. Every failure becomes data: an exception is a `failed`
row (or `unsupported` / `oom`), a worker that does not answer in time is killed (`timeout`).
A worker that dies of a signal is `oom` only when the evidence says so -- the cgroup's
``oom_kill`` count rose while it ran, or its resident memory was seen near the memory limit --
and otherwise a `failed` row naming the signal (a SIGKILL from outside is not an OOM).
"""

from __future__ import annotations

import importlib.util
import multiprocessing as mp
import os
import pickle
import re
import signal
import threading
import time
import traceback
import warnings

import numpy as np

from .. import families, registry
from ..hardware import frameworks
from . import memory
from .timing import DEFAULTS, time_calls

# Imported once by the forkserver so that each worker starts without re-importing the
# frameworks (importing JAX or PyTorch starts no device or thread pool; workers do that).
PRELOAD = ["spikebench.harness.worker", "spikebench.families", "numpy", "jax", "torch"]

TIMING = DEFAULTS  # the one set of timing defaults (timing.DEFAULTS)
# A first call (after compile) longer than this is the case's warm-up, and the explicit
# warm-up call is skipped: for the 48 rows of a quick sweep whose call takes 0.1-1 s it cost
# 15 s of the ten minutes, and such a call amortises what a warm-up is for (lazy allocation,
# caches, first-call dispatch) by itself.
OWN_WARMUP_S = 0.1


def _classify(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, registry.Unsupported):
        return "unsupported"
    if (
        isinstance(exc, MemoryError)
        or "RESOURCE_EXHAUSTED" in text
        or "out of memory" in text.lower()
    ):
        return "oom"
    return "failed"


def cost_columns(call) -> dict:
    """The compiled executable's cost by XLA's own count (``Compiled.cost_analysis()``: flops
    and bytes accessed) and its number of while loops, for a call the adapter compiled ahead of
    time (JAX and every library run through XLA: ``call.compiled``); {} for others (PyTorch's
    counter sees only matmuls and convolutions and no bytes, so it would understate an
    elementwise or scan kernel: those rows stay empty rather than wrong).

    XLA's cost analysis counts a loop's body once, whatever its trip count (a scan of 1,000
    steps costs what one step does), so ``cost_loops`` > 0 marks the figures as lower bounds;
    ``cost_trips``, the product of the loops' trip counts where XLA knows every one (its
    ``known_trip_count``), times them is an upper bound (every loop's body at most the whole
    program, every loop nested in the others)."""
    compiled = getattr(call, "compiled", None)
    if compiled is None:
        return {}
    try:
        cost = compiled.cost_analysis()
        text = compiled.as_text()
    except Exception:  # noqa: BLE001 - a backend without the analysis leaves the columns empty
        return {}
    if isinstance(cost, list | tuple):  # older JAX: one dict per executable
        cost = cost[0] if cost else {}
    cost = cost or {}

    def count(key):
        v = cost.get(key)
        return None if v is None or v < 0 else float(v)

    loops = [line for line in (text or "").splitlines() if " while(" in line]
    trips = [m.group(1) for m in map(_TRIPS.search, loops) if m is not None]
    return {
        "cost_flops": count("flops"),
        "cost_bytes": count("bytes accessed"),
        "cost_loops": len(loops) if text else None,
        # every loop's trip count known (no loop: 1)
        "cost_trips": float(np.prod([int(n) for n in trips]))
        if text and len(trips) == len(loops)
        else None,
    }


_TRIPS = re.compile(r'"known_trip_count":\{"n":"(\d+)"\}')


def measure(case, inputs, ref, timing=None) -> dict:
    """Measure `case` in this process; returns the measurement columns of its row."""
    timing = {**TIMING, **(timing or {})}
    fam = families.get(case.family)
    impl = families.implementation(case.family, case.impl, case.framework)
    entry = impl.entry(families.entry_name(case, impl))
    if not entry.supports(case.mode):
        raise registry.Unsupported(
            f"{impl.key} {entry.name} supports modes {entry.modes}, not {case.mode!r}"
        )
    if case.device not in entry.devices:
        raise registry.Unsupported(
            f"{impl.key} {entry.name} runs on {entry.devices}, not {case.device!r}"
        )
    if case.dtype not in entry.dtypes:
        raise registry.Unsupported(
            f"{impl.key} {entry.name} runs {entry.dtypes}, not {case.dtype!r}"
        )
    fw = frameworks.adapter(case.framework)
    device = fw.device(case.device)
    if case.mode == "train":  # the family runs and times its training loop
        with memory.Whole(case.framework, case.device, device) as whole:
            row = fam.train(case, inputs, ref, fw, device)
        # a loop of many steps and evaluations has no one call to measure
        return {
            "status": "ok",
            **row,
            "peak_mem_bytes": None,
            "mem_method": "not_measured_train",
            **whole.columns(),
        }
    # The whole case's figures (memory.Whole) cover device copies of the inputs, compile and
    # every call above the worker's state before it began: allocators keep freed pages
    # resident, so a window opened after the warm-up would miss what the first calls
    # allocated. The kernel's own figure (memory.kernel_figure) comes after the timed calls.
    with memory.Whole(case.framework, case.device, device) as whole:
        args, kwargs, static = fam.prepare(case, inputs, fw, device)
        fn = entry.fn

        def host(out):  # the output as NumPy, in the form the family checks (Entry.convert)
            out = fam.to_numpy(out, fw)
            return out if entry.convert is None else entry.convert(out, case, static)

        call, compile_s = fw.compile(fn, args, kwargs, static)
        t0 = time.perf_counter()
        out = fw.sync(call())
        first_s = time.perf_counter() - t0
        first = host(out)
        bigger = fam.resize(case, first, static)
        if bigger is None and entry.fit is not None:  # the entry's own best form (Entry.fit)
            bigger = entry.fit(first, case, static)
        if bigger is not None:  # e.g. JAX's static spike buffer overflowed: rebuild, never drop
            static = bigger
            call, compile_s2 = fw.compile(fn, args, kwargs, static)
            t0 = time.perf_counter()
            out = fw.sync(call())
            first_s = time.perf_counter() - t0
            compile_s = (
                None if compile_s is None or compile_s2 is None else (compile_s + compile_s2)
            )
        last = {}

        def timed():
            last["out"] = call()
            return last["out"]

        if first_s > OWN_WARMUP_S:  # a call that long was its own warm-up
            timing = {**timing, "warmup": 0}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m = time_calls(timed, fw.sync, **timing)
    if compile_s is None:  # eager: the first call's extra cost over steady state
        compile_s = max(0.0, first_s - m.median)
    kernel_bytes, mem_method = memory.kernel_figure(
        case.framework, case.device, call, fw.sync, device, args=(args, kwargs), median_s=m.median
    )
    over = fam.instrumented(case)
    if over is None:
        chk = fam.check(case, inputs, host(last["out"]), ref)
    else:  # untimed: the instrumented run's counters for the check (Family.instrumented)
        seen = fw.sync(fn(*args, **kwargs, **{**static, **over}))
        chk = fam.check(case, inputs, host(seen), ref, timed=host(last["out"]))
    value, unit = fam.throughput(case, m.median)
    # a kernel's standing remark on its own speed (e.g. why a compiled loop cannot close a gap)
    notes = [chk.get("note"), getattr(fn, "speed_note", None)]
    notes += [f"warning: {w.message}" for w in caught]
    return {
        "status": "ok",
        "error": "; ".join(n for n in notes if n) or None,
        "compile_s": compile_s,
        "time_median_s": m.median,
        "time_iqr_s": m.iqr,
        "time_min_s": m.min,
        "rounds": m.rounds,
        "samples_s": " ".join(f"{s:.9g}" for s in m.samples),
        "throughput": value,
        "throughput_unit": unit,
        "peak_mem_bytes": kernel_bytes,
        "mem_method": mem_method,
        **whole.columns(),
        **cost_columns(call),
        "state_bytes": fam.state_bytes(case, args, static),
        "correct": chk["correct"],
        "max_err": chk["max_err"],
        "mismatch_frac": chk.get("mismatch_frac"),
        "n_checked": chk.get("n_checked"),
        "spike_rate": chk.get("spike_rate"),
        "lif_agreement": chk.get("lif_agreement"),
        "drop_rate": chk.get("drop_rate"),
    }


def measure_safely(case, inputs, ref, timing=None) -> dict:
    try:
        return measure(case, inputs, ref, timing)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a row
        # the exception's own line(s), not notes appended to it (JAX adds one about its
        # filtered traceback frames)
        last = traceback.format_exception_only(type(exc), exc)[0].strip()
        return {"status": _classify(exc), "error": last[:2000]}


def _pin(threads: int) -> None:
    """Hold this worker to `threads` cores, before any framework starts a thread pool."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    # before JAX starts a backend: memory figures must not be a 75 % preallocation
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    if hasattr(os, "sched_setaffinity") and threads < len(os.sched_getaffinity(0)):
        # fewer threads than cores: pin the worker to that many cores, which holds every
        # framework to them (XLA's CPU thread pool has no other exact knob)
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:threads])


def _child(conn, case, data_path, timing, threads):
    _pin(threads)
    try:
        base = frameworks.base(case.framework)
        if base in ("torch", "torch-compile", "onnx"):  # onnx: torch traces them
            import torch

            torch.set_num_threads(threads)
        families.load_kernels((case.framework,))
        with open(data_path, "rb") as f:
            inputs, ref = pickle.load(f)
        conn.send(measure_safely(case, inputs, ref, timing))
    except BaseException as exc:  # noqa: BLE001 - report, then die
        conn.send({"status": _classify(exc), "error": f"{type(exc).__name__}: {exc}"[:2000]})
    finally:
        conn.close()


_CTX = None
# Set by a sweep's SIGINT / SIGTERM / SIGHUP handler (``on_signal``). The handler only sets
# this flag: a KeyboardInterrupt raised straight from a signal handler is lost when it lands in
# a finalizer ("Exception ignored"), so the waits below poll the flag and raise it from
# ordinary code, whose `finally` blocks then kill the worker and remove the temp files.
INTERRUPT = threading.Event()
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
RECEIVED: list[int] = []  # the signals that set INTERRUPT, in order


def on_signal(signum, _frame) -> None:
    RECEIVED.append(signum)
    INTERRUPT.set()


OOM_NEAR = 0.9  # resident memory above this fraction of the limit counts as evidence of OOM
RSS_POLL_S = 0.5


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _cgroup_dir() -> str | None:
    text = _read("/proc/self/cgroup") or ""
    for line in text.splitlines():
        if line.startswith("0::"):  # cgroup v2
            return "/sys/fs/cgroup" + line[3:].strip()
    return None


def oom_kills() -> int | None:
    """The OOM killer's kill count of this process's cgroup (v2 memory.events, v1
    memory.oom_control), or None where neither is readable."""
    d = _cgroup_dir()
    for path in ([f"{d}/memory.events"] if d else []) + [
        "/sys/fs/cgroup/memory.events",
        "/sys/fs/cgroup/memory/memory.oom_control",
    ]:
        for line in (_read(path) or "").splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
    return None


def memory_limit() -> int:
    """The smaller of physical memory and the cgroup's memory.max (bytes)."""
    import psutil

    limit = psutil.virtual_memory().total
    d = _cgroup_dir()
    raw = (_read(f"{d}/memory.max") if d else None) or _read("/sys/fs/cgroup/memory.max")
    if raw and raw.strip().isdigit():
        limit = min(limit, int(raw))
    return limit


def _death(code: int | None, oom_before: int | None, peak_rss: int) -> dict:
    """The row of a worker that died without answering, from what is known of its death."""
    if code is None or code >= 0:
        return {"status": "failed", "error": f"worker died (exit code {code})"}
    sig = -code
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = f"signal {sig}"
    after = oom_kills()
    limit = memory_limit()
    rss = f"peak resident memory seen {peak_rss / 2**20:.0f} MiB of a {limit / 2**30:.1f} GiB limit"
    if (
        sig == signal.SIGKILL
        and oom_before is not None
        and after is not None
        and after > oom_before
    ):
        return {
            "status": "oom",
            "error": f"worker killed by the out-of-memory killer (the "
            f"cgroup's oom_kill count rose to {after}; {rss})",
        }
    if sig == signal.SIGKILL and peak_rss >= OOM_NEAR * limit:
        return {
            "status": "oom",
            "error": f"worker killed by SIGKILL with its memory near the "
            f"limit ({rss}): most likely the out-of-memory killer",
        }
    known = "cgroup oom_kill unchanged" if after is not None else "no cgroup OOM count here"
    return {
        "status": "failed",
        "error": f"worker killed by signal {sig} ({name}) from outside "
        f"the suite; no sign of the out-of-memory killer "
        f"({known}; {rss})",
    }


def _context():
    global _CTX
    if _CTX is None:
        method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
        _CTX = mp.get_context(method)
        if method == "forkserver":
            _CTX.set_forkserver_preload([m for m in PRELOAD if importlib.util.find_spec(m)])
    return _CTX


def _call_child(conn, fn, args, threads):
    _pin(threads)
    try:
        conn.send(fn(*args))
    except BaseException as exc:  # noqa: BLE001 - report, then die
        conn.send({"error": f"{type(exc).__name__}: {exc}"[:2000]})
    finally:
        conn.close()


def call_isolated(fn, args, timeout_s: float, threads: int) -> dict:
    """``fn(*args)`` (a module-level function returning a dict) in a fresh worker held to
    `threads` cores like a case's; {"error": why} when it fails or does not answer in time."""
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_call_child, args=(child, fn, args, threads), daemon=True)
    proc.start()
    child.close()
    try:
        if parent.poll(timeout_s):
            try:
                return parent.recv()
            except EOFError:
                pass
            proc.join(5)
            return {"error": f"worker died (exit code {proc.exitcode})"}
        return {"error": f"no result within {timeout_s:g} s"}
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        parent.close()


def measure_isolated(case, data_path, timeout_s: float, timing=None, threads=None) -> dict:
    """Measure `case` in a fresh worker process; `data_path` holds pickled (inputs, ref)."""
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    threads = threads or os.cpu_count() or 1
    proc = ctx.Process(target=_child, args=(child, case, data_path, timing, threads), daemon=True)
    import psutil

    oom_before = oom_kills()
    proc.start()
    child.close()
    peak_rss, next_poll = 0, 0.0
    try:
        watched = psutil.Process(proc.pid)
    except psutil.Error:
        watched = None
    try:
        deadline = time.monotonic() + timeout_s
        ready = False
        while not ready and time.monotonic() < deadline:
            ready = parent.poll(min(0.1, max(0.0, deadline - time.monotonic())))
            if INTERRUPT.is_set():
                raise KeyboardInterrupt
            if watched is not None and time.monotonic() >= next_poll:
                next_poll = time.monotonic() + RSS_POLL_S
                try:
                    peak_rss = max(peak_rss, watched.memory_info().rss)
                except psutil.Error:
                    watched = None
        if ready:
            try:
                result = parent.recv()
            except EOFError:
                result = None
        else:
            result = {"status": "timeout", "error": f"no result within {timeout_s:g} s"}
        if result is None:
            proc.join(5)
            result = _death(proc.exitcode, oom_before, peak_rss)
        return result
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        parent.close()
