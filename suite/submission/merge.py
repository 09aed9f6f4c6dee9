"""`spikebench merge`: combine the shards of one sweep into one results CSV (+ JSON).

A sweep split with ``--shard i/n`` (``spikebench run`` or ``pytest --benchmark
--bench-shard``) leaves n ordinary results files, possibly from several machines or devices.
Each is a valid run on its own (submit them as they are); ``merge`` checks that they belong
together — every file valid, one ``sweep_id``, each index 1..n exactly once, no case twice —
and writes their rows, unchanged (each keeps its run_id and machine_id), into one new CSV,
with a JSON whose ``shards`` list holds every shard's context. A missing shard is an error
unless ``partial=True`` (then the JSON lists what is missing).
"""

from __future__ import annotations

from pathlib import Path

from .. import results
from .. import untrusted as U
from . import validate as V


def merge(paths, out, partial: bool = False) -> tuple[Path, dict]:
    import pandas as pd

    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("give the shard CSVs to merge")
    out = Path(out)
    if out.suffix != ".csv":
        raise ValueError(f"--out {out}: expected a .csv path")
    for p in (out, out.with_suffix(".json")):
        if p.exists():
            raise ValueError(f"{p} exists; results are never overwritten")
    frames, contexts = [], []
    for p in paths:
        rep = V.validate(p)
        if not rep.ok:
            raise ValueError(f"{p} is not valid: {rep.errors[0]}")
        ctx = U.load_context(p.with_suffix(".json"))  # the schema checks a shard's fields
        if not isinstance(ctx.get("shard"), dict):
            raise ValueError(f"{p}: not a shard (its JSON has no 'shard'; run with --shard i/n)")
        frames.append(results.migrate(V.read_csv(p)))
        contexts.append(ctx)
    shards = [c["shard"] for c in contexts]
    sweeps = {s["sweep_id"] for s in shards}
    if len(sweeps) > 1:
        raise ValueError(f"the files come from different sweeps: {sorted(sweeps)}")
    counts = {s["count"] for s in shards}
    if len(counts) > 1:
        raise ValueError(f"the files split the sweep differently: into {sorted(counts)}")
    (n,) = counts
    seen: dict[int, Path] = {}
    for s, p in zip(shards, paths, strict=True):
        if s["index"] in seen:
            raise ValueError(f"shard {s['index']}/{n} given twice: {seen[s['index']]} and {p}")
        seen[s["index"]] = p
    missing = [i for i in range(1, n + 1) if i not in seen]
    if missing and not partial:
        raise ValueError(
            f"shard(s) {', '.join(f'{i}/{n}' for i in missing)} missing "
            f"(merge with partial=True / --partial to combine what is there)"
        )
    rows = pd.concat(frames, ignore_index=True)
    dup = rows[rows.duplicated("case_id", keep=False)]
    if len(dup):
        raise ValueError(f"case {dup['case_id'].iloc[0]} appears in more than one shard")
    first = contexts[0]
    machines = sorted({c["machine_id"] for c in contexts})
    ctx = {
        "schema_version": results.SCHEMA_VERSION,
        "run_id": "merged-" + first["shard"]["sweep_id"],
        "machine_id": machines[0] if len(machines) == 1 else "multiple",
        "git_commit": first.get("git_commit"),
        "profile": first.get("profile"),
        "sweep": {
            "sweep_id": first["shard"]["sweep_id"],
            "count": n,
            "n_cases": first["shard"]["n_cases"],
            "missing": missing,
        },
        "shards": contexts,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "x", newline="") as f:
        rows[results.COLUMNS].to_csv(f, index=False)
    try:
        with open(out.with_suffix(".json"), "x") as f:
            results.dump_json(ctx, f)
    except BaseException:
        out.unlink()
        raise
    return out, ctx["sweep"]
