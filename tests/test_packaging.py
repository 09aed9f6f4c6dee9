"""The built wheel is complete: every sub-package of the folder-to-namespace mapping is in it,
and it imports from outside the repository."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_all_packages_and_imports(tmp_path):
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
                    str(tmp_path)], cwd=ROOT, check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("spikebench-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ["spikebench/__init__.py", "spikebench/cli.py", "spikebench/families/event_lif.py",
              "spikebench/kernels/event_lif/_jax.py", "spikebench/kernels/event_lif/_torch.py",
              "spikebench/kernels/event_lif/_reference.py", "spikebench/datasets/_generators.py",
              "spikebench/kernels/psu/_jax.py", "spikebench/kernels/psu/_torch.py",
              "spikebench/kernels/psu/_numpy.py", "spikebench/families/psu.py",
              "spikebench/report_psu.py"]:
        assert f in names, f"{f} missing from the wheel"
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                    "--target", str(site), str(wheel)], check=True, capture_output=True)
    code = ("import spikebench, spikebench.kernels.event_lif as e, spikebench.datasets as d, "
            "spikebench.families, spikebench.cli; import numpy as np; "
            "st, c = e.simulate(np.array([0.0]), np.array([0]), np.array([[10.0]]), "
            "e.LIFParams(0.02, 0.005, 1.0)); assert c[0] == 1; "
            "import spikebench.kernels.psu as p; "
            "assert p.simulate(np.ones((3, 2)), 'lif').spikes.shape == (3, 2); "
            f"assert spikebench.__file__.startswith({str(site)!r})")
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True,
                   env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}, timeout=120)
