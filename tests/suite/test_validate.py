"""spikebench validate: a real results file passes; each class of broken file is rejected with a
line-numbered message, and the CLI's exit code says so."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from spikebench import results
from spikebench.cli import app
from spikebench.submission import validate as V
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "results" / "amd-epyc-0a7c9cdf" / "20261123T223706Z-3537fc340a41.csv"


@pytest.fixture
def good(tmp_path):
    dst = tmp_path / GOOD.name
    shutil.copy(GOOD, dst)
    shutil.copy(GOOD.with_suffix(".json"), dst.with_suffix(".json"))
    return dst


def _edit(path, fn):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df = fn(df)
    df.to_csv(path, index=False)
    return path


def _first_ok(df):
    return df.index[df["status"] == "ok"][0]


def test_a_real_results_file_is_valid(good):
    rep = V.validate(good)
    assert rep.ok, rep.errors[:5]
    # the committed file is schema v4: read as the current one (inputs_version unknown, no
    # training columns, kernel_version marked a module hash), and said so
    assert (
        rep.n_rows == 405
        and len(rep.warnings) == 1
        and f"v4 migrated to v{results.SCHEMA_VERSION}" in rep.warnings[0]
    )


def test_older_schemas_are_migrated_and_said_so():
    old = sorted((ROOT / "results").rglob("*ef77e70e1ad4.csv"))[0]  # schema v2
    rep = V.validate(old)
    assert rep.ok and rep.migrated_from == 2
    assert any(f"schema v2 migrated to v{results.SCHEMA_VERSION}" in w for w in rep.warnings)


def _cell(col, row, value):
    """An edit that puts `value` into column `col` of data row `row` (CSV line row + 2)."""
    return lambda df: df.assign(**{col: df[col].where(df.index != row, value)})


@pytest.mark.parametrize(
    "name,edit,message",
    [
        (
            "missing column",
            lambda df: df.drop(columns=["time_iqr_s"]),
            r"missing column\(s\)( of schema v4)?: time_iqr_s",
        ),
        ("unknown column", lambda df: df.assign(speedup="44"), r"unknown column\(s\).*speedup"),
        (
            "wrong type",
            _cell("time_median_s", 3, "fast"),
            r":5: column time_median_s: 'fast' is not of the expected",
        ),
        (
            "negative time",
            _cell("compile_s", 0, "-1.5"),
            r":2: column compile_s: -1\.5 fails greater_than_or_equal",
        ),
        ("unknown status", _cell("status", 1, "great"), r":3: column status: 'great' fails isin"),
        (
            "duplicate row",
            lambda df: pd.concat([df, df.iloc[[7]]], ignore_index=True),
            r"duplicate row",
        ),
        (
            "newer schema",
            lambda df: df.assign(schema_version=str(results.SCHEMA_VERSION + 1)),
            rf"schema v{results.SCHEMA_VERSION + 1} is newer",
        ),
        (
            "fraction out of range",
            _cell("drop_rate", 2, "1.5"),
            r":4: column drop_rate: 1\.5 fails in_range",
        ),
        (
            "script in an id",
            _cell("impl", 0, "<script>alert(1)</script>"),
            r":2: column impl: .*fails str_matches",
        ),
    ],
)
def test_broken_files_are_rejected_with_their_line(good, name, edit, message):
    rep = V.validate(_edit(good, edit))
    assert not rep.ok, name
    assert any(re.search(message, e) for e in rep.errors), rep.errors[:5]
    assert all(e.startswith(str(good)) for e in rep.errors)


def _tamper(col, factor):
    def fn(df):
        i = _first_ok(df)
        df.loc[i, col] = repr(float(df.loc[i, col]) * factor)
        return df

    return fn


@pytest.mark.parametrize(
    "col,message",
    [
        ("time_median_s", r"time_median_s = .* but the raw samples give .*edited figure"),
        ("time_min_s", r"time_min_s = .* but the raw samples give"),
        ("time_iqr_s", r"time_iqr_s = .* but the raw samples give"),
        ("throughput", r"throughput .* x median .* but the sizes give .*edited figure"),
    ],
)
def test_an_edited_figure_is_caught_by_the_raw_samples_and_sizes(good, col, message):
    rep = V.validate(_edit(good, _tamper(col, 0.5)))
    assert any(re.search(message, e) for e in rep.errors), rep.errors
    line = rep.errors[0].split(":")[1]
    assert line == str(_first_ok(pd.read_csv(good)) + 2)


def test_ok_rows_need_their_figures_and_other_rows_an_error(good):
    def fn(df):
        i = _first_ok(df)
        df.loc[i, "samples_s"] = ""
        df.loc[i + 1, "rounds"] = "2"
        j = df.index[df["status"] == "unsupported"][0]
        df.loc[j, "error"] = ""
        return df

    rep = V.validate(_edit(good, fn))
    text = "\n".join(rep.errors)
    assert "an ok row needs samples_s" in text
    assert "rounds = 2 < 3" in text
    assert "status 'unsupported' without an error message" in text


def test_incorrect_rows_warn_and_fail_only_when_strict(good):
    _edit(good, _cell("correct", 0, "False"))
    rep = V.validate(good)
    assert rep.ok and any("is incorrect here" in w for w in rep.warnings)
    assert not V.validate(good, strict=True).ok


def test_csv_and_json_must_agree(good):
    ctx_path = good.with_suffix(".json")
    ctx = json.loads(ctx_path.read_text())
    ctx_path.write_text(json.dumps({**ctx, "machine_id": "someone-else"}))
    rep = V.validate(good)
    assert any("machine_id 'amd-epyc-0a7c9cdf' disagrees with" in e for e in rep.errors)
    ctx_path.write_text(json.dumps({**ctx, "git_commit": "0123456789ab"}))
    assert any("git_commit" in e for e in V.validate(good).errors)
    ctx_path.unlink()
    assert any("no JSON context" in e for e in V.validate(good).errors)
    ctx_path.write_text("{not json")
    assert any("is not valid JSON" in e for e in V.validate(good).errors)


def test_not_a_results_file(tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    assert "no schema_version column" in V.validate(tmp_path / "x.csv").errors[0]
    assert "no such file" in V.validate(tmp_path / "none.csv").errors[0]


def test_cli_exit_code(good, tmp_path):
    res = CliRunner().invoke(app, ["validate", str(good)])
    assert res.exit_code == 0 and "valid (405 rows, 0 errors" in res.output
    bad = tmp_path / "bad" / good.name
    bad.parent.mkdir()
    shutil.copy(good, bad)
    shutil.copy(good.with_suffix(".json"), bad.with_suffix(".json"))
    _edit(bad, lambda df: df.drop(columns=["status"]))
    res = CliRunner().invoke(app, ["validate", str(good), str(bad)])
    assert res.exit_code == 1 and "missing column(s) of schema v4: status" in res.output


# -- submit --------------------------------------------------------------------------------


def test_submit_files_a_valid_run_and_never_overwrites(good, tmp_path):
    from spikebench.submission import submit as S

    root = tmp_path / "results"
    dest, rep = S.submit(good, root, names=[])
    assert dest == root / "amd-epyc-0a7c9cdf" / good.name and rep.ok
    assert dest.read_text() == good.read_text() and dest.with_suffix(".json").exists()
    before = dest.read_bytes()
    with pytest.raises(ValueError, match="already filed"):  # the same run again
        S.submit(good, root, names=[])
    renamed = tmp_path / "again" / good.name
    renamed.parent.mkdir()
    shutil.copy(good, renamed)
    ctx = json.loads(good.with_suffix(".json").read_text())
    renamed.with_suffix(".json").write_text(json.dumps({**ctx, "run_id": "another0run"}))
    _edit(renamed, lambda df: df.assign(run_id="another0run"))
    with pytest.raises(ValueError, match="exists; results are never overwritten"):
        S.submit(renamed, root, names=[])
    assert dest.read_bytes() == before
    res = CliRunner().invoke(app, ["submit", str(good), "--results", str(root)])
    assert res.exit_code == 1 and "not submitted" in res.output


def test_submit_refuses_an_invalid_run_and_writes_nothing(good, tmp_path):
    from spikebench.submission import submit as S

    _edit(good, _tamper("throughput", 3.0))
    root = tmp_path / "results"
    with pytest.raises(ValueError, match="is not valid"):
        S.submit(good, root, names=[])
    assert not root.exists() or not any(root.rglob("*.*"))


def test_submit_anonymises_the_hostname_unless_asked(good, tmp_path):
    from spikebench.submission import submit as S

    host = "lab-box-7.example.org"

    def fn(df):
        j = df.index[df["status"] == "unsupported"][0]
        df.loc[j, "error"] = f"failed on {host} in /home/ann"
        df["os"] = f"Linux {host}"  # a fact in both files, anonymised in both
        return df

    _edit(good, fn)
    ctx_path = good.with_suffix(".json")
    ctx = json.loads(ctx_path.read_text())
    ctx_path.write_text(json.dumps({**ctx, "hostname": host, "os": f"Linux {host}"}))
    dest, _ = S.submit(good, tmp_path / "anon", names=[host, "lab-box-7"])
    for p in (dest, dest.with_suffix(".json")):
        assert "lab-box-7" not in p.read_text()
    assert "failed on host-" in dest.read_text()
    assert "hostname" not in json.loads(dest.with_suffix(".json").read_text())
    assert V.validate(dest).ok
    kept, _ = S.submit(good, tmp_path / "kept", keep_hostname=True, names=[host])
    assert host in kept.read_text()


TRAIN = ROOT / "results" / "amd-epyc-0a7c9cdf" / "20261207T114502Z-2c7085f650b4.csv"


@pytest.fixture
def train_file(tmp_path):
    """The train rows of a real v7 run (and one forward row), with their JSON."""
    df = pd.read_csv(TRAIN, dtype=str, keep_default_na=False)
    df = pd.concat(
        [df[df["mode"] == "train"], df[df["mode"] != "train"].head(1)], ignore_index=True
    )
    dst = tmp_path / TRAIN.name
    df.to_csv(dst, index=False)
    shutil.copy(TRAIN.with_suffix(".json"), dst.with_suffix(".json"))
    assert V.validate(dst).ok, V.validate(dst).errors[:3]
    return dst


def _row_errors(path, fn):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    fn(df)
    df.to_csv(path, index=False)
    return V.validate(path).errors


def test_train_rows_are_held_to_their_curve(train_file):
    """Each figure of a train row against its raw learning curve (edited ones show)."""

    def edit_accuracy(df):
        df.loc[0, "accuracy"] = repr(float(df.loc[0, "accuracy"]) - 0.01)

    errs = _row_errors(train_file, edit_accuracy)
    assert any(":2: accuracy = " in e and "but the curve ends at" in e for e in errs), errs

    def bad_curve(df):
        n = len(df.loc[0, "curve_accuracy"].split())
        df.loc[0, "curve_accuracy"] = " ".join(["0.5", "1.5"] + ["0.5"] * (n - 2))

    errs = _row_errors(train_file, bad_curve)
    assert any(":2: curve_accuracy needs one accuracy in [0, 1] per epoch" in e for e in errs)


def test_train_rows_need_a_curve_and_target(train_file):
    errs = _row_errors(
        train_file, lambda df: df.__setitem__("target", [""] + list(df["target"][1:]))
    )
    assert any(":2: a train row needs curve_accuracy and target" in e for e in errs), errs


def test_train_rows_time_to_target_follows_the_curve(train_file):
    def shift(df):
        df.loc[0, "epochs_to_target"] = (
            str(int(float(df.loc[0, "epochs_to_target"])) + 1)
            if df.loc[0, "epochs_to_target"]
            else "1"
        )

    errs = _row_errors(train_file, shift)
    assert any(":2: the curve reaches" in e and "(edited figure?)" in e for e in errs) or any(
        ":2: no epoch reached the target" in e for e in errs
    ), errs


def test_row_rules_name_their_line_and_every_row_is_checked(good):
    """A non-ok row does not stop the checks of the rows after it, and each error names its
    own line."""

    def fn(df):
        i = _first_ok(df)
        df.loc[i, "status"] = "failed"  # a failed row without its error message
        df.loc[i, "error"] = ""
        df.loc[i + 1, "status"] = "failed"  # a failed row with a median time
        df.loc[i + 1, "error"] = "it broke"
        df.loc[i + 2, "time_median_s"] = ""  # an ok row without its median
        df.loc[i + 3, "samples_s"] = ""  # ... without samples and correctness
        df.loc[i + 3, "correct"] = ""
        df.loc[i + 4, "rounds"] = "2"
        df.loc[i + 4, "samples_s"] = " ".join(df.loc[i + 4, "samples_s"].split()[:2])
        return i

    df = pd.read_csv(good, dtype=str, keep_default_na=False)
    i = fn(df)
    df.to_csv(good, index=False)
    errs = V.validate(good).errors
    line = i + 2

    def has(n, text):
        return any(e.startswith(f"{good}:{n}: ") and text in e for e in errs)

    assert has(line, "status 'failed' without an error message"), errs
    assert has(line + 1, "status 'failed' but a median time is given"), errs
    assert has(line + 2, "an ok row needs time_median_s"), errs
    assert has(line + 3, "an ok row needs samples_s, correct"), errs
    assert has(line + 4, "rounds = 2 < 3"), errs


def test_time_min_may_equal_the_median_but_not_exceed_it(good):
    def steady(df, factor):
        i = _first_ok(df)
        n = int(float(df.loc[i, "rounds"]))
        m = float(df.loc[i, "time_median_s"])
        df.loc[i, "samples_s"] = " ".join([repr(m)] * n)
        df.loc[i, "time_iqr_s"] = "0.0"
        df.loc[i, "time_min_s"] = repr(m * factor)
        return i

    df = pd.read_csv(good, dtype=str, keep_default_na=False)
    steady(df, 1.0)
    df.to_csv(good, index=False)
    assert V.validate(good).ok, V.validate(good).errors[:3]  # every sample the median
    df = pd.read_csv(good, dtype=str, keep_default_na=False)
    i = steady(df, 1.001)
    df.to_csv(good, index=False)
    errs = V.validate(good).errors
    assert any(
        e.startswith(f"{good}:{i + 2}: time_min_s") and "> time_median_s" in e for e in errs
    ), errs


def test_a_fact_the_json_leaves_empty_must_be_empty_in_the_rows(good):
    ctx_path = good.with_suffix(".json")
    ctx = json.loads(ctx_path.read_text())
    ctx_path.write_text(json.dumps({**ctx, "cpu_model": None}))
    errs = V.validate(good).errors
    assert any("cpu_model" in e and "disagrees with" in e for e in errs), errs
    df = pd.read_csv(good, dtype=str, keep_default_na=False)
    df["cpu_model"] = ""
    df.to_csv(good, index=False)
    assert V.validate(good).ok, V.validate(good).errors[:3]


def _train_row(df, times, acc, target, epochs=None, time_to=None):
    """Row 0 as a train row with these epoch times and curve, every figure consistent (unless
    `epochs` / `time_to` override the time to target)."""
    s = [float(x) for x in times]
    q1, q3 = (float(q) for q in np.percentile(s, [25, 75]))
    hit = [k for k, a in enumerate(acc) if a >= target]
    cum = np.cumsum(s)
    df.loc[
        0,
        [
            "samples_s",
            "rounds",
            "time_median_s",
            "time_min_s",
            "time_iqr_s",
            "curve_accuracy",
            "accuracy",
            "target",
            "epochs_to_target",
            "time_to_target_s",
        ],
    ] = [
        " ".join(map(repr, s)),
        str(len(s)),
        repr(float(np.median(s))),
        repr(min(s)),
        repr(q3 - q1),
        " ".join(map(repr, map(float, acc))),
        repr(float(acc[-1])),
        repr(target),
        str(epochs if epochs is not None else (hit[0] + 1 if hit else "")),
        repr(time_to if time_to is not None else (float(cum[hit[0]]) if hit else ""))
        if (time_to is not None or hit)
        else "",
    ]


def test_train_curve_edges(train_file):
    def errors(**kw):
        return _row_errors(train_file, lambda df: _train_row(df, **kw))

    base = {"times": [0.5, 0.5, 0.5], "target": 0.8}
    assert errors(acc=[0.0, 0.5, 1.0], **base) == []  # 0 and 1 are accuracies
    assert errors(acc=[0.2, 0.8, 0.9], **base) == []  # reaching the target exactly counts
    errs = errors(acc=[0.2, float("nan"), 0.9], **base)
    assert any(
        ":2: curve_accuracy needs one accuracy in [0, 1] per epoch (3)" in e for e in errs
    ), errs
    errs = errors(acc=[0.2, 0.9], **base)  # two accuracies for three epochs
    assert any(
        ":2: curve_accuracy needs one accuracy in [0, 1] per epoch (3)" in e for e in errs
    ), errs
    for bad in ([0.2, -0.1, 0.9], [0.2, 1.5, 0.9]):
        errs = errors(acc=bad, **base)
        assert any(
            ":2: curve_accuracy needs one accuracy in [0, 1] per epoch (3)" in e for e in errs
        ), errs


def test_train_accuracy_message_names_the_curves_end(train_file):
    def fn(df):
        _train_row(df, times=[0.5, 0.5, 0.5], acc=[0.25, 0.5, 0.75], target=0.9)
        df.loc[0, "accuracy"] = "0.7"

    errs = _row_errors(train_file, fn)
    assert any(":2: accuracy = 0.7 but the curve ends at 0.75" in e for e in errs), errs


def test_train_time_to_target_tolerance(train_file):
    def errors(times, time_to, epochs=None, acc=(0.5, 0.9, 0.95)):
        return _row_errors(
            train_file,
            lambda df: _train_row(
                df, times=times, acc=list(acc), target=0.85, epochs=epochs, time_to=time_to
            ),
        )

    # reached at epoch 2: after times[0] + times[1]; REL relative plus 1 ns absolute
    assert errors([0.05, 0.05, 0.05], 0.1 + 0.4e-9) == []
    assert errors([0.05, 0.05, 0.05], 0.1 + 5e-7) != []  # 5 us past 1e-6 * 0.1 s + 1 ns
    assert errors([5.0, 5.0, 5.0], 10.0 + 5e-6) == []  # within 1e-6 * 10 s
    assert errors([1e-7, 1e-7, 1e-7], 2e-7 + 0.5e-9) == []
    errs = errors([0.5, 0.5, 0.5], 1.5)
    assert any(
        ":2: the curve reaches 0.85 at epoch 2 after 1 s, not at epoch 2.0 after 1.5 s" in e
        for e in errs
    ), errs
    errs = errors([0.5, 0.5, 0.5], 1.0, epochs=3)
    assert any("at epoch 2 after 1 s, not at epoch 3.0" in e for e in errs), errs


def test_train_row_without_reaching_the_target_has_no_time_to_it(train_file):
    def fn(which):
        def edit(df):
            _train_row(df, times=[0.5, 0.5], acc=[0.1, 0.2], target=0.9)
            df.loc[0, which] = "1" if which == "epochs_to_target" else "0.5"

        return edit

    for which in ("epochs_to_target", "time_to_target_s"):
        errs = _row_errors(train_file, fn(which))
        assert any(
            ":2: no epoch reached the target 0.9, yet a time to it is given" in e for e in errs
        ), (which, errs)


def test_incorrect_rows_warn_on_their_line(good):
    _edit(good, _cell("correct", 0, "False"))
    rep = V.validate(good)
    assert any(w.startswith(f"{good}:2: ") and "is incorrect here" in w for w in rep.warnings)
    assert any(e.startswith(f"{good}:2: ") for e in V.validate(good, strict=True).errors)


def test_whole_messages_of_file_level_errors(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n")
    assert V.validate(p).errors == [f"{p}: no schema_version column: not a spikebench results CSV"]
    p.write_text("schema_version,a\n")
    assert V.validate(p).errors == [f"{p}: the CSV holds a header but no row (nothing to submit)"]


def test_a_current_file_missing_a_column_is_named_and_not_migrated(tmp_path):
    # the committed v7 file as the current schema (v8 kept its columns, v9 and v10 added some)
    df = pd.read_csv(TRAIN, dtype=str, keep_default_na=False).head(3)
    df["schema_version"] = str(results.SCHEMA_VERSION)
    for col in ("param_tau_mem_ms", *results.COST_COLUMNS):
        df[col] = ""
    p = tmp_path / TRAIN.name
    df.to_csv(p, index=False)
    shutil.copy(TRAIN.with_suffix(".json"), p.with_suffix(".json"))
    rep = V.validate(p)
    assert rep.ok and rep.migrated_from is None and rep.warnings == []
    df.drop(columns=["state_bytes", "threads"]).to_csv(p, index=False)
    assert V.validate(p).errors == [f"{p}: missing column(s): threads, state_bytes"]
    df.assign(speedup="1", colour="red").to_csv(p, index=False)
    assert (
        f"{p}: unknown column(s) for schema v{results.SCHEMA_VERSION}: speedup, colour"
        in V.validate(p).errors
    )


def test_cells_are_text_as_written(good):
    """'NA', 'None' and 'nan' are not missing values: a correctness flag 'NA' is refused, an
    empty machine id is named."""
    errs = _row_errors(good, lambda df: df.__setitem__("correct", ["NA"] + list(df["correct"][1:])))
    assert any(":2: column correct: 'NA' fails isin" in e for e in errs), errs
    errs = _row_errors(
        good, lambda df: df.__setitem__("machine_id", [""] + list(df["machine_id"][1:]))
    )
    assert any(
        ":2: column machine_id: nan is not a string: not a safe folder name (1 rows)" in e
        for e in errs
    ), errs


def test_one_bad_cell_one_error(good):
    errs = _row_errors(
        good, lambda df: df.__setitem__("time_median_s", ["fast"] + list(df["time_median_s"][1:]))
    )
    assert errs == [f"{good}:2: column time_median_s: 'fast' is not of the expected type"], errs


def test_a_duplicate_is_the_same_run_and_case_whatever_its_figures(good):
    def fn(df):
        extra = df.iloc[[3]].copy()
        extra["compile_s"] = "9.5"
        return pd.concat([df, extra], ignore_index=True)

    df = pd.read_csv(good, dtype=str, keep_default_na=False)
    n = len(df)
    fn(df).to_csv(good, index=False)
    errs = V.validate(good).errors
    assert (
        f"{good}:5: duplicate row: run {df['run_id'][3]} case {df['case_id'][3]} again on "
        f"line(s) {n + 2}" in errs
    ), errs


def test_every_unknown_name_is_reported(good):
    def fn(df):
        df.loc[0, "family"] = "nosuch"
        df.loc[5, "impl"] = "nosuch"

    errs = _row_errors(good, fn)
    assert any(
        e.startswith(
            f"{good}:2: column family: 'nosuch' is not a family registered "
            f"here (event_lif, psu, queues, selftest)"
        )
        for e in errs
    ), errs
    assert any(
        e.startswith(
            f"{good}:7: column impl: 'nosuch' is not an implementation of "
            f"event_lif (bare_scan, eventprop, parallel, serial; 1 rows)"
        )
        for e in errs
    )


def test_samples_edges(good):
    def zero(df):
        i = _first_ok(df)
        s = [float(x) for x in df.loc[i, "samples_s"].split()]
        k = int(np.argmin(s))
        s[k] = 0.0  # a sample below the timer's resolution
        df.loc[i, "samples_s"] = " ".join(map(repr, s))
        df.loc[i, "time_min_s"] = "0.0"
        q1, q3 = np.percentile(s, [25, 75])
        df.loc[i, "time_iqr_s"] = repr(float(q3 - q1))
        m = float(np.median(s))
        work = float(df.loc[i, "throughput"]) * float(df.loc[i, "time_median_s"])
        df.loc[i, "time_median_s"], df.loc[i, "throughput"] = repr(m), repr(work / m)

    assert _row_errors(good, zero) == []

    def inf(df):
        i = _first_ok(df)
        s = df.loc[i, "samples_s"].split()
        df.loc[i, "samples_s"] = " ".join(s[:-1] + ["inf"])
        return i

    df = pd.read_csv(good, dtype=str, keep_default_na=False)
    i = inf(df)
    df.to_csv(good, index=False)
    assert (
        f"{good}:{i + 2}: samples_s holds a negative or non-finite time" in V.validate(good).errors
    )
    errs = _row_errors(
        good, lambda df: df.__setitem__("samples_s", ["0.1 x"] + list(df["samples_s"][1:]))
    )
    assert f"{good}:2: samples_s is not a list of numbers: '0.1 x'" in errs


def test_formula_and_control_messages_show_40_characters(good):
    long = "=" + "a" * 60
    errs = _row_errors(good, lambda df: df.__setitem__("error", [long] + list(df["error"][1:])))
    assert (
        f"{good}:2: column error: {long[:40]!r} starts like a spreadsheet formula (=, +, -, "
        f"@, |, tab or CR, after spaces)" in errs
    ), errs
    ctl = "x\x01" + "b" * 60
    errs = _row_errors(good, lambda df: df.__setitem__("error", [ctl] + list(df["error"][1:])))
    assert f"{good}:2: column error: {ctl[:40]!r} holds a control character" in errs, errs


def _merged(good, machines):
    """`good` as a merged sweep of two shards (rows split in two runs) on `machines`."""
    df = pd.read_csv(good, dtype=str, keep_default_na=False)
    ctx = json.loads(good.with_suffix(".json").read_text())
    half = len(df) // 2
    shards = []
    for k, (rows, m) in enumerate(
        ((slice(0, half), machines[0]), (slice(half, None), machines[1]))
    ):
        rid = f"shard{k}aaaaaa"
        df.loc[df.index[rows], "run_id"] = rid
        df.loc[df.index[rows], "machine_id"] = m
        shards.append(
            {
                **ctx,
                "run_id": rid,
                "machine_id": m,
                "shard": {"sweep_id": "s1", "index": k + 1, "count": 2, "n_cases": len(df)},
            }
        )
    df.to_csv(good, index=False)
    top = {
        **ctx,
        "run_id": "merged-s1",
        "shards": shards,
        "machine_id": machines[0] if machines[0] == machines[1] else "multiple",
    }
    good.with_suffix(".json").write_text(json.dumps(top))
    return df, top


@pytest.mark.parametrize(
    "machines,wrong,ran,want",
    [
        (["box-a", "box-a"], "multiple", "box-a", "box-a"),
        (["box-a", "box-b"], "box-a", "box-a, box-b", "multiple"),
    ],
)
def test_a_merged_sweep_is_filed_under_its_one_machine_or_multiple(
    good, machines, wrong, ran, want
):
    _, ctx = _merged(good, machines)
    assert V.validate(good).ok, V.validate(good).errors[:3]
    good.with_suffix(".json").write_text(json.dumps({**ctx, "machine_id": wrong}))
    assert V.validate(good).errors == [
        f"{good}: {good.with_suffix('.json').name}: machine_id '{wrong}' but its shards ran "
        f"on {ran} (a merged sweep is filed under '{want}')"
    ]


def test_rows_of_unknown_runs_and_disagreeing_facts_name_their_first_line(good):
    df, ctx = _merged(good, ["box-a", "box-b"])
    half = len(df) // 2
    df.loc[2, "run_id"] = df.loc[3, "run_id"] = "0123456789ab"
    df.loc[half + 1, "run_id"] = "ba9876543210"
    df.loc[5, "cpu_model"] = df.loc[7, "cpu_model"] = "Other CPU"
    df.to_csv(good, index=False)
    errs = V.validate(good).errors
    name = good.with_suffix(".json").name
    assert (
        f"{good}:4: run_id '0123456789ab' is not the run of {name} (merged-s1, "
        f"shard0aaaaaa, shard1aaaaaa; 2 rows)" in errs
    ), errs
    assert any(e.startswith(f"{good}:{half + 3}: run_id 'ba9876543210'") for e in errs), errs
    assert any(
        e.startswith(f"{good}:7: cpu_model 'Other CPU' disagrees with {name} (run shard0aaaaaa: ")
        and e.endswith("; 2 rows)")
        for e in errs
    ), errs


def test_more_whole_messages(good, tmp_path):
    p = tmp_path / "bin.csv"
    p.write_bytes(b"\xff\xfe\x00garbage\n")
    assert V.validate(p).errors == [
        f"{p}: not a readable CSV (not UTF-8 text: invalid start byte at byte 0)"
    ]
    df = pd.read_csv(good, dtype=str, keep_default_na=False)  # schema v4
    df.drop(columns=["time_iqr_s", "samples_s"]).to_csv(good, index=False)
    assert V.validate(good).errors == [
        f"{good}: missing column(s) of schema v4: samples_s, time_iqr_s"
    ] or V.validate(good).errors == [
        f"{good}: missing column(s) of schema v4: time_iqr_s, samples_s"
    ]


def test_a_row_three_times_names_both_repeats(good):
    df = pd.read_csv(good, dtype=str, keep_default_na=False)
    n = len(df)
    pd.concat([df, df.iloc[[3]], df.iloc[[3]]], ignore_index=True).to_csv(good, index=False)
    assert any(
        e.startswith(f"{good}:5: duplicate row:")
        and e.endswith(f"again on line(s) {n + 2}, {n + 3}")
        for e in V.validate(good).errors
    )


def test_a_formula_after_empty_cells_of_its_column_is_found(good):
    def fn(df):
        df["error"] = ""
        df.loc[6, "error"] = "=cmd()"

    errs = _row_errors(good, fn)
    assert any(e.startswith(f"{good}:8: column error: '=cmd()' starts like") for e in errs), errs


def test_samples_message_shows_40_characters_and_small_medians_are_held_to_rel(good):
    junk = "x" * 60
    errs = _row_errors(
        good, lambda df: df.__setitem__("samples_s", [junk] + list(df["samples_s"][1:]))
    )
    assert f"{good}:2: samples_s is not a list of numbers: {junk[:40]!r}" in errs

    def nudge(df):  # a 3 ms median moved by 0.01 %: 3e-7 s, below REL x 1 s, above REL of it
        i = _first_ok(df) + 1
        df.loc[i, "time_median_s"] = repr(float(df.loc[i, "time_median_s"]) * 1.0001)
        return i

    df = pd.read_csv(good, dtype=str, keep_default_na=False)
    i = nudge(df)
    assert float(df.loc[i, "time_median_s"]) < 1e-2
    df.to_csv(good, index=False)
    assert any(e.startswith(f"{good}:{i + 2}: time_median_s = ") for e in V.validate(good).errors)


def test_a_disagreeing_fact_quotes_its_first_row(good):
    def fn(df):
        df.loc[5, "cpu_model"] = "First CPU"
        df.loc[7, "cpu_model"] = "Second CPU"

    errs = _row_errors(good, fn)
    assert any(
        e.startswith(f"{good}:7: cpu_model 'First CPU' disagrees with") and e.endswith("; 2 rows)")
        for e in errs
    ), errs


def test_the_text_none_is_not_a_missing_fact(good):
    ctx_path = good.with_suffix(".json")
    ctx = json.loads(ctx_path.read_text())
    ctx_path.write_text(json.dumps({**ctx, "cpu_model": None}))
    errs = _row_errors(good, lambda df: df.__setitem__("cpu_model", "None"))
    assert any("cpu_model 'None' disagrees with" in e for e in errs), errs


def test_a_column_of_garbage_is_one_error_per_line(good):
    errs = _row_errors(good, lambda df: df.__setitem__("time_median_s", "fast"))
    lines = [e for e in errs if "column time_median_s" in e]
    assert lines and all(
        ": column time_median_s: 'fast' is not of the expected type" in e for e in lines
    ), lines
    assert (
        len(lines)
        == len({e.split(": column")[0] for e in lines})
        == len(pd.read_csv(good, dtype=str))
    )
