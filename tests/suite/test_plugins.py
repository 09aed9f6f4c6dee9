"""A plugin from outside the repository: a tiny package with an entry point in the group
``spikebench.plugins``, installed into a temporary site folder, runs through `spikebench run`
(isolated workers, which load it too), `validate`, `report` and `compare` like a built-in
family; a broken plugin is skipped with a warning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PLUGIN = textwrap.dedent('''
    """A plugin family: the running maximum, one NumPy kernel, its own framework name."""
    import numpy as np

    from spikebench import families, registry
    from spikebench.hardware import frameworks


    class RunmaxFw(frameworks.NumpyFw):
        name = "runmax-np"


    frameworks.register("runmax-np", RunmaxFw(), reaches=("cpu",), like="numpy")


    @registry.register("runmax", "accumulate", "runmax-np", devices=("cpu",))
    def running_max(x):
        return np.maximum.accumulate(x)


    class RunningMax(families.Family):
        name = "runmax"
        title = "running maximum"
        units = {"items/s": ("param_n_events",)}
        sweeps = {"quick": [{"impls": ["accumulate"], "frameworks": ["runmax-np"],
                             "dtypes": ["float64"], "datasets": ["gaussian"],
                             "sizes": {"n_events": [200, 2000]}, "seed": 0,
                             "timeout_s": 120}]}

        def make_inputs(self, case):
            rng = np.random.default_rng([case.seed, case.size["n_events"]])
            return {"x": rng.normal(size=case.size["n_events"])}

        def ref_kind(self, case):
            return "running-max"

        def reference(self, case, inputs):
            x = inputs["x"]
            return np.array([x[: i + 1].max() for i in range(x.size)]), "runmax/python_loop"

        def prepare(self, case, inputs, fw, device):
            return (fw.put(inputs["x"], device),), {}, {}

        def check(self, case, inputs, out, ref):
            err = float(np.max(np.abs(out - ref)))
            return {"correct": err == 0.0, "max_err": err, "mismatch_frac": 0.0,
                    "n_checked": int(ref.size)}

        def work(self, case):
            return case.size["n_events"], "items/s"

        def params(self, case):
            return {"param_n_events": case.size["n_events"]}


    families.register(RunningMax())
''')


def _site(tmp: Path, module: str, source: str, name: str) -> Path:
    """A site folder holding `module` and a distribution whose entry point names it."""
    site = tmp / "site"
    (site / module).mkdir(parents=True)
    (site / module / "__init__.py").write_text(source)
    info = site / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[spikebench.plugins]\n{name} = {module}\n")
    return site


def _cli(site: Path, cwd: Path, *args, timeout=600):
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [sys.executable, "-m", "spikebench.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def plugin_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plugin")
    site = _site(tmp, "runmax_plugin", PLUGIN, "runmax")
    dry = _cli(site, tmp, "run", "--family", "runmax", "--dry-run")
    run = _cli(site, tmp, "run", "--family", "runmax", "--out", "results", "--no-report")
    return tmp, site, dry, run


def test_a_plugin_family_runs_in_isolated_workers(plugin_run):
    tmp, _, dry, run = plugin_run
    assert dry.returncode == 0, dry.stderr
    assert (
        "runmax/accumulate/runmax-np/cpu/float64/forward/gaussian[n_events=200]" in dry.stdout
        and "2 cases" in dry.stdout
    )
    assert run.returncode == 0, run.stdout + run.stderr
    (csv,) = (tmp / "results").rglob("*.csv")
    from spikebench import results

    df = results.read([csv])
    assert list(df["status"]) == ["ok", "ok"], df[["status", "error"]]
    assert df["correct"].all() and (df["framework"] == "runmax-np").all()
    assert df["kernel_version"].str.fullmatch(r"[0-9a-f]{12}").all()
    assert df["inputs_version"].nunique() == 2
    ctx = json.loads(csv.with_suffix(".json").read_text())
    # the peers are spikebench's own plugin (``spikebench.peers``)
    assert ctx["plugins"] == {"runmax": "runmax_plugin", "peers": "spikebench.peers"}


def test_a_plugin_family_validates_reports_and_compares(plugin_run):
    tmp, site, _, _ = plugin_run
    (csv,) = (tmp / "results").rglob("*.csv")
    val = _cli(site, tmp, "validate", str(csv))
    assert val.returncode == 0 and "valid" in val.stdout, val.stdout + val.stderr
    rep = _cli(site, tmp, "report", str(csv), "--out", "report")
    assert rep.returncode == 0, rep.stdout + rep.stderr
    assert "running maximum" in (tmp / "report" / "index.html").read_text()
    # without the plugin, its rows are refused by name
    bare = subprocess.run(
        [sys.executable, "-m", "spikebench.cli", "validate", str(csv)],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bare.returncode == 1 and "runmax" in bare.stdout


def test_a_broken_plugin_is_skipped_with_a_warning(tmp_path):
    site = _site(tmp_path, "broken_plugin", "raise RuntimeError('no GPU driver here')\n", "broken")
    out = _cli(site, tmp_path, "devices")
    assert out.returncode == 0, out.stderr
    assert "broken" in out.stdout and "no GPU driver here" in out.stdout + out.stderr
