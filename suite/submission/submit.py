"""`spikebench submit`: validate a run, then file it under results/<machine_id>/.

- Validation first (``validate.validate``): a file with any error is refused and nothing is
  written. Validation refuses cells a spreadsheet would run as formulas and names that are
  not safe folder names (``untrusted.safe_name``: no ``.``/``..``, no ``/``), and the
  destination is checked to resolve inside the results root (``untrusted.inside``).
- Never overwrites: the CSV and its JSON are linked into place exclusively (``os.link``
  fails on an existing name). A file of the same name, or a run whose run_id is already filed
  anywhere under the results root (a duplicate submission), is refused. Both files are filed
  or neither.
- Anonymised unless asked not to: this machine's hostname (short and fully qualified) becomes
  ``host-<sha1[:8]>`` -- the same hash the default machine_id uses -- wherever it stands as a
  whole name in a CSV cell or a JSON string (``cpu_vmhwm_delta`` on a host named ``vm`` is
  left alone), and a JSON ``hostname`` key is dropped. ``keep_hostname=True`` files the run
  as it is.
- The copy that is filed is validated again before it is linked into place, so anonymising
  can never file something that would not validate.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path

from .. import results
from .. import untrusted as U
from . import validate as V


def host_names() -> list[str]:
    """This machine's names, longest first (so the FQDN is replaced before its prefix)."""
    names = {socket.gethostname(), socket.getfqdn()}
    return sorted(
        (n for n in names if n and n not in ("localhost", "localhost.localdomain")),
        key=len,
        reverse=True,
    )


def anonymise(text: str, names) -> str:
    """`text` with each of `names` replaced where it stands as a whole name: not inside a
    longer word of letters, digits, ``_`` or ``-`` (dots are separators: ``vm`` in
    ``vm.example.org`` is replaced once the FQDN, longer, was not there)."""
    for n in names:
        tag = "host-" + hashlib.sha1(n.split(".")[0].encode()).hexdigest()[:8]
        text = re.sub(rf"(?<![A-Za-z0-9_-]){re.escape(n)}(?![A-Za-z0-9_-])", tag, text)
    return text


def _anonymise_json(obj, names):
    if isinstance(obj, str):
        return anonymise(obj, names)
    if isinstance(obj, list):
        return [_anonymise_json(v, names) for v in obj]
    if isinstance(obj, dict):
        return {anonymise(k, names): _anonymise_json(v, names) for k, v in obj.items()}
    return obj


def _anonymise_csv(text: str, names) -> str:
    """Cell by cell, so that a replacement never changes the file's structure."""
    import io

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    for row in csv.reader(io.StringIO(text, newline="")):
        w.writerow([anonymise(c, names) for c in row])
    return out.getvalue()


def _filed_run_ids(root: Path) -> dict[str, Path]:
    out = {}
    for ctx in root.rglob("*.json"):
        try:
            data = U.load_context(ctx)
        except U.UntrustedError:
            continue  # not a results context (validate says why)
        out[data["run_id"]] = ctx
    return out


def submit(
    csv_path, results_root, keep_hostname: bool = False, names: list[str] | None = None
) -> tuple[Path, V.Report]:
    """File a validated run; returns the new CSV path and the validation report. ValueError
    (naming the reason) when the run is invalid or would overwrite or duplicate a filed one."""
    csv_path, root = Path(csv_path), Path(results_root)
    rep = V.validate(csv_path)
    if not rep.ok:
        raise ValueError(
            f"{csv_path} is not valid ({len(rep.errors)} errors; run "
            f"`spikebench validate {csv_path}`): {rep.errors[0]}"
        )
    text = U.read_text(csv_path, U.MAX_CSV_BYTES, "CSV")  # as validated
    ctx = U.load_context(csv_path.with_suffix(".json"))  # validate read it already
    if not keep_hostname:
        names = host_names() if names is None else names
        ctx.pop("hostname", None)
        text = _anonymise_csv(text, names)
        ctx = _anonymise_json(ctx, names)
    machine = U.safe_name(ctx["machine_id"], "machine_id")
    dest = U.inside(root, machine, U.safe_name(csv_path.name, "file name"))
    ctx_dest = dest.with_suffix(".json")
    filed = _filed_run_ids(root) if root.is_dir() else {}
    if ctx["run_id"] in filed:
        raise ValueError(f"run {ctx['run_id']} is already filed as {filed[ctx['run_id']]}")
    for p in (dest, ctx_dest):
        if p.exists():
            raise ValueError(f"{p} exists; results are never overwritten")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=dest.parent))
    try:
        staged = staging / dest.name
        with open(staged, "x", newline="") as f:
            f.write(text)
        with open(staged.with_suffix(".json"), "x") as f:
            results.dump_json(ctx, f)
        again = V.validate(staged)
        if not again.ok:
            raise ValueError(
                f"the copy to be filed does not validate (anonymising changed "
                f"it; submit with --keep-hostname?): {again.errors[0]}"
            )
        os.link(staged, dest)  # exclusive: fails if a file of that name appeared meanwhile
        try:
            os.link(staged.with_suffix(".json"), ctx_dest)
        except BaseException:
            dest.unlink()  # both files or neither
            raise
    except FileExistsError as exc:
        raise ValueError(
            f"{exc.filename2 or exc.filename} exists; results are never overwritten"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest, rep
