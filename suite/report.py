"""Render plots and tables from any set of result CSVs (never from stored ratios: every ratio
is recomputed from the raw medians of `ok` rows).

Writes into `out_dir`: event_lif.png / .svg (time and throughput vs input events, one line per
implementation, framework, dtype and configuration, one column per dataset),
event_lif_parallel.png / .svg (the parallel-scan simulator: speedup over the serial simulator
on the same inputs vs chunk size, one line per batch x width x layers — Bullet Trains'
Figure 1 — and the training step's time and peak memory vs chunk size, with and without the
chunk-recomputing backward), psu.png / .svg (LIF / PSU-family time ratio vs T for inference and
training, and time vs T on log-log axes; see report_psu), queues.png / .svg (us per step per
queue design, vs queues, vs capacity, and drop rate vs load; see report_queues), summary.md
(Markdown tables to paste), and index.html (self-contained: no network assets; every CSV
field is escaped, since submitted results are untrusted input).
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from . import report_psu, report_queues, results

STYLE = {"serial": "-", "bare_scan": ":"}
MARK = {"jax": "o", "torch": "s", "numpy": "^"}


CONFIG = ["param_n_neurons", "param_batch", "param_n_layers"]


def _ok(df):
    ok = df[(df["status"] == "ok")].copy()
    for col in ("time_median_s", "throughput", "param_n_events", "peak_mem_bytes",
                *CONFIG, "param_chunk_size"):
        if col in ok:
            ok[col] = ok[col].astype(float)
    if "param_n_layers" in ok:
        ok["param_n_layers"] = ok["param_n_layers"].fillna(1.0)
    ok["param_chunk_size"] = ok.get("param_chunk_size", np.nan)
    ok["remat"] = ok.get("param_remat", np.nan).astype(str).str.lower().map(
        {"true": "remat", "1.0": "remat", "false": "no remat", "0.0": "no remat"})
    return ok


def _cfg(n, b, layers):
    return f"{int(layers)}x{int(n)} neurons, batch {int(b)}"


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
        part = ok[(ok["dataset"] == ds) & (ok["mode"] == "forward")]
        keys = ["impl", "framework", "dtype", "device_kind", *CONFIG]
        for key, g in part.groupby(keys + ["param_chunk_size"], dropna=False):
            if g["param_n_events"].nunique() < 2:  # a line needs several sizes
                continue
            impl, fw, dt, dev, n, b, layers, chunk = key
            g = g.groupby("param_n_events", as_index=False)[["time_median_s",
                                                              "throughput"]].median()
            k = "" if np.isnan(chunk) else f" K={int(chunk)}"
            label = f"{impl}{k} {fw} {dt} ({dev}) {_cfg(n, b, layers)}"
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


def parallel_speedups(df):
    """Speedup of the parallel simulator over the serial one: serial median / parallel median
    on the same inputs (same framework, dtype, dataset, device, sizes), forward rows."""
    import pandas as pd

    ok = _ok(df[(df["family"] == "event_lif") & (df["mode"] == "forward")])
    keys = ["framework", "dtype", "dataset", "device_kind", "param_n_events", *CONFIG]
    ser = ok[ok["impl"] == "serial"].groupby(keys)["time_median_s"].median().rename("serial_s")
    par = ok[ok["impl"] == "parallel"].groupby(keys + ["param_chunk_size"])[
        "time_median_s"].median().rename("parallel_s").reset_index()
    if par.empty or ser.empty:
        return pd.DataFrame()
    out = par.merge(ser.reset_index(), on=keys, how="inner")
    out["speedup"] = out["serial_s"] / out["parallel_s"]
    return out.sort_values(keys + ["param_chunk_size"]).reset_index(drop=True)


def grad_table(df):
    """Training-step rows (loss + gradients): time and peak memory per chunk size and remat."""
    ok = _ok(df[(df["family"] == "event_lif") & (df["mode"] == "grad")])
    cols = ["framework", "dtype", "device_kind", "param_n_events", *CONFIG, "param_chunk_size",
            "remat", "time_median_s", "peak_mem_bytes", "mem_method", "correct", "max_err"]
    return ok[cols].sort_values(cols[:8]).reset_index(drop=True) if len(ok) else ok


def plot_parallel(df, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sp, gr = parallel_speedups(df), grad_table(df)
    if sp.empty and gr.empty:
        return []
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.5))
    for key, g in sp.groupby(["framework", "dtype", "device_kind", *CONFIG, "param_n_events",
                              "dataset"]):
        fw, dt, dev, n, b, layers, e, ds = key
        axes[0].plot(g["param_chunk_size"], g["speedup"], marker=MARK.get(fw, "x"),
                     label=f"{fw} {dt} ({dev}) {_cfg(n, b, layers)}, {int(e)} events, {ds}")
    axes[0].axhline(1.0, color="k", lw=0.8)
    axes[0].set_title("forward: speedup over the serial simulator")
    axes[0].set_ylabel("serial time / parallel time")
    for key, g in gr.groupby(["framework", "dtype", "device_kind", *CONFIG, "remat"]):
        fw, dt, dev, n, b, layers, remat = key
        kw = dict(marker=MARK.get(fw, "x"), ls="-" if remat == "remat" else "--",
                  label=f"{fw} {dt} ({dev}) {_cfg(n, b, layers)}, {remat}")
        axes[1].plot(g["param_chunk_size"], g["time_median_s"], **kw)
        axes[2].plot(g["param_chunk_size"], g["peak_mem_bytes"] / 2**20, **kw)
    axes[1].set_title("training step (loss + gradients): time")
    axes[1].set_ylabel("median time per step [s]")
    axes[2].set_title("training step: peak memory")
    axes[2].set_ylabel("peak memory [MiB]")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("chunk size K (queue entries per step)")
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    axes[0].set_yscale("log")
    fig.suptitle("Parallel-scan event simulator (Bullet Trains)")
    fig.tight_layout()
    paths = [out_dir / "event_lif_parallel.png", out_dir / "event_lif_parallel.svg"]
    for p in paths:
        fig.savefig(p, dpi=110, bbox_inches="tight")
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
    cols = ["family", "impl", "framework", "dtype", "dataset", "device_kind", "mode",
            "param_n_events", "param_n_neurons", "param_batch", "param_n_layers",
            "param_chunk_size", "param_remat", "param_T", "status", "time_median_s", "time_iqr_s",
            "compile_s", "throughput", "throughput_unit", "correct", "max_err"]
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


def _counts(df) -> dict:
    return {k: int(v) for k, v in df["status"].value_counts().items()} if len(df) else {}


def render(paths, out_dir) -> list[Path]:
    """Render the report for the result files/folders `paths` into `out_dir`."""
    df = results.read(paths)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = plot_event_lif(df, out_dir) + plot_parallel(df, out_dir) + \
        report_psu.plot(df, out_dir) + report_queues.plot(df, out_dir)
    q_steps, q_net = report_queues.us_per_step(df), report_queues.network_table(df)
    q_pub = report_queues.published_table(df)
    psu_ratio, psu_cross, psu_sparse = (report_psu.ratios(df), report_psu.crossover(df),
                                        report_psu.sparsity(df))
    ratio = spike_logic_ratio(df)
    speed = parallel_speedups(df)
    grads = grad_table(df)
    table = summary_table(df)
    md = ["# spikebench report\n",
          f"{len(df)} rows from {df['source_file'].nunique() if len(df) else 0} file(s); "
          f"statuses: {_counts(df)}\n",
          "## Parallel-scan simulator: speedup over serial (same inputs, median times)\n",
          _md(speed),
          "## Training step (loss + gradients): time and peak memory\n", _md(grads),
          "## Cost of the spike logic (serial / bare scan, median times)\n", _md(ratio),
          "## PSU family: LIF time / unit time (same inputs, median times)\n", _md(psu_ratio),
          "## PSU family: where the matrix form stops paying off\n", _md(psu_cross),
          "## PSU family: spike rate and agreement with LIF\n", _md(psu_sparse),
          "## Event queues: 10,000 queues, us/step, next to the published JAX figures\n",
          report_queues.NOTE + "\n", _md(q_pub),
          "## Event queues: microseconds per simulated step\n",
          _md(q_steps), "## Event queues: recurrent network, us/step\n", _md(q_net),
          "## All rows\n", _md(table)]
    (out_dir / "summary.md").write_text("\n".join(md))
    imgs = "".join(f'<img src="{html.escape(p.name)}" alt="{html.escape(p.stem)}">'
                   for p in written if p.suffix == ".svg")
    page = ("<!doctype html><meta charset='utf-8'><title>spikebench report</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
            "font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}img{max-width:100%}"
            "</style><h1>spikebench report</h1>"
            f"<p>{len(df)} rows. Ratios are recomputed from raw medians.</p>{imgs}"
            f"<h2>Parallel-scan simulator: speedup over serial</h2>{_html_table(speed)}"
            f"<h2>Training step: time and peak memory</h2>{_html_table(grads)}"
            f"<h2>Cost of the spike logic (serial / bare scan)</h2>{_html_table(ratio)}"
            f"<h2>PSU family: LIF time / unit time</h2>{_html_table(psu_ratio)}"
            f"<h2>PSU family: where the matrix form stops paying off</h2>"
            f"{_html_table(psu_cross)}"
            f"<h2>PSU family: spike rate and agreement with LIF</h2>{_html_table(psu_sparse)}"
            f"<h2>Event queues: 10,000 queues, us/step, next to the published JAX figures</h2>"
            f"<p>{html.escape(report_queues.NOTE)}</p>{_html_table(q_pub)}"
            f"<h2>Event queues: microseconds per simulated step</h2>{_html_table(q_steps)}"
            f"<h2>Event queues: recurrent network, us/step</h2>{_html_table(q_net)}"
            f"<h2>All rows</h2>{_html_table(table)}")
    (out_dir / "index.html").write_text(page)
    return written + [out_dir / "summary.md", out_dir / "index.html"]
