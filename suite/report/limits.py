"""Report table: how far each family's headline rows are from what the machine can do.

For every row a family's headline reads (``Family.headline_rows``) whose compiled cost is
known (``cost_flops``, ``cost_bytes``: XLA's count of the executable; JAX and the libraries
run through XLA), the achieved flop rate and bandwidth -- cost / median time -- as fractions
of the peaks its run measured on that device kind (the JSON's ``peaks``: a streaming copy's
bandwidth, a dense matmul's rate in the row's dtype; ``hardware/peaks.py``), and the bound
that applies (``peaks.roofline``): ``compute`` or ``memory`` when that resource runs within
4x of its peak even by the lowest count, ``latency`` (sequential depth, dispatch,
synchronisation) when neither can by the highest, else ``undetermined``.

XLA counts a while loop's body once, whatever its trip count, so a row with loops
(``cost_loops`` > 0) gets a range: from that count (a serial simulator's loop over events or a
queue's loop over steps does far more work than one pass) to it times the product of the
loops' trip counts (``cost_trips``; open, ">=", where a count depends on the data). Rows
without a count (PyTorch, NumPy, NEST) are listed with empty fractions, so the table says
what it could not measure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import rows, untrusted
from ..hardware import peaks as hw_peaks

TITLE = "Distance from the limit: each family's headline rows against the machine's peaks"
NOTE = (
    "cost: the compiled executable's flops and bytes accessed by XLA's own count "
    "(Compiled.cost_analysis()); peaks: the run's measured streaming-copy bandwidth and "
    "dense matmul rate in the row's dtype on that device (run JSON 'peaks'). flop_frac = "
    "flops / time / peak rate, bw_frac = bytes / time / peak bandwidth. bound: compute or "
    "memory where that fraction is at least 0.25, else latency (sequential depth, dispatch, "
    "synchronisation); undetermined where loops leave it open. loops > 0: XLA counts each "
    "loop body once, so a fraction is a range from that count to it times the loops' trip "
    "counts (>= where a trip count depends on the data). A bw_frac above 1: the working set "
    "is served from cache, faster than the streaming (DRAM) peak. Empty: no honest count "
    "(PyTorch's counter sees matmuls only, NEST and NumPy none)."
)


def run_peaks(source_files) -> dict:
    """{source CSV: {device kind: peaks}} from each run's JSON (empty where it has none: runs
    before schema v10, or a JSON that cannot be read)."""
    out = {}
    for f in dict.fromkeys(source_files):
        ctx_path = Path(str(f)).with_suffix(".json")
        try:
            ctx = untrusted.load_json(ctx_path) if ctx_path.is_file() else {}
        except (ValueError, OSError):
            ctx = {}
        got = ctx.get("peaks") if isinstance(ctx, dict) else None
        out[f] = got if isinstance(got, dict) else {}
    return out


def _number(d, *keys):
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    try:
        v = float(d)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) and v > 0 else None


def row_limits(r, peak: dict) -> dict:
    """One row's achieved rates and fractions of `peak` (one device kind's peaks)."""
    t = r.get("time_median_s")
    flops, nbytes = r.get("cost_flops"), r.get("cost_bytes")
    flops = None if pd.isna(flops) else float(flops)
    nbytes = None if pd.isna(nbytes) else float(nbytes)
    loops = r.get("cost_loops")
    loops = 0 if loops is None or pd.isna(loops) else int(loops)
    trips = r.get("cost_trips")
    trips = (1.0 if not loops else None) if trips is None or pd.isna(trips) else float(trips)
    pf = _number(peak, "matmul", str(r.get("dtype")), "flops_per_s")
    pb = _number(peak, "copy", "bytes_per_s")
    fit = hw_peaks.roofline(flops, nbytes, t, pf, pb, trips)

    def frac(span):
        if span is None:
            return None
        lo, hi = span
        if hi is None:
            return f">= {lo:.3g}"
        return f"{lo:.3g}" if hi == lo else f"{lo:.3g} - {hi:.3g}"

    return {
        "gflop_s": None if flops is None or not t else flops / t / 1e9,
        "gb_s": None if nbytes is None or not t else nbytes / t / 1e9,
        "peak_gflop_s": None if pf is None else pf / 1e9,
        "peak_gb_s": None if pb is None else pb / 1e9,
        "flop_frac": frac(fit["flop_frac"]),
        "bw_frac": frac(fit["bw_frac"]),
        "loops": loops if flops is not None or nbytes is not None else None,
        "bound": fit["bound"],
    }


def limits_table(df, fams) -> pd.DataFrame:
    """One line per headline row of each family in `fams` (family adapters)."""
    if df is None or df.empty or "cost_flops" not in df:
        return pd.DataFrame()
    by_run = run_peaks(df["source_file"]) if "source_file" in df else {}
    out = []
    for fam in fams:
        picked = fam.headline_rows(df[df["family"] == fam.name])
        if picked is None or picked.empty:
            continue
        for _, r in picked.iterrows():
            peak = by_run.get(r.get("source_file"), {}).get(r["device_kind"], {})
            out.append(
                {
                    "family": fam.name,
                    "impl": r["impl"],
                    "framework": r["framework"],
                    "mode": r["mode"],
                    "dtype": r["dtype"],
                    "place": rows.place_of(r),
                    "case": r["case_id"],
                    "time_s": r["time_median_s"],
                    "flops": r["cost_flops"],
                    "bytes": r["cost_bytes"],
                    **row_limits(r, peak),
                }
            )
    return pd.DataFrame(out)
