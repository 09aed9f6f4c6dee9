"""The README and the docs site are read on their own and their examples work: no file of the
repository points outside it, every relative link resolves, and every `spikebench` command
they show runs on a small results set with exit status 0 (a sweep or a training run as its
`--dry-run`), the plugin page's example plugin included."""

from __future__ import annotations

import csv
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
AMD = ROOT / "results" / "amd-epyc-0a7c9cdf" / "20261207T114502Z-2c7085f650b4.csv"
INTEL = ROOT / "results" / "intel-r-xeon-r-processor-0a7c9cdf" / "20261202T163453Z-6d6f62dd2861.csv"
TRACKED = subprocess.run(
    ["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True
).stdout.split()


def test_the_readme_is_short_and_the_docs_have_the_rest():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in sorted((ROOT / "docs").rglob("*.md")):
        assert str(page.relative_to(ROOT / "docs")) in nav, f"{page} is not in the nav"


def test_no_file_points_outside_the_repository():
    """No tracked text file names the specs or the design notes the project was built from:
    what users need is in the README or docs/ (the committed results are data, as submitted)."""
    outside = re.compile(r"\bspec/\w+\.md|\bDESIGN\.md|\.\./shared")
    bad = [
        name
        for name in TRACKED
        if name.endswith((".py", ".md", ".sh", ".toml", ".yml", ".ini", ".txt", ".cfg"))
        and name != "tests/test_docs.py"
        and outside.search((ROOT / name).read_text(errors="replace"))
    ]
    assert not bad, bad


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    text = page.read_text()
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if re.match(r"[a-z]+://", target):
            continue
        assert (page.parent / target).exists(), f"{page.name}: {target}"
    for named in re.findall(
        r"`((?:suite|kernels|datasets|scripts|tests|benchmarks)/"
        r"[\w/.-]+\.(?:py|sh))`",
        text,
    ):
        assert (ROOT / named).exists(), f"{page.name}: {named}"


def commands(page: Path) -> list[str]:
    """The `spikebench ...` lines of a page's shell code blocks, comments dropped."""
    out, fence = [], None
    for line in page.read_text().splitlines():
        if line.lstrip().startswith("```"):
            fence = None if fence is not None else line.strip()[3:]
            continue
        if fence in ("bash", "sh", "console"):
            for part in line.split("#", 1)[0].split(";"):
                part = part.strip()
                if part.startswith("spikebench "):
                    out.append(part)
    return out


def _shd(path: Path) -> None:
    from spikebench.datasets import _hdf5

    rng = np.random.default_rng(0)
    samples = [(np.sort(rng.uniform(0, 1, k)), rng.integers(0, 700, k)) for k in (100, 300)]
    _hdf5.write(path, samples, [3, 4])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder to run the examples from: results/ with one AMD and one Intel run (their
    JSONs beside them), a run to submit, and a data folder with a small SHD file."""
    tmp = tmp_path_factory.mktemp("docs")
    for run in (AMD, INTEL):  # the PSU family's JAX rows: every command, a quick report
        dest = tmp / "results" / run.parent.name
        dest.mkdir(parents=True, exist_ok=True)
        with open(run, newline="") as f:
            rows = list(csv.DictReader(f))
        with open(dest / run.name, "w", newline="") as f:
            w = csv.DictWriter(f, list(rows[0]))
            w.writeheader()
            w.writerows(r for r in rows if r["family"] == "psu" and r["framework"] == "jax")
        shutil.copy(run.with_suffix(".json"), dest / run.with_suffix(".json").name)
    other = ROOT / "results" / "amd-epyc-0a7c9cdf" / "20261207T064415Z-c6458245209f.csv"
    for f in (other, other.with_suffix(".json")):
        shutil.copy(f, tmp / f.name)
    (tmp / "data").mkdir()
    _shd(tmp / "data" / "shd_train.h5")
    return tmp, other.name


def _argv(cmd: str, tmp: Path, to_submit: str) -> list[str]:
    """The command with its placeholders filled in, as argv after `spikebench`."""
    amd = f"results/{AMD.parent.name}/{AMD.name}"
    for a, b in (
        ("results/<machine_id>/<run>.csv", amd),
        ("path/to/<run>.csv", to_submit),
        ("my-run.csv", to_submit),
        ("<your machine_id>", AMD.parent.name),
        ("BEFORE.csv", amd),
        ("4f2a9c1", INTEL.stem.split("-")[-1][:7]),
        ("~/data", str(tmp / "data")),
        ("${SLURM_ARRAY_TASK_ID}", "1"),
    ):
        cmd = cmd.replace(a, b)
    argv = shlex.split(cmd)[1:]
    expanded = []
    for a in argv:  # the shell's globbing
        hits = sorted(str(p.relative_to(tmp)) for p in tmp.glob(a)) if "*" in a else []
        expanded += hits or [a]
    if argv[:1] in (["run"], ["train"]) and "--dry-run" not in argv and "-h" not in argv:
        expanded.append("--dry-run")  # a sweep or a training run: its plan, not its hours
    if argv[:1] == ["submit"]:  # each example files its run into a results folder of its own
        expanded += ["--results", tempfile.mkdtemp(prefix="filed-", dir=tmp)]
    return expanded


# each distinct command once, with the pages that show it
_PAGES_OF: dict[str, list[str]] = {}
for _p in PAGES:
    for _c in commands(_p) if _p.name != "plugins.md" else []:
        _PAGES_OF.setdefault(_c, []).append(str(_p.relative_to(ROOT)))
EXAMPLES = sorted((" ".join(sorted(set(v))), c) for c, v in _PAGES_OF.items())


def test_the_pages_have_examples():
    assert len(EXAMPLES) >= 25, EXAMPLES


@pytest.mark.parametrize("page,cmd", EXAMPLES)
def test_every_example_command_runs(page, cmd, workdir):
    from spikebench.cli import app
    from typer.testing import CliRunner

    tmp, to_submit = workdir
    argv = _argv(cmd, tmp, to_submit)
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        res = CliRunner().invoke(app, argv, env={"COLUMNS": "200"})
    finally:
        os.chdir(cwd)
    assert res.exit_code == 0, f"{page}: spikebench {' '.join(argv)}\n{res.output[-2000:]}"


def test_the_plugin_page_example_works(tmp_path):
    """The plugin of docs/guide/plugins.md, installed into a site folder from the page's own
    code blocks, runs its commands."""
    page = ROOT / "docs" / "guide" / "plugins.md"
    text = page.read_text()
    code = re.search(r"```python\n(# runmax_plugin/__init__\.py\n.*?)```", text, re.S).group(1)
    toml = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    module, target = re.search(r'^(\w+) = "(\w+)"$', toml, re.M).groups()
    site = tmp_path / "site"
    (site / target).mkdir(parents=True)
    (site / target / "__init__.py").write_text(code)
    info = site / "runmax_plugin-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: runmax-plugin\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[spikebench.plugins]\n{module} = {target}\n")
    env = {**os.environ, "PYTHONPATH": str(site), "COLUMNS": "200"}
    cmds = commands(page)
    assert len(cmds) == 4, cmds
    for cmd in cmds:
        argv = [a for a in shlex.split(cmd)[1:]]
        if "*" in " ".join(argv):
            argv = [x for a in argv for x in (sorted(map(str, tmp_path.glob(a))) or [a])]
        res = subprocess.run(
            [sys.executable, "-m", "spikebench.cli", *argv],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert res.returncode == 0, f"{cmd}\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}"
    assert (tmp_path / "reports" / "runmax" / "index.html").exists()
