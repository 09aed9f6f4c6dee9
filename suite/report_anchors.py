"""Report table of the anchors (README "Anchors"): every anchor row -- the EventQueues authors'
queues (framework ``adseq``) and NEST (``nest``) -- next to spikebench's JAX and PyTorch (eager
and compiled) rows of the same case on the same inputs, in the same run and with the same
thread count, as ours / anchor time (< 1: spikebench is faster). Our rows must be usable (ok
and correct); an anchor row that ran but disagrees with the reference is listed with its
reason (e.g. adseq's heap) and no ratio, so a known difference is shown, never hidden."""

from __future__ import annotations

ANCHORS = ("adseq", "nest")
OURS = ("jax", "torch", "torch-compile")
TITLE = "Anchors: spikebench's kernels against the field's own code on the same cases"
NOTE = ("Median seconds per call in one run; jax_over_anchor = JAX time / anchor time (< 1: "
        "ours is faster), likewise torch and torch-compile (PyTorch eager and compiled); "
        "anchors: adseq (the EventQueues authors' queues), NEST (iaf_psc_exp_ps, its rows with "
        "t_ref = 0.1 ms). anchor_correct False: the anchor disagrees with the reference (the "
        "reason is given) and gets no ratio.")

# where an anchor's documented difference lives (framework -> module with KNOWN_DIFFERENCES,
# keyed by implementation)
KNOWN = {"adseq": "spikebench.kernels.queues._adseq"}


def known_difference(row) -> str | None:
    """The documented reason an anchor row disagrees with the reference (README "Anchors"), or
    None: then a wrong anchor row is as wrong as any other."""
    import importlib

    mod = KNOWN.get(row.get("framework"))
    if mod is None:
        return None
    return importlib.import_module(mod).KNOWN_DIFFERENCES.get(row.get("impl"))


def anchor_table(df):
    import pandas as pd

    from . import results
    from .report_devices import same_case, sizes_text

    if df is None or df.empty or not df["framework"].isin(ANCHORS).any():
        return pd.DataFrame()
    ours = results.usable(df[df["framework"].isin(OURS)]).rows
    anchors = df[df["framework"].isin(ANCHORS) & (df["status"] == "ok")]
    out = []
    for _, r in anchors.iterrows():
        correct = bool(r["correct"]) if pd.notna(r["correct"]) else False
        row = {"family": r["family"], "impl": r["impl"], "dtype": r["dtype"],
               "dataset": r["dataset"], "sizes": sizes_text(r, df), "threads": r["threads"],
               "anchor": r["framework"], "anchor_s": r["time_median_s"],
               "anchor_correct": correct, "reason": None if correct else r.get("error")}
        mine = ours[same_case(ours, r, extra=("run_id", "threads"))] if ours is not None \
            else None
        for fw in OURS:
            m = None if mine is None else mine[mine["framework"] == fw]["time_median_s"]
            row[f"{fw}_s"] = float(m.median()) if m is not None and len(m) else None
            row[f"{fw}_over_anchor"] = (row[f"{fw}_s"] / row["anchor_s"]
                                        if correct and row[f"{fw}_s"] else None)
        out.append(row)
    if not out:
        return pd.DataFrame()
    return (pd.DataFrame(out).sort_values(["family", "impl", "anchor", "sizes", "threads"])
            .reset_index(drop=True))
