"""An independent oracle for the event-LIF layer: scipy's ODE solver with event detection.

It integrates tau_mem dV/dt = -V + I, tau_syn dI/dt = -I numerically (DOP853, rtol 1e-12),
restarting at every input (I += w) and at every spike (V = v_reset, then V held for t_ref), and
locates V = theta crossings with the solver's event finder. The step is capped at a twentieth of
the shorter time constant: event detection only sees sign changes between steps, so a longer
step could jump over a bump of V that rises above theta and falls back inside one step. None
of the kernels' closed forms are used. A crossing is 'grazing' when the peak of V in its
interval is within GRAZE of theta; those are reported, not counted as failures.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

GRAZE = 1e-6


def oracle_lane(arrivals, weights, p, t_end):
    """(spike times, grazing?) of one neuron from (arrival, weight) pairs sorted by time."""
    tm, ts, th = p.tau_mem, p.tau_syn, p.theta
    max_step = min(tm, ts) / 20
    v, i, t = p.v_reset, 0.0, 0.0
    spikes, grazing = [], False

    def rhs(_, y):
        return [(-y[0] + y[1]) / tm, -y[1] / ts]

    def hold(_, y):  # refractory: V clamped, I decays
        return [0.0, -y[1] / ts]

    def crossing(_, y):
        return y[0] - th

    crossing.terminal = True
    crossing.direction = 1

    def run_to(t1):
        nonlocal v, i, t, grazing
        while t < t1:
            rend = spikes[-1] + p.t_ref if spikes and p.t_ref > 0 else -np.inf
            if rend > t:  # inside the refractory period
                seg_end = min(rend, t1)
                sol = solve_ivp(
                    hold,
                    (t, seg_end),
                    [p.v_reset, i],
                    rtol=1e-12,
                    atol=1e-14,
                    method="DOP853",
                    max_step=max_step,
                )
                v, i, t = p.v_reset, sol.y[1, -1], seg_end
                continue
            sol = solve_ivp(
                rhs,
                (t, t1),
                [v, i],
                rtol=1e-12,
                atol=1e-14,
                method="DOP853",
                events=crossing,
                dense_output=True,
                max_step=max_step,
            )
            peak = np.max(sol.sol(np.linspace(t, t1, 64))[0]) if t1 > t else v
            if abs(peak - th) < GRAZE * th:
                grazing = True
            if sol.t_events[0].size:
                ts_ = float(sol.t_events[0][0])
                spikes.append(ts_)
                v, i, t = p.v_reset, float(sol.y_events[0][0][1]), ts_
            else:
                v, i, t = float(sol.y[0, -1]), float(sol.y[1, -1]), t1

    for ta, w in zip(arrivals, weights, strict=True):
        run_to(ta)
        i += w
    run_to(t_end)
    return spikes, grazing
