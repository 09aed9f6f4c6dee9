"""Report pieces for the spike event queues (docs/families/queues.md): microseconds per
simulated step per design (bars, one group per device and framework), vs the number of queues,
vs capacity, the recurrent network's three modes, and drop rate vs delay / interval. Times
come from the raw medians of `ok` and correct rows: us/step = 1e6 * median / T.

Our batched loop carries the popped state from step to step; the published batched script
enqueued onto the pre-pop queues (its queues only filled up), so its figures are not the same
measurement."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from ...report import training as rt

NOTE = (
    "Our batched benchmark carries the popped state; the published batched script "
    "discarded it (its queues only filled up), so compare rankings and orders of "
    "magnitude, not values."
)
DESIGN_ORDER = ["lossy", "heap", "fifo", "ring", "sorted"]
# docs/families/queues.md: us/step at 10,000 queues (JAX, the published capacities)
PUBLISHED = pd.DataFrame(
    {
        "impl": DESIGN_ORDER,
        "published capacity": [4, 7, 4, None, 4],
        "published i7-1195G7 CPU": [246, 254, 261, 823, 1538],
        "published H100": [13.6, 32.8, 14.8, 25.4, 24.4],
        "published TPU v4": [106, 1034, 193, 99, 19.8],
    }
)


def _ok(df):
    if df.empty or "family" not in df:
        return pd.DataFrame()
    from ... import results

    # a fast wrong row must not enter a speed ratio: usable rows only (ok and correct)
    ok = results.usable(df[df["family"] == "queues"]).rows.copy()
    if not ok.empty and "mode" in ok:  # training runs have their own table (report_training)
        ok = ok[ok["mode"] != "train"]
    if ok.empty:
        return ok
    for col in (
        "param_n_queues",
        "param_capacity",
        "param_delay",
        "param_interval",
        "param_T",
        "param_n_neurons",
        "time_median_s",
        "drop_rate",
    ):
        if col not in ok:
            ok[col] = np.nan
        ok[col] = ok[col].astype(float)
    ok["us_per_step"] = 1e6 * ok["time_median_s"] / ok["param_T"]
    ok["kind"] = np.where(ok["param_n_neurons"].notna(), "network", "traffic")
    ok["where"] = ok["framework"] + " " + ok["device_kind"]
    if "param_ad" not in ok:
        ok["param_ad"] = np.nan
    return ok


def us_per_step(df) -> pd.DataFrame:
    ok = _ok(df)
    if ok.empty:
        return ok
    cols = [
        "kind",
        "impl",
        "framework",
        "dtype",
        "device_kind",
        "mode",
        "param_ad",
        "param_n_queues",
        "param_capacity",
        "param_delay",
        "param_interval",
        "param_T",
    ]
    return ok.groupby(cols, dropna=False)[["us_per_step", "drop_rate"]].median().reset_index()


def benchmark_b(df) -> pd.DataFrame:
    """``us_per_step`` rows of benchmark (b): 10,000 queues, interval 400, delay 80, each
    design at its published capacity."""
    t = us_per_step(df)
    if t.empty:
        return t
    cap = t["impl"].map(PUBLISHED.set_index("impl")["published capacity"])
    same_cap = (t["param_capacity"] == cap) | (cap.isna() & t["param_capacity"].isna())
    return t[
        same_cap
        & (t["kind"] == "traffic")
        & (t["param_n_queues"] == 10_000)
        & (t["param_interval"] == 400)
        & (t["param_delay"] == 80)
    ]


def published_table(df) -> pd.DataFrame:
    """Benchmark (b) — 10,000 queues, interval 400, delay 80, the published capacities — one
    column per framework and device of these results, next to the published JAX figures
    (different machines and a loop that carries the popped state: compare rankings and
    orders of magnitude)."""
    t = benchmark_b(df)
    if t.empty:
        return t
    t = t.assign(where=t["framework"] + " " + t["device_kind"] + " " + t["dtype"])
    ours = t.pivot_table(index="impl", columns="where", values="us_per_step").reset_index()
    return PUBLISHED.merge(ours, on="impl", how="left")


def network_table(df) -> pd.DataFrame:
    t = us_per_step(df)
    if t.empty:
        return t
    t = t[t["kind"] == "network"].copy()
    t["mode"] = np.where(
        t["mode"] == "forward",
        "simulate",
        t["param_ad"].astype(str).str.replace("nan", "") + "-mode gradient",
    )
    return t.pivot_table(
        index=["framework", "dtype", "device_kind", "mode"], columns="impl", values="us_per_step"
    ).reset_index()


def design_dots(ax, t, designs) -> None:
    """Microseconds a step (`t`: ``us_per_step`` rows) on a log x axis, a row per design of
    `designs`: a dot per framework and place, colour the place, marker the framework, each
    framework at its own offset within the row (no hatching to decode)."""
    from ...report import style as st

    fws = sorted(set(t["framework"]))
    step = 0.7 / max(1, len(fws))
    for (design, fw, dev), g in t.groupby(["impl", "framework", "device_kind"]):
        y = designs.index(design) - 0.35 + step * (fws.index(fw) + 0.5)
        ax.plot(
            g["us_per_step"].astype(float),
            np.full(len(g), y),
            ls="none",
            marker=st.MARKER.get(fw, "o"),
            markersize=7,
            color=st.place_color(dev),
            markeredgecolor="black",
            markeredgewidth=0.4,
        )
    ax.set_yticks(range(len(designs)), designs)
    ax.set_ylim(len(designs) - 0.5, -0.5)
    st.log_axis(ax, "x")


def plot(df, out_dir: Path) -> list[Path]:
    """queues.*: one encoding for every panel (``report_style``): the colour is the place
    (machine, device, threads), the marker and line style the framework; the design is a row
    of (b) and a panel of (c) and (d), so no line or bar mixes places or designs. (b) 10,000
    queues as dots, (c) time against the number of queues and (d) against the capacity as
    small multiples per design, (f) the drop rate against load (framework-independent); one
    legend below everything."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ...report import style as st

    ok = _ok(df)
    if ok.empty:
        return []
    tr = ok[ok["kind"] == "traffic"]
    designs = [d for d in DESIGN_ORDER if d in set(tr["impl"])] or DESIGN_ORDER
    n = len(designs)
    fig = plt.figure(figsize=(15, 15), layout="constrained")
    grid = fig.add_gridspec(4, n, height_ratios=[1.3, 1, 1, 1.1])
    ax = fig.add_subplot(grid[0, :])  # (b) 10,000 queues, interval 400, delay 80
    bars = tr[(tr["param_n_queues"] == 10_000) & (tr["param_interval"] == 400)]
    if len(bars):
        design_dots(ax, bars, designs)
        ax.set_xlabel("time per simulated step (us)")
        ax.set_ylabel("queue design")
    else:
        st.empty(ax)
    ax.set_title("(b) 10,000 queues, Poisson interval 400, delay 80")

    def small_multiples(row, frame, x, title, xlabel, log_x=True):
        first = None
        for k, design in enumerate(designs):
            a = fig.add_subplot(grid[row, k], sharey=first)
            first = first or a
            drawn = False
            part = frame[frame["impl"] == design]
            for (fw, dev, dt), g in part.groupby(["framework", "device_kind", "dtype"]):
                g = g.groupby(x)["us_per_step"].median()
                if len(g) > 1:
                    a.plot(
                        g.index,
                        g.values,
                        color=st.place_color(dev),
                        marker=st.MARKER.get(fw, "o"),
                        ls=st.DASH.get(fw, "-"),
                        alpha=1.0 if dt == "float32" else 0.5,
                    )
                    drawn = True
            if drawn:
                if log_x:
                    st.log_axis(a, "x")
                st.log_axis(a, "y")
                a.set_xlabel(xlabel)
                a.set_ylabel("time per step (us)" if k == 0 else "")
                a.grid(True, which="major", alpha=0.3)
            else:
                st.empty(a, "not swept")
            a.set_title(f"{title}: {design}", fontsize=10)

    small_multiples(
        1,
        tr[(tr["param_interval"] == 400) & (tr["param_delay"] == 80)],
        "param_n_queues",
        "(c)",
        "number of queues (count)",
    )
    small_multiples(
        2,
        tr[
            (tr["param_interval"] == 10)
            & (tr["param_delay"] == 5)
            & (tr["param_n_queues"] == 10_000)
        ],
        "param_capacity",
        "(d) 10,000 queues",
        "capacity (slots a queue)",
        log_x=False,
    )
    ax = fig.add_subplot(grid[3, :])  # (f) drop rate vs load
    drop = tr.copy()
    drop["load"] = drop["param_delay"] / drop["param_interval"]
    drawn = False
    for (design, c, lam), g in drop.groupby(["impl", "param_capacity", "param_interval"]):
        g = g.groupby("load")["drop_rate"].median()
        if len(g) > 2:
            (line,) = ax.plot(g.index, g.values, marker="o", color="#555555")
            ax.annotate(
                f"{design}, capacity {int(c) if c == c else '-'}, interval {int(lam)}",
                (g.index[-1], g.values[-1]),
                textcoords="offset points",
                xytext=(-4, 6),
                ha="right",
                fontsize=8,
            )
            drawn = True
    if drawn:
        ax.set_xlabel("delay / interval (ratio)")
        ax.set_ylabel("drop rate (dropped / offered)")
        ax.grid(True, which="major", alpha=0.3)
    else:
        st.empty(ax)
    ax.set_title("(f) drop rate against load (the same on every place and framework)")
    places = sorted(set(tr["device_kind"]))
    fig.suptitle("Spike event queues. " + textwrap.fill(NOTE, 150), fontsize=9)
    st.figure_legend_below(fig, places, sorted(set(tr["framework"])))
    return st.save(fig, out_dir, "queues")


def summary(df):
    """The terminal summary: benchmark (b), 10,000 queues, us/step per design next to the
    published JAX figures."""
    t = published_table(df)
    if t.empty:
        return []
    return [
        (
            "10,000 queues, us/step (ours; published capacities)",
            t.drop(columns=["published TPU v4"], errors="ignore"),
        )
    ]


def _overview(df):
    t = benchmark_b(df)

    def dots(ax):
        """Benchmark (b) at the published capacities (``design_dots``)."""
        from ...report import style as st

        if not t.empty:
            design_dots(ax, t, [d for d in PUBLISHED["impl"] if d in set(t["impl"])])
            ax.grid(True, axis="x", which="major", alpha=0.3)
            st.legend_below(ax, t["device_kind"], t["framework"], ncol=4)
        ax.set_title("event queues: 10,000 queues, benchmark (b) (published capacities)")
        ax.set_xlabel("microseconds per step (us)")
        ax.set_ylabel("queue design")

    return [dots]


def section(df, out_dir: Path):
    """The family's report page (``Family.report``)."""
    from ...report import memory as rm
    from .. import Section
    from .training import TASK

    traffic = df[df["param_delay"].notna()] if "param_delay" in df else df
    return Section(
        "event queues",
        plot(df, out_dir)
        + rt.plot_curves(df, out_dir, "queues", TASK.title)
        + plot_accuracy_vs_drop(df, out_dir)
        + rm.figure(
            traffic,
            "param_n_queues",
            "number of queues (count)",
            "queues_memory",
            out_dir,
            "Event queues: memory against the number of queues",
            by=("param_capacity", "param_tally"),
        ),
        [
            (
                "Event queues: 10,000 queues, us/step, next to the published JAX figures",
                published_table(df),
                NOTE,
            ),
            ("Event queues: microseconds per simulated step", us_per_step(df), ""),
            ("Event queues: recurrent network, us/step", network_table(df), ""),
            (
                rm.TITLE + ": per design, number of queues and capacity",
                rm.table(
                    traffic,
                    "param_n_queues",
                    ("impl", "framework", "param_capacity", "param_tally"),
                ),
                "",
            ),
            (
                "Event queues: training with learned delays, accuracy against queue "
                "capacity and drop rate",
                rt.table(df, "queues", TASK.impl_label),
                TASK.note,
            ),
        ],
        _overview(df),
    )


def _headline_cases(df):
    """Per device kind: (the configuration at 10,000 queues with the most designs and
    frameworks measured, its rows)."""
    from ...report.headline import usable_rows

    ok = usable_rows(df)
    if ok.empty:
        return
    ok = ok[
        (ok["family"] == "queues") & (ok["mode"] == "forward") & (ok["param_n_queues"] == 10_000)
    ]
    for place, g in ok.groupby("device_kind", sort=True):
        best_cfg = g.groupby(HEADLINE_CFG, dropna=False).size().idxmax()
        sel = g
        for c, v in zip(HEADLINE_CFG, best_cfg, strict=True):
            sel = sel[(sel[c] == v) | (sel[c].isna() & pd.isna(v))]
        yield place, best_cfg, sel


HEADLINE_CFG = ["param_capacity", "param_delay", "param_interval", "param_T", "dtype"]


def headline_rows(df):
    """Each design's and framework's rows at the headline's configuration (10,000 queues)."""
    picked = [sel for _, _, sel in _headline_cases(df)]
    return pd.concat(picked) if picked else pd.DataFrame()


def headline(df) -> list[str]:
    from ...report.headline import fw_name, num_text, ratio_spread, spread_text

    out = []
    for place, best_cfg, sel in _headline_cases(df):
        med = sel.groupby(["impl", "framework"])["time_median_s"].median().sort_values()
        if med.empty:
            continue
        (impl, fw), t = med.index[0], float(med.iloc[0])
        us = 1e6 * t / float(best_cfg[3])
        who = f"{impl} in {fw_name(fw)}"
        tail = ""
        if len(med) > 1:
            (i2, f2) = med.index[1]
            r, lo, hi = ratio_spread(
                sel[(sel["impl"] == i2) & (sel["framework"] == f2)],
                sel[(sel["impl"] == impl) & (sel["framework"] == fw)],
            )
            tail = (
                f"; the runner-up, {i2} in {fw_name(f2)}, takes {spread_text(r, lo, hi)} "
                f"its time, over {len(med)} design/framework pairs"
            )
        out.append(
            f"Queues on {place}: at 10,000 queues (capacity {num_text(best_cfg[0])}, delay "
            f"{num_text(best_cfg[1])}, interval {num_text(best_cfg[2])} steps) the fastest "
            f"design is {who}, {us:.3g} us a step{tail}."
        )
    return out


def answers(df):
    """The answer table's rows (``report.answers``) for one place: the fastest design at
    10,000 queues in microseconds a step (spread: its samples' IQR), and the runner-up's time
    over it."""
    from ...compare import samples
    from ...report.answers import Answer, ratio_answer
    from ...report.headline import fw_name

    out = []
    for _, cfg, sel in _headline_cases(df):
        med = sel.groupby(["impl", "framework"])["time_median_s"].median().sort_values()
        if med.empty:
            continue
        (impl, fw), steps = med.index[0], float(cfg[3])
        first = sel[(sel["impl"] == impl) & (sel["framework"] == fw)]
        s = samples(first) * 1e6 / steps
        q1, q2, q3 = np.percentile(s, [25, 50, 75]) if len(s) else (np.nan,) * 3
        out.append(
            Answer(
                "Queues: fastest design at 10,000 queues, microseconds a step",
                float(q2),
                float(q1),
                float(q3),
                "us",
                f"{impl} in {fw_name(fw)}",
                (first,),
            )
        )
        if len(med) > 1:
            (i2, f2) = med.index[1]
            out.append(
                ratio_answer(
                    "Queues: the runner-up's time / the fastest's at 10,000 queues",
                    sel[(sel["impl"] == i2) & (sel["framework"] == f2)],
                    first,
                    f"{i2} in {fw_name(f2)}",
                )
            )
    return out + _memory_answers(df)


def _memory_medians(df):
    """Per (framework, memory method): the median kernel memory and state per design at
    10,000 queues, where both the dense ring and the FIFO were measured -- what the memory
    sentence and the answer table read."""
    from ...report.headline import memory_rows

    ok = memory_rows(df)
    if ok.empty:
        return
    q = ok[
        (ok["family"] == "queues") & (ok["param_n_queues"] == 10_000) & ok["param_delay"].notna()
    ]
    for (fw, method), g in q.groupby(["framework", "mem_method"], sort=True):
        by = g.groupby("impl")[["peak_mem_bytes", "state_bytes"]].median()
        if {"ring", "fifo"} <= set(by.index):
            yield fw, method, by.loc["ring"], by.loc["fifo"]


def _memory_answers(df):
    """The dense ring's kernel memory a call over the FIFO's at 10,000 queues, per framework
    (the memory method named)."""
    from ...report.answers import Answer
    from ...report.headline import fw_name

    return [
        Answer(
            f"Kernel memory a call, dense ring / FIFO at 10,000 queues, {fw_name(fw)}",
            float(r["peak_mem_bytes"] / f["peak_mem_bytes"]),
            detail=str(method),
        )
        for fw, method, r, f in _memory_medians(df)
        if f["peak_mem_bytes"] > 0
    ]


def memory_headline(df) -> list[str]:
    """The report index's memory sentence for this family, per framework: the kernel's own
    figure of one call and the state it carries (``mem_method`` named)."""
    from ...report.headline import fw_name, mib, x_text

    return [
        f"Memory, queues, {fw_name(fw)}: at 10,000 queues the dense ring needs "
        f"{mib(r['peak_mem_bytes'])} a call ({mib(r['state_bytes'])} of "
        f"state), the FIFO {mib(f['peak_mem_bytes'])} "
        f"({mib(f['state_bytes'])}): "
        f"{x_text(r['peak_mem_bytes'] / f['peak_mem_bytes'])} ({method})."
        for fw, method, r, f in _memory_medians(df)
    ]


def accuracy_vs_drop(df) -> pd.DataFrame:
    """The queues' train rows: final test accuracy, drop rate, time per epoch and time to the
    target per capacity, framework and place."""
    rows = rt.train_rows(df, "queues")
    if rows.empty:
        return pd.DataFrame()
    rows = rows.assign(place=rows.apply(rt.place, axis=1))
    cols = [
        "place",
        "framework",
        "impl",
        "param_capacity",
        "drop_rate",
        "accuracy",
        "time_median_s",
        "time_to_target_s",
    ]
    return rows[cols].sort_values(cols[:4]).reset_index(drop=True)


def plot_accuracy_vs_drop(df, out_dir: Path) -> list[Path]:
    """Final test accuracy against the drop rate (each point a capacity, labelled), one panel
    per place, a line per framework."""
    from ...report import style as st

    t = accuracy_vs_drop(df)
    if t.empty:
        return []

    def draw(ax, part, place):
        for (fw, impl), g in part.groupby(["framework", "impl"]):
            g = g.sort_values("drop_rate")
            ax.plot(
                g["drop_rate"],
                g["accuracy"],
                ls=st.DASH.get(fw, ":"),
                marker="o",
                label=f"{impl} ({fw})",
            )
            for _, r in g.iterrows():
                ax.annotate(
                    f"cap {int(r['param_capacity'])}",
                    (r["drop_rate"], r["accuracy"]),
                    textcoords="offset points",
                    xytext=(4, 4),
                    fontsize=8,
                )
        ax.set_xlabel("drop rate (events dropped / offered, test split, after training)")
        ax.set_ylabel("final test accuracy")
        ax.set_title(f"timing classes: accuracy against drop rate, {place}")

    return rt.per_place(t, out_dir, "queues_accuracy_vs_drop", 6.5, draw)
