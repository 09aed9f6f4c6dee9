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
    group = parser.getgroup("spikebench")
    group.addoption("--benchmark", action="store_true", default=False,
                    help="run the spikebench benchmark sweep (benchmarks/) instead of the tests")
    group.addoption("--bench-profile", default=None,
                    help="sweep profile: quick (CPU default), full (accelerator default)")
    group.addoption("--bench-device", action="append", default=None,
                    help="device kind to run on (repeatable; default: every kind present)")
    group.addoption("--bench-out", default=None,
                    help="results root folder (default: results/ in the folder pytest runs from)")
    group.addoption("--bench-report", default=None,
                    help="report folder (default: reports/<run> in the folder pytest runs from)")
    group.addoption("--dataset", default=None, metavar="NAME",
                    help="run the cases that take event data on this dataset (`spikebench "
                         "datasets` lists them); the others are left out")
    group.addoption("--data-dir", default=None, metavar="PATH",
                    help="folder with the --dataset's files (the readers; `spikebench "
                         "datasets` lists them)")
    group.addoption("--dataset-stats", default=None, metavar="FILE",
                    help="statistics saved by `spikebench datasets stats FILE --save`: the "
                         "--dataset stand-in follows them")
    group.addoption("--bench-shard", default=None, metavar="I/N",
                    help="run shard I of N of the sweep (one job of a job array); "
                         "`spikebench merge` combines the shards")
    group.addoption("--bench-filter", action="append", default=None, metavar="KEY=V1,V2",
                    help="keep only cases with these values, e.g. framework=jax or "
                         "n_events=100,1000 (repeatable)")


def _data_dir_is_root(config) -> bool:
    """Did pytest see the data folder as a path argument (``--data-dir DIR``, two words)?"""
    return "--data-dir" in config.invocation_params.args


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    if _data_dir_is_root(config):
        # nothing may be written next to the user's data (spec/datasets.md)
        for name in ("lfplugin", "nfplugin", "stepwiseplugin"):
            if config.pluginmanager.has_plugin(name):
                config.pluginmanager.unregister(name=name)


def pytest_report_header(config):
    if _data_dir_is_root(config):
        return (f"spikebench: pytest took --data-dir {config.getoption('data_dir')} into its "
                f"rootdir (pytest-dev/pytest#8846); its cache is off so nothing is written "
                f"there (write --data-dir=DIR to keep the usual rootdir and cache)")
    return None
