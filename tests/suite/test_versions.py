"""Versions that survive a refactor: kernel_version digests the normalised code the entry
reaches, inputs_version the inputs, reference and check settings. Moving code, renaming suite
helpers and editing docs change neither; a changed computation or input changes them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
from spikebench import families, registry, versions

ROOT = Path(__file__).resolve().parents[2]

KERNEL = textwrap.dedent('''
    """A kernel module."""
    import numpy as np

    DECAY = 0.9


    def _step(v, x):
        """One step."""
        return DECAY * v + x  # leak, then input


    def forward(xs):
        v = 0.0
        for x in xs:
            v = _step(v, x)
        return v


    def unrelated(xs):
        return np.sum(xs)
''')


def _digest(*sources, root="forward"):
    return versions.code_digest(sources, root)


def test_docs_comments_formatting_and_annotations_change_nothing():
    edited = (
        KERNEL.replace('"""One step."""', '"""One step of the leak (see docs/)."""')
        .replace("# leak, then input", "")
        .replace("def _step(v, x):", "def _step(v: float,\n          x: float) -> float:")
        .replace("import numpy as np", "import numpy as np  # noqa\nfrom math import exp")
    )
    assert _digest(edited) == _digest(KERNEL)


def test_moving_a_helper_to_another_module_changes_nothing():
    step = "def _step(v, x):\n    return DECAY * v + x\n"
    main = KERNEL.replace(
        'def _step(v, x):\n    """One step."""\n    return DECAY * v + x  # leak, then input\n', ""
    )
    assert "_step(v, x):" not in main.split("def forward")[0]
    assert _digest(main, "from ._helpers import *\n" + step) == _digest(KERNEL)


def test_editing_an_unreached_sibling_changes_nothing():
    assert _digest(KERNEL.replace("np.sum(xs)", "np.mean(xs)")) == _digest(KERNEL)
    # without a root every statement counts
    assert versions.code_digest(
        [KERNEL.replace("np.sum(xs)", "np.mean(xs)")]
    ) != versions.code_digest([KERNEL])


@pytest.mark.parametrize(
    "edit",
    [
        ("DECAY = 0.9", "DECAY = 0.95"),
        ("DECAY * v + x", "DECAY * v - x"),
        ("v = 0.0", "v = 1.0"),
        ("def _step", "def _step2"),
    ],
)
def test_a_changed_computation_changes_the_version(edit):
    assert _digest(KERNEL.replace(*edit)) != _digest(KERNEL)


@pytest.fixture
def edited(monkeypatch, tmp_path):
    """edit(module, old, new): from now on the digest sees `module` with `old` replaced."""
    real = versions._file

    def edit(module, old, new):
        text = real(module).read_text()
        assert old in text, (module, old)
        copy = tmp_path / (module.replace(".", "_") + ".py")
        copy.write_text(text.replace(old, new, 1))
        monkeypatch.setattr(versions, "_file", lambda name: copy if name == module else real(name))
        versions.closure.cache_clear()
        versions.module_digest.cache_clear()

    yield edit
    versions.closure.cache_clear()
    versions.module_digest.cache_clear()


def _version(impl, framework, entry, family="event_lif"):
    pytest.importorskip(framework)
    families.load_kernels((framework,))
    return versions.kernel_version(registry.REGISTRY[(family, impl, framework)], entry)


def test_a_real_kernel_edit_changes_only_the_rows_that_reach_it(edited):
    before = {e: _version("parallel", "jax", e) for e in ("layer", "net_forward")}
    serial = _version("serial", "jax", "layer")
    # the parallel JAX kernels call _common.derive: an edit of its arithmetic reaches them
    edited("spikebench.kernels.event_lif._common", "import", "import math as _unused\nimport")
    assert {e: _version("parallel", "jax", e) for e in before} == before  # an import only
    edited("spikebench.kernels.event_lif._parallel_jax", '"""', '"""An edited docstring. ')
    assert {e: _version("parallel", "jax", e) for e in before} == before
    # the scan's combine is arithmetic the parallel rows run and the serial rows never reach
    edited("spikebench.kernels.event_lif._parallel_jax", "c2 * i1 + i2", "c2 * i1 - i2")
    assert all(_version("parallel", "jax", e) != before[e] for e in before)
    assert _version("serial", "jax", "layer") == serial


def test_closure_lists_kernel_imports_transitively_and_packages():
    mods = versions.closure("spikebench.kernels.event_lif._parallel_jax")
    assert {
        "spikebench.kernels.event_lif._jax",
        "spikebench.kernels.event_lif._common",
        "spikebench.kernels._checks",
        "spikebench.kernels.event_lif",
    } <= set(mods)
    assert "spikebench.kernels.event_lif._torch" not in mods
    assert all(m.startswith("spikebench.kernels") for m in mods)  # no suite bookkeeping


INPUTS = {
    "times": np.linspace(0, 1, 50),
    "channels": np.arange(50) % 7,
    "stats": {"dataset": "poisson", "n": 50},
    "layers": (np.ones((3, 2), np.float32),),
}


def test_inputs_version_is_canonical_and_tolerates_last_bits():
    iv = versions.inputs_version(INPUTS, {"spikes": [np.array([0.25, 0.5])]}, {"tol": 1e-6})
    shuffled = dict(reversed(list(INPUTS.items())))
    nudged = {**INPUTS, "times": INPUTS["times"] * (1 + 2e-16)}
    ref = {"spikes": [np.array([0.25, 0.5]) * (1 + 1e-15)]}
    assert versions.inputs_version(shuffled, ref, {"tol": 1e-6}) == iv
    assert versions.inputs_version(nudged, ref, {"tol": 1e-6}) == iv


@pytest.mark.parametrize(
    "change", ["time", "channel", "dtype kind", "shape", "reference", "tolerance", "stat"]
)
def test_inputs_version_sees_every_real_change(change):
    ref, ctx = {"spikes": [np.array([0.25, 0.5])]}, {"tol": 1e-6}
    iv = versions.inputs_version(INPUTS, ref, ctx)
    x = {**INPUTS}
    if change == "time":
        x["times"] = INPUTS["times"] + np.eye(1, 50, 7)[0] * 1e-4
    elif change == "channel":
        x["channels"] = INPUTS["channels"].copy()
        x["channels"][3] += 1
    elif change == "dtype kind":
        x["channels"] = INPUTS["channels"].astype(float)
    elif change == "shape":
        x["layers"] = (np.ones((2, 3), np.float32),)
    elif change == "reference":
        ref = {"spikes": [np.array([0.25, 0.5001])]}
    elif change == "tolerance":
        ctx = {"tol": 1e-5}
    else:
        x["stats"] = {"dataset": "poisson", "n": 51}
    assert versions.inputs_version(x, ref, ctx) != iv


def test_inputs_version_refuses_what_it_cannot_digest():
    with pytest.raises(TypeError, match="cannot digest a generator"):
        versions.data_digest(x for x in range(3))


V7 = sorted(ROOT.joinpath("results").rglob("*2c7085f650b4.csv"))[0]


def test_older_rows_keep_module_hashes_unless_their_json_holds_digests(tmp_path):
    """Schema v7's module hashes are marked ``module:`` (they compare only with each other);
    the digests ``scripts/reversion.py`` stored in the JSON replace them row by row."""
    import json
    import shutil

    from spikebench import results

    csv = tmp_path / V7.name
    shutil.copy(V7, csv)
    ctx = json.loads(V7.with_suffix(".json").read_text())
    ctx.pop("versions_v8", None)
    csv.with_suffix(".json").write_text(json.dumps(ctx))
    df = results.read([csv])
    ran = df[df["kernel_version"].notna()]
    assert len(ran) and ran["kernel_version"].str.startswith("module:").all()
    assert ran["inputs_version"].str.startswith("module:").all()
    first = ran["case_id"].iloc[0]
    ctx["versions_v8"] = {
        "by": "test",
        "at_commit": "0" * 40,
        "cases": {first: ["0123456789ab", "ba9876543210"], "nosuchcase": ["1", "2"]},
    }
    csv.with_suffix(".json").write_text(json.dumps(ctx))
    df = results.read([csv])
    got = df[df["case_id"] == first]
    assert (got["kernel_version"] == "0123456789ab").all()
    assert (got["inputs_version"] == "ba9876543210").all()
    rest = df[(df["case_id"] != first) & df["kernel_version"].notna()]
    assert rest["kernel_version"].str.startswith("module:").all()
