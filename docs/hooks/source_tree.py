"""MkDocs hook: the import package as mkdocstrings reads it.

The repository lays ``spikebench`` out in four folders (``suite/`` is ``spikebench``,
``kernels/`` is ``spikebench.kernels``, ``datasets/`` is ``spikebench.datasets``, ``peers/``
is ``spikebench.peers``;
``pyproject.toml``'s ``package-dir``). The API reference is read from the source, not from an
installed copy, so this hook assembles that layout from links under ``build/docs-src/`` before
the pages are built; ``mkdocs.yml`` points mkdocstrings there."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TREE = ROOT / "build" / "docs-src"


def on_startup(command, dirty):
    build_tree()


def build_tree() -> Path:
    """``build/docs-src/spikebench``: links to the four source folders, as installed."""
    pkg = TREE / "spikebench"
    if TREE.exists():
        shutil.rmtree(TREE)
    pkg.mkdir(parents=True)
    for item in (ROOT / "suite").iterdir():
        if item.name != "__pycache__":
            (pkg / item.name).symlink_to(item)
    (pkg / "kernels").symlink_to(ROOT / "kernels")
    (pkg / "datasets").symlink_to(ROOT / "datasets")
    (pkg / "peers").symlink_to(ROOT / "peers")
    return TREE
