"""kernel_version follows imports: the hash of every spikebench module the registered entry's
module imports, transitively; inputs_version is the adapter's."""

from __future__ import annotations

import pytest
from spikebench import families, registry, versions


@pytest.fixture
def edited(monkeypatch, tmp_path):
    """edit(module): from now on the hash sees `module` with one more line."""
    real = versions._file

    def edit(module):
        copy = tmp_path / (module.replace(".", "_") + ".py")
        copy.write_bytes(real(module).read_bytes() + b"\n# an edit of a helper\n")

        def fake(name):
            return copy if name == module else real(name)

        monkeypatch.setattr(versions, "_file", fake)
        for f in (versions.closure, versions.source_hash):
            f.cache_clear()

    yield edit
    for f in (versions.closure, versions.source_hash):
        f.cache_clear()


def _version(impl, framework, entry):
    pytest.importorskip(framework)
    registry.load((framework,))
    return versions.kernel_version(registry.REGISTRY[("event_lif", impl, framework)], entry)


def test_editing_a_helper_of_jax_changes_the_parallel_rows_version(edited):
    before = {e: _version("parallel", "jax", e) for e in ("layer", "net_forward", "net_grad")}
    torch_before = _version("parallel", "torch", "layer") \
        if registry.REGISTRY.get(("event_lif", "parallel", "torch")) else None
    fam_before = versions.inputs_version(families.get("event_lif"))
    # _parallel_jax.py calls _jax.spike_time's helpers: an edit there is an edit of the rows
    edited("spikebench.kernels.event_lif._jax")
    after = {e: _version("parallel", "jax", e) for e in before}
    assert all(after[e] != before[e] for e in before), (before, after)
    if torch_before is not None:  # the PyTorch twin does not import _jax
        assert _version("parallel", "torch", "layer") == torch_before
    assert versions.inputs_version(families.get("event_lif")) == fam_before


def test_editing_the_adapter_changes_inputs_version_only(edited):
    kv = _version("serial", "jax", "layer")
    iv = versions.inputs_version(families.get("event_lif"))
    edited("spikebench.families.event_lif")
    assert versions.inputs_version(families.get("event_lif")) != iv
    assert _version("serial", "jax", "layer") == kv


def test_closure_lists_imports_transitively_and_packages():
    mods = versions.closure("spikebench.kernels.event_lif._parallel_jax")
    assert {"spikebench.kernels.event_lif._jax", "spikebench.kernels.event_lif._common",
            "spikebench.kernels._checks", "spikebench.kernels.event_lif"} <= set(mods)
    assert "spikebench.kernels.event_lif._torch" not in mods
    assert "spikebench" not in mods  # the version string must not make every row new
