"""`pytest --benchmark`: our own option (pytest-benchmark only has --benchmark-* flags, which
keep working for tests that use its `benchmark` fixture). The options live in the installed
plugin ``spikebench.pytest_plugin`` (so that pytest knows them before it looks at paths:
``--data-dir DIR`` must not be taken for a test path).

- plain `pytest`: the correctness tests; benchmark cases are skipped.
- `pytest --benchmark`: only the benchmark sweep (benchmarks/), on every device this machine
  has, with the quick profile on CPU-only machines and the full one on accelerators; writes
  results/<machine_id>/<utc>-<commit>.csv (+ .json) and renders the report into reports/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


def pytest_configure(config):
    config.addinivalue_line("markers", "bench_case: a benchmark sweep case")
    if config.getoption("--benchmark") and getattr(config.option, "numprocesses", None):
        # concurrent workers would time each other's kernels
        raise pytest.UsageError("the benchmark sweep must run in one process: drop -n")
    if not config.getoption("--benchmark"):
        # the correctness tests start many small runs (CLI subprocesses among them): none
        # measures the machine's peaks (~3 s each); tests/suite/test_limits.py measures them
        from spikebench.harness.runner import PEAKS_ENV

        os.environ.setdefault(PEAKS_ENV, "0")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        _one_torch_thread()


def _one_torch_thread():
    """Under xdist (the README's test command: 4 workers on a 2-core machine) each worker's
    PyTorch computes on one thread: with its default of one per core, OpenMP's spinning
    threads of four processes starve each other (measured: a PyTorch training test took 86 s
    beside three busy processes, 27 s with one thread; the whole suite's slowest test). Only
    this process: the harness's worker processes set their own thread count."""
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


def pytest_ignore_collect(collection_path, config):
    # The sweep needs only the runtime dependencies: do not even import the correctness tests
    # (they use the dev extras: hypothesis, scipy).
    tests = ROOT / "tests"
    if config.getoption("--benchmark") and tests in (collection_path, *collection_path.parents):
        return True
    return None


def pytest_collection_modifyitems(config, items):
    bench = config.getoption("--benchmark")
    keep, drop = [], []
    for item in items:
        is_case = item.get_closest_marker("bench_case") is not None
        if bench and not is_case:
            drop.append(item)
        else:
            keep.append(item)
            if not bench and is_case:
                item.add_marker(pytest.mark.skip(reason="benchmarks run with `pytest --benchmark`"))
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
