"""The event-LIF rows' spike-time check (families.event_lif._match): one missing or extra
spike is always caught, at any t; ill-conditioned (grazing) crossings are held to the bound
their conditioning gives, not to a tolerance they cannot meet."""

from __future__ import annotations

import numpy as np
import pytest
from spikebench.families import event_lif as F
from spikebench.kernels.event_lif import _reference as R
from spikebench.kernels.event_lif import simulate

RATE = 700 * 20.0


def _lane(offset=0.0, seed=0, n_events=400, gain=24.0):
    """One lane's sorted arrivals, weights and reference spikes (LAYER parameters)."""
    rng = np.random.default_rng(seed)
    arr = np.sort(rng.uniform(0, 0.4, n_events)) + offset
    w = rng.normal(1.0, 2.0, n_events) * gain * F.LAYER.theta / (RATE * F.LAYER.tau_syn)
    ref = R.lane(R.derive(F.LAYER), arr.tolist(), w.tolist(), np.inf)
    return arr, w, np.asarray(ref)


@pytest.mark.parametrize("offset", [0.0, 8e4])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_one_missing_or_extra_spike_is_always_caught(offset, dtype):
    arr, w, ref = _lane(offset)
    assert len(ref) >= 10
    assert F._match(ref, ref, dtype, arr, w) == (0, 0, 0.0)
    # an extra spike halfway between two reference spikes, where nothing crosses
    gaps = np.diff(ref)
    k = int(np.argmax(gaps))
    extra = np.sort(np.r_[ref, ref[k] + 0.3 * gaps[k]])
    miss = np.delete(ref, len(ref) // 2)
    assert F._match(ref, extra, dtype, arr, w)[1] == 1
    assert F._match(ref, miss, dtype, arr, w)[1] == 1
    # where the current is below theta V cannot cross at all: never a grazing excuse
    quiet = np.linspace(ref[-1] + 0.05, ref[-1] + 0.5, 50)
    low = quiet[F._current_at(arr, w, quiet) < 0.5 * F.LAYER.theta][0]
    assert F._match(ref, np.r_[ref, low], dtype, arr, w)[1] == 1
    # an extra spike right after a real one (I well above theta there) is not grazing
    j = int(np.argmax(F._current_at(arr, w, ref)))
    close = np.sort(np.r_[ref, ref[j] + min(gaps[j - 1 : j + 1].min() / 3, 1e-3)])
    assert F._match(ref, close, dtype, arr, w)[1] == 1


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_well_conditioned_spike_off_by_more_than_the_tolerance_is_caught(dtype):
    arr, w, ref = _lane()
    cur = F._current_at(arr, w, ref)
    i = int(np.argmax(cur))  # the steepest crossing: its bound is the plain tolerance
    assert cur[i] - F.LAYER.theta > 0.5 * F.LAYER.theta
    scale = max(ref[i], F.LAYER.tau_mem)
    off = ref.copy()
    off[i] += 20 * F.TOL[dtype] * scale
    assert F._match(ref, off, dtype, arr, w)[1] == 1
    ok = ref.copy()
    ok[i] += 0.5 * F.TOL[dtype] * scale
    assert F._match(ref, ok, dtype, arr, w)[1] == 0


def test_200_simultaneous_events_at_zero_pass_the_stated_float32_bound():
    """200 events at t = 0 whose weights sum, per neuron, to just above the current that
    makes V's peak touch theta: the float32 kernels' spike times there are ill-conditioned
    (the float32 sum of 200 weights is off by ~1e-7, and V crosses theta with slope ~0), up
    to ~2e-4 relative was seen. The bound with the conditioning term holds every kernel; the
    plain 1e-4 alone does not."""
    k = R.derive(F.LAYER)
    d_peak = k.tau_mem * k.tau_syn / (k.tau_mem - k.tau_syn) * np.log(k.tau_mem / k.tau_syn)
    i_crit = F.LAYER.theta / R._v(k, 0.0, 1.0, d_peak)  # I0 whose V peak is exactly theta
    rng = np.random.default_rng(0)
    n_in, n_out = 700, 48
    c = np.sort(rng.integers(0, n_in, 200))
    margins = np.geomspace(1e-7, 1e-2, n_out)  # how far each neuron's peak rises past theta
    raw = rng.normal(1.0, 2.0, (n_out, n_in))
    w = raw / raw[:, c].sum(axis=1, keepdims=True) * (i_crit * (1 + margins))[:, None]
    w = w.astype(np.float32).astype(np.float64)
    t = np.zeros(200)
    ref = R.serial_lanes(t[None], c[None], w, F.LAYER)
    worst, n_spikes = 0.0, 0
    for fw, m in [
        ("jax", "serial"),
        ("jax", "parallel"),
        ("torch", "serial"),
        ("torch", "parallel"),
    ]:
        st, cnt = simulate(t, c, w, F.LAYER, framework=fw, method=m, dtype="float32")
        st, cnt = np.asarray(st, np.float64), np.asarray(cnt)
        for n in range(n_out):
            r = np.asarray(ref[(0, n)])
            e, u, wst = F._match(r, st[n, : cnt[n]], "float32", t, w[n, c])
            assert u == 0, (fw, m, n, margins[n], r, st[n, : cnt[n]])
            worst, n_spikes = max(worst, wst), n_spikes + len(r)
    assert n_spikes > 100
    print(f"worst relative spike-time error {worst:.3g} over {n_spikes} spikes")
    assert F.TOL["float32"] < worst < 1e-2, worst


def test_a_grazing_flip_and_its_consequence_are_explained_in_float32_only():
    """Seen on SHD-like input in float32: a grazing near-miss of the reference becomes a
    spike (I - theta = 0.004 there), and its reset delays the lane's next spike by 17 ms.
    Both are the flip; anything else on the lane is still held to the bound."""
    arr, w, ref = _lane(seed=2, gain=12.0)  # I wanders around theta between spikes
    grid = np.linspace(ref[0], ref[-1], 20_000)
    near = np.abs(F._current_at(arr, w, grid) - F.LAYER.theta) <= 0.5 * F.GRAZE["float32"]
    tm = F.LAYER.tau_mem
    nxt_of = np.searchsorted(ref, grid)
    far = [
        k
        for k in np.nonzero(near)[0]
        if np.min(np.abs(ref - grid[k])) > tm
        and nxt_of[k] < len(ref)
        and ref[nxt_of[k]] - grid[k] < 4 * tm
    ]
    assert far, "the lane should hold a time where I is at theta away from any spike"
    t_g = grid[far[0]]
    nxt = int(np.searchsorted(ref, t_g))
    flipped = ref.copy()
    flipped[nxt] += 0.5 * tm  # the flip's reset delays the next spike
    flipped = np.sort(np.r_[flipped, t_g])
    e, u, _ = F._match(ref, flipped, "float32", arr, w)
    assert u == 0 and e >= 1, (e, u)
    assert F._match(ref, flipped, "float64", arr, w)[1] >= 1
