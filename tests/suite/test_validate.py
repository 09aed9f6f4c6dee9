"""spikebench validate: a real results file passes; each class of broken file is rejected with a
line-numbered message, and the CLI's exit code says so."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from spikebench import validate as V
from spikebench.cli import app
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
    # the committed file is schema v4: read as v7 (inputs_version unknown, no training
    # columns), and said so
    assert rep.n_rows == 405 and len(rep.warnings) == 1 and "v4 migrated to v7" in \
        rep.warnings[0]


def test_older_schemas_are_migrated_and_said_so():
    old = sorted((ROOT / "results").rglob("*ef77e70e1ad4.csv"))[0]  # schema v2
    rep = V.validate(old)
    assert rep.ok and rep.migrated_from == 2
    assert any("schema v2 migrated to v7" in w for w in rep.warnings)


def _cell(col, row, value):
    """An edit that puts `value` into column `col` of data row `row` (CSV line row + 2)."""
    return lambda df: df.assign(**{col: df[col].where(df.index != row, value)})


@pytest.mark.parametrize("name,edit,message", [
    ("missing column", lambda df: df.drop(columns=["time_iqr_s"]),
     r"missing column\(s\)( of schema v4)?: time_iqr_s"),
    ("unknown column", lambda df: df.assign(speedup="44"), r"unknown column\(s\).*speedup"),
    ("wrong type", _cell("time_median_s", 3, "fast"),
     r":5: column time_median_s: 'fast' is not of the expected"),
    ("negative time", _cell("compile_s", 0, "-1.5"),
     r":2: column compile_s: -1\.5 fails greater_than_or_equal"),
    ("unknown status", _cell("status", 1, "great"), r":3: column status: 'great' fails isin"),
    ("duplicate row", lambda df: pd.concat([df, df.iloc[[7]]], ignore_index=True),
     r"duplicate row"),
    ("newer schema", lambda df: df.assign(schema_version="9"), r"schema v9 is newer"),
    ("fraction out of range", _cell("drop_rate", 2, "1.5"),
     r":4: column drop_rate: 1\.5 fails in_range"),
    ("script in an id", _cell("impl", 0, "<script>alert(1)</script>"),
     r":2: column impl: .*fails str_matches"),
])
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


@pytest.mark.parametrize("col,message", [
    ("time_median_s", r"time_median_s = .* but the raw samples give .*edited figure"),
    ("time_min_s", r"time_min_s = .* but the raw samples give"),
    ("time_iqr_s", r"time_iqr_s = .* but the raw samples give"),
    ("throughput", r"throughput .* x median .* but the sizes give .*edited figure"),
])
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
    from spikebench import submit as S

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
    from spikebench import submit as S

    _edit(good, _tamper("throughput", 3.0))
    root = tmp_path / "results"
    with pytest.raises(ValueError, match="is not valid"):
        S.submit(good, root, names=[])
    assert not root.exists() or not any(root.rglob("*.*"))


def test_submit_anonymises_the_hostname_unless_asked(good, tmp_path):
    from spikebench import submit as S

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
