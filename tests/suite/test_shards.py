"""Sharded sweeps (--shard i/n) and spikebench merge: the shards are disjoint, together they
are the whole sweep, and merging them gives back the unsharded run's set of cases."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from spikebench import cli, profiles
from spikebench.cli import app
from spikebench.harness import runner
from spikebench.submission import merge as M
from spikebench.submission import validate as V
from typer.testing import CliRunner

TIMING = {"min_rounds": 3, "max_rounds": 3, "warmup": 0}


def _cases():
    cs = profiles.profile_cases(
        "quick", ["cpu"], family=["psu"], framework=["jax"], dataset=["gaussian"], T=["4"]
    )
    assert len(cs) >= 6, "the shard tests need a few cases of the quick profile"
    return cs


def test_shards_partition_the_sweep():
    cases = profiles.profile_cases("quick", ["cpu"])
    parts = [profiles.shard(cases, f"{i}/4") for i in range(1, 5)]
    ids = [c.case_id for p, _ in parts for c in p]
    assert sorted(ids) == sorted(c.case_id for c in cases) and len(ids) == len(set(ids))
    assert {info["sweep_id"] for _, info in parts} == {parts[0][1]["sweep_id"]}
    assert max(len(p) for p, _ in parts) - min(len(p) for p, _ in parts) <= 1
    # every shard mixes the families (round robin over the profile's order)
    assert all(len({c.family for c in p}) == 3 for p, _ in parts)
    for bad in ("0/4", "5/4", "2", "a/b", "1/0", "-1/3"):
        with pytest.raises(ValueError, match="expected i/n with 1 <= i <= n"):
            profiles.shard(cases, bad)


@pytest.fixture(scope="module")
def shard_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("shards")
    files = []
    for i in (1, 2, 3):
        part, info = profiles.shard(_cases(), f"{i}/3")
        s = runner.run_sweep(
            part, out_root=root / f"m{i}", isolate=False, progress=False, timing=TIMING, shard=info
        )
        files.append(s.csv_path)
    return files


def test_merge_of_shards_equals_the_unsharded_set_of_cases(shard_files, tmp_path):
    for f in shard_files:
        assert V.validate(f).ok
        assert json.loads(f.with_suffix(".json").read_text())["shard"]["count"] == 3
    out, sweep = M.merge(shard_files[::-1], tmp_path / "merged.csv")
    merged = pd.read_csv(out)
    assert sorted(merged["case_id"]) == sorted(c.case_id for c in _cases())
    assert (merged["status"] == "ok").all() and merged["correct"].all()
    assert sweep["n_cases"] == len(_cases()) and sweep["missing"] == []
    assert merged["run_id"].nunique() == 3  # every row keeps its shard's run
    rep = V.validate(out)
    assert rep.ok, rep.errors[:3]
    with pytest.raises(ValueError, match="exists; results are never overwritten"):
        M.merge(shard_files, out)


def test_merge_refuses_incomplete_or_foreign_sets(shard_files, tmp_path):
    with pytest.raises(ValueError, match="shard\\(s\\) 2/3 missing"):
        M.merge([shard_files[0], shard_files[2]], tmp_path / "a.csv")
    out, sweep = M.merge([shard_files[0], shard_files[2]], tmp_path / "b.csv", partial=True)
    assert sweep["missing"] == [2] and V.validate(out).ok
    with pytest.raises(ValueError, match="shard 1/3 given twice"):
        M.merge([shard_files[0], shard_files[0]], tmp_path / "c.csv")
    other = tmp_path / "other" / shard_files[1].name
    other.parent.mkdir()
    other.write_text(shard_files[1].read_text())
    ctx = json.loads(shard_files[1].with_suffix(".json").read_text())
    ctx["shard"]["sweep_id"] = "0123456789ab"
    other.with_suffix(".json").write_text(json.dumps(ctx))
    with pytest.raises(ValueError, match="different sweeps"):
        M.merge([shard_files[0], other], tmp_path / "d.csv")
    res = CliRunner().invoke(app, ["merge", str(shard_files[0]), "--out", str(tmp_path / "e.csv")])
    assert res.exit_code == 1 and "missing" in res.output
    res = CliRunner().invoke(
        app, ["merge", *map(str, shard_files), "--out", str(tmp_path / "f.csv")]
    )
    assert res.exit_code == 0 and "merged 3 of 3 shards" in res.output


def test_cli_and_pytest_take_a_shard():
    res = CliRunner().invoke(app, ["run", "--dry-run", "--family", "psu", "--shard", "2/5"])
    assert res.exit_code == 0, res.output
    n = len(profiles.profile_cases("quick", cli.default_devices(), family=["psu"]))
    assert f"{len(range(1, n, 5))} cases" in res.output
    res = CliRunner().invoke(app, ["run", "--dry-run", "--shard", "6/5"])
    assert res.exit_code != 0 and "1 <= i <= n" in res.output
