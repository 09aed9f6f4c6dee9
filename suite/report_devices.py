"""Report table of the ONNX path (spec/devices.md): each exported-graph row next to the JAX and
PyTorch rows of the same case on the same inputs (same family, implementation, dtype, dataset,
mode and sizes; a family's host-loop knobs, ``Family.host_params`` -- e.g. the queues' graph
chunk -- are not matched). Usable rows only (``results.usable``)."""

from __future__ import annotations

import numpy as np


def exported_table(df):
    """One row per ONNX-path case: its median, the JAX and PyTorch medians in the same place
    (machine) on the same inputs, and PyTorch time / ONNX time (> 1: the graph is faster than
    the eager code it was exported from)."""
    import pandas as pd

    from . import families, results

    ok = results.usable(df).rows
    if ok is None or ok.empty:
        return pd.DataFrame()
    onnx = ok[ok["framework"] == "onnx"]
    if onnx.empty:
        return pd.DataFrame()
    params = [c for c in ok.columns if c.startswith("param_")]
    out = []
    for _, r in onnx.iterrows():
        fam = families.FAMILIES.get(r["family"])
        host = fam.host_params if fam is not None else ()
        keys = ["machine_id", "family", "impl", "dtype", "dataset", "mode"] + [
            p for p in params if p not in host]
        same = np.ones(len(ok), bool)
        for k in keys:
            same &= (ok[k] == r[k]).to_numpy() | (ok[k].isna() & pd.isna(r[k])).to_numpy()
        others = ok[same & (ok["framework"] != "onnx").to_numpy()]
        row = {"family": r["family"], "impl": r["impl"], "dataset": r["dataset"],
               "sizes": ", ".join(f"{p[6:]}={r[p]:g}" for p in params
                                  if pd.notna(r[p]) and not isinstance(r[p], str)),
               "device": r["device_kind"], "onnx_s": r["time_median_s"],
               "compile_s": r["compile_s"]}
        for fw in ("jax", "torch"):
            m = others[others["framework"] == fw]["time_median_s"]
            row[f"{fw}_s"] = float(m.median()) if len(m) else None
        row["torch_over_onnx"] = (row["torch_s"] / row["onnx_s"]) if row["torch_s"] else None
        out.append(row)
    return pd.DataFrame(out).sort_values(["family", "impl", "sizes"]).reset_index(drop=True)
