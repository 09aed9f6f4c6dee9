"""One look for every figure of the report, and a check that it reads.

- One colour per implementation, the same on every page (``COLOR``), and one marker and line
  style per framework (``MARKER``, ``DASH``): a reader learns them once.
- Ratio axes read ``4x`` (``ratio_axis``), time axes ``10 ms`` (``time_axis``): plain text
  ticks, never mathtext (the report renders with ``text.parse_math`` off, because CSV text is
  untrusted, and matplotlib's default log ticks are mathtext).
- Legends stand outside the data (``legend_outside``), short: one entry per implementation
  and one per framework, not one per line. The overview's panels colour by place instead
  (``set_places``, ``place_color``: one colour per machine x device x threads on every
  panel), mark the framework by marker and line style, and keep their legend below the plot
  (``legend_below``), so a panel spans the page's width.
- An empty panel says so (``empty``); counts take their plural (``plural``).
- ``save`` runs ``layout_problems`` on every figure before writing it: a legend over an axes'
  data area, or an axis without a label and a unit, is a bug of the report
  (tests/suite/test_report_pages.py renders the checked-in results and asserts none).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# every implementation of every family, and the anchors' code (by framework below)
COLOR = {
    # event-LIF
    "serial": "#4c72b0",
    "parallel": "#dd8452",
    "bare_scan": "#8c8c8c",
    # the PSU family
    "lif": "#4c72b0",
    "psu": "#55a868",
    "ipsu": "#c44e52",
    "rpsu": "#8172b3",
    # queues
    "heap": "#937860",
    "fifo": "#da8bc3",
    "ring": "#ccb974",
    "sorted": "#64b5cd",
    "lossy": "#2f4f4f",
}
MARKER = {
    "jax": "o",
    "torch": "s",
    "torch-compile": "D",
    "numpy": "^",
    "onnx": "v",
    "adseq": "P",
    "nest": "X",
}
DASH = {
    "jax": "-",
    "torch": "--",
    "torch-compile": "-.",
    "numpy": ":",
    "onnx": ":",
    "adseq": (0, (1, 1)),
    "nest": (0, (3, 1, 1, 1)),
}
FRAMEWORK_NAME = {
    "jax": "JAX",
    "torch": "PyTorch",
    "torch-compile": "PyTorch compiled",
    "numpy": "NumPy",
    "onnx": "ONNX Runtime",
    "adseq": "adseq (anchor)",
    "nest": "NEST (anchor)",
}
NO_DATA = "no data in these results"
# a label names its unit in parentheses, or is a ratio, a rate or an accuracy; category axes
# (designs, places) are named in CATEGORY
UNIT_HINTS = ("(", "[", " x", "x)", "%", "/s", " s", "rate", "accuracy")
CATEGORY = ("queue design", "framework and place")


def color(impl: str) -> str:
    return COLOR.get(str(impl), "#333333")


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 thread``, ``2 threads``."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def _x(v, _pos=None) -> str:
    if v <= 0 or not np.isfinite(v):
        return ""
    return f"{v:.3g}x"


def _seconds(v, _pos=None) -> str:
    if v <= 0 or not np.isfinite(v):
        return ""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if v >= scale * 0.9995:
            return f"{v / scale:.3g} {unit}"
    return f"{v:.1e} s"


def _plain(v, _pos=None) -> str:
    if v <= 0 or not np.isfinite(v):
        return ""
    return f"{v:,.0f}" if v >= 1 and float(v).is_integer() else f"{v:.3g}"


def ratio_axis(ax, axis: str = "y", one: bool = True) -> None:
    """A log ratio axis with ``0.5x 1x 2x 4x`` ticks and a line at 1x (parity)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    a = ax.yaxis if axis == "y" else ax.xaxis
    (ax.set_yscale if axis == "y" else ax.set_xscale)("log", base=2)
    a.set_major_locator(LogLocator(base=2))
    a.set_major_formatter(FuncFormatter(_x))
    a.set_minor_formatter(NullFormatter())
    if one:
        (ax.axhline if axis == "y" else ax.axvline)(1.0, color="black", lw=0.8, alpha=0.6)


def time_axis(ax, axis: str = "y") -> None:
    """A log time axis (seconds) with ``10 ms`` ticks."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    a = ax.yaxis if axis == "y" else ax.xaxis
    (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
    a.set_major_locator(LogLocator(base=10))
    a.set_major_formatter(FuncFormatter(_seconds))
    a.set_minor_formatter(NullFormatter())


def log_axis(ax, axis: str = "x", base: int = 10) -> None:
    """A log count axis (events, T, queues) with plain ``1,000`` ticks."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    a = ax.yaxis if axis == "y" else ax.xaxis
    (ax.set_yscale if axis == "y" else ax.set_xscale)("log", base=base)
    a.set_major_locator(LogLocator(base=base))
    a.set_major_formatter(FuncFormatter(_plain))
    a.set_minor_formatter(NullFormatter())


def plain_ticks(fig) -> None:
    """Any log axis still on matplotlib's mathtext tick labels gets plain ones (with
    ``text.parse_math`` off they would print as ``$\\mathdefault{10^{0}}$``)."""
    from matplotlib.ticker import FuncFormatter, LogFormatter, NullFormatter

    for ax in fig.axes:
        for a, scale in ((ax.xaxis, ax.get_xscale()), (ax.yaxis, ax.get_yscale())):
            if scale == "log" and isinstance(a.get_major_formatter(), LogFormatter):
                a.set_major_formatter(FuncFormatter(_plain))
                a.set_minor_formatter(NullFormatter())


def readable_log_ticks(fig) -> None:
    """Every base-10 log axis that spans under two decades gets ticks at 1, 2 and 5 of each
    decade (under half a decade: every integer multiple), and every ratio axis (base 2)
    under three octaves ticks at 1x and 1.5x of each (under 1.5 octaves: quarters), keeping
    its formatter: a learning curve over 40-400 ms otherwise shows one labelled tick."""
    from matplotlib.ticker import LogLocator

    for ax in fig.axes:
        for a, scale, lim in (
            (ax.xaxis, ax.get_xscale(), ax.get_xlim()),
            (ax.yaxis, ax.get_yscale(), ax.get_ylim()),
        ):
            loc = a.get_major_locator()
            if scale != "log" or not isinstance(loc, LogLocator) or loc._base not in (2, 10):
                continue
            lo, hi = sorted(lim)
            if lo <= 0 or not np.isfinite(hi):
                continue
            span = np.log(hi / lo) / np.log(loc._base)  # decades, or octaves for ratios
            if loc._base == 10 and span < 0.5:
                a.set_major_locator(LogLocator(base=10, subs=tuple(range(1, 10))))
            elif loc._base == 10 and span < 2:
                a.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            elif loc._base == 2 and span < 1.5:
                a.set_major_locator(LogLocator(base=2, subs=(1.0, 1.25, 1.5, 1.75)))
            elif loc._base == 2 and span < 3:
                a.set_major_locator(LogLocator(base=2, subs=(1.0, 1.5)))


def empty(ax, what: str = NO_DATA) -> None:
    """An axes with nothing to draw says so (and keeps no ticks to misread)."""
    # hide this axes' ticks without touching the axes it shares an axis with
    ax.tick_params(which="both", labelbottom=False, labelleft=False, bottom=False, left=False)
    ax.grid(False)
    ax.text(
        0.5,
        0.5,
        what,
        ha="center",
        va="center",
        transform=ax.transAxes,
        fontsize=11,
        color="#555555",
        wrap=True,
    )
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax._spikebench_empty = True  # layout_problems skips its labels


def handles(impls=(), frameworks=(), extra=()):
    """Short legend entries: a colour patch per implementation, a marker and line per
    framework (plus any (label, artist) in `extra`)."""
    from matplotlib.patches import Patch

    out = [(Patch(color=color(i)), str(i)) for i in dict.fromkeys(impls)]
    out += _framework_items(frameworks)
    out += list(extra)
    return [h for h, _ in out], [lab for _, lab in out]


# one colour per place (machine x device kind x threads), the same on every page of a report:
# ``set_places`` fixes the order once per report, before any figure is drawn
PLACE_PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
)
_PLACES: dict[str, str] = {}


def set_places(labels) -> None:
    """Give each place label its colour, in sorted order (every figure of a report calls
    ``place_color`` with the same labels afterwards)."""
    _PLACES.clear()
    for i, lab in enumerate(sorted(dict.fromkeys(map(str, labels)))):
        _PLACES[lab] = PLACE_PALETTE[i % len(PLACE_PALETTE)]


def place_color(place) -> str:
    """The colour of a place (a label ``set_places`` did not see gets the next one)."""
    place = str(place)
    if place not in _PLACES:
        _PLACES[place] = PLACE_PALETTE[len(_PLACES) % len(PLACE_PALETTE)]
    return _PLACES[place]


def _framework_items(frameworks) -> list:
    """(artist, label) per framework: a grey line with its marker and line style."""
    from matplotlib.lines import Line2D

    return [
        (
            Line2D([], [], color="#555555", marker=MARKER.get(f, "o"), ls=DASH.get(f, "-")),
            FRAMEWORK_NAME.get(f, f),
        )
        for f in dict.fromkeys(frameworks)
    ]


def _place_framework_items(places, frameworks, extra):
    from matplotlib.lines import Line2D

    items = [(Line2D([], [], color=place_color(p), lw=3), str(p)) for p in dict.fromkeys(places)]
    return items + _framework_items(frameworks) + list(extra)


def legend_below(ax, places=(), frameworks=(), extra=(), ncol: int = 3) -> None:
    """A short legend under the axes, in columns: a colour line per place, a grey marker and
    line style per framework, then any (artist, label) in `extra` -- one entry per place and
    per framework, never one per combination."""
    items = _place_framework_items(places, frameworks, extra)
    if not items:
        return
    ax.legend(
        [h for h, _ in items],
        [lab for _, lab in items],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.17),
        ncol=max(1, min(ncol, len(items))),
        frameon=False,
        fontsize=9,
        borderaxespad=0,
    )


def figure_legend_below(fig, places=(), frameworks=(), extra=(), ncol: int = 4) -> None:
    """``legend_below`` for a whole figure (constrained layout): one legend under every
    panel."""
    items = _place_framework_items(places, frameworks, extra)
    if items:
        fig.legend(
            [h for h, _ in items],
            [lab for _, lab in items],
            loc="outside lower center",
            ncol=max(1, min(ncol, len(items))),
            frameon=False,
            fontsize=9,
        )


def legend_outside(fig, hs, labels, title: str | None = None) -> None:
    """One figure legend to the right of every axes (saved with bbox_inches="tight")."""
    if not hs:
        return
    fig.legend(
        hs,
        labels,
        loc="upper left",
        bbox_to_anchor=(1.0, 0.98),
        frameon=False,
        title=title,
        fontsize=9,
        title_fontsize=9,
        borderaxespad=0.5,
    )


MAX_COLS = 3


def facets(data, row: str, col: str):
    """seaborn facet arguments for a row x col grid that stays readable at 1400 px: the
    grid itself while it has at most MAX_COLS columns, else one panel per (row, col) pair
    that exists, wrapped MAX_COLS to a line (many places would otherwise make dozens of
    columns, each a few pixels wide on the page). Returns (data, kwargs)."""
    if data[col].nunique() <= MAX_COLS:
        return data, {"row": row, "col": col}
    data = data.assign(_facet=data[row].astype(str) + " | " + data[col].astype(str))
    return data, {"col": "_facet", "col_wrap": MAX_COLS}


def move_legend(grid) -> None:
    """A seaborn grid's legend below the figure, in columns (it can then never cover a panel,
    whatever the labels' widths, and the panels keep the page's width), after a tight layout
    of the panels."""
    import textwrap

    import seaborn as sns

    for ax in grid.axes.flat:  # long panel titles (a place's label) wrap, never overlap
        if len(ax.get_title()) > 48:
            ax.set_title(textwrap.fill(ax.get_title(), 48), fontsize=9)
    grid.figure.tight_layout()  # the whole width for the panels (no space kept at the right)
    if grid.legend is not None:
        n = len(grid.legend.legend_handles)
        sns.move_legend(
            grid,
            "upper center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=max(1, min(6, n)),
            frameon=False,
        )


def layout_problems(fig) -> list[str]:
    """What makes a figure hard to read: a legend that overlaps an axes' data area, an axis
    with data but no label, a label without a unit hint, tick labels that are mathtext."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    out = []
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    boxes = [
        (ax, ax.get_window_extent(renderer))
        for ax in fig.axes
        if ax.get_visible() and ax.axison and not getattr(ax, "_spikebench_empty", False)
    ]
    for leg in legends:
        lb = leg.get_window_extent(renderer)
        for ax, ab in boxes:
            if (
                lb.overlaps(ab)
                and lb.intersection(lb, ab).width * lb.intersection(lb, ab).height > 4
            ):
                out.append(f"legend over the data of '{ax.get_title() or ax.get_ylabel()}'")
    # small multiples label the outer axes only: a row's y label, a column's x label
    rows_labelled = {round(b.y0) for ax, b in boxes if ax.get_ylabel()}
    cols_labelled = {round(b.x0) for ax, b in boxes if ax.get_xlabel()}
    for ax, box in boxes:
        has_data = bool(ax.lines or ax.collections or ax.patches or ax.containers)
        if not has_data:
            continue
        name = ax.get_title() or "an axes"
        for which, label in (("x", ax.get_xlabel()), ("y", ax.get_ylabel())):
            ticks = ax.get_xticklabels() if which == "x" else ax.get_yticklabels()
            shared = (
                (round(box.x0) in cols_labelled)
                if which == "x"
                else (round(box.y0) in rows_labelled)
            )
            if not label and not shared and any(t.get_text() for t in ticks):
                out.append(f"{which} axis of '{name}' has no label")
            elif label and label not in CATEGORY and not any(h in label for h in UNIT_HINTS):
                out.append(f"{which} axis label '{label}' of '{name}' names no unit")
            if any("mathdefault" in t.get_text() for t in ticks):
                out.append(f"{which} ticks of '{name}' are raw mathtext")
    return out


PROBLEMS: list[str] = []  # every figure's problems since the last reset (tests read them)


def save(fig, out_dir: Path, stem: str) -> list[Path]:
    """Plain ticks, the layout check (``PROBLEMS``), then PNG + SVG with the legend inside
    the saved area."""
    import matplotlib.pyplot as plt

    plain_ticks(fig)
    fig.canvas.draw()  # the final limits, after any layout engine
    readable_log_ticks(fig)
    paths = [Path(out_dir) / f"{stem}.png", Path(out_dir) / f"{stem}.svg"]
    for p in paths:
        fig.savefig(p, dpi=100, bbox_inches="tight")
    # checked as saved (a layout engine may move a figure legend while saving)
    PROBLEMS.extend(f"{stem}: {p}" for p in layout_problems(fig))
    plt.close(fig)
    return paths
