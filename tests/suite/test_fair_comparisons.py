"""Fair comparisons (README "Anchors" and "Memory"): the adseq anchor timed in the authors' own
loop form, our rows doing the same work, the state each algorithm carries computed by hand,
kernel-level memory that grows where the algorithm says, and the v6 -> v7 migration."""

from __future__ import annotations

import dataclasses
import math
from functools import partial

import numpy as np
import pandas as pd
import pytest
from spikebench import families, profiles, results
from spikebench.families.event_lif import sweeps as lif_sweeps
from spikebench.harness import memory, runner

FAST = {"min_rounds": 1, "max_rounds": 1, "warmup": 0}


def _small(case, **sizes):
    return dataclasses.replace(case, sizes=tuple(sorted({**case.size, **sizes}.items())))


def _scan_carries(fn, *args, **static):
    """The avals of the outermost scan's carry in fn's program."""
    import jax
    import jax.extend as jex

    closed = jax.make_jaxpr(lambda *a: fn(*a, **static))(*args)

    def find(jaxpr):
        for eqn in jaxpr.eqns:
            if eqn.primitive.name == "scan":
                n_c, n_k = eqn.params["num_consts"], eqn.params["num_carry"]
                return [v.aval for v in eqn.invars[n_c : n_c + n_k]]
            for sub in jex.core.jaxprs_in_params(eqn.params):
                got = find(sub)
                if got is not None:
                    return got
        return None

    return find(closed.jaxpr)


@pytest.mark.parametrize("design", ["heap", "fifo", "ring", "sorted", "lossy"])
def test_adseq_timed_loop_carries_only_the_authors_state(design):
    """The anchor's timed form (tally 'total') carries the queues and one scalar, as the
    authors' batched benchmark does: nothing per queue is added to their loop. The
    instrumented form carries per-queue counters, which this test tells apart."""
    pytest.importorskip("adseq")
    import jax
    from spikebench.kernels.queues import _adseq

    n, cap = 37, (None if design == "ring" else 4)
    q = _adseq.init(design, n, cap, 8)
    state = [(x.shape, x.dtype) for x in jax.tree_util.tree_leaves(q)]
    kw = dict(design=design, n_steps=20, delay=8, interval=3, seed=0)
    own = _scan_carries(_adseq.run_traffic, q, tally="total", **kw)
    assert [(a.shape, a.dtype) for a in own] == state + [((), np.dtype("int32"))]
    instrumented = _scan_carries(_adseq.run_traffic, q, tally="queue", **kw)
    assert sum(a.shape == (n,) for a in instrumented) > sum(s == (n,) for s, _ in state)


@pytest.mark.parametrize("design", ["heap", "fifo", "ring", "sorted", "lossy"])
def test_total_form_delivers_what_the_counters_count(design):
    """Ours (JAX, PyTorch) and adseq in the one-total form: the same final queues as the
    instrumented form and a total equal to the per-queue delivered counts' sum."""
    pytest.importorskip("adseq")
    torch = pytest.importorskip("torch")
    from spikebench.kernels.queues import _adseq
    from spikebench.kernels.queues import jax as qj
    from spikebench.kernels.queues import torch as qt

    cap = None if design == "ring" else 3
    kw = dict(design=design, n_steps=60, delay=5, interval=4, seed=1)
    for mod in (qj, qt, _adseq):
        q = mod.init(design, 23, cap, 5)
        q_t, total = mod.run_traffic(q, tally="total", **kw)
        q_i, hits, _, _ = mod.run_traffic(q, tally="queue", **kw)
        assert np.array_equal(
            np.asarray(q_t.keys if hasattr(q_t, "keys") else q_t),
            np.asarray(q_i.keys if hasattr(q_i, "keys") else q_i),
        ), mod.__name__
        assert int(np.asarray(total)) == int(np.asarray(hits).sum()) > 0, mod.__name__
    with pytest.raises(ValueError, match="tally"):
        qj.run_traffic(qj.init(design, 2, cap, 5), tally="rows", **kw)
    assert torch  # imported for the PyTorch twin


def test_a_total_row_that_disagrees_with_its_instrumented_run_is_incorrect():
    """The check of a one-total row reads the instrumented run and compares the timed output
    with it: a timed total off by one, or other final queues, fail the row."""
    from spikebench.kernels.queues import jax as qj

    fam = families.get("queues")
    (case,) = [
        _small(c, n_queues=40)
        for c in profiles.profile_cases("quick", ["cpu"], family=["queues"], framework=["jax"])
        if c.size.get("delay") == 5 and c.size.get("capacity") == 8 and c.impl == "fifo"
    ]
    assert fam.instrumented(case) == {"tally": "queue"}
    inputs = fam.make_inputs(case)
    ref, _ = fam.reference(case, inputs)
    static = {
        "design": "fifo",
        "n_steps": int(case.size["T"]),
        "delay": 5,
        "interval": 10,
        "seed": case.seed,
    }
    q = qj.init("fifo", 40, 8, 5)
    seen = fam.to_numpy(qj.run_traffic(q, tally="queue", **static), _fw("jax"))
    q_t, total = fam.to_numpy(qj.run_traffic(q, tally="total", **static), _fw("jax"))
    good = fam.check(case, inputs, seen, ref, timed=(q_t, np.asarray(total)))
    assert good["correct"] is True
    off = fam.check(case, inputs, seen, ref, timed=(q_t, np.asarray(total) + 1))
    assert off["correct"] is False and "delivered" in off["note"]
    other = q_t._replace(keys=q_t.keys + 1)
    bad = fam.check(case, inputs, seen, ref, timed=(other, np.asarray(total)))
    assert bad["correct"] is False and "keys" in bad["note"]


def test_queue_state_bytes_are_the_designs_arrays_by_hand():
    """The ring of 10,000 queues and 81 slots: keys int32 and payloads float32 per slot, and
    head, size and dropped int32 per queue; the FIFO of 4 slots likewise; adseq's ring holds
    counts only (int32 per slot)."""
    fam = families.get("queues")
    cs = {
        (c.impl, c.framework, c.knob.get("tally")): c
        for c in profiles.profile_cases("quick", ["cpu"], family=["queues"])
        if c.size.get("n_queues") == 10_000 and c.size.get("delay") == 80
    }
    q, s = 10_000, 81
    for fw in ("jax", "torch"):
        ring = cs[("ring", fw, "total")]
        args, _, static = fam.prepare(ring, {}, _fw(fw), _dev(fw))
        assert fam.state_bytes(ring, args, static) == q * s * (4 + 4) + 3 * q * 4
        fifo = cs[("fifo", fw, "total")]
        args, _, static = fam.prepare(fifo, {}, _fw(fw), _dev(fw))
        assert fam.state_bytes(fifo, args, static) == q * 4 * (4 + 4) + 3 * q * 4
    pytest.importorskip("adseq")
    ring = cs[("ring", "adseq", "total")]
    args, _, static = fam.prepare(ring, {}, _fw("adseq"), _dev("adseq"))
    assert fam.state_bytes(ring, args, static) == q * s * 4


def _fw(name):
    from spikebench.hardware import frameworks

    return frameworks.adapter(name)


def _dev(name):
    return _fw(name).device("cpu")


def test_event_lif_state_is_the_lanes_by_hand():
    """The serial simulator carries, per (sample, neuron) lane, its spike buffer (max_spikes
    float64 times) and nine 8-byte scalars (potential, current, clock, the next reset's end,
    the input pointer, spike count, step count, a stall counter, a still-running flag's
    index) plus one bool: 8 max_spikes + 73 bytes."""
    pytest.importorskip("jax")
    from spikebench.kernels.event_lif import LIFParams

    fn = families.implementation("event_lif", "serial", "jax").entry("layer").fn
    p = LIFParams(0.02, 0.005, 1.0)
    for b, n, m in ((1, 1, 64), (1, 1, 128), (2, 3, 64)):
        t = np.sort(np.random.default_rng(0).random((b, 10)), axis=1)
        ch, w = np.zeros((b, 10), np.int64), np.ones((n, 1))
        got = memory.loop_state_bytes(fn, (t, ch, w), static={"params": p, "max_spikes": m})
        assert got == b * n * (8 * m + 73)


@pytest.mark.parametrize("impl,mats", [("lif", 0), ("psu", 2), ("ipsu", 3), ("rpsu", 4)])
def test_psu_family_state_by_hand(impl, mats):
    """T x T matrices (PSU: A, B; IPSU: W, its mask, B; RPSU: A, B, W, mask), the bias [T]
    of the learned ones, the [T, B, N] potential and spikes, and LIF's carried [B, N]."""
    fam = families.get("psu")
    case = next(
        c
        for c in profiles.profile_cases(
            "quick", ["cpu"], family=["psu"], framework=["jax"], impl=[impl]
        )
        if c.mode == "forward"
        and c.dtype == "float32"
        and c.size.get("T") == 64
        and c.size.get("n_layers", 1) == 1
    )
    inputs = fam.make_inputs(case)
    args, _, static = fam.prepare(case, inputs, _fw("jax"), _dev("jax"))
    t = 64
    bn = int(np.prod(args[0].shape[1:]))
    want = 4 * (
        2 * t * bn
        + mats * t * t
        + (t if impl in ("ipsu", "rpsu") else 0)
        + (bn if impl == "lif" else 0)
    )
    assert fam.state_bytes(case, args, static) == want


def test_kernel_memory_grows_where_the_algorithm_says(tmp_path):
    """Kernel figures at 2,000 queues: each at least the state it carries, and the ring (81
    slots) above the FIFO (4); every row names its method, the process high-water mark apart."""
    cs = [
        _small(c, n_queues=2_000, T=50)
        for c in profiles.profile_cases(
            "quick", ["cpu"], family=["queues"], framework=["jax", "torch"]
        )
        if c.size.get("n_queues") == 10_000
        and c.size.get("delay") == 80
        and c.impl in ("ring", "fifo")
        and c.knob.get("tally") in ("total", None)
    ]
    with runner.Session(tmp_path, isolate=False, timing=FAST) as s:
        rows = [s.run(c) for c in cs]
    got = {(r["impl"], r["framework"]): r for r in rows}
    for r in rows:
        assert r["status"] == "ok" and r["correct"] is True, r["error"]
        assert r["peak_mem_bytes"] >= r["state_bytes"] > 0
        assert (
            r["mem_method"]
            == {"jax": "xla_memory_analysis", "torch": "torch_cpu_alloc_peak"}[r["framework"]]
        )
    for fw in ("jax", "torch"):
        assert got[("ring", fw)]["peak_mem_bytes"] > 3 * got[("fifo", fw)]["peak_mem_bytes"]


def test_torch_kernel_figure_sees_what_a_call_allocates():
    torch = pytest.importorskip("torch")
    x = torch.zeros(1000)

    def call():
        big = torch.ones(250_000)  # 1 MB, freed before the call returns
        return (big * 2).sum() + x.sum()

    got, method = memory.kernel_figure("torch", "cpu", call, lambda o: o, args=(x,))
    assert method == "torch_cpu_alloc_peak"
    assert 2_000_000 <= got - x.nbytes < 2_200_000  # `big` and `big * 2` live at once


def test_slow_torch_calls_are_measured_by_their_resident_growth():
    """A call slower than TORCH_PROFILED_S is measured without the allocation profiler (which
    slows allocation-heavy loops tenfold): its resident growth after malloc_trim, a separate
    method that sees a 10 MB temporary."""
    torch = pytest.importorskip("torch")
    x = torch.zeros(1000)

    def call():
        big = torch.ones(2_500_000)  # 10 MB, touched
        return big.sum() + x.sum()

    got, method = memory.kernel_figure(
        "torch", "cpu", call, lambda o: o, args=(x,), median_s=2 * memory.TORCH_PROFILED_S
    )
    assert method == "cpu_rss_one_call"
    # Linux batches each thread's resident-page count (64 faults at a time): a few hundred
    # kB either way
    assert 9_500_000 <= got


def _per_step_lif(x, al, p):
    """The per-step autograd graph the one-node LIF replaced (a node per step)."""
    import torch
    from spikebench.kernels.psu import _torch as pt

    a, b = 1 / p.tau, 1 - 1 / p.tau
    v, hs, ss = torch.zeros_like(x[0]), [], []
    for k in range(x.shape[0]):
        h = v * b + a * x[k]
        s = pt.spike(h - p.theta, al)
        v = h - p.theta * s.detach()
        hs.append(h)
        ss.append(s)
    return torch.stack(ss), torch.stack(hs)


def test_torch_lif_gradients_equal_the_per_step_graph():
    """The one-node LIF (``_LIF``) against the per-step autograd graph it replaced, float64:
    spikes, potentials and the gradients w.r.t. x and the surrogate's alpha."""
    torch = pytest.importorskip("torch")
    from spikebench.kernels.psu import _torch as pt
    from spikebench.kernels.psu._common import PSUParams

    p = PSUParams(tau=2.0, theta=0.3)
    rng = np.random.default_rng(3)
    for t in (1, 2, 3, 17):
        x0 = torch.tensor(rng.normal(0.3, 0.5, (t, 4, 5)))
        r = torch.tensor(rng.normal(size=(t, 4, 5)))
        rh = torch.tensor(rng.normal(size=(t, 4, 5)))
        outs = []
        for f in (partial(_per_step_lif, p=p), lambda x, al: tuple(pt.lif(x, p, al))):
            x = x0.clone().requires_grad_(True)
            al = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
            s, h = f(x, al)
            gx, ga = torch.autograd.grad((s * r).sum() + (h * rh).sum(), (x, al))
            outs.append((s.detach(), h.detach(), gx, ga))
        for want, got in zip(*outs, strict=True):
            assert torch.allclose(got, want, rtol=1e-12, atol=1e-12)


def test_migrate_v6_moves_the_process_high_water_mark_apart():
    row = {c: np.nan for c in results.columns_of(6)}
    row.update(
        schema_version=6,
        family="queues",
        param_n_queues=10,
        param_delay=5,
        peak_mem_bytes=1e8,
        mem_method="cpu_vmhwm_delta",
    )
    gpu = {
        **row,
        "family": "psu",
        "param_n_queues": np.nan,
        "param_delay": np.nan,
        "peak_mem_bytes": 5e6,
        "mem_method": "torch_cuda_max_allocated",
    }
    out = results.migrate(pd.DataFrame([row, gpu]))
    assert list(out["schema_version"]) == [results.SCHEMA_VERSION] * 2
    assert out.loc[0, "rss_delta_bytes"] == 1e8 and pd.isna(out.loc[0, "peak_mem_bytes"])
    assert pd.isna(out.loc[0, "mem_method"]) and out.loc[0, "param_tally"] == "queue"
    assert out.loc[1, "peak_mem_bytes"] == 5e6 and pd.isna(out.loc[1, "rss_delta_bytes"])
    assert pd.isna(out.loc[1, "param_tally"])


def test_nest_density_cases_span_three_rates_in_the_default_sweep():
    cs = [
        c
        for c in profiles.profile_cases("quick", ["cpu"], family=["event_lif"], framework=["nest"])
        if "rate_hz" in c.size
    ]
    got = {(c.size["rate_hz"], c.size["n_neurons"]) for c in cs}
    assert got == {(r, n) for r in lif_sweeps.RATES_HZ for n in (1, 128)}
    assert min(lif_sweeps.RATES_HZ) <= 2_000 and max(lif_sweeps.RATES_HZ) >= 100_000
    fam = families.get("event_lif")
    assert all(fam.params(c)["param_rate_hz"] == c.size["rate_hz"] for c in cs)
    assert all(math.isclose(c.size["n_events"], c.size["rate_hz"]) for c in cs)


@pytest.mark.slow
def test_remat_backward_needs_less_kernel_memory_at_large_k():
    """The parallel network's training step at K = 128: recomputing one chunk at a time in the
    backward (remat) keeps fewer temporaries than storing every chunk's (XLA's own account)."""
    pytest.importorskip("jax")
    fam = families.get("event_lif")
    case = next(
        c
        for c in profiles.profile_cases(
            "quick", ["cpu"], family=["event_lif"], framework=["jax"], impl=["parallel"]
        )
        if c.mode == "grad"
    )
    case = _small(case, n_events=512, n_neurons=16, batch=1, n_layers=1)
    inputs = fam.make_inputs(case)
    fw = _fw("jax")
    figures = {}
    for remat in (True, False):
        c = dataclasses.replace(
            case, knobs=tuple(sorted({**case.knob, "chunk": 128, "remat": remat}.items()))
        )
        args, kwargs, static = fam.prepare(c, inputs, fw, _dev("jax"))
        call, _ = fw.compile(registry_fn(c), args, kwargs, static)
        figures[remat], method = memory.kernel_figure("jax", "cpu", call, fw.sync)
        assert method == "xla_memory_analysis"
    assert figures[True] < figures[False]


def registry_fn(case):

    return (
        families.implementation(case.family, case.impl, case.framework)
        .entry(families.get(case.family).entry(case))
        .fn
    )
