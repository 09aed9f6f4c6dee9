"""The PSU family's peer rows (SpikingJelly, snnTorch, Norse, spyx): each library's neuron,
run through its registered kernel on the family's inputs, against the float64 reference of the
equation the docs state for it -- and, through the harness, the rows and the report's table."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from spikebench import families, profiles, results
from spikebench.families.psu import PARAMS, models
from spikebench.hardware import frameworks
from spikebench.harness import runner
from spikebench.kernels.psu import _numpy as psu_np
from spikebench.report import peers as report_peers

pytest.importorskip("spikingjelly")
pytest.importorskip("snntorch")
pytest.importorskip("norse")
pytest.importorskip("spyx")

from spikebench.peers import FPT_ITERATIONS, MASKED_PSN_K  # noqa: E402
from spikebench.peers import _reference as ref  # noqa: E402

FAST = {"min_rounds": 1, "max_rounds": 1, "warmup": 0}
A, B, THETA = 1.0 / PARAMS.tau, 1.0 - 1.0 / PARAMS.tau, PARAMS.theta


def _inputs(t=24, batch=2, n=32):
    case = next(
        c
        for c in profiles.profile_cases("quick", ["cpu"], family=["psu"], framework=["jax"])
        if c.impl == "ipsu" and c.mode == "forward" and c.dataset == "gaussian"
    )
    case = dataclasses.replace(case, sizes=(("T", t), ("batch", batch), ("n_neurons", n)))
    return families.get("psu").make_inputs(case)


def _spikes(impl, fw, x, *learned, dtype="float64"):
    """The registered kernel's output on x (and the learned arrays), as NumPy [T, M]."""
    fn = families.implementation("psu", impl, fw).entry("neuron_forward").fn
    ad = frameworks.adapter(fw)
    dev = ad.device("cpu")
    args = [ad.put(np.asarray(a, dtype), dev) for a in (x, *learned)]
    out = ad.to_numpy(ad.sync(fn(*args, p=PARAMS, kind=impl)))
    return out.reshape(out.shape[0], -1).astype(np.float64)


@pytest.fixture(scope="module")
def inp():
    return _inputs()


def test_exact_peers_equal_discrete_lif(inp):
    lif = psu_np.forward("lif", inp["x"], PARAMS).spikes
    lif = lif.reshape(lif.shape[0], -1)
    for fw in ("spikingjelly", "norse"):
        assert np.array_equal(_spikes("lif", fw, inp["x"]), lif), fw
        assert models.MODELS[("lif", fw)].relation == "exact"


def test_snntorch_computes_the_stated_equation_and_parts_from_lif_where_stated(inp):
    x = inp["x"]
    out = _spikes("lif", "snntorch", x)
    spikes, _ = ref.snntorch_leaky(x, A, B, THETA)
    assert np.array_equal(out, spikes)
    lif = psu_np.forward("lif", x, PARAMS)
    s_lif = lif.spikes.reshape(len(out), -1)
    h = lif.v.reshape(len(out), -1)
    diff = out != s_lif
    assert diff.any(), "the inputs never exercise the stated difference"
    # the first difference of every lane: the membrane after the previous step's reset still
    # exceeded theta (H[t-1] - theta S[t-1] > theta), as the docs state
    lanes = np.nonzero(diff.any(axis=0))[0]
    first = np.argmax(diff, axis=0)[lanes]
    assert np.all(first > 0)
    post = h[first - 1, lanes] - THETA * s_lif[first - 1, lanes]
    assert np.all(post > THETA)


def test_spyx_neurons_compute_their_equations(inp):
    x = inp["x"]
    assert np.array_equal(_spikes("lif", "spyx", x), ref.spyx_lif(x, A, B, THETA)[0])
    assert np.array_equal(_spikes("psu_lif", "spyx", x), ref.spyx_psu_lif(x, A, B, THETA)[0])
    fpt = ref.spyx_fpt(x, A, B, THETA, FPT_ITERATIONS)[0]
    assert np.array_equal(_spikes("parallel_reset_lif", "spyx", x), fpt)
    # the reference of the fixed point: exact from K >= T on (spyx's own claim)
    assert np.array_equal(
        ref.spyx_fpt(x, A, B, THETA, x.shape[0])[0], ref.spyx_lif(x, A, B, THETA)[0]
    )
    assert not np.array_equal(fpt, ref.spyx_lif(x, A, B, THETA)[0])


def test_spikingjelly_psn_and_masked_psn_compute_their_equations(inp):
    x, w, b = inp["x"], inp["mat"], inp["mat_b"]
    assert np.array_equal(_spikes("psn", "spikingjelly", x, w, b), ref.psn(x, w, b - THETA)[0])
    masked = ref.psn(x, w, b - THETA, MASKED_PSN_K)[0]
    assert np.array_equal(_spikes("masked_psn", "spikingjelly", x, w, b), masked)
    assert not np.array_equal(masked, ref.psn(x, w, b - THETA)[0])


def test_models_refuse_what_they_cannot_check():
    with pytest.raises(ValueError, match="relation"):
        models.add("lif", "x", models.Model("same", "lif", "?"))
    with pytest.raises(ValueError, match="own"):
        models.add("lif", "x", models.Model("relative", "lif", "?"))
    with pytest.raises(ValueError, match="exact"):
        models.add("lif", "x", models.Model("exact", "lif", "?", reference=lambda *a: None))


def test_peer_rows_and_the_report_table(tmp_path):
    """Peer rows through the harness: correct, the exact ones equal to LIF, snnTorch's
    difference shown in lif_agreement; a peer output checked against the wrong model is
    incorrect; the report divides each by our time on the same case."""
    cs = profiles.profile_cases("quick", ["cpu"], family=["psu"])
    small = (("T", 24), ("batch", 2), ("n_neurons", 32))
    peers_ = [
        dataclasses.replace(c, sizes=small)
        for c in cs
        if c.framework in ("spikingjelly", "snntorch", "norse")
    ]
    ours = [
        dataclasses.replace(c, sizes=small)
        for c in cs
        if c.framework == "torch"
        and c.mode == "forward"
        and c.dataset == "gaussian"
        and c.impl in ("lif", "ipsu")
        and c.size["T"] == 256
        and c.size["n_neurons"] == 256
    ]
    with runner.Session(tmp_path, isolate=False, timing=FAST) as s:
        rows = [s.run(c) for c in list(dict.fromkeys(peers_ + ours))]
    by = {(r["impl"], r["framework"]): r for r in rows}
    assert all(r["status"] == "ok" and r["correct"] for r in rows), [
        (r["impl"], r["framework"], r["error"]) for r in rows if not r["correct"]
    ]
    assert by[("lif", "spikingjelly")]["lif_agreement"] == 1.0
    assert by[("lif", "norse")]["lif_agreement"] == 1.0
    assert by[("lif", "snntorch")]["lif_agreement"] < 1.0
    assert "mapped" in by[("lif", "snntorch")]["error"]

    table = report_peers.peer_table(results.read([s.csv_path])).set_index(["impl", "peer"])
    r = table.loc[("lif", "snntorch")]
    assert r["same_model"] == "mapped" and r["ours"] == "lif (torch)"
    assert r["peer_over_ours"] == pytest.approx(r["peer_s"] / r["ours_s"])
    assert table.loc[("psn", "spikingjelly"), "ours"] == "ipsu (torch)"
    assert table.loc[("psn", "spikingjelly"), "same_model"] == "relative"

    # the family's own tables never pool a peer row; the peers table has them all
    from spikebench.report import site

    site.render([s.csv_path], tmp_path / "report")
    md = (tmp_path / "report" / "summary.md").read_text()
    own, _, rest = md.partition(f"## {report_peers.TITLE}")
    assert rest and all(fw in rest for fw in ("spikingjelly", "snntorch", "norse"))
    family_part = own[own.index("## PSU family") :]
    assert not any(fw in family_part for fw in ("spikingjelly", "snntorch", "norse"))

    # the check fails a peer whose spikes are not its model's: snnTorch's output read as
    # SpikingJelly's (an exact model) differs away from the threshold
    fam = families.get("psu")
    case = next(c for c in peers_ if (c.impl, c.framework) == ("lif", "spikingjelly"))
    inputs = fam.make_inputs(case)
    reference, _ = fam.reference(case, inputs)
    wrong = _spikes("lif", "snntorch", inputs["x"], dtype="float32").reshape(inputs["x"].shape)
    chk = fam.check(case, inputs, wrong, reference)
    assert not chk["correct"] and chk["max_err"] > 0
