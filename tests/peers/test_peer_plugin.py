"""The peers come in through the plugin API: loaded by their entry point, their rows
`unavailable` naming the package where it is missing, the extension calls refusing bad input."""

from __future__ import annotations

import dataclasses
import sys

import pytest
from spikebench import families, plugins, profiles, registry, rows
from spikebench.harness import runner

FAST = {"min_rounds": 1, "max_rounds": 1, "warmup": 0}


def test_the_peers_are_a_plugin_of_spikebench_itself():
    assert plugins.LOADED.get("peers") == "spikebench.peers"
    for name in ("jaxsnn", "spikingjelly", "snntorch", "spyx", "norse"):
        assert name in rows.FRAMEWORKS
    assert "snntorch" in families.get("psu").kernel_modules
    assert "jaxsnn" in families.get("event_lif").kernel_modules


def test_a_missing_peer_library_makes_its_rows_unavailable_naming_it(tmp_path, monkeypatch):
    case = next(
        c for c in profiles.profile_cases("quick", ["cpu"], family=["psu"], framework=["snntorch"])
    )
    case = dataclasses.replace(case, sizes=(("T", 4), ("batch", 1), ("n_neurons", 2)))
    monkeypatch.setitem(sys.modules, "snntorch", None)  # import snntorch -> ImportError
    monkeypatch.delitem(sys.modules, "spikebench.peers._snntorch", raising=False)
    monkeypatch.delitem(registry.REGISTRY, ("psu", "lif", "snntorch"), raising=False)
    monkeypatch.setattr(registry, "UNAVAILABLE", {})
    with runner.Session(tmp_path, isolate=False, timing=FAST) as s:
        row = s.run(case)
    assert row["status"] == "unavailable" and "snntorch is not installed" in row["error"]


def test_the_extension_calls_refuse_bad_input():
    fam = families.get("psu")
    with pytest.raises(ValueError, match="module names"):
        fam.add_kernels("mylib", ())
    with pytest.raises(ValueError, match="impls and frameworks"):
        fam.add_sweeps("quick", [{"impls": ["lif"]}])
