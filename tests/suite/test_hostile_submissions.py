"""The hostile-submission corpus: every file is generated here from a real run, edited the
way a hostile submitter (or a broken tool) would, and pushed through the command that reads
it -- validate, submit, merge, compare, report -- through the CLI, as a user runs it.

Each entry must end in a clear error (exit code != 0, a message naming the problem, no
traceback) or a correct result, and nothing may be written outside the target folder.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from spikebench import untrusted as U
from spikebench.cli import app
from spikebench.submission import submit as S
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "results" / "amd-epyc-0a7c9cdf" / "20261123T223706Z-3537fc340a41.csv"
N_ROWS = 24  # a slice of the real run keeps the corpus fast


@pytest.fixture
def run(tmp_path):
    """A valid results pair (CSV + JSON) under tmp_path/in/, fresh run_id."""
    folder = tmp_path / "in"
    folder.mkdir()
    df = pd.read_csv(GOOD, dtype=str, keep_default_na=False).head(N_ROWS)
    ctx = json.loads(GOOD.with_suffix(".json").read_text())
    rid = uuid.uuid4().hex[:12]
    df["run_id"], ctx["run_id"] = rid, rid
    path = folder / "run.csv"
    df.to_csv(path, index=False)
    path.with_suffix(".json").write_text(json.dumps(ctx))
    return path


def edit(path, *, cells=None, ctx=None, raw_json=None, raw_csv=None, frame=None):
    """Apply a hostile edit: `cells` {column: value} on every row (or {column: (row, value)}),
    `frame` a function of the whole table, `ctx` a function of the JSON dict (or of its text,
    when it returns bytes), `raw_json` / `raw_csv` bytes replacing the file."""
    if cells:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        for col, v in cells.items():
            if isinstance(v, tuple):
                df.loc[v[0], col] = v[1]
            else:
                df[col] = v
        df.to_csv(path, index=False)
    if frame:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame(df).to_csv(path, index=False)
    if ctx:
        j = path.with_suffix(".json")
        new = ctx(json.loads(j.read_text()))
        j.write_bytes(new) if isinstance(new, bytes) else j.write_text(json.dumps(new))
    if raw_json is not None:
        path.with_suffix(".json").write_bytes(raw_json)
    if raw_csv is not None:
        path.write_bytes(raw_csv)
    return path


def cli(*args):
    res = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "2000"})
    assert "Traceback" not in res.output, res.output
    if res.exception is not None:
        assert isinstance(res.exception, SystemExit), repr(res.exception)
    return res


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _set_machine(m):
    return {"cells": {"machine_id": m}, "ctx": lambda c: {**c, "machine_id": m}}


DEEP = b"[" * 100_000 + b"]" * 100_000

# (name, edit kwargs, message expected from `spikebench validate`)
VALIDATE = [
    ("machine_id ..", _set_machine(".."), "folder reference"),
    ("machine_id .", _set_machine("."), "folder reference"),
    ("machine_id with a slash", _set_machine("../../etc"), "characters other than"),
    ("machine_id an option", _set_machine("-rf"), "starts with '-'"),
    ("machine_id too long", _set_machine("a" * 300), "longer than"),
    (
        "run_id ..",
        {"cells": {"run_id": ".."}, "ctx": lambda c: {**c, "run_id": ".."}},
        "folder reference",
    ),
    (
        "git_commit ..",
        {"cells": {"git_commit": ".."}, "ctx": lambda c: {**c, "git_commit": ".."}},
        "folder reference",
    ),
    ("JSON shards a number", {"raw_json": b'{"shards": 5}'}, "field run_id"),
    ("JSON holding only shards", {"raw_json": b'{"shards": []}'}, "field run_id"),
    ("JSON nested 100,000 deep", {"raw_json": DEEP}, "nested more than"),
    (
        "JSON nested 40 deep in a field",
        {"ctx": lambda c: {**c, "extra": json.loads("[" * 40 + "]" * 40)}},
        "nested more than",
    ),
    ("JSON top level a list", {"raw_json": b"[1, 2]"}, "not a JSON object"),
    ("JSON not UTF-8", {"raw_json": b"\xff\xfe{\x00"}, "not UTF-8 text"),
    ("JSON not JSON", {"raw_json": b"{'run_id': 1"}, "is not valid JSON"),
    ("JSON machine_id a number", {"ctx": lambda c: {**c, "machine_id": 5}}, "field machine_id"),
    (
        "JSON shard count 0",
        {"ctx": lambda c: {**c, "shard": {"sweep_id": "s", "index": 1, "count": 0, "n_cases": 3}}},
        "field shard.count",
    ),
    (
        "JSON shard index past count",
        {"ctx": lambda c: {**c, "shard": {"sweep_id": "s", "index": 3, "count": 2, "n_cases": 3}}},
        "index 3 > count 2",
    ),
    (
        "JSON shard without sweep_id",
        {"ctx": lambda c: {**c, "shard": {"index": 1, "count": 2, "n_cases": 3}}},
        "field shard.sweep_id",
    ),
    (
        "JSON shard index a string",
        {
            "ctx": lambda c: {
                **c,
                "shard": {"sweep_id": "s", "index": "1", "count": 2, "n_cases": 3},
            }
        },
        "field shard.index",
    ),
    (
        "JSON shard sweep_id ..",
        {"ctx": lambda c: {**c, "shard": {"sweep_id": "..", "index": 1, "count": 2, "n_cases": 3}}},
        "folder reference",
    ),
    (
        "JSON shards holding a bad context",
        {"ctx": lambda c: {**c, "shards": [{"run_id": 1}]}},
        "field shards.0.run_id",
    ),
    ("formula =cmd", {"cells": {"error": (0, "=cmd|' /C calc'!A0")}}, "spreadsheet formula"),
    ("formula +", {"cells": {"device_name": "+1+2"}}, "spreadsheet formula"),
    ("formula @", {"cells": {"cpu_model": "@SUM(A1:A9)"}}, "spreadsheet formula"),
    ("formula - not a number", {"cells": {"os": "-2+3*cmd"}}, "spreadsheet formula"),
    ("formula after a tab", {"cells": {"python": "\t=1+1"}}, "spreadsheet formula"),
    ("garbage samples", {"cells": {"samples_s": (0, "0.1 abc 0.3")}}, "not a list of numbers"),
    ("garbage median", {"cells": {"time_median_s": (0, "fast")}}, "not of the expected type"),
    ("CSV not UTF-8", {"raw_csv": b"\xff\xfe\x00garbage,\x00\n"}, "not a readable CSV"),
    ("CSV empty", {"raw_csv": b""}, "not a readable CSV"),
    ("CSV without the schema column", {"raw_csv": b"a,b\n1,2\n"}, "no schema_version"),
    ("CSV from a newer schema", {"cells": {"schema_version": "99"}}, "newer than"),
    # Hardening II: each entry breaks one rule; the message is that rule's
    (
        "case_id with a trailing newline, the row twice",
        {"frame": lambda df: pd.concat([df, df.iloc[[0]].assign(case_id=df["case_id"][0] + "\n")])},
        "column case_id",
    ),
    (
        "framework with a trailing newline",
        {"cells": {"framework": (0, "jax\n")}},
        "column framework",
    ),
    ("peak_mem_bytes inf", {"cells": {"peak_mem_bytes": (0, "inf")}}, "is not finite"),
    ("compile_s inf", {"cells": {"compile_s": (0, "inf")}}, "is not finite"),
    ("throughput inf", {"cells": {"throughput": (0, "inf")}}, "is not finite"),
    ("rounds 3.9 with 3 samples", {"cells": {"rounds": (3, "3.9")}}, "is not an integer"),
    ("threads -4", {"cells": {"threads": "-4"}}, "column threads: -4"),
    ("threads 2.5", {"cells": {"threads": "2.5"}}, "is not an integer"),
    ("cpu_cores 0", {"cells": {"cpu_cores": "0"}}, "column cpu_cores"),
    ("NUL in cpu_model", {"cells": {"cpu_model": "AMD\x00EPYC"}}, "control character"),
    (
        "escape sequence in an error",
        {"cells": {"error": (0, "bad\x1b[31m red")}},
        "control character",
    ),
    ("header-only CSV", {"frame": lambda df: df.iloc[:0]}, "header but no row"),
    ("unknown family", {"cells": {"family": "nosuch"}}, "not a family registered here"),
    ("unknown impl", {"cells": {"impl": (0, "nosuch")}}, "not an implementation of event_lif"),
    ("unknown device kind", {"cells": {"device_kind": (0, "quantum")}}, "column device_kind"),
    ("unknown dtype", {"cells": {"dtype": (0, "float16")}}, "column dtype"),
    ("unknown framework", {"cells": {"framework": (0, "tensorflow")}}, "column framework"),
    ("zero throughput", {"cells": {"throughput": (0, "0")}}, "column throughput"),
    (
        "unknown throughput unit",
        {"cells": {"throughput_unit": (0, "furlongs/s")}},
        "column throughput_unit",
    ),
    ("correct not a boolean", {"cells": {"correct": (0, "yes")}}, "column correct"),
    (
        "a negative sample hidden by time_min_s 0",
        {"frame": lambda df: _negative_sample(df)},
        "negative or non-finite time",
    ),
    (
        "a failed row with a median time",
        {"cells": {"status": (0, "failed"), "error": (0, "it broke")}},
        "but a median time is given",
    ),
    (
        "a failed row without its error",
        {"cells": {"status": (0, "failed"), "error": (0, ""), "time_median_s": (0, "")}},
        "without an error message",
    ),
    (
        "time_min_s above the median",
        {
            "frame": lambda df: df.assign(
                time_min_s=[
                    repr(2 * float(m)) if i == 0 else v
                    for i, (m, v) in enumerate(
                        zip(df["time_median_s"], df["time_min_s"], strict=True)
                    )
                ]
            )
        },
        "> time_median_s",
    ),
    (
        "rounds not the number of samples",
        {"cells": {"rounds": (0, "49")}},
        "holds 50 samples but rounds = 49",
    ),
    ("rounds below the minimum", {"frame": lambda df: _rounds(df, 2)}, "rounds = 2 < 3"),
    (
        "JSON NaN",
        {"ctx": lambda c: json.dumps({**c, "cpu_cores": float("nan")}).encode()},
        "NaN is not a JSON number",
    ),
    (
        "JSON Infinity",
        {"ctx": lambda c: json.dumps({**c, "x": float("inf")}).encode()},
        "Infinity is not a JSON number",
    ),
    (
        "JSON key twice",
        {"ctx": lambda c: (json.dumps(c)[:-1] + ', "machine_id": "x"}').encode()},
        "appears twice",
    ),
    (
        "JSON shards naming another machine",
        {"ctx": lambda c: {**c, "machine_id": "other-box", "shards": [dict(c)]}},
        "but its shards ran on",
    ),
    (
        "JSON machine facts disagree with the rows",
        {"ctx": lambda c: {**c, "cpu_cores": 64}},
        "cpu_cores",
    ),
    (
        "rows of a run the JSON does not hold",
        {"cells": {"run_id": (0, "0123456789ab")}},
        "is not the run of",
    ),
    ("formula after a space", {"cells": {"error": (0, " =1+1")}}, "spreadsheet formula"),
    ("formula after a newline", {"cells": {"error": (0, "\n=1+1")}}, "spreadsheet formula"),
    ("fullwidth formula", {"cells": {"error": (0, "\uff1dcmd()")}}, "spreadsheet formula"),
    ("formula with a pipe", {"cells": {"error": (0, "|calc")}}, "spreadsheet formula"),
]


def _negative_sample(df):
    """Row 0 (50 samples): its fastest sample -1e-7 x the median and time_min_s 0; median and
    IQR unchanged, so only the negative-sample rule can refuse it."""
    s = [float(x) for x in df.loc[0, "samples_s"].split()]
    s[int(np.argmin(s))] = -1e-7 * float(df.loc[0, "time_median_s"])
    df.loc[0, "samples_s"] = " ".join(repr(x) for x in s)
    df.loc[0, "time_min_s"] = "0"
    return df


def _rounds(df, n):
    """Row 0 with only its first `n` samples, every figure recomputed from them."""
    s = np.array([float(x) for x in df.loc[0, "samples_s"].split()][:n])
    q1, q3 = np.percentile(s, [25, 75])
    work = float(df.loc[0, "throughput"]) * float(df.loc[0, "time_median_s"])
    df.loc[
        0, ["samples_s", "rounds", "time_median_s", "time_min_s", "time_iqr_s", "throughput"]
    ] = [
        " ".join(map(repr, s)),
        str(n),
        repr(float(np.median(s))),
        repr(float(s.min())),
        repr(float(q3 - q1)),
        repr(work / float(np.median(s))),
    ]
    return df


@pytest.mark.parametrize("name,kw,message", VALIDATE, ids=[v[0] for v in VALIDATE])
def test_validate_refuses_with_a_clear_error(run, name, kw, message):
    edit(run, **kw)
    res = cli("validate", run)
    assert res.exit_code == 1 and "invalid" in res.output, res.output
    assert message in res.output.replace("\n", ""), res.output


# submit runs validate first: its corpus is the first round's entries plus those the audit
# found submit filing (the rest differ from these only in which validate rule refuses them)
SUBMIT = VALIDATE[:32] + [
    v
    for v in VALIDATE
    if v[0]
    in (
        "case_id with a trailing newline, the row twice",
        "header-only CSV",
        "JSON NaN",
        "JSON shards naming another machine",
        "JSON key twice",
    )
]


@pytest.mark.parametrize("name,kw,message", SUBMIT, ids=[v[0] for v in SUBMIT])
def test_submit_refuses_and_writes_nothing_anywhere(run, tmp_path, name, kw, message):
    edit(run, **kw)
    results = tmp_path / "results"
    results.mkdir()
    before = tree(tmp_path)
    res = cli("submit", run, "--results", results)
    assert res.exit_code == 1 and "not submitted" in res.output, res.output
    assert tree(tmp_path) == before


def test_submit_never_leaves_its_folder_through_a_symlink(run, tmp_path):
    results, elsewhere = tmp_path / "results", tmp_path / "elsewhere"
    results.mkdir()
    elsewhere.mkdir()
    machine = pd.read_csv(run, dtype=str)["machine_id"][0]
    (results / machine).symlink_to(elsewhere)
    res = cli("submit", run, "--results", results)
    assert res.exit_code == 1 and "resolves outside" in res.output, res.output
    assert not list(elsewhere.iterdir())


def test_submit_refuses_an_unsafe_file_name(run, tmp_path):
    odd = run.with_name("run;x.csv")
    shutil.copy(run, odd)
    shutil.copy(run.with_suffix(".json"), odd.with_suffix(".json"))
    res = cli("submit", odd, "--results", tmp_path / "results")
    assert res.exit_code == 1 and "file name" in res.output, res.output
    assert not (tmp_path / "results").exists() or not list((tmp_path / "results").rglob("*"))


def test_anonymising_replaces_whole_names_only_and_files_a_valid_copy(run, tmp_path):
    """On a host named `vm`, `cpu_vmhwm_delta` stays; a cell that is the hostname does not."""
    from spikebench.submission import validate as V

    edit(
        run,
        cells={"device_name": "vm", "error": (0, "ran on vm.lab.example today")},
        ctx=lambda c: {**c, "hostname": "vm", "note": "vm"},
    )
    dest, _ = S.submit(run, tmp_path / "results", names=["vm.lab.example", "vm"])
    filed = pd.read_csv(dest, dtype=str, keep_default_na=False)
    assert (filed["mem_method"] == "cpu_vmhwm_delta").all()
    tag = S.anonymise("vm", ["vm"])
    assert tag.startswith("host-") and (filed["device_name"] == tag).all()
    assert filed["error"][0] == f"ran on {tag} today"
    ctx = json.loads(dest.with_suffix(".json").read_text())
    assert "hostname" not in ctx and ctx["note"] == tag
    assert V.validate(dest).ok


def _shards(run, n=2):
    """n shard files of one sweep from `run` (rows split round robin)."""
    df = pd.read_csv(run, dtype=str, keep_default_na=False)
    ctx = json.loads(run.with_suffix(".json").read_text())
    paths = []
    for i in range(n):
        p = run.with_name(f"shard{i + 1}.csv")
        part = df.iloc[i::n].copy()
        rid = uuid.uuid4().hex[:12]
        part["run_id"] = rid
        part.to_csv(p, index=False)
        p.with_suffix(".json").write_text(
            json.dumps(
                {
                    **ctx,
                    "run_id": rid,
                    "shard": {"sweep_id": "sweep1", "index": i + 1, "count": n, "n_cases": len(df)},
                }
            )
        )
        paths.append(p)
    return paths


MERGE = [
    (
        "shard without sweep_id",
        lambda s: {k: v for k, v in s.items() if k != "sweep_id"},
        "field shard.sweep_id",
    ),
    ("shard count 0", lambda s: {**s, "count": 0}, "field shard.count"),
    ("shard index past count", lambda s: {**s, "index": 5}, "index 5 > count 2"),
    ("shard a number", lambda s: 5, "field shard"),
    ("shard sweep_id ..", lambda s: {**s, "sweep_id": ".."}, "folder reference"),
]


@pytest.mark.parametrize("name,bad,message", MERGE, ids=[m[0] for m in MERGE])
def test_merge_refuses_a_hostile_shard(run, tmp_path, name, bad, message):
    a, b = _shards(run)
    edit(b, ctx=lambda c: {**c, "shard": bad(c["shard"])})
    out = tmp_path / "merged" / "m.csv"
    res = cli("merge", a, b, "--out", out)
    assert res.exit_code == 1 and "not merged" in res.output, res.output
    assert message in res.output.replace("\n", ""), res.output
    assert not out.exists()


def test_merge_of_dotdot_shards_is_refused_so_submit_cannot_escape(run, tmp_path):
    a, b = _shards(run)
    for p in (a, b):
        edit(p, **_set_machine(".."))
    res = cli("merge", a, b, "--out", tmp_path / "m.csv")
    assert res.exit_code == 1 and "folder reference" in res.output.replace("\n", "")


def test_merge_then_submit_of_good_shards_stays_inside(run, tmp_path):
    a, b = _shards(run)
    out = tmp_path / "m.csv"
    assert cli("merge", a, b, "--out", out).exit_code == 0
    results = tmp_path / "results"
    assert cli("submit", out, "--results", results).exit_code == 0
    (filed,) = results.rglob("*.csv")
    assert filed.resolve().is_relative_to(results.resolve())


REPORT = [
    ("garbage samples", {"cells": {"samples_s": (0, "0.1 abc 0.3")}}, "samples_s"),
    ("garbage median", {"cells": {"time_median_s": (1, "fast")}}, "time_median_s"),
    ("garbage threads", {"cells": {"threads": "many"}}, "threads"),
    ("binary CSV", {"raw_csv": b"\xff\xfe\x00\x01"}, "not a readable CSV"),
]


@pytest.mark.parametrize("name,kw,column", REPORT, ids=[r[0] for r in REPORT])
def test_report_and_compare_name_the_file_of_a_bad_cell(run, tmp_path, name, kw, column):
    edit(run, **kw)
    out = tmp_path / "reports" / "r"
    res = cli("report", run, "--out", out)
    assert res.exit_code == 2 and "run.csv" in res.output and column in res.output, res.output
    assert not (tmp_path / "reports").exists() or not list((tmp_path / "reports").iterdir())
    res = cli("compare", run)
    assert res.exit_code == 2 and "run.csv" in res.output and column in res.output, res.output


def test_report_renders_mathtext_and_html_in_fields_as_plain_text(run, tmp_path):
    hostile = "$\\frac{$"
    edit(run, cells={"machine_id": hostile, "status": (N_ROWS - 1, "<b>|x\n|")})
    out = tmp_path / "reports" / "r"
    res = cli("report", run, "--out", out)
    assert res.exit_code == 0, res.output
    summary = (out / "summary.md").read_text()
    assert "<b>" not in summary and "&lt;b&gt;\\|x" in summary
    assert "$\\frac{$" in (out / "index.html").read_text()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no staging left


def test_compare_markdown_never_overwrites_without_force(run, tmp_path):
    other = run.with_name("other.csv")
    df = pd.read_csv(run, dtype=str, keep_default_na=False)
    ctx = json.loads(run.with_suffix(".json").read_text())
    df["machine_id"] = ctx["machine_id"] = "second-box"
    df.to_csv(other, index=False)
    other.with_suffix(".json").write_text(json.dumps(ctx))
    md = tmp_path / "table.md"
    md.write_text("my notes\n")
    res = cli("compare", run, other, "--places", "--markdown", md)
    assert res.exit_code == 2 and "exists" in res.output and md.read_text() == "my notes\n"
    res = cli("compare", run, other, "--places", "--markdown", md, "--force")
    assert res.exit_code == 0 and md.read_text() != "my notes\n", res.output


def test_json_size_limit(run, monkeypatch):
    monkeypatch.setattr(U, "MAX_JSON_BYTES", 100)
    with pytest.raises(U.UntrustedError, match="more than the 100"):
        U.load_context(run.with_suffix(".json"))


def test_formula_rule_leaves_numbers_alone():
    for ok in ("-1.5", "-inf", "-nan", "-.5e3", "ok text", ""):
        assert not U.formula_cell(ok), ok
    for bad in (
        "=1",
        "+1",
        "@x",
        "-x",
        "\t1",
        "\r=1",
        "-+1",
        " =1",
        "\n=1",
        "\uff1d1",
        "|x",
        " -x",
        "\uff0b1",
    ):
        assert U.formula_cell(bad), bad


@pytest.mark.parametrize("name,kw,message", VALIDATE, ids=[v[0] for v in VALIDATE])
def test_every_error_names_the_file_and_a_cells_line(run, name, kw, message):
    """Row-level errors carry their CSV line: an edit of one row's cell is reported on that
    row's line (row 0 is line 2), file-level ones on none."""
    from spikebench.submission import validate as V

    edit(run, **kw)
    rep = V.validate(run)
    assert not rep.ok
    assert all(e.startswith(f"{run}: ") or e.startswith(f"{run}:") for e in rep.errors)
    rows = {v[0] for v in (kw.get("cells") or {}).values() if isinstance(v, tuple)}
    for row in rows:
        assert any(e.startswith(f"{run}:{row + 2}: ") for e in rep.errors), rep.errors
