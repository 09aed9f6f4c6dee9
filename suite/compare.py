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
and correct). Only rows that ran the same kernel code on the same inputs are compared
(``kernel_version`` and ``inputs_version``, digests of what ran: ``versions.py``): where a
place holds rows of several runs, the pair of versions both places share is taken, the one of
the other place's latest row (``same_versions``); a case whose places share none is not
compared ("refused", naming the version that differs) unless ``across_versions`` asks for it
(a before/after comparison of a change, where the difference is the point; the ``versions``
column then says they differ). Peak memory is compared only between rows with the same
``mem_method``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from . import results
from .rows import CASE, PLACE, place_label

MIN_SAMPLES = 3


def samples(rows) -> np.ndarray:
    """The pooled raw samples (seconds) of some result rows."""
    out = [np.array(str(s).split(), dtype=float) for s in rows["samples_s"].dropna()]
    return np.concatenate(out) if out else np.zeros(0)


def ratio_test(
    base: np.ndarray, other: np.ndarray, factor: float = 1.1, alpha: float = 0.01
) -> dict:
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


def _case_label(key) -> str:
    fam, impl, fw, mode, dtype, ds, *params = key
    sizes = ",".join(
        f"{c[6:]}={_num(v)}"
        for c, v in zip(results.PARAM_COLUMNS, params, strict=True)
        if _present(v)
    )
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


def _version_key(rows):
    """Each row's (kernel_version, inputs_version) as text ('?' where unknown)."""
    cols = [
        rows[c].astype(object).where(rows[c].notna(), "?").astype(str)
        if c in rows
        else np.full(len(rows), "?", dtype=object)
        for c in VERSIONS
    ]
    return list(zip(*cols, strict=True))


def same_versions(b_rows, rows):
    """The baseline rows and the place rows that ran the same code on the same inputs: of the
    version pairs both sides have, the one of the place's latest row. (b_rows, rows)
    unchanged when they share none (``_pair`` then refuses them, naming what differs)."""
    kb, kp = _version_key(b_rows), _version_key(rows)
    shared = set(kb) & set(kp)
    if not shared or (len(set(kb)) == 1 and set(kb) == set(kp)):
        return b_rows, rows
    order = (
        rows["timestamp_utc"].astype(str).to_numpy()
        if "timestamp_utc" in rows
        else np.arange(len(rows)).astype(str)
    )
    latest = max((o, k) for o, k in zip(order, kp, strict=True) if k in shared)[1]
    return (b_rows[[k == latest for k in kb]], rows[[k == latest for k in kp]])


class Pooled(NamedTuple):
    """What ``pool`` kept and what it left out."""

    rows: Any  # DataFrame: the rows each place's figures come from
    left_out: Any  # DataFrame: rows of a superseded kernel or inputs version
    all_runs: bool

    def note(self) -> str:
        """One sentence for a page: what was pooled, what was left out ('' when nothing)."""
        if self.all_runs:
            return (
                "--all-runs: every run of a place is pooled, whatever code and inputs "
                "versions its rows ran (a figure may mix versions)."
            )
        n = len(self.left_out)
        if not n:
            return ""
        runs = sorted(set(map(str, self.left_out["run_id"].dropna())))
        return (
            f"{n} row(s) of {len(runs)} run(s) left out: in their place a later run of the "
            f"same case ran other code or inputs (kernel_version / inputs_version), and a "
            f"place's figures pool only runs of the latest versions (--all-runs pools every "
            f"run)."
        )


def pool(df, all_runs: bool = False) -> Pooled:
    """The rows each place's figures come from: for every case and place, the rows of the
    version pair (``kernel_version``, ``inputs_version``) of its latest row (by
    ``timestamp_utc``), so a place pools only runs that ran the same code on the same inputs.
    ``all_runs`` keeps every row."""
    import pandas as pd

    if df is None or not len(df) or all_runs:
        empty = df.iloc[:0] if df is not None else pd.DataFrame()
        return Pooled(df, empty, all_runs)
    d = df.reset_index(drop=True)
    key = pd.Series(["\0".join(k) for k in _version_key(d)], index=d.index)
    stamp = (
        d["timestamp_utc"].astype(object).where(d["timestamp_utc"].notna(), "").astype(str)
        if "timestamp_utc" in d
        else pd.Series([""] * len(d), index=d.index)
    )
    cols = [c for c in CASE + PLACE if c in d]
    groups = d[cols].astype(object).where(d[cols].notna(), "\0nan").astype(str).agg("\1".join, 1)
    latest = stamp.groupby(groups).transform("max")
    latest_key = key.where(stamp == latest).groupby(groups).transform("last")
    keep = (key == latest_key).to_numpy()
    return Pooled(d[keep], d[~keep], False)


def _pair(
    case: str,
    base_label: str,
    place_label: str,
    b_rows,
    rows,
    raw_b,
    raw_p,
    factor: float,
    alpha: float,
    across_versions: bool,
) -> dict:
    """One comparison row: the baseline rows against the other rows of one case (only the
    rows of one version pair both sides ran, ``same_versions``, unless `across_versions`)."""
    import pandas as pd

    if not across_versions:
        nb, n_p = len(b_rows), len(rows)
        b_rows, rows = same_versions(b_rows, rows)
        if (len(b_rows), len(rows)) != (nb, n_p):
            raw_b, raw_p = samples(b_rows), samples(rows)
    row = {
        "case": case,
        "baseline": base_label,
        "place": place_label,
        "median_baseline_s": _median(raw_b),
        "median_place_s": _median(raw_p),
    }
    differ = _differ(b_rows, rows)
    row["versions"] = "same" if not differ else " and ".join(differ) + " differ"
    if differ and not across_versions:
        old = [
            any(str(v).startswith(results.OLD_VERSION) for v in r["kernel_version"].dropna())
            for r in (b_rows, rows)
        ]
        why = (
            " (module hashes of schema v7 or older on one side: rerun that case, or add "
            "its digests with scripts/reversion.py)"
            if old[0] != old[1]
            else ""
        )
        row.update(
            ratio=np.nan,
            p_value=np.nan,
            verdict=f"refused: {' and '.join(differ)} differs{why}",
            mem_ratio=np.nan,
        )
        return row
    row.update(ratio_test(raw_b, raw_p, factor, alpha))
    both = pd.concat([b_rows, rows])
    mem_b, mem_p = (r["peak_mem_bytes"].astype(float).median() for r in (b_rows, rows))
    row["mem_ratio"] = mem_p / mem_b if results.one_mem_method(both) and mem_b > 0 else np.nan
    return row


COLUMNS = [
    "case",
    "baseline",
    "place",
    "median_baseline_s",
    "median_place_s",
    "ratio",
    "p_value",
    "verdict",
    "mem_ratio",
    "versions",
]


def _usable(df):
    ok = results.usable(df).rows
    ok = ok.copy() if ok is not None else df.iloc[:0].copy()
    for col in CASE + PLACE:
        if col not in ok:
            ok[col] = np.nan
    ok[CASE + PLACE] = ok[CASE + PLACE].astype(object).where(ok[CASE + PLACE].notna(), None)
    return ok


def place_labels(df) -> list[str]:
    """Every place of some result rows, as compare labels them."""
    ok = _usable(df)
    return sorted({place_label(*k) for k, _ in ok.groupby(PLACE, dropna=False, sort=True)})


def pick_baseline(labels, baseline: str) -> list[str]:
    """The places whose label starts with `baseline`: one, or several of one machine (each
    row is then compared with the one of the same device kind and threads). ValueError naming
    the places when none matches, or the machines when places of several do."""
    match = sorted({lab for lab in labels if lab.startswith(baseline)})
    if not match:
        raise ValueError(
            f"--baseline {baseline!r} matches no place; the places are: " + "; ".join(labels)
        )
    machines = sorted({lab.split(" ", 1)[0] for lab in match})
    if len(machines) > 1:
        raise ValueError(
            f"--baseline {baseline!r} matches places of {len(machines)} machines "
            f"({', '.join(machines)}): give one machine_id, or a whole place label"
        )
    return match


def _base_for(pkey, bases: dict):
    """The baseline place to compare place `pkey` with: the one of the same device kind and
    threads (and device name), else the only one; None when none fits."""
    kind_threads = [k for k in bases if (k[1], k[3]) == (pkey[1], pkey[3])]
    if len(kind_threads) > 1:
        kind_threads = [k for k in kind_threads if k[2] == pkey[2]] or kind_threads
    if kind_threads:
        return kind_threads[0]
    return next(iter(bases)) if len(bases) == 1 else None


def compare(
    df,
    baseline: str | None = None,
    factor: float = 1.1,
    alpha: float = 0.01,
    across_versions: bool = False,
):
    """One row per (case, place other than the baseline): see the module docstring.
    `baseline` picks the baseline place by a prefix of its label (e.g. a machine_id); where it
    matches several places of that machine, each place is compared with the baseline place of
    its own device kind and threads (``_base_for``). ValueError when it matches no place or
    places of several machines (``pick_baseline``)."""
    import pandas as pd

    ok = _usable(df)
    base_labels = set(pick_baseline(place_labels(df), baseline)) if baseline is not None else None
    out = []
    for ckey, g in ok.groupby(CASE, dropna=False, sort=True):
        places = {pkey: rows for pkey, rows in g.groupby(PLACE, dropna=False, sort=True)}
        if len(places) < 2:
            continue
        labels = {k: place_label(*k) for k in places}
        if base_labels is None:
            first = next(iter(places))
            bases = {first: places[first]}
        else:
            bases = {k: v for k, v in places.items() if labels[k] in base_labels}
            if not bases:
                continue
        raw = {k: samples(rows) for k, rows in places.items()}  # parsed once per place
        for pkey, rows in places.items():
            if pkey in bases:
                continue
            base = _base_for(pkey, bases)
            if base is None:
                continue
            out.append(
                _pair(
                    _case_label(ckey),
                    labels[base],
                    labels[pkey],
                    places[base],
                    rows,
                    raw[base],
                    raw[pkey],
                    factor,
                    alpha,
                    across_versions,
                )
            )
    return pd.DataFrame(out, columns=COLUMNS)


def before_after(before, after, factor: float = 1.1, alpha: float = 0.01):
    """Two runs on one machine (before and after a change, ``asv continuous``'s and
    ``pytest --benchmark-compare``'s workflow): every case measured in both, in the same
    place (machine, device, threads), compared from the raw samples,

        ratio = median(before samples) / median(after samples)   (> 1: after is faster),

    with ``ratio_test``'s verdict. Version differences are the point here: they are compared
    and labelled in ``versions``, never refused. Cases only one run has are left out."""
    import pandas as pd

    a, b = _usable(before), _usable(after)
    label_a, label_b = (_run_label(x) for x in (before, after))
    out = []
    b_groups = {_key(k): rows for k, rows in b.groupby(CASE + PLACE, dropna=False, sort=True)}
    for key, rows_a in a.groupby(CASE + PLACE, dropna=False, sort=True):
        rows_b = b_groups.get(_key(key))
        if rows_b is None:
            continue
        ckey, pkey = key[: len(CASE)], key[len(CASE) :]
        row = _pair(
            _case_label(ckey),
            label_a,
            label_b,
            rows_a,
            rows_b,
            samples(rows_a),
            samples(rows_b),
            factor,
            alpha,
            across_versions=True,
        )
        row["place"] = f"{label_b} on {place_label(*pkey)}"
        out.append(row)
    return pd.DataFrame(out, columns=COLUMNS)


def _key(key) -> tuple:
    """A group key with NaN as None (NaN != NaN would keep equal cases apart)."""
    return tuple(None if isinstance(v, float) and np.isnan(v) else v for v in key)


def _run_label(df) -> str:
    """A run's short name: its commit (and run id) where the rows have one."""

    def one(col):
        vals = sorted(set(map(str, df[col].dropna()))) if col in df else []
        return vals[0] if len(vals) == 1 else ("+".join(vals) if vals else "?")

    dirty = (
        " (dirty)"
        if "git_dirty" in df and df["git_dirty"].map(lambda v: str(v).lower() == "true").any()
        else ""
    )
    return f"{one('git_commit')}{dirty} run {one('run_id')}"


def regressions(table, factor: float):
    """The rows of a comparison where the contender got significantly slower by more than
    `factor` (verdict ``slower`` and baseline median / contender median below 1 / factor)."""
    if factor < 1:
        raise ValueError(f"--fail-on-regression must be >= 1, got {factor}")
    slow = table["verdict"].eq("slower") & (table["ratio"] < 1 / factor)
    return table[slow]
