"""The Groq LPU's tools and cards: what the LPU path needs and whether this machine has it
(``devices`` probes the kind with ``lpu_missing``; ``onnx_backend`` builds and runs programs
with the tools)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess

GROQ_TOOLS = ("groq-compiler", "aa-latest")
GROQ_BIN = "/usr/local/groq/bin"
GROQ_PCI = "1de0:"  # Groq's PCI vendor id


def _has(mod: str) -> bool:
    try:
        return importlib.util.find_spec(mod) is not None
    except (ImportError, ValueError):
        return False


def groq_tool(name: str) -> str | None:
    """Path of a GroqWare tool: on PATH, or in /usr/local/groq/bin."""
    found = shutil.which(name)
    if found:
        return found
    path = os.path.join(GROQ_BIN, name)
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def groq_cards() -> int | None:
    """GroqCards on the PCI bus (None when lspci is missing)."""
    lspci = shutil.which("lspci") or (
        "/usr/bin/lspci" if os.path.isfile("/usr/bin/lspci") else None
    )
    if lspci is None:
        return None
    try:
        out = subprocess.run([lspci, "-n"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return sum(GROQ_PCI in line.split()[2] for line in out.splitlines() if len(line.split()) > 2)


def lpu_missing() -> list[str]:
    """What stops the LPU path here (empty: everything is present)."""
    missing = []
    if not _has("groq.runner.tsp"):
        note = (
            " (the installed PyPI package 'groq' is a chat REST client, not the runtime)"
            if _has("groq")
            else ""
        )
        missing.append(f"groq-runtime: Python module groq.runner.tsp not importable{note}")
    for tool in GROQ_TOOLS:
        if groq_tool(tool) is None:
            missing.append(f"groq-devtools: {tool} not on PATH nor in {GROQ_BIN}")
    for mod in ("onnx", "torch"):
        if not _has(mod):
            missing.append(f"{mod} not installed (the graphs are exported with torch.onnx)")
    cards = groq_cards()
    if not cards:
        missing.append(
            "no GroqCard on the PCI bus (vendor 1de0)"
            if cards == 0
            else "no GroqCard found (lspci is missing)"
        )
    return missing
