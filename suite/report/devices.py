"""Report table of the ONNX path (docs/guide/devices.md): each exported-graph row next to the JAX
and PyTorch rows of the same case on the same inputs (same family, implementation, dtype, dataset,
mode and sizes; a family's host-loop knobs, ``Family.host_params`` -- e.g. the queues' graph
chunk -- are not matched). Usable rows only (``results.usable``)."""

from __future__ import annotations


def same_case(df, r, extra=(), host=()):
    """Mask of the rows of `df` that ran row `r`'s case on the same inputs in the same place
    (machine_id, family, impl, dtype, dataset, mode, every size parameter but the family's
    host-loop knobs `host` -- ``Family.host_params`` --, and the `extra` columns), whatever
    their framework."""
    from .. import rows

    return rows.same_case(df, r, ignore=("framework", *host), extra=("machine_id", *extra))


def sizes_text(r, df) -> str:
    """The row's numeric size parameters as 'n_events=1000, ...'."""
    import pandas as pd

    return ", ".join(
        f"{p[6:]}={r[p]:g}"
        for p in df.columns
        if p.startswith("param_") and pd.notna(r[p]) and not isinstance(r[p], str)
    )


def exported_table(df, host_params=None):
    """One row per ONNX-path case: its median, the JAX and PyTorch medians in the same place
    (machine) on the same inputs, and PyTorch time / ONNX time (> 1: the graph is faster than
    the eager code it was exported from). `host_params`: family -> its host-loop knobs, not
    matched (``Family.host_params``)."""
    host_params = host_params or {}
    import pandas as pd

    from .. import results

    ok = results.usable(df).rows
    if ok is None or ok.empty:
        return pd.DataFrame()
    onnx = ok[ok["framework"] == "onnx"]
    if onnx.empty:
        return pd.DataFrame()
    out = []
    for _, r in onnx.iterrows():
        host = host_params.get(r["family"], ())
        others = ok[same_case(ok, r, host=host) & (ok["framework"] != "onnx").to_numpy()]
        row = {
            "family": r["family"],
            "impl": r["impl"],
            "dataset": r["dataset"],
            "sizes": sizes_text(r, ok),
            "device": r["device_kind"],
            "onnx_s": r["time_median_s"],
            "compile_s": r["compile_s"],
        }
        for fw in ("jax", "torch"):
            m = others[others["framework"] == fw]["time_median_s"]
            row[f"{fw}_s"] = float(m.median()) if len(m) else None
        row["torch_over_onnx"] = (row["torch_s"] / row["onnx_s"]) if row["torch_s"] else None
        out.append(row)
    return pd.DataFrame(out).sort_values(["family", "impl", "sizes"]).reset_index(drop=True)
