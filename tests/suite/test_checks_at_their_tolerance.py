"""Every family's correctness check at its tolerance: an output just inside it (half the
tolerance) is correct, one just outside (twice) is not. A check whose tolerance is loosened
(the mutation run's "logit tolerance x 1e6") or tightened, or whose comparison is dropped,
fails here. The outputs are the reference's own, perturbed, so the tests need no kernel run.
"""

from __future__ import annotations

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
    return SimpleNamespace(dtype=dtype, mode=mode, impl=impl)


# -- event LIF: networks (logits, spike counts, budget) and training steps ----------------------


def _ev_net(rng):
    logits = rng.normal(size=(4, 20))
    counts = [rng.integers(0, 5, size=(4, 8)), rng.integers(0, 5, size=(4, 20))]
    return {"logits": logits, "counts": counts}


@pytest.mark.parametrize("dtype", DTYPES)
def test_event_lif_network_logits_at_the_tolerance(dtype):
    ref = _ev_net(np.random.default_rng(0))
    scale = np.max(np.abs(ref["logits"]))
    for factor, correct in ((0.0, True), (INSIDE, True), (OUTSIDE, False)):
        logits = ref["logits"].copy()
        logits[1, 2] += factor * ev.LOGIT_TOL[dtype] * scale
        got = ev._check_net(_case(dtype), (logits, ref["counts"], 0), ref)
        assert got["correct"] is correct, (factor, got)
    over = ev._check_net(_case(dtype), (ref["logits"], ref["counts"], 1), ref)
    assert not over["correct"] and "overflow" in over["note"]


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


@pytest.mark.parametrize("dtype", DTYPES)
def test_event_lif_gradient_and_loss_at_the_tolerance(dtype):
    rng = np.random.default_rng(2)
    grads = [rng.normal(size=(8, 4)), rng.normal(size=(20, 8))]
    direction = [rng.normal(size=g.shape) for g in grads]
    fd = sum(float(np.sum(g * v)) for g, v in zip(grads, direction, strict=True))
    ref = {"direction": direction, "fd": fd, "loss": 2.5}

    def check(g_factor=0.0, l_factor=0.0, overflow=0, bad=None):
        gs = [g.copy() for g in grads]
        # the directional derivative moves by g_factor * GRAD_TOL * |fd|
        gs[0] += g_factor * ev.GRAD_TOL[dtype] * abs(fd) * direction[0] / \
            np.sum(direction[0] ** 2)
        if bad is not None:
            gs[1][0, 0] = bad
        loss = 2.5 * (1 + l_factor * ev.LOGIT_TOL[dtype])
        return ev._check_grad(_case(dtype, "grad"), (loss, (gs[:1], gs[1]), overflow), ref)

    assert check()["correct"] and check(INSIDE, INSIDE)["correct"]
    assert not check(g_factor=OUTSIDE)["correct"]
    assert not check(l_factor=OUTSIDE)["correct"]
    assert not check(overflow=2)["correct"]
    assert "non-finite" in check(bad=np.nan)["note"]


# -- PSU family: neuron forward / gradient, network (teacher forcing) --------------------------


def _small(case, **sizes):
    return cases.Case(**{**case.__dict__, "sizes": tuple(sorted({**case.size, **sizes}.items()))})


def _psu_case(mode, dataset, dtype, framework="jax", impl="psu", **sizes):
    case = next(c for c in profiles.profile_cases("quick", ["cpu"], family=["psu"],
                                                  framework=[framework], impl=[impl])
                if c.dataset == dataset and c.mode == mode)
    case = _small(case, **sizes)
    case = cases.Case(**{**case.__dict__, "dtype": dtype})
    inputs = psu.FAMILY.make_inputs(case)
    ref, _ = psu.FAMILY.reference(case, inputs)
    return case, inputs, ref


@pytest.mark.parametrize("dtype", DTYPES)
def test_psu_neuron_potentials_at_the_tolerance(dtype):
    case, inputs, ref = _psu_case("forward", "gaussian", dtype, T=8, n_neurons=8, batch=2)
    scale = np.max(np.abs(ref["v"]))
    far = np.unravel_index(np.argmax(np.abs(ref["v"])), ref["v"].shape)
    for factor, correct in ((INSIDE, True), (OUTSIDE, False)):
        v = ref["v"].copy()
        v[far] += factor * psu.V_TOL[dtype] * scale * np.sign(v[far])
        got = psu.FAMILY.check(case, inputs, (ref["spikes"], v), ref)
        assert got["correct"] is correct, (factor, got)


@pytest.mark.parametrize("dtype", DTYPES)
def test_psu_neuron_gradient_at_the_tolerance(dtype):
    case, inputs, ref = _psu_case("grad", "gaussian", dtype, framework="torch", impl="rpsu",
                                  T=8, n_neurons=8, batch=2)
    for factor, correct in ((INSIDE, True), (OUTSIDE, False)):
        grads = {k: np.array(v, dtype=np.float64) for k, v in ref["grads"].items()}
        g = grads["mat"]
        k = np.unravel_index(np.argmax(np.abs(g)), g.shape)
        g[k] += factor * psu.GRAD_TOL[dtype] * np.max(np.abs(g)) * np.sign(g[k])
        got = psu.FAMILY.check(case, inputs, (grads, ref["spikes"]), ref)
        assert got["correct"] is correct, (factor, got)


@pytest.mark.parametrize("dtype", DTYPES)
def test_psu_network_logits_at_the_tolerance(dtype):
    """The check the mutation run loosened by 1e6 without a test noticing."""
    from spikebench.kernels.psu import _numpy as ref_np

    case, inputs, ref = _psu_case("forward", "synthetic-shd", dtype, n_neurons=12, batch=2,
                                  T=6)
    out = ref_np.network(psu.net_tree(inputs["tree"], "psu"), inputs["x"], "psu", psu.PARAMS)
    scale = np.max(np.abs(out.logits))
    k = np.unravel_index(np.argmax(np.abs(out.logits)), out.logits.shape)
    for factor, correct in ((0.0, True), (INSIDE, True), (OUTSIDE, False)):
        logits = np.array(out.logits, np.float64)
        logits[k] += factor * psu.LOGIT_TOL[dtype] * scale * np.sign(logits[k])
        got = psu.FAMILY.check(case, inputs, (logits, out.spikes), ref)
        assert got["correct"] is correct, (factor, got)


# -- queues: the network (spike counts, spike-time sum, accounting, gradient) -------------------


def _net_out(count, time_sum, delivered, dropped, pending):
    return SimpleNamespace(spike_count=np.asarray(count), spike_time_sum=time_sum,
                           delivered=delivered, dropped=dropped, pending=pending)


@pytest.mark.parametrize("dtype", DTYPES)
def test_queue_network_at_the_tolerance(dtype):
    count = np.array([2, 0, 1, 3])
    sent = int(count.sum()) * count.size
    ref = {"spike_count": count, "spike_time_sum": 12.5, "delivered": sent - 3, "dropped": 1,
           "pending": 2, "fd": 0.75}
    case = _case(dtype)

    def check(t_factor=0.0, **over):
        fields = {"delivered": ref["delivered"], "dropped": ref["dropped"],
                  "pending": ref["pending"], **over}
        out = _net_out(over.get("count", count),
                       12.5 * (1 + t_factor * qf.TOL[dtype]), **{k: fields[k] for k in (
                           "delivered", "dropped", "pending")})
        return qf._check_network(case, out, ref)

    assert check()["correct"] and check(INSIDE)["correct"]
    assert not check(OUTSIDE)["correct"]
    assert not check(count=np.array([2, 1, 1, 3]))["correct"]
    # moved between delivered and dropped: accounted, yet not the reference queues' figures
    assert not check(delivered=ref["delivered"] - 1, dropped=2)["correct"]
    assert not check(pending=3)["correct"]  # not accounted

    grad = _case(dtype, "grad")
    for factor, correct in ((INSIDE, True), (OUTSIDE, False)):
        deriv = 0.75 * (1 + factor * qf.GRAD_TOL[dtype])
        out = _net_out(count, 12.5, ref["delivered"], ref["dropped"], ref["pending"])
        assert qf._check_network(grad, (None, deriv, out), ref)["correct"] is correct
