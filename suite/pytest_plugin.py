"""The spikebench pytest plugin (entry point ``pytest11``): the ``--benchmark`` options.

Registered as an installed plugin rather than in the repository's conftest.py so that pytest
knows the options before it collects: otherwise ``--data-dir DIR`` would make DIR a test path.
The behaviour (collect only the sweep, skip it otherwise) is in the repository's conftest.py
and benchmarks/conftest.py.

pytest still picks its root directory before any plugin's options are known, so with
``--data-dir DIR`` (two words, not ``--data-dir=DIR``) pytest derives its rootdir from DIR
(pytest-dev/pytest#8846): DIR itself, or the common ancestor of DIR and the working
directory. The sweep does not depend on the rootdir, but pytest's cache would then be written
into the user's data folder or its parent (after a failure): ``pytest_configure`` below
switches the cache plugins off in that case and says so in the header.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser):
    from . import profiles
    from .hardware import devices

    group = parser.getgroup("spikebench")
    group.addoption(
        "--benchmark",
        action="store_true",
        default=False,
        help="run the spikebench benchmark sweep (benchmarks/) instead of the tests",
    )
    group.addoption(
        "--bench-profile",
        default=None,
        choices=profiles.names(),
        help="sweep profile: quick (CPU default), full (accelerator default), gpu-smoke, selftest",
    )
    group.addoption(
        "--bench-device",
        action="append",
        default=None,
        choices=list(devices.KINDS),
        help="device kind to run on (repeatable; default: every kind present)",
    )
    group.addoption(
        "--bench-out",
        default=None,
        help="results root folder (default: results/ in the folder pytest runs from)",
    )
    group.addoption(
        "--bench-report",
        default=None,
        help="report folder (default: reports/<run> in the folder pytest runs from)",
    )
    group.addoption(
        "--dataset",
        default=None,
        metavar="NAME",
        help="run the cases that take event data on this dataset (`spikebench "
        "datasets` lists them); the others are left out",
    )
    group.addoption(
        "--data-dir",
        default=None,
        metavar="PATH",
        help="folder with the --dataset's files (the readers; `spikebench datasets` lists them)",
    )
    group.addoption(
        "--dataset-stats",
        default=None,
        metavar="FILE",
        help="statistics saved by `spikebench datasets stats FILE --save`: the "
        "--dataset stand-in follows them",
    )
    group.addoption(
        "--bench-shard",
        default=None,
        metavar="I/N",
        help="run shard I of N of the sweep (one job of a job array); "
        "`spikebench merge` combines the shards",
    )
    group.addoption(
        "--bench-filter",
        action="append",
        default=None,
        metavar="KEY=V1,V2",
        help="keep only cases with these values of any case field, size or knob, "
        "e.g. framework=jax, n_events=100,1000 or chunk=16 (repeatable; "
        "the same as `spikebench run --filter`)",
    )


def _data_dir_is_root(config) -> bool:
    """Did pytest see the data folder as a path argument (``--data-dir DIR``, two words)?"""
    return "--data-dir" in config.invocation_params.args


def sweep_cases(config):
    """The profile and cases of ``pytest --benchmark`` (its options); a bad option value is
    a pytest.UsageError naming it and the choices (pytest prints one line, exit code 4)."""
    from . import cli, profiles

    profile = config.getoption("--bench-profile") or cli.default_profile()
    kinds = config.getoption("--bench-device") or cli.default_devices()
    name, data_dir = config.getoption("--dataset"), config.getoption("--data-dir")
    stats = config.getoption("--dataset-stats")
    try:
        filters = profiles.parse_filters(config.getoption("--bench-filter"))
        cases, shard = profiles.select(
            profile,
            kinds,
            filters,
            dataset=name,
            data_dir=data_dir,
            stats_file=stats,
            shard_spec=config.getoption("--bench-shard"),
        )
        _outputs(config)
    except ValueError as exc:
        raise pytest.UsageError(
            str(exc).replace("the filters", "the --bench-filter values")
        ) from None
    return profile, cases, shard


def _outputs(config) -> None:
    """--bench-out and --bench-report (or their defaults under the folder pytest runs
    from) checked before the sweep (``outputs``): ValueError naming the option."""
    from pathlib import Path

    from . import outputs

    here = Path(config.invocation_params.dir)
    outputs.folder(config.getoption("--bench-out") or here / "results", "--bench-out")
    outputs.folder(config.getoption("--bench-report") or here / "reports", "--bench-report")


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    if config.getoption("--benchmark"):
        # expanded (and checked) before collection: a bad value stops the run at once
        config._spikebench_sweep = sweep_cases(config)
    if _data_dir_is_root(config):
        # nothing may be written next to the user's data (docs/guide/datasets.md)
        for name in ("lfplugin", "nfplugin", "stepwiseplugin"):
            if config.pluginmanager.has_plugin(name):
                config.pluginmanager.unregister(name=name)


def pytest_report_header(config):
    if _data_dir_is_root(config):
        return (
            f"spikebench: pytest took --data-dir {config.getoption('data_dir')} into its "
            f"rootdir (pytest-dev/pytest#8846); its cache is off so nothing is written "
            f"there (write --data-dir=DIR to keep the usual rootdir and cache)"
        )
    return None


class ReplayClock:
    """pytest-benchmark's timer for the sweep: a clock that reads the harness's samples.

    The harness owns timing (a worker process per case, device sync inside every timed
    call); pytest-benchmark owns statistics, comparison and storage. ``record_benchmark``
    loads a row's raw samples and runs ``benchmark.pedantic`` with one round per sample and
    a target that does nothing: pytest-benchmark reads this clock before and after each
    round, and the clock has moved by exactly that round's sample. Nothing is timed twice
    and no number is made up: the JSON holds the harness's samples, in order."""

    __name__ = "harness_samples"
    __module__ = "spikebench"

    def __init__(self):
        self.now = 0.0
        self.pending: list[float] = []
        self._started = False

    def load(self, samples) -> None:
        self.pending = [float(s) for s in samples]
        self._started = False

    def __call__(self) -> float:
        if self._started:  # the end of a round: advance by its sample
            self.now += self.pending.pop(0)
        self._started = not self._started
        return self.now


REPLAY = ReplayClock()


def record_benchmark(benchmark, row: dict) -> None:
    """Hand a usable row to pytest-benchmark: its raw samples (``ReplayClock``) and, as
    ``extra_info``, what the row is (case, sizes, compile time, correctness figure)."""
    from .results import row_label

    samples = str(row.get("samples_s") or "").split()
    if not samples or benchmark.disabled:  # --benchmark-disable: nothing to record
        return
    benchmark.group = f"{row['family']} {row['mode']}"
    benchmark.extra_info.update(
        {
            "case": row_label(row),
            "case_id": row.get("case_id"),
            "run_id": row.get("run_id"),
            "compile_s": row.get("compile_s"),
            "correct": bool(row.get("correct")),
            "max_err": row.get("max_err"),
            "throughput": row.get("throughput"),
            "throughput_unit": row.get("throughput_unit"),
            "peak_mem_bytes": row.get("peak_mem_bytes"),
            "mem_method": row.get("mem_method"),
            "state_bytes": row.get("state_bytes"),
            "threads": row.get("threads"),
            "spikebench_median_s": row.get("time_median_s"),
        }
    )
    REPLAY.load(samples)
    benchmark.pedantic(lambda: None, rounds=len(samples), iterations=1, warmup_rounds=0)
    if REPLAY.pending:  # pytest-benchmark read the clock other than twice a round
        raise RuntimeError(f"pytest-benchmark left {len(REPLAY.pending)} samples unread")
