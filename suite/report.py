"""Render plots and tables from any set of result CSVs (never from stored ratios: every ratio
is recomputed from the raw medians of `ok` rows).

Writes into `out_dir`: event_lif.png / .svg (time and throughput vs input events, one line per
implementation, framework and dtype, one column per dataset), summary.md (Markdown tables to
paste), and index.html (self-contained: no network assets; every CSV field is escaped, since
submitted results are untrusted input).
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from . import results

STYLE = {"serial": "-", "bare_scan": ":"}
MARK = {"jax": "o", "torch": "s", "numpy": "^"}


def _ok(df):
    ok = df[(df["status"] == "ok")].copy()
    for col in ("time_median_s", "throughput", "param_n_events"):
        ok[col] = ok[col].astype(float)
    return ok


def plot_event_lif(df, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = _ok(df[df["family"] == "event_lif"])
    if ok.empty:
        return []
    sets = sorted(ok["dataset"].unique())
    fig, axes = plt.subplots(2, len(sets), figsize=(5.5 * len(sets), 8), squeeze=False)
    for j, ds in enumerate(sets):
        part = ok[ok["dataset"] == ds]
        for (impl, fw, dt, dev), g in part.groupby(["impl", "framework", "dtype",
                                                     "device_kind"]):
            g = g.groupby("param_n_events", as_index=False)[["time_median_s",
                                                              "throughput"]].median()
            label = f"{impl} {fw} {dt} ({dev})"
            kw = dict(ls=STYLE.get(impl, "--"), marker=MARK.get(fw, "x"),
                      alpha=1.0 if dt == "float32" else 0.6, label=label)
            axes[0, j].plot(g["param_n_events"], g["time_median_s"], **kw)
            axes[1, j].plot(g["param_n_events"], g["throughput"], **kw)
        axes[0, j].set_title(f"event_lif on {ds}")
        axes[0, j].set_ylabel("median time per call [s]")
        axes[1, j].set_ylabel("throughput [neuron-events/s]")
        for ax in axes[:, j]:
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("input events per sample")
            ax.grid(True, which="both", alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    seen = dict(zip(labels, handles, strict=True))
    for ax in axes.ravel()[1:]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(lab, h)
    fig.legend(seen.values(), seen.keys(), loc="lower center", ncol=4, fontsize=8)
    fig.suptitle("Exact event-driven LIF: serial simulator vs the bare linear scan (ceiling)")
    fig.tight_layout(rect=(0, 0.03 + 0.025 * ((len(seen) + 3) // 4), 1, 1))
    paths = [out_dir / "event_lif.png", out_dir / "event_lif.svg"]
    for p in paths:
        fig.savefig(p, dpi=110)
    plt.close(fig)
    return paths


def spike_logic_ratio(df):
    """serial / bare_scan median-time ratio per (framework, dtype, dataset, device, n_events):
    the cost of the spike logic over the bare state update."""
    import pandas as pd

    ok = _ok(df[df["family"] == "event_lif"])
    keys = ["framework", "dtype", "dataset", "device_kind", "param_n_events"]
    med = ok.groupby(keys + ["impl"])["time_median_s"].median().unstack("impl")
    if not {"serial", "bare_scan"} <= set(med.columns):
        return pd.DataFrame()
    out = (med["serial"] / med["bare_scan"]).rename("serial_over_bare").dropna()
    return out.reset_index()


def summary_table(df):
    cols = ["family", "impl", "framework", "dtype", "dataset", "device_kind", "param_n_events",
            "status", "time_median_s", "time_iqr_s", "compile_s", "throughput",
            "throughput_unit", "correct", "max_err"]
    return df[[c for c in cols if c in df.columns]]


def _md(df) -> str:
    if df.empty:
        return "(no rows)\n"
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "---|" * len(df.columns)
    lines = [head, sep]
    for row in df.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, float):
                cells.append("" if np.isnan(v) else f"{v:.4g}")
            else:
                cells.append(str(v).replace("|", "\\|"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _html_table(df) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for v in row:
            text = ("" if isinstance(v, float) and np.isnan(v) else
                    f"{v:.4g}" if isinstance(v, float) else str(v))
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render(paths, out_dir) -> list[Path]:
    """Render the report for the result files/folders `paths` into `out_dir`."""
    df = results.read(paths)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = plot_event_lif(df, out_dir)
    ratio = spike_logic_ratio(df)
    table = summary_table(df)
    md = ["# spikebench report\n",
          f"{len(df)} rows from {df['source_file'].nunique() if len(df) else 0} file(s); "
          f"statuses: {dict(df['status'].value_counts()) if len(df) else {}}\n",
          "## Cost of the spike logic (serial / bare scan, median times)\n", _md(ratio),
          "## All rows\n", _md(table)]
    (out_dir / "summary.md").write_text("\n".join(md))
    imgs = "".join(f'<img src="{html.escape(p.name)}" alt="{html.escape(p.stem)}">'
                   for p in written if p.suffix == ".svg")
    page = ("<!doctype html><meta charset='utf-8'><title>spikebench report</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
            "font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}img{max-width:100%}"
            "</style><h1>spikebench report</h1>"
            f"<p>{len(df)} rows. Ratios are recomputed from raw medians.</p>{imgs}"
            f"<h2>Cost of the spike logic (serial / bare scan)</h2>{_html_table(ratio)}"
            f"<h2>All rows</h2>{_html_table(table)}")
    (out_dir / "index.html").write_text(page)
    return written + [out_dir / "summary.md", out_dir / "index.html"]
