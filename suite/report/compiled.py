"""Report table: compiled PyTorch (framework ``torch-compile``) against JAX on the same cases.

Every usable compiled-PyTorch row beside the JAX row of the same case (same inputs, run and
thread count; the family's host-loop knobs, e.g. a chunk size each framework picks for
itself, not matched), as torch-compile time / JAX time (> 1: JAX is faster). A row whose
kernel states a structural limit of its compiled form (``speed_note`` on the kernel, written
into the row's note) shows it, so a ratio the compiler cannot close says why.
"""

from __future__ import annotations

import pandas as pd

TITLE = "Compiled PyTorch against JAX on the same cases"
NOTE = (
    "Median seconds per call in one run; compiled_over_jax = torch-compile time / JAX time "
    "(> 1: JAX is faster). note: the compiled kernel's own remark on its speed, where it "
    "has one (e.g. a loop compiled a step at a time)."
)


def compiled_table(df, host_params=None) -> pd.DataFrame:
    from .. import results
    from .devices import same_case, sizes_text

    ok = results.usable(df).rows if df is not None and len(df) else None
    if ok is None or ok.empty or not (ok["framework"] == "torch-compile").any():
        return pd.DataFrame()
    jax_rows = ok[ok["framework"] == "jax"]
    out = []
    for _, r in ok[ok["framework"] == "torch-compile"].iterrows():
        host = (host_params or {}).get(r["family"], ())
        j = jax_rows[same_case(jax_rows, r, extra=("run_id", "threads"), host=host)]
        jax_s = float(j["time_median_s"].median()) if len(j) else None
        out.append(
            {
                "family": r["family"],
                "impl": r["impl"],
                "mode": r["mode"],
                "dtype": r["dtype"],
                "sizes": sizes_text(r, df),
                "tally": r.get("param_tally"),
                "threads": r["threads"],
                "compiled_s": r["time_median_s"],
                "compile_s": r["compile_s"],
                "jax_s": jax_s,
                "compiled_over_jax": r["time_median_s"] / jax_s if jax_s else None,
                "note": _speed_note(r.get("error")),
            }
        )
    return pd.DataFrame(out).sort_values(["family", "impl", "mode", "sizes"]).reset_index(drop=True)


def _speed_note(error) -> str | None:
    """The kernel's speed remark among the row's notes (``; ``-joined), else None."""
    if not isinstance(error, str):
        return None
    parts = [p for p in error.split("; ") if p.startswith("compiled ")]
    return "; ".join(parts) or None
