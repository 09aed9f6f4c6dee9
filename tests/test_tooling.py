"""The project's own gates, part of the test command so that CI and `tox -e tests` run them:
`ruff format --check` and `ruff check` clean, mypy clean on suite/, and the docs site builds
with `mkdocs build --strict` (a broken link, a missing page or an API reference that cannot be
read fails it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize(
    "args",
    [("ruff", "format", "--check", "."), ("ruff", "check", ".")],
    ids=["ruff-format", "ruff-check"],
)
def test_ruff(args):
    res = _run(*args)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]


def test_mypy_on_the_suite():
    res = _run("mypy")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]


def test_the_docs_site_builds_strict(tmp_path):
    res = _run("mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site"))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert (tmp_path / "site" / "reference" / "kernels" / "index.html").stat().st_size > 10_000


def test_the_results_site_builds_from_a_report(tmp_path):
    """`spikebench report ... --site` then `mkdocs build --strict` (what `tox -e site` runs):
    the Results page is the report's answer table and places, the full report sits under
    report/ and the page's links and figure reach it."""
    import os

    from spikebench import results
    from spikebench.cli import app
    from typer.testing import CliRunner

    run = ROOT / "results" / "amd-epyc-0a7c9cdf" / "20261208T005346Z-d02717c7a320.csv"
    df = results.read([run]).drop(columns=["source_file"])
    part = tmp_path / "part.csv"
    df[df["framework"].isin(["jax", "adseq"])].to_csv(part, index=False)
    res = CliRunner().invoke(app, ["report", str(part), "--site", "--out", str(tmp_path / "sr")])
    assert res.exit_code == 0, res.output
    env = {**os.environ, "SPIKEBENCH_SITE_REPORT": str(tmp_path / "sr")}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    page = (tmp_path / "site" / "results" / "index.html").read_text()
    assert "Answers: each family" in page and "Places (machine, device, threads)" in page
    assert 'src="../report/overview.svg"' in page and 'href="../report/queues.html"' in page
    for name in ("index.html", "queues.html", "overview.svg"):
        assert (tmp_path / "site" / "report" / name).stat().st_size > 1000, name
