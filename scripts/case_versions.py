"""The versions of a sweep's cases, without timing anything: for each case its
``kernel_version`` and ``inputs_version`` (``spikebench.versions``), as the harness would
record them.

    python scripts/case_versions.py --profile quick --out versions.csv
    python scripts/case_versions.py --commit c645824 --rows results/.../X.csv --out v.csv

`--commit` builds the cases, inputs and references with the code of that commit (a temporary
git worktree, imported instead of the installed spikebench) and digests them with *this*
checkout's ``versions.py``: how ``scripts/reversion.py`` gives committed results of schema v7
the digests of schema v8. Two lists made before and after a refactor must be equal row for row
(``--compare A.csv B.csv`` lists the differences).

Cases come from a profile (the CPU and ONNX Runtime device kinds) or, with `--rows`, are the
profile cases whose case_id appears in a results CSV (its JSON names the profile).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
VERSIONS_PY = HERE.parent / "suite" / "versions.py"
FIELDS = ["case_id", "label", "kernel_version", "inputs_version", "error"]


def _load_versions():
    """This checkout's versions.py, whichever spikebench is imported."""
    spec = importlib.util.spec_from_file_location("_spikebench_versions_now", VERSIONS_PY)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def cases_of(profile: str, ids: set[str] | None, kinds: list[str]):
    from spikebench import profiles

    cases = profiles.profile_cases(profile, kinds, limits=ids is None)
    return [c for c in cases if ids is None or c.case_id in ids]


def versions_of(cases, progress=True):
    """Rows of FIELDS, one per case (inputs and references built once per input set)."""
    from spikebench import families, registry

    V = _load_versions()
    memo: dict = {}
    out = []
    for i, case in enumerate(cases):
        fam = families.get(case.family)
        row = {
            "case_id": case.case_id,
            "label": case.label(),
            "kernel_version": "",
            "inputs_version": "",
            "error": "",
        }
        try:
            load = getattr(families, "load_kernels", None) or registry.load  # old commits
            load((case.framework,))
            impl = registry.REGISTRY.get((case.family, case.impl, case.framework))
            if impl is not None:
                name = getattr(families, "entry_name", None)  # old commits: the family's
                entry = name(case, impl) if name else fam.entry(case)
                row["kernel_version"] = V.kernel_version(impl, entry)
        except Exception as exc:  # noqa: BLE001 - unsupported entries have no kernel version
            row["error"] = f"kernel: {exc}"
        key = (fam.ref_kind(case), case.input_key)
        try:
            if key not in memo:
                inputs = fam.make_inputs(case)
                ref, _ = fam.reference(case, inputs)
                memo[key] = V.inputs_version(inputs, ref, fam.context(case, inputs))
            row["inputs_version"] = memo[key]
        except Exception as exc:  # noqa: BLE001 - a case whose inputs fail has no version
            row["error"] += f" inputs: {exc}"
        out.append(row)
        if progress:
            print(f"\r{i + 1}/{len(cases)} cases", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return out


def _tree(commit: str, workdir: Path) -> Path:
    """A folder to put on PYTHONPATH holding ``spikebench`` as `commit` lays it out."""
    repo = HERE.parent
    tree = workdir / "tree"
    subprocess.run(
        ["git", "-C", str(repo), "worktree", "add", "--detach", "--force", str(tree), commit],
        check=True,
        capture_output=True,
    )
    pkg = tree / "suite"
    for sub in ("kernels", "datasets"):
        if (tree / sub).is_dir() and not (pkg / sub).exists():
            (pkg / sub).symlink_to(tree / sub)
    root = workdir / "root"
    root.mkdir()
    (root / "spikebench").symlink_to(pkg)
    return root


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", help="the profile (default: the --rows JSON's, else quick)")
    ap.add_argument("--rows", type=Path, help="only the case ids of this results CSV")
    ap.add_argument("--commit", help="build cases, inputs and references with this commit")
    ap.add_argument("--out", type=Path, help="CSV to write (default: stdout)")
    ap.add_argument(
        "--devices",
        default="cpu,onnxrt",
        help="device kinds to expand over (default: cpu,onnxrt; with --rows, the rows' own)",
    )
    ap.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("A", "B"),
        help="list the cases whose versions differ between two such CSVs",
    )
    args = ap.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    if args.commit:
        work = Path(tempfile.mkdtemp(prefix="spikebench-versions-"))
        try:
            root = _tree(args.commit, work)
            argv2 = [a for a in (argv if argv is not None else sys.argv[1:])]
            i = argv2.index("--commit")
            del argv2[i : i + 2]
            env = {**os.environ, "PYTHONPATH": str(root)}
            return subprocess.run([sys.executable, __file__, *argv2], env=env, cwd=work).returncode
        finally:
            subprocess.run(
                [
                    "git",
                    "-C",
                    str(HERE.parent),
                    "worktree",
                    "remove",
                    "--force",
                    str(work / "tree"),
                ],
                capture_output=True,
            )
            shutil.rmtree(work, ignore_errors=True)
    ids = None
    profile = args.profile
    kinds = args.devices.split(",")
    if args.rows:
        with open(args.rows, newline="") as f:
            rows = list(csv.DictReader(f))
        ids = {r["case_id"] for r in rows if r.get("case_id")}
        kinds = sorted({r["device_kind"] for r in rows if r.get("device_kind")})
        if profile is None:
            profile = json.loads(args.rows.with_suffix(".json").read_text())["profile"]
    import spikebench

    print(f"spikebench from {Path(spikebench.__file__).parent}", file=sys.stderr)
    cases = cases_of(profile or "quick", ids, kinds)
    rows = versions_of(cases)
    f = open(args.out, "w", newline="") if args.out else sys.stdout
    w = csv.DictWriter(f, FIELDS)
    w.writeheader()
    w.writerows(rows)
    if args.out:
        f.close()
    return 0


def compare(a: Path, b: Path) -> int:
    """Print the cases whose versions differ (or that only one list has); exit 1 if any."""

    def read(p):
        with open(p, newline="") as f:
            return {r["case_id"]: r for r in csv.DictReader(f)}

    ra, rb = read(a), read(b)
    bad = 0
    for cid in sorted(ra.keys() | rb.keys()):
        x, y = ra.get(cid), rb.get(cid)
        if x is None or y is None:
            print(f"{cid} only in {a if y is None else b}: {(x or y)['label']}")
            bad += 1
        elif (x["kernel_version"], x["inputs_version"]) != (
            y["kernel_version"],
            y["inputs_version"],
        ):
            print(
                f"{cid} {x['label']}: kernel {x['kernel_version']} -> {y['kernel_version']}, "
                f"inputs {x['inputs_version']} -> {y['inputs_version']}"
            )
            bad += 1
    print(f"{len(ra.keys() & rb.keys())} cases in both, {bad} differ or are missing")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
