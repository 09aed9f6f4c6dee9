"""The public kernel API: each family's `.jax` and `.torch` modules expose the same names with
the same signatures (less what a twin declares its own, ``FRAMEWORK_ONLY``), and the suite
imports with only one of JAX / PyTorch installed."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import textwrap

import pytest

FAMILIES = ("queues", "event_lif", "psu")
PLAIN = (int, float, str, bool, tuple, type(None))


def _params(fn, drop=()):
    out = []
    for p in inspect.signature(fn).parameters.values():
        if p.name in drop:
            continue
        default = (
            p.default
            if isinstance(p.default, PLAIN) or p.default is p.empty
            else "<framework object>"
        )  # e.g. jnp.float32 / torch.float32
        out.append((p.name, p.kind, default))
    return out


@pytest.mark.parametrize("family", FAMILIES)
def test_twins_expose_the_same_names_and_signatures(family):
    pytest.importorskip("jax")
    pytest.importorskip("torch")
    j = importlib.import_module(f"spikebench.kernels.{family}.jax")
    t = importlib.import_module(f"spikebench.kernels.{family}.torch")
    own = {n for n, extra in t.FRAMEWORK_ONLY.items() if extra == ()}
    assert set(j.__all__) == set(t.__all__) - own
    assert not j.FRAMEWORK_ONLY or set(j.FRAMEWORK_ONLY) <= set(j.__all__)
    for name in j.__all__:
        a, b = getattr(j, name), getattr(t, name)
        if isinstance(a, type):
            assert getattr(a, "_fields", None) == getattr(b, "_fields", None), name
            continue
        assert _params(a, j.FRAMEWORK_ONLY.get(name, ())) == _params(
            b, t.FRAMEWORK_ONLY.get(name, ())
        ), name
    # and the package re-exports them lazily
    pkg = importlib.import_module(f"spikebench.kernels.{family}")
    assert pkg.jax is j and pkg.torch is t


BLOCK = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == {blocked!r} or name.startswith({blocked!r} + "."):
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
sys.meta_path.insert(0, Block())
"""

CHECK = """
import spikebench, spikebench.families, spikebench.cli, spikebench.report.site
import spikebench.submission.validate
import spikebench.kernels.queues, spikebench.kernels.psu, spikebench.kernels.event_lif
from spikebench import families, registry
families.load_kernels()
assert {blocked!r} in registry.UNAVAILABLE, registry.UNAVAILABLE
assert {other!r} not in registry.UNAVAILABLE, registry.UNAVAILABLE
import spikebench.kernels.queues.{other} as q
assert q.init("fifo", 2, 3).size.shape[0] == 2
fams = spikebench.families.FAMILIES
assert set(fams) >= {{"event_lif", "psu", "queues"}}
"""


@pytest.mark.parametrize("blocked,other", [("torch", "jax"), ("jax", "torch")])
def test_the_suite_imports_with_only_one_framework(blocked, other):
    pytest.importorskip(other)
    code = BLOCK.format(blocked=blocked) + CHECK.format(blocked=blocked, other=other)
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-3000:]
