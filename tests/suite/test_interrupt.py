"""Signals during a sweep: Ctrl-C, SIGTERM and SIGHUP leave a valid CSV of the rows already
measured, no process and no temp folder; a worker SIGKILLed from outside is not called oom."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import psutil
import pytest
from spikebench import results


@pytest.fixture
def short_tmp():
    """A temp dir with a short path for the sweep (its forkserver's AF_UNIX socket lives
    there, and a socket path over 107 bytes cannot be bound: pytest's numbered tmp_path under
    xdist gets that long on a machine that has run pytest a thousand times)."""
    import shutil
    import tempfile
    from pathlib import Path

    tmp = Path(tempfile.mkdtemp(prefix="sb-"))
    yield tmp
    shutil.rmtree(tmp, ignore_errors=True)


def _start_selftest(tmp_path, machine, tmp):
    """`spikebench run --profile selftest` with its own temp dir `tmp`; returns (proc, folder,
    tmp) once the first two rows are written (the third case, `hangs`, is then running)."""
    env = {**os.environ, "SPIKEBENCH_MACHINE_ID": machine, "TMPDIR": str(tmp)}
    log = tmp_path / "sweep.log"  # a file, not a pipe: a full pipe would stall the sweep
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "spikebench.cli",
                "run",
                "--profile",
                "selftest",
                "--out",
                str(tmp_path),
                "--no-report",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    proc.log = log
    folder = tmp_path / machine
    deadline = time.time() + 120
    rows = 0
    while time.time() < deadline and rows < 2 and proc.poll() is None:
        time.sleep(0.2)
        csvs = list(folder.glob("*.csv")) if folder.exists() else []
        if csvs:
            rows = max(0, len(csvs[0].read_text().splitlines()) - 1)
    assert rows == 2, (
        "the first two rows should be written before the signal; the sweep "
        f"said: {log.read_text()[-2000:]}"
    )
    return proc, folder, tmp


def test_sigint_leaves_valid_csv(tmp_path, short_tmp):
    # selftest order: ok, raises, hangs (timeout 5 s) -> interrupt while `hangs` runs
    proc, folder, _ = _start_selftest(tmp_path, "sigint-test", short_tmp)
    csvs = list(folder.glob("*.csv"))
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    out = proc.log.read_bytes()
    assert proc.returncode == 130, out.decode()[-2000:]
    assert b"interrupted" in out
    df = results.read([folder])
    assert list(df["status"]) == ["ok", "failed"]
    assert (folder / csvs[0].with_suffix(".json").name).exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_end_every_child_and_remove_temp_files(tmp_path, sig, short_tmp):
    from spikebench.submission import validate

    proc, folder, tmp = _start_selftest(tmp_path, f"sig{int(sig)}-test", short_tmp)
    time.sleep(1.0)  # let the `hangs` worker start
    children = psutil.Process(proc.pid).children(recursive=True)
    assert children, "the sweep should run its case in a worker process"
    assert list(tmp.glob("spikebench-*")), "the sweep keeps its pickled inputs in a temp folder"
    proc.send_signal(sig)
    proc.wait(timeout=60)
    assert proc.returncode == 128 + int(sig), proc.log.read_text()[-2000:]
    _, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"left running: {[(p.pid, p.name()) for p in alive]}"
    # (.ses: this workplace's shell session marker, written into any TMPDIR; not ours)
    left = [p.name for p in tmp.iterdir() if p.name != ".ses"]
    assert not left, f"left in the temp dir: {left}"
    (csv,) = folder.glob("*.csv")
    assert validate.validate(csv).ok
    assert list(results.read([folder])["status"]) == ["ok", "failed"]


def test_a_worker_killed_from_outside_is_not_called_oom(tmp_path):
    """SIGKILL with no OOM evidence: a failed row naming the signal, not `oom`."""
    import pickle
    import threading

    from spikebench import cases
    from spikebench.harness import worker

    case = cases.Case(
        family="selftest",
        impl="hangs",
        framework="numpy",
        device="cpu",
        dtype="float64",
        mode="forward",
        dataset="none",
        sizes=(("n", 8),),
        timeout_s=60,
    )
    data = tmp_path / "data.pkl"
    data.write_bytes(pickle.dumps(({"x": np.arange(8.0)}, np.cumsum(np.arange(8.0)))))
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    got = {}
    t = threading.Thread(
        target=lambda: got.update(worker.measure_isolated(case, str(data), 60, None, 1))
    )
    t.start()
    deadline = time.time() + 60
    new = []
    while time.time() < deadline and not new:
        time.sleep(0.2)
        # the worker is forked by the forkserver: a grandchild of this process
        new = [p for p in me.children(recursive=True) if p.pid not in before and p.ppid() != me.pid]
    assert new, "no worker process appeared"
    time.sleep(0.5)
    for p in new:
        p.send_signal(signal.SIGKILL)
    t.join(60)
    assert got["status"] == "failed", got
    assert "signal 9 (SIGKILL)" in got["error"] and "no sign of the out-of-memory" in got["error"]


def test_oom_needs_evidence(monkeypatch):
    from spikebench.harness import worker

    monkeypatch.setattr(worker, "memory_limit", lambda: 8 * 2**30)
    monkeypatch.setattr(worker, "oom_kills", lambda: 3)
    assert worker._death(-9, 2, 0)["status"] == "oom"  # the cgroup's count rose
    assert worker._death(-9, 3, int(7.5 * 2**30))["status"] == "oom"  # RSS near the limit
    quiet = worker._death(-9, 3, 2**30)
    assert quiet["status"] == "failed" and "SIGKILL" in quiet["error"]
    seg = worker._death(-11, 3, 2**30)
    assert seg["status"] == "failed" and "SIGSEGV" in seg["error"]
    assert worker._death(1, None, 0) == {"status": "failed", "error": "worker died (exit code 1)"}
