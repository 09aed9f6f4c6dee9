"""The shared ideas of a result row, in one place: what a *case* is (what was computed), what a
*place* is (where), how a place is labelled, and which rows ran the same case.

    case  = family, impl, framework, mode, dtype, dataset and every size / knob column
    place = machine_id, device kind, device name, threads

Every reader (compare, the report pages, the training tables, the device pages, the
headline) takes these from here.
"""

from __future__ import annotations

import numpy as np

from .results import PARAM_COLUMNS

CASE = ["family", "impl", "framework", "mode", "dtype", "dataset", *PARAM_COLUMNS]
PLACE = ["machine_id", "device_kind", "device_name", "threads"]


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or v == ""


def threads_label(threads) -> str:
    """', N thread(s)' ('' when unknown)."""
    if _missing(threads):
        return ""
    n = int(float(threads))
    return f", {n} thread{'s' if n != 1 else ''}"


def place_label(machine_id, device_kind, device_name=None, threads=None) -> str:
    """'<machine_id> <device kind>[ <device name>][, N threads]': the one label of a place."""
    name = "" if not isinstance(device_name, str) or not device_name else f" {device_name}"
    return f"{machine_id} {device_kind}{name}{threads_label(threads)}"


def place_of(row) -> str:
    """``place_label`` of one row (a mapping or a pandas row)."""
    return place_label(*(row.get(c) if hasattr(row, "get") else row[c] for c in PLACE))


def places(df):
    """``place_label`` of every row of a frame (a Series)."""
    import pandas as pd

    cols = {c: df[c] if c in df else pd.Series([None] * len(df), index=df.index)
            for c in PLACE}
    return pd.Series([place_label(*vals) for vals in zip(*cols.values(), strict=True)],
                     index=df.index, dtype=object)


def same(df, r, columns) -> np.ndarray:
    """Mask of the rows of `df` equal to row `r` in every one of `columns` (two missing values
    are equal)."""
    import pandas as pd

    keep = np.ones(len(df), bool)
    for c in columns:
        v = r[c]
        keep &= df[c].isna().to_numpy() if pd.isna(v) else (df[c] == v).to_numpy()
    return keep


def same_case(df, r, *, ignore=(), extra=()) -> np.ndarray:
    """Mask of the rows of `df` that ran row `r`'s case (``CASE``, less `ignore`, plus
    `extra`): e.g. ``ignore=("framework",)`` and ``extra=("machine_id",)`` for the rows of one
    case on every framework of one machine."""
    cols = [c for c in [*CASE, *extra] if c not in ignore and c in df]
    return same(df, r, cols)
