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
