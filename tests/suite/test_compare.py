"""spikebench compare: ratios from raw samples, a significance test, a factor threshold, and
refusals for rows of different code or memory methods."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from spikebench import compare as C
from spikebench import results
from spikebench.cli import app
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "results" / "amd-epyc-0a7c9cdf" / "20261123T223706Z-3537fc340a41.csv"


def _scaled(df, machine, factor, seed=0):
    """The same rows 'measured' on another machine: samples times `factor`, with jitter."""
    rng = np.random.default_rng(seed)
    out = df.copy()
    out["machine_id"] = machine

    def scale(s):
        x = np.array(str(s).split(), float) * factor * rng.uniform(0.97, 1.03)
        return " ".join(f"{v:.9g}" for v in x)

    ok = out["status"] == "ok"
    out.loc[ok, "samples_s"] = out.loc[ok, "samples_s"].map(scale)
    out.loc[ok, "time_median_s"] = out.loc[ok, "time_median_s"] * factor
    return out


@pytest.fixture(scope="module")
def base():
    df = results.read([RUN])  # a third of the run keeps every family and the test quick
    return df[(df["framework"] == "jax") & (df["dtype"] == "float32")]


def test_ratio_test_verdicts():
    rng = np.random.default_rng(1)
    a = rng.normal(1.0, 0.01, 30)
    assert C.ratio_test(a, a * 0.5)["verdict"] == "faster"
    assert C.ratio_test(a, a * 2.0)["verdict"] == "slower"
    assert C.ratio_test(a, a * 2.0)["ratio"] == pytest.approx(0.5)
    assert C.ratio_test(a, a * 0.97)["verdict"] == "within 1.1x"
    b = rng.normal(1.0, 0.01, 30)  # the same distribution: overlapping runs
    assert C.ratio_test(a, b)["verdict"] == "not significant"
    # 3 rounds against 3: no test reaches p < 0.01, but disjoint ranges are a difference
    assert C.ratio_test(np.array([1.0, 1.1, 1.2]), np.array([2.0, 2.1, 2.2]))["verdict"] == "slower"
    assert (
        C.ratio_test(np.array([1.0, 1.1, 2.1]), np.array([2.0, 2.1, 2.2]))["verdict"]
        == "not significant"
    )
    assert C.ratio_test(a[:2], b)["verdict"] == "too few samples"
    with pytest.raises(ValueError, match="factor must be >= 1"):
        C.ratio_test(a, b, factor=0.5)
    with pytest.raises(ValueError, match="alpha must be in"):
        C.ratio_test(a, b, alpha=1.5)


def test_compare_two_machines_from_raw_samples(base):
    fast = _scaled(base, "fast-box", 0.25)
    table = C.compare(pd.concat([base, fast]), baseline="amd-epyc")
    ok = base[base["status"] == "ok"]
    assert len(table) == len(ok)  # every ok case was measured in both places
    assert set(table["place"].str.split().str[0]) == {"fast-box"}
    sig = table[table["verdict"] == "faster"]
    assert len(sig) > 0.95 * len(table)  # 4x apart: the sample ranges do not overlap
    assert sig["ratio"].between(3.5, 4.5).all()
    # a stored median edited alone changes nothing: ratios come from the raw samples
    tampered = fast.copy()
    tampered["time_median_s"] = tampered["time_median_s"] * 100
    again = C.compare(pd.concat([base, tampered]), baseline="amd-epyc")
    np.testing.assert_allclose(again["ratio"], table["ratio"])


def test_overlapping_runs_are_not_significant(base):
    same = _scaled(base, "twin-box", 1.0, seed=3)
    table = C.compare(pd.concat([base, same]))
    assert not table["verdict"].isin(["faster", "slower"]).any()
    assert (table["verdict"] == "not significant").mean() > 0.5


def test_different_code_or_memory_method_is_not_compared(base):
    other = _scaled(base, "new-code", 0.5)
    other["kernel_version"] = "000000000000"
    table = C.compare(pd.concat([base, other]))
    assert table["verdict"].str.startswith("refused: kernel_version differs (module hashes").all()
    mem = _scaled(base, "gpu-box", 0.5)
    mem["mem_method"] = mem["mem_method"].where(mem["mem_method"].isna(), "torch_cuda_peak")
    table = C.compare(pd.concat([base, mem]))
    assert table["mem_ratio"].isna().all() and (table["verdict"] == "faster").any()


def test_cli_compare(tmp_path, base):
    fast = _scaled(base, "fast-box", 0.5)
    fast.drop(columns=["source_file"]).to_csv(tmp_path / "fast.csv", index=False)
    md = tmp_path / "cmp.md"
    res = CliRunner().invoke(
        app,
        [
            "compare",
            str(RUN),
            str(tmp_path / "fast.csv"),
            "--baseline",
            "amd-epyc",
            "--markdown",
            str(md),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "comparisons" in res.output and "faster" in res.output
    # the answer table (each family's question by place) comes first
    first = res.output.index("Answers: each family's question")
    assert first < res.output.index("comparisons") and "fast-box" in res.output[first:]
    assert md.read_text().startswith("| case | baseline | place |")
    res = CliRunner().invoke(app, ["compare", str(RUN)])
    assert res.exit_code == 0 and "nothing to compare" in res.output


def _run_copy(df, factor, seed, run_id, commit="feedc0ffee00"):
    """The same cases run again on the same machine after a change: a new run id and
    commit, a new kernel_version, samples times `factor` (with jitter)."""
    out = _scaled(df, df["machine_id"].iloc[0], factor, seed)
    out["run_id"], out["git_commit"], out["kernel_version"] = run_id, commit, "0123456789ab"
    return out.drop(columns=["source_file"])


def test_before_after_compares_versions_and_labels_them(base):
    after = _run_copy(base, 2.0, 5, "afterrun0001")
    table = C.before_after(base, after)
    assert len(table) == (base["status"] == "ok").sum()
    assert (table["versions"] == "kernel_version differ").all()  # labelled, not refused
    assert (table["verdict"] == "slower").mean() > 0.95
    assert table["ratio"].between(0.4, 0.6).all()
    assert len(C.regressions(table, 1.5)) == (table["verdict"] == "slower").sum()
    assert len(C.regressions(table, 3.0)) == 0
    with pytest.raises(ValueError, match="must be >= 1"):
        C.regressions(table, 0.9)


def test_cli_before_after_and_fail_on_regression(tmp_path, base, monkeypatch):
    root = tmp_path / "results" / "amd-epyc-0a7c9cdf"
    root.mkdir(parents=True)
    base.drop(columns=["source_file"]).to_csv(root / "before.csv", index=False)
    _run_copy(base, 1.0, 6, "samerun00001").to_csv(root / "same.csv", index=False)
    _run_copy(base, 2.0, 7, "slowrun00001", "5104c0de0000").to_csv(root / "slow.csv", index=False)
    monkeypatch.chdir(tmp_path)  # run ids and commits resolve under ./results
    cli = CliRunner()
    res = cli.invoke(
        app, ["compare", str(root / "before.csv"), "samerun", "--fail-on-regression", "1.2"]
    )
    assert res.exit_code == 0, res.output
    assert "no case significantly slower than 1.2x" in res.output
    res = cli.invoke(
        app, ["compare", str(root / "before.csv"), "5104c0de", "--fail-on-regression", "1.5"]
    )
    assert res.exit_code == 1, res.output
    assert "regression" in res.output and "significantly slower than 1.5x" in res.output
    res = cli.invoke(app, ["compare", str(root / "before.csv"), "nosuchrun"])
    assert res.exit_code == 2 and "nosuchrun" in res.output and "slowrun00001" in res.output


def test_baseline_matching_nothing_or_several_places_is_an_error(tmp_path, base):
    a, b = _scaled(base, "box-a1", 0.5), _scaled(base, "box-a2", 0.5, seed=2)
    both = pd.concat([base, a, b])
    with pytest.raises(ValueError, match="matches no place; the places are: .*box-a1"):
        C.compare(both, baseline="nosuch")
    with pytest.raises(
        ValueError,
        match=r"matches places of 2 machines \(box-a1, box-a2\): "
        "give one machine_id",
    ):
        C.compare(both, baseline="box-a")
    a.drop(columns=["source_file"]).to_csv(tmp_path / "a.csv", index=False)
    res = CliRunner().invoke(
        app, ["compare", str(RUN), str(tmp_path / "a.csv"), "--baseline", "nosuch"]
    )
    assert res.exit_code == 2 and "matches no place" in res.output


def test_a_baseline_machine_with_several_places_pairs_kind_and_threads(base):
    """--baseline naming a machine measured at 1 and 2 threads compares each other place with
    the baseline place of its own thread count (never 1 thread against 2)."""
    one = base.assign(threads=1)
    other = pd.concat(
        [
            _scaled(base, "box-b", 0.5).assign(threads=2),
            _scaled(base, "box-b", 0.5, seed=3).assign(threads=1),
        ]
    )
    ours = pd.concat([base.assign(threads=2), one])
    table = C.compare(pd.concat([ours, other]), baseline=str(base["machine_id"].iloc[0]))
    assert len(table) and set(table["place"].str.endswith(("1 thread", "2 threads"))) == {True}
    for _, r in table.iterrows():
        assert r["baseline"].rsplit(",", 1)[1] == r["place"].rsplit(",", 1)[1]
    assert table["place"].str.startswith("box-b").all()
