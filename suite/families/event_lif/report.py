"""Report pieces for the exact event-driven LIF family (Bullet Trains): time and throughput vs
input events (one line per implementation, framework, dtype and configuration, one column per
dataset), the parallel-scan simulator's speedup over the serial one on the same inputs vs chunk
size (Figure 1), the training step's time and peak memory vs chunk size (with and without the
chunk-recomputing backward), and the cost of the spike logic over the bare linear scan. Every
ratio is recomputed from the raw medians of usable rows (``results.usable``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

CONFIG = ["param_n_neurons", "param_batch", "param_n_layers"]


def _ok(df):
    """This family's usable rows with numeric sizes (the caller passes usable rows; the
    filter is applied again so that every function here is safe on any frame)."""
    from ... import results

    ok = results.usable(df).rows
    if ok is None or ok.empty or "family" not in ok:
        return df.iloc[:0].copy() if df is not None else df
    ok = ok.copy()
    for col in (
        "time_median_s",
        "throughput",
        "param_n_events",
        "peak_mem_bytes",
        *CONFIG,
        "param_chunk_size",
    ):
        if col in ok:
            ok[col] = ok[col].astype(float)
    if "param_n_layers" in ok:
        ok["param_n_layers"] = ok["param_n_layers"].fillna(1.0)
    ok["param_chunk_size"] = ok.get("param_chunk_size", np.nan)
    ok["remat"] = (
        ok.get("param_remat", np.nan)
        .astype(str)
        .str.lower()
        .map({"true": "remat", "1.0": "remat", "false": "no remat", "0.0": "no remat"})
    )
    return ok


def _cfg(n, b, layers):
    return f"{int(layers)}x{int(n)} neurons, batch {int(b)}"


def plot_event_lif(df, out_dir: Path) -> list[Path]:
    """event_lif.*: time and throughput against input events, small multiples (seaborn): a
    panel per dataset and implementation, a colour per place (``style.place_color``, the
    same on every figure), a marker and line style per framework, one line per
    configuration (dtype, K, width, batch, layers)."""
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd
    import seaborn as sns

    from ...report import style as st

    ok = _ok(df[df["family"] == "event_lif"])
    if ok.empty:
        return []
    part = ok[ok["mode"] == "forward"].copy()
    # (a configuration measured at one size is a marker, not a line)
    keys = ["impl", "framework", "dtype", "device_kind", "dataset", *CONFIG, "param_chunk_size"]
    part["param_chunk_size"] = part["param_chunk_size"].fillna(0)
    if part.empty:
        return []
    g = part.groupby(keys + ["param_n_events"], as_index=False)[
        ["time_median_s", "throughput"]
    ].median()
    g["panel"] = g["dataset"] + " | " + g["impl"]
    g["config"] = (
        g["dtype"]
        + " K="
        + g["param_chunk_size"].astype(int).astype(str)
        + " "
        + [
            _cfg(n, b, la)
            for n, b, la in zip(
                g["param_n_neurons"], g["param_batch"], g["param_n_layers"], strict=True
            )
        ]
    )
    long = pd.concat(
        [
            g.assign(metric="median time per call (s)", value=g["time_median_s"]),
            g.assign(metric="throughput (neuron-events/s)", value=g["throughput"]),
        ]
    )
    fws = [f for f in st.MARKER if f in set(long["framework"])]
    places = sorted(set(long["device_kind"]))
    order = {"serial": 0, "parallel": 1, "bare_scan": 2}
    long = long.assign(
        _o=long["impl"].map(order).fillna(9), _m=long["metric"].str.startswith("through")
    ).sort_values(["_m", "_o", "dataset"], kind="stable")
    long, grid_kw = st.facets(long, "metric", "panel")
    wrapped = "col_wrap" in grid_kw
    grid = sns.relplot(
        data=long,
        x="param_n_events",
        y="value",
        hue="device_kind",
        hue_order=places,
        palette={p: st.place_color(p) for p in places},
        style="framework",
        style_order=fws,
        markers={f: st.MARKER[f] for f in fws},
        dashes={f: "" if st.DASH[f] == "-" else (4, 2) for f in fws},
        units="config",
        estimator=None,
        kind="line",
        height=3.6,
        aspect=1.3,
        facet_kws={"sharey": False if wrapped else "row", "margin_titles": not wrapped},
        **grid_kw,
    )
    for key, ax in grid.axes_dict.items():
        metric = key.split(" | ")[0] if wrapped else key[0]
        if not (ax.lines or ax.collections):
            st.empty(ax)
            continue
        st.log_axis(ax, "x")
        if metric.startswith("median"):
            st.time_axis(ax, "y")
        else:
            st.log_axis(ax, "y")
        ax.set_ylabel(metric)
        ax.set_xlabel("input events per sample")
        ax.grid(True, which="major", alpha=0.3)
    grid.set_titles(**({} if wrapped else {"row_template": ""}), col_template="{col_name}")
    if grid.legend is not None:
        grid.legend.set_title("")
        for t in grid.legend.texts:
            t.set_text(
                {"device_kind": "place", "framework": "framework"}.get(
                    t.get_text(), st.FRAMEWORK_NAME.get(t.get_text(), t.get_text())
                )
            )
    grid.figure.suptitle(
        "Exact event-driven LIF: time and throughput against input events "
        "(one line per dtype, K and network)",
        y=1.02,
    )
    st.move_legend(grid)
    return st.save(grid.figure, out_dir, "event_lif")


def parallel_speedups(df):
    """Speedup of the parallel simulator over the serial one: serial median / parallel median
    on the same inputs (same framework, dtype, dataset, device, sizes), forward rows."""
    import pandas as pd

    ok = _ok(df[(df["family"] == "event_lif") & (df["mode"] == "forward")])
    keys = ["framework", "dtype", "dataset", "device_kind", "param_n_events", *CONFIG]
    ser = ok[ok["impl"] == "serial"].groupby(keys)["time_median_s"].median().rename("serial_s")
    par = (
        ok[ok["impl"] == "parallel"]
        .groupby(keys + ["param_chunk_size"])["time_median_s"]
        .median()
        .rename("parallel_s")
        .reset_index()
    )
    if par.empty or ser.empty:
        return pd.DataFrame()
    out = par.merge(ser.reset_index(), on=keys, how="inner")
    out["speedup"] = out["serial_s"] / out["parallel_s"]
    return out.sort_values(keys + ["param_chunk_size"]).reset_index(drop=True)


def grad_table(df):
    """Training-step rows (loss + gradients): time and peak memory per chunk size and remat."""
    ok = _ok(df[(df["family"] == "event_lif") & (df["mode"] == "grad")])
    cols = [
        "framework",
        "dtype",
        "device_kind",
        "param_n_events",
        *CONFIG,
        "param_chunk_size",
        "remat",
        "time_median_s",
        "peak_mem_bytes",
        "mem_method",
        "correct",
        "max_err",
    ]
    return ok[cols].sort_values(cols[:8]).reset_index(drop=True) if len(ok) else ok


def _fw_panel(frame):
    from ...report import style as st

    places = frame["device_kind"].nunique()
    return frame["framework"].map(lambda f: st.FRAMEWORK_NAME.get(f, f)) + (
        " | " + frame["device_kind"] if places > 1 else ""
    )


def plot_parallel(df, out_dir: Path) -> list[Path]:
    """event_lif_parallel.*: the parallel simulator's speedup over the serial one against K,
    a panel per framework (and place), a colour per configuration (the same in every panel),
    parity at 1x; event_lif_grad.*: the training step's time and peak memory against K."""
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd
    import seaborn as sns

    from ...report import style as st

    sp, gr = parallel_speedups(df), grad_table(df)
    out = []
    if not sp.empty:
        sp = sp.assign(
            panel=_fw_panel(sp),
            config=[
                f"{_cfg(n, b, la)}, {int(e):,} events, {ds}, {dt}"
                for n, b, la, e, ds, dt in zip(
                    sp["param_n_neurons"],
                    sp["param_batch"],
                    sp["param_n_layers"],
                    sp["param_n_events"],
                    sp["dataset"],
                    sp["dtype"],
                    strict=True,
                )
            ],
        )
        grid = sns.relplot(
            data=sp,
            x="param_chunk_size",
            y="speedup",
            hue="config",
            col="panel",
            col_wrap=min(st.MAX_COLS, sp["panel"].nunique()),
            kind="line",
            marker="o",
            height=3.8,
            aspect=1.2,
            facet_kws={"sharey": True},
        )
        for ax in grid.axes.flat:
            st.log_axis(ax, "x", base=2)
            st.ratio_axis(ax, "y")
            ax.set_xlabel("chunk size K (events per scan)")
            ax.set_ylabel("serial time / parallel time (x)")
            ax.grid(True, which="major", alpha=0.3)
        grid.set_titles(col_template="{col_name}")
        if grid.legend is not None:
            grid.legend.set_title("configuration")
        grid.figure.suptitle(
            "Parallel-scan simulator against the serial one on the same "
            "inputs (> 1x: parallel is faster)",
            y=1.03,
        )
        st.move_legend(grid)
        out += st.save(grid.figure, out_dir, "event_lif_parallel")
    if not gr.empty:
        gr = gr.assign(
            panel=_fw_panel(gr),
            config=[
                f"{_cfg(n, b, la)}, {int(e):,} events, {dt}"
                for n, b, la, e, dt in zip(
                    gr["param_n_neurons"],
                    gr["param_batch"],
                    gr["param_n_layers"],
                    gr["param_n_events"],
                    gr["dtype"],
                    strict=True,
                )
            ],
            remat=gr["remat"].fillna("remat"),
        )
        long = pd.concat(
            [
                gr.assign(metric="median time per step (s)", value=gr["time_median_s"]),
                gr.assign(metric="peak memory (MiB)", value=gr["peak_mem_bytes"] / 2**20),
            ]
        )
        long = long[long["value"].notna()]
        long, grid_kw = st.facets(long, "metric", "panel")
        wrapped = "col_wrap" in grid_kw
        grid = sns.relplot(
            data=long,
            x="param_chunk_size",
            y="value",
            hue="config",
            style="remat",
            kind="line",
            marker="o",
            height=3.4,
            aspect=1.2,
            facet_kws={"sharey": False if wrapped else "row", "margin_titles": not wrapped},
            **grid_kw,
        )
        for key, ax in grid.axes_dict.items():
            metric = key.split(" | ")[0] if wrapped else key[0]
            if not (ax.lines or ax.collections):
                st.empty(ax)
                continue
            st.log_axis(ax, "x", base=2)
            if metric.startswith("median"):
                st.time_axis(ax, "y")
            ax.set_ylabel(metric)
            ax.set_xlabel("chunk size K (events per scan)")
            ax.grid(True, which="major", alpha=0.3)
        grid.set_titles(**({} if wrapped else {"row_template": ""}), col_template="{col_name}")
        if grid.legend is not None:
            grid.legend.set_title("configuration / backward")
        grid.figure.suptitle("Training step (loss + gradients) of the parallel simulator", y=1.03)
        st.move_legend(grid)
        out += st.save(grid.figure, out_dir, "event_lif_grad")
    return out


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
    return [
        (
            "parallel vs serial: best speedup (serial median / parallel median, same inputs)",
            best[cols].reset_index(drop=True),
        )
    ]


def _overview(df):
    """Panels of the headline figure: the parallel speedup vs K, serial time vs events, and
    the serial simulator's kernel memory vs events; colour: the place, marker and line
    style: the framework (``style.legend_below``)."""
    sp = parallel_speedups(df)
    ok = _ok(df[df["mode"] == "forward"]) if len(df) else df
    ser = ok[(ok["impl"] == "serial") & (ok["param_n_layers"] == 1)] if len(ok) else ok

    def speedup(ax):
        from matplotlib.patches import Patch

        from ...report import style as st

        if not sp.empty:
            # the median over configurations, with the worst and best of them as a band:
            # a best-only curve would hide the configurations where parallel loses
            stats = (
                sp.groupby(["framework", "device_kind", "param_chunk_size"])["speedup"]
                .agg(["median", "min", "max", "size"])
                .reset_index()
            )
            for (fw, dev), g in stats.groupby(["framework", "device_kind"]):
                c = st.place_color(dev)
                ax.plot(
                    g["param_chunk_size"],
                    g["median"],
                    marker=st.MARKER.get(fw, "o"),
                    ls=st.DASH.get(fw, "-"),
                    color=c,
                )
                ax.fill_between(g["param_chunk_size"], g["min"], g["max"], alpha=0.12, color=c)
            st.log_axis(ax, "x", base=2)
            st.ratio_axis(ax, "y")
            band = (Patch(color="#999999", alpha=0.3), "worst-best over configurations")
            st.legend_below(ax, stats["device_kind"], stats["framework"], [band], ncol=4)
        ax.set_title("event LIF: parallel speedup over serial (median over configurations)")
        ax.set_xlabel("chunk size K (events per scan)")
        ax.set_ylabel("serial time / parallel time (x)")

    def serial_time(ax):
        from ...report import style as st

        for (fw, dev), g in ser.groupby(["framework", "device_kind"]) if len(ser) else []:
            g = g.groupby("param_n_events")["time_median_s"].min()
            ax.plot(
                g.index,
                g.values,
                marker=st.MARKER.get(fw, "o"),
                ls=st.DASH.get(fw, "-"),
                color=st.place_color(dev),
            )
        if len(ser):
            st.log_axis(ax, "x")
            st.time_axis(ax, "y")
            st.legend_below(ax, ser["device_kind"], ser["framework"], ncol=4)
        ax.set_title("event LIF: serial simulator, fastest configuration")
        ax.set_xlabel("input events per sample")
        ax.set_ylabel("median time per call (s)")

    def memory(ax):
        from ...report import style as st

        mem = ser[ser["peak_mem_bytes"].notna()] if len(ser) else ser
        for (fw, dev, _), g in (
            mem.groupby(["framework", "device_kind", "mem_method"]) if len(mem) else []
        ):
            g = g.groupby("param_n_events")["peak_mem_bytes"].max() / 2**20
            ax.plot(
                g.index,
                g.values,
                marker=st.MARKER.get(fw, "o"),
                ls=st.DASH.get(fw, "-"),
                color=st.place_color(dev),
            )
        if len(mem):
            st.log_axis(ax, "x")
            st.log_axis(ax, "y")
            st.legend_below(ax, mem["device_kind"], mem["framework"], ncol=4)
            methods = ", ".join(sorted(set(map(str, mem["mem_method"]))))
            ax.set_title(f"event LIF: kernel memory of one call ({methods})", fontsize=10)
        else:
            ax.set_title("event LIF: kernel memory of one call")
        ax.set_xlabel("input events per sample")
        ax.set_ylabel("kernel memory of one call (MiB)")

    return [speedup, serial_time, memory]


def section(df, out_dir: Path):
    """The family's report page (``Family.report``)."""
    from ...report import memory as rm
    from ...report import training as rt
    from .. import Section
    from .training import TASK

    par = df[df["impl"] == "parallel"] if "impl" in df else df
    return Section(
        "event LIF (Bullet Trains)",
        plot_event_lif(df, out_dir)
        + plot_parallel(df, out_dir)
        + rt.plot_curves(df, out_dir, "event_lif", TASK.title)
        + rm.figure(
            par,
            "param_chunk_size",
            "chunk size K",
            "event_lif_memory",
            out_dir,
            "Event LIF: parallel simulator's memory against K",
            by=("param_n_neurons", "param_batch", "param_n_layers"),
        ),
        [
            (
                "Parallel-scan simulator: speedup over serial (same inputs, median times)",
                parallel_speedups(df),
                "",
            ),
            ("Training step (loss + gradients): time and peak memory", grad_table(df), ""),
            (
                "Cost of the spike logic (serial / bare scan, median times)",
                spike_logic_ratio(df),
                "",
            ),
            (
                rm.TITLE + ": against input events and chunk size K (remat: the chunk-recomputing "
                "backward)",
                rm.table(
                    df,
                    "param_n_events",
                    (
                        "impl",
                        "framework",
                        "mode",
                        "param_n_neurons",
                        "param_batch",
                        "param_chunk_size",
                        "param_remat",
                    ),
                ),
                "",
            ),
            (
                "Training to a target test accuracy (Yin-Yang)",
                rt.table(df, "event_lif", TASK.impl_label),
                TASK.note,
            ),
        ],
        _overview(df),
    )


def _headline_pairs(df):
    """Per (device kind, framework): (pairs, best, worst, Bullet Trains pair or None), each
    pair (parallel row, its serial rows, the parallel rows of its chunk size, ratio, lo, hi)
    -- what ``headline`` says and ``headline_rows`` returns."""
    from ...report.headline import ratio_spread, same_rows, usable_rows

    ok = usable_rows(df)
    if ok.empty:
        return
    ok = ok[(ok["family"] == "event_lif") & (ok["mode"] == "forward")]
    cfg = [
        "dtype",
        "dataset",
        "param_n_events",
        "param_n_neurons",
        "param_batch",
        "param_n_layers",
        "param_n_inputs",
    ]
    for (place, fw), g in ok.groupby(["device_kind", "framework"], sort=True):
        ser, par = g[g["impl"] == "serial"], g[g["impl"] == "parallel"]
        pairs = []
        for _, p in par.iterrows():
            s = same_rows(ser, p, cfg)
            if len(s):
                pr = same_rows(par, p, cfg + ["param_chunk_size"])
                pairs.append((p, s, pr, *ratio_spread(s, pr)))
        if not pairs:
            continue
        best = max(pairs, key=lambda t: t[3])
        worst = min(pairs, key=lambda t: t[3])
        shd = [t for t in pairs if "shd" in str(t[0]["dataset"])]
        bt = None
        if shd:
            deep = max(
                t[0]["param_n_layers"] if pd.notna(t[0]["param_n_layers"]) else 1 for t in shd
            )
            shd = [
                t
                for t in shd
                if (t[0]["param_n_layers"] if pd.notna(t[0]["param_n_layers"]) else 1) == deep
            ]
            k128 = [t for t in shd if t[0]["param_chunk_size"] == 128]
            bt = max(k128 or shd, key=lambda t: (t[0]["param_n_events"], t[3]))
        yield place, fw, pairs, best, worst, bt


def headline_rows(df):
    """The rows the headline reads at the Bullet Trains configuration (else the best pair):
    the parallel simulator's and the serial one's, per device kind and framework."""
    picked = [
        frame
        for _, _, _, best, _, bt in _headline_pairs(df)
        for frame in ((bt or best)[2], (bt or best)[1])
    ]
    return pd.concat(picked) if picked else pd.DataFrame()


def headline(df) -> list[str]:
    from ...report.headline import fw_name, num_text, spread_text

    out = []
    for place, fw, pairs, best, worst, bt in _headline_pairs(df):

        def conf(t):
            p = t[0]
            layers = int(p["param_n_layers"]) if pd.notna(p["param_n_layers"]) else 1
            return (
                f"{num_text(p['param_n_events'])} events on {p['dataset']}, {layers}x"
                f"{num_text(p['param_n_neurons'])} neurons, batch {num_text(p['param_batch'])}, "
                f"K = {num_text(p['param_chunk_size'])}"
            )

        head = f"Event-LIF, {fw_name(fw)} on {place}: the parallel simulator runs "
        parts = []
        if bt is not None:
            parts.append(
                f"{spread_text(*bt[3:])} the serial one's speed at the Bullet "
                f"Trains configuration ({conf(bt)})"
            )
        parts.append(f"{spread_text(*best[3:])} at its best ({conf(best)})")
        parts.append(
            f"{spread_text(*worst[3:])} at its worst ({conf(worst)}), over "
            f"{len(pairs)} configuration{'s' if len(pairs) != 1 else ''}"
        )
        out.append(head + "; ".join(parts) + ".")
    return out


def answers(df):
    """The answer table's rows (``report.answers``) for one place: the parallel speedup over
    serial at the Bullet Trains configuration (else the best pair, named) and at the worst
    configuration, per framework."""
    from ...report.answers import ratio_answer
    from ...report.headline import fw_name, num_text

    def conf(t):
        p = t[0]
        return (
            f"K = {num_text(p['param_chunk_size'])}, {num_text(p['param_n_events'])} events, "
            f"{p['dataset']}"
        )

    out = []
    for _, fw, _, best, worst, bt in _headline_pairs(df):
        pick = bt or best
        out.append(
            ratio_answer(
                f"Event LIF: parallel speedup over serial, Bullet Trains configuration, "
                f"{fw_name(fw)} (> 1: parallel faster)",
                pick[1],
                pick[2],
                conf(pick) if bt is not None else f"no SHD rows; best: {conf(pick)}",
            )
        )
        out.append(
            ratio_answer(
                f"Event LIF: parallel speedup over serial, worst configuration, {fw_name(fw)}",
                worst[1],
                worst[2],
                conf(worst),
            )
        )
    return out + _memory_answers(df)


def _memory_rows(df):
    """Per (framework, memory method): the serial simulator's row with the largest kernel
    memory at its most input events (one layer) -- what the memory sentence and the answer
    table read."""
    from ...report.headline import memory_rows

    ok = memory_rows(df)
    if ok.empty:
        return
    e = ok[
        (ok["family"] == "event_lif")
        & (ok["impl"] == "serial")
        & (ok["param_n_layers"].fillna(1) == 1)
    ]
    for (fw, method), g in e.groupby(["framework", "mem_method"], sort=True):
        top = g[g["param_n_events"] == g["param_n_events"].max()]
        yield fw, method, top.loc[top["peak_mem_bytes"].idxmax()]


def _memory_answers(df):
    """The kernel memory of one call of the serial simulator at its most input events, per
    framework (MiB; the memory method named: figures of two methods are not comparable)."""
    from ...report.answers import Answer
    from ...report.headline import fw_name, num_text

    return [
        Answer(
            f"Kernel memory a call, event LIF serial at its most events, {fw_name(fw)}",
            float(r["peak_mem_bytes"]) / 2**20,
            unit="MiB",
            detail=f"{num_text(r['param_n_events'])} events; {method}",
        )
        for fw, method, r in _memory_rows(df)
    ]


def memory_headline(df) -> list[str]:
    """The report index's memory sentence for this family, per framework: the kernel's own
    figure of one call and the state it carries (``mem_method`` named)."""
    from ...report.headline import fw_name, mib, num_text

    return [
        f"Memory, event LIF, {fw_name(fw)}: the serial simulator at "
        f"{num_text(r['param_n_events'])} input events ({num_text(r['param_batch'])} x "
        f"{num_text(r['param_n_neurons'])} lanes, {r['dtype']}) needs "
        f"{mib(r['peak_mem_bytes'])} a call, {mib(r['state_bytes'])} of it "
        f"carried state ({method})."
        for fw, method, r in _memory_rows(df)
    ]
