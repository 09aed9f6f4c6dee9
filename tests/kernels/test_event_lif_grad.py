"""Gradients of the parallel simulator (implicit function theorem at each spike, autodiff
through the scan): against central finite differences in float64 for weights, delays and input
times, forward mode against reverse mode, with and without the chunk-recomputing backward,
JAX against PyTorch; the network and its readout against the NumPy reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.helpers import LIFParams, random_layer
from tests.tolerances import TOLERANCES, tol

P = LIFParams(tau_mem=0.02, tau_syn=0.005, theta=1.0, t_ref=0.002)
FD_RTOL = TOLERANCES["finite_difference"]["float64"]


def _case(seed=3):
    rng = np.random.default_rng(seed)
    t, c, w, d = random_layer(
        rng, batch=2, n_events=24, n_in=5, n_out=3, delays=True, w_mean=1.0, w_std=1.0, pad=False
    )
    return t, c, w, d, rng


def _jax_loss(c, coef, chunk=4, n_steps=40, remat=True, max_spikes=16):
    import jax.numpy as jnp
    from spikebench.kernels.event_lif import jax as pj

    def loss(t, w, d):
        out = pj.parallel(
            t,
            jnp.asarray(c),
            w,
            P,
            delays=d,
            chunk=chunk,
            n_steps=n_steps,
            max_spikes=max_spikes,
            remat=remat,
        )
        st = out.spike_times
        return jnp.sum(jnp.where(jnp.isfinite(st), st, 0.0) * coef), out

    return loss


def _torch_grads(t, c, w, d, coef, chunk=4, remat=True, forward_tangents=None):
    import torch
    from spikebench.kernels.event_lif import torch as pt

    leaves = [torch.tensor(x, requires_grad=True) for x in (t, w, d)]
    out = pt.parallel(
        leaves[0],
        torch.as_tensor(c),
        leaves[1],
        P,
        delays=leaves[2],
        chunk=chunk,
        max_spikes=coef.shape[-1],
        remat=remat,
    )
    st = out.spike_times
    loss = torch.sum(torch.where(torch.isfinite(st), st, 0.0) * torch.as_tensor(coef))
    return [g.numpy() for g in torch.autograd.grad(loss, leaves)], out


def _fd(f, args, i, h=1e-7):
    base = args[i]
    g = np.zeros_like(base)
    for idx in np.ndindex(base.shape):
        up = [a.copy() for a in args]
        dn = [a.copy() for a in args]
        up[i][idx] += h
        dn[i][idx] -= h
        g[idx] = (f(*up) - f(*dn)) / (2 * h)
    return g


@pytest.fixture(scope="module")
def layer_case():
    import jax
    import jax.numpy as jnp

    t, c, w, d, rng = _case()
    coef = rng.normal(size=(2, 3, 16))
    loss = _jax_loss(c, coef)
    out = loss(jnp.asarray(t), jnp.asarray(w), jnp.asarray(d))[1]
    assert int(out.unprocessed.sum()) == 0 and int(out.counts.sum()) >= 10
    assert int(out.counts.max()) >= 3  # bursts and refractory periods are on the path
    val = jax.jit(lambda *a: loss(*a)[0])
    grads = jax.grad(lambda *a: loss(*a)[0], argnums=(0, 1, 2))(
        *(jnp.asarray(x) for x in (t, w, d))
    )
    return t, c, w, d, coef, loss, val, [np.asarray(g) for g in grads]


@pytest.mark.parametrize("i, name", [(0, "input times"), (1, "weights"), (2, "delays")])
def test_jax_gradients_match_finite_differences(layer_case, i, name):
    t, c, w, d, coef, loss, val, grads = layer_case
    fd = _fd(lambda *a: float(val(*a)), [t, w, d], i)
    err = np.abs(grads[i] - fd).max() / np.abs(fd).max()
    assert err <= FD_RTOL, f"{name}: relative error {err:.3g}"


def test_torch_gradients_equal_jax(layer_case):
    t, c, w, d, coef, _, _, grads = layer_case
    for remat in (True, False):
        tg, _ = _torch_grads(t, c, w, d, coef, remat=remat)
        for a, b in zip(tg, grads, strict=True):
            np.testing.assert_allclose(
                a, b, rtol=tol("grad_modes"), atol=tol("twin") * np.abs(b).max()
            )


def test_forward_mode_equals_reverse_mode(layer_case):
    import jax
    import jax.numpy as jnp
    import torch
    import torch.autograd.forward_ad as fwad
    from spikebench.kernels.event_lif import torch as pt

    t, c, w, d, coef, loss, _, grads = layer_case
    rng = np.random.default_rng(0)
    tangents = [rng.normal(size=x.shape) for x in (t, w, d)]
    rev = sum(float(np.sum(g * v)) for g, v in zip(grads, tangents, strict=True))
    _, fwd = jax.jvp(
        lambda *a: loss(*a)[0],
        tuple(jnp.asarray(x) for x in (t, w, d)),
        tuple(jnp.asarray(v) for v in tangents),
    )
    assert abs(float(fwd) - rev) <= tol("grad_modes") * abs(rev)
    with fwad.dual_level():
        duals = [
            fwad.make_dual(torch.tensor(x), torch.tensor(v))
            for x, v in zip((t, w, d), tangents, strict=True)
        ]
        out = pt.parallel(
            duals[0], torch.as_tensor(c), duals[1], P, delays=duals[2], chunk=4, max_spikes=16
        )
        st = out.spike_times
        val = torch.sum(torch.where(torch.isfinite(st), st, 0.0) * torch.as_tensor(coef))
        tfwd = float(fwad.unpack_dual(val).tangent)
    assert abs(tfwd - rev) <= tol("grad_modes") * abs(rev)


def test_gradients_independent_of_chunk_and_remat(layer_case):
    import jax
    import jax.numpy as jnp

    t, c, w, d, coef, _, _, grads = layer_case
    args = tuple(jnp.asarray(x) for x in (t, w, d))
    for chunk, n_steps, remat in ((1, 120, True), (8, 30, False), (32, 20, True)):
        loss = _jax_loss(c, coef, chunk=chunk, n_steps=n_steps, remat=remat)
        # one compile per setting: the forward's output comes out with the gradients
        (_, out), g = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2), has_aux=True))(*args)
        assert int(out.unprocessed.sum()) == 0
        for a, b in zip(g, grads, strict=True):
            np.testing.assert_allclose(
                np.asarray(a), b, rtol=tol("grad_modes"), atol=tol("twin") * np.abs(b).max()
            )


@pytest.mark.parametrize("fw", ["jax", "torch"])
def test_grazing_gradient_diverges_visibly(fw):
    """dt*/dw = -(dV/dw)/Vdot with Vdot -> 0 at grazing: large, never clipped."""
    r = 1 / P.tau_syn - 1 / P.tau_mem
    d_peak = math.log(P.tau_mem / P.tau_syn) / r
    v_peak = (
        P.tau_syn
        / (P.tau_mem - P.tau_syn)
        * (math.exp(-d_peak / P.tau_mem) - math.exp(-d_peak / P.tau_syn))
    )
    slopes = []
    for gap in (1e-2, 1e-8):
        p = P._replace(theta=v_peak * (1 - gap))
        if fw == "jax":
            import jax
            import jax.numpy as jnp
            from spikebench.kernels.event_lif import jax as mod

            def first(w, p=p, mod=mod):
                out = mod.parallel(
                    jnp.zeros((1, 1)),
                    jnp.zeros((1, 1), int),
                    w,
                    p,
                    chunk=2,
                    n_steps=4,
                    max_spikes=1,
                )
                return out.spike_times[0, 0, 0]

            slopes.append(float(jax.grad(first)(jnp.ones((1, 1)))[0, 0]))
        else:
            import torch
            from spikebench.kernels.event_lif import torch as mod

            w = torch.ones((1, 1), dtype=torch.float64, requires_grad=True)
            out = mod.parallel(
                torch.zeros((1, 1), dtype=torch.float64),
                torch.zeros((1, 1), dtype=torch.int64),
                w,
                p,
                chunk=2,
                max_spikes=1,
            )
            out.spike_times[0, 0, 0].backward()
            slopes.append(float(w.grad[0, 0]))
    assert slopes[0] < 0 and (slopes[1] < 1e3 * slopes[0] or math.isinf(slopes[1]))


# -- the network -----------------------------------------------------------------------------


def _net_inputs():
    from spikebench import datasets

    ev = datasets.synthetic_shd(3, n_events=300, n_channels=40, seed=1)
    rng = np.random.default_rng(4)
    rate = 300 / 0.1
    w1 = rng.normal(1.0, 2.0, (12, 40)) * 40 / (rate * P.tau_syn) / 4
    w2 = rng.normal(1.0, 2.0, (8, 12)) / (12 * 30.0 * P.tau_syn)
    w_out = rng.normal(0.0, 1.0, (4, 8))
    return (
        ev.times.astype(np.float64),
        ev.channels.astype(np.int64),
        (w1, w2),
        w_out,
        rng.integers(0, 4, 3),
    )


def test_network_matches_numpy_reference_and_frameworks_agree():
    import jax
    import jax.numpy as jnp
    import torch
    from spikebench.kernels.event_lif import _net_jax, _net_numpy, _net_torch

    t, c, layers, w_out, labels = _net_inputs()
    ref_loss, ref = _net_numpy.loss(t, c, labels, layers, w_out, P)
    assert all(int(x.sum()) > 5 for x in ref.counts), "every layer should spike"
    tj, cj = jnp.asarray(t), jnp.asarray(c)
    lj = tuple(jnp.asarray(x) for x in layers)
    budgets = _net_jax.plan_budgets(tj, cj, lj, P, chunk=8)
    for method in ("serial", "parallel"):
        out = _net_jax.network(
            tj, cj, lj, jnp.asarray(w_out), P, chunk=8, method=method, budgets=budgets
        )
        np.testing.assert_allclose(np.asarray(out.logits), ref.logits, rtol=tol("twin"))
        assert int(out.overflow) == 0
        tout = _net_torch.network(
            torch.as_tensor(t),
            torch.as_tensor(c),
            tuple(torch.as_tensor(x) for x in layers),
            torch.as_tensor(w_out),
            P,
            chunk=8,
            method=method,
        )
        np.testing.assert_allclose(tout.logits.numpy(), ref.logits, rtol=tol("twin"))

    def f(ws, wo):
        return _net_jax.loss(tj, cj, jnp.asarray(labels), ws, wo, P, chunk=8, budgets=budgets)[0]

    val, (g_layers, g_out) = jax.value_and_grad(f, argnums=(0, 1))(lj, jnp.asarray(w_out))
    assert abs(float(val) - ref_loss) <= tol("twin_scalar") * abs(ref_loss)
    leaves = [torch.tensor(x, requires_grad=True) for x in (*layers, w_out)]
    tl, _ = _net_torch.loss(
        torch.as_tensor(t),
        torch.as_tensor(c),
        torch.as_tensor(labels),
        tuple(leaves[:-1]),
        leaves[-1],
        P,
        chunk=8,
        budgets=budgets,
    )
    tg = torch.autograd.grad(tl, leaves)
    for a, b in zip(tg, [*g_layers, g_out], strict=True):
        np.testing.assert_allclose(
            a.numpy(),
            np.asarray(b),
            rtol=tol("twin_grad"),
            atol=tol("twin") * float(np.abs(np.asarray(b)).max()),
        )
    # the hidden layer's gradient against finite differences of the NumPy reference loss
    rng = np.random.default_rng(8)
    v = rng.normal(size=layers[0].shape) * layers[0].std()
    h = 1e-6
    up = _net_numpy.loss(t, c, labels, (layers[0] + h * v, layers[1]), w_out, P)[0]
    dn = _net_numpy.loss(t, c, labels, (layers[0] - h * v, layers[1]), w_out, P)[0]
    fd = (up - dn) / (2 * h)
    dd = float(np.sum(np.asarray(g_layers[0]) * v))
    assert abs(dd - fd) <= FD_RTOL * abs(fd) + tol("twin_scalar")


def test_plan_budgets_same_whether_the_first_guess_fits_or_not():
    """A first guess too small for a layer's busiest neuron (the second run) plans what a
    roomy one does, in both frameworks, and the torch twin plans what JAX does."""
    import jax.numpy as jnp
    import torch
    from spikebench.kernels.event_lif import _net_jax, _net_torch

    t, c, layers, _, _ = _net_inputs()
    tj, cj = jnp.asarray(t), jnp.asarray(c)
    lj = tuple(jnp.asarray(x) for x in layers)
    roomy = _net_jax.plan_budgets(tj, cj, lj, P, chunk=8)
    assert all(s > 1 for s, _ in roomy), "every layer should need more than the small guess"
    assert _net_jax.plan_budgets(tj, cj, lj, P, chunk=8, guess=1) == roomy
    tt, tc = torch.as_tensor(t), torch.as_tensor(c)
    lt = tuple(torch.as_tensor(x) for x in layers)
    assert _net_torch.plan_budgets(tt, tc, lt, P, chunk=8, guess=1) == roomy
    assert _net_torch.plan_budgets(tt, tc, lt, P, chunk=8) == roomy


def test_network_static_budget_overflow_is_reported():
    import jax.numpy as jnp
    from spikebench.kernels.event_lif import _net_jax

    t, c, layers, w_out, _ = _net_inputs()
    tj, cj = jnp.asarray(t), jnp.asarray(c)
    lj = tuple(jnp.asarray(x) for x in layers)
    (s1, n1), (s2, n2) = _net_jax.plan_budgets(tj, cj, lj, P, chunk=8)
    ok = _net_jax.network(tj, cj, lj, jnp.asarray(w_out), P, chunk=8, budgets=((s1, n1), (s2, n2)))
    assert int(ok.overflow) == 0
    for budgets in (
        ((s1, n1 - 2), (s2, n2)),
        ((s1 - 1, n1), (s2, n2)),
        ((s1, n1), (max(s2 - 1, 1), n2)),
    ):
        out = _net_jax.network(tj, cj, lj, jnp.asarray(w_out), P, chunk=8, budgets=budgets)
        assert int(out.overflow) > 0, budgets
    with pytest.raises(ValueError, match="budgets"):
        _net_jax.network(tj, cj, lj, jnp.asarray(w_out), P, budgets=((s1, n1),))
