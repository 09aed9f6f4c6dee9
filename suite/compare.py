"""Cross-hardware comparison: the same case measured in different places, compared from the raw
samples (never from a stored ratio).

A *case* here is what was computed — family, impl, framework, mode, dtype, dataset and every
size / knob column — and a *place* is where: machine_id, device kind and name, and threads.
For every case measured in two or more places, each place is compared with the baseline place
(the first in sorted order, or the one asked for):

    ratio = median(baseline samples) / median(place samples)      (> 1: the place is faster)

over the pooled raw samples of all of that place's `ok` rows. The difference counts as real
when the two sample sets do not overlap at all (every sample of one below every sample of the
other), or when they overlap but a two-sided Mann-Whitney U test gives p < alpha; otherwise the
verdict is ``not significant``. (The first rule is there because the harness keeps as few as 3
rounds of a slow case, and 3 against 3 samples can never reach p < 0.01: the smallest two-sided
p is 0.1.) A real difference is ``within <factor>x`` when max(ratio, 1 / ratio) < factor (default
1.1), and ``faster`` / ``slower`` beyond that. Only usable rows count (``results.usable``: ok
and correct). Rows whose code differs -- the timed kernel's (``kernel_version``) or the
adapter's that built the inputs and checked them (``inputs_version``) -- are not compared
("refused") unless ``across_versions`` asks for it (a before/after comparison of a change,
where the difference is the point; the ``versions`` column then says they differ); peak memory
is compared only between rows with the same ``mem_method``.
"""

from __future__ import annotations

import numpy as np

from . import results

CASE = ["family", "impl", "framework", "mode", "dtype", "dataset", *results.PARAM_COLUMNS]
PLACE = ["machine_id", "device_kind", "device_name", "threads"]
MIN_SAMPLES = 3


def samples(rows) -> np.ndarray:
    """The pooled raw samples (seconds) of some result rows."""
    out = [np.array(str(s).split(), dtype=float) for s in rows["samples_s"].dropna()]
    return np.concatenate(out) if out else np.zeros(0)


def ratio_test(base: np.ndarray, other: np.ndarray, factor: float = 1.1,
               alpha: float = 0.01) -> dict:
    """median(base) / median(other), the Mann-Whitney p value and the verdict (module doc)."""
    from scipy.stats import mannwhitneyu

    if factor < 1:
        raise ValueError(f"factor must be >= 1, got {factor}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if len(base) < MIN_SAMPLES or len(other) < MIN_SAMPLES:
        return {"ratio": np.nan, "p_value": np.nan, "verdict": "too few samples"}
    ratio = float(np.median(base) / np.median(other))
    p = float(mannwhitneyu(base, other, alternative="two-sided").pvalue)
    disjoint = base.max() < other.min() or other.max() < base.min()
    if not disjoint and p >= alpha:
        verdict = "not significant"
    elif max(ratio, 1 / ratio) < factor:
        verdict = f"within {factor:g}x"
    else:
        verdict = "faster" if ratio > 1 else "slower"
    return {"ratio": ratio, "p_value": p, "verdict": verdict}


def _place_label(key) -> str:
    machine, kind, name, threads = key
    name = "" if not isinstance(name, str) else f" {name}"
    thr = "" if threads is None or (isinstance(threads, float) and np.isnan(threads)) \
        else f", {int(float(threads))} threads"
    return f"{machine} {kind}{name}{thr}"


def _case_label(key) -> str:
    fam, impl, fw, mode, dtype, ds, *params = key
    sizes = ",".join(f"{c[6:]}={_num(v)}" for c, v in zip(results.PARAM_COLUMNS, params,
                                                         strict=True) if _present(v))
    return f"{fam}/{impl}/{fw}/{mode}/{dtype}/{ds}[{sizes}]"


def _median(x: np.ndarray) -> float:
    return float(np.median(x)) if len(x) else np.nan


def _present(v) -> bool:
    return not (v is None or (isinstance(v, float) and np.isnan(v)) or v == "")


def _num(v):
    try:
        f = float(v)
        return int(f) if f.is_integer() else f
    except (TypeError, ValueError):
        return v


VERSIONS = ("kernel_version", "inputs_version")


def _differ(a, b) -> list[str]:
    """The version columns in which two row sets differ (a missing value is unknown and, next
    to a known one, counts as different)."""
    out = []
    for col in VERSIONS:
        if col not in a or col not in b:
            continue
        va, vb = set(a[col].dropna()), set(b[col].dropna())
        known = va | vb
        if len(known) > 1 or (known and (a[col].isna().any() or b[col].isna().any())):
            out.append(col)
    return out


def compare(df, baseline: str | None = None, factor: float = 1.1, alpha: float = 0.01,
            across_versions: bool = False):
    """One row per (case, place other than the baseline): see the module docstring.
    `baseline` picks the baseline place by a prefix of its label (e.g. a machine_id)."""
    import pandas as pd

    ok = results.usable(df).rows
    ok = ok.copy() if ok is not None else df.iloc[:0].copy()
    for col in CASE + PLACE:
        if col not in ok:
            ok[col] = np.nan
    ok[CASE + PLACE] = ok[CASE + PLACE].astype(object).where(ok[CASE + PLACE].notna(), None)
    out = []
    for ckey, g in ok.groupby(CASE, dropna=False, sort=True):
        places = {pkey: rows for pkey, rows in g.groupby(PLACE, dropna=False, sort=True)}
        if len(places) < 2:
            continue
        labels = {k: _place_label(k) for k in places}
        base = next(iter(places))
        if baseline is not None:
            match = [k for k in places if labels[k].startswith(baseline)]
            if not match:
                continue
            base = match[0]
        b_rows = places[base]
        raw = {k: samples(rows) for k, rows in places.items()}  # parsed once per place
        for pkey, rows in places.items():
            if pkey == base:
                continue
            row = {"case": _case_label(ckey), "baseline": labels[base], "place": labels[pkey],
                   "median_baseline_s": _median(raw[base]),
                   "median_place_s": _median(raw[pkey])}
            differ = _differ(b_rows, rows)
            row["versions"] = ("same" if not differ else
                               " and ".join(differ) + " differ")
            if differ and not across_versions:
                row.update(ratio=np.nan, p_value=np.nan,
                           verdict=f"refused: {' and '.join(differ)} differs", mem_ratio=np.nan)
                out.append(row)
                continue
            row.update(ratio_test(raw[base], raw[pkey], factor, alpha))
            both = pd.concat([b_rows, rows])
            mem_b, mem_p = (r["peak_mem_bytes"].astype(float).median() for r in (b_rows, rows))
            row["mem_ratio"] = (mem_p / mem_b if results.one_mem_method(both) and mem_b > 0
                                else np.nan)
            out.append(row)
    cols = ["case", "baseline", "place", "median_baseline_s", "median_place_s", "ratio",
            "p_value", "verdict", "mem_ratio", "versions"]
    return pd.DataFrame(out, columns=cols)
