"""Which code and which data made a row: ``kernel_version`` and ``inputs_version``.

Both are digests of *what ran*, not of where the code sits, so that moving code between
modules, renaming suite helpers, reformatting and editing docs change no version, while a
changed input, reference, check setting or kernel computation does.

``kernel_version`` (12 hex digits) is the sha256 of the timed kernel's code, normalised: the
modules of ``spikebench.kernels`` that the registered entry's module imports, transitively
(imports anywhere in a file, relative ones resolved, and the packages' ``__init__`` files),
each parsed with :mod:`ast`; of every top-level statement the abstract syntax tree is kept
without comments, docstrings, type annotations, line numbers, import statements, ``__all__``
and ``register(...)`` decorators (registration is bookkeeping, not computation). Of those
statements only the ones the entry's function reaches count: its own definition, the
definitions of every name it uses, transitively (a name defined in two modules brings both),
and the statements that define no name (they run on import). They are hashed as one sorted
set, so a function moved from one kernel module to another, or an edit of a sibling kernel
the entry never calls, leaves the version as it was; a changed line of arithmetic, a new
constant or a renamed function does not.

``inputs_version`` (12 hex digits) is the sha256 of what the case feeds the kernel and checks
against: the generated inputs, the reference's outputs and the family's context (the layer
parameters, tolerances and training settings the check and the report use), walked in a
canonical order (dict keys sorted; lists, tuples, arrays with their dtype kind and shape).
Integers, strings and booleans enter exactly; floating-point values enter at 20 significant
bits (about six decimal digits), so that last-bit differences between two machines' maths
libraries -- a reference computed with AVX-512 ``exp`` on one and AVX2 on the other -- do not
make their rows incomparable, while any change of an input or tolerance beyond one part in a
million does. (A value within 1e-13 of a rounding boundary on one machine and past it on the
other would still split them: about one value in 10^7.)

Rows with equal versions ran the same computation on the same inputs; ``compare`` refuses rows
that differ in either unless asked for a before/after comparison.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import numbers
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

KERNELS = "spikebench.kernels"
BITS = 20  # significant bits of a floating-point value in inputs_version


# -- kernel_version ------------------------------------------------------------------------------
@functools.cache
def _file(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _source(module: str) -> bytes:
    f = _file(module)
    if f is None:
        raise ValueError(f"no Python source for module {module!r}")
    return f.read_bytes()


def _is_package(module: str) -> bool:
    f = _file(module)
    return f is not None and f.name == "__init__.py"


def _imports(module: str, source: bytes) -> set[str]:
    """The modules `module`'s source imports, anywhere in it (relative imports resolved; for
    ``from pkg import name``, ``pkg.name`` too where that is a module). A package's
    ``__init__``: only its module-level imports (what it runs on import; its functions'
    imports run only when called, and a kernel does not call them)."""
    tree = ast.parse(source)
    package = module if _is_package(module) else module.rpartition(".")[0]
    found: set[str] = set()
    for node in tree.body if _is_package(module) else ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found |= {
                f"{target}.{a.name}" for a in node.names if _file(f"{target}.{a.name}") is not None
            }
    return found


def _in_kernels(module: str) -> bool:
    return module == KERNELS or module.startswith(KERNELS + ".")


@functools.cache
def closure(module: str) -> tuple[str, ...]:
    """`module` and every ``spikebench.kernels`` module it imports, transitively, with the
    packages they live in (sorted)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        m = todo.pop()
        if m in seen or _file(m) is None:
            continue
        seen.add(m)
        todo += sorted(x for x in _imports(m, _source(m)) - seen if _in_kernels(x))
    parents = {".".join(m.split(".")[:i]) for m in seen for i in range(1, m.count(".") + 1)}
    return tuple(sorted(seen | {p for p in parents if _in_kernels(p) and _file(p)}))


class _Normalise(ast.NodeTransformer):
    """Drop what does not change the computation: docstrings, annotations, imports,
    ``__all__``, ``register(...)`` decorators."""

    @staticmethod
    def _body(body: list) -> list:
        if (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            body = body[1:] or [ast.Pass()]
        return body

    def _function(self, node):
        node.body = self._body(node.body)
        node.returns = None
        node.decorator_list = [d for d in node.decorator_list if not _is_register(d)]
        if hasattr(node, "type_params"):
            node.type_params = []
        return self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node):
        node.body = self._body(node.body)
        node.decorator_list = [d for d in node.decorator_list if not _is_register(d)]
        return self.generic_visit(node)

    def visit_arg(self, node):
        node.annotation = None
        return node

    def visit_AnnAssign(self, node):
        if node.value is None:
            return None
        return ast.Assign(targets=[node.target], value=node.value)

    def visit_Import(self, node):
        return None

    visit_ImportFrom = visit_Import


def _is_register(node) -> bool:
    f = node.func if isinstance(node, ast.Call) else node
    name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
    return name == "register"


def statements(source: str | bytes) -> list[tuple[str, set[str], set[str]]]:
    """The normalised top-level statements of one module's source (module doc): for each, its
    dump, the names it defines and the names it uses."""
    tree = _Normalise().visit(ast.parse(source))
    out = []
    for node in _Normalise._body(tree.body):
        if isinstance(node, ast.Pass):
            continue
        defines = _defines(node)
        if "__all__" in defines:
            continue
        uses = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
            n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
        }
        out.append(
            (
                ast.dump(node, annotate_fields=False, include_attributes=False),
                defines,
                uses - defines
                if not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                else uses,
            )
        )
    return out


def _defines(node) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    targets = (
        node.targets
        if isinstance(node, ast.Assign)
        else [node.target]
        if isinstance(node, (ast.AugAssign, ast.AnnAssign))
        else []
    )
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def code_digest(sources: Iterable[str | bytes], root: str | None = None) -> str:
    """12 hex digits of sha256 over the sorted normalised statements of `sources`; with `root`
    (a function's name), only the statements it reaches: the definitions of the names it uses,
    transitively, and every statement that defines no name (it runs on import)."""
    stmts = [s for src in sources for s in statements(src)]
    if root is not None:
        keep, todo, seen = [], [root], set()
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            for dump, defines, uses in stmts:
                if name in defines:
                    keep.append(dump)
                    todo += sorted(uses - seen)
        keep += [d for d, defines, _ in stmts if not defines]
        dumps = sorted(set(keep))
    else:
        dumps = sorted(d for d, _, _ in stmts)
    h = hashlib.sha256()
    for d in dumps:
        h.update(d.encode() + b"\0")
    return h.hexdigest()[:12]


@functools.cache
def module_digest(module: str, root: str | None = None) -> str:
    """``code_digest`` of ``closure(module)`` (from the function `root`, if given)."""
    return code_digest((_source(m) for m in closure(module)), root)


def kernel_version(impl, entry: str) -> str:
    """The digest of the kernel code behind `impl`'s registered `entry` (module doc): the
    statements its function reaches in the kernel modules its module imports."""
    e = impl.entry(entry)
    return module_digest(e.module, getattr(e.fn, "__name__", None))


# -- inputs_version ------------------------------------------------------------------------------
def _floats(x: np.ndarray) -> bytes:
    """Float values at BITS significant bits: (sign * mantissa, exponent) pairs, with inf and
    nan as their own codes."""
    x = np.asarray(x, np.float64)
    finite = np.isfinite(x)
    m, e = np.frexp(np.where(finite, x, 0.0))
    q = np.rint(m * 2.0**BITS).astype(np.int64)
    carry = np.abs(q) == 2**BITS  # rounded up to the next binade: one spelling per value
    q = np.where(carry, q // 2, q)
    e = np.where(carry, e + 1, e).astype(np.int64)
    code = np.where(np.isnan(x), 1, np.where(np.isposinf(x), 2, np.where(np.isneginf(x), 3, 0)))
    return np.stack([q, e, code.astype(np.int64)]).astype("<i8").tobytes()


def _feed(h, obj) -> None:
    if isinstance(obj, np.ndarray) or (
        hasattr(obj, "__array__") and not isinstance(obj, (numbers.Number, np.generic))
    ):
        a = np.asarray(obj)
        h.update(f"a{a.dtype.kind}{a.shape}".encode())
        if a.dtype.kind in "fc":
            h.update(_floats(a.real) + (_floats(a.imag) if a.dtype.kind == "c" else b""))
        elif a.dtype.kind in "biu":
            h.update(a.astype("<i8" if a.dtype.kind != "u" else "<u8").tobytes())
        elif a.dtype.kind in "USa":
            for v in a.ravel().tolist():
                _feed(h, v)
        else:
            for v in a.ravel().tolist():
                _feed(h, v)
    elif obj is None or isinstance(obj, (bool, np.bool_)):
        h.update(f"b{obj!r}".encode() if obj is not None else b"N")
    elif isinstance(obj, (numbers.Integral, np.integer)):
        h.update(f"i{int(obj)}".encode())
    elif isinstance(obj, (numbers.Real, np.floating)):
        h.update(b"f" + _floats(np.asarray([float(obj)])))
    elif isinstance(obj, (str, bytes)):
        data = obj.encode() if isinstance(obj, str) else obj
        h.update(f"s{len(data)}:".encode() + data)
    elif hasattr(obj, "_asdict"):  # named tuples: their fields by name
        _feed(h, dict(obj._asdict()))
    elif isinstance(obj, Mapping):
        h.update(f"d{len(obj)}".encode())
        for k in sorted(obj, key=str):
            _feed(h, str(k))
            _feed(h, obj[k])
    elif isinstance(obj, (list, tuple)):
        h.update(f"l{len(obj)}".encode())
        for v in obj:
            _feed(h, v)
    elif hasattr(obj, "__dict__"):  # a small record (dataclass or plain object)
        h.update(f"o{type(obj).__name__}".encode())
        _feed(h, vars(obj))
    else:
        raise TypeError(f"inputs_version cannot digest a {type(obj).__name__}")
    h.update(b";")


def data_digest(*parts) -> str:
    """12 hex digits of sha256 over `parts` walked canonically (module doc)."""
    h = hashlib.sha256()
    for p in parts:
        _feed(h, p)
    return h.hexdigest()[:12]


def inputs_version(inputs, ref, context) -> str:
    """The digest of a case's inputs, its reference's outputs and the family's context."""
    return data_digest(inputs, ref, context)
