"""A tiny family that checks the harness itself: one implementation that works, one that
raises and one that never returns. `spikebench run --profile selftest` exercises the failure
paths (failed / timeout rows, the sweep going on) on any machine."""

from __future__ import annotations

import time

import numpy as np

from ..registry import register


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


def takes_events(case) -> bool:
    return False


def make_inputs(case):
    return {"x": np.arange(case.size["n"], dtype=np.float64)}


def ref_kind(case):
    return "cumsum"


def reference(case, inputs):
    return np.cumsum(inputs["x"]), "numpy.cumsum"


def prepare(impl, case, inputs, fw, device):
    return impl.fn, (fw.put(inputs["x"], device),), {}, {}


def resize(case, out, static):
    return None


def to_numpy(out, fw):
    return fw.to_numpy(out)


def check(case, inputs, out, ref):
    err = float(np.max(np.abs(out - ref))) if ref.size else 0.0
    return {"correct": err == 0.0, "max_err": err, "mismatch_frac": 0.0,
            "n_checked": int(ref.size)}


def throughput(case, seconds):
    return case.size["n"] / seconds, "elements/s"


def params(case):
    return {}


def context(case, inputs):
    return {}
