"""MkDocs hook: the Results section, built from every CSV under ``results/``.

``spikebench report results/ --site`` renders the cross-hardware report into
``build/site-report/`` (or ``$SPIKEBENCH_SITE_REPORT``) with ``site.md``, the Results page:
each family's question by place, the places and the runs they pool, the overview figure.
When that folder holds a ``site.md``, this hook makes it the content of ``results.md`` and
publishes the report's pages and figures under ``report/`` beside it; without one the
committed ``results.md`` says how to build it. ``tox -e site`` runs both steps."""

from __future__ import annotations

import os
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
PAGE = "results.md"
PUBLISHED = (".html", ".svg", ".png")


def report_dir() -> Path:
    return Path(os.environ.get("SPIKEBENCH_SITE_REPORT") or ROOT / "build" / "site-report")


def _built() -> Path | None:
    d = report_dir()
    return d if (d / "site.md").is_file() else None


def on_files(files, config):
    d = _built()
    if d is None:
        return files
    for f in sorted(d.iterdir()):
        if f.is_file() and f.suffix in PUBLISHED:
            files.append(File.generated(config, f"report/{f.name}", abs_src_path=str(f)))
    return files


def on_page_markdown(markdown, page, config, files):
    d = _built()
    if d is None or page.file.src_uri != PAGE:
        return markdown
    return (d / "site.md").read_text()
