"""The built wheel is complete (every sub-package of the folder-to-namespace mapping is in it),
it imports from outside the repository, and, installed (not editable) into a fresh venv, a
sweep started in an empty folder writes its results and report there and nowhere else --
for the CLI and for ``pytest --benchmark`` alike."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (whl,) = out.glob("spikebench-*.whl")
    return whl


def test_wheel_contains_all_packages_and_imports(tmp_path, wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in [
        "spikebench/__init__.py",
        "spikebench/cli/__init__.py",
        "spikebench/cli/run.py",
        "spikebench/families/event_lif/__init__.py",
        "spikebench/families/event_lif/sweeps.py",
        "spikebench/families/_base.py",
        "spikebench/harness/worker.py",
        "spikebench/hardware/devices.py",
        "spikebench/submission/validate.py",
        "spikebench/report/site.py",
        "spikebench/training/__init__.py",
        "spikebench/plugins.py",
        "spikebench/versions.py",
        "spikebench/kernels/event_lif/_jax.py",
        "spikebench/kernels/event_lif/_torch.py",
        "spikebench/kernels/event_lif/jax.py",
        "spikebench/kernels/queues/torch.py",
        "spikebench/kernels/event_lif/_reference.py",
        "spikebench/datasets/_generators.py",
        "spikebench/kernels/psu/_jax.py",
        "spikebench/kernels/psu/_torch.py",
        "spikebench/kernels/psu/_numpy.py",
        "spikebench/families/psu/__init__.py",
        "spikebench/families/psu/report.py",
        "spikebench/families/event_lif/report.py",
    ]:
        assert f in names, f"{f} missing from the wheel"
    # every package of the source tree (pyproject's `packages` list is explicit)
    root = Path(__file__).resolve().parents[1]
    for folder, prefix in (
        ("suite", "spikebench"),
        ("kernels", "spikebench/kernels"),
        ("datasets", "spikebench/datasets"),
    ):
        for init in (root / folder).rglob("__init__.py"):
            wheel_path = f"{prefix}/{init.relative_to(root / folder).as_posix()}"
            assert wheel_path in names, f"{wheel_path} missing from the wheel"
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    code = (
        "import spikebench, spikebench.kernels.event_lif as e, spikebench.datasets as d, "
        "spikebench.families, spikebench.cli; import numpy as np; "
        "st, c = e.simulate(np.array([0.0]), np.array([0]), np.array([[10.0]]), "
        "e.LIFParams(0.02, 0.005, 1.0)); assert c[0] == 1; "
        "import spikebench.kernels.psu as p; "
        "assert p.simulate(np.ones((3, 2)), 'lif').spikes.shape == (3, 2); "
        f"assert spikebench.__file__.startswith({str(site)!r})"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        check=True,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )


def _snapshot(*folders) -> dict:
    out = {}
    for folder in folders:
        for p in Path(folder).rglob("*") if Path(folder).exists() else []:
            if "__pycache__" not in p.parts:
                out[str(p)] = p.stat().st_mtime_ns if p.is_file() else None
    return out


@pytest.mark.slow
def test_an_installed_wheel_writes_into_the_folder_it_runs_from(tmp_path, wheel):
    # a fresh venv with the wheel installed (not editable); its dependencies come from this
    # interpreter's site-packages through a .pth (no network, no second install of numpy)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (purelib / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(py),
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    installed = purelib / "spikebench"
    assert installed.is_dir() and not (purelib / "__editable__.spikebench-0.1.0.pth").exists()
    work = tmp_path / "empty"
    work.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        "MPLCONFIGDIR": str(tmp_path / "mpl"),
        "JAX_PLATFORMS": "cpu",
    }
    before = _snapshot(installed, ROOT / "results", ROOT / "reports")
    cli = subprocess.run(
        [
            str(venv / "bin" / "spikebench"),
            "run",
            "--profile",
            "selftest",
            "--impl",
            "ok",
            "--device",
            "cpu",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert cli.returncode == 0, cli.stdout[-2000:] + cli.stderr[-2000:]
    # pytest --benchmark from the checkout's benchmarks/, started in the same folder
    bench = subprocess.run(
        [
            str(py),
            "-m",
            "pytest",
            "--benchmark",
            "--bench-profile",
            "selftest",
            "--bench-filter",
            "impl=ok",
            "--bench-device",
            "cpu",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(ROOT),
            str(ROOT / "benchmarks"),
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert bench.returncode == 0, bench.stdout[-3000:] + bench.stderr[-2000:]
    csvs = sorted((work / "results").rglob("*.csv"))
    assert len(csvs) == 2 and all(c.with_suffix(".json").exists() for c in csvs)
    # (pytest-benchmark, whose --benchmark-* flags stay available, makes its .benchmarks/ in
    # the folder pytest runs from too)
    assert {p.name for p in work.iterdir()} - {".benchmarks"} == {"results", "reports"}
    assert len(list((work / "reports").glob("*/index.html"))) == 2
    assert _snapshot(installed, ROOT / "results", ROOT / "reports") == before
    home = tmp_path / "home"  # only libraries' caches (ONNX Runtime keeps a db in ~/.cache)
    assert not home.exists() or set(os.listdir(home)) <= {".cache"}, sorted(home.rglob("*"))
