"""`spikebench validate`: check a results CSV and its JSON context before submission.

A submission is untrusted input. The checks, each reported with the CSV line it concerns:

- schema: a `schema_version` column; older versions are migrated (and say so), newer refused;
  every column of the current schema present, none unknown;
- types and units: numbers parse, booleans are True/False, `status` is one of STATUSES,
  `device_kind` a known kind, `throughput_unit` one of a family's units (`Family.units`),
  ids are safe names;
- per status: an `ok` row has a median, min, IQR, >= MIN_ROUNDS rounds, its raw samples, a
  throughput and a correctness flag; any other status has an error message and no timing;
- plausibility: no negative time, memory or error; fractions in [0, 1]; min <= median; the raw
  samples reproduce rounds, median, min and IQR (so no stored figure can be edited alone); and
  throughput x median equals the work the row's sizes imply (`Family.units`);
- training rows (mode `train`): the curve holds one accuracy in [0, 1] per epoch (rounds),
  `accuracy` is its last, and `epochs_to_target` / `time_to_target_s` are the first epoch at
  or above `target` and the running sum of the epochs' times there (empty when none is);
- duplicates: one row per (run_id, case_id), each repeat named with its lines;
- the JSON beside the CSV exists and agrees on machine_id, git_commit and run_id(s).

Rows that are `ok` but `correct=False` are honest results of a wrong implementation: they are
reported as warnings, and make validation fail only with ``strict=True``.

The column checks are a pandera schema (lazy: every failure is collected, not the first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import families, results
from . import untrusted as U
from .kernels.queues._common import TALLIES

MIN_ROUNDS = 3
DEVICE_KINDS = ("cpu", "gpu", "tpu", "lpu", "onnxrt")
MODES = ("forward", "grad", "train")
TIMING = ("compile_s", "time_median_s", "time_iqr_s", "time_min_s")
FRACTIONS = ("mismatch_frac", "spike_rate", "lif_agreement", "drop_rate", "target", "accuracy")
NAME = U.NAME
REL = 1e-6  # samples are written with 9 significant digits


@dataclass
class Report:
    """What validation found in one file: errors fail it, warnings do not (unless strict)."""

    path: Path
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    n_rows: int = 0
    migrated_from: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, line, msg):
        self.errors.append(_where(self.path, line) + msg)

    def warn(self, line, msg):
        self.warnings.append(_where(self.path, line) + msg)


def _where(path, line):
    return f"{path}:{line}: " if line is not None else f"{path}: "


def _line(index) -> int:
    return int(index) + 2  # line 1 is the header


def _schema():
    import pandera.pandas as pa

    num = {"dtype": float, "nullable": True, "coerce": True}
    nonneg = [pa.Check.ge(0)]
    cols = {  # run_id, git_commit, machine_id: _names (they name folders and files)
        "schema_version": pa.Column(int, coerce=True),
        "run_id": pa.Column(str),
        "timestamp_utc": pa.Column(str),
        "git_commit": pa.Column(str),
        "machine_id": pa.Column(str),
        "device_kind": pa.Column(str, pa.Check.isin(DEVICE_KINDS)),
        "family": pa.Column(str, pa.Check.str_matches(NAME)),
        "impl": pa.Column(str, pa.Check.str_matches(NAME)),
        "framework": pa.Column(str, pa.Check.str_matches(NAME)),
        "mode": pa.Column(str, pa.Check.isin(MODES)),
        "dtype": pa.Column(str, pa.Check.str_matches(NAME)),
        "dataset": pa.Column(str, pa.Check.str_matches(NAME)),
        "status": pa.Column(str, pa.Check.isin(results.STATUSES)),
        "case_id": pa.Column(str, pa.Check.str_matches(r"^[0-9a-f]{12}$")),
        "rounds": pa.Column(**num, checks=nonneg),
        "throughput": pa.Column(**num, checks=[pa.Check.gt(0)]),
        "throughput_unit": pa.Column(str, pa.Check.isin(list(families.units())),
                                     nullable=True),
        "peak_mem_bytes": pa.Column(**num, checks=nonneg),
        **{c: pa.Column(**num, checks=nonneg) for c in results.MEMORY_COLUMNS},
        "mem_method": pa.Column(str, pa.Check.str_matches(NAME), nullable=True),
        "param_tally": pa.Column(str, pa.Check.isin(list(TALLIES)), nullable=True),
        "max_err": pa.Column(**num, checks=nonneg),
        "n_checked": pa.Column(**num, checks=nonneg),
        "epochs_to_target": pa.Column(**num, checks=[pa.Check.ge(1)]),
        "time_to_target_s": pa.Column(**num, checks=nonneg),
        "correct": pa.Column(str, pa.Check.isin(["True", "False"]), nullable=True),
        "git_dirty": pa.Column(str, pa.Check.isin(["True", "False"]), nullable=True),
        **{c: pa.Column(**num, checks=nonneg) for c in TIMING},
        **{c: pa.Column(**num, checks=[pa.Check.in_range(0, 1)]) for c in FRACTIONS},
        **{c: pa.Column(**num, checks=nonneg) for c in results.PARAM_COLUMNS
           if c not in results.TEXT_PARAMS},
    }
    return pa.DataFrameSchema(cols, strict=False)


def _read(path: Path, rep: Report):
    import pandas as pd

    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        rep.error(None, f"not a readable CSV ({exc})")
        return None
    if "schema_version" not in df.columns:
        rep.error(None, "no schema_version column: not a spikebench results CSV")
        return None
    versions = set(df["schema_version"].dropna())
    try:
        (v,) = {int(x) for x in versions} or {results.SCHEMA_VERSION}
    except ValueError:
        rep.error(None, f"schema_version must be one integer, got {sorted(versions)}")
        return None
    if v > results.SCHEMA_VERSION:
        rep.error(None, f"schema v{v} is newer than this spikebench "
                        f"(v{results.SCHEMA_VERSION}): update spikebench")
        return None
    if v < results.SCHEMA_VERSION:
        missing = _missing(df, results.columns_of(v))
        if missing:
            rep.error(None, f"missing column(s) of schema v{v}: {', '.join(missing)}")
            return None
        df = results.migrate(df.assign(schema_version=v))
        rep.migrated_from = v
    missing = _missing(df, results.COLUMNS)
    if missing:
        rep.error(None, f"missing column(s): {', '.join(missing)}")
        return None
    unknown = [c for c in df.columns if c not in results.COLUMNS]
    if unknown:
        rep.error(None, f"unknown column(s) for schema v{results.SCHEMA_VERSION}: "
                        f"{', '.join(unknown)}")
    return df


def _missing(df, columns) -> list[str]:
    return [c for c in columns if c not in df.columns]


def _schema_errors(df, rep: Report):
    import pandera.errors as pe

    try:
        return _schema().validate(df, lazy=True)
    except pe.SchemaErrors as err:
        seen, bad_type = set(), set()
        for _, f in err.failure_cases.iterrows():
            idx, col = f.get("index"), f.get("column")
            check, value = str(f.get("check")), f.get("failure_case")
            if idx is None or (isinstance(idx, float) and np.isnan(idx)):
                if col in bad_type:
                    continue  # a follow-on of a value that did not parse
                line = None
            else:
                line = _line(idx)
            if "coerce" in check or "dtype" in check:
                bad_type.add(col)
                msg = f"column {col}: {value!r} is not of the expected type"
            else:
                msg = f"column {col}: {value!r} fails {check}"
            if (line, msg) not in seen:
                seen.add((line, msg))
                rep.error(line, msg)
        return None


def _duplicates(df, rep: Report):
    dup = df[df.duplicated(["run_id", "case_id"], keep=False)]
    for (run, case), g in dup.groupby(["run_id", "case_id"]):
        lines = [_line(i) for i in g.index]
        rep.error(lines[0], f"duplicate row: run {run} case {case} again on line(s) "
                            f"{', '.join(map(str, lines[1:]))}")


def _names(df, rep: Report):
    """Fields that become folder and file names (submit, merge) follow untrusted.safe_name's
    rule; one error per distinct bad value, at its first line."""
    for col in ("run_id", "git_commit", "machine_id"):
        for value, g in df.groupby(col, sort=False, dropna=False):
            why = U.name_problem(value)
            if why:
                rep.error(_line(g.index[0]), f"column {col}: {why}: not a safe folder name "
                                             f"({len(g)} rows)")


def _formulas(df, rep: Report):
    """Cells a spreadsheet would run as formulas (CSV injection) are refused: nothing the
    suite writes starts that way, so such a cell was put there by hand."""
    for col in df.columns:
        for i, v in df[col].items():
            if isinstance(v, str) and U.formula_cell(v):
                rep.error(_line(i), f"column {col}: {v[:40]!r} starts like a spreadsheet "
                                    f"formula (=, +, -, @, tab or CR)")


def _rows(df, rep: Report, strict: bool):
    """Row-level checks pandera's column checks cannot express."""
    for i, r in df.iterrows():
        line = _line(i)
        status = r["status"]
        if status != "ok":
            if not isinstance(r["error"], str) or not r["error"].strip():
                rep.error(line, f"status {status!r} without an error message")
            if not np.isnan(r["time_median_s"]):
                rep.error(line, f"status {status!r} but a median time is given")
            continue
        need = [c for c in ("time_median_s", "time_min_s", "time_iqr_s", "rounds",
                            "throughput") if np.isnan(r[c])]
        need += [c for c in ("samples_s", "throughput_unit", "correct")
                 if not isinstance(r[c], str)]
        if need:
            rep.error(line, f"an ok row needs {', '.join(need)}")
            continue
        if r["rounds"] < MIN_ROUNDS:
            rep.error(line, f"rounds = {int(r['rounds'])} < {MIN_ROUNDS}")
        if r["time_min_s"] > r["time_median_s"] * (1 + REL):
            rep.error(line, f"time_min_s {r['time_min_s']} > time_median_s "
                            f"{r['time_median_s']}")
        _samples(r, line, rep)
        _work(r, line, rep)
        if r["mode"] == "train":
            _curve(r, line, rep)
        if r["correct"] == "False":
            msg = (f"{r['family']}/{r['impl']}/{r['framework']} is incorrect here "
                   f"(max_err {r['max_err']})")
            (rep.error if strict else rep.warn)(line, msg)


def _samples(r, line, rep: Report):
    try:
        s = np.array(r["samples_s"].split(), dtype=float)
    except ValueError:
        rep.error(line, f"samples_s is not a list of numbers: {r['samples_s'][:40]!r}")
        return
    if len(s) != int(r["rounds"]):
        rep.error(line, f"samples_s holds {len(s)} samples but rounds = {int(r['rounds'])}")
        return
    if np.any(~np.isfinite(s)) or np.any(s < 0):
        rep.error(line, "samples_s holds a negative or non-finite time")
        return
    q1, q3 = np.percentile(s, [25, 75])
    for col, got in (("time_median_s", np.median(s)), ("time_min_s", s.min()),
                     ("time_iqr_s", q3 - q1)):
        scale = max(abs(r["time_median_s"]), 1e-300)
        if abs(got - r[col]) > REL * scale:
            rep.error(line, f"{col} = {r[col]:.9g} but the raw samples give {got:.9g} "
                            f"(edited figure?)")


def _curve(r, line, rep: Report):
    """A train row's learning curve against its own summary figures (edited ones show)."""
    if not isinstance(r["curve_accuracy"], str) or np.isnan(r["target"]):
        rep.error(line, "a train row needs curve_accuracy and target")
        return
    try:
        times, acc = results.learning_curve(r)
    except ValueError:
        rep.error(line, f"curve_accuracy is not a list of numbers: {r['curve_accuracy'][:40]!r}")
        return
    if len(acc) != len(times) or np.any(~np.isfinite(acc)) or np.any((acc < 0) | (acc > 1)):
        rep.error(line, f"curve_accuracy needs one accuracy in [0, 1] per epoch ({len(times)})")
        return
    if abs(acc[-1] - r["accuracy"]) > 1e-5:
        rep.error(line, f"accuracy = {r['accuracy']} but the curve ends at {acc[-1]:.6g}")
    hit = np.flatnonzero(acc >= r["target"])
    if not len(hit):
        if not np.isnan(r["epochs_to_target"]) or not np.isnan(r["time_to_target_s"]):
            rep.error(line, f"no epoch reached the target {r['target']}, yet a time to it is "
                            f"given")
        return
    first = int(hit[0])
    if r["epochs_to_target"] != first + 1 or \
            abs(r["time_to_target_s"] - times[first]) > REL * max(times[first], 1e-300) + 1e-9:
        rep.error(line, f"the curve reaches {r['target']} at epoch {first + 1} after "
                        f"{times[first]:.6g} s, not at epoch {r['epochs_to_target']} after "
                        f"{r['time_to_target_s']} s (edited figure?)")


def _work(r, line, rep: Report):
    cols = families.units()[r["throughput_unit"]]
    if cols is None:
        return
    sizes = [r[c] for c in cols]
    if any(np.isnan(x) for x in sizes):
        rep.error(line, f"throughput in {r['throughput_unit']} needs "
                        f"{', '.join(c for c, x in zip(cols, sizes, strict=True) if np.isnan(x))}")
        return
    work = float(np.prod(sizes))
    got = r["throughput"] * r["time_median_s"]
    if abs(got - work) > REL * work:
        rep.error(line, f"throughput {r['throughput']:.6g} {r['throughput_unit']} x median "
                        f"{r['time_median_s']:.6g} s = {got:.6g}, but the sizes give "
                        f"{work:.6g} (edited figure?)")


def _context(path: Path, df, rep: Report):
    ctx_path = path.with_suffix(".json")
    if not ctx_path.exists():
        rep.error(None, f"no JSON context {ctx_path.name} beside the CSV")
        return None
    try:
        ctx = U.load_context(ctx_path)
    except U.UntrustedError as exc:
        rep.error(None, str(exc))
        return None
    # a merged sweep (spikebench merge) lists its shards' contexts
    parts = [ctx] + list(ctx.get("shards") or [])
    allowed = {col: {p.get(col) for p in parts} for col in ("machine_id", "git_commit",
                                                             "run_id")}
    for i, r in df.iterrows():
        for col in ("machine_id", "git_commit", "run_id"):
            if r[col] not in allowed[col]:
                rep.error(_line(i), f"{col} {r[col]!r} disagrees with {ctx_path.name} "
                                    f"({sorted(str(a) for a in allowed[col] if a)})")
    return ctx


def validate(path, strict: bool = False) -> Report:
    """Validate one results CSV (and the JSON beside it)."""
    path = Path(path)
    rep = Report(path)
    if not path.is_file():
        rep.error(None, "no such file")
        return rep
    df = _read(path, rep)
    if df is None:
        return rep
    rep.n_rows = len(df)
    _duplicates(df, rep)
    _names(df, rep)
    _formulas(df, rep)
    if rep.migrated_from is not None:
        rep.warn(None, f"schema v{rep.migrated_from} migrated to v{results.SCHEMA_VERSION}")
    typed = _schema_errors(df, rep)
    if typed is None:
        return rep  # the row checks need parsed columns
    _rows(typed, rep, strict)
    _context(path, typed, rep)
    return rep
