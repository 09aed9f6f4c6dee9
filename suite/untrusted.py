"""Untrusted input: the one place where fields of submitted files become paths or objects.

Submissions are untrusted by design (DESIGN.md), so every command that reads one (validate,
submit, merge, compare, report) goes through these helpers:

- ``safe_name(value, what)``: a field that will name a folder or file (machine_id, run_id,
  sweep_id, ...) matches ``NAME`` -- letters, digits and ``. _ @ -`` -- is at most
  ``MAX_NAME`` characters, and is not made of dots only (``.`` and ``..`` are folder
  references, not names) nor starts with ``-`` (an option to every shell tool).
- ``inside(root, *names)``: ``root / name / ...`` for safe names, checked to resolve inside
  ``root`` (a symlinked folder pointing elsewhere is refused too).
- ``load_context(path)``: a results JSON, read with a size limit, parsed with a depth limit
  (Python's parser recurses: a 100,000-deep array would raise RecursionError), and checked
  against the context schema (pydantic): ``run_id`` and ``machine_id`` safe names, optional
  ``shard`` {sweep_id, index, count, n_cases} with 1 <= index <= count, optional ``shards``
  (a merged sweep) of such contexts. Every failure is an ``UntrustedError`` (a ValueError)
  naming the file and the field.
- ``formula_cell(text)``: a CSV cell a spreadsheet would run as a formula (leading ``=``,
  ``+``, ``@``, tab or CR, or ``-`` not followed by a number).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

NAME = r"^[A-Za-z0-9._@-]+$"
MAX_NAME = 128
MAX_JSON_BYTES = 64 * 2**20  # a real context is a few kB; a merged sweep of 1000 shards ~10 MB
MAX_DEPTH = 32  # a real context nests 4 levels (shards > devices > versions)


class UntrustedError(ValueError):
    """Untrusted input that is refused; the message names the file and the field."""


def name_problem(value) -> str | None:
    """Why `value` cannot name a folder or file, or None when it can."""
    if not isinstance(value, str):
        return f"{value!r} is not a string"
    if not re.fullmatch(NAME, value):
        return f"{value!r} holds characters other than letters, digits and . _ @ -"
    if len(value) > MAX_NAME:
        return f"{value[:20]!r}... is longer than {MAX_NAME} characters"
    if set(value) == {"."}:
        return f"{value!r} is a folder reference, not a name"
    if value.startswith("-"):
        return f"{value!r} starts with '-'"
    return None


def safe_name(value, what: str = "name") -> str:
    why = name_problem(value)
    if why:
        raise UntrustedError(f"{what} {why}: not a safe folder name")
    return value


def inside(root, *names: str) -> Path:
    """``root / names...`` after checking each name and that the result stays in `root`."""
    root = Path(root)
    for n in names:
        safe_name(n, "path part")
    path = root.joinpath(*names)
    base = root.resolve()
    if not path.resolve().is_relative_to(base):
        raise UntrustedError(f"{path} resolves outside {root}")
    return path


def _checked_name(v: str) -> str:
    why = name_problem(v)
    if why:
        raise ValueError(why)
    return v


SafeName = Annotated[str, AfterValidator(_checked_name)]


class Shard(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    sweep_id: SafeName
    index: int = Field(ge=1)
    count: int = Field(ge=1)
    n_cases: int = Field(ge=0)

    @model_validator(mode="after")
    def _index_in_count(self):
        if self.index > self.count:
            raise ValueError(f"shard index {self.index} > count {self.count}")
        return self


class Context(BaseModel):
    """The fields of a results JSON that code relies on; the rest is kept as it is."""

    model_config = ConfigDict(extra="allow", strict=True)
    run_id: SafeName
    machine_id: SafeName
    git_commit: SafeName | None = None
    schema_version: int | None = None
    shard: Shard | None = None
    shards: list[Context] | None = None


def _depth(obj) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        o, d = stack.pop()
        deepest = max(deepest, d)
        if isinstance(o, dict):
            stack += [(v, d + 1) for v in o.values()]
        elif isinstance(o, list):
            stack += [(v, d + 1) for v in o]
    return deepest


def load_json(path, max_bytes: int | None = None, max_depth: int = MAX_DEPTH) -> Any:
    """Parse an untrusted JSON file within size (default MAX_JSON_BYTES) and depth limits
    (UntrustedError otherwise)."""
    path = Path(path)
    max_bytes = MAX_JSON_BYTES if max_bytes is None else max_bytes
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise UntrustedError(f"{path.name} holds {size} bytes, more than the {max_bytes} "
                                 f"a results JSON may hold")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UntrustedError(f"{path.name} cannot be read as UTF-8 text ({exc})") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise UntrustedError(f"{path.name} is nested more than {max_depth} levels "
                             f"deep") from None
    except ValueError as exc:
        raise UntrustedError(f"{path.name} is not valid JSON ({exc})") from None
    if _depth(data) > max_depth:
        raise UntrustedError(f"{path.name} is nested more than {max_depth} levels deep")
    return data


def load_context(path) -> dict:
    """A results JSON checked against ``Context``; returns the plain dict."""
    data = load_json(path)
    if not isinstance(data, dict):
        raise UntrustedError(f"{Path(path).name} is not a JSON object")
    try:
        Context.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "(top level)"
        raise UntrustedError(f"{Path(path).name}: field {where}: {first['msg']} "
                             f"(got {_short(first.get('input'))})") from None
    return data


def _short(v) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def formula_cell(text: str) -> bool:
    """Would a spreadsheet read this CSV cell as a formula (CSV injection)?"""
    if not text:
        return False
    if text[0] in "=+@\t\r":
        return True
    if text[0] != "-":
        return False
    try:
        float(text)  # a negative number is data
    except ValueError:
        return True
    return False
