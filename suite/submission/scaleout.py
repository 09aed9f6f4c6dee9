"""Scale-out: a sweep's shards as the jobs of a scheduler, then one merged results CSV.

spikebench does not schedule jobs; it splits a sweep (``spikebench run --shard i/n``: every
n-th case from the i-th on, ``profiles.shard``) and merges the shards (``spikebench merge``).
This module is the glue for `submitit <https://github.com/facebookincubator/submitit>`_:
``run_shard`` is one job (the same command a SLURM array task runs), ``submit_shards`` maps
it over an executor and merges what comes back::

    import submitit
    from spikebench.submission.scaleout import submit_shards

    ex = submitit.AutoExecutor(folder="logs")   # SLURM where there is one, else local jobs
    ex.update_parameters(slurm_array_parallelism=8, gpus_per_node=1, timeout_min=120)
    merged = submit_shards(ex, 8)               # results/shards/: 8 shard CSVs, 1 merged

The README's examples are these; ``tests/suite/test_scaleout.py`` runs them with submitit's
local executor (no cluster needed).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def shard_command(i: int, n: int, args=(), out: str | Path = "results/shards") -> list[str]:
    """``spikebench run --shard i/n --out OUT/shard-i-of-n --no-report ARGS``, with this
    Python (a job runs in the environment that submitted it)."""
    if not (isinstance(i, int) and isinstance(n, int) and 1 <= i <= n):
        raise ValueError(f"shard {i}/{n}: expected integers with 1 <= i <= n")
    return [
        sys.executable,
        "-m",
        "spikebench.cli",
        "run",
        "--shard",
        f"{i}/{n}",
        "--out",
        str(Path(out) / f"shard-{i}-of-{n}"),
        "--no-report",
        *map(str, args),
    ]


def run_shard(i: int, n: int, args=(), out: str | Path = "results/shards") -> str:
    """One job: run shard `i` of `n` of the sweep (``args``: more ``spikebench run``
    options, e.g. a profile or filters) and return the path of the CSV it wrote."""
    folder = Path(out) / f"shard-{i}-of-{n}"
    before = set(folder.rglob("*.csv")) if folder.exists() else set()
    done = subprocess.run(shard_command(i, n, args, out), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(
            f"shard {i}/{n} failed (exit {done.returncode}):\n"
            f"{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    (csv,) = set(folder.rglob("*.csv")) - before
    return str(csv)


def submit_shards(
    executor, n: int, args=(), out: str | Path = "results/shards", merged: str | Path | None = None
) -> Path:
    """Run the `n` shards as an array of jobs of a submitit executor, wait for them, and
    merge their CSVs into `merged` (default ``OUT/merged-<sweep_id>.csv``); returns it."""
    from . import merge

    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    out = Path(out).resolve()  # the jobs may start in another folder
    jobs = executor.map_array(
        run_shard, list(range(1, n + 1)), [n] * n, [list(args)] * n, [str(out)] * n
    )
    csvs = [job.result() for job in jobs]
    if merged is None:
        from ..untrusted import load_context

        ctx = load_context(Path(csvs[0]).with_suffix(".json"))
        merged = out / f"merged-{ctx.get('shard', {}).get('sweep_id', 'sweep')}.csv"
    path, _ = merge.merge(csvs, merged)
    return path
