"""Render plots and tables from any set of result CSVs (never from stored ratios: every ratio
is recomputed from the raw medians of `ok` rows).

Pages (static HTML, no network assets; every CSV field is escaped, since submitted results are
untrusted input): index.html (the overview: the places — machine, device, threads — the
headline plot overview.png / .svg, the cross-place comparison's verdicts and links),
event_lif.html, psu.html, queues.html (one per family), compare.html (every cross-place
comparison, see compare.py) and rows.html (every row). When the results come from more than
one place, the family tables and plots label each place "<device kind> @ <machine_id>[, N
threads]" so that different machines never pool.

Writes into `out_dir`: event_lif.png / .svg (time and throughput vs input events, one line per
implementation, framework, dtype and configuration, one column per dataset),
event_lif_parallel.png / .svg (the parallel-scan simulator: speedup over the serial simulator
on the same inputs vs chunk size, one line per batch x width x layers — Bullet Trains'
Figure 1 — and the training step's time and peak memory vs chunk size, with and without the
chunk-recomputing backward), psu.png / .svg (LIF / PSU-family time ratio vs T for inference and
training, and time vs T on log-log axes; see report_psu), queues.png / .svg (us per step per
queue design, vs queues, vs capacity, and drop rate vs load; see report_queues), summary.md
(Markdown tables to paste).
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import numpy as np

from . import report_devices, report_psu, report_queues, results

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


def summary_table(df):
    cols = ["family", "impl", "framework", "dtype", "dataset", "device_kind", "mode",
            "param_n_events", "param_n_neurons", "param_batch", "param_n_layers",
            "param_chunk_size", "param_remat", "param_T", "status", "time_median_s", "time_iqr_s",
            "compile_s", "throughput", "throughput_unit", "correct", "max_err", "machine_id",
            "error"]
    return df[[c for c in cols if c in df.columns]]


def _md_text(v) -> str:
    """Untrusted CSV text as one Markdown table cell or line: no raw HTML, no table breaks."""
    return html.escape(str(v)).replace("|", "\\|").replace("\n", " ").replace("\r", " ")


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
            else:  # CSV text is untrusted
                cells.append(_md_text(v))
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


def _place(df):
    """'<device kind> @ <machine_id>[, N threads]' per row."""
    thr = df["threads"].map(lambda t: "" if t is None or (isinstance(t, float) and np.isnan(t))
                            else f", {int(float(t))} threads") if "threads" in df else ""
    return df["device_kind"].astype(str) + " @ " + df["machine_id"].astype(str) + thr


def _by_place(df):
    """With several places, device_kind becomes the place label (family code groups by it)."""
    df = df.copy()
    if len(df) and _place(df).nunique() > 1:
        df["device_kind"] = _place(df)
    return df


def places_table(df):
    import pandas as pd

    if df.empty:
        return pd.DataFrame()
    d = df.assign(place=_place(df), ok=df["status"] == "ok",
                  correct_ok=(df["status"] == "ok") & (df["correct"].astype(str) == "True"))
    g = d.groupby("place", sort=True)
    return pd.DataFrame({
        "machine": g["machine_id"].first(), "cpu": g["cpu_model"].first(),
        "device": g["device_name"].first(), "frameworks": g.apply(
            lambda x: ", ".join(sorted({f"{a} {b}" for a, b in zip(
                x["framework"], x["framework_version"].fillna(""), strict=True)})),
            include_groups=False),
        "runs": g["run_id"].nunique(), "commits": g["git_commit"].apply(
            lambda x: ", ".join(sorted(set(map(str, x))))),
        "rows": g.size(), "ok": g["ok"].sum(), "ok and correct": g["correct_ok"].sum(),
    }).reset_index()


def plot_overview(df, out_dir: Path) -> list[Path]:
    """The headline figure, one line / bar group per place: the parallel simulator's speedup
    vs chunk size, time vs input events, the PSU family's LIF / unit ratio vs T (training),
    queue us/step at 10,000 queues, and peak memory vs input events."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = _by_place(df)
    if df.empty or not (df["status"] == "ok").any():
        return []
    fig, axes = plt.subplots(2, 3, figsize=(19, 11))
    ax = axes[0, 0]
    sp = parallel_speedups(df)
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
    ax = axes[0, 1]
    ok = _ok(df[(df["family"] == "event_lif") & (df["mode"] == "forward")])
    ser = ok[(ok["impl"] == "serial") & (ok["param_n_layers"] == 1)]
    for (fw, dev), g in ser.groupby(["framework", "device_kind"]):
        g = g.groupby("param_n_events")["time_median_s"].min()
        ax.plot(g.index, g.values, marker=MARK.get(fw, "x"), label=f"serial {fw} {dev}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_title("event LIF: serial simulator, fastest configuration")
    ax.set_xlabel("input events per sample")
    ax.set_ylabel("median time per call [s]")
    ax = axes[0, 2]
    r = report_psu.ratios(df)
    if not r.empty:
        part = r[(r["mode"] == "grad") & (r["impl"] == "psu")]
        for (fw, dev, lvl), g in part.groupby(["framework", "device_kind", "level"]):
            g = g.groupby("param_T")["lif_over"].median()
            ax.plot(g.index, g.values, marker=MARK.get(fw, "x"), label=f"{fw} {dev} ({lvl})")
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_xscale("log", base=2)
    ax.set_title("PSU training step: LIF time / PSU time")
    ax.set_xlabel("time steps T")
    ax.set_ylabel("LIF / PSU median time")
    ax = axes[1, 0]
    pub = report_queues.published_table(df)
    cols = [c for c in pub.columns if not c.startswith("published")][1:] if not pub.empty \
        else []
    if cols:
        x = np.arange(len(pub))
        w = 0.8 / len(cols)
        for k, col in enumerate(cols):
            ax.bar(x + k * w, pub[col].astype(float), w, label=col)
        ax.set_xticks(x + 0.4 - w / 2, pub["impl"])
        ax.set_yscale("log")
    ax.set_title("event queues: 10,000 queues, benchmark (b)")
    ax.set_xlabel("queue design")
    ax.set_ylabel("microseconds per step")
    ax = axes[1, 1]
    mem = ser[ser["peak_mem_bytes"].notna()]
    for (fw, dev, method), g in mem.groupby(["framework", "device_kind", "mem_method"]):
        g = g.groupby("param_n_events")["peak_mem_bytes"].max() / 2**20
        ax.plot(g.index, g.values, marker=MARK.get(fw, "x"), label=f"serial {fw} {dev} "
                f"({method})")
    ax.set_xscale("log")
    ax.set_title("event LIF: peak memory of a case")
    ax.set_xlabel("input events per sample")
    ax.set_ylabel("peak memory above the worker's start [MiB]")
    axes[1, 2].axis("off")
    counts = df["status"].value_counts().to_dict()
    axes[1, 2].text(0.0, 0.95, "rows per status\n" + "\n".join(
        f"  {k}: {v}" for k, v in counts.items()), va="top", family="monospace", fontsize=11)
    for a in axes.ravel()[:5]:
        a.grid(True, which="both", alpha=0.3)
        if a.get_legend_handles_labels()[0]:
            a.legend(fontsize=8, loc="best", framealpha=0.85)
    fig.suptitle("spikebench overview (ratios from raw medians of ok rows)")
    fig.tight_layout()
    paths = [out_dir / "overview.png", out_dir / "overview.svg"]
    for p in paths:
        fig.savefig(p, dpi=100)
    plt.close(fig)
    return paths


CSS = ("body{font-family:sans-serif;margin:2em;max-width:1400px}nav a{margin-right:1.2em}"
       "table{border-collapse:collapse;font-size:12px;margin-bottom:1.5em}"
       "td,th{border:1px solid #ccc;padding:2px 6px}th{background:#f3f3f3}img{max-width:100%}")
PAGES = [("index.html", "overview"), ("event_lif.html", "event LIF"), ("psu.html", "PSU family"),
         ("queues.html", "event queues"), ("compare.html", "compare places"),
         ("rows.html", "all rows")]


def _page(title: str, body: str) -> str:
    nav = "".join(f'<a href="{f}">{html.escape(t)}</a>' for f, t in PAGES)
    return (f"<!doctype html><html lang='en'><meta charset='utf-8'>"
            f"<title>spikebench: {html.escape(title)}</title><style>{CSS}</style>"
            f"<nav>{nav}</nav><h1>{html.escape(title)}</h1>{body}</html>")


def _imgs(paths) -> str:
    return "".join(f'<p><img src="{html.escape(p.name)}" alt="{html.escape(p.stem)}"></p>'
                   for p in paths if p.suffix == ".svg")


def _section(title: str, table, note: str = "") -> str:
    note = f"<p>{html.escape(note)}</p>" if note else ""
    return f"<h2>{html.escape(title)}</h2>{note}{_html_table(table)}"


EXPORTED = "Exported graphs (the ONNX path) next to JAX and PyTorch on the same inputs"
EXPORTED_NOTE = ("Median seconds per call; torch_over_onnx = PyTorch time / ONNX time (> 1: "
                 "the graph beats the eager code it was exported from). compile_s: export + "
                 "runtime session (or GroqChip build).")


def render(paths, out_dir, factor: float = 1.1, alpha: float = 0.01) -> list[Path]:
    """Render the report for the result files/folders `paths` into `out_dir`.

    The pages are rendered into a staging folder beside `out_dir` and moved into place only
    when all of them are written, so a failure leaves neither an empty nor a half-written
    report. Text from the CSVs never reaches matplotlib's mathtext (``text.parse_math`` off:
    a machine id such as ``$\\frac{$`` is a label, not a formula)."""
    import shutil
    import tempfile

    import matplotlib

    raw = results.read(paths)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        with matplotlib.rc_context({"text.parse_math": False}):
            files = _render(raw, staging, factor, alpha)
        out_dir.mkdir(exist_ok=True)
        for f in files:
            os.replace(f, out_dir / f.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out_dir / f.name for f in files]


def _render(raw, out_dir: Path, factor: float, alpha: float) -> list[Path]:
    from . import compare

    df = _by_place(raw)
    figs = {"overview": plot_overview(raw, out_dir), "event_lif": plot_event_lif(df, out_dir)
            + plot_parallel(df, out_dir), "psu": report_psu.plot(df, out_dir),
            "queues": report_queues.plot(df, out_dir)}
    t = {
        "places": places_table(raw),
        "speed": parallel_speedups(df), "grads": grad_table(df),
        "ratio": spike_logic_ratio(df),
        "psu_ratio": report_psu.ratios(df), "psu_cross": report_psu.crossover(df),
        "psu_sparse": report_psu.sparsity(df),
        "q_pub": report_queues.published_table(df), "q_steps": report_queues.us_per_step(df),
        "q_net": report_queues.network_table(df),
        "compare": compare.compare(raw, factor=factor, alpha=alpha),
        "rows": summary_table(raw),
        "exported": report_devices.exported_table(df),
    }
    verdicts = (t["compare"].assign(family=t["compare"]["case"].str.split("/").str[0])
                .groupby(["family", "verdict"]).size().rename("cases").reset_index()
                if len(t["compare"]) else t["compare"])
    sections = {
        "event_lif": [("Parallel-scan simulator: speedup over serial (same inputs, median "
                       "times)", "speed", ""),
                      ("Training step (loss + gradients): time and peak memory", "grads", ""),
                      ("Cost of the spike logic (serial / bare scan, median times)", "ratio",
                       "")],
        "psu": [("PSU family: LIF time / unit time (same inputs, median times)", "psu_ratio",
                 ""),
                ("PSU family: where the matrix form stops paying off", "psu_cross", ""),
                ("PSU family: spike rate and agreement with LIF", "psu_sparse", "")],
        "queues": [("Event queues: 10,000 queues, us/step, next to the published JAX figures",
                    "q_pub", report_queues.NOTE),
                   ("Event queues: microseconds per simulated step", "q_steps", ""),
                   ("Event queues: recurrent network, us/step", "q_net", "")],
    }
    n_files = raw["source_file"].nunique() if len(raw) else 0
    intro = (f"<p>{len(raw)} rows from {n_files} file(s); statuses: "
             f"{html.escape(str(_counts(raw)))}. Every ratio is recomputed from raw medians; "
             f"places are compared from their raw samples (Mann-Whitney test or disjoint "
             f"ranges, alpha {alpha:g}; differences under {factor:g}x are called within "
             f"factor).</p>")
    pages = {
        "index.html": _page("spikebench report", intro + _section(
            "Places (machine, device, threads)", t["places"]) + _imgs(figs["overview"])
            + _section("Cross-place comparison: verdicts per family", verdicts,
                       "Details on the compare page.")
            + _section(EXPORTED, t["exported"], EXPORTED_NOTE)),
        "event_lif.html": _page("event LIF (Bullet Trains)", _imgs(figs["event_lif"]) + "".join(
            _section(a, t[k], n) for a, k, n in sections["event_lif"])),
        "psu.html": _page("PSU family", _imgs(figs["psu"]) + "".join(
            _section(a, t[k], n) for a, k, n in sections["psu"])),
        "queues.html": _page("event queues", _imgs(figs["queues"]) + "".join(
            _section(a, t[k], n) for a, k, n in sections["queues"])),
        "compare.html": _page("compare places", _section(
            "Every case measured in two or more places", t["compare"],
            "ratio = baseline median / place median (> 1: the place is faster); mem_ratio = "
            "place / baseline peak memory, only for one memory method.")),
        "rows.html": _page("all rows", _section("All rows", t["rows"])),
    }
    for name, text in pages.items():
        (out_dir / name).write_text(text)
    md = ["# spikebench report\n",
          f"{len(raw)} rows from {n_files} file(s); statuses: {_md_text(_counts(raw))}\n",
          "## Places\n", _md(t["places"])]
    for fam in ("event_lif", "psu", "queues"):
        for a, k, n in sections[fam]:
            md += [f"## {a}\n", (n + "\n") if n else "", _md(t[k])]
    md += [f"## {EXPORTED}\n", EXPORTED_NOTE + "\n", _md(t["exported"])]
    md += ["## Cross-place comparison\n", _md(t["compare"]), "## All rows\n", _md(t["rows"])]
    (out_dir / "summary.md").write_text("\n".join(md))
    figures = [p for ps in figs.values() for p in ps]
    return figures + [out_dir / "summary.md"] + [out_dir / n for n in pages]
