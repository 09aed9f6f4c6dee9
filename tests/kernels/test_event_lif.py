"""Serial event-LIF kernels: every framework against the plain-loop reference, edge cases,
bad input, and a property test that NumPy, JAX and PyTorch agree."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import (
    AGREE_RTOL,
    FRAMEWORKS,
    PARAM_SETS,
    TIME_RTOL,
    LIFParams,
    compare_to_reference,
    random_layer,
    reference,
    run,
    simulate,
)
from tests.tolerances import tol

P = LIFParams(tau_mem=0.02, tau_syn=0.005, theta=1.0)


def mp_bisect(f, lo, hi, steps=200):
    """Bisection in mpmath precision (f(lo) < 0 <= f(hi)): an oracle that shares nothing
    with the kernels' Newton solver."""
    for _ in range(steps):
        mid = (lo + hi) / 2
        if f(mid) < 0:
            lo = mid
        else:
            hi = mid
    return hi


@pytest.mark.parametrize("fw", FRAMEWORKS)
@pytest.mark.parametrize("pname", list(PARAM_SETS))
@pytest.mark.parametrize("delays", [False, True], ids=["nodelay", "delays"])
def test_matches_reference_float64(fw, pname, delays):
    p = PARAM_SETS[pname]
    # a fixed integer seed (hash() of a str is salted per process)
    rng = np.random.default_rng([list(PARAM_SETS).index(pname), int(delays)])
    t, c, w, d = random_layer(rng, delays=delays, w_mean=1.0, w_std=1.2)
    st_, cnt = run(fw, t, c, w, p, delays=d)
    ref = reference.serial_lanes(t, c, w, p, delays=d)
    assert sum(len(r) for r in ref.values()) > 5, "test case should spike"
    compare_to_reference(st_, cnt, ref, AGREE_RTOL["float64"] * 100, p.tau_mem)


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_float32_close_to_reference(fw):
    rng = np.random.default_rng(7)
    t, c, w, _ = random_layer(rng, w_mean=1.0)
    raw, _ = simulate(t, c, w, P, framework=fw, dtype="float32")
    assert str(raw.dtype).replace("torch.", "") == "float32"
    st_, cnt = run(fw, t, c, w, P, dtype="float32")
    ref = reference.serial_lanes(t, c, w, P)
    compare_to_reference(st_, cnt, ref, 1e-4, P.tau_mem)


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_no_events(fw):
    st_, cnt = run(fw, np.zeros(0), np.zeros(0, int), np.ones((3, 2)), P)
    assert st_.shape == (3, 0) and cnt.tolist() == [0, 0, 0]


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_one_event_single_spike_exact(fw):
    """One input of weight w from rest: V(d) = w * kernel(d); the crossing solves
    V = theta, checked against a bisection on the textbook form in high precision."""
    import mpmath as mp

    p = P
    w = 10.0
    st_, cnt = run(fw, np.array([0.01]), np.array([0]), np.array([[w]]), p)
    mp.mp.dps = 40
    tm, ts = mp.mpf(p.tau_mem), mp.mpf(p.tau_syn)

    def v(d):
        return w * ts / (tm - ts) * (mp.e ** (-d / tm) - mp.e ** (-d / ts)) - p.theta

    d_peak = mp.log(tm / ts) / (1 / ts - 1 / tm)
    root = mp_bisect(v, mp.mpf(0), d_peak)
    assert cnt.tolist() == [1]
    assert abs(st_[0, 0] - (0.01 + float(root))) <= tol("same_program")


@pytest.mark.parametrize("fw", FRAMEWORKS)
@pytest.mark.parametrize("ratio", [1.0, 1 + 1e-7, 1 + 1e-12], ids=["equal", "1e-7", "1e-12"])
def test_tau_mem_equal_or_close_to_tau_syn(fw, ratio):
    """The closed form must not cancel as tau_syn -> tau_mem (high-precision textbook form
    as the oracle)."""
    import mpmath as mp

    tm = 0.01
    ts = tm * ratio
    p = LIFParams(tm, ts, 1.0)
    w = 4.0
    st_, cnt = run(fw, np.array([0.0]), np.array([0]), np.array([[w]]), p)
    mp.mp.dps = 60
    mtm, mts = mp.mpf(tm), mp.mpf(tm) * mp.mpf(ratio)

    def v(d):
        if mts == mtm:
            return w * d / mtm * mp.e ** (-d / mtm) - 1
        return w * mts / (mtm - mts) * (mp.e ** (-d / mtm) - mp.e ** (-d / mts)) - 1

    root = mp_bisect(v, mp.mpf(0), mp.mpf(tm))
    assert cnt[0] >= 1
    assert abs(st_[0, 0] - float(root)) / float(root) <= tol("twin_scalar")


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_ties_order_irrelevant(fw):
    """Events at equal times only add to I: any order of a tie gives the same spikes."""
    t = np.array([0.001, 0.002, 0.002, 0.002, 0.004])
    c = np.array([0, 1, 2, 3, 1])
    w = np.array([[0.8, 1.5, -0.3, 2.0]])
    a = run(fw, t, c, w, P)
    perm = np.array([0, 3, 1, 2, 4])
    b = run(fw, t, c[perm], w, P)
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_allclose(a[0], b[0], rtol=tol("same_program"))


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_inhibitory_never_fires(fw):
    rng = np.random.default_rng(1)
    t, c, w, _ = random_layer(rng, w_mean=-1.0, w_std=0.2)
    w = -np.abs(w)
    _, cnt = run(fw, t, c, w, P)
    assert cnt.sum() == 0


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_several_spikes_between_two_inputs(fw):
    """One large input makes a burst before the next input arrives."""
    t = np.array([0.0, 0.5])
    c = np.array([0, 0])
    w = np.array([[40.0]])
    st_, cnt = run(fw, t, c, w, P)
    ref = reference.serial_lanes(t[None], c[None], w, P)[(0, 0)]
    burst = [s for s in ref if s < 0.5]
    assert len(burst) >= 3
    assert cnt[0] == len(ref)
    np.testing.assert_allclose(st_[0, : len(ref)], ref, rtol=tol("ulps"))


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_refractory_period(fw):
    p = LIFParams(0.02, 0.005, 1.0, t_ref=0.004)
    t = np.array([0.0, 0.001, 0.0015])
    c = np.array([0, 0, 0])
    w = np.array([[40.0]])
    st_, cnt = run(fw, t, c, w, p)
    s = st_[0, : cnt[0]]
    assert cnt[0] >= 2
    assert np.all(np.diff(s) >= p.t_ref)
    ref = reference.serial_lanes(t[None], c[None], w, p)[(0, 0)]
    np.testing.assert_allclose(s, ref, rtol=tol("ulps"))


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_grazing_crossing(fw):
    """Threshold a hair below the peak of a single PSP: the spike is found at the peak
    (Newton converges linearly there), with a finite time inside the interval."""
    p0 = LIFParams(0.02, 0.005, 1.0)
    r = 1 / p0.tau_syn - 1 / p0.tau_mem
    d_peak = math.log(p0.tau_mem / p0.tau_syn) / r
    w = 1.0
    v_peak = (
        w
        * p0.tau_syn
        / (p0.tau_mem - p0.tau_syn)
        * (math.exp(-d_peak / p0.tau_mem) - math.exp(-d_peak / p0.tau_syn))
    )
    for gap in (1e-6, 1e-9, 1e-12):
        p = p0._replace(theta=v_peak * (1 - gap))
        st_, cnt = run(fw, np.array([0.0]), np.array([0]), np.array([[w]]), p)
        assert cnt.tolist() == [1], gap
        # the crossing is within sqrt(gap)-ish of the peak, never after it
        assert 0 < st_[0, 0] <= d_peak * (1 + 1e-12)
        assert d_peak - st_[0, 0] < 10 * math.sqrt(gap) * d_peak
    p = p0._replace(theta=v_peak * (1 + 1e-9))
    _, cnt = run(fw, np.array([0.0]), np.array([0]), np.array([[w]]), p)
    assert cnt.tolist() == [0]


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_batch_padding_equals_single_samples(fw):
    rng = np.random.default_rng(3)
    t, c, w, _ = random_layer(rng, batch=4, w_mean=1.0)
    st_b, cnt_b = run(fw, t, c, w, P)
    for b in range(4):
        # one sample at a time, as a batch of one (same padded shape: one JAX compile)
        st_1, cnt_1 = run(fw, t[b : b + 1], c[b : b + 1], w, P)
        st_1, cnt_1 = st_1[0], cnt_1[0]
        np.testing.assert_array_equal(cnt_b[b], cnt_1)
        k = st_1.shape[-1]
        np.testing.assert_allclose(st_b[b, :, :k], st_1, rtol=tol("ulps"))


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_t_end_cuts_window(fw):
    rng = np.random.default_rng(4)
    t, c, w, _ = random_layer(rng, batch=1, w_mean=1.0, duration=0.2)
    t_end = 0.1
    st_, cnt = run(fw, t, c, w, P, t_end=t_end)
    assert np.all(st_[np.isfinite(st_)] <= t_end)
    ref = reference.serial_lanes(t, c, w, P, t_end=t_end)
    compare_to_reference(st_, cnt, ref, 1e-12, P.tau_mem)


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_spike_buffer_grows(fw):
    """More spikes than the initial buffer: nothing is lost (JAX re-runs with a bigger one)."""
    t = np.array([0.0])
    c = np.array([0])
    w = np.array([[400.0]])
    st_, cnt = run(fw, t, c, w, P, max_spikes=2)
    ref = reference.serial_lanes(t[None], c[None], w, P)[(0, 0)]
    assert cnt[0] == len(ref) > 2
    np.testing.assert_allclose(st_[0], ref, rtol=tol("ulps"))


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_stalled_spike_times_raise(fw):
    with pytest.raises(ValueError, match="stopped advancing"):
        simulate(np.array([1.0]), np.array([0]), np.array([[1e300]]), P, framework=fw)


BAD = [
    (dict(times=[0.2, 0.1]), "not sorted"),
    (dict(times=[-0.1, 0.1]), ">= 0"),
    (dict(times=[0.1, np.nan]), "non-finite"),
    (dict(times=[0.1, np.inf]), "non-finite"),
    (dict(channels=[0, 5]), "out of range"),
    (dict(channels=[0, -2]), "channel ids"),
    (dict(channels=[0, 1, 1]), "does not match"),
    (dict(weights=np.ones(3)), "weights must have shape"),
    (dict(weights=[[np.nan, 1.0, 1.0]]), "non-finite"),
    (dict(delays=np.ones((2, 3))), "delays shape"),
    (dict(delays=-np.ones((1, 3))), "delays must be >= 0"),
    (dict(params=LIFParams(0.0, 0.005, 1.0)), "tau_mem"),
    (dict(params=LIFParams(0.02, -1.0, 1.0)), "tau_syn"),
    (dict(params=LIFParams(0.02, 0.005, 1.0, v_reset=1.0)), "theta"),
    (dict(params=LIFParams(0.02, 0.005, 1.0, t_ref=-1.0)), "t_ref"),
    (dict(params=LIFParams(0.02, 0.005, -0.5, v_reset=-1.0)), "theta must be > 0"),
    (dict(params=(0.02, 0.005, 1.0)), "LIFParams"),
    (dict(framework="tensorflow"), "framework"),
    (dict(method="bogus"), "method"),
    (dict(dtype="float16"), "dtype"),
    (dict(knobs={"chunk_size": 4}), "unknown knob"),
    (dict(knobs={"t_end": -1.0}), "t_end"),
]


@pytest.mark.parametrize("bad,match", BAD, ids=[m for _, m in BAD])
def test_bad_input_raises_value_error(bad, match):
    args = dict(
        times=[0.1, 0.2],
        channels=[0, 1],
        weights=[[1.0, 1.0, 1.0]],
        params=P,
        framework="numpy",
        method="serial",
        dtype="float64",
        delays=None,
        knobs={},
    )
    args.update(bad)
    with pytest.raises(ValueError, match=match):
        simulate(
            np.asarray(args["times"]),
            np.asarray(args["channels"]),
            np.asarray(args["weights"]),
            args["params"],
            method=args["method"],
            framework=args["framework"],
            dtype=args["dtype"],
            delays=args["delays"],
            **args["knobs"],
        )


def test_padding_must_be_trailing():
    with pytest.raises(ValueError, match="padding"):
        simulate(np.array([[0.1, 0.0, 0.2]]), np.array([[0, -1, 1]]), np.ones((1, 2)), P)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    seed=st.integers(0, 2**31 - 1),
    n_events=st.integers(0, 30),
    tau_ratio=st.sampled_from([0.25, 1.0, 3.0]),
    t_ref=st.sampled_from([0.0, 0.002]),
    delays=st.booleans(),
)
def test_property_frameworks_agree(seed, n_events, tau_ratio, t_ref, delays):
    """NumPy, JAX and PyTorch give identical counts and times within a few ulps."""
    rng = np.random.default_rng(seed)
    p = LIFParams(0.01, 0.01 * tau_ratio, 1.0, t_ref=t_ref)
    t, c, w, d = random_layer(rng, batch=2, n_events=n_events, n_out=3, w_mean=1.5, delays=delays)
    # pad to a fixed length (channel -1) so that JAX compiles once per parameter set
    pad = 30 - n_events
    t = np.pad(t, ((0, 0), (0, pad)))
    c = np.pad(c, ((0, 0), (0, pad)), constant_values=-1)
    outs = [run(fw, t, c, w, p, delays=d) for fw in FRAMEWORKS]
    for st_, cnt in outs[1:]:
        np.testing.assert_array_equal(cnt, outs[0][1])
        k = int(cnt.max()) if cnt.size else 0
        fin = np.isfinite(outs[0][0][..., :k])
        np.testing.assert_allclose(
            st_[..., :k][fin],
            outs[0][0][..., :k][fin],
            rtol=AGREE_RTOL["float64"] * 1e3,
            atol=tol("same_program"),
        )


def test_tolerance_table_is_sane():
    assert TIME_RTOL["float64"] < TIME_RTOL["float32"]


@pytest.mark.parametrize("pname", list(PARAM_SETS))
@pytest.mark.parametrize("delays", [False, True], ids=["nodelay", "delays"])
def test_jax_one_lane_and_multi_lane_layouts_agree(pname, delays):
    """The JAX serial kernel's two layouts (one candidate lane a pass, the default for small
    layers; ``chunk`` lanes a pass for wide ones) give the reference's spikes and each other's,
    with a finite t_end, bursts longer than the one-lane stage (STAGE spikes between two
    inputs) and a buffer too small for them (counts stay exact past it)."""
    import jax.numpy as jnp
    from spikebench.kernels.event_lif import _jax as kj

    p = PARAM_SETS[pname]
    rng = np.random.default_rng([7, list(PARAM_SETS).index(pname), int(delays)])
    t, c, w, d = random_layer(rng, delays=delays, w_mean=2.0, w_std=3.0, n_events=60)
    w[0, :] = 20.0  # neuron 0 bursts after every input: more than STAGE spikes a gap
    t_end = 0.08
    ref = reference.serial_lanes(t, c, w, p, delays=d, t_end=t_end)
    assert max(len(r) for r in ref.values()) > kj.STAGE
    args = (jnp.asarray(t), jnp.asarray(c, jnp.int32), jnp.asarray(w), p)
    kw = {"delays": None if d is None else jnp.asarray(d), "t_end": t_end}
    most = max(len(r) for r in ref.values())
    outs = {chunk: kj.serial(*args, **kw, chunk=chunk, max_spikes=most) for chunk in (1, 3)}
    small = kj.serial(*args, **kw, chunk=1, max_spikes=2)
    for out in outs.values():
        compare_to_reference(
            np.asarray(out.spike_times),
            np.asarray(out.counts),
            ref,
            AGREE_RTOL["float64"] * 100,
            p.tau_mem,
        )
    np.testing.assert_allclose(
        np.asarray(outs[1].spike_times), np.asarray(outs[3].spike_times), rtol=tol("ulps")
    )
    assert np.array_equal(np.asarray(small.counts), np.asarray(outs[1].counts))
    np.testing.assert_array_equal(
        np.asarray(small.spike_times), np.asarray(outs[1].spike_times)[:, :, :2]
    )


@pytest.mark.parametrize("delays", [False, True], ids=["nodelay", "delays"])
def test_jax_one_lane_layout_across_event_blocks(delays):
    """The one-lane loop runs the events in blocks of ``BLOCK`` (a ``fori_loop`` a block,
    reading each event's rows by index): a layer over two and a half blocks, whose last block
    is padded, gives the reference's spikes."""
    import jax.numpy as jnp
    from spikebench.kernels.event_lif import _jax as kj

    p = PARAM_SETS[next(iter(PARAM_SETS))]
    n_events = 2 * kj.BLOCK + kj.BLOCK // 2 + 3
    rng = np.random.default_rng([11, int(delays)])
    t, c, w, d = random_layer(rng, delays=delays, w_mean=1.0, w_std=2.0, n_events=n_events)
    ref = reference.serial_lanes(t, c, w, p, delays=d)
    most = max(1, max(len(r) for r in ref.values()))
    assert sum(len(r) for r in ref.values()) > 10  # the exact path runs in every block
    out = kj.serial(
        jnp.asarray(t),
        jnp.asarray(c, jnp.int32),
        jnp.asarray(w),
        p,
        delays=None if d is None else jnp.asarray(d),
        chunk=1,
        max_spikes=most,
    )
    compare_to_reference(
        np.asarray(out.spike_times),
        np.asarray(out.counts),
        ref,
        AGREE_RTOL["float64"] * 100,
        p.tau_mem,
    )


@pytest.mark.parametrize("n", [1, 3, 4, 5, 8, 13, 16])
@pytest.mark.parametrize("shape", [(), (3,)], ids=["scalars", "vectors"])
def test_pack_equals_stack(n, shape):
    """``pack`` (the JAX kernel's stack through rows of 4, so XLA fuses it) is ``jnp.stack``:
    same values, order, shape and dtype, for any count and for scalars or arrays."""
    import jax.numpy as jnp
    from spikebench.kernels.event_lif import _jax as kj

    vals = [jnp.full(shape, 1.5 * j - 2, jnp.float32) for j in range(n)]
    got, want = kj.pack(vals), jnp.stack(vals)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_the_newton_cap_holds_the_grazing_regime_with_room(monkeypatch):
    """A PSP whose peak grazes the threshold (1e-16 below) makes Newton converge linearly
    (a near-double root): the NumPy kernel needs 29 iterations there, measured by lowering
    the cap until the spike time changes. One iteration fewer is off by ~1e-8 relative, above
    the float64 check's 1e-9, so the cap matters for correctness; the cap keeps at least twice
    the need (a cap of 30 would pass this input with no room for a harder one). The JAX and
    PyTorch kernels, with the same cap, give the converged time (to the crossing's condition)."""
    from spikebench.kernels.event_lif import _common
    from spikebench.kernels.event_lif import _numpy as kernel

    p = LIFParams(tau_mem=0.01, tau_syn=0.005, theta=1.0)
    r = 1 / p.tau_syn - 1 / p.tau_mem
    d_peak = math.log(p.tau_mem / p.tau_syn) / r
    v_peak = (
        p.tau_syn
        / (p.tau_mem - p.tau_syn)
        * (math.exp(-d_peak / p.tau_mem) - math.exp(-d_peak / p.tau_syn))
    )
    p = p._replace(theta=v_peak * (1 - 1e-16))
    args = (np.array([0.0]), np.array([0]), np.array([[1.0]]), p)
    converged = simulate(*args)[0][0, 0]
    assert 0 < converged <= d_peak

    def with_cap(cap):
        monkeypatch.setattr(kernel, "NEWTON_MAX_ITER", cap)
        return simulate(*args)[0][0, 0]

    need = next(c for c in range(1, _common.NEWTON_MAX_ITER + 1) if with_cap(c) == converged)
    assert need >= 20, need  # the grazing regime, not the usual ~5 iterations
    assert abs(with_cap(need - 1) - converged) > 1e-9 * converged
    assert _common.NEWTON_MAX_ITER >= 2 * need, (_common.NEWTON_MAX_ITER, need)
    monkeypatch.undo()
    for fw in ("jax", "torch"):
        pytest.importorskip(fw)
        got = simulate(*args, framework=fw)[0][0, 0]
        # a grazing crossing's condition number grows like 1/sqrt(gap) (test_grazing_crossings)
        assert abs(float(got) - converged) <= 1e-15 / math.sqrt(1e-16) * converged, fw
