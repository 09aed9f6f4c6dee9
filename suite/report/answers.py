"""The answer table: each family's question in one row, each place (machine x device kind x
threads) in one column, each cell the figure with its spread -- the first thing the report's
index and ``spikebench compare`` show.

Rows (each family adds its own through ``Family.answers``; the ones that span families are
here):

- Event LIF: parallel speedup over serial at the Bullet Trains configuration (serial median /
  parallel median; spread from both interquartile ranges), per framework;
- PSU family: LIF time / the fastest unit's time at T = 15 on the SHD-shaped network, inference
  and training step, per framework (the unit named in the cell);
- queues: the fastest design at 10,000 queues in microseconds a step, and its margin over the
  runner-up;
- anchors and peers: ours / anchor time and peer / ours time, the median over the cases both
  ran (spread: the range over those cases);
- training: time to the target accuracy per task (the fastest run; spread: its epochs' range
  is not a sample spread, so none).

A cell reads ``value (lo-hi)`` and carries a mark: ``few`` where a side of it rests on fewer
than ``FEW`` timing samples, ``noisy`` where a side's IQR exceeds ``NOISY`` of its median.
Each row ends with a sentence on what changed between the places (highest, lowest, their
ratio). Figures are computed per place from that place's pooled rows only
(``results.pool``), so the cells equal what one recomputes from the raw samples of the rows
listed for that column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import rows
from ..compare import samples

FEW = 5  # fewer timing samples than this on a side of a figure: marked "few"
NOISY = 0.10  # IQR / median above this on a side of a figure: marked "noisy"


@dataclass(frozen=True)
class Answer:
    """One cell: the answer to `question` in one place. `lo`/`hi` bound the spread (NaN where
    there is none); `unit` is "x" for a ratio, else a unit name; `detail` names what the
    figure is of where the row leaves it open (the fastest design, the configuration);
    `sides` are the row sets the figure was computed from (for the few / noisy marks)."""

    question: str
    value: float
    lo: float = np.nan
    hi: float = np.nan
    unit: str = "x"
    detail: str = ""
    sides: tuple = field(default=(), compare=False, repr=False)

    def marks(self) -> list[str]:
        """ "few" and / or "noisy" (module doc), in that order."""
        few = noisy = False
        for side in self.sides:
            s = samples(side)
            few |= len(s) < FEW
            if len(s) >= 2:
                q1, q2, q3 = np.percentile(s, [25, 50, 75])
                noisy |= bool(q2 > 0 and (q3 - q1) / q2 > NOISY)
        return [m for m, on in (("few", few), ("noisy", noisy)) if on]


def ratio_answer(question: str, num, den, detail: str = "") -> Answer:
    """median(num samples) / median(den samples), spread from both IQRs
    (``headline.ratio_spread``)."""
    from .headline import ratio_spread

    r, lo, hi = ratio_spread(num, den)
    return Answer(question, r, lo, hi, "x", detail, (num, den))


def value_text(a: Answer) -> str:
    if not np.isfinite(a.value):
        return "?"
    v = f"{a.value:.3g}{'x' if a.unit == 'x' else ' ' + a.unit}"
    if np.isfinite(a.lo) and np.isfinite(a.hi):
        v += f" ({a.lo:.3g}-{a.hi:.3g})"
    return v


def cell_text(a: Answer) -> str:
    """``value (lo-hi)``, then the detail and the marks: what a cell shows."""
    extra = [a.detail] if a.detail else []
    extra += a.marks()
    return value_text(a) + (f" [{'; '.join(extra)}]" if extra else "")


def over_cases(question: str, ratios) -> Answer:
    """The median of per-case ratios, their range as the spread, the number of cases."""
    n = len(ratios)
    return Answer(
        question,
        float(ratios.median()),
        float(ratios.min()),
        float(ratios.max()),
        detail=f"{n} case{'s' if n != 1 else ''}",
    )


def anchor_answers(df, host_params=None) -> list[Answer]:
    """Ours / each anchor, per framework of ours: the median over the anchor's cases (spread:
    their range)."""
    from .anchors import anchor_table
    from .headline import fw_name

    t = anchor_table(df, host_params)
    out: list[Answer] = []
    if t.empty:
        return out
    for (fam, anchor), g in t.groupby(["family", "anchor"], sort=True):
        for fw in ("jax", "torch", "torch-compile"):
            col = f"{fw}_over_anchor"
            r = pd.to_numeric(g[col], errors="coerce").dropna() if col in g else pd.Series()
            if r.empty:
                continue
            out.append(
                over_cases(
                    f"Ours ({fw_name(fw)}) / {anchor} time, {fam} (median over cases; range)", r
                )
            )
    return out


def peer_answers(df, host_params=None) -> list[Answer]:
    """Each peer library / ours on the same cases: the median over its cases (range)."""
    from .peers import peer_table

    t = peer_table(df, host_params)
    out: list[Answer] = []
    if t.empty or "peer_over_ours" not in t:
        return out
    for (fam, peer), g in t.groupby(["family", "peer"], sort=True):
        r = pd.to_numeric(g["peer_over_ours"], errors="coerce").dropna()
        if r.empty:
            continue
        out.append(over_cases(f"{peer} / ours time, {fam} (median over cases; range)", r))
    return out


def training_answers(df, tasks: dict[str, str]) -> list[Answer]:
    """The fastest run to its target per task: seconds (the run named)."""
    from .headline import fw_name
    from .training import index_table

    t = index_table(df, tasks)
    out: list[Answer] = []
    if t.empty:
        return out
    for task, g in t.groupby("task", sort=True):
        hit = g.dropna(subset=["time to target (s)"])
        q = f"Time to target accuracy, {task} (fastest run)"
        if hit.empty:
            out.append(Answer(q, np.nan, unit="s", detail="not reached"))
            continue
        r = hit.loc[hit["time to target (s)"].astype(float).idxmin()]
        out.append(
            Answer(
                q,
                float(r["time to target (s)"]),
                unit="s",
                detail=f"{r['impl']} in {fw_name(r['framework'])}",
            )
        )
    return out


def place_answers(df, fams) -> list[Answer]:
    """Every answer for the rows of one place."""
    own = rows.own(df)
    fams = list(fams)
    out: list[Answer] = []
    for fam in fams:
        out += fam.answers(own)
    host = {f.name: f.host_params for f in fams}
    out += anchor_answers(df, host)
    out += peer_answers(df, host)
    out += training_answers(own, {f.name: f.task.title for f in fams if f.task is not None})
    return out


def answers_by_place(df, fams) -> dict[str, list[Answer]]:
    """``place_answers`` of each place of `df` (``rows.places`` labels), in label order. Each
    place's rows have their device kind set to the place label (the families' answers name
    the place they group by)."""
    if df is None or not len(df):
        return {}
    labels = rows.places(df)
    out = {}
    for place in sorted(labels.unique()):
        part = df[labels == place].assign(device_kind=place)
        out[place] = place_answers(part, fams)
    return out


def changed_text(cells: dict[str, Answer]) -> str:
    """What changed between the places of one row: how far apart its highest and lowest
    figures are and where they are ('' with fewer than two figures); the figures themselves
    are in the cells."""
    vals = {p: a.value for p, a in cells.items() if np.isfinite(a.value)}
    if len(vals) < 2:
        return ""
    hi = max(vals, key=lambda p: vals[p])
    lo = min(vals, key=lambda p: vals[p])
    if vals[lo] <= 0:
        return f"highest: {hi}; lowest: {lo}"
    same_detail = len({cells[p].detail for p in vals}) == 1
    tail = "" if same_detail else "; not the same configuration (brackets)"
    return f"{vals[hi] / vals[lo]:.3g}x apart; highest: {hi}; lowest: {lo}{tail}"


def answer_table(by_place: dict[str, list[Answer]]) -> pd.DataFrame:
    """Questions x places: a row per question (in the order of the place with the most
    answers, then as first met), a column per place,
    each cell ``cell_text``; a last column "between places" (``changed_text``)."""
    order: list[str] = []
    cells: dict[str, dict[str, Answer]] = {}
    # the rows in the order of the place that answers most (families first, then the rest)
    for place in sorted(by_place, key=lambda p: -len(by_place[p])):
        for a in by_place[place]:
            if a.question not in cells:
                order.append(a.question)
                cells[a.question] = {}
            cells[a.question][place] = a
    places = list(by_place)
    out = []
    for q in order:
        row = {"question": q}
        for p in places:
            got = cells[q].get(p)
            row[p] = cell_text(got) if got is not None else "-"
        if len(places) > 1:
            row["between places"] = changed_text(cells[q])
        out.append(row)
    cols = ["question", *places] + (["between places"] if len(places) > 1 else [])
    return pd.DataFrame(out, columns=cols)


TITLE = "Answers: each family's question, by place"
NOTE = (
    "Each cell: the figure, its spread in parentheses (a ratio of medians: from both sides' "
    "interquartile ranges; a median over cases: their range), then in brackets what it is "
    "of and a mark where a side rests on fewer than 5 timing samples (few) or has an IQR "
    "above 10 % of its median (noisy). Columns: the places, each from its pooled runs "
    "(listed under Places)."
)


def table_of(rows) -> pd.DataFrame:
    """The answer table of some (pooled) result rows, every registered family answering:
    what the report's index and ``spikebench compare`` show."""
    from .. import families

    return answer_table(answers_by_place(rows, families.FAMILIES.values()))
