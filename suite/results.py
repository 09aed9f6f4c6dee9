"""Results: CSV schema v9, written row by row, plus a JSON run context.

One row per measured case, long/tidy. Rows are appended and flushed (and fsync'ed) as cases
finish, so an interrupted sweep leaves a valid CSV of the rows already measured. A metric that
cannot be measured is left empty, never guessed. Speedups are recomputed from raw rows by the
readers, never stored.

Columns beyond a plain benchmark table, and why: `threads` (CPU comparisons need the thread count),
`samples_s` (raw samples, space-separated), `mismatch_frac` and `n_checked` (the correctness
figure's detail: the fraction of reference outputs not reproduced within tolerance and how many
output lanes were checked), `case_id` (stable id to group rows of one case across runs).

v2 (parallel-scan simulator) adds `param_n_layers` (layers of a network row; 1 for a single
layer) and `param_remat` (whether the backward recomputes one chunk at a time): rows of one
configuration must differ in some column, or compare/report would pool unlike cases.

v3 (PSU family) adds `spike_rate` (fraction of (step, neuron) entries that spike) and
`lif_agreement` (fraction of spike entries equal to discrete LIF's on the same input): the
sparsity the PSU paper reports is a result of the row, like its error, not a parameter.

v4 (event queues) adds `param_interval` (mean inter-spike interval of the queue traffic, in
steps), `param_ad` (reverse / forward-mode differentiation of a grad row) and `drop_rate`
(fraction of offered events a queue dropped: the accuracy side of the paper's speed knob).

v5 (one shape for every family) adds `inputs_version` (the hash of the family adapter that
built the inputs, the reference and the check; ``versions.py``); `kernel_version` now hashes
every spikebench module the timed entry's module imports, transitively. Migrated rows have no
`inputs_version` (unknown).

v6 (training to accuracy) adds mode `train` and its columns: `param_epochs`, `target` (the
test accuracy aimed at), `epochs_to_target` and `time_to_target_s` (empty when no epoch reached
it; the row's `error` says why), `accuracy` (final test accuracy) and `curve_accuracy` (the
test accuracy after each epoch, space-separated; `samples_s` holds the epochs' wall times, so
the learning curve against time is their running sum). Migrated rows leave them empty.

v7 (fair comparisons) adds `param_rate_hz` (input events per simulated second of an event-LIF
case: NEST's cost follows simulated time, ours events), `param_tally` (what a queue traffic
loop carries besides its queues: per-queue counters or, as the EventQueues authors' benchmark,
one total) and the memory columns ``MEMORY_COLUMNS``: `peak_mem_bytes` becomes the kernel's
own figure of one call (its method in `mem_method`), `state_bytes` the algorithm's carried
state, `rss_delta_bytes` the worker's resident high-water mark (what `peak_mem_bytes` held on
the CPU before), `alloc_peak_bytes` a JAX accelerator allocator's peak.

v8 (versions that survive a refactor) keeps the columns and changes what `kernel_version` and
`inputs_version` hold: digests of what ran (the kernel's normalised code; the inputs, the
reference's outputs and the check's settings; ``versions.py``) instead of hashes of whole
modules. A migrated row keeps its module hash with the prefix ``module:``, so rows of the old
kind still compare with each other as they did and never with a digest.

v9 (peers as rows) adds `param_tau_mem_ms` (the membrane time constant of an event-LIF layer, in
milliseconds): jaxsnn's solver takes only tau_mem = tau_syn or 2 tau_syn, so the cases it runs on
(and our rows beside them) use a layer of their own, which must differ in a column from the
default layer's. Migrated event-LIF rows get the one layer every earlier version ran, 20 ms
(training rows, whose task sets its own, stay empty).

v10 (distance from the limit) adds ``COST_COLUMNS``: `cost_flops` and `cost_bytes`, what the
compiled executable costs by the compiler's own count (JAX and every library compiled through
XLA: ``Compiled.cost_analysis()``'s flops and bytes accessed), `cost_loops`, the number of
while loops in that executable (XLA counts a loop's body once, whatever its trip count, so a
row with loops has lower bounds), and `cost_trips`, the product of those loops' trip counts
where XLA knows every one (the count times it is an upper bound; empty when a loop's count
depends on the data). Empty where nothing counts honestly (PyTorch, NumPy, NEST,
ONNX Runtime); migrated rows leave them empty. The run's JSON gains ``peaks`` (the machine's
copy bandwidth and matmul rate per device kind, ``hardware/peaks.py``).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict, cast

import numpy as np

if TYPE_CHECKING:
    import pandas

SCHEMA_VERSION = 10

STATUSES = ("ok", "failed", "oom", "timeout", "unsupported", "unavailable")

PARAM_COLUMNS = [
    "param_n_events",
    "param_n_inputs",
    "param_n_neurons",
    "param_batch",
    "param_chunk_size",
    "param_T",
    "param_n_queues",
    "param_capacity",
    "param_delay",
    "param_n_layers",
    "param_remat",
    "param_interval",
    "param_ad",
    "param_epochs",
    "param_rate_hz",
    "param_tally",
    "param_tau_mem_ms",
]

# v7: memory is the algorithm's. `peak_mem_bytes` is the kernel-level figure of one call and
# `mem_method` says how it was taken (``memory.py``); `state_bytes` is what the algorithm
# carries from step to step, from its arrays; `rss_delta_bytes` the worker's resident
# high-water mark above its start (the framework's cost, never compared with the kernel
# figure); `alloc_peak_bytes` a JAX accelerator allocator's peak in the fresh worker
MEMORY_COLUMNS = ["state_bytes", "rss_delta_bytes", "alloc_peak_bytes"]
# v10: the compiled executable's cost by the compiler's count (flops, bytes accessed) and how
# many while loops it has (each loop body is counted once: the figures are then lower bounds)
# and the product of their trip counts where all are known (times the figures: upper bounds)
COST_COLUMNS = ["cost_flops", "cost_bytes", "cost_loops", "cost_trips"]
# the param columns that hold text, not numbers
TEXT_PARAMS = ("param_remat", "param_ad", "param_tally")

# the columns of `train` rows (training to a target accuracy; README "Training to accuracy"):
# the target test accuracy, the epochs and wall time to reach it (empty when not reached: the
# row's `error` says why), the final test accuracy, and the raw learning curve's accuracies,
# one per evaluation (space-separated like samples_s, whose entries are the epochs' times)
TRAIN_COLUMNS = ["target", "epochs_to_target", "time_to_target_s", "accuracy", "curve_accuracy"]

COLUMNS = [
    "schema_version",
    "run_id",
    "timestamp_utc",
    "suite_version",
    "git_commit",
    "git_dirty",
    "machine_id",
    "cpu_model",
    "cpu_cores",
    "ram_bytes",
    "os",
    "python",
    "device_kind",
    "device_name",
    "device_count",
    "framework",
    "framework_version",
    "cuda_version",
    "driver_version",
    "xla_version",
    "threads",
    "family",
    "impl",
    "mode",
    "dtype",
    "dataset",
    *PARAM_COLUMNS,
    "status",
    "error",
    "compile_s",
    "time_median_s",
    "time_iqr_s",
    "time_min_s",
    "rounds",
    "samples_s",
    "throughput",
    "throughput_unit",
    "peak_mem_bytes",
    "mem_method",
    *MEMORY_COLUMNS,
    *COST_COLUMNS,
    "correct",
    "max_err",
    "mismatch_frac",
    "n_checked",
    "spike_rate",
    "lif_agreement",
    "drop_rate",
    *TRAIN_COLUMNS,
    "ref_impl",
    "kernel_version",
    "inputs_version",
    "case_id",
]


class Row(TypedDict, total=False):
    """One result row, typed: the columns of ``COLUMNS`` (a test holds the two equal). Rows are
    built by ``new_row`` only; a missing figure is absent or None, never guessed."""

    schema_version: int | None
    run_id: str | None
    timestamp_utc: str | None
    suite_version: str | None
    git_commit: str | None
    git_dirty: bool | None
    machine_id: str | None
    cpu_model: str | None
    cpu_cores: int | None
    ram_bytes: int | None
    os: str | None
    python: str | None
    device_kind: str | None
    device_name: str | None
    device_count: int | None
    framework: str | None
    framework_version: str | None
    cuda_version: str | None
    driver_version: str | None
    xla_version: str | None
    threads: int | None
    family: str | None
    impl: str | None
    mode: str | None
    dtype: str | None
    dataset: str | None
    param_n_events: float | None
    param_n_inputs: float | None
    param_n_neurons: float | None
    param_batch: float | None
    param_chunk_size: float | None
    param_T: float | None
    param_n_queues: float | None
    param_capacity: float | None
    param_delay: float | None
    param_n_layers: float | None
    param_remat: str | None
    param_interval: float | None
    param_ad: str | None
    param_epochs: float | None
    param_rate_hz: float | None
    param_tally: str | None
    param_tau_mem_ms: float | None
    status: str | None
    error: str | None
    compile_s: float | None
    time_median_s: float | None
    time_iqr_s: float | None
    time_min_s: float | None
    rounds: int | None
    samples_s: str | None
    throughput: float | None
    throughput_unit: str | None
    peak_mem_bytes: float | None
    mem_method: str | None
    state_bytes: float | None
    rss_delta_bytes: float | None
    alloc_peak_bytes: float | None
    cost_flops: float | None
    cost_bytes: float | None
    cost_loops: int | None
    cost_trips: float | None
    correct: bool | None
    max_err: float | None
    mismatch_frac: float | None
    n_checked: int | None
    spike_rate: float | None
    lif_agreement: float | None
    drop_rate: float | None
    target: float | None
    epochs_to_target: float | None
    time_to_target_s: float | None
    accuracy: float | None
    curve_accuracy: str | None
    ref_impl: str | None
    kernel_version: str | None
    inputs_version: str | None
    case_id: str | None


def new_row(fields: Mapping[str, Any]) -> Row:
    """The one place a result row is built: `fields` checked against the schema (ValueError
    naming unknown columns, or a status outside ``STATUSES``) and returned as a ``Row``."""
    unknown = sorted(set(fields) - set(COLUMNS))
    if unknown:
        raise ValueError(f"row has columns outside schema v{SCHEMA_VERSION}: {unknown}")
    if fields.get("status") not in STATUSES:
        raise ValueError(f"status {fields.get('status')!r} is not one of {STATUSES}")
    return cast(Row, dict(fields))


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (float, np.floating)):
        return "" if np.isnan(v) else repr(float(v))
    if isinstance(v, np.integer):
        return int(v)
    return v


class ResultWriter:
    """Append rows to a results CSV of the current schema, flushing each one to disk."""

    def __init__(self, path: Path):
        self.path = Path(path)
        if self.path.exists():
            raise FileExistsError(f"{self.path} exists; results are never overwritten")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(self.path, "x", newline="")
        self._w = csv.DictWriter(self._f, fieldnames=COLUMNS, extrasaction="raise")
        self._w.writeheader()
        self._sync()
        self.n_rows = 0

    def _sync(self):
        self._f.flush()
        os.fsync(self._f.fileno())

    def append(self, row: Mapping[str, Any]) -> None:
        row = new_row(row)
        full = {c: _cell(row.get(c)) for c in COLUMNS}
        full["schema_version"] = SCHEMA_VERSION
        self._w.writerow(full)
        self._sync()
        self.n_rows += 1

    def close(self) -> None:
        if not self._f.closed:
            self._sync()
            self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def json_safe(obj):
    """`obj` with every non-finite float written as the string ``"inf"``, ``"-inf"`` or
    ``"nan"``: strict JSON has no such number (``Infinity`` is Python's extension, which
    validate refuses), and the value survives as text."""
    if isinstance(obj, float | np.floating) and not np.isfinite(obj):
        return str(float(obj))
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


def dump_json(obj, f) -> None:
    """A results JSON: strict (``json_safe``), indented, keys sorted, a final newline."""
    json.dump(json_safe(obj), f, indent=2, sort_keys=True, default=str, allow_nan=False)
    f.write("\n")


def write_context(path: Path, context: dict, replace: bool = False) -> None:
    """The JSON beside a CSV: full machine and run context. A new file never replaces another;
    the run that owns it may update it (`replace=True`), atomically."""
    path = Path(path)
    if path.exists() and not replace:
        raise FileExistsError(f"{path} exists; results are never overwritten")
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        dump_json(context, f)
    os.replace(tmp, path)


# The columns each schema bump added (v -> v + 1): a file of version v has today's columns less
# those added since.
ADDED = {
    1: ("param_n_layers", "param_remat"),
    2: ("spike_rate", "lif_agreement"),
    3: ("param_interval", "param_ad", "drop_rate"),
    4: ("inputs_version",),
    5: ("param_epochs", *TRAIN_COLUMNS),
    6: ("param_rate_hz", "param_tally", *MEMORY_COLUMNS),
    7: (),
    8: ("param_tau_mem_ms",),
    9: tuple(COST_COLUMNS),
}


def columns_of(version: int) -> list[str]:
    """The columns a results CSV of schema `version` has."""
    added = {c for v in range(version, SCHEMA_VERSION) for c in ADDED[v]}
    return [c for c in COLUMNS if c not in added]


# One function per schema bump: MIGRATIONS[v] turns a version-v frame into version v+1.
def _v1_to_v2(df):
    df = df.copy()
    df["param_n_layers"] = np.where(df["family"] == "event_lif", 1, np.nan)
    df["param_remat"] = np.nan
    df["schema_version"] = 2
    return df


def _v2_to_v3(df):
    df = df.copy()
    for col in ADDED[2]:
        df[col] = np.nan
    df["schema_version"] = 3
    return df


def _v3_to_v4(df):
    df = df.copy()
    for col in ADDED[3]:
        df[col] = np.nan
    df["schema_version"] = 4
    return df


def _v4_to_v5(df):
    df = df.copy()
    df["inputs_version"] = np.nan  # unknown: v4 did not record it
    df["schema_version"] = 5
    return df


def _v5_to_v6(df):
    df = df.copy()
    for col in ADDED[5]:  # v5 had no training rows
        df[col] = np.nan
    df["schema_version"] = 6
    return df


# v6's whole-case figures: the worker's resident high-water mark (CPU, ONNX Runtime's CPU
# provider) and a JAX accelerator allocator's peak; PyTorch CUDA's allocator peak stays the
# kernel figure it was
V6_RSS = ("cpu_vmhwm_delta", "cpu_maxrss_delta")
V6_ALLOC = ("jax_peak_bytes_fresh_worker",)


def _v6_to_v7(df):
    """v6's `peak_mem_bytes` measured the framework on the CPU (the worker's high-water mark):
    it moves to `rss_delta_bytes` (or `alloc_peak_bytes`), and the kernel figure of such rows
    is unknown (empty). Traffic rows were the per-queue-counter form (tally "queue")."""
    df = df.copy()
    for col in ADDED[6]:
        df[col] = np.nan
    method = df["mem_method"].astype("string")
    for col, methods in (("rss_delta_bytes", V6_RSS), ("alloc_peak_bytes", V6_ALLOC)):
        moved = method.isin(methods).fillna(False).to_numpy(bool)
        df[col] = df[col].astype(object)
        df.loc[moved, col] = df.loc[moved, "peak_mem_bytes"]
        df["peak_mem_bytes"] = df["peak_mem_bytes"].astype(object)
        df.loc[moved, "peak_mem_bytes"] = np.nan
        df["mem_method"] = df["mem_method"].astype(object)
        df.loc[moved, "mem_method"] = np.nan
    traffic = (df["family"] == "queues") & df["param_n_queues"].notna() & df["param_delay"].notna()
    df["param_tally"] = df["param_tally"].astype(object)
    df.loc[traffic.to_numpy(bool), "param_tally"] = "queue"
    df["schema_version"] = 7
    return df


# a version of schema v7 or older: a hash of module files, not a digest of what ran
OLD_VERSION = "module:"


def _v7_to_v8(df):
    """v7's versions hashed whole modules: kept, marked ``module:`` (``OLD_VERSION``)."""
    df = df.copy()
    for col in ("kernel_version", "inputs_version"):
        v = df[col].astype(object)
        known = v.notna() & (v.astype(str) != "") & ~v.astype(str).str.startswith(OLD_VERSION)
        df[col] = v.where(~known, OLD_VERSION + v.astype(str))
    df["schema_version"] = 8
    return df


# the event-LIF layer's membrane time constant of every row before v9 (families/event_lif LAYER)
V8_TAU_MEM_MS = 20.0


def _v8_to_v9(df):
    """Every event-LIF row before v9 simulated the one layer (tau_mem = V8_TAU_MEM_MS), except
    the training rows, whose task has its own parameters."""
    df = df.copy()
    layer = (df["family"] == "event_lif") & (df["mode"] != "train")
    df["param_tau_mem_ms"] = np.where(layer.to_numpy(bool), V8_TAU_MEM_MS, np.nan)
    df["schema_version"] = 9
    return df


def _v9_to_v10(df):
    """No row before v10 recorded its compiled cost: empty."""
    df = df.copy()
    for col in ADDED[9]:
        df[col] = np.nan
    df["schema_version"] = 10
    return df


MIGRATIONS: dict = {
    1: _v1_to_v2,
    2: _v2_to_v3,
    3: _v3_to_v4,
    4: _v4_to_v5,
    5: _v5_to_v6,
    6: _v6_to_v7,
    7: _v7_to_v8,
    8: _v8_to_v9,
    9: _v9_to_v10,
}


def migrate(df):
    """Bring a results frame to SCHEMA_VERSION (raises on unknown or newer versions)."""
    versions = set(df["schema_version"].astype(int)) if len(df) else {SCHEMA_VERSION}
    if len(versions) > 1:
        raise ValueError(f"mixed schema versions in one frame: {sorted(versions)}")
    (v,) = versions
    if v > SCHEMA_VERSION:
        raise ValueError(f"schema v{v} is newer than this spikebench (v{SCHEMA_VERSION})")
    while v < SCHEMA_VERSION:
        if v not in MIGRATIONS:
            raise ValueError(f"no migration from schema v{v}")
        df = MIGRATIONS[v](df)
        v += 1
    return df


NUMERIC = [
    "compile_s",
    "time_median_s",
    "time_iqr_s",
    "time_min_s",
    "rounds",
    "throughput",
    "peak_mem_bytes",
    "max_err",
    "mismatch_frac",
    "n_checked",
    "spike_rate",
    "lif_agreement",
    "drop_rate",
    "threads",
    "cpu_cores",
    "ram_bytes",
    "device_count",
    "target",
    "epochs_to_target",
    "time_to_target_s",
    "accuracy",
    *MEMORY_COLUMNS,
    *COST_COLUMNS,
    *(c for c in PARAM_COLUMNS if c not in TEXT_PARAMS),
]


def _numbers(df, path):
    """Numeric columns as numbers and samples_s parseable, or a ValueError naming the file,
    line and column (a submitted file is untrusted: a bad cell must not surface later as a
    traceback in a plot)."""
    import pandas as pd

    for col in NUMERIC:
        if col not in df.columns or df[col].dtype.kind in "fiub":
            continue
        num = pd.to_numeric(df[col], errors="coerce")
        bad = num.isna() & df[col].notna()
        if bad.any():
            i = int(bad.idxmax())
            raise ValueError(
                f"{path}:{i + 2}: column {col}: {str(df[col][i])[:40]!r} is "
                f"not a number (`spikebench validate {path}`)"
            )
        df[col] = num
    for i, s in df["samples_s"].items():
        if isinstance(s, str):
            try:
                np.array(s.split(), dtype=float)
            except ValueError:
                raise ValueError(
                    f"{path}:{i + 2}: samples_s is not a list of numbers: {s[:40]!r}"
                ) from None
    return df


def recomputed_versions(df, ctx_path: Path):
    """A migrated file's rows with the schema-v8 digests that ``scripts/reversion.py`` stored
    in its JSON (``versions_v8``: case_id -> [kernel_version, inputs_version], computed from
    the run's own commit), where it holds them; other rows keep their ``module:`` hashes."""
    from . import untrusted

    if not ctx_path.is_file():
        return df
    try:
        ctx = untrusted.load_json(ctx_path)
    except ValueError:
        return df  # validate says what is wrong with it; the module hashes stand
    cases = (ctx.get("versions_v8") or {}).get("cases") if isinstance(ctx, dict) else None
    if not isinstance(cases, dict):
        return df
    df = df.copy()
    for i, cid in df["case_id"].items():
        got = cases.get(cid)
        if not (
            isinstance(got, list) and len(got) == 2 and all(isinstance(v, str) and v for v in got)
        ) or not isinstance(df.at[i, "kernel_version"], str):  # a row that never ran
            continue
        df.at[i, "kernel_version"], df.at[i, "inputs_version"] = got
    return df


TEXT_IDS = (
    "error",
    "samples_s",
    "git_commit",
    "run_id",
    "case_id",
    "kernel_version",
    "inputs_version",
    "machine_id",
)


def read(paths) -> pandas.DataFrame:
    """Read result CSVs (files or folders, searched recursively) into one migrated frame."""
    import pandas as pd

    files = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(p.rglob("*.csv"))
        elif p.exists():
            files.append(p)
        else:
            raise ValueError(f"no such results file or folder: {p}")
    import io

    from . import untrusted

    frames = []
    for f in files:
        text = untrusted.read_text(f, untrusted.MAX_CSV_BYTES, "CSV")
        try:
            # ids are text even when a hex id happens to read as a number (8255797183e1)
            df = pd.read_csv(io.StringIO(text), dtype={c: str for c in TEXT_IDS})
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise ValueError(f"{f}: not a readable CSV ({exc})") from None
        if "schema_version" not in df.columns:
            raise ValueError(f"{f}: not a spikebench results CSV (no schema_version column)")
        try:
            old = len(df) and int(df["schema_version"].iloc[0]) < 8
            df = migrate(df)
            if old:
                df = recomputed_versions(df, f.with_suffix(".json"))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{f}: not a readable spikebench results CSV ({exc})") from None
        missing = [c for c in COLUMNS if c not in df.columns]
        if missing:
            more = ", ..." if len(missing) > 4 else ""
            raise ValueError(
                f"{f}: not a spikebench results CSV of schema v{SCHEMA_VERSION}: "
                f"{len(missing)} column(s) missing ({', '.join(missing[:4])}{more})"
            )
        df = _numbers(df, f)
        df["source_file"] = str(f)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(frames, ignore_index=True)


class Usable(NamedTuple):
    """The rows fit to enter a speed figure, and what was left out, by reason."""

    rows: pandas.DataFrame
    left_out: dict[str, int]

    def note(self) -> str:
        """'N rows left out: ...' for a report page or a terminal summary ('' when none)."""
        if not self.left_out:
            return ""
        total = sum(self.left_out.values())
        parts = ", ".join(f"{n} {why}" for why, n in sorted(self.left_out.items()))
        return f"{total} row(s) left out of every figure and ratio: {parts}."


def _is_true(v) -> bool:
    return v is True or (isinstance(v, (np.bool_,)) and bool(v)) or str(v) == "True"


def learning_curve(row):
    """A train row's learning curve: (wall time at each evaluation: the running sum of the
    epochs' times in ``samples_s``, test accuracy after each: ``curve_accuracy``) as float
    arrays; ValueError when either is not a list of numbers."""
    acc = np.array(str(row["curve_accuracy"]).split(), dtype=float)
    return np.cumsum(np.array(str(row["samples_s"]).split(), dtype=float)), acc


def usable(df) -> Usable:
    """The one filter of usable rows (every report page, ``compare`` and the terminal summary
    use it): status ``ok`` and ``correct``. A row that did not run, or ran and was wrong,
    never enters a speed ratio. (Peak memory is compared only between rows of one
    ``mem_method``: ``one_mem_method``.)"""
    if df is None or not len(df):
        return Usable(df, {})
    status = df["status"].astype(str)
    correct = df["correct"].map(_is_true) if "correct" in df else False
    keep = (status == "ok") & correct
    left: dict[str, int] = {}
    for st, n in status[status != "ok"].value_counts().items():
        left[f"{st}"] = int(n)
    wrong = int(((status == "ok") & ~correct).sum())
    if wrong:
        left["ok but incorrect"] = wrong
    return Usable(df[keep].copy(), left)


def row_label(r) -> str:
    """A result row (a dict or a namedtuple-like) as ``family/impl/framework/device/dtype/mode/
    dataset[sizes]``, the sizes being its non-empty param_ columns (like ``Case.label``)."""
    get = r.get if isinstance(r, dict) else lambda k, d=None: getattr(r, k, d)

    def present(v):
        return not (v is None or v == "" or (isinstance(v, float) and np.isnan(v)))

    def num(v):
        try:
            f = float(v)
            return str(int(f)) if f.is_integer() else str(f)
        except (TypeError, ValueError):
            return str(v)

    sizes = ",".join(f"{c[6:]}={num(get(c))}" for c in PARAM_COLUMNS if present(get(c)))
    head = "/".join(
        str(get(k))
        for k in ("family", "impl", "framework", "device_kind", "dtype", "mode", "dataset")
    )
    return f"{head}[{sizes}]"


def one_mem_method(rows) -> bool:
    """Whether the peak memory of these rows may be compared: one ``mem_method`` among them."""
    return rows["mem_method"].dropna().nunique() == 1
