"""Report pieces for the PSU family: LIF / PSU-family time ratios vs T (the analogue of the
PSU paper's Figure 4), absolute time vs T on log-log axes (where the O(T^2 N) matrix form meets
the O(T N) loop), and the T at which the matrix form stops paying off. Every ratio is
recomputed from the raw medians of `ok` and correct rows measured on the same inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import results

KEYS = ["level", "framework", "dtype", "device_kind", "mode", "param_n_neurons", "param_batch",
        "param_T"]
MARK = {"psu": "o", "ipsu": "s", "rpsu": "^", "lif": "x"}
COLOR = {"jax": "tab:blue", "torch": "tab:red"}


def _ok(df):
    if df.empty or "family" not in df:
        return pd.DataFrame()
    # a fast wrong row must not enter a speed ratio: usable rows only (ok and correct)
    ok = results.usable(df[df["family"] == "psu"]).rows.copy()
    if not ok.empty and "mode" in ok:  # training runs have their own table (``training``)
        ok = ok[ok["mode"] != "train"]
    if ok.empty:
        return ok
    for col in ("param_n_inputs", "spike_rate", "lif_agreement"):
        if col not in ok:
            ok[col] = np.nan
    for col in ("time_median_s", "param_T", "param_n_neurons", "param_batch",
                "spike_rate", "lif_agreement"):
        ok[col] = ok[col].astype(float)
    ok["level"] = np.where(ok["param_n_inputs"].notna(), "network", "neuron")
    return ok


def training(df) -> pd.DataFrame:
    """Time to the target test accuracy per neuron and framework (``report_training``)."""
    from . import report_training

    return report_training.table(df, "psu")


def ratios(df) -> pd.DataFrame:
    """LIF median / neuron median per (level, framework, dtype, device, mode, N, batch, T) for
    psu, ipsu and rpsu: above 1 the parallel unit is faster than the serial loop."""
    ok = _ok(df)
    if ok.empty:
        return pd.DataFrame()
    lif = ok[ok["impl"] == "lif"].groupby(KEYS)["time_median_s"].median().rename("lif_s")
    units = ok[ok["impl"] != "lif"].groupby(KEYS + ["impl"])["time_median_s"].median() \
        .rename("impl_s").reset_index()
    out = units.merge(lif.reset_index(), on=KEYS, how="inner")
    out["lif_over"] = out["lif_s"] / out["impl_s"]
    return out.sort_values(KEYS + ["impl"]).reset_index(drop=True)


def crossover(df) -> pd.DataFrame:
    """Per configuration and neuron: the largest T swept where the unit still beats the loop
    and the smallest T from which on it never does (NaN when it wins / loses everywhere)."""
    r = ratios(df)
    if r.empty:
        return r
    out = []
    for key, g in r.groupby([k for k in KEYS if k != "param_T"] + ["impl"]):
        g = g.sort_values("param_T")
        wins = g[g["lif_over"] > 1.0]["param_T"]
        loses_from = np.nan
        for t in g["param_T"]:
            if (g[g["param_T"] >= t]["lif_over"] <= 1.0).all():
                loses_from = t
                break
        out.append(dict(zip([k for k in KEYS if k != "param_T"] + ["impl"], key, strict=True),
                        last_win_T=wins.max() if len(wins) else np.nan,
                        loses_from_T=loses_from, T_swept=f"{int(g['param_T'].min())}.."
                                                         f"{int(g['param_T'].max())}"))
    return pd.DataFrame(out)


def sparsity(df) -> pd.DataFrame:
    """Spike rate and agreement with LIF on the same input, per level, neuron and T."""
    ok = _ok(df)
    if ok.empty:
        return ok
    return ok[ok["mode"] == "forward"].groupby(["level", "impl", "param_T"])[
        ["spike_rate", "lif_agreement"]].median().reset_index()


def plot(df, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r, ok = ratios(df), _ok(df)
    if ok.empty:
        return []
    # one panel per row, legends to the right: with several places the legends grow long and
    # must never cover the data or the axis labels
    fig, axes = plt.subplots(4, 1, figsize=(15, 28))
    axes = axes.reshape(2, 2, order="F")
    for j, mode in enumerate(("forward", "grad")):
        ax = axes[0, j]
        part = r[r["mode"] == mode] if not r.empty else r
        for key, g in (part.groupby(["level", "framework", "dtype", "device_kind", "impl",
                                     "param_n_neurons", "param_batch"]) if len(part) else []):
            lvl, fw, dt, dev, impl, n, b = key
            ax.plot(g["param_T"], g["lif_over"], marker=MARK.get(impl, "."),
                    color=COLOR.get(fw), ls="-" if lvl == "network" else ":",
                    alpha=1.0 if dt == "float32" else 0.5,
                    label=f"{impl} {lvl} {fw} {dt} ({dev}) N={int(n)} B={int(b)}")
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_title(("inference" if mode == "forward" else "training (forward + backward)")
                     + ": LIF time / PSU-family time")
        ax.set_ylabel("LIF median / unit median (>1: unit faster)")
        ax.set_yscale("log")
        ax = axes[1, j]
        lv = ok[(ok["mode"] == mode) & (ok["level"] == "neuron")]
        for key, g in lv.groupby(["framework", "dtype", "device_kind", "impl",
                                  "param_n_neurons", "param_batch"]):
            fw, dt, dev, impl, n, b = key
            g = g.groupby("param_T", as_index=False)["time_median_s"].median()
            ax.plot(g["param_T"], g["time_median_s"], marker=MARK.get(impl, "."),
                    color=COLOR.get(fw), ls="--" if impl == "lif" else "-",
                    alpha=1.0 if dt == "float32" else 0.5,
                    label=f"{impl} {fw} {dt} ({dev}) N={int(n)} B={int(b)}")
        ax.set_title(f"neuron level, {'forward' if mode == 'forward' else 'forward + backward'}"
                     ": time vs T (loop O(T N), matrix form O(T^2 N))")
        ax.set_ylabel("median time per call [s]")
        ax.set_yscale("log")
    for ax in axes.ravel():
        ax.set_xscale("log", base=2)
        ax.set_xlabel("time steps T")
        ax.grid(True, which="both", alpha=0.3)
        n = len(ax.get_legend_handles_labels()[0])
        if n:
            ax.legend(fontsize=7, ncol=1 if n <= 30 else 2, loc="upper left",
                      bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.suptitle("Parallel Spiking Units vs discrete LIF (solid: network level, dotted: neuron "
                 "level)")
    fig.tight_layout(rect=(0, 0, 1, 0.985))
    from .report_training import save

    paths = save(fig, out_dir, "psu")
    plt.close(fig)
    return paths


def curves(df) -> pd.DataFrame:
    """The learning curves of the digits runs (``report_training.curves``)."""
    from . import report_training

    return report_training.curves(df, "psu")


def plot_curves(df, out_dir: Path) -> list[Path]:
    """Test accuracy against wall time (``report_training.plot_curves``): psu_training.*."""
    from . import report_training

    return report_training.plot_curves(df, out_dir, "psu")


def summary(df):
    """The terminal summary: LIF time / unit time of the SHD-shaped network, per T."""
    r = ratios(df)
    if r.empty or not (r["level"] == "network").any():
        return []
    r = r[r["level"] == "network"]
    keys = ["framework", "dtype", "device_kind", "mode", "param_n_neurons", "param_batch",
            "param_T"]
    t = r.pivot_table(index=keys, columns="impl", values="lif_over").reset_index()
    return [("LIF time / unit time, SHD-shaped network (> 1: the unit is faster)", t)]


def _overview(df):
    r = ratios(df)

    def training_ratio(ax):
        if not r.empty:
            part = r[(r["mode"] == "grad") & (r["impl"] == "psu")]
            for (fw, dev, lvl), g in part.groupby(["framework", "device_kind", "level"]):
                g = g.groupby("param_T")["lif_over"].median()
                ax.plot(g.index, g.values, marker="o" if fw == "jax" else "s",
                        label=f"{fw} {dev} ({lvl})")
            ax.axhline(1.0, color="k", lw=0.8)
            ax.set_xscale("log", base=2)
        ax.set_title("PSU training step: LIF time / PSU time")
        ax.set_xlabel("time steps T")
        ax.set_ylabel("LIF / PSU median time")

    return [training_ratio]


def section(df, out_dir: Path):
    """The family's report page (``Family.report``)."""
    from . import report_training as rt
    from .families import Section

    return Section("PSU family", plot(df, out_dir) + plot_curves(df, out_dir)
                   + rt.plot_accuracy_vs_ratio(df, out_dir),
                   [("PSU family: LIF time / unit time (same inputs, median times)", ratios(df),
                     ""),
                    ("PSU family: where the matrix form stops paying off", crossover(df), ""),
                    ("PSU family: spike rate and agreement with LIF", sparsity(df), ""),
                    ("PSU family: training to a target test accuracy (digits)", training(df),
                     rt.NOTE["psu"]),
                    ("PSU family: accuracy against speed (LIF time / unit time per epoch)",
                     rt.accuracy_vs_ratio(df), "")],
                   _overview(df))
