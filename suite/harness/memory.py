"""Memory of a measured case, per docs/guide/devices.md. Every figure carries its method; rows with
different methods are never compared.

Two kinds of figure, never compared with each other:

- the kernel's own figure of one call (``kernel_figure``; the row's `peak_mem_bytes` and
  `mem_method`): what the algorithm needs at the case's real shapes -- its arguments, its
  outputs and the largest set of temporaries alive at once:

  ==================  ==========================  ==========================================
  framework, device   method                      how
  ==================  ==========================  ==========================================
  JAX (adseq), any    ``xla_memory_analysis``     the compiled executable's own accounting,
                                                  ``Compiled.memory_analysis()``: arguments
                                                  + outputs + temporaries - aliased
  PyTorch, CPU        ``torch_cpu_alloc_peak``    one untimed call under the profiler's
                                                  allocation events (``profile_memory``,
                                                  op recording off): the peak of live bytes
                                                  above the call's start, plus its argument
                                                  tensors (saved tensors of a backward
                                                  included; compiled PyTorch the same)
  PyTorch, CPU, slow  ``cpu_rss_one_call``        calls over TORCH_PROFILED_S: one call's
                                                  resident growth after ``malloc_trim``
                                                  (page-granular), plus the arguments
  PyTorch, CUDA       ``torch_cuda_max_allocated`` one call: max_memory_allocated after a
                                                  reset, above the start, plus the arguments
  NumPy               ``numpy_tracemalloc_peak``  one call under tracemalloc (NumPy reports
                                                  its buffers to it), plus the arguments
  NEST, ONNX, train   ``not_measured_*``          no figure; the method names why
  ==================  ==========================  ==========================================

- the whole case's figures (``Whole``): `rss_delta_bytes`, the worker's resident high-water
  mark above its start (the framework's start-up cost, compile and caches included) and, on a
  JAX accelerator, `alloc_peak_bytes`, its allocator's peak in the fresh worker.
"""

from __future__ import annotations

import resource


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class CpuPeak:
    """Peak resident memory of a case above the worker's resident memory when it began.

    Linux: reset the high-water mark (write 5 to /proc/self/clear_refs) at the start, read
    VmHWM at the end (method `cpu_vmhwm_delta`). Elsewhere: ru_maxrss, which cannot be reset,
    so the figure also covers anything earlier in the worker (method `cpu_maxrss_delta`).
    """

    def __enter__(self):
        self.base_kb = _status_kb("VmRSS")
        self.method = None
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.method = "cpu_vmhwm_delta"
        except OSError:
            self.base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            self.method = "cpu_maxrss_delta"
        return self

    def __exit__(self, *exc):
        if self.method == "cpu_vmhwm_delta":
            peak = _status_kb("VmHWM")
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.peak_bytes = (
            None if peak is None or self.base_kb is None else max(0, (peak - self.base_kb) * 1024)
        )
        return False


class JaxDevicePeak:
    """JAX accelerators: peak_bytes_in_use cannot be reset, so it is only meaningful in a fresh
    worker per case (which the harness gives every case)."""

    def __init__(self, device):
        self.device = device
        self.method = "jax_peak_bytes_fresh_worker"

    def __enter__(self):
        stats = self.device.memory_stats() or {}
        self.base = stats.get("bytes_in_use", 0)
        return self

    def __exit__(self, *exc):
        stats = self.device.memory_stats() or {}
        peak = stats.get("peak_bytes_in_use")
        self.peak_bytes = None if peak is None else max(0, peak - self.base)
        return False


class Whole:
    """The whole case's memory (module docstring): ``rss_delta_bytes`` (the worker's resident
    high-water mark above its start; ONNX Runtime's CPU provider and NEST work in that memory
    too) and ``alloc_peak_bytes`` (a JAX accelerator allocator's peak, None elsewhere)."""

    def __init__(self, framework: str, device_kind: str, handle=None):
        self.rss = CpuPeak()
        jax_accel = framework in ("jax", "adseq") and device_kind in ("gpu", "tpu")
        self.alloc = JaxDevicePeak(handle) if jax_accel else None

    def __enter__(self):
        self.rss.__enter__()
        if self.alloc is not None:
            self.alloc.__enter__()
        return self

    def __exit__(self, *exc):
        self.rss.__exit__(*exc)
        if self.alloc is not None:
            self.alloc.__exit__(*exc)
        return False

    def columns(self) -> dict:
        return {
            "rss_delta_bytes": self.rss.peak_bytes,
            "alloc_peak_bytes": None if self.alloc is None else self.alloc.peak_bytes,
        }


def leaves(tree) -> list:
    """The arrays of a nested argument structure (tuples, lists, named tuples, dicts; other
    objects' public array attributes, e.g. adseq's queue classes, are pytrees of JAX)."""
    if tree is None or isinstance(tree, (str, bytes, int, float, bool)):
        return []
    if isinstance(tree, dict):
        return [x for v in tree.values() for x in leaves(v)]
    if isinstance(tree, (tuple, list)):
        return [x for v in tree for x in leaves(v)]
    if hasattr(tree, "nbytes") and hasattr(tree, "shape"):
        return [tree]
    try:
        import jax

        return [x for x in jax.tree_util.tree_leaves(tree) if hasattr(x, "nbytes")]
    except ImportError:
        return []


def nbytes(tree, distinct: bool = True) -> int:
    """Bytes of the arrays in `tree`: with `distinct`, a buffer passed twice counts once (what
    a call's arguments occupy); without, every field counts (a state whose fields start as
    one shared zeros buffer carries them apart after its first step)."""
    seen, total = set(), 0
    for x in leaves(tree):
        key = _buffer_key(x)
        if distinct and key in seen:
            continue
        seen.add(key)
        total += int(x.nbytes)
    return total


def _buffer_key(x):
    ptr = getattr(x, "data_ptr", None)
    if callable(ptr):  # torch: one storage, one count
        try:
            return ("torch", x.untyped_storage().data_ptr())
        except (RuntimeError, AttributeError):
            return ("torch", ptr())
    return ("id", id(x))


class _quiet_stderr:
    """File descriptor 2 sent to /dev/null for the block: the profiler's C++ side prints a
    start and a stop line there for every session (not through Python), which would fill
    the sweep's terminal with two lines a row. Exceptions still propagate as exceptions."""

    def __enter__(self):
        import os
        import sys

        sys.stderr.flush()
        self.saved = os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)
        return self

    def __exit__(self, *exc):
        import os

        os.dup2(self.saved, 2)
        os.close(self.saved)
        return False


def _torch_cpu_peak(call, sync) -> int:
    """Peak live CPU bytes allocated during one call above its start (profiler allocation
    events; op recording is switched off, which keeps the call within ~3x its time)."""
    import torch
    import torch.autograd.profiler as autograd_profiler
    from torch._C._profiler import _EventType

    # the autograd profiler, not torch.profiler.profile: the latter's first session in a
    # process took 1.1 s (and every case runs in a fresh worker), this one milliseconds;
    # both record the same allocation events
    with _quiet_stderr(), autograd_profiler.profile(profile_memory=True, use_cpu=True) as prof:
        torch.autograd._enable_record_function(False)
        try:
            out = sync(call())
        finally:
            torch.autograd._enable_record_function(True)
    del out

    def walk(nodes):
        for n in nodes:
            yield n
            yield from walk(n.children)

    allocs = sorted(
        (
            n
            for n in walk(prof.kineto_results.experimental_event_tree())
            if n.tag == _EventType.Allocation and str(n.extra_fields.device).startswith("cpu")
        ),
        key=lambda n: n.start_time_ns,
    )
    if not allocs:
        return 0
    base = allocs[0].extra_fields.total_allocated - allocs[0].extra_fields.alloc_size
    return max(0, max(n.extra_fields.total_allocated for n in allocs) - base)


def _trimmed_rss_peak(call, sync) -> int | None:
    """Resident-memory growth of one call (Linux): glibc returns its free pages first
    (``malloc_trim``), the high-water mark is reset (``clear_refs``), and the peak resident
    size during the call, less the size before it, is what the call touched anew at most at
    once -- page-granular (Linux batches each thread's count, 64 page faults at a time: a
    few hundred kB either way), and counting the interpreter's own allocations too. No
    overhead, for calls the allocation profiler would slow tenfold (``TORCH_PROFILED_S``)."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
        base = _status_kb("VmRSS")
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return None
    out = sync(call())
    peak = _status_kb("VmHWM")
    del out
    if base is None or peak is None:
        return None
    return max(0, peak - base) * 1024


def _torch_cuda_peak(call, sync, device) -> int:
    import torch

    sync(None)
    base = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    out = sync(call())
    peak = torch.cuda.max_memory_allocated(device)
    del out
    return max(0, peak - base)


def _numpy_peak(call) -> int:
    import tracemalloc

    was = tracemalloc.is_tracing()
    if not was:
        tracemalloc.start()
    tracemalloc.reset_peak()
    start = tracemalloc.get_traced_memory()[0]
    out = call()
    peak = tracemalloc.get_traced_memory()[1]
    del out
    if not was:
        tracemalloc.stop()
    return max(0, peak - start)


NOT_MEASURED = {"nest": "not_measured_nest", "onnx": "not_measured_ort"}


# A PyTorch CPU call whose median is above this is measured by its resident-memory growth
# (``cpu_rss_one_call``) instead of the allocation profiler, which records every allocation
# and slows an allocation-heavy eager loop tenfold (measured: the serial event-LIF network's
# 2.5 s call took 26 s profiled, 3.2 million allocation events)
TORCH_PROFILED_S = 0.3


def kernel_figure(
    framework: str,
    device_kind: str,
    call,
    sync,
    handle=None,
    args=(),
    median_s: float | None = None,
) -> tuple[int | None, str]:
    """(bytes, method) of one call of `call` (module docstring's table). `args` are the
    arrays the call takes, counted where the method sees only what the call allocates. The
    PyTorch and NumPy methods run one more, untimed, call."""
    if device_kind == "lpu":
        return None, "not_measured_lpu"
    if framework in NOT_MEASURED:
        return None, NOT_MEASURED[framework]
    if framework in ("jax", "adseq"):
        compiled = getattr(call, "compiled", None)
        stats = None if compiled is None else compiled.memory_analysis()
        if stats is None:
            return None, "not_measured_xla"
        return (
            int(
                stats.argument_size_in_bytes
                + stats.output_size_in_bytes
                + stats.temp_size_in_bytes
                - stats.alias_size_in_bytes
            ),
            "xla_memory_analysis",
        )
    if framework in ("torch", "torch-compile"):
        if device_kind == "gpu":
            import torch

            if torch.cuda.is_available():
                return _torch_cuda_peak(call, sync, handle) + nbytes(
                    args
                ), "torch_cuda_max_allocated"
            return None, "not_measured_torch_" + str(getattr(handle, "type", "gpu"))
        if median_s is not None and median_s > TORCH_PROFILED_S:
            grown = _trimmed_rss_peak(call, sync)
            if grown is None:
                return None, "not_measured_torch_cpu_slow"
            return grown + nbytes(args), "cpu_rss_one_call"
        return _torch_cpu_peak(call, sync) + nbytes(args), "torch_cpu_alloc_peak"
    if framework == "numpy":
        return _numpy_peak(call) + nbytes(args), "numpy_tracemalloc_peak"
    return None, f"not_measured_{framework}"


def loop_state_bytes(fn, args, kwargs=None, static=None) -> int | None:
    """Bytes of the state a JAX kernel carries from step to step: the carry of its outermost
    loop (``scan``, ``while``) at the case's shapes, read from the traced program (the
    arrays' avals), the largest where several run one after the other; None when the program
    has no loop (its inputs and outputs are then all it holds)."""
    import jax
    import jax.extend as jex
    import numpy as np

    kwargs, static = kwargs or {}, static or {}
    closed = jax.make_jaxpr(lambda *a: fn(*a, **kwargs, **static))(*args)

    def aval_bytes(v):
        aval = v.aval
        return int(np.prod(aval.shape, dtype=np.int64)) * np.dtype(aval.dtype).itemsize

    def carries(jaxpr):
        for eqn in jaxpr.eqns:
            name = eqn.primitive.name
            if name == "scan":
                n_c, n_k = eqn.params["num_consts"], eqn.params["num_carry"]
                yield sum(aval_bytes(v) for v in eqn.invars[n_c : n_c + n_k])
            elif name == "while":
                skip = eqn.params["cond_nconsts"] + eqn.params["body_nconsts"]
                yield sum(aval_bytes(v) for v in eqn.invars[skip:])
            else:  # a call (jit, custom rules, cond branches): look inside, not into loops
                for sub in jex.core.jaxprs_in_params(eqn.params):
                    yield from carries(sub)

    found = list(carries(closed.jaxpr))
    return max(found) if found else None
