"""The README is read on its own: no link or path to a file outside the repository, every
relative link resolves, and the docstrings it points to for the maths exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_no_path_outside_the_repository():
    assert "../" not in README
    assert not re.search(r"\bspec/\w+\.md", README), "the specs are not in the repository"


def test_relative_links_resolve():
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README):
        if re.match(r"[a-z]+://", target):
            continue
        assert (ROOT / target).exists(), target


def test_files_named_in_backticks_exist():
    named = set(re.findall(r"`((?:suite|kernels|datasets|scripts|tests|benchmarks)/[\w/.-]+"
                           r"\.(?:py|sh))`", README))
    assert named, "the README names the files that hold the maths"
    missing = sorted(n for n in named if not (ROOT / n).exists())
    assert not missing, missing
