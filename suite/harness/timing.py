"""The timer: the harness owns timing, kernels never time themselves (docs/guide/devices.md).

Every timed call ends in the framework's device sync. Compile/trace time is measured apart
from steady state, samples are kept raw, and the summary is median and IQR.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Measurement:
    samples: list[float] = field(default_factory=list)
    compile_s: float | None = None

    @property
    def rounds(self) -> int:
        return len(self.samples)

    @property
    def median(self) -> float:
        return float(np.median(self.samples))

    @property
    def iqr(self) -> float:
        q1, q3 = np.percentile(self.samples, [25, 75])
        return float(q3 - q1)

    @property
    def min(self) -> float:
        return float(np.min(self.samples))


# A measurement is flagged noisy when its IQR exceeds this fraction of its median (the
# terminal summary and the report say so; on a busy machine most rows are).
NOISY = 0.1


def noisy(median, iqr) -> bool:
    """IQR / median > NOISY (False where either is missing)."""
    try:
        median, iqr = float(median), float(iqr)
    except (TypeError, ValueError):
        return False
    return bool(median > 0 and np.isfinite(iqr) and iqr / median > NOISY)


# The one set of timing defaults (the sweep's, the JSON context's and ``time_calls``'s own).
DEFAULTS: dict[str, int | float] = {
    "min_rounds": 3,
    "max_rounds": 50,
    "min_time": 0.2,
    "max_time": 20.0,
    "warmup": 1,
}


def time_calls(
    call,
    sync,
    *,
    min_rounds: int = 3,
    max_rounds: int = 50,
    min_time: float = 0.2,
    max_time: float = 20.0,
    warmup: int = 1,
) -> Measurement:
    """Time `sync(call())` repeatedly after `warmup` untimed calls.

    Runs at least `min_rounds`; then keeps going until the samples add up to `min_time`
    seconds, stopping at `max_rounds` or once they pass `max_time`.
    """
    if min_rounds < 1:
        raise ValueError(f"min_rounds must be >= 1, got {min_rounds}")
    for _ in range(warmup):
        sync(call())
    m = Measurement()
    total = 0.0
    while True:
        t0 = time.perf_counter()
        sync(call())
        dt = time.perf_counter() - t0
        m.samples.append(dt)
        total += dt
        n = len(m.samples)
        if n >= max_rounds or (n >= min_rounds and (total >= min_time or total >= max_time)):
            break
    if m.rounds >= 3 and noisy(m.median, m.iqr):
        warnings.warn(f"noisy measurement: IQR/median = {m.iqr / m.median:.2f}", stacklevel=2)
    return m
