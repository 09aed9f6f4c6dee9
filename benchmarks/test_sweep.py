"""The benchmark sweep: one test per case of the profile (see benchmarks/conftest.py).

A case passes when its row is `ok` and correct; `unsupported` / `unavailable` rows are
recorded and reported as skips; `failed`, `timeout`, `oom` and incorrect rows fail the test
(the sweep goes on either way, and every row is in the CSV). An anchor row that disagrees for
its documented reason (README "Anchors": adseq's heap) is an expected failure naming it.

Each usable row is also handed to pytest-benchmark (``spikebench.pytest_plugin.
record_benchmark``: its raw samples, measured by the harness in the case's worker process,
feed pytest-benchmark's statistics), so ``--benchmark-json``, ``--benchmark-save``,
``--benchmark-autosave`` and ``--benchmark-compare`` work with ``pytest --benchmark``.
"""

import pytest
from spikebench.pytest_plugin import REPLAY, record_benchmark
from spikebench.report.anchors import known_difference


@pytest.mark.bench_case
@pytest.mark.benchmark(timer=REPLAY, warmup=False)
def test_case(bench_case, bench_session, benchmark):
    row = bench_session.run(bench_case)
    if row["status"] in ("unsupported", "unavailable"):
        pytest.skip(f"{row['status']}: {row['error']}")
    assert row["status"] == "ok", f"{row['status']}: {row['error']}"
    if not row["correct"] and known_difference(row):
        pytest.xfail(f"anchor differs from the reference: {known_difference(row)}")
    assert row["correct"], (
        f"incorrect result: max_err={row['max_err']}, mismatch_frac={row['mismatch_frac']}"
    )
    record_benchmark(benchmark, row)
