"""The report's answers: each family's question in one sentence, with its number, its place
and its spread, from usable rows (``results.usable``) only. Each family's sentences come from
its own report module (``Family.headline``); the ones that span families -- anchors, memory,
training -- and the helpers every sentence uses are here.

- Event-LIF (Bullet Trains): how much faster is the parallel simulator than the serial one on
  the same inputs? At the Bullet Trains configuration (SHD-shaped input, the deepest network
  swept, K = 128 where it was run), at the best chunk size, and the worst configuration
  beside them (a speedup is never reported without the case where parallel loses most).
- PSU family: LIF time / unit time at T = 15 on the SHD-shaped network, inference and training
  step (> 1: the unit is faster than the serial loop).
- Queues (EventQueues): the fastest design per place at 10,000 queues, and by how much.
- Anchors: our time over the field's own code on the same case (NEST, adseq).
- Training: time to the target accuracy (the fastest run per task and place).
- Memory: one figure per family from the kernel's own memory of one call (``mem_method``;
  figures of different methods are never set side by side) and the state it carries: the
  dense ring against the FIFO at 10,000 queues, the serial event-LIF simulator at its most
  input events, a PSU unit against LIF at the longest T.

A ratio's spread comes from the raw samples: median(a) / median(b), between
q25(a) / q75(b) and q75(a) / q25(b) (the interquartile ranges of both sides).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import results, rows
from ..compare import samples
from .style import FRAMEWORK_NAME


def ratio_spread(num, den) -> tuple[float, float, float]:
    """median(num) / median(den) and its interquartile span (module doc) from raw samples."""
    a, b = samples(num), samples(den)
    if not len(a) or not len(b):
        return np.nan, np.nan, np.nan
    qa, qb = np.percentile(a, [25, 50, 75]), np.percentile(b, [25, 50, 75])
    return float(qa[1] / qb[1]), float(qa[0] / qb[2]), float(qa[2] / qb[0])


def x_text(r: float) -> str:
    return f"{r:.3g}x" if np.isfinite(r) else "?"


def spread_text(r, lo, hi) -> str:
    return f"{x_text(r)} (IQR {lo:.3g}-{hi:.3g}x)" if np.isfinite(lo) else x_text(r)


def fw_name(name: str) -> str:
    return FRAMEWORK_NAME.get(name, name)


def num_text(v) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f"{int(f):,}" if f.is_integer() else f"{f:g}"


def usable_rows(df):
    ok = results.usable(df).rows
    if ok is None or ok.empty:
        return pd.DataFrame()
    ok = ok.copy()
    for c in results.PARAM_COLUMNS:
        if c in ok and c not in results.TEXT_PARAMS:
            ok[c] = pd.to_numeric(ok[c], errors="coerce")
    return ok


def same_rows(frame, ref, cols):
    return frame[rows.same(frame, ref, cols)]


def anchors(df, host_params=None) -> list[str]:
    from .anchors import anchor_table

    t = anchor_table(df, host_params)
    if t.empty:
        return []
    out = []
    for (fam, anchor), g in t.groupby(["family", "anchor"], sort=True):
        for fw in ("jax", "torch"):
            col = f"{fw}_over_anchor"
            if col not in g:
                continue
            r = pd.to_numeric(g[col], errors="coerce").dropna()
            if r.empty:
                continue
            out.append(
                f"Anchor {anchor} ({fam}): our {fw_name(fw)} time / {anchor}'s on the same "
                f"cases is {x_text(float(r.median()))} at the median (from {x_text(r.min())} "
                f"to {x_text(r.max())}, {len(r)} case{'s' if len(r) != 1 else ''}; < 1: "
                f"ours is faster)."
            )
            if anchor == "nest":
                out += _density(g, col, fw)
    return out


def _density(g, col, fw) -> list[str]:
    """NEST's ratio per configuration across input density (only the rate differs): the
    range, sparse to dense."""
    from .anchors import DENSITY_KEYS, density_label

    out = []
    g = g.assign(r=pd.to_numeric(g[col], errors="coerce")).dropna(subset=["r", "rate_hz"])
    for keys, h in g.groupby(DENSITY_KEYS):
        by_rate = h.groupby("rate_hz")["r"].median().sort_index()
        if len(by_rate) < 2:
            continue
        parts = ", ".join(f"{x_text(v)} at {k:,.0f}" for k, v in by_rate.items())
        out.append(
            f"NEST across input density ({density_label(*keys)}), {fw_name(fw)}: our "
            f"time / NEST's is {parts} input events per simulated second (from "
            f"{x_text(by_rate.min())} to {x_text(by_rate.max())})."
        )
    return out


def mib(b) -> str:
    return f"{float(b) / 2**20:.3g} MiB"


def memory_rows(df):
    """The usable rows with a kernel memory figure, training rows left out (the rows every
    family's memory sentence reads)."""
    ok = usable_rows(df)
    if ok.empty or "state_bytes" not in ok:
        return ok.iloc[:0]
    return ok[ok["peak_mem_bytes"].notna() & (ok["mode"] != "train")]


def training(df, tasks: dict[str, str] | None = None) -> list[str]:
    """The fastest run to its target per task (`tasks`: family -> its task's title) and
    place."""
    from .training import index_table

    t = index_table(df, tasks or {})
    if t.empty:
        return []
    out = []
    for (task, place), g in t.groupby(["task", "place"], sort=True):
        hit = g.dropna(subset=["time to target (s)"])
        if hit.empty:
            out.append(
                f"Training, {task} on {place}: no run reached its target "
                f"({num_text(g['target'].iloc[0])})."
            )
            continue
        r = hit.loc[hit["time to target (s)"].astype(float).idxmin()]
        out.append(
            f"Training, {task} on {place}: {r['impl']} in {fw_name(r['framework'])} "
            f"reached {num_text(r['target'])} test accuracy first, in "
            f"{float(r['time to target (s)']):.3g} s ({num_text(r['epochs to target'])} "
            f"epochs; {len(hit)} of {len(g)} run{'s' if len(g) != 1 else ''} reached "
            f"it)."
        )
    return out


def headlines(df, fams=()) -> list[str]:
    """Every family's sentences (module doc), in the report's order: each of `fams` (family
    adapters, ``Family.headline``), then the anchors, memory and training."""
    out: list[str] = []
    fams = list(fams)
    for fam in fams:
        out += fam.headline(df)
    tasks = {f.name: f.task.title for f in fams if f.task is not None}
    host = {f.name: f.host_params for f in fams}
    out += anchors(df, host)
    for fam in fams:
        out += fam.memory_headline(df)
    return out + training(df, tasks)
