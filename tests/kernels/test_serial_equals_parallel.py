"""Property: the parallel-scan simulator equals the serial one (Bullet Trains' claim: exact,
not an approximation) on random small layers -- JAX and PyTorch, float64: identical spike
counts, spike times within TIME_ATOL (1e-9 s)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import LIFParams, run
from tests.tolerances import assert_agree

B, E, N_IN, N_OUT = 2, 16, 3, 4  # fixed shapes: one compile per framework and method
PARAMS = {
    "tm>ts": LIFParams(0.02, 0.005, 1.0),
    "tm==ts": LIFParams(0.01, 0.01, 1.0),
    "refractory": LIFParams(0.02, 0.005, 1.0, t_ref=0.003),
    "v_reset<0": LIFParams(0.005, 0.02, 1.0, v_reset=-0.2),
}


@st.composite
def layers(draw):
    """Sorted times in [0, 0.1) s (with ties), channels, ragged padding, weights."""
    times = np.sort(
        np.array(
            draw(st.lists(st.floats(0.0, 0.1, allow_nan=False), min_size=B * E, max_size=B * E))
        ).reshape(B, E),
        axis=1,
    )
    channels = np.array(
        draw(st.lists(st.integers(0, N_IN - 1), min_size=B * E, max_size=B * E))
    ).reshape(B, E)
    cut = draw(st.integers(0, E))  # the second sample is shorter: padded with channel -1
    channels[1, cut:] = -1
    times[1, cut:] = 0.0
    weights = np.array(
        draw(
            st.lists(
                st.floats(-2.0, 6.0, allow_nan=False), min_size=N_OUT * N_IN, max_size=N_OUT * N_IN
            )
        )
    )
    return times, channels, weights.reshape(N_OUT, N_IN), draw(st.sampled_from(sorted(PARAMS)))


@pytest.mark.parametrize("fw", ["jax", "torch"])
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
# chunk 4 < E splits the queue, 64 > E takes it whole (chunk 1: test_event_lif_parallel);
# every (parameter set, chunk) is a JAX compile
@given(layer=layers(), chunk=st.sampled_from([4, 64]))
def test_parallel_equals_serial(fw, layer, chunk):
    pytest.importorskip(fw)
    times, channels, weights, pname = layer
    p = PARAMS[pname]
    ser_t, ser_c = run(fw, times, channels, weights, p, method="serial", max_spikes=64)
    par_t, par_c = run(
        fw, times, channels, weights, p, method="parallel", chunk=chunk, max_spikes=64
    )
    np.testing.assert_array_equal(par_c, ser_c)
    k = min(ser_t.shape[-1], par_t.shape[-1])
    assert_agree(par_t[..., :k], ser_t[..., :k], "spike_time_abs", "float64")
