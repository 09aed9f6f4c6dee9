"""Render plots and tables from any set of result CSVs (never from stored ratios: every ratio
is recomputed from the raw medians of usable rows -- ``results.usable``: ok and correct; each
page says how many rows it left out and why).

Pages (static HTML, no network assets; every CSV field is escaped, since submitted results are
untrusted input): index.html (the overview: the places — machine, device, threads — the
headline plot overview.png / .svg, the cross-place comparison's verdicts and links), one page
per family present in the results (``<family>.html``: the family's own figures and tables,
``Family.report``; e.g. report_event_lif, report_psu, report_queues), compare.html (every
cross-place comparison, see compare.py) and rows.html (every row). When the results come from
more than one place, the family tables and plots label each place "<device kind> @
<machine_id>[, N threads]" so that different machines never pool. summary.md holds the same
tables as Markdown to paste.

This module knows no family: what a family shows is its adapter's business.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import numpy as np

from .. import families, results, rows
from . import anchors as report_anchors
from . import answers as report_answers
from . import compiled as report_compiled
from . import devices as report_devices
from . import headline as report_headline
from . import limits as report_limits
from . import peers as report_peers
from . import style as report_style
from . import training as report_training


def summary_table(df):
    cols = [
        "family",
        "impl",
        "framework",
        "dtype",
        "dataset",
        "device_kind",
        "mode",
        "param_n_events",
        "param_n_neurons",
        "param_batch",
        "param_n_layers",
        "param_chunk_size",
        "param_remat",
        "param_T",
        "status",
        "time_median_s",
        "time_iqr_s",
        "compile_s",
        "throughput",
        "throughput_unit",
        "correct",
        "max_err",
        "machine_id",
        "error",
    ]
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
            text = (
                ""
                if isinstance(v, float) and np.isnan(v)
                else f"{v:.4g}"
                if isinstance(v, float)
                else str(v)
            )
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    # a wide table scrolls inside its box; the page itself never gets wider than the window
    return (
        f"<div class='scroll'><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _counts(df) -> dict:
    return {k: int(v) for k, v in df["status"].value_counts().items()} if len(df) else {}


def _place(df):
    """``rows.place_label`` per row."""
    return rows.places(df)


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
    d = df.assign(
        place=_place(df),
        ok=df["status"] == "ok",
        correct_ok=(df["status"] == "ok") & (df["correct"].astype(str) == "True"),
    )
    g = d.groupby("place", sort=True)
    return pd.DataFrame(
        {
            "machine": g["machine_id"].first(),
            "cpu": g["cpu_model"].first(),
            "device": g["device_name"].first(),
            "frameworks": g.apply(
                lambda x: ", ".join(
                    sorted(
                        {
                            f"{a} {b}"
                            for a, b in zip(
                                x["framework"], x["framework_version"].fillna(""), strict=True
                            )
                        }
                    )
                ),
                include_groups=False,
            ),
            "runs": g["run_id"].nunique(),
            "commits": g["git_commit"].apply(lambda x: ", ".join(sorted(set(map(str, x))))),
            "run ids": g["run_id"].apply(lambda x: ", ".join(sorted(set(map(str, x))))),
            "rows": g.size(),
            "ok": g["ok"].sum(),
            "ok and correct": g["correct_ok"].sum(),
        }
    ).reset_index()


def plot_overview(panels, out_dir: Path) -> list[Path]:
    """The headline figure: every family's overview panels (``Section.overview``), one panel
    a row across the page's width with its legend below it in columns (never over the data,
    never as wide as the plot); a panel with nothing to draw says so. The rows per status
    are in the page's text."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import style as st

    if not panels:
        return []
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(14, 4.6 * len(panels)), squeeze=False, layout="constrained"
    )
    for ax, draw in zip(axes[:, 0], panels, strict=True):
        draw(ax)
        if not (ax.lines or ax.collections or ax.patches or ax.containers):
            title = ax.get_title()
            st.empty(ax)
            ax.set_title(title)
            continue
        ax.grid(True, which="major", alpha=0.3)
        handles = ax.get_legend_handles_labels()[0]
        if handles and ax.get_legend() is None:  # a panel's own legend_below stays
            ax.legend(
                fontsize=9,
                loc="upper center",
                bbox_to_anchor=(0.5, -0.17),
                ncol=min(3, len(handles)),
                frameon=False,
                borderaxespad=0,
            )
    fig.suptitle("spikebench overview (ratios from raw medians of usable rows)")
    return st.save(fig, out_dir, "overview")


CSS = (
    "body{font-family:sans-serif;margin:2em;max-width:1400px}nav a{margin-right:1.2em}"
    "table{border-collapse:collapse;font-size:12px;margin-bottom:1.5em}"
    "td,th{border:1px solid #ccc;padding:2px 6px}th{background:#f3f3f3}img{max-width:100%}"
    ".scroll{overflow-x:auto;max-width:100%}li{margin-bottom:.4em}"
)


def _page(title: str, body: str, pages) -> str:
    nav = "".join(f'<a href="{html.escape(f)}">{html.escape(t)}</a>' for f, t in pages)
    return (
        f"<!doctype html><html lang='en'><meta charset='utf-8'>"
        f"<title>spikebench: {html.escape(title)}</title><style>{CSS}</style>"
        f"<nav>{nav}</nav><h1>{html.escape(title)}</h1>{body}</html>"
    )


def _imgs(paths) -> str:
    return "".join(
        f'<p><img src="{html.escape(p.name)}" alt="{html.escape(p.stem)}"></p>'
        for p in paths
        if p.suffix == ".svg"
    )


def _section(title: str, table, note: str = "") -> str:
    note = f"<p>{html.escape(note)}</p>" if note else ""
    return f"<h2>{html.escape(title)}</h2>{note}{_html_table(table)}"


EXPORTED = "Exported graphs (the ONNX path) next to JAX and PyTorch on the same inputs"
EXPORTED_NOTE = (
    "Median seconds per call; torch_over_onnx = PyTorch time / ONNX time (> 1: "
    "the graph beats the eager code it was exported from). compile_s: export + "
    "runtime session (or GroqChip build)."
)


def render(
    paths,
    out_dir,
    factor: float = 1.1,
    alpha: float = 0.01,
    all_runs: bool = False,
    site: bool = False,
) -> list[Path]:
    """Render the report for the result files/folders `paths` into `out_dir`.

    The pages are rendered into a staging folder beside `out_dir` and moved into place only
    when all of them are written, so a failure leaves neither an empty nor a half-written
    report. Text from the CSVs never reaches matplotlib's mathtext (``text.parse_math`` off:
    a machine id such as ``$\\frac{$`` is a label, not a formula). Each place's figures pool
    only the runs of the latest code and inputs versions of each case (``compare.pool``;
    `all_runs` pools every run). `site` also writes ``site.md``, the docs site's Results page
    (``SITE_PAGE``; docs/hooks/results_site.py publishes it with the report beside it)."""
    import shutil
    import tempfile

    import matplotlib

    raw = results.read(paths)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        with matplotlib.rc_context({"text.parse_math": False}):
            files = _render(raw, staging, factor, alpha, all_runs, site)
        out_dir.mkdir(exist_ok=True)
        for f in files:
            os.replace(f, out_dir / f.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out_dir / f.name for f in files]


def _left_out(use) -> str:
    note = use.note()
    return f"<p>{html.escape(note)}</p>" if note else ""


def _render(
    raw, out_dir: Path, factor: float, alpha: float, all_runs: bool, site: bool = False
) -> list[Path]:
    from .. import compare

    pooled = compare.pool(raw, all_runs)
    # what was read, before pooling (the page's counts); every figure reads the pooled rows
    n_read, n_files = len(raw), (raw["source_file"].nunique() if len(raw) else 0)
    raw = pooled.rows
    df = _by_place(raw)
    report_style.set_places(df["device_kind"].unique() if len(df) else [])
    use = results.usable(df)
    ok = use.rows if use.rows is not None else df
    # the families' own pages, figures and headline read our rows; peers have their table
    mine = rows.own(ok)
    host = {n: f.host_params for n, f in families.FAMILIES.items()}
    sections = {}
    for name, fam in families.FAMILIES.items():
        if not len(df) or not (df["family"] == name).any():
            continue
        part = mine[mine["family"] == name]
        sec = fam.report(part, out_dir)
        peer = report_peers.peer_table(raw[raw["family"] == name], host)
        if len(peer):  # every family's page: the peer libraries beside ours
            sec.tables.append((report_peers.TITLE, peer, report_peers.NOTE))
        sections[name] = (sec, results.usable(df[df["family"] == name]))
    panels = [p for sec, _ in sections.values() for p in sec.overview]
    figs = plot_overview(panels, out_dir) if len(mine) else []
    cmp_table = compare.compare(raw, factor=factor, alpha=alpha)
    t = {
        "places": places_table(raw),
        "compare": cmp_table,
        "rows": summary_table(raw),
        "exported": report_devices.exported_table(ok, host),
        "anchors": report_anchors.anchor_table(raw, host),
        # raw: the device kind itself, whose peaks the run measured (df labels places)
        "limits": report_limits.limits_table(rows.own(raw), families.FAMILIES.values()),
        "compiled": report_compiled.compiled_table(rows.own(df), host),
        "training": report_training.index_table(
            mine, {n: f.task.title for n, f in families.FAMILIES.items() if f.task}
        ),
    }
    density = report_anchors.density_figure(t["anchors"], out_dir)
    verdicts = (
        cmp_table.assign(family=cmp_table["case"].str.split("/").str[0])
        .groupby(["family", "verdict"])
        .size()
        .rename("cases")
        .reset_index()
        if len(cmp_table)
        else cmp_table
    )
    pages_nav = (
        [("index.html", "overview")]
        + [(f"{name}.html", sec.title) for name, (sec, _) in sections.items()]
        + [("compare.html", "compare places"), ("rows.html", "all rows")]
    )
    intro = (
        f"<p>{n_read} rows from {n_files} file(s), {len(raw)} of them pooled; statuses of "
        f"those: "
        f"{html.escape(str(_counts(raw)))}. Every ratio is recomputed from raw medians of "
        f"usable rows (ok and correct); places are compared from their raw samples "
        f"(Mann-Whitney test or disjoint ranges, alpha {alpha:g}; differences under "
        f"{factor:g}x are called within factor).</p>"
    ) + _left_out(use)
    said = report_headline.headlines(rows.own(df), families.FAMILIES.values())
    t["answers"] = report_answers.table_of(raw)
    answers = (
        _section(report_answers.TITLE, t["answers"], report_answers.NOTE)
        if len(t["answers"])
        else (
            f"<h2>{html.escape(report_answers.TITLE)}</h2><p>No family's headline rows are in "
            "these results (a narrow run): see the tables below.</p>"
        )
    )
    in_words = (
        "<details><summary>What these results say, in words</summary><ul>"
        + "".join(f"<li>{html.escape(x)}</li>" for x in said)
        + "</ul></details>"
        if said
        else ""
    )
    pool_note = f"<p>{html.escape(pooled.note())}</p>" if pooled.note() else ""
    pages = {
        "index.html": _page(
            "spikebench report",
            answers
            + intro
            + pool_note
            + _section(
                "Places (machine, device, threads)",
                t["places"],
                "The runs and commits each place's figures pool.",
            )
            + in_words
            + _imgs(figs)
            + _section(report_training.INDEX_TITLE, t["training"], report_training.INDEX_NOTE)
            + _section(
                "Cross-place comparison: verdicts per family",
                verdicts,
                "Details on the compare page.",
            )
            + _section(report_anchors.TITLE, t["anchors"], report_anchors.NOTE)
            + _imgs(density)
            + _section(report_limits.TITLE, t["limits"], report_limits.NOTE)
            + _section(report_compiled.TITLE, t["compiled"], report_compiled.NOTE)
            + _section(EXPORTED, t["exported"], EXPORTED_NOTE),
            pages_nav,
        ),
        "compare.html": _page(
            "compare places",
            _left_out(use)
            + _section(
                "Every case measured in two or more places",
                t["compare"],
                "ratio = baseline median / place median (> 1: the place is faster); mem_ratio = "
                "place / baseline peak memory, only for one memory method; rows whose "
                "kernel_version or inputs_version differ are refused.",
            ),
            pages_nav,
        ),
        "rows.html": _page("all rows", _section("All rows", t["rows"]), pages_nav),
    }
    for name, (sec, fam_use) in sections.items():
        pages[f"{name}.html"] = _page(
            sec.title,
            _left_out(fam_use)
            + _imgs(sec.figures)
            + "".join(_section(a, tab, n) for a, tab, n in sec.tables),
            pages_nav,
        )
    for name, text in pages.items():
        (out_dir / name).write_text(text)
    md = [
        "# spikebench report\n",
        f"{n_read} rows from {n_files} file(s), {len(raw)} of them pooled; statuses of those: "
        f"{_md_text(_counts(raw))}\n",
        (_md_text(use.note()) + "\n") if use.left_out else "",
        f"## {report_answers.TITLE}\n",
        report_answers.NOTE + "\n",
        _md(t["answers"]),
        (_md_text(pooled.note()) + "\n") if pooled.note() else "",
        "## What these results say\n",
        "".join(f"- {_md_text(x)}\n" for x in said) or "(no headline rows)\n",
        "## Places\n",
        _md(t["places"]),
    ]
    for sec, _ in sections.values():
        for a, tab, n in sec.tables:
            md += [f"## {_md_text(a)}\n", (n + "\n") if n else "", _md(tab)]
    md += [
        f"## {report_training.INDEX_TITLE}\n",
        report_training.INDEX_NOTE + "\n",
        _md(t["training"]),
    ]
    md += [f"## {report_anchors.TITLE}\n", report_anchors.NOTE + "\n", _md(t["anchors"])]
    md += [f"## {report_limits.TITLE}\n", report_limits.NOTE + "\n", _md(t["limits"])]
    md += [f"## {report_compiled.TITLE}\n", report_compiled.NOTE + "\n", _md(t["compiled"])]
    md += [f"## {EXPORTED}\n", EXPORTED_NOTE + "\n", _md(t["exported"])]
    md += ["## Cross-place comparison\n", _md(t["compare"]), "## All rows\n", _md(t["rows"])]
    (out_dir / "summary.md").write_text("\n".join(md))
    figures = figs + density + [p for sec, _ in sections.values() for p in sec.figures]
    extra = [_site_page((n_read, n_files), t, figs, sections, pooled, out_dir)] if site else []
    return figures + [out_dir / "summary.md"] + extra + [out_dir / n for n in pages]


SITE_PAGE = "site.md"


def _site_page(read, t, figs, sections, pooled, out_dir: Path) -> Path:
    """The docs site's Results page (Markdown): the answer table, the places with the runs
    and commits they pool, the overview figure and links to the full report, which the site
    publishes under ``report/``."""
    n_read, n_files = read
    links = " · ".join(
        f"[{_md_text(sec.title)}](report/{name}.html)" for name, (sec, _) in sections.items()
    )
    figure = next((f.name for f in figs if f.suffix == ".svg"), None)
    text = [
        "# Results\n",
        f"Every results file under `results/` ({n_read} rows from {n_files} files), as the "
        "report of `spikebench report results/ --site` renders it: each family's question "
        "by place, then the places. The whole report: "
        f"[overview](report/index.html) · {links} · "
        "[compare places](report/compare.html) · [all rows](report/rows.html).\n",
        f"## {report_answers.TITLE}\n",
        report_answers.NOTE + "\n",
        _md(t["answers"]),
        (_md_text(pooled.note()) + "\n") if pooled.note() else "",
        "## Places (machine, device, threads)\n",
        "The runs and commits each place's figures pool.\n",
        _md(t["places"]),
    ]
    if figure:
        text += ["## Overview\n", f"![The overview figure](report/{figure})\n"]
    path = out_dir / SITE_PAGE
    path.write_text("\n".join(text))
    return path
