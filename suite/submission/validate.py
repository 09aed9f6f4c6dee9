r"""`spikebench validate`: check a results CSV and its JSON context before submission.

A submission is untrusted input. The checks, each reported with the CSV line it concerns:

- the file: a regular file of at most ``untrusted.MAX_CSV_BYTES`` (``untrusted.read_text``:
  no device, pipe or link to one), at least one row under the header;
- schema: a `schema_version` column; older versions are migrated (and say so), newer refused;
  every column of the current schema present, none unknown;
- types and units: numbers parse and are finite, counts (`rounds`, `threads`, `cpu_cores`,
  ...) are integers, booleans are True/False, `status` is one of STATUSES, `family` a family
  registered here, `impl` one of its implementations, `framework`, `device_kind`, `mode` and
  `dtype` known names, `throughput_unit` one of a family's units (`Family.units`); ids match
  their pattern in full (``\A...\Z``: a trailing newline is not an id) and free text holds
  no control character but newline and tab;
- per status: an `ok` row has a median, min, IQR, >= MIN_ROUNDS rounds, its raw samples, a
  throughput and a correctness flag; any other status has an error message and no timing;
- plausibility: no negative time, memory or error; fractions in [0, 1]; min <= median; the raw
  samples reproduce rounds, median, min and IQR (so no stored figure can be edited alone); and
  throughput x median equals the work the row's sizes imply (`Family.units`);
- training rows (mode `train`): the curve holds one accuracy in [0, 1] per epoch (rounds),
  `accuracy` is its last, and `epochs_to_target` / `time_to_target_s` are the first epoch at
  or above `target` and the running sum of the epochs' times there (empty when none is);
- duplicates: one row per (run_id, case_id), each repeat named with its lines;
- the JSON beside the CSV exists, is strict JSON (no NaN / Infinity, no key twice) and
  agrees with the rows: each row's run_id names the JSON's run (or, in a merged sweep, one of
  its shards), and that run's machine facts (``FACTS``: machine_id, cpu_model, cores, RAM, OS,
  Python, commit) equal the row's; a merged sweep's machine_id is its shards' one machine
  (or ``multiple``), so no JSON can file rows under a machine they did not run on.

Rows that are `ok` but `correct=False` are honest results of a wrong implementation: they are
reported as warnings, and make validation fail only with ``strict=True``.

The column checks are a pandera schema (lazy: every failure is collected, not the first).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import families, profiles, registry, results
from .. import untrusted as U
from ..kernels.queues._common import TALLIES
from ..rows import DEVICE_KINDS, DTYPES, FRAMEWORKS, MODES, STATUSES

if TYPE_CHECKING:
    import pandas

MIN_ROUNDS = 3
TIMING = ("compile_s", "time_median_s", "time_iqr_s", "time_min_s")
# counts: positive integers (n_checked and the sizes may be 0); device_count is 0 where a
# device kind is absent
COUNTS = ("rounds", "threads", "cpu_cores", "ram_bytes")
# the machine facts a row repeats from its run's JSON context
FACTS = ("machine_id", "git_commit", "cpu_model", "cpu_cores", "ram_bytes", "os", "python")
# control characters other than tab and newline (which an error message may hold)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
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

    finite = pa.Check(lambda s: ~np.isinf(s), name="finite", error="finite")
    num = {"dtype": float, "nullable": True, "coerce": True}
    nonneg = [pa.Check.ge(0), finite]
    integer = pa.Check(lambda s: s.isna() | (s == np.floor(s)), name="integer", error="an integer")
    full = {"case_id": r"\A[0-9a-f]{12}\Z", "name": NAME}
    cols = {  # run_id, git_commit, machine_id: _names (they name folders and files)
        "schema_version": pa.Column(int, coerce=True),
        "run_id": pa.Column(str),
        "timestamp_utc": pa.Column(str),
        "git_commit": pa.Column(str),
        "machine_id": pa.Column(str),
        "device_kind": pa.Column(str, pa.Check.isin(DEVICE_KINDS)),
        "family": pa.Column(str, pa.Check.str_matches(full["name"])),
        "impl": pa.Column(str, pa.Check.str_matches(full["name"])),
        "framework": pa.Column(str, pa.Check.isin(FRAMEWORKS)),
        "mode": pa.Column(str, pa.Check.isin(MODES)),
        "dtype": pa.Column(str, pa.Check.isin(DTYPES)),
        "dataset": pa.Column(str, pa.Check.str_matches(full["name"])),
        "status": pa.Column(str, pa.Check.isin(STATUSES)),
        "case_id": pa.Column(str, pa.Check.str_matches(full["case_id"])),
        **{c: pa.Column(**num, checks=[pa.Check.ge(1), finite, integer]) for c in COUNTS},
        "device_count": pa.Column(**num, checks=[pa.Check.ge(0), finite, integer]),
        "throughput": pa.Column(**num, checks=[pa.Check.gt(0), finite]),
        "throughput_unit": pa.Column(str, pa.Check.isin(list(families.units())), nullable=True),
        "peak_mem_bytes": pa.Column(**num, checks=nonneg),
        **{c: pa.Column(**num, checks=nonneg) for c in results.MEMORY_COLUMNS},
        "cost_flops": pa.Column(**num, checks=nonneg),
        "cost_bytes": pa.Column(**num, checks=nonneg),
        "cost_loops": pa.Column(**num, checks=[pa.Check.ge(0), finite, integer]),
        "cost_trips": pa.Column(**num, checks=[pa.Check.ge(1), finite, integer]),
        "mem_method": pa.Column(str, pa.Check.str_matches(full["name"]), nullable=True),
        "param_tally": pa.Column(str, pa.Check.isin(list(TALLIES)), nullable=True),
        "max_err": pa.Column(**num, checks=nonneg),
        "n_checked": pa.Column(**num, checks=nonneg),
        "epochs_to_target": pa.Column(**num, checks=[pa.Check.ge(1), finite, integer]),
        "time_to_target_s": pa.Column(**num, checks=nonneg),
        "correct": pa.Column(str, pa.Check.isin(["True", "False"]), nullable=True),
        "git_dirty": pa.Column(str, pa.Check.isin(["True", "False"]), nullable=True),
        **{c: pa.Column(**num, checks=nonneg) for c in TIMING},
        **{c: pa.Column(**num, checks=[pa.Check.in_range(0, 1), finite]) for c in FRACTIONS},
        **{
            c: pa.Column(**num, checks=nonneg)
            for c in results.PARAM_COLUMNS
            if c not in results.TEXT_PARAMS
        },
    }
    return pa.DataFrameSchema(cols, strict=False)


def read_csv(path) -> pandas.DataFrame:
    """An untrusted results CSV as text cells (empty cells NaN), read through
    ``untrusted.read_text``; UntrustedError naming the file when it is not a readable CSV."""
    import pandas as pd

    text = U.read_text(path, U.MAX_CSV_BYTES, "CSV")
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise U.UntrustedError(f"{path}: not a readable CSV ({exc})") from None


def _read(path: Path, rep: Report):
    try:
        df = read_csv(path)
    except U.UntrustedError as exc:
        rep.error(None, str(exc).removeprefix(f"{path}: "))
        return None
    if "schema_version" not in df.columns:
        rep.error(None, "no schema_version column: not a spikebench results CSV")
        return None
    if df.empty:
        rep.error(None, "the CSV holds a header but no row (nothing to submit)")
        return None
    versions = set(df["schema_version"].dropna())
    try:
        (v,) = {int(x) for x in versions} or {results.SCHEMA_VERSION}
    except ValueError:
        rep.error(None, f"schema_version must be one integer, got {sorted(versions)}")
        return None
    if v > results.SCHEMA_VERSION:
        rep.error(
            None,
            f"schema v{v} is newer than this spikebench "
            f"(v{results.SCHEMA_VERSION}): update spikebench",
        )
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
        rep.error(
            None, f"unknown column(s) for schema v{results.SCHEMA_VERSION}: {', '.join(unknown)}"
        )
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
            elif check in ("finite", "an integer"):
                msg = f"column {col}: {value!r} is not {check}"
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
        rep.error(
            lines[0],
            f"duplicate row: run {run} case {case} again on line(s) "
            f"{', '.join(map(str, lines[1:]))}",
        )


def _names(df, rep: Report):
    """Fields that become folder and file names (submit, merge) follow untrusted.safe_name's
    rule; one error per distinct bad value, at its first line."""
    for col in ("run_id", "git_commit", "machine_id"):
        for value, g in df.groupby(col, sort=False, dropna=False):
            why = U.name_problem(value)
            if why:
                rep.error(
                    _line(g.index[0]),
                    f"column {col}: {why}: not a safe folder name ({len(g)} rows)",
                )


def _formulas(df, rep: Report):
    """Cells a spreadsheet would run as formulas (CSV injection) and control characters are
    refused: nothing the suite writes holds them, so such a cell was put there by hand."""
    for col in df.columns:
        for i, v in df[col].items():
            if not isinstance(v, str):
                continue
            if U.formula_cell(v):
                rep.error(
                    _line(i),
                    f"column {col}: {v[:40]!r} starts like a spreadsheet "
                    f"formula (=, +, -, @, |, tab or CR, after spaces)",
                )
            elif CONTROL.search(v):
                rep.error(_line(i), f"column {col}: {v[:40]!r} holds a control character")


def _known(df, rep: Report):
    """Families registered on this machine and their implementations (the profiles name
    every built-in one); one error per unknown value, at its first line."""
    known = profiles.implementations()
    for key in registry.REGISTRY:  # and what is registered here (a plugin's implementations)
        known.setdefault(key[0], set()).add(key[1])
    for fam, g in df.groupby("family", sort=False):
        if fam not in families.FAMILIES:
            rep.error(
                _line(g.index[0]),
                f"column family: {fam!r} is not a family registered "
                f"here ({', '.join(sorted(families.FAMILIES))}); a "
                f"plugin's rows validate where it is installed "
                f"({len(g)} rows)",
            )
            continue
        for impl, h in g.groupby("impl", sort=False):
            if impl not in known.get(fam, ()):
                rep.error(
                    _line(h.index[0]),
                    f"column impl: {impl!r} is not an implementation "
                    f"of {fam} ({', '.join(sorted(known.get(fam, ())))}; "
                    f"{len(h)} rows)",
                )


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
        need = [
            c
            for c in ("time_median_s", "time_min_s", "time_iqr_s", "rounds", "throughput")
            if np.isnan(r[c])
        ]
        need += [
            c for c in ("samples_s", "throughput_unit", "correct") if not isinstance(r[c], str)
        ]
        if need:
            rep.error(line, f"an ok row needs {', '.join(need)}")
            continue
        if r["rounds"] < MIN_ROUNDS:
            rep.error(line, f"rounds = {int(r['rounds'])} < {MIN_ROUNDS}")
        if r["time_min_s"] > r["time_median_s"] * (1 + REL):
            rep.error(line, f"time_min_s {r['time_min_s']} > time_median_s {r['time_median_s']}")
        _samples(r, line, rep)
        _work(r, line, rep)
        if r["mode"] == "train":
            _curve(r, line, rep)
        if r["correct"] == "False":
            msg = (
                f"{r['family']}/{r['impl']}/{r['framework']} is incorrect here "
                f"(max_err {r['max_err']})"
            )
            (rep.error if strict else rep.warn)(line, msg)


def _samples(r, line, rep: Report):
    try:
        s = np.array(r["samples_s"].split(), dtype=float)
    except ValueError:
        rep.error(line, f"samples_s is not a list of numbers: {r['samples_s'][:40]!r}")
        return
    if len(s) != r["rounds"]:
        rep.error(line, f"samples_s holds {len(s)} samples but rounds = {int(r['rounds'])}")
        return
    if np.any(~np.isfinite(s)) or np.any(s < 0):
        rep.error(line, "samples_s holds a negative or non-finite time")
        return
    q1, q3 = np.percentile(s, [25, 75])
    for col, got in (
        ("time_median_s", np.median(s)),
        ("time_min_s", s.min()),
        ("time_iqr_s", q3 - q1),
    ):
        scale = max(abs(r["time_median_s"]), 1e-300)
        if abs(got - r[col]) > REL * scale:
            rep.error(
                line, f"{col} = {r[col]:.9g} but the raw samples give {got:.9g} (edited figure?)"
            )


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
            rep.error(line, f"no epoch reached the target {r['target']}, yet a time to it is given")
        return
    first = int(hit[0])
    if (
        r["epochs_to_target"] != first + 1
        or abs(r["time_to_target_s"] - times[first]) > REL * max(times[first], 1e-300) + 1e-9
    ):
        rep.error(
            line,
            f"the curve reaches {r['target']} at epoch {first + 1} after "
            f"{times[first]:.6g} s, not at epoch {r['epochs_to_target']} after "
            f"{r['time_to_target_s']} s (edited figure?)",
        )


def _work(r, line, rep: Report):
    cols = families.units()[r["throughput_unit"]]
    if cols is None:
        return
    sizes = [r[c] for c in cols]
    if any(np.isnan(x) for x in sizes):
        rep.error(
            line,
            f"throughput in {r['throughput_unit']} needs "
            f"{', '.join(c for c, x in zip(cols, sizes, strict=True) if np.isnan(x))}",
        )
        return
    work = float(np.prod(sizes))
    got = r["throughput"] * r["time_median_s"]
    if abs(got - work) > REL * work:
        rep.error(
            line,
            f"throughput {r['throughput']:.6g} {r['throughput_unit']} x median "
            f"{r['time_median_s']:.6g} s = {got:.6g}, but the sizes give "
            f"{work:.6g} (edited figure?)",
        )


def _same(row_value, ctx_value) -> bool:
    """A row's fact against the JSON's (numbers as numbers, empty cells as null)."""
    if ctx_value is None or (isinstance(row_value, float) and np.isnan(row_value)):
        return ctx_value is None and (
            row_value is None or (isinstance(row_value, float) and np.isnan(row_value))
        )
    if isinstance(ctx_value, (int, float)) and not isinstance(ctx_value, bool):
        try:
            return float(row_value) == float(ctx_value)
        except (TypeError, ValueError):
            return False
    return str(row_value) == str(ctx_value)


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
    # a merged sweep (spikebench merge) lists its shards' contexts; each row belongs to one
    shards = list(ctx.get("shards") or [])
    if shards:
        machines = sorted({s["machine_id"] for s in shards})
        want = machines[0] if len(machines) == 1 else "multiple"
        if ctx["machine_id"] != want:
            rep.error(
                None,
                f"{ctx_path.name}: machine_id {ctx['machine_id']!r} but its shards "
                f"ran on {', '.join(machines)} (a merged sweep is filed under "
                f"{want!r})",
            )
    runs = {s["run_id"]: s for s in shards}
    runs.setdefault(ctx["run_id"], ctx)
    for run, g in df.groupby("run_id", sort=False):
        part = runs.get(run)
        if part is None:
            rep.error(
                _line(g.index[0]),
                f"run_id {run!r} is not the run of {ctx_path.name} "
                f"({', '.join(sorted(runs))}; {len(g)} rows)",
            )
            continue
        for col in FACTS:
            if col not in part:
                continue  # an older context without the fact
            bad = [i for i, v in g[col].items() if not _same(v, part[col])]
            if bad:
                rep.error(
                    _line(bad[0]),
                    f"{col} {g[col][bad[0]]!r} disagrees with "
                    f"{ctx_path.name} (run {run}: {part[col]!r}; "
                    f"{len(bad)} rows)",
                )
    return ctx


def validate(path, strict: bool = False) -> Report:
    """Validate one results CSV (and the JSON beside it)."""
    path = Path(path)
    rep = Report(path)
    df = _read(path, rep)
    if df is None:
        return rep
    rep.n_rows = len(df)
    _duplicates(df, rep)
    _names(df, rep)
    _formulas(df, rep)
    _known(df, rep)
    if rep.migrated_from is not None:
        rep.warn(None, f"schema v{rep.migrated_from} migrated to v{results.SCHEMA_VERSION}")
    typed = _schema_errors(df, rep)
    if typed is None:
        return rep  # the row checks need parsed columns
    _rows(typed, rep, strict)
    _context(path, typed, rep)
    return rep
