"""Which code made a row: ``kernel_version`` and ``inputs_version``.

``kernel_version`` is the hash of every spikebench module that the module of the registered
entry imports, transitively (the import statements anywhere in each file, found with ``ast``,
relative imports resolved; the parent packages' ``__init__`` files are imported too, and so
count, though not what they import: a package re-exporting its modules does not make them part
of every one). ``inputs_version`` is the hash of the family adapter's module and what it
imports at module level, transitively (the input builders, the reference and the check; not the
report code or the kernels an adapter imports inside a function, so editing a kernel leaves it
unchanged and a before/after comparison of that kernel stays possible). Two rows with equal
versions ran the same program on the same kind of input; ``compare`` refuses rows that differ
in either unless told otherwise.

The hash is of file contents (and module names), so it is the same on every machine and for an
editable or a wheel install of the same source.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
from pathlib import Path

ROOT = "spikebench"
# the top-level package's __init__ only sets the JAX x64 flag and the version string; a
# release bump must not make every earlier row "different code"
SKIP = {ROOT}


@functools.cache
def _file(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _is_package(module: str) -> bool:
    f = _file(module)
    return f is not None and f.name == "__init__.py"


def _imports(module: str, toplevel: bool) -> set[str]:
    """The spikebench modules `module`'s file imports (anywhere in it, or at module level)."""
    path = _file(module)
    if path is None:
        return set()
    tree = ast.parse(path.read_bytes(), filename=str(path))
    package = module if _is_package(module) else module.rpartition(".")[0]
    found: set[str] = set()
    for node in (tree.body if toplevel else ast.walk(tree)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # `from pkg import name`: name may be a submodule
            found |= {f"{target}.{a.name}" for a in node.names
                      if _file(f"{target}.{a.name}") is not None}
    return {m for m in found if m == ROOT or m.startswith(ROOT + ".")}


def _parents(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


@functools.cache
def closure(module: str, toplevel: bool = False) -> tuple[str, ...]:
    """`module` and every spikebench module it imports, transitively (sorted); with
    `toplevel`, only imports at module level count."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        m = todo.pop()
        if m in seen or _file(m) is None:
            continue
        seen.add(m)
        # a package's __init__: what it runs on import (its functions' imports run only when
        # they are called, and the kernels do not call them)
        todo += sorted(_imports(m, toplevel or _is_package(m)) - seen)
    # the packages they live in: their __init__ files run too (but what a package re-exports
    # from its other modules is not part of this code)
    files = seen | {p for m in seen for p in _parents(m) if _file(p) is not None}
    return tuple(sorted(files - SKIP))


@functools.cache
def source_hash(module: str, toplevel: bool = False) -> str:
    """12 hex digits of sha256 over (name, contents) of ``closure(module, toplevel)``."""
    h = hashlib.sha256()
    for m in closure(module, toplevel):
        h.update(m.encode() + b"\0")
        h.update(_file(m).read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:12]


def kernel_version(impl, entry: str) -> str:
    """The hash of the code behind `impl`'s registered `entry`."""
    return source_hash(impl.entry(entry).module)


def inputs_version(family) -> str:
    """The hash of the family adapter's module and what it imports (inputs, reference,
    check)."""
    return source_hash(type(family).__module__, toplevel=True)
