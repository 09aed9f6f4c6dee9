"""A tiny family that checks the harness itself: one implementation that works, one that
raises and one that never returns. `spikebench run --profile selftest` exercises the failure
paths (failed / timeout rows, the sweep going on) on any machine."""

from __future__ import annotations

import time

import numpy as np

from ..registry import register
from ._base import Family


@register("selftest", "ok", "numpy", devices=("cpu",))
def ok(x):
    return np.cumsum(x)


@register("selftest", "raises", "numpy", devices=("cpu",))
def raises(x):
    raise RuntimeError("selftest: deliberate failure")


@register("selftest", "hangs", "numpy", devices=("cpu",))
def hangs(x):
    time.sleep(3600)
    return x


class SelfTest(Family):
    name = "selftest"
    title = "harness self-test"
    kernel_modules = {"numpy": (__name__,)}
    # `spikebench run --profile selftest`: one implementation that works, one that raises and
    # one that never returns (its worker is killed at the timeout)
    sweeps = {
        "selftest": [
            {
                "impls": ["ok", "raises", "hangs"],
                "frameworks": ["numpy"],
                "dtypes": ["float64"],
                "datasets": ["none"],
                "sizes": {"n": [8]},
                "timeout_s": 5,
            }
        ]
    }
    units = {"elements/s": None}  # its size `n` is not a schema column

    def make_inputs(self, case):
        return {"x": np.arange(case.size["n"], dtype=np.float64)}

    def ref_kind(self, case):
        return "cumsum"

    def reference(self, case, inputs):
        return np.cumsum(inputs["x"]), "numpy.cumsum"

    def prepare(self, case, inputs, fw, device):
        return (fw.put(inputs["x"], device),), {}, {}

    def check(self, case, inputs, out, ref, timed=None):
        err = float(np.max(np.abs(out - ref))) if ref.size else 0.0
        return {
            "correct": err == 0.0,
            "max_err": err,
            "mismatch_frac": 0.0,
            "n_checked": int(ref.size),
        }

    def work(self, case):
        return case.size["n"], "elements/s"


FAMILY = SelfTest()
