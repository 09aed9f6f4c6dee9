"""Output paths the user names (``--out``, ``--report-dir``, ``--results``, ``--markdown``,
...), checked before any work starts, so that a bad one is a one-line usage error instead of
a traceback after a sweep.

A folder option is refused when it (after following links) lies under ``/proc``, ``/sys`` or
``/dev``, exists and is not a folder, or when the folder (or, while it does not exist yet, its
nearest existing parent) cannot be written: a probe file is created there and removed at once,
which also catches read-only mounts and immutable folders that permission bits do not show. A
file option is refused when it is an existing folder or device, and its folder is checked the
same way. Nothing is created by the check.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

SYSTEM = (Path("/proc"), Path("/sys"), Path("/dev"))


def _system(path: Path) -> Path | None:
    """The system folder `path` lies under, as written or after following links."""
    for p in (path.absolute(), path.resolve()):
        hit = next((s for s in SYSTEM if p == s or p.is_relative_to(s)), None)
        if hit is not None:
            return hit
    return None


def _probe(folder: Path, option: str, path) -> None:
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".spikebench-probe-"):
            pass
    except OSError as exc:
        raise ValueError(
            f"{option} {path}: cannot write in {folder} ({exc.strerror or exc})"
        ) from None


def _existing_parent(real: Path, option: str, path) -> Path:
    parent = real
    while not parent.exists():
        if parent.is_symlink():  # a dangling link: it would be followed on creation
            raise ValueError(f"{option} {path}: {parent} is a link to nothing")
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{option} {path}: {parent} exists and is not a folder")
    return parent


def folder(path, option: str) -> Path:
    """`path` when results can be written into it (created later if need be), else
    ValueError naming the option and why."""
    path = Path(path).expanduser()
    real = path.resolve()
    sys_root = _system(path)
    if sys_root is not None:
        raise ValueError(f"{option} {path}: lies under {sys_root}, not a place for results")
    if real.exists() and not real.is_dir():
        raise ValueError(f"{option} {path}: exists and is not a folder")
    _probe(_existing_parent(real, option, path), option, path)
    return path


def file(path, option: str) -> Path:
    """`path` when a file can be written there (its folder as ``folder`` checks it; the file
    itself may exist only as a regular file), else ValueError naming the option and why."""
    path = Path(path).expanduser()
    real = path.resolve()
    sys_root = _system(path)
    if sys_root is not None:
        raise ValueError(f"{option} {path}: lies under {sys_root}, not a place for results")
    if real.exists() and not stat.S_ISREG(os.stat(real).st_mode):
        raise ValueError(f"{option} {path}: exists and is not a regular file")
    folder(real.parent, option)
    return path
