"""Ctrl-C during a sweep leaves a valid CSV holding the rows already measured."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from spikebench import results


def test_sigint_leaves_valid_csv(tmp_path):
    # selftest order: ok, raises, hangs (timeout 5 s) -> interrupt while `hangs` runs
    env = {**os.environ, "SPIKEBENCH_MACHINE_ID": "sigint-test"}
    proc = subprocess.Popen([sys.executable, "-m", "spikebench.cli", "run", "--profile",
                             "selftest", "--out", str(tmp_path), "--no-report"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    folder = tmp_path / "sigint-test"
    deadline = time.time() + 120
    rows = 0
    while time.time() < deadline and rows < 2:
        time.sleep(0.2)
        csvs = list(folder.glob("*.csv")) if folder.exists() else []
        if csvs:
            rows = max(0, len(csvs[0].read_text().splitlines()) - 1)
    assert rows == 2, "the first two rows should be written before the interrupt"
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out.decode()[-2000:]
    assert b"interrupted" in out
    df = results.read([folder])
    assert list(df["status"]) == ["ok", "failed"]
    assert (folder / csvs[0].with_suffix(".json").name).exists()
