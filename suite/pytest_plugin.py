"""The spikebench pytest plugin (entry point ``pytest11``): the ``--benchmark`` options.

Registered as an installed plugin rather than in the repository's conftest.py so that pytest
knows the options before it decides its root directory: otherwise ``--data-dir DIR`` would
make DIR look like a test path. The behaviour (collect only the sweep, skip it otherwise) is
in the repository's conftest.py and benchmarks/conftest.py.
"""

from __future__ import annotations


def pytest_addoption(parser):
    group = parser.getgroup("spikebench")
    group.addoption("--benchmark", action="store_true", default=False,
                    help="run the spikebench benchmark sweep (benchmarks/) instead of the tests")
    group.addoption("--bench-profile", default=None,
                    help="sweep profile: quick (CPU default), full (accelerator default)")
    group.addoption("--bench-device", action="append", default=None,
                    help="device kind to run on (repeatable; default: every kind present)")
    group.addoption("--bench-out", default=None,
                    help="results root folder (default: results/ in the repository)")
    group.addoption("--bench-report", default=None,
                    help="report folder (default: reports/<run>)")
    group.addoption("--dataset", default=None, metavar="NAME",
                    help="run the cases that take event data on this dataset (`spikebench "
                         "datasets` lists them); the others are left out")
    group.addoption("--data-dir", default=None, metavar="PATH",
                    help="folder with the --dataset's files (the readers; `spikebench "
                         "datasets` lists them)")
    group.addoption("--dataset-stats", default=None, metavar="FILE",
                    help="statistics saved by `spikebench datasets stats FILE --save`: the "
                         "--dataset stand-in follows them")
    group.addoption("--bench-filter", action="append", default=None, metavar="KEY=V1,V2",
                    help="keep only cases with these values, e.g. framework=jax or "
                         "n_events=100,1000 (repeatable)")
