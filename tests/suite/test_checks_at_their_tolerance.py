"""Every family's correctness check at its tolerance: an output just inside it (half the
tolerance) is correct, one just outside (twice) is not. A check whose tolerance is loosened
(the mutation run's "logit tolerance x 1e6") or tightened, or whose comparison is dropped,
fails here. The outputs are the reference's own, perturbed, so the tests need no kernel run.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from spikebench import cases, profiles
from spikebench.families import event_lif as ev
from spikebench.families import psu
from spikebench.families import queues as qf

DTYPES = ("float64", "float32")
INSIDE, OUTSIDE = 0.5, 2.0


def _case(dtype, mode="forward", impl="psu"):
    return SimpleNamespace(dtype=dtype, mode=mode, impl=impl, framework="jax", size={})


# -- event LIF: networks (logits, spike counts, budget) and training steps ----------------------


def _ev_net(rng):
    logits = rng.normal(size=(4, 20))
    counts = [rng.integers(0, 5, size=(4, 8)), rng.integers(0, 5, size=(4, 20))]
    return {"logits": logits, "counts": counts}


@pytest.mark.parametrize("dtype", DTYPES)
def test_event_lif_network_logits_at_the_tolerance(dtype):
    ref = _ev_net(np.random.default_rng(0))
    ref["logits"][0, 0], ref["logits"][1, 2] = 1.0, 0.0  # scale 1, an entry at 0: exact errors
    ref["logits"] = np.clip(ref["logits"], -1.0, 1.0)
    n = sum(c.size for c in ref["counts"])
    for factor, correct in ((0.0, True), (INSIDE, True), (1.0, True), (OUTSIDE, False)):
        logits = ref["logits"].copy()
        logits[1, 2] = factor * ev.LOGIT_TOL[dtype]
        got = ev._check_net(_case(dtype), (logits, ref["counts"], 0), ref)
        assert got == {
            "correct": correct,
            "max_err": factor * ev.LOGIT_TOL[dtype],
            "mismatch_frac": 0.0,
            "n_checked": n,
            "note": None,
        }, (factor, got)
    over = ev._check_net(_case(dtype), (ref["logits"], ref["counts"], 3), ref)
    assert not over["correct"] and over["note"] == "budget overflow: 3"
    # the error is relative to the reference's largest logit, however small
    small = {**ref, "logits": ref["logits"] * 1e-6}
    got = ev._check_net(_case(dtype), (small["logits"] + 1e-12, ref["counts"], 0), small)
    assert got["max_err"] == pytest.approx(1e-6)
    # only the sampled rows are compared (a large sweep checks a subset)
    sub = {
        "logits": ref["logits"][[1, 3]],
        "counts": [c[[1, 3]] for c in ref["counts"]],
        "samples": np.array([1, 3]),
    }
    wrong = ref["logits"].copy()
    wrong[0] += 1.0  # a row outside the sample
    assert ev._check_net(_case(dtype), (wrong, ref["counts"], 0), sub)["correct"]
    wrong[3] += 1.0
    assert not ev._check_net(_case(dtype), (wrong, ref["counts"], 0), sub)["correct"]
    with pytest.raises(ValueError):  # a missing layer is an error, not a shorter comparison
        ev._check_net(_case(dtype), (ref["logits"], ref["counts"][:1], 0), ref)


@pytest.mark.parametrize("dtype", DTYPES)
def test_event_lif_network_spike_counts_at_the_allowed_mismatch(dtype):
    ref = _ev_net(np.random.default_rng(1))
    total = sum(int(c.sum()) for c in ref["counts"])
    allowed = int(ev.ALLOWED_MISMATCH[dtype] * total)
    for extra, correct in ((allowed, True), (allowed + 1, False)):
        counts = [c.copy() for c in ref["counts"]]
        counts[0][0, 0] += extra
        got = ev._check_net(_case(dtype), (ref["logits"], counts, 0), ref)
        assert got["correct"] is correct, (extra, got)
        assert got["mismatch_frac"] == extra / total
    one = {"logits": ref["logits"], "counts": [np.zeros((4, 8), int), np.zeros((4, 20), int)]}
    one["counts"][1][0, 0] = 1  # one reference spike, missed: all of them
    got = ev._check_net(
        _case(dtype), (ref["logits"], [np.zeros((4, 8), int), np.zeros((4, 20), int)], 0), one
    )
    assert got["mismatch_frac"] == 1.0 and not got["correct"]
    none = {"logits": ref["logits"], "counts": [np.zeros((4, 8), int), np.zeros((4, 20), int)]}
    assert (
        ev._check_net(_case(dtype), (ref["logits"], none["counts"], 0), none)["mismatch_frac"]
        == 0.0
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_event_lif_gradient_and_loss_at_the_tolerance(dtype):
    """Reference figures 1 / tolerance and integer errors make the relative errors exact, so
    the boundary (an error equal to the tolerance passes) is tested too."""
    g_tol, l_tol = ev.GRAD_TOL[dtype], ev.LOGIT_TOL[dtype]
    fd, loss = round(1 / g_tol), round(1 / l_tol)
    rng = np.random.default_rng(2)
    grads = [rng.normal(size=(8, 4)), rng.normal(size=(20, 8))]
    direction = [np.zeros_like(g) for g in grads]
    direction[0][0, 0] = direction[1][0, 0] = 1.0  # dd = g0[0, 0] + g1[0, 0], exactly
    grads[0][0, 0], grads[1][0, 0] = fd / 2, fd / 2
    ref = {"direction": direction, "fd": float(fd), "loss": float(loss)}
    n = sum(g.size for g in grads)

    def check(g_f=0.0, l_f=0.0, overflow=0, bad=None):
        gs = [g.copy() for g in grads]
        gs[0][0, 0] += g_f  # the directional derivative's error: g_f * g_tol, relative
        if bad is not None:
            gs[1][3, 3] = bad
        return ev._check_grad(_case(dtype, "grad"), (loss + l_f, (gs[:1], gs[1]), overflow), ref)

    for g_f, l_f, correct in (
        (0, 0, True),
        (INSIDE, INSIDE, True),
        (1.0, 0, True),
        (0, 1.0, True),
        (OUTSIDE, 0, False),
        (0, OUTSIDE, False),
    ):
        got = check(g_f, l_f)
        assert got["correct"] is correct, (g_f, l_f, got)
        assert got["max_err"] == pytest.approx(max(g_f * g_tol, l_f * l_tol), rel=1e-12)
        assert (got["mismatch_frac"], got["n_checked"], got["note"]) == (None, n, None)
    over = check(overflow=2)
    assert not over["correct"] and over["note"] == "budget overflow: 2"
    nan = check(bad=np.nan)
    assert not nan["correct"] and nan["note"] == "non-finite gradient (grazing crossing)"
    # relative to the reference's own scale, however small
    tiny = {**ref, "fd": fd * 1e-9, "loss": loss * 1e-9}
    gs = [g * 1e-9 for g in grads]
    got = ev._check_grad(
        _case(dtype, "grad"), (loss * 1e-9 * (1 + 0.5 * l_tol), (gs[:1], gs[1]), 0), tiny
    )
    assert got["max_err"] == pytest.approx(0.5 * l_tol, rel=1e-6) and got["correct"]
    with pytest.raises(ValueError):  # a missing layer's gradient is an error
        ev._check_grad(_case(dtype, "grad"), (1.0, ([], grads[1]), 0), ref)


# -- PSU family: neuron forward / gradient, network (teacher forcing) --------------------------


def _small(case, **sizes):
    return cases.Case(**{**case.__dict__, "sizes": tuple(sorted({**case.size, **sizes}.items()))})


def _psu_case(mode, dataset, dtype, framework="jax", impl="psu", **sizes):
    case = next(
        c
        for c in profiles.profile_cases(
            "quick", ["cpu"], family=["psu"], framework=[framework], impl=[impl]
        )
        if c.dataset == dataset and c.mode == mode
    )
    case = _small(case, **sizes)
    case = cases.Case(**{**case.__dict__, "dtype": dtype})
    inputs = psu.FAMILY.make_inputs(case)
    ref, _ = psu.FAMILY.reference(case, inputs)
    return case, inputs, ref


def _rates(impl, spikes, ref):
    return {
        "spike_rate": float(np.mean(spikes)),
        "lif_agreement": None if impl == "lif" else float(np.mean(spikes == ref["lif_spikes"])),
    }


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("impl", ["psu", "lif"])
def test_psu_neuron_potentials_at_the_tolerance(dtype, impl):
    case, inputs, ref = _psu_case(
        "forward", "gaussian", dtype, impl=impl, T=8, n_neurons=8, batch=2
    )
    v_ref, spikes = ref["v"], ref["spikes"]
    scale = float(np.max(np.abs(v_ref)))
    far = np.unravel_index(np.argmax(np.abs(v_ref)), v_ref.shape)
    for factor, correct in ((0.0, True), (INSIDE, True), (OUTSIDE, False)):
        v = v_ref.copy()
        v[far] += factor * psu.V_TOL[dtype] * scale * np.sign(v[far])
        got = psu.FAMILY.check(case, inputs, (spikes, v), ref)
        want = {
            "correct": correct,
            "mismatch_frac": 0.0,
            "n_checked": spikes.size,
            "note": None,
            **_rates(impl, spikes, ref),
        }
        assert {k: got[k] for k in want} == want and set(got) == {*want, "max_err"}, factor
        assert got["max_err"] == pytest.approx(factor * psu.V_TOL[dtype], rel=1e-3, abs=1e-300)


def _flip(ref, near: bool):
    """The spikes with one entry flipped: where the potential is nearest to / farthest from
    the threshold."""
    dist = np.abs(ref["v"] - psu.PARAMS.theta)
    k = np.unravel_index(np.argmin(dist) if near else np.argmax(dist), dist.shape)
    s = ref["spikes"].copy()
    s[k] = 1 - s[k]
    return s, k, float(dist[k])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("impl", ["psu", "lif"])
def test_psu_spike_flips_count_only_at_the_threshold(dtype, impl):
    case, inputs, ref = _psu_case(
        "forward", "gaussian", dtype, impl=impl, T=8, n_neurons=8, batch=2
    )
    t = ref["spikes"].shape[0]
    lanes = ref["spikes"].reshape(t, -1).shape[1]
    margin = psu.MARGIN[dtype] * max(1.0, psu.PARAMS.theta)
    for near in (True, False):
        s, k, dist = _flip(ref, near)
        got = psu.FAMILY.check(case, inputs, (s, ref["v"]), ref)
        graze = dist <= margin
        assert got["correct"] is graze, (near, dist, got)
        assert got["note"] == (None if graze else "spike mismatch away from the threshold")
        # lif: a flip carries forward through the reset, so its lane is left out; psu counts
        # the entry
        assert got["mismatch_frac"] == (1 / lanes if impl == "lif" else 1 / s.size)
        assert {k_: got[k_] for k_ in ("spike_rate", "lif_agreement")} == _rates(impl, s, ref)
    if impl == "lif":  # the flipped lane's potentials are not compared (they diverge)
        s, k, _ = _flip(ref, True)
        lane = np.ravel_multi_index(k[1:], ref["spikes"].shape[1:])
        v = ref["v"].copy().reshape(t, -1)
        v[:, lane] += 10.0
        got = psu.FAMILY.check(case, inputs, (s, v.reshape(ref["v"].shape)), ref)
        assert got["max_err"] == 0.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_psu_neuron_gradient_at_the_tolerance(dtype):
    case, inputs, ref = _psu_case(
        "grad", "gaussian", dtype, framework="torch", impl="rpsu", T=8, n_neurons=8, batch=2
    )
    n = sum(int(np.size(g)) for g in ref["grads"].values())
    for name in ref["grads"]:
        for factor, correct in ((0.0, True), (INSIDE, True), (OUTSIDE, False)):
            grads = {k: np.array(v, dtype=np.float64) for k, v in ref["grads"].items()}
            g = grads[name]
            k = np.unravel_index(np.argmax(np.abs(g)), g.shape)
            g[k] += factor * psu.GRAD_TOL[dtype] * np.max(np.abs(g)) * np.sign(g[k])
            got = psu.FAMILY.check(case, inputs, (grads, ref["spikes"]), ref)
            want = {
                "correct": correct,
                "mismatch_frac": 0.0,
                "n_checked": n,
                "note": None,
                **_rates("rpsu", ref["spikes"], ref),
            }
            assert {k_: got[k_] for k_ in want} == want, (name, factor, got)
            assert got["max_err"] == pytest.approx(
                factor * psu.GRAD_TOL[dtype], rel=1e-3, abs=1e-300
            )
        grads = {k: np.array(v, dtype=np.float64) for k, v in ref["grads"].items()}
        grads[name].flat[0] = np.nan
        assert not psu.FAMILY.check(case, inputs, (grads, ref["spikes"]), ref)["correct"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["forward", "grad"])
def test_psu_network_at_the_tolerance(dtype, mode):
    """The check the mutation run loosened by 1e6 without a test noticing (logits), and the
    training step's loss and gradients, against the teacher-forced reference."""
    from spikebench.kernels.psu import _numpy as ref_np

    case, inputs, ref = _psu_case(mode, "synthetic-shd", dtype, n_neurons=12, batch=2, T=6)
    tree = psu.net_tree(inputs["tree"], "psu")
    out = ref_np.network(tree, inputs["x"], "psu", psu.PARAMS)
    hidden = [np.asarray(h, np.float64) for h in out.spikes]
    rates = {
        "spike_rate": float(np.mean([h.mean() for h in hidden])),
        "lif_agreement": float(np.mean(hidden[0] == ref["lif_layer1"])),
    }
    if mode == "forward":
        scale = np.max(np.abs(out.logits))
        k = np.unravel_index(np.argmax(np.abs(out.logits)), out.logits.shape)
        for factor, correct in ((0.0, True), (INSIDE, True), (OUTSIDE, False)):
            logits = np.array(out.logits, np.float64)
            logits[k] += factor * psu.LOGIT_TOL[dtype] * scale * np.sign(logits[k])
            got = psu.FAMILY.check(case, inputs, (logits, out.spikes), ref)
            want = {
                "correct": correct,
                "mismatch_frac": 0.0,
                "n_checked": logits.size,
                "note": None,
                **rates,
            }
            assert {k_: got[k_] for k_ in want} == want, (factor, got)
            assert got["max_err"] == pytest.approx(
                factor * psu.LOGIT_TOL[dtype], rel=1e-3, abs=1e-300
            )
    else:
        loss, grads, _ = ref_np.loss_and_grad(
            tree, inputs["x"], inputs["labels"], "psu", psu.PARAMS, forced=hidden
        )
        n = sum(int(np.size(g)) for g in psu._flatten(grads))
        for g_f, l_f, correct in (
            (0, 0, True),
            (INSIDE, INSIDE, True),
            (OUTSIDE, 0, False),
            (0, OUTSIDE, False),
        ):
            gs = psu._flatten(grads)
            top = max(range(len(gs)), key=lambda i: np.max(np.abs(gs[i])))
            g = np.array(gs[top], np.float64)
            kk = np.unravel_index(np.argmax(np.abs(g)), g.shape)
            g[kk] += g_f * psu.GRAD_TOL[dtype] * np.max(np.abs(g)) * np.sign(g[kk])
            bad = _replace_leaf(grads, top, g)
            got = psu.FAMILY.check(
                case, inputs, (loss * (1 + l_f * psu.LOGIT_TOL[dtype]), bad, out.spikes), ref
            )
            want = {"correct": correct, "mismatch_frac": 0.0, "n_checked": n, "note": None, **rates}
            assert {k_: got[k_] for k_ in want} == want, (g_f, l_f, got)
            assert got["max_err"] == pytest.approx(
                max(g_f * psu.GRAD_TOL[dtype], l_f * psu.LOGIT_TOL[dtype]), rel=1e-3, abs=1e-300
            )
    # a hidden spike flipped far from the threshold is wrong, whatever the logits
    far = np.unravel_index(np.argmax(np.abs(out.potentials[0] - psu.PARAMS.theta)), hidden[0].shape)
    flipped = [h.copy() for h in hidden]
    flipped[0][far] = 1 - flipped[0][far]
    first = (
        (out.logits,)
        if mode == "forward"
        else (
            ref_np.loss_and_grad(
                tree, inputs["x"], inputs["labels"], "psu", psu.PARAMS, forced=flipped
            )[:2]
        )
    )
    got = psu.FAMILY.check(case, inputs, (*first, flipped), ref)
    assert not got["correct"] and got["note"] == "hidden spike differs away from the threshold"
    assert 0 < got["mismatch_frac"] < 0.1


def _replace_leaf(tree, index, value):
    """`tree` with its `index`-th leaf (``psu._flatten``'s order) replaced."""
    import copy

    out = copy.deepcopy(tree)
    leaves = psu._flatten(out)
    target = leaves[index]
    target[...] = value
    return out


# -- queues: the network (spike counts, spike-time sum, accounting, gradient) -------------------


def _net_out(count, time_sum, delivered, dropped, pending):
    return SimpleNamespace(
        spike_count=np.asarray(count),
        spike_time_sum=time_sum,
        delivered=delivered,
        dropped=dropped,
        pending=pending,
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_queue_network_at_the_tolerance(dtype):
    """Reference figures 1 / tolerance and integer errors make the relative errors exact, so
    an error equal to the tolerance is tested too."""
    tol, g_tol = qf.TOL[dtype], qf.GRAD_TOL[dtype]
    t_sum, fd = float(round(1 / tol)), float(round(1 / g_tol))
    count = np.array([2, 0, 1, 3])
    sent = int(count.sum()) * count.size  # 24
    ref = {
        "spike_count": count,
        "spike_time_sum": t_sum,
        "delivered": sent - 3,
        "dropped": 1,
        "pending": 2,
        "fd": fd,
    }
    case = _case(dtype)

    def check(t_err=0.0, count=count, **over):
        f = {
            "delivered": ref["delivered"],
            "dropped": ref["dropped"],
            "pending": ref["pending"],
            **over,
        }
        return qf._check_network(case, _net_out(count, t_sum + t_err, **f), ref)

    for t_err, correct in ((0.0, True), (INSIDE, True), (1.0, True), (OUTSIDE, False)):
        got = check(t_err)
        assert got == {
            "correct": correct,
            "max_err": pytest.approx(t_err * tol, rel=1e-12),
            "mismatch_frac": 0.0,
            "n_checked": 4,
            "drop_rate": 1 / sent,
            "note": None,
        }, (t_err, got)
    got = check(count=np.array([2, 1, 1, 3]))
    assert not got["correct"] and got["mismatch_frac"] == 0.25
    assert got["note"].startswith("spike counts differ from the reference-queue network")
    # moved between delivered and dropped: accounted, yet not the reference queues' figures
    got = check(delivered=ref["delivered"] - 1, dropped=2)
    assert not got["correct"] and got["drop_rate"] == 2 / sent
    assert got["note"] == (
        f"delivered {ref['delivered'] - 1} != {ref['delivered']} (reference "
        f"queues); dropped 2 != 1 (reference queues)"
    )
    assert not check(pending=3)["correct"]  # not accounted
    silent = np.zeros(4, int)
    quiet = {**ref, "spike_count": silent, "delivered": 0, "dropped": 0, "pending": 0}
    got = qf._check_network(case, _net_out(silent, t_sum, 0, 0, 0), quiet)
    assert got["correct"] and got["drop_rate"] == 0.0
    # relative to the reference's own scale, however small
    tiny = {**ref, "spike_time_sum": 1e-9}
    got = qf._check_network(
        case,
        _net_out(count, 1e-9 * (1 + 0.5 * tol), ref["delivered"], ref["dropped"], ref["pending"]),
        tiny,
    )
    assert got["max_err"] == pytest.approx(0.5 * tol, rel=1e-6) and got["correct"]

    grad = _case(dtype, "grad")
    out = _net_out(count, t_sum, ref["delivered"], ref["dropped"], ref["pending"])
    for g_err, correct in ((0.0, True), (INSIDE, True), (1.0, True), (OUTSIDE, False)):
        got = qf._check_network(grad, (None, fd + g_err, out), ref)
        assert got["correct"] is correct and got["note"] is None, (g_err, got)
        assert got["max_err"] == pytest.approx(g_err * g_tol, rel=1e-12)
    assert not qf._check_network(grad, (None, np.nan, out), ref)["correct"]
    got = qf._check_network(grad, (None, fd, out), {**ref, "fd": None})
    assert not got["correct"]
    assert got["note"] == "a spike appears or vanishes within the difference step"
    tiny = {**ref, "fd": 1e-9}
    got = qf._check_network(grad, (None, 1e-9 * (1 + 0.5 * g_tol), out), tiny)
    assert got["max_err"] == pytest.approx(0.5 * g_tol, rel=1e-6) and got["correct"]


def test_queue_timed_total_must_agree_with_the_instrumented_run():
    q = SimpleNamespace(keys=np.array([[1, 2]]), size=np.array([2]))
    hits = np.array([3, 4])
    assert qf._agree((q, np.int32(7)), (q, hits)) is None
    assert qf._agree((q, np.int32(6)), (q, hits)) == (
        "the timed run delivered 6 events, the instrumented run 7"
    )
    other = SimpleNamespace(keys=np.array([[1, 3]]), size=np.array([2]))
    assert qf._agree((other, 7), (q, hits)) == (
        "the timed run's final queue keys differ from the instrumented run's"
    )
    other = SimpleNamespace(keys=np.array([[1, 2]]), size=np.array([1]))
    assert qf._agree((other, 7), (q, hits)) == (
        "the timed run's final queue size differ from the instrumented run's"
    )


def test_rel_err_is_relative_to_the_reference_in_float64():
    from spikebench.families._base import rel_err

    assert rel_err(np.array([3.0, 1.0]), np.array([2.0, -4.0])) == 5.0 / 4.0
    assert rel_err(np.zeros(0), np.zeros(0)) == 0.0
    assert rel_err(np.array([1e-300]), np.array([0.0])) == 1.0  # a floor, not a division by 0
    # float32 inputs are compared in float64: 1e8 - 1 is not rounded to 1e8
    assert rel_err(np.float32([1e8]), np.float32([1.0])) == 99999999.0
    assert rel_err(np.float32([1.0]), np.float32([1e8])) == 99999999.0 / 1e8


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("design", ["fifo", "ring", "sorted"])
def test_queue_traffic_accounts_for_every_offered_event(dtype, design):
    """delivered + dropped + pending == offered in every queue, and the replayed lanes equal
    the reference queues' figures exactly (no tolerance: they are counts and one sum)."""
    from spikebench.kernels.queues._common import SENTINEL

    sent = np.array([5, 4, 6, 3])
    if design == "ring":  # a ring's keys hold the events due per slot
        keys = np.array([[1, 0, 0], [0, 0, 0], [2, 0, 0], [0, 0, 0]])
        size = np.zeros(4, int)
    elif design == "fifo":
        keys, size = np.zeros((4, 3), int), np.array([1, 0, 2, 0])
    else:
        keys = np.full((4, 3), SENTINEL)
        keys[0, 0], keys[2, :2] = 7, (8, 9)
        size = np.zeros(4, int)
    pending = np.array([1, 0, 2, 0])
    dropped = np.array([1, 0, 0, 1])
    hits = sent - dropped - pending
    pays = hits * 1.5
    q = SimpleNamespace(keys=keys, size=size, dropped=dropped)
    inputs = {"lanes": np.array([0, 2])}
    ref = {
        "delivered": hits[[0, 2]],
        "pay_sum": pays[[0, 2]],
        "dropped": dropped[[0, 2]],
        "enqueued": sent[[0, 2]],
    }
    case = SimpleNamespace(dtype=dtype, mode="forward", impl=design)
    good = qf._check_traffic(case, inputs, (q, hits, pays, sent), ref)
    assert good == {
        "correct": True,
        "max_err": 0.0,
        "mismatch_frac": 0.0,
        "n_checked": 2,
        "note": None,
        "drop_rate": 2 / 18,
    }
    lost = hits.copy()
    lost[1] -= 1  # a queue outside the replayed lanes: only the accounting sees it
    got = qf._check_traffic(case, inputs, (q, lost, pays, sent), ref)
    assert not got["correct"] and got["note"] == "delivered + dropped + pending != offered"
    assert got["mismatch_frac"] == 0.0
    for name in ("delivered", "pay_sum", "dropped", "enqueued"):
        wrong = {**ref, name: ref[name] + np.array([0, 1])}
        got = qf._check_traffic(case, inputs, (q, hits, pays, sent), wrong)
        assert not got["correct"] and got["mismatch_frac"] == 0.5, name
    moved = pays.copy()
    moved[2] += 0.25
    got = qf._check_traffic(case, inputs, (q, hits, moved, sent), ref)
    assert not got["correct"] and got["max_err"] == 0.25 and got["mismatch_frac"] == 0.5
    none = np.zeros(4, int)
    empty = SimpleNamespace(
        keys=np.zeros((4, 3), int) if design != "sorted" else np.full((4, 3), SENTINEL),
        size=none,
        dropped=none,
    )
    zero = {k: np.zeros(2) for k in ref}
    got = qf._check_traffic(case, inputs, (empty, none, none * 1.0, none), zero)
    assert got["correct"] and got["drop_rate"] == 0.0


# -- event LIF: one layer (spike trains, buffers, budgets) and the bare scan -------------------


def _layer(mode_impl="serial"):
    """Two samples x two neurons, spike trains of the reference kind, in the adapter's shape:
    spike_times [B, N, S] padded with inf, counts [B, N]."""
    ref_spikes = {
        (0, 0): [0.002, 0.004],
        (0, 1): [],
        (1, 0): [0.003],
        (1, 1): [0.001, 0.002, 0.005],
    }
    lanes = list(ref_spikes)
    st = np.full((2, 2, 4), np.inf)
    counts = np.zeros((2, 2), int)
    for (b, n), r in ref_spikes.items():
        st[b, n, : len(r)], counts[b, n] = r, len(r)
    inputs = {
        "times": np.array([[0.0, 0.001], [0.0, 0.002]]),
        "channels": np.array([[0, 1], [1, -1]]),
        "weights": np.full((2, 2), 300.0),
    }
    # a current far above theta: the spike times are well conditioned (the bound is TOL)
    ref = {"lanes": lanes, "spikes": [np.asarray(ref_spikes[ln]) for ln in lanes]}
    return inputs, ref, st, counts


def _ev_case(dtype, impl="serial"):
    return SimpleNamespace(
        dtype=dtype,
        mode="forward",
        impl=impl,
        size={"n_layers": 1},
        knob={},
        family="event_lif",
        framework="jax",
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_event_lif_layer_spikes_at_the_tolerance(dtype, monkeypatch):
    monkeypatch.setattr(
        ev, "ref_kind", lambda case: "serial" if case.impl != "bare_scan" else "bare_scan"
    )
    inputs, ref, st, counts = _layer()
    case = _ev_case(dtype)
    stalled = np.zeros((2, 2), bool)
    tol = ev.TOL[dtype] * ev.LAYER.tau_mem  # the bound of a spike before tau_mem
    for shift, correct in ((0.0, True), (INSIDE, True), (OUTSIDE, False)):
        s = st.copy()
        s[1, 1, 0] += shift * tol
        got = ev.FAMILY.check(case, inputs, (s, counts, stalled), ref)
        if correct:
            assert got == {
                "correct": True,
                "max_err": pytest.approx(shift * ev.TOL[dtype], rel=1e-6, abs=1e-300),
                "mismatch_frac": 0.0,
                "n_checked": 4,
                "note": None,
            }, (shift, got)
        else:
            assert not got["correct"] and got["note"].startswith("1 spike(s) missing"), got
            assert got["mismatch_frac"] == pytest.approx(1 / 6)
    missing = counts.copy()
    missing[1, 1] = 2  # the last reference spike never came
    got = ev.FAMILY.check(case, inputs, (st, missing, stalled), ref)
    assert not got["correct"] and got["note"] == (
        "1 spike(s) missing, extra or off beyond the bound (not a grazing crossing)"
    )
    over = counts.copy()
    over[0, 0] = 5  # more spikes than the buffer holds
    got = ev.FAMILY.check(case, inputs, (st, over, stalled), ref)
    assert got == {
        "correct": False,
        "max_err": None,
        "mismatch_frac": None,
        "n_checked": 4,
        "note": "spike buffer overflow",
    }
    left = np.array([[False, True], [False, False]])  # a parallel run's unconsumed queue
    got = ev.FAMILY.check(case, inputs, (st, counts, stalled, left), ref)
    assert got["note"] == "unprocessed events (step budget)" and not got["correct"]
    assert ev.FAMILY.check(case, inputs, (st, counts, stalled, ~left & False), ref)["correct"]
    assert not ev.FAMILY.check(case, inputs, (st, counts, left), ref)["correct"]  # stalled
    empty = {"lanes": [(0, 1)], "spikes": [np.zeros(0)]}
    got = ev.FAMILY.check(case, inputs, (st, counts, stalled), empty)
    assert got["correct"] and got["mismatch_frac"] == 0.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_event_lif_bare_scan_state_at_the_tolerance(dtype, monkeypatch):
    monkeypatch.setattr(ev, "ref_kind", lambda case: "bare_scan")
    v = np.array([[0.5, 0.25]])
    i = np.array([[1.0, 2.0]])
    ref = {"lanes": [(0, 0), (0, 1)], "vi": [(0.5, 1.0, 1.0, 2.0), (0.25, 2.0, 1.0, 2.0)]}
    case = _ev_case(dtype, "bare_scan")
    tol = ev.TOL[dtype]
    for dv, di, correct in (
        (0.0, 0.0, True),
        (INSIDE, 0.0, True),
        (0.0, INSIDE, True),
        (OUTSIDE, 0.0, False),
        (0.0, OUTSIDE, False),
    ):
        vv, ii = v.copy(), i.copy()
        vv[0, 1] += dv * tol * 1.0  # relative to the lane's voltage scale 1.0
        ii[0, 0] += di * tol * 2.0  # ... and current scale 2.0
        got = ev.FAMILY.check(case, {}, (vv, ii), ref)
        assert got["correct"] is correct and got["n_checked"] == 2, (dv, di, got)
        assert got["max_err"] == pytest.approx(max(dv, di) * tol, rel=1e-6, abs=1e-300)
        assert got["mismatch_frac"] == 0.0


# -- PSU neurons on a synthetic reference: boundaries made exact ---------------------------------


def _psu_ref(dtype, impl):
    """A 3-step, 4-lane reference whose largest |v| and gradient are 1 / tolerance, so an
    error of 1 is exactly the tolerance; lane 1's potential sits on the threshold."""
    theta = psu.PARAMS.theta
    v = np.array(
        [[0.0, theta, 0.1, 0.2], [0.0, 0.1, 0.2, 1 / psu.V_TOL[dtype]], [0.1, 0.2, 0.0, 0.0]]
    )
    spikes = (v > theta).astype(np.float64)
    grads = {"mat": np.zeros((4, 4)), "x": np.zeros((3, 4))}
    grads["mat"][0, 0] = 1 / psu.GRAD_TOL[dtype]
    grads["x"][0, 0] = 1 / psu.GRAD_TOL[dtype]
    return {"v": v, "spikes": spikes, "lif_spikes": spikes.copy(), "grads": grads}, SimpleNamespace(
        dtype=dtype, mode="forward", impl=impl
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("impl", ["psu", "lif"])
def test_psu_neuron_boundaries(dtype, impl, monkeypatch):
    ref, case = _psu_ref(dtype, impl)
    for err, correct in ((1.0, True), (1.0 + 2**-20, False)):
        v = ref["v"].copy()
        v[2, 2] += err  # |dv| / max|v| = err * V_TOL: exactly the tolerance at err 1
        got = psu._check_neuron_fwd(case, (ref["spikes"], v), ref)
        assert got["correct"] is correct, (err, got)
    # a flip on the threshold is a graze; one 1.5 margins away is not
    margin = psu.MARGIN[dtype]
    flipped = ref["spikes"].copy()
    flipped[0, 1] = 1.0
    assert psu._check_neuron_fwd(case, (flipped, ref["v"]), ref)["correct"]
    off = {**ref, "v": ref["v"].copy()}
    off["v"][0, 1] = psu.PARAMS.theta + 1.5 * margin
    got = psu._check_neuron_fwd(case, (flipped, off["v"]), off)
    assert not got["correct"] and got["note"] == "spike mismatch away from the threshold"
    # with theta above 1 the margin scales with theta
    monkeypatch.setattr(psu, "PARAMS", psu.PARAMS._replace(theta=4.0))
    big = {**ref, "v": ref["v"].copy()}
    big["v"][0, 1] = 4.0 + 3.0 * margin  # within 4 margins of theta = 4
    assert psu._check_neuron_fwd(case, (flipped, big["v"]), big)["correct"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("impl", ["psu", "lif"])
def test_psu_gradient_boundaries_and_the_skipped_lane(dtype, impl):
    ref, case = _psu_ref(dtype, impl)
    case.mode = "grad"
    n = sum(g.size for g in ref["grads"].values())
    for name in ("mat", "x"):
        for err, correct in ((1.0, True), (1.0 + 2**-20, False)):
            grads = {k: g.copy() for k, g in ref["grads"].items()}
            grads[name][2, 2] += err  # an entry at 0: the error is exact
            got = psu._check_neuron_grad(case, (grads, ref["spikes"]), ref)
            assert got["correct"] is correct and got["n_checked"] == n, (name, err, got)
    # lif: a flipped lane's input gradient is not compared (the flip carries forward)
    flipped = ref["spikes"].copy()
    flipped[0, 1] = 1.0
    grads = {k: g.copy() for k, g in ref["grads"].items()}
    grads["x"][:, 1] += 100.0
    got = psu._check_neuron_grad(case, (grads, flipped), ref)
    assert got["correct"] is (impl == "lif") and got["note"] is None, got
    far = ref["spikes"].copy()
    far[2, 0] = 1.0  # potential 0.1, far below theta
    got = psu._check_neuron_grad(case, (ref["grads"], far), ref)
    assert not got["correct"] and got["note"] == "spike mismatch away from the threshold"


# -- event LIF: one lane's spike train against the reference (``_match``) -------------------------

TAU, TS = ev.LAYER.tau_mem, ev.LAYER.tau_syn


def _drive(level):
    """One input at t = 0 whose current is `level` at t = tau_syn (arr, w for ``_match``)."""
    return np.array([0.0]), np.array([level * math.e])


def test_match_pairs_counts_and_worst_error_float64():
    arr, w = _drive(50.0)  # I far above theta: spike times well conditioned
    ref = np.array([0.001, 0.003, 0.004])
    assert ev._match(ref, ref, "float64", arr, w) == (0, 0, 0.0)
    out = ref + np.array([0.0, 1e-12, 0.0])
    assert ev._match(ref, out, "float64", arr, w) == (0, 0, pytest.approx(1e-12 / TAU))
    # beyond the bound: one mismatch; a missing and an extra spike: one each
    assert ev._match(ref, ref + [0, 1e-9, 0], "float64", arr, w)[:2] == (0, 1)
    assert ev._match(ref, ref[:2], "float64", arr, w)[:2] == (0, 1)
    assert ev._match(ref[:2], ref, "float64", arr, w)[:2] == (0, 1)
    assert ev._match(ref, ref[1:], "float64", arr, w)[:2] == (0, 1)  # the first one missing
    assert ev._match(ref, np.r_[0.0005, ref], "float64", arr, w)[:2] == (0, 1)  # an extra first
    assert ev._match(ref, np.r_[0.0002, 0.0005, ref], "float64", arr, w)[:2] == (0, 2)
    assert ev._match(np.r_[0.0002, 0.0005, ref], ref, "float64", arr, w)[:2] == (0, 2)
    assert ev._match(ref, np.zeros(0), "float64", arr, w)[:2] == (0, 3)
    # 1 ms off is no pair (the window is WINDOW * max(t, tau_mem) = 20 us): two unpaired
    assert ev._match(ref, ref + [0, 1e-3, 0], "float64", arr, w)[:2] == (0, 2)


def test_match_window_is_half_the_gap_to_the_neighbours():
    """Two reference spikes 40 ps apart: an output 16 ps after the first pairs with it (half
    the gap is 20 ps); one 24 ps after it is nearer the second, and pairs with nothing."""
    arr, w = _drive(50.0)
    ref = np.array([0.01, 0.01 + 4e-11])
    out = np.array([0.01 + 1.6e-11, 0.01 + 4e-11])
    e, u, worst = ev._match(ref, out, "float64", arr, w)
    assert (e, u) == (0, 0) and worst == pytest.approx(1.6e-11 / TAU, rel=1e-3)
    out = np.array([0.01 + 2.4e-11, 0.01 + 4e-11])
    assert ev._match(ref, out, "float64", arr, w)[:2] == (0, 2)


def test_match_bound_follows_the_crossing_slope():
    """Past the plain bound (TOL * tau_mem = 2e-11 s) a pair is still within the bound where V
    crosses theta slowly: DV * theta * tau_mem / (I - theta) -- 2e-9 s at I - theta = 1e-5,
    2e-14 s at I - theta = 1."""
    ref = np.array([TS])
    slow = _drive(ev.LAYER.theta + 1e-5)
    fast = _drive(ev.LAYER.theta + 1.0)
    assert ev._match(ref, ref + 1e-9, "float64", *slow)[:2] == (0, 0)
    assert ev._match(ref, ref + 1e-7, "float64", *slow)[:2] == (0, 1)
    assert ev._match(ref, ref + 1e-9, "float64", *fast)[:2] == (0, 1)
    below = _drive(ev.LAYER.theta - 0.5)  # I below theta: the slope's floor, any error passes
    assert ev._match(ref, ref + 1e-6, "float64", *below)[:2] == (0, 0)


def test_match_explains_a_grazing_flip_and_its_consequences_in_float32_only():
    graze = _drive(ev.LAYER.theta * (1 + 0.5 * ev.GRAZE["float32"]))  # |I - theta| small
    arr, w = graze
    ref = np.array([TS])
    extra = np.array([TS, TS + 0.05, TS + 0.08])  # a flip, then two spikes it shifted
    assert ev._match(ref, np.zeros(0), "float32", arr, w)[:2] == (1, 0)
    assert ev._match(ref, np.zeros(0), "float64", arr, w)[:2] == (0, 1)
    assert ev._match(np.zeros(0), extra[:1], "float32", arr, w)[:2] == (1, 0)
    # within CONSEQUENCE tau_mem (0.1 s) after the flip: explained; later: not
    lone = np.r_[TS + 0.03, TS + 0.09]
    got = ev._match(np.zeros(0), np.r_[TS, lone], "float32", arr, w)
    assert got[:2] == (3, 0), got
    got = ev._match(np.zeros(0), np.r_[TS, TS + 0.2], "float32", arr, w)
    assert got[:2] == (1, 1), got
    far = _drive(ev.LAYER.theta * 3)  # not grazing: the same mismatch is unexplained
    assert ev._match(ref, np.zeros(0), "float32", *far)[:2] == (0, 1)


# -- PSU network: teacher forcing, a grazing hidden flip, exact boundaries ----------------------


def _psu_net(dtype, mode, impl):
    from spikebench.kernels.psu import _numpy as ref_np

    case, inputs, ref = _psu_case(
        mode, "synthetic-shd", dtype, impl=impl, n_neurons=12, batch=2, T=6
    )
    tree = psu.net_tree(inputs["tree"], impl)
    free = ref_np.network(tree, inputs["x"], impl, psu.PARAMS)
    return ref_np, case, inputs, ref, tree, free


@pytest.mark.parametrize("impl", ["psu", "rpsu", "lif"])
@pytest.mark.parametrize("mode", ["forward", "grad"])
def test_psu_network_forces_a_grazing_hidden_flip(impl, mode, monkeypatch):
    """An implementation whose hidden spike flipped where the potential was near theta is
    checked against the reference forced onto its own hidden spikes: correct, with the flip
    counted in mismatch_frac; the same flip 1.5 margins away is wrong."""
    dtype = "float64"
    ref_np, case, inputs, ref, tree, free = _psu_net(dtype, mode, impl)
    dist = np.abs(free.potentials[0] - psu.PARAMS.theta)
    k = np.unravel_index(np.argmin(dist), dist.shape)
    hidden = [np.asarray(h, np.float64).copy() for h in free.spikes]
    hidden[0][k] = 1 - hidden[0][k]
    for layer in range(1, len(hidden)):  # what an honest implementation's later layers do
        forced = ref_np.network(tree, inputs["x"], impl, psu.PARAMS, forced=hidden)
        hidden[layer] = (np.asarray(forced.potentials[layer]) - psu.PARAMS.theta > 0).astype(
            np.float64
        )
    forced = ref_np.network(tree, inputs["x"], impl, psu.PARAMS, forced=hidden)
    total = sum(h.size for h in hidden)
    if mode == "forward":
        first = (np.asarray(forced.logits, np.float64),)
    else:
        loss, grads, _ = ref_np.loss_and_grad(
            tree, inputs["x"], inputs["labels"], impl, psu.PARAMS, forced=hidden
        )
        first = (loss, grads)
    monkeypatch.setattr(psu, "MARGIN", {dtype: float(dist[k])})  # exactly on the margin
    got = psu.FAMILY.check(case, inputs, (*first, hidden), ref)
    assert got["correct"] and got["note"] is None, got
    flips = sum(
        int(np.sum(h != (np.asarray(v) - psu.PARAMS.theta > 0)))
        for h, v in zip(hidden, forced.potentials, strict=True)
    )
    assert flips >= 1 and got["mismatch_frac"] == flips / total and got["max_err"] <= 1e-12
    assert got["lif_agreement"] == (
        None if impl == "lif" else float(np.mean(hidden[0] == ref["lif_layer1"]))
    )
    assert got["spike_rate"] == float(np.mean([h.mean() for h in hidden]))
    monkeypatch.setattr(psu, "MARGIN", {dtype: float(dist[k]) / 1.5})
    got = psu.FAMILY.check(case, inputs, (*first, hidden), ref)
    assert not got["correct"] and got["note"] == "hidden spike differs away from the threshold"
    with pytest.raises((ValueError, IndexError)):  # a missing layer is an error
        psu.FAMILY.check(case, inputs, (*first, hidden[:1]), ref)


@pytest.mark.parametrize("mode", ["forward", "grad"])
def test_psu_network_error_equal_to_the_tolerance_passes(mode, monkeypatch):
    dtype = "float64"
    ref_np, case, inputs, ref, tree, free = _psu_net(dtype, mode, "psu")
    hidden = [np.asarray(h, np.float64) for h in free.spikes]
    if mode == "forward":
        logits = np.asarray(free.logits, np.float64).copy()
        logits.flat[0] += 1e-6
        err = psu.rel_err(logits, free.logits)
        monkeypatch.setattr(psu, "LOGIT_TOL", {dtype: err})
        assert psu.FAMILY.check(case, inputs, (logits, hidden), ref)["correct"]
        monkeypatch.setattr(psu, "LOGIT_TOL", {dtype: err * (1 - 1e-9)})
        assert not psu.FAMILY.check(case, inputs, (logits, hidden), ref)["correct"]
        return
    loss, grads, _ = ref_np.loss_and_grad(
        tree, inputs["x"], inputs["labels"], "psu", psu.PARAMS, forced=hidden
    )
    leaves = psu._flatten(grads)
    top = max(range(len(leaves)), key=lambda i: np.max(np.abs(leaves[i])))
    g = np.array(leaves[top], np.float64)
    g.flat[0] += 1e-6 * np.max(np.abs(g))
    err_g = psu.rel_err(g, leaves[top])
    bad = _replace_leaf(grads, top, g)
    monkeypatch.setattr(psu, "GRAD_TOL", {dtype: err_g})
    assert psu.FAMILY.check(case, inputs, (loss, bad, hidden), ref)["correct"]
    monkeypatch.setattr(psu, "GRAD_TOL", {dtype: err_g * (1 - 1e-9)})
    assert not psu.FAMILY.check(case, inputs, (loss, bad, hidden), ref)["correct"]
    monkeypatch.setattr(psu, "GRAD_TOL", {dtype: 1.0})
    l_err = abs(loss * (1 + 1e-6) - loss) / abs(loss)
    monkeypatch.setattr(psu, "LOGIT_TOL", {dtype: l_err})
    assert psu.FAMILY.check(case, inputs, (loss * (1 + 1e-6), grads, hidden), ref)["correct"]
    monkeypatch.setattr(psu, "LOGIT_TOL", {dtype: l_err * (1 - 1e-9)})
    assert not psu.FAMILY.check(case, inputs, (loss * (1 + 1e-6), grads, hidden), ref)["correct"]
    nan = _replace_leaf(grads, top, np.full_like(g, np.nan))
    monkeypatch.setattr(psu, "LOGIT_TOL", {dtype: 1.0})
    assert not psu.FAMILY.check(case, inputs, (loss, nan, hidden), ref)["correct"]


def test_event_lif_check_routes_each_kind_and_holds_the_layer_edges(monkeypatch):
    inputs, ref, st, counts = _layer()
    case = _ev_case("float64")
    net = _ev_net(np.random.default_rng(5))
    monkeypatch.setattr(ev, "ref_kind", lambda c: "net")
    assert ev.FAMILY.check(case, {}, (net["logits"], net["counts"], 0), net) == ev._check_net(
        case, (net["logits"], net["counts"], 0), net
    )
    grad_ref = {"direction": [np.ones((2, 2))], "fd": 4.0, "loss": 1.0}
    grad_out = (1.0, ([np.ones((2, 2))], np.zeros((0,))), 0)
    monkeypatch.setattr(ev, "ref_kind", lambda c: "grad")
    with pytest.raises(ValueError):  # two directions for one gradient layer + readout
        ev.FAMILY.check(case, {}, grad_out, grad_ref)
    grad_ref["direction"].append(np.zeros((0,)))
    assert ev.FAMILY.check(case, {}, grad_out, grad_ref) == ev._check_grad(case, grad_out, grad_ref)
    monkeypatch.setattr(ev, "ref_kind", lambda c: "serial")
    stalled = np.zeros((2, 2), bool)
    full = np.full((2, 2, 3), np.inf)  # a buffer exactly as long as the longest train
    for (b, n), r in zip(ref["lanes"], ref["spikes"], strict=True):
        full[b, n, : len(r)] = r
    assert ev.FAMILY.check(case, inputs, (full, counts, stalled), ref)["correct"]
    left = np.array([[False, True], [False, False]])
    assert ev.FAMILY.check(case, inputs, (st, counts, stalled, left), ref) == {
        "correct": False,
        "max_err": None,
        "mismatch_frac": None,
        "n_checked": 4,
        "note": "unprocessed events (step budget)",
    }
    with pytest.raises(ValueError):  # lanes and reference trains must pair up
        ev.FAMILY.check(case, inputs, (st, counts, stalled), {**ref, "spikes": ref["spikes"][:3]})


def test_event_lif_check_uses_channel_0_and_counts_explained_flips(monkeypatch):
    """Channel 0 is a real input (only -1 pads): its current decides the bound. In float32 a
    grazing flip is explained, counted in mismatch_frac, and tolerated up to ALLOWED_MISMATCH
    of the reference spikes."""
    monkeypatch.setattr(ev, "ref_kind", lambda c: "serial")
    t = np.array([[0.0]])
    st = np.full((1, 1, 2), np.inf)
    st[0, 0, 0] = TS + 1e-9
    counts = np.array([[1]])
    ref = {"lanes": [(0, 0)], "spikes": [np.array([TS])]}
    fast = {"times": t, "channels": np.array([[0]]), "weights": np.array([[50.0 * math.e]])}
    got = ev.FAMILY.check(_ev_case("float64"), fast, (st, counts, np.zeros((1, 1), bool)), ref)
    assert not got["correct"] and got["mismatch_frac"] == 1.0  # well conditioned: 1 ns is off
    # float32: 200 reference spikes, one grazing flip (an extra spike where I ~ theta)
    graze = {
        "times": t,
        "channels": np.array([[0]]),
        "weights": np.array([[ev.LAYER.theta * (1 + 1e-3) * math.e]]),
    }
    many = np.linspace(1.0, 3.0, 200)
    st32 = np.full((1, 1, 201), np.inf)
    st32[0, 0, :201] = np.sort(np.r_[TS, many])
    ref32 = {"lanes": [(0, 0)], "spikes": [many]}
    got = ev.FAMILY.check(
        _ev_case("float32"), graze, (st32, np.array([[201]]), np.zeros((1, 1), bool)), ref32
    )
    assert got["correct"] and got["mismatch_frac"] == 1 / 200 and got["note"] is None, got
    one = {"lanes": [(0, 0)], "spikes": [np.array([2.0])]}
    got = ev.FAMILY.check(
        _ev_case("float32"),
        graze,
        (st32[:, :, [0, 100]], np.array([[2]]), np.zeros((1, 1), bool)),
        one,
    )
    assert not got["correct"] and got["mismatch_frac"] == 1.0  # 1 explained of 1: > 1 %


@pytest.mark.parametrize("dtype", DTYPES)
def test_event_lif_bare_scan_is_relative_to_each_lanes_scale(dtype, monkeypatch):
    monkeypatch.setattr(ev, "ref_kind", lambda case: "bare_scan")
    v, i = np.array([[0.5, 0.25]]), np.array([[1.0, 2.0]])
    ref = {"lanes": [(0, 0), (0, 1)], "vi": [(0.5, 1.0, 4.0, 0.25), (0.25, 2.0, 4.0, 0.25)]}
    case = _ev_case(dtype, "bare_scan")
    tol = ev.TOL[dtype]
    vv = v.copy()
    vv[0, 1] += 0.5 * tol * 4.0  # relative to the lane's voltage scale 4
    assert ev.FAMILY.check(case, {}, (vv, i), ref)["max_err"] == pytest.approx(0.5 * tol)
    ii = i.copy()
    ii[0, 0] += 0.5 * tol * 0.25  # ... and its current scale 0.25 (below 1)
    assert ev.FAMILY.check(case, {}, (v, ii), ref)["max_err"] == pytest.approx(0.5 * tol)
    err = ev.FAMILY.check(case, {}, (vv, i), ref)["max_err"]
    monkeypatch.setattr(ev, "TOL", {dtype: err})  # an error equal to the tolerance passes
    assert ev.FAMILY.check(case, {}, (vv, i), ref)["correct"]
    monkeypatch.setattr(ev, "TOL", {dtype: err * (1 - 1e-9)})
    assert not ev.FAMILY.check(case, {}, (vv, i), ref)["correct"]
    with pytest.raises(ValueError):
        ev.FAMILY.check(case, {}, (v, i), {**ref, "vi": ref["vi"][:1]})


def test_small_references_are_not_floored_at_one(monkeypatch):
    """Relative errors divide by the reference's own size, even below 1."""
    grads = [np.zeros((2, 2))]
    direction = [np.zeros((2, 2))]
    direction[0][0, 0] = 1.0
    grads[0][0, 0] = 0.25 * (1 + 0.5)  # dd = 0.375 against fd = 0.25: 50 % off
    ref = {"direction": direction + [np.zeros(0)], "fd": 0.25, "loss": 1.0}
    got = ev._check_grad(_case("float64", "grad"), (1.0, (grads, np.zeros(0)), 0), ref)
    assert got["max_err"] == pytest.approx(0.5) and not got["correct"]
    monkeypatch.setattr(ev, "ref_kind", lambda case: "bare_scan")
    ref = {"lanes": [(0, 0)], "vi": [(0.5, 1.0, 0.25, 1.0)]}
    got = ev.FAMILY.check(
        _ev_case("float64", "bare_scan"), {}, (np.array([[0.5 + 0.025]]), np.array([[1.0]])), ref
    )
    assert got["max_err"] == pytest.approx(0.1)  # 0.025 / 0.25


def test_match_window_in_float32_is_the_wide_one():
    """float32 pairs within WINDOW * max(t, tau_mem) = 0.2 ms, not TOL / tau_mem = 5 ms: a
    spike 1 ms off is two mismatches, not a pair."""
    arr, w = _drive(ev.LAYER.theta * 3)
    ref = np.array([0.01])
    assert ev._match(ref, ref + 1e-3, "float32", arr, w)[:2] == (0, 2)


def test_queue_network_verdicts_are_booleans():
    count = np.array([1, 1])
    ref = {
        "spike_count": count,
        "spike_time_sum": 1.0,
        "delivered": 4,
        "dropped": 0,
        "pending": 0,
        "fd": None,
    }
    out = _net_out(count, 1.0, 4, 0, 0)
    assert qf._check_network(_case("float64"), out, ref)["correct"] is True
    assert qf._check_network(_case("float64", "grad"), (None, 0.5, out), ref)["correct"] is False


def test_psu_network_gradient_with_a_leaf_missing_is_an_error():
    from spikebench.kernels.psu import _numpy as ref_np

    ref_np_, case, inputs, ref, tree, free = _psu_net("float64", "grad", "psu")
    hidden = [np.asarray(h, np.float64) for h in free.spikes]
    loss, grads, _ = ref_np.loss_and_grad(
        tree, inputs["x"], inputs["labels"], "psu", psu.PARAMS, forced=hidden
    )
    short = {k: v for k, v in grads.items() if k != sorted(grads)[-1]}
    with pytest.raises(ValueError):  # a missing gradient is never a shorter comparison
        psu.FAMILY.check(case, inputs, (loss, short, hidden), ref)
