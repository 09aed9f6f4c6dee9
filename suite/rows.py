"""The shared ideas of a result row, in one place: the names a row's columns take (frameworks,
modes, dtypes, device kinds, statuses), what a *case* is (what was computed), what a *place* is
(where), how a place is labelled, which rows ran the same case, and which rows are usable.

    case  = family, impl, framework, mode, dtype, dataset and every size / knob column
    place = machine_id, device kind, device name, threads

Every reader (compare, the report pages, the training tables, the device pages, the
headline) takes these from here.
"""

from __future__ import annotations

import numpy as np

from .results import PARAM_COLUMNS, STATUSES, Usable, usable

# the frameworks a row may name: the kernels' own (numpy, jax, torch; torch-compile runs the
# PyTorch kernels through torch.compile; onnx, the exported graphs), the anchors (adseq: the
# EventQueues authors' code; nest: NEST's exact LIF neuron), and any a plugin adds
# (``hardware.frameworks.register`` appends here)
FRAMEWORKS: list[str] = ["numpy", "jax", "torch", "torch-compile", "onnx", "adseq", "nest"]
# the frameworks of peer libraries (``hardware.frameworks.register(..., peer=True)``: jaxsnn,
# SpikingJelly ...): their rows stand beside ours in the peers table and never enter a family's
# own figures, tables or headline
PEERS: list[str] = []
# train: a training loop to a target accuracy over an entry's training steps (the entry
# registers "grad"; the family's ``train`` runs the loop)
MODES = ("forward", "grad", "train")
DTYPES = ("float32", "float64")
# the device kinds a case runs on (``hardware.devices`` probes each)
DEVICE_KINDS = ("cpu", "gpu", "tpu", "lpu", "onnxrt")

__all__ = [
    "CASE",
    "DEVICE_KINDS",
    "DTYPES",
    "FRAMEWORKS",
    "MODES",
    "PEERS",
    "PLACE",
    "STATUSES",
    "Usable",
    "place_label",
    "place_of",
    "places",
    "same",
    "same_case",
    "own",
    "threads_label",
    "usable",
]

CASE = ["family", "impl", "framework", "mode", "dtype", "dataset", *PARAM_COLUMNS]
PLACE = ["machine_id", "device_kind", "device_name", "threads"]


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or v == ""


def own(df):
    """The rows of `df` that are not a peer library's (``PEERS``): what a family's own figures,
    tables and headline read."""
    return df[~df["framework"].isin(PEERS)] if len(df) and "framework" in df else df


def threads_label(threads) -> str:
    """', N thread(s)' ('' when unknown)."""
    if _missing(threads):
        return ""
    n = int(float(threads))
    return f", {n} thread{'s' if n != 1 else ''}"


def place_label(machine_id, device_kind, device_name=None, threads=None) -> str:
    """``<machine_id> <device kind> <device name>, N threads``: the one label of a place (the
    device name and the threads only where known)."""
    name = "" if not isinstance(device_name, str) or not device_name else f" {device_name}"
    return f"{machine_id} {device_kind}{name}{threads_label(threads)}"


def place_of(row) -> str:
    """``place_label`` of one row (a mapping or a pandas row)."""
    return place_label(*(row.get(c) if hasattr(row, "get") else row[c] for c in PLACE))


def places(df):
    """``place_label`` of every row of a frame (a Series), without the device name where the
    other three columns already tell this frame's places apart (the figures' legends stay
    short: a machine id names its CPU)."""
    import pandas as pd

    cols = {c: df[c] if c in df else pd.Series([None] * len(df), index=df.index) for c in PLACE}
    full = [place_label(*vals) for vals in zip(*cols.values(), strict=True)]
    short = [place_label(m, k, None, t) for m, k, _, t in zip(*cols.values(), strict=True)]
    labels = short if len(set(short)) == len(set(full)) else full
    return pd.Series(labels, index=df.index, dtype=object)


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
