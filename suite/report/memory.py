"""Memory against size on a family's page: the kernel's own figure of one call
(`peak_mem_bytes`, one line per implementation, framework and method: figures of different
methods are never drawn as one line) and the state it carries (`state_bytes`), against the size
the family's memory claim is about (queues: their number; event LIF: the chunk size K; the PSU
family: T). The process high-water mark (`rss_delta_bytes`) is not drawn: it measures the
framework, not the algorithm."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

TITLE = "Memory against size (kernel figure of one call and carried state)"


def table(df, x: str, keys=("impl", "framework", "mode")) -> pd.DataFrame:
    """Median kernel figure and state per (keys, method, x), in MiB."""
    if df is None or df.empty or x not in df or "state_bytes" not in df:
        return pd.DataFrame()
    d = df[df["peak_mem_bytes"].notna() | df["state_bytes"].notna()]
    d = d[d[x].notna()]
    if d.empty:
        return pd.DataFrame()
    cols = [k for k in keys if k in d] + ["mem_method", x]
    out = (
        d.assign(mem_method=d["mem_method"].fillna(""))
        .groupby(cols, dropna=False)[["peak_mem_bytes", "state_bytes"]]
        .median()
        / 2**20
    )
    return out.rename(
        columns={"peak_mem_bytes": "kernel MiB", "state_bytes": "state MiB"}
    ).reset_index()


def figure(df, x: str, xlabel: str, stem: str, out_dir: Path, title: str, by=()) -> list[Path]:
    """Two panels, kernel figure and carried state, against `x` (log-log); a line per
    implementation, framework, mode, place, method and the sizes in `by` (e.g. the layer
    width)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import style as st

    by = tuple(b for b in by if df is not None and b in df)
    t = table(df, x, ("impl", "framework", "mode", "device_kind", *by))
    if t.empty or t[x].nunique() < 2:
        return []
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, col, what in (
        (axes[0], "kernel MiB", "kernel memory of one call (MiB)"),
        (axes[1], "state MiB", "carried state (MiB)"),
    ):
        keys = [
            k for k in ("impl", "framework", "mode", "device_kind", "mem_method", *by) if k in t
        ]
        for vals, g in t.groupby(keys, dropna=False):
            g = g.dropna(subset=[col]).sort_values(x)
            if len(g) < 2:
                continue
            r = dict(zip(keys, vals, strict=True))
            label = " ".join(str(r[k]) for k in ("impl", "framework", "mode") if k in r)
            if t["device_kind"].nunique() > 1:  # a line per place: places never pool
                label += f", {r['device_kind']}"
            label += "".join(
                f", {k.removeprefix('param_')}={_v(r[k])}" for k in by if pd.notna(r[k])
            )
            if col == "kernel MiB":
                label += f" ({r.get('mem_method')})"
            ax.plot(
                g[x],
                g[col],
                marker=st.MARKER.get(str(r.get("framework")), "o"),
                ls=st.DASH.get(str(r.get("framework")), "-"),
                color=st.color(str(r.get("impl"))),
                label=label,
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(what)
        if not ax.lines:
            st.empty(ax)
    axes[0].set_title(title, fontsize=10, loc="left")
    hs, labels = axes[0].get_legend_handles_labels()
    if hs:
        fig.legend(
            hs, labels, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 0.95), frameon=False
        )
    fig.tight_layout()
    return st.save(fig, out_dir, stem)


def _v(v) -> str:
    return str(int(v)) if isinstance(v, float) and v == int(v) else str(v)
