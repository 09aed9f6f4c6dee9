"""Family adapters: how the harness builds inputs, the reference, the call and the correctness
check for each kernel family. Kernels stay pure; everything benchmark-specific lives here.

Interface of a family module (explicit, no base class needed):
    takes_events(case) -> bool                     runs on event samples (``--dataset`` moves it)
    make_inputs(case) -> dict                      same inputs for every implementation
    ref_kind(case) -> str                          cases sharing (ref_kind, input_key) share a ref
    reference(case, inputs) -> (ref, ref_impl)     computed once, in the parent process
    prepare(impl, case, inputs, fw, device) -> (fn, args, kwargs, static)
    resize(case, out, static) -> static | None     grow static buffers after a first call
    check(case, inputs, out_numpy, ref) -> dict    correct, max_err, mismatch_frac, n_checked
                                                   (+ spike_rate, lif_agreement where known)
    to_numpy(out, fw) -> object
    throughput(case, seconds) -> (value, unit)
    params(case) -> dict                           param_* columns
    context(case, inputs) -> dict                  what goes into the JSON (dataset stats...)
"""

from __future__ import annotations

from . import event_lif, psu, queues, selftest

FAMILIES = {"event_lif": event_lif, "psu": psu, "queues": queues, "selftest": selftest}


def get(name: str):
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown family {name!r}; known: {sorted(FAMILIES)}") from None
