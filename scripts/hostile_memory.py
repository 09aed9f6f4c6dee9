"""Peak memory of the commands on the worst hostile inputs (Hardening II), each in a fresh
process: the resident high-water mark (ru_maxrss) of `spikebench <command>` on a good file, and
on a device, a pipe, a decompression bomb, a file at the size cap and just over it. Prints a
Markdown table. Run from the repository root: python scripts/hostile_memory.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GOOD = ROOT / "results" / "amd-epyc-0a7c9cdf" / "20261207T114502Z-2c7085f650b4.csv"
CLI = [sys.executable, "-m", "spikebench.cli"]


def peak(cmd):
    """(exit code, peak RSS MB, seconds, last output line) of `cmd` in a fresh process (its
    own rusage, from wait4)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
    )
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    dt = time.perf_counter() - t0
    lines = [x for x in out.strip().splitlines() if x.strip()]
    return proc.returncode, usage.ru_maxrss / 1024, dt, (lines[-1] if lines else "")[:110]


def gzip_bomb(path: Path, dims, zeros: int) -> None:
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    with open(path, "wb") as f:
        f.write(c.compress(bytes([0, 0, 8, len(dims)]) + np.asarray(dims, ">i4").tobytes()))
        block = bytes(2**20)
        for _ in range(zeros // len(block)):
            f.write(c.compress(block))
        f.write(c.flush())


def main():
    tmp = Path(tempfile.mkdtemp(prefix="hostile-"))
    try:

        def pair(name, csv_src=GOOD, json_link=None):
            d = tmp / name
            d.mkdir()
            shutil.copy(csv_src, d / "run.csv")
            if json_link:
                (d / "run.json").symlink_to(json_link)
            else:
                shutil.copy(GOOD.with_suffix(".json"), d / "run.json")
            return d / "run.csv"

        cases = [("validate a good 271-row file", CLI + ["validate", str(pair("good"))])]
        cases.append(
            (
                "validate, JSON a link to /dev/zero",
                CLI + ["validate", str(pair("zero", json_link="/dev/zero"))],
            )
        )
        fifo = tmp / "fifo"
        fifo.mkdir()
        shutil.copy(GOOD, fifo / "run.csv")
        os.mkfifo(fifo / "run.json")
        cases.append(("validate, JSON a named pipe", CLI + ["validate", str(fifo / "run.csv")]))
        big = tmp / "big"
        big.mkdir()
        text = GOOD.read_text()
        header, body = text.split("\n", 1)
        with open(big / "run.csv", "w") as f:
            f.write(header + "\n")
            while f.tell() < 64 * 2**20 + 1:
                f.write(body)
        shutil.copy(GOOD.with_suffix(".json"), big / "run.json")
        cases.append(
            ("validate a CSV just over the 64 MiB cap", CLI + ["validate", str(big / "run.csv")])
        )
        cases.append(
            (
                "report on a CSV that is a link to /dev/urandom",
                CLI + ["report", str(pair("rnd-csv")), "--out", str(tmp / "r")],
            )
        )
        (tmp / "rnd-csv" / "run.csv").unlink()
        (tmp / "rnd-csv" / "run.csv").symlink_to("/dev/urandom")
        results = tmp / "results" / "m"
        results.mkdir(parents=True)
        (results / "evil.json").symlink_to("/dev/zero")
        cases.append(
            (
                "submit with a /dev/zero JSON under --results",
                CLI + ["submit", str(pair("sub")), "--results", str(tmp / "results")],
            )
        )
        mn = tmp / "mnist"
        mn.mkdir()
        gzip_bomb(mn / "train-images-idx3-ubyte.gz", (1_913_265, 28, 28), 1_500_000_000)
        gzip_bomb(mn / "train-labels-idx1-ubyte.gz", (10,), 10)
        size = (mn / "train-images-idx3-ubyte.gz").stat().st_size
        cases.append(
            (
                f"datasets stats on a {size / 1e6:.2f} MB gzipped IDX of 1.5 GB",
                CLI + ["datasets", "stats", str(mn)],
            )
        )
        mn2 = tmp / "mnist2"
        mn2.mkdir()
        gzip_bomb(mn2 / "train-images-idx3-ubyte.gz", (1000, 28, 28), 1_500_000_000)
        shutil.copy(mn / "train-labels-idx1-ubyte.gz", mn2)
        cases.append(
            (
                "the same bomb behind a header declaring 0.78 MB",
                CLI + ["datasets", "stats", str(mn2)],
            )
        )
        print("| input | exit | peak RSS (MB) | seconds | last line |")
        print("|---|---|---|---|---|")
        for name, cmd in cases:
            code, rss, dt, last = peak(cmd)
            print(f"| {name} | {code} | {rss:.0f} | {dt:.1f} | {last} |", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
