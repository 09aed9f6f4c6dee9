"""Machine facts, versions and git state for the results' context (CSV columns + JSON)."""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import re
import socket
import subprocess
from pathlib import Path

from .. import __version__

REPO_ROOT = Path(__file__).resolve().parent.parent


@functools.lru_cache(maxsize=1)
def cpu_info() -> dict:
    """py-cpuinfo's facts of this CPU (model, caches, flags; cached: it takes ~1 s), or {}
    where it cannot tell."""
    try:
        import cpuinfo

        return dict(cpuinfo.get_cpu_info())
    except Exception:  # noqa: BLE001 - a missing fact is recorded as empty
        return {}


def cpu_model() -> str:
    return (cpu_info().get("brand_raw") or platform.processor() or platform.machine()).strip()


def cpu_facts() -> dict:
    """What a CPU timing depends on, for the run's JSON: model, logical and physical cores,
    frequency (MHz: current, min, max; psutil), the frequency governor where the OS shows it,
    cache sizes (py-cpuinfo) and the load average at the start of the run (psutil)."""
    import psutil

    info = cpu_info()
    facts: dict = {
        "model": cpu_model(),
        "arch": info.get("arch_string_raw") or platform.machine(),
        "logical_cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
    }
    try:
        freq = psutil.cpu_freq()
        facts["freq_mhz"] = (
            None
            if freq is None
            else {"current": freq.current, "min": freq.min or None, "max": freq.max or None}
        )
    except (OSError, NotImplementedError, AttributeError):
        facts["freq_mhz"] = None
    if not facts["freq_mhz"] and info.get("hz_advertised_friendly"):
        facts["freq_advertised"] = info["hz_advertised_friendly"]
    gov = Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
    try:
        facts["governor"] = gov.read_text().strip() or None
    except OSError:
        facts["governor"] = None  # not shown here (a VM, a container, another OS)
    facts["cache_bytes"] = {
        k: info.get(f"{k}_cache_size") for k in ("l1_data", "l1_instruction", "l2", "l3")
    }
    try:
        facts["load_average_start"] = [round(x, 2) for x in psutil.getloadavg()]
    except (OSError, AttributeError):
        facts["load_average_start"] = None
    return facts


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
        from ..untrusted import name_problem

        why = name_problem(env)
        if why:  # it names the results folder: untrusted.safe_name's rule
            raise ValueError(
                f"SPIKEBENCH_MACHINE_ID: {why} (use letters, digits, . _ @ -; not '.' or '..')"
            )
        return env
    slug = re.sub(r"[^a-z0-9]+", "-", cpu_model().lower()).strip("-")[:40] or "cpu"
    host = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]
    return f"{slug}-{host}"


def git_state(root: Path = REPO_ROOT) -> tuple[str, bool | None]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if commit.returncode != 0:
            return "unknown", None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
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
