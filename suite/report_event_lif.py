"""Report pieces for the exact event-driven LIF family (Bullet Trains): time and throughput vs
input events (one line per implementation, framework, dtype and configuration, one column per
dataset), the parallel-scan simulator's speedup over the serial one on the same inputs vs chunk
size (Figure 1), the training step's time and peak memory vs chunk size (with and without the
chunk-recomputing backward), and the cost of the spike logic over the bare linear scan. Every
ratio is recomputed from the raw medians of usable rows (``results.usable``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

STYLE = {"serial": "-", "bare_scan": ":"}
MARK = {"jax": "o", "torch": "s", "numpy": "^"}


CONFIG = ["param_n_neurons", "param_batch", "param_n_layers"]


def _ok(df):
    """This family's usable rows with numeric sizes (the caller passes usable rows; the
    filter is applied again so that every function here is safe on any frame)."""
    from . import results

    ok = results.usable(df).rows
    if ok is None or ok.empty or "family" not in ok:
        return df.iloc[:0].copy() if df is not None else df
    ok = ok.copy()
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
    fig.suptitle("Exact event-driven LIF: serial simulator vs the bare linear scan (ceiling)")
    fig.tight_layout()
    # below the panels, inside the saved area (bbox_inches="tight" grows the canvas for it)
    fig.legend(seen.values(), seen.keys(), loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncol=2, fontsize=8)
    paths = [out_dir / "event_lif.png", out_dir / "event_lif.svg"]
    for p in paths:
        fig.savefig(p, dpi=110, bbox_inches="tight")
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
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.24))
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




def summary(df):
    """The terminal summary: the parallel simulator's best speedup over serial per
    configuration (same inputs)."""
    sp = parallel_speedups(df)
    if sp.empty:
        return []
    keys = ["framework", "dtype", "dataset", "device_kind", "param_n_events", *CONFIG]
    best = sp.loc[sp.groupby(keys)["speedup"].idxmax()]
    cols = keys + ["param_chunk_size", "speedup"]
    return [("parallel vs serial: best speedup (serial median / parallel median, same inputs)",
             best[cols].reset_index(drop=True))]


def _overview(df):
    """Panels of the headline figure: best parallel speedup vs K, serial time vs events, and
    the serial simulator's peak memory vs events."""
    sp = parallel_speedups(df)
    ok = _ok(df[df["mode"] == "forward"]) if len(df) else df
    ser = ok[(ok["impl"] == "serial") & (ok["param_n_layers"] == 1)] if len(ok) else ok

    def speedup(ax):
        if not sp.empty:
            best = sp.groupby(["framework", "device_kind", "param_chunk_size"])["speedup"].max()
            for (fw, dev), g in best.reset_index().groupby(["framework", "device_kind"]):
                ax.plot(g["param_chunk_size"], g["speedup"], marker=MARK.get(fw, "x"),
                        label=f"{fw} {dev}")
            ax.axhline(1.0, color="k", lw=0.8)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
        ax.set_title("event LIF: best parallel speedup over serial")
        ax.set_xlabel("chunk size K [events per scan]")
        ax.set_ylabel("serial time / parallel time")

    def serial_time(ax):
        for (fw, dev), g in (ser.groupby(["framework", "device_kind"]) if len(ser) else []):
            g = g.groupby("param_n_events")["time_median_s"].min()
            ax.plot(g.index, g.values, marker=MARK.get(fw, "x"), label=f"serial {fw} {dev}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title("event LIF: serial simulator, fastest configuration")
        ax.set_xlabel("input events per sample")
        ax.set_ylabel("median time per call [s]")

    def memory(ax):
        mem = ser[ser["peak_mem_bytes"].notna()] if len(ser) else ser
        for (fw, dev, method), g in (mem.groupby(["framework", "device_kind", "mem_method"])
                                     if len(mem) else []):
            g = g.groupby("param_n_events")["peak_mem_bytes"].max() / 2**20
            ax.plot(g.index, g.values, marker=MARK.get(fw, "x"),
                    label=f"serial {fw} {dev} ({method})")
        ax.set_xscale("log")
        ax.set_title("event LIF: peak memory of a case")
        ax.set_xlabel("input events per sample")
        ax.set_ylabel("peak memory above the worker's start [MiB]")

    return [speedup, serial_time, memory]


def section(df, out_dir: Path):
    """The family's report page (``Family.report``)."""
    from . import report_training as rt
    from .families import Section

    return Section(
        "event LIF (Bullet Trains)", plot_event_lif(df, out_dir) + plot_parallel(df, out_dir)
        + rt.plot_curves(df, out_dir, "event_lif"),
        [("Parallel-scan simulator: speedup over serial (same inputs, median times)",
          parallel_speedups(df), ""),
         ("Training step (loss + gradients): time and peak memory", grad_table(df), ""),
         ("Cost of the spike logic (serial / bare scan, median times)", spike_logic_ratio(df),
          ""),
         ("Training to a target test accuracy (Yin-Yang)", rt.table(df, "event_lif"),
          rt.NOTE["event_lif"])],
        _overview(df))
