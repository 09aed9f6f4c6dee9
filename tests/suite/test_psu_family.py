"""The PSU family in the harness: rows of every neuron, level and mode are correct against the
NumPy reference, carry the sparsity figures, and a wrong output makes a row incorrect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from spikebench import cases, profiles
from spikebench.families import psu as fam
from spikebench.families.psu import report as report_psu
from spikebench.harness import runner
from spikebench.rows import PEERS


def _small(case, **sizes):
    return cases.Case(**{**case.__dict__, "sizes": tuple(sorted({**case.size, **sizes}.items()))})


@pytest.fixture(scope="module")
def psu_rows(tmp_path_factory):
    cs = [  # our rows (the peers': tests/peers)
        c
        for c in profiles.profile_cases("quick", ["cpu"], family=["psu"], dtype=["float32"])
        if c.framework not in PEERS
    ]
    neuron = [
        _small(c, n_neurons=16, batch=2)
        for c in cs
        if c.dataset == "gaussian" and c.size["T"] in (4, 256)
    ]
    # the network rows: JAX, PyTorch eager and PyTorch through torch.compile (LIF and PSU
    # forward in quick; IPSU and RPSU compiled, like the training step, are in `full`)
    compiled = [c for c in cs if c.framework == "torch-compile"]
    assert {c.impl for c in compiled} == {"lif", "psu"}
    extra = [
        cases.Case(**{**c.__dict__, "impl": impl})
        for c in compiled
        if c.impl == "psu"
        for impl in ("ipsu", "rpsu")
    ]
    net = [
        _small(c, n_neurons=16, batch=3)
        for c in cs + extra
        if c.dataset == "synthetic-shd" and c.size["T"] == 15
    ]
    assert len(neuron) == 32 and len(net) == 20
    assert {c.framework for c in net} == {"jax", "torch", "torch-compile"}
    with runner.Session(
        tmp_path_factory.mktemp("psu"), isolate=False, timing={"min_rounds": 3, "max_rounds": 3}
    ) as s:
        rows = [s.run(c) for c in neuron + net]
    rows_csv.append(s.csv_path)
    return rows


rows_csv: list = []


def test_every_psu_row_is_ok_and_correct(psu_rows):
    for row in psu_rows:
        assert row["status"] == "ok", row["error"]
        assert row["correct"] is True, row
        assert 0.0 < row["spike_rate"] < 1.0
        if row["impl"] == "lif":
            assert row["lif_agreement"] is None
        else:
            assert 0.3 < row["lif_agreement"] <= 1.0
    units = {r["throughput_unit"] for r in psu_rows}
    assert units == {"neuron-steps/s", "samples/s"}


def test_psu_ratios_and_crossover_from_rows(psu_rows):
    df = pd.DataFrame(psu_rows)
    r = report_psu.ratios(df)
    # 3 units x (2 modes x (2 frameworks x 2 neuron-level T + JAX and PyTorch at 1 network
    # T) + torch.compile's network forward)
    assert len(r) == 3 * (2 * (2 * 2 + 2) + 1)
    assert np.allclose(r["lif_over"], r["lif_s"] / r["impl_s"])
    cross = report_psu.crossover(df)
    assert set(cross["impl"]) == {"psu", "ipsu", "rpsu"}


def test_report_renders_the_psu_plot_and_tables(psu_rows, tmp_path):
    from spikebench.report import site as report

    written = report.render(rows_csv, tmp_path)
    assert (tmp_path / "psu.png").stat().st_size > 10_000 and (tmp_path / "psu.svg").exists()
    md = (tmp_path / "summary.md").read_text()
    assert "PSU family: LIF time / unit time" in md and "stops paying off" in md
    assert tmp_path / "index.html" in written


def test_a_wrong_output_makes_the_row_incorrect():
    case = next(
        c
        for c in profiles.profile_cases(
            "quick", ["cpu"], family=["psu"], framework=["jax"], impl=["psu"]
        )
        if c.dataset == "gaussian" and c.mode == "forward"
    )
    case = _small(case, T=8, n_neurons=8, batch=2)
    inputs = fam.FAMILY.make_inputs(case)
    ref, _ = fam.FAMILY.reference(case, inputs)
    good = fam.FAMILY.check(case, inputs, (ref["spikes"], ref["v"]), ref)
    assert good["correct"] and good["max_err"] == 0.0
    # a spike flipped where the potential is far from the threshold
    far = np.argmax(np.abs(ref["v"] - fam.PARAMS.theta))
    spikes = ref["spikes"].copy().ravel()
    spikes[far] = 1 - spikes[far]
    bad = fam.FAMILY.check(case, inputs, (spikes.reshape(ref["spikes"].shape), ref["v"]), ref)
    assert not bad["correct"] and bad["mismatch_frac"] > 0
    off = fam.FAMILY.check(case, inputs, (ref["spikes"], ref["v"] * (1 + 1e-3)), ref)
    assert not off["correct"] and off["max_err"] > 1e-4


def test_a_wrong_gradient_makes_the_row_incorrect():
    case = next(
        c
        for c in profiles.profile_cases(
            "quick", ["cpu"], family=["psu"], framework=["torch"], impl=["rpsu"]
        )
        if c.dataset == "gaussian" and c.mode == "grad"
    )
    case = _small(case, T=8, n_neurons=8, batch=2)
    inputs = fam.FAMILY.make_inputs(case)
    ref, _ = fam.FAMILY.reference(case, inputs)
    grads = {k: np.array(v, dtype=np.float64) for k, v in ref["grads"].items()}
    assert fam.FAMILY.check(case, inputs, (grads, ref["spikes"]), ref)["correct"]
    grads["mat"][3, 1] *= 1.5
    assert not fam.FAMILY.check(case, inputs, (grads, ref["spikes"]), ref)["correct"]


def test_psu_cases_reject_other_datasets():
    case = next(c for c in profiles.profile_cases("quick", ["cpu"], family=["psu"]))
    with pytest.raises(ValueError, match="gaussian"):
        fam.FAMILY.make_inputs(cases.Case(**{**case.__dict__, "dataset": "poisson"}))


def test_network_rows_are_checked_by_teacher_forcing():
    case = next(
        c
        for c in profiles.profile_cases(
            "quick", ["cpu"], family=["psu"], framework=["jax"], impl=["psu"]
        )
        if c.dataset == "synthetic-shd" and c.mode == "forward"
    )
    case = _small(case, n_neurons=12, batch=2, T=6)
    inputs = fam.FAMILY.make_inputs(case)
    ref, _ = fam.FAMILY.reference(case, inputs)
    from spikebench.kernels.psu import _numpy as ref_np

    out = ref_np.network(fam.net_tree(inputs["tree"], "psu"), inputs["x"], "psu", fam.PARAMS)
    good = fam.FAMILY.check(case, inputs, (out.logits, out.spikes), ref)
    assert good["correct"] and good["mismatch_frac"] == 0.0 and good["max_err"] == 0.0
    hidden = [s.copy() for s in out.spikes]
    far = np.unravel_index(np.argmax(np.abs(out.potentials[0] - fam.PARAMS.theta)), hidden[0].shape)
    hidden[0][far] = 1 - hidden[0][far]  # a flip nowhere near the threshold
    bad = fam.FAMILY.check(case, inputs, (out.logits, hidden), ref)
    assert not bad["correct"] and "away from the threshold" in bad["note"]


def test_torch_compile_framework_wraps_plain_kernels_and_calls_self_compiling_ones(monkeypatch):
    """TorchCompileFw: a plain kernel goes through torch.compile; one marked
    ``compiles_inside`` (it compiles its own loop body) is called as it is; both first calls
    are timed as compile_s."""
    torch = pytest.importorskip("torch")
    from spikebench.hardware.frameworks import ADAPTERS

    wrapped = []

    def fake_compile(fn, *args, **kwargs):  # records what the adapter hands to torch.compile
        wrapped.append(fn)
        return fn

    monkeypatch.setattr(torch, "compile", fake_compile)

    def kernel(x, *, scale):
        return x * scale

    def self_compiling(x, *, scale):
        return x * scale

    self_compiling.compiles_inside = True
    fw = ADAPTERS["torch-compile"]
    for fn, goes_through_compile in ((kernel, True), (self_compiling, False)):
        wrapped.clear()
        call, compile_s = fw.compile(fn, (torch.ones(3),), {}, {"scale": 2.0})
        assert compile_s is not None and compile_s >= 0
        assert torch.equal(call(), torch.full((3,), 2.0))
        assert bool(wrapped) is goes_through_compile
        assert all(w.func is fn and w.keywords == {"scale": 2.0} for w in wrapped)
