"""Report pieces for the PSU family: LIF / PSU-family time ratios vs T (the analogue of the
PSU paper's Figure 4), absolute time vs T on log-log axes (where the O(T^2 N) matrix form meets
the O(T N) loop), and the T at which the matrix form stops paying off. Every ratio is
recomputed from the raw medians of `ok` and correct rows measured on the same inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ... import results
from ...report import training as rt

KEYS = [
    "level",
    "framework",
    "dtype",
    "device_kind",
    "mode",
    "param_n_neurons",
    "param_batch",
    "param_T",
]


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
    for col in (
        "time_median_s",
        "param_T",
        "param_n_neurons",
        "param_batch",
        "spike_rate",
        "lif_agreement",
    ):
        ok[col] = ok[col].astype(float)
    ok["level"] = np.where(ok["param_n_inputs"].notna(), "network", "neuron")
    return ok


def training(df) -> pd.DataFrame:
    """Time to the target test accuracy per neuron and framework (``report_training``)."""
    from ...report import training as report_training
    from .training import TASK

    return report_training.table(df, "psu", TASK.impl_label)


def ratios(df) -> pd.DataFrame:
    """LIF median / neuron median per (level, framework, dtype, device, mode, N, batch, T) for
    psu, ipsu and rpsu: above 1 the parallel unit is faster than the serial loop."""
    ok = _ok(df)
    if ok.empty:
        return pd.DataFrame()
    lif = ok[ok["impl"] == "lif"].groupby(KEYS)["time_median_s"].median().rename("lif_s")
    units = (
        ok[ok["impl"] != "lif"]
        .groupby(KEYS + ["impl"])["time_median_s"]
        .median()
        .rename("impl_s")
        .reset_index()
    )
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
        out.append(
            dict(
                zip([k for k in KEYS if k != "param_T"] + ["impl"], key, strict=True),
                last_win_T=wins.max() if len(wins) else np.nan,
                loses_from_T=loses_from,
                T_swept=f"{int(g['param_T'].min())}..{int(g['param_T'].max())}",
            )
        )
    return pd.DataFrame(out)


def sparsity(df) -> pd.DataFrame:
    """Spike rate and agreement with LIF on the same input, per level, neuron and T."""
    ok = _ok(df)
    if ok.empty:
        return ok
    return (
        ok[ok["mode"] == "forward"]
        .groupby(["level", "impl", "param_T"])[["spike_rate", "lif_agreement"]]
        .median()
        .reset_index()
    )


MODE_NAME = {"forward": "inference", "grad": "training step"}


def _facets(frame, neurons):
    """Panel and configuration labels: one panel per mode (rows), level and neuron (columns,
    in the order of `neurons`); one line per place and configuration (dtype, width, batch)."""
    f = frame.copy()
    f["mode"] = f["mode"].map(MODE_NAME)
    order = {n: i for i, n in enumerate(neurons)}
    f = f.assign(_o=f["impl"].map(order).fillna(len(order))).sort_values(
        ["mode", "level", "_o"], kind="stable"
    )
    f["panel"] = f["level"] + " level | " + f["impl"].str.upper()
    f["config"] = (
        f["dtype"]
        + " N="
        + f["param_n_neurons"].astype(int).astype(str)
        + " B="
        + f["param_batch"].astype(int).astype(str)
    )
    return f


def _relplot(
    data, y: str, out_dir: Path, stem: str, ylabel: str, ratio: bool, title: str
) -> list[Path]:
    """Small multiples (seaborn): a panel per mode x level x neuron, a colour per place
    (``style.place_color``, the same on every figure), a marker and line style per framework,
    one line per configuration."""
    import matplotlib

    matplotlib.use("Agg")
    import seaborn as sns

    from ...report import style as st

    fws = [f for f in st.MARKER if f in set(data["framework"])]
    data, grid_kw = st.facets(data, "mode", "panel")
    wrapped = "col_wrap" in grid_kw
    g = sns.relplot(
        data=data,
        x="param_T",
        y=y,
        hue="device_kind",
        hue_order=sorted(set(data["device_kind"])),
        palette={p: st.place_color(p) for p in set(data["device_kind"])},
        style="framework",
        style_order=fws,
        markers={f: st.MARKER[f] for f in fws},
        dashes={
            f: st.DASH[f] if isinstance(st.DASH[f], tuple) else "" if st.DASH[f] == "-" else (4, 2)
            for f in fws
        },
        units="config",
        estimator=None,
        kind="line",
        height=3.6,
        aspect=1.35,
        facet_kws={"sharey": False, "sharex": True, "margin_titles": not wrapped},
        legend="brief",
        **grid_kw,
    )
    for ax in g.axes.flat:
        if not (ax.lines or ax.collections):  # this mode was not measured at this level
            st.empty(ax)
            continue
        st.log_axis(ax, "x", base=2)
        if ratio:
            st.ratio_axis(ax, "y")
        else:
            st.time_axis(ax, "y")
        ax.grid(True, which="major", alpha=0.3)
        ax.set_xlabel("time steps T")
    g.set_ylabels(ylabel)
    if wrapped:
        g.set_titles(col_template="{col_name}")
    else:
        g.set_titles(row_template="{row_name}", col_template="{col_name}")
    if g.legend is not None:
        g.legend.set_title("")
        for t in g.legend.texts:
            t.set_text(
                {"device_kind": "place", "framework": "framework"}.get(
                    t.get_text(), st.FRAMEWORK_NAME.get(t.get_text(), t.get_text())
                )
            )
    g.figure.suptitle(title, y=1.02)
    st.move_legend(g)
    return st.save(g.figure, out_dir, stem)


def plot(df, out_dir: Path) -> list[Path]:
    """psu.*: LIF time / unit time against T (> 1: the unit is faster); psu_time.*: the
    neuron level's time against T, the loop's O(T N) against the matrix form's O(T^2 N)."""
    r, ok = ratios(df), _ok(df)
    if ok.empty:
        return []
    out = []
    if not r.empty:
        units = [n for n in ("psu", "ipsu", "rpsu") if n in set(r["impl"])]
        out += _relplot(
            _facets(r, units),
            "lif_over",
            out_dir,
            "psu",
            "LIF time / unit time (x)",
            True,
            "PSU family against discrete LIF on the same inputs (> 1x: the unit "
            "is faster; one line per dtype, width N and batch B)",
        )
    lv = ok[ok["level"] == "neuron"]
    if len(lv):
        t = lv.groupby(
            [
                "level",
                "framework",
                "dtype",
                "device_kind",
                "mode",
                "impl",
                "param_n_neurons",
                "param_batch",
                "param_T",
            ],
            as_index=False,
        )["time_median_s"].median()
        neurons = [n for n in ("lif", "psu", "ipsu", "rpsu") if n in set(t["impl"])]
        out += _relplot(
            _facets(t, neurons),
            "time_median_s",
            out_dir,
            "psu_time",
            "median time per call (s)",
            False,
            "Neuron level: time against T (the LIF loop is O(T N), the matrix form O(T^2 N))",
        )
    return out


def curves(df) -> pd.DataFrame:
    """The learning curves of the digits runs (``report_training.curves``)."""
    from ...report import training as report_training

    return report_training.curves(df, "psu")


def plot_curves(df, out_dir: Path) -> list[Path]:
    """Test accuracy against wall time (``report_training.plot_curves``): psu_training.*."""
    from ...report import training as report_training
    from .training import TASK

    return report_training.plot_curves(df, out_dir, "psu", TASK.title)


def summary(df):
    """The terminal summary: LIF time / unit time of the SHD-shaped network, per T."""
    r = ratios(df)
    if r.empty or not (r["level"] == "network").any():
        return []
    r = r[r["level"] == "network"]
    keys = [
        "framework",
        "dtype",
        "device_kind",
        "mode",
        "param_n_neurons",
        "param_batch",
        "param_T",
    ]
    t = r.pivot_table(index=keys, columns="impl", values="lif_over").reset_index()
    return [("LIF time / unit time, SHD-shaped network (> 1: the unit is faster)", t)]


def _overview(df):
    r = ratios(df)

    def training_ratio(ax):
        from matplotlib.lines import Line2D

        from ...report import style as st

        if not r.empty:
            part = r[(r["mode"] == "grad") & (r["impl"] == "psu")]
            for (fw, dev, lvl), g in part.groupby(["framework", "device_kind", "level"]):
                g = g.groupby("param_T")["lif_over"].median()
                ax.plot(
                    g.index,
                    g.values,
                    marker=st.MARKER.get(fw, "o"),
                    ls=st.DASH.get(fw, "-") if lvl == "network" else ":",
                    color=st.place_color(dev),
                    alpha=1.0 if lvl == "network" else 0.55,
                )
            if len(part):
                st.log_axis(ax, "x", base=2)
                st.ratio_axis(ax, "y")
                neuron = (Line2D([], [], color="#555555", ls=":", alpha=0.55), "neuron level")
                st.legend_below(ax, part["device_kind"], part["framework"], [neuron], ncol=4)
        ax.set_title("PSU training step: LIF time / PSU time (> 1x: PSU faster; network level)")
        ax.set_xlabel("time steps T")
        ax.set_ylabel("LIF time / PSU time (x)")

    return [training_ratio]


def section(df, out_dir: Path):
    """The family's report page (``Family.report``)."""
    from ...report import memory as rm
    from .. import Section

    neuron = df[df["param_n_layers"].fillna(1) == 1] if "param_n_layers" in df else df
    return Section(
        "PSU family",
        plot(df, out_dir)
        + plot_curves(df, out_dir)
        + plot_accuracy_vs_ratio(df, out_dir)
        + rm.figure(
            neuron,
            "param_T",
            "time steps T",
            "psu_memory",
            out_dir,
            "PSU family: memory against T (neuron level)",
            by=("param_n_neurons", "param_batch"),
        ),
        [
            ("PSU family: LIF time / unit time (same inputs, median times)", ratios(df), ""),
            ("PSU family: where the matrix form stops paying off", crossover(df), ""),
            ("PSU family: spike rate and agreement with LIF", sparsity(df), ""),
            ("PSU family: training to a target test accuracy (digits)", training(df), _task_note()),
            (rm.TITLE + ": neuron level, against T", rm.table(neuron, "param_T"), ""),
            (
                "PSU family: accuracy against speed (LIF time / unit time per epoch)",
                accuracy_vs_ratio(df),
                "",
            ),
        ],
        _overview(df),
    )


def _task_note() -> str:
    from .training import TASK

    return TASK.note


def _headline_frame(df):
    """The rows the headline reads: the SHD-shaped network at T = 15, inference and training."""
    from ...report.headline import usable_rows

    ok = usable_rows(df)
    if ok.empty:
        return ok
    return ok[
        (ok["family"] == "psu")
        & (ok["mode"].isin(["forward", "grad"]))
        & ok["param_n_inputs"].notna()
        & (ok["param_T"] == 15)
    ]


HEADLINE_CFG = [
    "dtype",
    "mode",
    "param_n_neurons",
    "param_batch",
    "param_n_layers",
    "param_n_inputs",
    "param_T",
    "dataset",
]  # what a unit's row and LIF's must share to be compared


def headline_rows(df):
    """LIF and each unit on the SHD-shaped network at T = 15 (what ``headline`` compares)."""
    return _headline_frame(df)


def _unit_pairs(g, mode: str):
    """(unit, LIF's rows, the unit's rows) of one framework's headline rows `g` in `mode`,
    for each unit measured on the same configuration as LIF (``HEADLINE_CFG``)."""
    from ...report.headline import same_rows

    lif = g[g["impl"] == "lif"]
    for impl in ("psu", "ipsu", "rpsu"):
        u = g[(g["impl"] == impl) & (g["mode"] == mode)]
        if u.empty:
            continue
        lr = same_rows(lif, u.iloc[0], HEADLINE_CFG)
        if len(lr):
            yield impl, lr, same_rows(u, u.iloc[0], HEADLINE_CFG)


def headline(df) -> list[str]:
    from ...report.headline import fw_name, num_text, ratio_spread, spread_text

    ok = _headline_frame(df)
    if ok.empty:
        return []
    out = []
    for (place, fw), g in ok.groupby(["device_kind", "framework"], sort=True):
        modes = []
        for mode, what in (("forward", "inference"), ("grad", "training step")):
            items = [
                f"{impl.upper()} {spread_text(*ratio_spread(lr, ur))}"
                for impl, lr, ur in _unit_pairs(g, mode)
            ]
            if items:
                modes.append(f"{what} " + ", ".join(items))
        if modes:
            ref = g.iloc[0]
            out.append(
                f"PSU family, {fw_name(fw)} on {place}: LIF time / unit time at T = 15 on "
                f"the SHD-shaped network ({num_text(ref['param_n_inputs'])} inputs, "
                f"{num_text(ref['param_n_layers'])}x{num_text(ref['param_n_neurons'])}, batch "
                f"{num_text(ref['param_batch'])}; > 1: the unit is faster): "
                + "; ".join(modes)
                + "."
            )
    return out


def answers(df):
    """The answer table's rows (``report.answers``) for one place: LIF time / the fastest
    unit's time at T = 15 on the SHD-shaped network, inference and training step, per
    framework (the unit named)."""
    from ...report.answers import ratio_answer
    from ...report.headline import fw_name

    ok = _headline_frame(df)
    out = []
    if ok.empty:
        return out
    for fw, g in ok.groupby("framework", sort=True):
        for mode, what in (("forward", "inference"), ("grad", "training step")):
            found = [
                ratio_answer(
                    f"PSU family: LIF time / fastest unit's, {what}, T = 15, "
                    f"{fw_name(fw)} (> 1: the unit faster)",
                    lr,
                    ur,
                    impl.upper(),
                )
                for impl, lr, ur in _unit_pairs(g, mode)
            ]
            if found:
                out.append(max(found, key=lambda a: a.value))
    return out + _memory_answers(df)


def _memory_medians(df):
    """Per (framework, memory method): the neuron level's median kernel memory a call per
    unit at the longest T, where both LIF and PSU were measured -- what the memory sentence
    and the answer table read."""
    from ...report.headline import memory_rows

    ok = memory_rows(df)
    if ok.empty:
        return
    p = ok[
        (ok["family"] == "psu") & (ok["param_n_layers"].fillna(1) == 1) & (ok["mode"] == "forward")
    ]
    for (fw, method), g in p.groupby(["framework", "mem_method"], sort=True):
        g = g[g["param_T"] == g["param_T"].max()]
        by = g.groupby("impl")["peak_mem_bytes"].median()
        if "lif" in by and "psu" in by:
            yield fw, method, g["param_T"].iloc[0], by


def _memory_answers(df):
    """PSU's kernel memory a call over LIF's at the longest T, per framework (the memory
    method named)."""
    from ...report.answers import Answer
    from ...report.headline import fw_name, num_text

    return [
        Answer(
            f"Kernel memory a call, PSU / LIF at the longest T, {fw_name(fw)}",
            float(by["psu"] / by["lif"]),
            detail=f"T = {num_text(T)}; {method}",
        )
        for fw, method, T, by in _memory_medians(df)
        if by["lif"] > 0
    ]


def memory_headline(df) -> list[str]:
    """The report index's memory sentence for this family, per framework: the kernel's own
    figure of one call and the state it carries (``mem_method`` named)."""
    from ...report.headline import fw_name, mib, num_text, x_text

    return [
        f"Memory, PSU family, {fw_name(fw)}: at T = {num_text(T)} "
        f"PSU needs {mib(by['psu'])} a call against LIF's {mib(by['lif'])} "
        f"({x_text(by['psu'] / by['lif'])}; the T x T matrices; {method})."
        for fw, method, T, by in _memory_medians(df)
    ]


def accuracy_vs_ratio(df) -> pd.DataFrame:
    """The PSU family's train rows: each unit's final test accuracy beside LIF's, and LIF's
    time per epoch over the unit's (> 1: the unit trains faster), per framework and place."""
    rows = rt.train_rows(df, "psu")
    if rows.empty:
        return pd.DataFrame()
    rows = rows.assign(place=rows.apply(rt.place, axis=1))
    keys = ["place", "framework", "param_n_neurons", "param_batch", "param_epochs"]
    out = []
    for k, g in rows.groupby(keys):
        lif = g[g["impl"] == "lif"]
        if lif.empty:
            continue
        lif = lif.iloc[0]
        for _, r in g[g["impl"] != "lif"].iterrows():
            out.append(
                {
                    **dict(zip(keys, k, strict=True)),
                    "impl": r["impl"],
                    "lif_over": lif["time_median_s"] / r["time_median_s"],
                    "accuracy": r["accuracy"],
                    "lif_accuracy": lif["accuracy"],
                }
            )
    return pd.DataFrame(out)


def plot_accuracy_vs_ratio(df, out_dir: Path) -> list[Path]:
    """Final test accuracy against LIF time / unit time per epoch, one panel per place, LIF's
    accuracy as a dashed line per framework."""
    from ...report import style as st

    t = accuracy_vs_ratio(df)
    if t.empty:
        return []

    def draw(ax, part, place):
        for (fw, impl), g in part.groupby(["framework", "impl"]):
            ax.scatter(
                g["lif_over"],
                g["accuracy"],
                marker=st.MARKER.get(fw, "o"),
                color=st.color(impl),
                label=f"{impl} ({st.FRAMEWORK_NAME.get(fw, fw)})",
            )
        for fw, g in part.groupby("framework"):
            ax.axhline(
                g["lif_accuracy"].iloc[0],
                ls=st.DASH.get(fw, ":"),
                color="k",
                lw=0.8,
                label=f"LIF ({fw})",
            )
        ax.axvline(1.0, color="grey", lw=0.8)
        st.ratio_axis(ax, "x", one=False)
        ax.set_xlabel("LIF time / unit time per epoch (x; > 1x: the unit trains faster)")
        ax.set_ylabel("final test accuracy")
        ax.set_title(f"digits: accuracy against speed, {place}")

    return rt.per_place(t, out_dir, "psu_accuracy_vs_ratio", 6.5, draw)
