"""`spikebench submit`: validate a run, then file it under results/<machine_id>/.

- Validation first (``validate.validate``): a file with any error is refused and nothing is
  written.
- Never overwrites: the CSV and its JSON are created exclusively (``open(..., "x")``). A file
  of the same name, or a run whose run_id is already filed anywhere under the results root
  (a duplicate submission), is refused. Both files are written or neither.
- Anonymised unless asked not to: every occurrence of this machine's hostname (short and
  fully qualified) in the CSV and the JSON becomes ``host-<sha1[:8]>`` — the same hash the
  default machine_id uses — and a JSON ``hostname`` key is dropped. ``keep_hostname=True``
  files the run as it is.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
from pathlib import Path

from . import validate as V


def host_names() -> list[str]:
    """This machine's names, longest first (so the FQDN is replaced before its prefix)."""
    names = {socket.gethostname(), socket.getfqdn()}
    return sorted((n for n in names if n and n not in ("localhost", "localhost.localdomain")),
                  key=len, reverse=True)


def anonymise(text: str, names) -> str:
    for n in names:
        text = text.replace(n, "host-" + hashlib.sha1(n.split(".")[0].encode()).hexdigest()[:8])
    return text


def _filed_run_ids(root: Path) -> dict[str, Path]:
    out = {}
    for ctx in root.rglob("*.json"):
        try:
            data = json.loads(ctx.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("run_id"), str):
            out[data["run_id"]] = ctx
    return out


def submit(csv_path, results_root, keep_hostname: bool = False,
           names: list[str] | None = None) -> tuple[Path, V.Report]:
    """File a validated run; returns the new CSV path and the validation report. ValueError
    (naming the reason) when the run is invalid or would overwrite or duplicate a filed one."""
    csv_path, root = Path(csv_path), Path(results_root)
    rep = V.validate(csv_path)
    if not rep.ok:
        raise ValueError(f"{csv_path} is not valid ({len(rep.errors)} errors; run "
                         f"`spikebench validate {csv_path}`): {rep.errors[0]}")
    text = csv_path.read_text()
    ctx = json.loads(csv_path.with_suffix(".json").read_text())
    if not keep_hostname:
        names = host_names() if names is None else names
        ctx.pop("hostname", None)
        text = anonymise(text, names)
        ctx = json.loads(anonymise(json.dumps(ctx), names))
    machine = ctx["machine_id"]
    if not isinstance(machine, str) or not re.fullmatch(V.NAME, machine):
        raise ValueError(f"machine_id {machine!r} is not a safe folder name")
    filed = _filed_run_ids(root)
    if ctx["run_id"] in filed:
        raise ValueError(f"run {ctx['run_id']} is already filed as {filed[ctx['run_id']]}")
    dest = root / machine / csv_path.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    ctx_dest = dest.with_suffix(".json")
    for p in (dest, ctx_dest):
        if p.exists():
            raise ValueError(f"{p} exists; results are never overwritten")
    with open(dest, "x") as f:
        f.write(text)
    try:
        with open(ctx_dest, "x") as f:
            json.dump(ctx, f, indent=2, sort_keys=True)
            f.write("\n")
    except BaseException:
        dest.unlink()  # both files or neither
        raise
    return dest, rep
