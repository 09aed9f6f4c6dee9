"""Report table of the ONNX path (spec/devices.md): each exported-graph row next to the JAX and
PyTorch rows of the same case on the same inputs (same family, implementation, dtype, dataset,
mode and sizes; the queues' graph chunk is the host loop's own knob and is not matched)."""

from __future__ import annotations

import numpy as np


def exported_table(df):
    """One row per ONNX-path case: its median, the JAX and PyTorch medians in the same place
    (machine) on the same inputs, and PyTorch time / ONNX time (> 1: the graph is faster than
    the eager code it was exported from)."""
    import pandas as pd

    ok = df[df["status"] == "ok"]
    onnx = ok[ok["framework"] == "onnx"]
    if onnx.empty:
        return pd.DataFrame()
    params = [c for c in ok.columns if c.startswith("param_")]
    out = []
    for _, r in onnx.iterrows():
        keys = ["machine_id", "family", "impl", "dtype", "dataset", "mode"] + [
            p for p in params if not (p == "param_chunk_size" and r["family"] == "queues")]
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
