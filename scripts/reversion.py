"""Give committed results of schema v7 or older the version digests of schema v8.

Before v8, ``kernel_version`` and ``inputs_version`` hashed whole module files, so any
refactor made every earlier submission incomparable. For each results CSV older than v8 whose
commit has the family adapters (``suite/families/``), this rebuilds that run's cases, inputs
and references with the code of its own commit (``case_versions.py --commit``), digests them
with this checkout's ``versions.py``, and stores the digests in the JSON beside the CSV under
``versions_v8`` (``{"by", "at_commit", "cases": {case_id: [kernel_version, inputs_version]}}``).
The CSV is left byte for byte as submitted; ``results.read`` applies the digests when it
migrates the file. Files of earlier commits keep their module hashes (marked ``module:``).

    python scripts/reversion.py results/            # every such file under results/
    python scripts/reversion.py results/x/Y.csv     # one file
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def _git(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)


def _first_row(path: Path) -> dict:
    with open(path, newline="") as f:
        return next(csv.DictReader(f), {})


def reversion(path: Path, head: str) -> str:
    """Add ``versions_v8`` to the JSON of one CSV; a line saying what was done."""
    row = _first_row(path)
    if int(row.get("schema_version") or 8) >= 8:
        return f"{path}: schema v8 already"
    commit = row["git_commit"]
    if _git("cat-file", "-e", f"{commit}:suite/families/_base.py").returncode:
        return f"{path}: left as module hashes ({commit[:7]} has no family adapters)"
    ctx_path = path.with_suffix(".json")
    ctx = json.loads(ctx_path.read_text())
    with tempfile.TemporaryDirectory(prefix="spikebench-reversion-") as tmp:
        out = Path(tmp) / "versions.csv"
        run = subprocess.run(
            [
                sys.executable,
                str(HERE / "case_versions.py"),
                "--commit",
                commit,
                "--rows",
                str(path.resolve()),
                "--profile",
                ctx["profile"],
                "--out",
                str(out),
            ]
        )
        if run.returncode:
            return f"{path}: FAILED (case_versions exit {run.returncode})"
        with open(out, newline="") as f:
            found = {
                r["case_id"]: [r["kernel_version"], r["inputs_version"]] for r in csv.DictReader(f)
            }
    with open(path, newline="") as f:
        ids = {r["case_id"] for r in csv.DictReader(f) if r.get("kernel_version")}
    cases = {cid: v for cid, v in sorted(found.items()) if cid in ids}
    ctx["versions_v8"] = {"by": "scripts/reversion.py", "at_commit": head, "cases": cases}
    with open(ctx_path, "w") as f:  # as results.dump_json writes it (the values are strict)
        json.dump(ctx, f, indent=2, sort_keys=True, allow_nan=False)
        f.write("\n")
    return f"{path}: {len(cases)} of {len(ids)} versioned rows' cases recomputed at {commit[:7]}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", type=Path)
    args = ap.parse_args(argv)
    head = _git("rev-parse", "HEAD").stdout.strip()
    files = [f for p in args.paths for f in (sorted(p.rglob("*.csv")) if p.is_dir() else [p])]
    for f in files:
        print(reversion(f, head), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
