"""Machine facts, versions and git state for the results' context (CSV columns + JSON)."""

from __future__ import annotations

import hashlib
import os
import platform
import re
import socket
import subprocess
from pathlib import Path

from . import __version__

REPO_ROOT = Path(__file__).resolve().parent.parent


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def ram_bytes() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except Exception:  # noqa: BLE001 - a missing fact is recorded as empty
        return None


def machine_id() -> str:
    """Stable, filesystem-safe id: SPIKEBENCH_MACHINE_ID, else <cpu slug>-<hash of hostname>
    (the hostname itself is not written anywhere)."""
    env = os.environ.get("SPIKEBENCH_MACHINE_ID")
    if env:
        from .untrusted import name_problem

        why = name_problem(env)
        if why:  # it names the results folder: untrusted.safe_name's rule
            raise ValueError(f"SPIKEBENCH_MACHINE_ID: {why} (use letters, digits, . _ @ -; "
                             f"not '.' or '..')")
        return env
    slug = re.sub(r"[^a-z0-9]+", "-", cpu_model().lower()).strip("-")[:40] or "cpu"
    host = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]
    return f"{slug}-{host}"


def git_state(root: Path = REPO_ROOT) -> tuple[str, bool | None]:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root,
                                capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return "unknown", None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=10)
        return commit.stdout.strip(), bool(dirty.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return "unknown", None


def host_facts() -> dict:
    return {
        "machine_id": machine_id(),
        "cpu_model": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "ram_bytes": ram_bytes(),
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def suite_facts() -> dict:
    commit, dirty = git_state()
    return {"suite_version": __version__, "git_commit": commit, "git_dirty": dirty}
