"""Untrusted input: the one place where fields of submitted files become paths or objects.

Submissions are untrusted by design (docs/guide/submitting.md), so every command that reads one
(validate, submit, merge, compare, report) goes through these helpers:

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
- ``formula_cell(text)``: a CSV cell a spreadsheet would run as a formula: its first
  character that is not a space (after Unicode NFKC normalisation, so a fullwidth ``＝`` is
  ``=``) is ``=``, ``+``, ``@``, ``|``, tab or CR, or ``-`` where the cell is not a number.

Files themselves are untrusted too: ``read_bytes(path, max_bytes, what)`` is the one way such
a file is read. It refuses anything but a regular file after following links (a link to
/dev/zero, a named pipe, a socket, a folder: ``stat.S_ISREG``), opens it without blocking,
checks the opened file again (the path could be swapped in between), and reads at most
``max_bytes + 1`` bytes from it, never trusting the size the file system reports (0 for a
device). ``regular_file(path, what)`` is the same check for readers that open the file
themselves (HDF5, memory-mapped IDX and .npy). ``read_gzip(path, max_bytes, what)`` inflates a
gzip file in slices and stops at ``max_bytes`` (a 1.5 MB file of 1.5 GB of zeros is refused
after ``max_bytes``, not after 1.5 GB). Every refusal is an ``UntrustedError`` naming the
file.
"""

from __future__ import annotations

import json
import os
import re
import stat
import unicodedata
import zlib
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

NAME = r"\A[A-Za-z0-9._@-]+\Z"  # \Z, not $: "$" also matches before a trailing newline
MAX_NAME = 128
MAX_JSON_BYTES = 64 * 2**20  # a real context is a few kB; a merged sweep of 1000 shards ~10 MB
MAX_CSV_BYTES = 64 * 2**20  # a default sweep writes ~0.5 MB; 100 merged sweeps fit
MAX_DEPTH = 32  # a real context nests 4 levels (shards > devices > versions)
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
)


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


def _kind(mode: int) -> str:
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def regular_file(path, what: str = "file") -> Path:
    """`path` if it is a regular file after following links, else UntrustedError naming it
    and what it is (a device, a pipe, a folder, missing)."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise UntrustedError(f"{path}: no such file (the {what})") from None
    except OSError as exc:
        raise UntrustedError(f"{path}: the {what} cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise UntrustedError(f"{path}: the {what} is {_kind(st.st_mode)}, not a regular file")
    return path


def read_bytes(path, max_bytes: int, what: str = "file") -> bytes:
    """At most `max_bytes` bytes of the regular file `path` (UntrustedError when it holds
    more, is no regular file, or cannot be read). The size is what the read returns, never
    the size the file system reports."""
    path = regular_file(path, what)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)  # non-blocking: a pipe swapped in after the check
    except OSError as exc:
        raise UntrustedError(f"{path}: the {what} cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise UntrustedError(f"{path}: the {what} is {_kind(mode)}, not a regular file")
        try:
            data = f.read(max_bytes + 1)
        except OSError as exc:
            raise UntrustedError(f"{path}: the {what} cannot be read ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise UntrustedError(
            f"{path}: the {what} holds more than the {max_bytes} bytes it may hold"
        )
    return data


def read_text(path, max_bytes: int, what: str = "file") -> str:
    """``read_bytes`` decoded as UTF-8 (UntrustedError naming the file otherwise)."""
    try:
        return read_bytes(path, max_bytes, what).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UntrustedError(
            f"{Path(path)}: not a readable {what} (not UTF-8 text: "
            f"{exc.reason} at byte {exc.start})"
        ) from None


GZIP_SLICE = 2**20
HEAD = 1024  # bytes of inflated content handed to `size_of` (at least)


def read_gzip(
    path, max_bytes: int, what: str = "file", size_of=None, compressed_max: int | None = None
) -> bytearray:
    """The inflated content of the gzip file `path`, at most `max_bytes` of it.

    Inflation runs in slices of ``GZIP_SLICE`` and stops as soon as more would come than
    allowed (UntrustedError naming the file), so memory stays bounded whatever the file
    holds. `size_of(head)`, given the first inflated slice, returns the size the content
    declares in its own header (an IDX file's dimensions, in its first ``HEAD`` bytes); the
    limit is then that size, and a header declaring more than `max_bytes` is refused before
    anything more is inflated.
    `compressed_max` caps the compressed file (default `max_bytes`)."""
    raw = read_bytes(path, max_bytes if compressed_max is None else compressed_max, what)
    d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip header and trailer
    out, rest, limit = bytearray(), raw, max_bytes
    try:
        while rest:
            out += d.decompress(rest, GZIP_SLICE)
            rest = d.unconsumed_tail
            if size_of is not None and (len(out) >= HEAD or d.eof):
                declared, size_of = int(size_of(bytes(out[:GZIP_SLICE]))), None
                if declared > max_bytes:
                    raise UntrustedError(
                        f"{path}: the {what} declares {declared} bytes, more "
                        f"than the {max_bytes} a compressed one may inflate "
                        f"to (decompress it: a plain file is read lazily)"
                    )
                limit = declared
            if len(out) > limit:
                whose = "its header declares" if limit < max_bytes else "it may hold"
                raise UntrustedError(
                    f"{path}: the {what} inflates to more than the {limit} "
                    f"bytes {whose} (a decompression bomb?)"
                )
            if d.eof:
                break
        if not d.eof:
            raise UntrustedError(
                f"{path}: the {what} is not a readable gzip file (the stream is truncated)"
            )
    except zlib.error as exc:
        raise UntrustedError(f"{path}: the {what} is not a readable gzip file ({exc})") from None
    return out


def _no_constant(name):
    raise ValueError(f"{name} is not a JSON number (write null)")


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"key {k!r} appears twice in one object")
        out[k] = v
    return out


def load_json(path, max_bytes: int | None = None, max_depth: int = MAX_DEPTH) -> Any:
    """Parse an untrusted JSON file within size (default MAX_JSON_BYTES) and depth limits
    (UntrustedError otherwise). Strict JSON: NaN / Infinity and a key given twice in one
    object (where a parser keeps one silently) are refused."""
    path = Path(path)
    max_bytes = MAX_JSON_BYTES if max_bytes is None else max_bytes
    text = read_text(path, max_bytes, "results JSON")
    try:
        data = json.loads(text, parse_constant=_no_constant, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise UntrustedError(f"{path.name} is nested more than {max_depth} levels deep") from None
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
        raise UntrustedError(
            f"{Path(path).name}: field {where}: {first['msg']} (got {_short(first.get('input'))})"
        ) from None
    return data


def _short(v) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


FORMULA_START = "=+@|\t\r"


def formula_cell(text: str) -> bool:
    """Would a spreadsheet read this CSV cell as a formula (CSV injection)? After NFKC
    normalisation (fullwidth ``＝`` is ``=``) and leading spaces / newlines, a cell starting
    with ``= + @ |``, tab or CR is one, and so is one starting with ``-`` unless the whole cell
    is a number."""
    if not text:
        return False
    norm = unicodedata.normalize("NFKC", text)
    if norm[0] in FORMULA_START:
        return True
    head = norm.lstrip(" \n\v\f\u00a0")
    if not head:
        return False
    if head[0] in FORMULA_START:
        return True
    if head[0] != "-":
        return False
    try:
        float(norm)  # a negative number is data
    except ValueError:
        return True
    return False
