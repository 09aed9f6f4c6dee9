"""The report's answers: each family's question in one sentence, with its number, its place
and its spread, from usable rows (``results.usable``) only.

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


def _x(r: float) -> str:
    return f"{r:.3g}x" if np.isfinite(r) else "?"


def _spread_text(r, lo, hi) -> str:
    return f"{_x(r)} (IQR {lo:.3g}-{hi:.3g}x)" if np.isfinite(lo) else _x(r)


def _fw(name: str) -> str:
    return FRAMEWORK_NAME.get(name, name)


def _num(v) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f"{int(f):,}" if f.is_integer() else f"{f:g}"


def _usable(df):
    ok = results.usable(df).rows
    if ok is None or ok.empty:
        return pd.DataFrame()
    ok = ok.copy()
    for c in results.PARAM_COLUMNS:
        if c in ok and c not in results.TEXT_PARAMS:
            ok[c] = pd.to_numeric(ok[c], errors="coerce")
    return ok


def _same(frame, ref, cols):
    return frame[rows.same(frame, ref, cols)]


def event_lif(df) -> list[str]:
    ok = _usable(df)
    if ok.empty:
        return []
    ok = ok[(ok["family"] == "event_lif") & (ok["mode"] == "forward")]
    cfg = ["dtype", "dataset", "param_n_events", "param_n_neurons", "param_batch",
           "param_n_layers", "param_n_inputs"]
    out = []
    for (place, fw), g in ok.groupby(["device_kind", "framework"], sort=True):
        ser, par = g[g["impl"] == "serial"], g[g["impl"] == "parallel"]
        pairs = []
        for _, p in par.iterrows():
            s = _same(ser, p, cfg)
            if len(s):
                pr = _same(par, p, cfg + ["param_chunk_size"])
                pairs.append((p, s, pr, *ratio_spread(s, pr)))
        if not pairs:
            continue
        best = max(pairs, key=lambda t: t[3])
        worst = min(pairs, key=lambda t: t[3])
        shd = [t for t in pairs if "shd" in str(t[0]["dataset"])]
        bt = None
        if shd:
            deep = max(t[0]["param_n_layers"] if pd.notna(t[0]["param_n_layers"]) else 1
                       for t in shd)
            shd = [t for t in shd if (t[0]["param_n_layers"] if pd.notna(
                t[0]["param_n_layers"]) else 1) == deep]
            k128 = [t for t in shd if t[0]["param_chunk_size"] == 128]
            bt = max(k128 or shd, key=lambda t: (t[0]["param_n_events"], t[3]))

        def conf(t):
            p = t[0]
            layers = int(p["param_n_layers"]) if pd.notna(p["param_n_layers"]) else 1
            return (f"{_num(p['param_n_events'])} events on {p['dataset']}, {layers}x"
                    f"{_num(p['param_n_neurons'])} neurons, batch {_num(p['param_batch'])}, "
                    f"K = {_num(p['param_chunk_size'])}")

        head = f"Event-LIF, {_fw(fw)} on {place}: the parallel simulator runs "
        parts = []
        if bt is not None:
            parts.append(f"{_spread_text(*bt[3:])} the serial one's speed at the Bullet "
                         f"Trains configuration ({conf(bt)})")
        parts.append(f"{_spread_text(*best[3:])} at its best ({conf(best)})")
        parts.append(f"{_spread_text(*worst[3:])} at its worst ({conf(worst)}), over "
                     f"{len(pairs)} configuration{'s' if len(pairs) != 1 else ''}")
        out.append(head + "; ".join(parts) + ".")
    return out


def psu(df) -> list[str]:
    ok = _usable(df)
    if ok.empty:
        return []
    ok = ok[(ok["family"] == "psu") & (ok["mode"].isin(["forward", "grad"]))
            & ok["param_n_inputs"].notna() & (ok["param_T"] == 15)]
    cfg = ["dtype", "mode", "param_n_neurons", "param_batch", "param_n_layers",
           "param_n_inputs", "param_T", "dataset"]
    out = []
    for (place, fw), g in ok.groupby(["device_kind", "framework"], sort=True):
        lif = g[g["impl"] == "lif"]
        modes = []
        for mode, what in (("forward", "inference"), ("grad", "training step")):
            items = []
            for impl in ("psu", "ipsu", "rpsu"):
                u = g[(g["impl"] == impl) & (g["mode"] == mode)]
                if u.empty:
                    continue
                ref = u.iloc[0]
                lr = _same(lif, ref, cfg)
                if lr.empty:
                    continue
                spread = ratio_spread(lr, _same(u, ref, cfg))
                items.append(f"{impl.upper()} {_spread_text(*spread)}")
            if items:
                modes.append(f"{what} " + ", ".join(items))
        if modes:
            ref = g.iloc[0]
            out.append(f"PSU family, {_fw(fw)} on {place}: LIF time / unit time at T = 15 on "
                       f"the SHD-shaped network ({_num(ref['param_n_inputs'])} inputs, "
                       f"{_num(ref['param_n_layers'])}x{_num(ref['param_n_neurons'])}, batch "
                       f"{_num(ref['param_batch'])}; > 1: the unit is faster): "
                       + "; ".join(modes) + ".")
    return out


def queues(df) -> list[str]:
    ok = _usable(df)
    if ok.empty:
        return []
    ok = ok[(ok["family"] == "queues") & (ok["mode"] == "forward")
            & (ok["param_n_queues"] == 10_000)]
    out = []
    cfg = ["param_capacity", "param_delay", "param_interval", "param_T", "dtype"]
    for place, g in ok.groupby("device_kind", sort=True):
        # the configuration with the most designs and frameworks measured
        best_cfg = g.groupby(cfg, dropna=False).size().idxmax()
        sel = g
        for c, v in zip(cfg, best_cfg, strict=True):
            sel = sel[sel[c] == v]
        med = sel.groupby(["impl", "framework"])["time_median_s"].median().sort_values()
        if med.empty:
            continue
        (impl, fw), t = med.index[0], float(med.iloc[0])
        us = 1e6 * t / float(best_cfg[3])
        who = f"{impl} in {_fw(fw)}"
        tail = ""
        if len(med) > 1:
            (i2, f2) = med.index[1]
            r, lo, hi = ratio_spread(sel[(sel["impl"] == i2) & (sel["framework"] == f2)],
                                     sel[(sel["impl"] == impl) & (sel["framework"] == fw)])
            tail = (f"; the runner-up, {i2} in {_fw(f2)}, takes {_spread_text(r, lo, hi)} "
                    f"its time, over {len(med)} design/framework pairs")
        out.append(f"Queues on {place}: at 10,000 queues (capacity {_num(best_cfg[0])}, delay "
                   f"{_num(best_cfg[1])}, interval {_num(best_cfg[2])} steps) the fastest "
                   f"design is {who}, {us:.3g} us a step{tail}.")
    return out


def anchors(df) -> list[str]:
    from .anchors import anchor_table

    t = anchor_table(df)
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
            out.append(f"Anchor {anchor} ({fam}): our {_fw(fw)} time / {anchor}'s on the same "
                       f"cases is {_x(float(r.median()))} at the median (from {_x(r.min())} "
                       f"to {_x(r.max())}, {len(r)} case{'s' if len(r) != 1 else ''}; < 1: "
                       f"ours is faster).")
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
        parts = ", ".join(f"{_x(v)} at {k:,.0f}" for k, v in by_rate.items())
        out.append(f"NEST across input density ({density_label(*keys)}), {_fw(fw)}: our "
                   f"time / NEST's is {parts} input events per simulated second (from "
                   f"{_x(by_rate.min())} to {_x(by_rate.max())}).")
    return out


def _mib(b) -> str:
    return f"{float(b) / 2**20:.3g} MiB"


def memory(df) -> list[str]:
    """One memory sentence per family and framework (module doc)."""
    ok = _usable(df)
    if ok.empty or "state_bytes" not in ok:
        return []
    ok = ok[ok["peak_mem_bytes"].notna() & (ok["mode"] != "train")]
    out = []
    q = ok[(ok["family"] == "queues") & (ok["param_n_queues"] == 10_000)
           & ok["param_delay"].notna()]
    for (fw, method), g in q.groupby(["framework", "mem_method"], sort=True):
        g = g.groupby("impl")[["peak_mem_bytes", "state_bytes"]].median()
        if {"ring", "fifo"} <= set(g.index):
            r, f = g.loc["ring"], g.loc["fifo"]
            out.append(f"Memory, queues, {_fw(fw)}: at 10,000 queues the dense ring needs "
                       f"{_mib(r['peak_mem_bytes'])} a call ({_mib(r['state_bytes'])} of "
                       f"state), the FIFO {_mib(f['peak_mem_bytes'])} "
                       f"({_mib(f['state_bytes'])}): "
                       f"{_x(r['peak_mem_bytes'] / f['peak_mem_bytes'])} ({method}).")
    e = ok[(ok["family"] == "event_lif") & (ok["impl"] == "serial")
           & (ok["param_n_layers"].fillna(1) == 1)]
    for (fw, method), g in e.groupby(["framework", "mem_method"], sort=True):
        top = g[g["param_n_events"] == g["param_n_events"].max()]
        r = top.loc[top["peak_mem_bytes"].idxmax()]
        out.append(f"Memory, event LIF, {_fw(fw)}: the serial simulator at "
                   f"{_num(r['param_n_events'])} input events ({_num(r['param_batch'])} x "
                   f"{_num(r['param_n_neurons'])} lanes, {r['dtype']}) needs "
                   f"{_mib(r['peak_mem_bytes'])} a call, {_mib(r['state_bytes'])} of it "
                   f"carried state ({method}).")
    p = ok[(ok["family"] == "psu") & (ok["param_n_layers"].fillna(1) == 1)
           & (ok["mode"] == "forward")]
    for (fw, method), g in p.groupby(["framework", "mem_method"], sort=True):
        g = g[g["param_T"] == g["param_T"].max()]
        by = g.groupby("impl")["peak_mem_bytes"].median()
        if "lif" in by and "psu" in by:
            out.append(f"Memory, PSU family, {_fw(fw)}: at T = {_num(g['param_T'].iloc[0])} "
                       f"PSU needs {_mib(by['psu'])} a call against LIF's {_mib(by['lif'])} "
                       f"({_x(by['psu'] / by['lif'])}; the T x T matrices; {method}).")
    return out


def training(df) -> list[str]:
    from .training import index_table

    t = index_table(df)
    if t.empty:
        return []
    out = []
    t = t.assign(place=t["place"].map(lambda p: " @ ".join(str(p).split(" @ ")[:2])))
    for (task, place), g in t.groupby(["task", "place"], sort=True):
        hit = g.dropna(subset=["time to target (s)"])
        if hit.empty:
            out.append(f"Training, {task} on {place}: no run reached its target "
                       f"({_num(g['target'].iloc[0])}).")
            continue
        r = hit.loc[hit["time to target (s)"].astype(float).idxmin()]
        out.append(f"Training, {task} on {place}: {r['impl']} in {_fw(r['framework'])} "
                   f"reached {_num(r['target'])} test accuracy first, in "
                   f"{float(r['time to target (s)']):.3g} s ({_num(r['epochs to target'])} "
                   f"epochs; {len(hit)} of {len(g)} run{'s' if len(g) != 1 else ''} reached "
                   f"it).")
    return out


def headlines(df) -> list[str]:
    """Every family's sentences (module doc), in the report's order."""
    out: list[str] = []
    for part in (event_lif, psu, queues, anchors, memory, training):
        out += part(df)
    return out
