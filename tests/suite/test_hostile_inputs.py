"""Hostile inputs beyond the cells of a results file (Hardening II): files that are devices,
pipes or links to them, decompression bombs, output folders that cannot take results, kernel
inputs that would silently give a wrong answer, and a sweep killed with SIGKILL. Each case
asserts the one-line error or the unchanged result; nothing here may hang (an alarm guards the
pipes) or write outside its target.
"""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from spikebench import untrusted as U
from spikebench.harness import runner

from .test_hostile_submissions import cli, edit, run, tree  # noqa: F401 (fixture)


@pytest.fixture
def alarm():
    """Fail instead of hanging: a read that blocks on a pipe is interrupted after 20 s."""

    def ring(*_):
        raise TimeoutError("blocked on a pipe")

    old = signal.signal(signal.SIGALRM, ring)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _swap(path: Path, kind: str) -> None:
    """Replace `path` by a link to a device, a named pipe or a folder."""
    path.unlink()
    if kind == "link to /dev/zero":
        path.symlink_to("/dev/zero")
    elif kind == "link to /dev/urandom":
        path.symlink_to("/dev/urandom")
    elif kind == "named pipe":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "dangling link":
        path.symlink_to(path.with_name("nowhere"))


KINDS = ["link to /dev/zero", "link to /dev/urandom", "named pipe", "folder", "dangling link"]
MESSAGE = {
    "link to /dev/zero": "is a character device",
    "link to /dev/urandom": "is a character device",
    "named pipe": "is a named pipe",
    "folder": "is a folder",
    "dangling link": "no such file",
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("which", ["json", "csv"])
def test_validate_refuses_files_that_are_not_regular(run, kind, which, alarm):  # noqa: F811
    _swap(run.with_suffix(f".{which}"), kind)
    res = cli("validate", run)
    assert res.exit_code == 1, res.output
    want = "no JSON context" if (which, kind) == ("json", "dangling link") else MESSAGE[kind]
    assert want in res.output.replace("\n", ""), res.output


@pytest.mark.parametrize("kind", ["link to /dev/zero", "named pipe"])
def test_report_compare_merge_refuse_a_device_csv(run, tmp_path, kind, alarm):  # noqa: F811
    _swap(run, kind)
    for args, code in (
        (("report", run, "--out", tmp_path / "r"), 2),
        (("compare", run), 2),
        (("merge", run, "--out", tmp_path / "m.csv"), 1),
    ):
        res = cli(*args)
        assert res.exit_code == code and MESSAGE[kind] in res.output.replace("\n", ""), (
            args,
            res.output,
        )
    assert not (tmp_path / "r").exists() and not (tmp_path / "m.csv").exists()


def test_one_device_json_under_results_does_not_break_later_submissions(
    run,  # noqa: F811
    tmp_path,
    alarm,
):
    results = tmp_path / "results"
    (results / "someone").mkdir(parents=True)
    (results / "someone" / "evil.json").symlink_to("/dev/zero")
    os.mkfifo(results / "someone" / "pipe.json")
    res = cli("submit", run, "--results", results)
    assert res.exit_code == 0, res.output
    assert len(list(results.rglob("*.csv"))) == 1


def test_a_json_over_the_cap_is_refused_from_what_is_read(run, monkeypatch):  # noqa: F811
    monkeypatch.setattr(U, "MAX_JSON_BYTES", 1000)
    with pytest.raises(U.UntrustedError, match="more than the 1000 bytes"):
        U.load_json(run.with_suffix(".json"))


# -- compressed and binary dataset files ---------------------------------------------------------


def _idx_header(*dims) -> bytes:
    return bytes([0, 0, 0x08, len(dims)]) + np.asarray(dims, ">i4").tobytes()


def _gzip_stream(head: bytes, zeros: int) -> bytes:
    """A gzip file of `head` then `zeros` zero bytes, written in slices (never in memory)."""
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    out = [c.compress(head)]
    block = bytes(2**20)
    for _ in range(zeros // len(block)):
        out.append(c.compress(block))
    out.append(c.compress(bytes(zeros % len(block))))
    out.append(c.flush())
    return b"".join(out)


def test_an_idx_header_declaring_gigabytes_is_refused_after_one_slice(tmp_path):
    from spikebench.datasets import _idx

    bomb = tmp_path / "train-images-idx3-ubyte.gz"
    bomb.write_bytes(_gzip_stream(_idx_header(2_000_000, 28, 28), 8 * 2**20))
    with pytest.raises(ValueError, match=r"declares 1568000016 bytes, more than"):
        _idx.read_idx(bomb)


def test_an_idx_body_longer_than_its_header_stops_at_the_declared_size(tmp_path):
    from spikebench.datasets import _idx

    bomb = tmp_path / "train-images-idx3-ubyte.gz"
    bomb.write_bytes(_gzip_stream(_idx_header(10, 28, 28), 64 * 2**20))  # 64 MiB of zeros
    with pytest.raises(ValueError, match=r"inflates to more than the 7856 bytes its header"):
        _idx.read_idx(bomb)
    ok = tmp_path / "ok.gz"
    ok.write_bytes(gzip.compress(_idx_header(2, 3) + bytes(range(6))))
    assert _idx.read_idx(ok).tolist() == [[0, 1, 2], [3, 4, 5]]


@pytest.mark.parametrize("kind", ["link to /dev/zero", "named pipe"])
def test_dataset_readers_refuse_devices_and_pipes(tmp_path, kind, alarm):
    from spikebench import datasets
    from spikebench.datasets import _idx

    img = tmp_path / "train-images-idx3-ubyte"
    _idx.write_idx(img, np.zeros((2, 28, 28), np.uint8))
    _idx.write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(2, np.uint8))
    _swap(img, kind)
    with pytest.raises(ValueError, match=MESSAGE[kind]):
        _idx.read_idx(img)
    h5 = tmp_path / "shd_train.h5"
    h5.touch()
    _swap(h5, kind)
    with pytest.raises(ValueError, match=MESSAGE[kind]):
        datasets.measure(h5)
    stats = tmp_path / "stats.json"
    stats.touch()
    _swap(stats, kind)
    with pytest.raises(ValueError, match=MESSAGE[kind]):
        datasets.read_stats(stats)


# -- output folders --------------------------------------------------------------------------------


def _outputs(tmp_path, run_csv):
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    return [
        (("run", "--profile", "selftest", "--out", afile), "exists and is not a folder"),
        (("run", "--profile", "selftest", "--out", "/dev/null"), "lies under /dev"),
        (("run", "--profile", "selftest", "--out", "/proc/spikebench"), "lies under /proc"),
        (("run", "--profile", "selftest", "--out", afile / "sub"), "is not a folder"),
        (
            ("run", "--profile", "selftest", "--out", tmp_path / "ok", "--report-dir", afile),
            "--report-dir",
        ),
        (("report", run_csv, "--out", afile), "exists and is not a folder"),
        (("report", run_csv, "--out", "/sys/x"), "lies under /sys"),
        (("submit", run_csv, "--results", "/dev/null"), "lies under /dev"),
        (("submit", run_csv, "--results", afile), "exists and is not a folder"),
        (("merge", run_csv, "--out", "/dev/null"), "lies under /dev"),
        (("merge", run_csv, "--out", tmp_path), "exists and is not a regular file"),
        (("compare", run_csv, "--markdown", tmp_path), "exists and is not a regular file"),
        (("compare", run_csv, "--markdown", "/dev/full"), "lies under /dev"),
        (("datasets", "stats", run_csv, "--save", "/dev/stdout"), "lies under /dev"),
        (("train", "--json", "/dev/null"), "lies under /dev"),
    ]


def test_output_options_are_usage_errors_before_any_work(run, tmp_path):  # noqa: F811
    before = tree(tmp_path)
    for args, message in _outputs(tmp_path, run):
        res = cli(*args)
        assert res.exit_code == 2, (args, res.output)
        text = " ".join(res.output.split())
        assert message in text and "Invalid value" in text, (args, res.output)
    assert tree(tmp_path) == before | {"afile"}
    assert (tmp_path / "afile").read_text() == "mine\n"


def test_an_unwritable_folder_is_a_usage_error(run, tmp_path):  # noqa: F811
    """A read-only folder (as a normal user) or an immutable one (root: chattr +i)."""
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() == 0:
        if (
            shutil.which("chattr") is None
            or subprocess.run(["chattr", "+i", ro], capture_output=True).returncode != 0
        ):
            pytest.skip("root without chattr +i: no folder here refuses writes")
    else:
        ro.chmod(0o555)
    try:
        res = cli("report", run, "--out", ro / "r")
        assert res.exit_code == 2 and "cannot write in" in " ".join(res.output.split()), res.output
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", ro], capture_output=True)
        ro.chmod(0o755)


def test_pytest_sweep_checks_its_output_options_before_collecting(tmp_path):
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--benchmark",
            "--bench-profile",
            "selftest",
            "--bench-out",
            "/dev/null",
            str(Path(__file__).parents[2] / "benchmarks"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 4, res.stdout + res.stderr
    assert "--bench-out /dev/null: lies under /dev" in res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    # nothing of spikebench's (pytest-benchmark makes its own .benchmarks storage folder)
    assert not [p for p in tmp_path.iterdir() if p.name != ".benchmarks"]


# -- a sweep killed with SIGKILL ----------------------------------------------------------------


def test_sigkill_leaves_a_temp_folder_the_next_sweep_removes(tmp_path):
    tmp = Path(tempfile.mkdtemp(prefix="sb-"))  # short: the forkserver's socket lives there
    try:
        _sigkill_sweep(tmp_path, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _sigkill_sweep(tmp_path, tmp):
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "spikebench.cli",
            "run",
            "--profile",
            "selftest",
            "--no-report",
            "--out",
            str(tmp_path / "results"),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not list(tmp.glob(f"{runner.TEMP_PREFIX}{proc.pid}-*")):
            assert proc.poll() is None and time.monotonic() < deadline, "no temp folder"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    (left,) = tmp.glob(f"{runner.TEMP_PREFIX}{proc.pid}-*")
    # a live sweep's folder (this process's child, started before the folder) stays
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.2)
        mine = tmp / f"{runner.TEMP_PREFIX}{live.pid}-abc"
        mine.mkdir()
        removed = runner.sweep_stale_temp(tmp)
        assert removed == [left] and not left.exists() and mine.exists()
    finally:
        live.kill()
        live.wait()
    assert runner.sweep_stale_temp(tmp) == [mine]
