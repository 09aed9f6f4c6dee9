"""Discrete LIF and the PSU family: matrices, loop vs matrix form, every framework against the
NumPy reference and against each other (forward and gradients), bad input, and a small
training sanity check."""

from __future__ import annotations

import math

import numpy as np
import pytest

# these tests compare the JAX and PyTorch twins: skipped where either is missing
jax = pytest.importorskip("jax")
torch = pytest.importorskip("torch")
jnp = jax.numpy
from spikebench.kernels import psu as P
from spikebench.kernels.psu import _numpy as N
from spikebench.kernels.psu import jax as J
from spikebench.kernels.psu import torch as T

from tests.tolerances import TOLERANCES, tol

NEURONS = P.NEURONS
PARAMS = P.PSUParams(tau=2.0, theta=0.3)
# potentials against the float64 reference / each other, relative to the largest magnitude
V_RTOL = TOLERANCES["psu_v"]
G_RTOL = TOLERANCES["psu_grad"]
MARGIN = {"float64": 1e-9, "float32": 1e-4}  # |v - theta| below this may flip a spike


def _inputs(t, shape=(3, 5), seed=0):
    rng = np.random.default_rng([seed, t])
    x = rng.normal(0.3, 0.5, (t, *shape))
    mat, mat_b = P.init_learned(rng, t)
    mat_b = rng.normal(0.0, 0.1, t)  # a non-zero bias, so its gradient path is exercised
    return x, mat, mat_b, rng.normal(0.0, 1.0, x.shape)


def _extra(kind, mat, mat_b):
    return (mat, mat_b) if kind in P.LEARNED else ()


def _rel(a, b):
    return float(np.max(np.abs(np.asarray(a, np.float64) - b)) / max(np.max(np.abs(b)), 1e-300))


def _jax_run(kind, x, mat, mat_b, r, dtype):
    conv = lambda a: jnp.asarray(a, dtype)  # noqa: E731
    extra = tuple(conv(a) for a in _extra(kind, mat, mat_b))
    alpha = conv(PARAMS.alpha)

    def f(x, extra, alpha):
        o = J.neuron(kind, x, PARAMS, *extra, alpha=None if kind == "lif" else alpha)
        return jnp.sum(o.spikes * conv(r)), o

    (_, out), (gx, gextra, galpha) = jax.value_and_grad(f, argnums=(0, 1, 2), has_aux=True)(
        conv(x), extra, alpha
    )
    grads = {"x": gx}
    if kind in P.LEARNED:
        grads["mat"], grads["mat_b"] = gextra
    if kind != "lif":
        grads["alpha"] = galpha
    return out, {k: np.asarray(v, np.float64) for k, v in grads.items()}


def _torch_run(kind, x, mat, mat_b, r, dtype):
    conv = lambda a: torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=True)  # noqa
    xt = conv(x)
    extra = tuple(conv(a) for a in _extra(kind, mat, mat_b))
    alpha = conv(PARAMS.alpha) if kind != "lif" else None
    out = T.neuron(kind, xt, PARAMS, *extra, alpha=alpha)
    leaves = [xt, *extra] + ([alpha] if alpha is not None else [])
    gs = torch.autograd.grad(torch.sum(out.spikes * torch.as_tensor(r, dtype=xt.dtype)), leaves)
    names = (
        ["x"]
        + (["mat", "mat_b"] if kind in P.LEARNED else [])
        + (["alpha"] if kind != "lif" else [])
    )
    return (
        T.NeuronOut(out.spikes.detach(), out.v.detach()),
        {n: g.numpy().astype(np.float64) for n, g in zip(names, gs, strict=True)},
    )


RUNNERS = {"jax": _jax_run, "torch": _torch_run}


# -- matrices ----------------------------------------------------------------------------------


@pytest.mark.parametrize("t", [1, 2, 3, 7, 16, 64])
def test_matrices_equal_the_released_form_at_tau_2(t):
    a, b = P.lif_matrices(t, 2.0)
    ra, rb = P.released_matrices(t, 2.0)
    i, j = np.indices((t, t))
    np.testing.assert_array_equal(a, np.where(i >= j, 0.5 ** (i - j + 1.0), 0.0))
    np.testing.assert_array_equal(b, np.where(i > j, 0.5 ** (i - j + 0.0), 0.0))
    np.testing.assert_array_equal(a, ra)
    np.testing.assert_array_equal(b, rb)


def test_released_form_is_not_lif_away_from_tau_2():
    a, b = P.lif_matrices(5, 4.0)
    ra, rb = P.released_matrices(5, 4.0)
    assert a[1, 0] == pytest.approx(0.25 * 0.75) and ra[1, 0] == pytest.approx(0.25**2)
    assert not np.allclose(b, rb)


@pytest.mark.parametrize("t", [1, 2, 3, 17])
@pytest.mark.parametrize("fw", ["numpy", "jax", "torch"])
def test_unrolled_matrix_form_equals_the_loop(fw, t):
    """H = A X - theta B S with the loop's own spikes; without resets (theta -> inf) H = A X,
    which is what ``lif_matrix`` computes."""
    x, *_ = _inputs(t)
    out = P.simulate(x, "lif", PARAMS, framework=fw)
    s, h = (np.asarray(v, np.float64) for v in out)
    a, b = P.lif_matrices(t, PARAMS.tau)
    np.testing.assert_allclose(
        h,
        np.tensordot(a, x, 1) - PARAMS.theta * np.tensordot(b, s, 1),
        rtol=0,
        atol=tol("ulps_abs"),
    )
    high = PARAMS._replace(theta=1e9)
    _, h_free = P.simulate(x, "lif", high, framework=fw)
    if fw == "numpy":
        m = np.tensordot(a, x, 1)
    else:
        mod = J if fw == "jax" else T
        conv = jnp.asarray if fw == "jax" else torch.as_tensor
        m = np.asarray(mod.lif_matrix(conv(x), high))
    np.testing.assert_allclose(np.asarray(h_free), m, rtol=0, atol=tol("ulps_abs"))


def test_numpy_lif_equals_a_scalar_loop():
    x, *_ = _inputs(9, shape=(4,))
    a, b = 0.5, 0.5
    out = N.forward("lif", x, PARAMS)
    for n in range(4):
        v = 0.0
        for k in range(9):
            h = b * v + a * x[k, n]
            s = 1.0 if h > PARAMS.theta else 0.0
            v = h - PARAMS.theta * s
            assert out.v[k, n] == h and out.spikes[k, n] == s


# -- every framework against the reference and each other ------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("t", [1, 2, 3, 16, 65])
@pytest.mark.parametrize("kind", NEURONS)
def test_forward_and_gradients_match_reference_and_each_other(kind, t, dtype):
    x, mat, mat_b, r = _inputs(t)
    if dtype == "float32":  # identical inputs for both dtypes
        x, mat, mat_b, r = (np.float32(a).astype(np.float64) for a in (x, mat, mat_b, r))
    ref = N.forward(kind, x, PARAMS, *_extra(kind, mat, mat_b))
    gref = N.backward(kind, x, r, PARAMS, *_extra(kind, mat, mat_b))
    near = np.abs(ref.v - PARAMS.theta) <= MARGIN[dtype]
    outs = {}
    for fw, run in RUNNERS.items():
        out, grads = run(kind, x, mat, mat_b, r, dtype)
        s, v = np.asarray(out.spikes, np.float64), np.asarray(out.v, np.float64)
        outs[fw] = (s, v, grads)
        diff = s != ref.spikes
        assert np.all(near[diff]), f"{fw}: spikes differ away from the threshold"
        if kind == "lif" and diff.any():  # a flip carries forward through the reset
            continue
        assert _rel(v, ref.v) <= V_RTOL[dtype], fw
        assert set(grads) == set(gref)
        for name, g in grads.items():
            assert _rel(g, gref[name]) <= G_RTOL[dtype], (fw, name)
    (sj, vj, gj), (st, vt, gt) = outs["jax"], outs["torch"]
    assert np.array_equal(sj, st) or np.all(near[sj != st])
    if np.array_equal(sj, st):
        assert _rel(vj, vt) <= V_RTOL[dtype]
        for name in gj:
            assert _rel(gj[name], gt[name]) <= G_RTOL[dtype], name


def test_float64_spikes_are_identical_across_frameworks_on_a_large_input():
    x, mat, mat_b, r = _inputs(128, shape=(16, 64), seed=3)
    for kind in NEURONS:
        ref = N.forward(kind, x, PARAMS, *_extra(kind, mat, mat_b))
        for fw in ("jax", "torch"):
            out = P.simulate(
                x,
                kind,
                PARAMS,
                framework=fw,
                **dict(zip(("mat", "mat_b"), _extra(kind, mat, mat_b), strict=False)),
            )
            np.testing.assert_array_equal(np.asarray(out.spikes), ref.spikes)


@pytest.mark.parametrize("fw", ["jax", "torch"])
def test_surrogate_is_strict_heaviside_with_the_atan_gradient(fw):
    u = np.array([-1.0, -1e-12, 0.0, 1e-12, 0.3])
    alpha = 2.0
    q = 1.0 + (0.5 * math.pi * alpha * u) ** 2
    if fw == "jax":
        s, vjp = jax.vjp(J.spike, jnp.asarray(u), jnp.asarray(alpha))
        gu, ga = vjp(jnp.ones_like(s))
    else:
        ut = torch.tensor(u, requires_grad=True)
        at = torch.tensor(alpha, dtype=torch.float64, requires_grad=True)
        s = T.spike(ut, at)
        gu, ga = torch.autograd.grad(s.sum(), [ut, at])
    np.testing.assert_array_equal(np.asarray(s.detach() if fw == "torch" else s), [0, 0, 0, 1, 1])
    np.testing.assert_allclose(np.asarray(gu), alpha / (2 * q), rtol=tol("ulps"))
    assert float(ga) == pytest.approx(float(np.sum(u / (2 * q))), rel=tol("ulps"))


@pytest.mark.parametrize("fw", ["jax", "torch"])
@pytest.mark.parametrize("kind", P.LEARNED)
def test_masked_entries_get_zero_gradient(fw, kind):
    x, mat, mat_b, r = _inputs(8)
    _, grads = RUNNERS[fw](kind, x, mat, mat_b, r, "float64")
    assert np.all(np.triu(grads["mat"], 1) == 0.0)
    assert np.any(np.tril(grads["mat"]) != 0.0)


def test_lif_reset_is_detached():
    """Gradient of sum(S) through LIF equals the loop with the reset's spike held constant:
    G_X[t] = a sum_{k>=t} b^(k-t) s'(H[k])."""
    x, *_ = _inputs(6, shape=(2,))
    out, grads = _jax_run("lif", x, None, None, np.ones_like(x), "float64")
    u = np.asarray(out.v) - PARAMS.theta
    d = PARAMS.alpha / (2 * (1 + (0.5 * math.pi * PARAMS.alpha * u) ** 2))
    expect = np.zeros_like(x)
    for t in range(6):
        expect[t] = 0.5 * sum(0.5 ** (k - t) * d[k] for k in range(t, 6))
    np.testing.assert_allclose(grads["x"], expect, rtol=tol("ulps"))


def test_psu_fires_less_than_lif_and_mostly_agrees():
    x, *_ = _inputs(32, shape=(64, 32), seed=5)
    lif = N.forward("lif", x, PARAMS).spikes
    psu = N.forward("psu", x, PARAMS).spikes
    assert psu.mean() < lif.mean()
    assert 0.85 < np.mean(psu == lif) < 1.0


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fw", ["numpy", "jax", "torch"])
def test_bad_input_is_a_clear_value_error(fw):
    x, mat, mat_b, _ = _inputs(8)
    with pytest.raises(ValueError, match="T=8.*built for T=9"):
        P.simulate(x, "ipsu", PARAMS, framework=fw, mat=np.eye(9), mat_b=np.zeros(9))
    bad = x.copy()
    bad[3, 1, 2] = np.nan
    with pytest.raises(ValueError, match=r"non-finite.*\(3, 1, 2\)"):
        P.simulate(bad, "psu", PARAMS, framework=fw)
    with pytest.raises(ValueError, match="non-finite"):
        P.simulate(x, "rpsu", PARAMS, framework=fw, mat=mat * np.inf, mat_b=mat_b)
    for tau in (1.0, 0.5, -2.0, math.inf):
        with pytest.raises(ValueError, match="tau"):
            P.simulate(x, "lif", PARAMS._replace(tau=tau), framework=fw)
    for theta in (0.0, -0.3, math.nan):
        with pytest.raises(ValueError, match="theta"):
            P.simulate(x, "psu", PARAMS._replace(theta=theta), framework=fw)
    with pytest.raises(ValueError, match="neuron='plif'"):
        P.simulate(x, "plif", PARAMS, framework=fw)
    with pytest.raises(ValueError, match="needs its learned matrix"):
        P.simulate(x, "ipsu", PARAMS, framework=fw)
    with pytest.raises(ValueError, match="no learned matrix"):
        P.simulate(x, "psu", PARAMS, framework=fw, mat=mat, mat_b=mat_b)
    with pytest.raises(ValueError, match="T >= 1"):
        P.simulate(np.zeros((0, 3)), "psu", PARAMS, framework=fw)
    with pytest.raises(ValueError, match="dtype='float16'"):
        P.simulate(x, "psu", PARAMS, framework=fw, dtype="float16")
    if fw == "numpy":
        with pytest.raises(ValueError, match="float64 reference"):
            P.simulate(x, "psu", PARAMS, framework=fw, dtype="float32")


def test_kernels_check_parameters_and_time_steps_themselves():
    x = np.zeros((5, 2))
    with pytest.raises(ValueError, match="tau"):
        J.psu(jnp.asarray(x), PARAMS._replace(tau=1.0))
    with pytest.raises(ValueError, match="theta"):
        T.lif(torch.as_tensor(x), PARAMS._replace(theta=0.0))
    with pytest.raises(ValueError, match="T=5.*built for T=4"):
        T.rpsu(torch.as_tensor(x), torch.eye(4), torch.zeros(4), PARAMS)
    with pytest.raises(ValueError, match="T=5.*built for T=4"):
        jax.jit(lambda a: J.ipsu(a, jnp.eye(4), jnp.zeros(4), PARAMS))(jnp.asarray(x))
    with pytest.raises(ValueError, match="T=5.*built for T=6"):
        T.Layer(3, 2, "ipsu", t=6)(torch.zeros(5, 1, 3))
    with pytest.raises(ValueError, match="needs the number of time steps"):
        T.Layer(3, 2, "rpsu")


# -- networks ----------------------------------------------------------------------------------


def _net_inputs(t=6, n_in=12, hidden=10, batch=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.poisson(0.5, (t, batch, n_in)).astype(np.float64)
    labels = rng.integers(0, 4, batch)
    return x, labels


@pytest.mark.parametrize("kind", NEURONS)
def test_network_logits_and_gradients_agree_everywhere(kind):
    x, labels = _net_inputs()
    tree = P.init_network(1, n_in=12, hidden=10, n_out=4, t=6, neuron=kind, w_gain=2.0)
    loss_ref, g_ref, out = N.loss_and_grad(tree, x, labels, kind, PARAMS)
    assert 0.02 < np.mean([s.mean() for s in out.spikes]) < 0.9  # the layers do fire
    jt = J.from_numpy(tree, jnp.float64)
    loss_j, g_j = jax.value_and_grad(J.loss)(jt, jnp.asarray(x), jnp.asarray(labels), kind, PARAMS)
    tt = T.from_numpy(tree, torch.float64, requires_grad=True)
    loss_t = T.loss(tt, torch.as_tensor(x), torch.as_tensor(labels), kind, PARAMS)
    loss_t.backward()
    np.testing.assert_allclose(
        np.asarray(J.network(jt, jnp.asarray(x), kind, PARAMS)),
        out.logits,
        rtol=tol("twin"),
        atol=tol("ulps_abs"),
    )
    assert float(loss_j) == pytest.approx(loss_ref, rel=tol("twin"))
    assert float(loss_t.detach()) == pytest.approx(loss_ref, rel=tol("twin"))
    flat_ref = jax.tree_util.tree_leaves(g_ref)
    flat_j = jax.tree_util.tree_leaves(g_j)
    flat_t = [
        p.grad for p in jax.tree_util.tree_leaves(tt, is_leaf=lambda v: isinstance(v, torch.Tensor))
    ]
    assert len(flat_ref) == len(flat_j) == len(flat_t)
    for r, gj, gt in zip(flat_ref, flat_j, flat_t, strict=True):
        assert _rel(np.asarray(gj), r) <= tol("twin")
        assert _rel(gt.numpy(), r) <= tol("twin")


def test_step_by_step_lif_network_equals_layer_by_layer():
    x, _ = _net_inputs(t=9)
    tree = P.init_network(2, n_in=12, hidden=10, n_out=4, t=9, neuron="lif", w_gain=2.0)
    ref = N.network(tree, x, "lif", PARAMS).logits  # layer by layer
    for logits in (
        J.network(J.from_numpy(tree, jnp.float64), jnp.asarray(x), "lif", PARAMS),
        T.network(T.from_numpy(tree, torch.float64), torch.as_tensor(x), "lif", PARAMS),
    ):
        np.testing.assert_allclose(np.asarray(logits), ref, rtol=tol("twin"), atol=tol("ulps_abs"))


def test_torch_modules_equal_the_functional_network():
    x, _ = _net_inputs()
    net = T.Network(12, 10, 4, kind="rpsu", t=6, p=PARAMS, seed=1, dtype=torch.float64)
    tree = P.init_network(1, n_in=12, hidden=10, n_out=4, t=6, neuron="rpsu")
    np.testing.assert_allclose(
        net(torch.as_tensor(x)).detach().numpy(),
        N.network(tree, x, "rpsu", PARAMS).logits,
        rtol=tol("twin"),
    )
    assert {n.split(".")[-1] for n, _ in net.named_parameters()} == {
        "w",
        "b",
        "mat",
        "mat_b",
        "alpha",
    }
    layer = T.Layer(12, 10, "psu", dtype=torch.float64)
    assert layer(torch.as_tensor(x)).shape == (6, 3, 10)


def _toy_task(seed=0, t=8, n_in=16, batch=32):
    """Two classes: class c raises the firing rate of the channels of half c."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, batch)
    rate = np.full((batch, n_in), 0.1)
    for b, c in enumerate(labels):
        rate[b, c * n_in // 2 : (c + 1) * n_in // 2] = 0.6
    x = (rng.random((t, batch, n_in)) < rate).astype(np.float64)
    return x, labels


@pytest.mark.parametrize("kind", ["psu", "ipsu", "rpsu"])
def test_training_sanity_loss_decreases_in_both_frameworks(kind):
    x, labels = _toy_task()
    tree = P.init_network(0, n_in=16, hidden=16, n_out=2, t=8, neuron=kind, w_gain=2.0)
    lr, steps = 0.5, 40
    # JAX: plain gradient descent
    params = J.from_numpy(tree, jnp.float64)
    xj, lj = jnp.asarray(x), jnp.asarray(labels)
    grad_fn = jax.jit(jax.value_and_grad(J.loss), static_argnums=(3, 4))
    losses_j, first_j = [], None
    for _ in range(steps):
        loss, g = grad_fn(params, xj, lj, kind, PARAMS)
        first_j = first_j or g
        losses_j.append(float(loss))
        params = jax.tree.map(lambda p, d: p - lr * d, params, g)
    # PyTorch: the same descent with torch.optim.SGD on the nn.Module
    net = T.Network(16, 16, 2, kind=kind, t=8, p=PARAMS, seed=0, dtype=torch.float64)
    for name, p in net.named_parameters():  # same start as the JAX run
        assert p.shape == tuple(np.shape(_get(tree, name)))
    with torch.no_grad():
        for name, p in net.named_parameters():
            p.copy_(torch.as_tensor(_get(tree, name)))
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    xt, lt = torch.as_tensor(x), torch.as_tensor(labels)
    losses_t = []
    for step in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(xt), lt)
        loss.backward()
        if step == 0:  # both frameworks give the same gradients at step 0
            for name, p in net.named_parameters():
                err = _rel(p.grad.numpy(), np.asarray(_get(first_j, name)))
                assert err <= tol("grad_modes"), name
        losses_t.append(float(loss))
        opt.step()
    for losses in (losses_j, losses_t):
        assert np.mean(losses[-5:]) < 0.7 * losses[0], losses


def _get(tree, dotted):
    node = tree
    for part in dotted.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node
