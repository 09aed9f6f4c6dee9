"""Framework adapters: move NumPy inputs to a device, sync, fetch results, compile.

The harness talks to frameworks only through these (``FrameworkAdapter``), so kernels stay
free of device choice. A plugin whose library is its own ``framework`` value registers an
adapter with ``register``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class FrameworkAdapter(Protocol):
    """What the harness asks of a framework (the built-in adapters below, or a plugin's)."""

    name: str

    def version(self) -> str:
        """The library's version (the row's ``framework_version``)."""

    def device(self, kind: str, index: int = 0) -> Any:
        """The framework's handle of device `kind` (LookupError when it has none)."""

    def put(self, x: np.ndarray, device: Any) -> Any:
        """A NumPy array as the framework's array on `device`."""

    def sync(self, out: Any) -> Any:
        """Wait until `out` is computed (called inside every timed call)."""

    def to_numpy(self, x: Any) -> np.ndarray:
        """An output as a NumPy array."""

    def compile(
        self, fn: Callable, args: tuple, kwargs: dict, static: dict
    ) -> tuple[Callable[[], Any], float | None]:
        """(a callable running one timed call, compile seconds or None)."""


class NumpyFw:
    name = "numpy"

    def version(self) -> str:
        return np.__version__

    def device(self, kind: str, index: int = 0):
        if kind != "cpu":
            raise LookupError("NumPy runs on the CPU only")
        return None

    def put(self, x, device):
        return x

    def sync(self, out):
        return out

    def to_numpy(self, x):
        return np.asarray(x)

    def compile(self, fn, args, kwargs, static):
        return (lambda: fn(*args, **kwargs, **static)), None


class JaxFw:
    name = "jax"

    def version(self) -> str:
        import jax

        return jax.__version__

    def runtime(self) -> dict:
        import jax
        import jaxlib

        return {"xla_version": f"jaxlib {jaxlib.__version__}", "backend": jax.default_backend()}

    def device(self, kind: str, index: int = 0):
        import jax

        platform = {"cpu": "cpu", "gpu": "gpu", "tpu": "tpu"}.get(kind)
        if platform is None:
            raise LookupError(f"JAX has no {kind} backend")
        devs = jax.devices(platform)
        return devs[index]

    def put(self, x, device):
        import jax

        return None if x is None else jax.device_put(x, device)

    def sync(self, out):
        import jax

        return jax.block_until_ready(out)

    def to_numpy(self, x):
        return np.asarray(x)

    def compile(self, fn, args, kwargs, static):
        """Ahead-of-time lower + compile, timed on its own (compile_s). The compiled
        executable takes the dynamic arguments only."""
        t0 = time.perf_counter()
        compiled = fn.lower(*args, **kwargs, **static).compile()
        compile_s = time.perf_counter() - t0

        def call():
            return compiled(*args, **kwargs)

        call.compiled = compiled  # its memory_analysis() is the row's kernel figure (memory.py)
        return call, compile_s


class TorchFw:
    name = "torch"

    def version(self) -> str:
        import torch

        return torch.__version__

    def runtime(self) -> dict:
        import torch

        return {"cuda_version": torch.version.cuda or "", "threads": torch.get_num_threads()}

    def device(self, kind: str, index: int = 0):
        import torch

        if kind == "cpu":
            return torch.device("cpu")
        if kind == "gpu":
            if torch.cuda.is_available():
                return torch.device("cuda", index)
            if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
                return torch.device("mps")
            raise LookupError("torch sees no CUDA/ROCm/MPS device")
        raise LookupError(f"PyTorch has no {kind} backend in this build")

    def put(self, x, device):
        import torch

        return None if x is None else torch.as_tensor(x).to(device)

    def sync(self, out):
        import torch

        if torch.cuda.is_available():
            torch.cuda.synchronize()
        elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            torch.mps.synchronize()
        return out

    def to_numpy(self, x):
        return x.detach().cpu().numpy()

    def compile(self, fn, args, kwargs, static):
        # eager: nothing to compile; compile_s is the first call's extra cost (set by worker)
        return (lambda: fn(*args, **kwargs, **static)), None


class TorchCompileFw(TorchFw):
    """PyTorch kernels through ``torch.compile`` (default mode, inductor): the compiled
    variant of an eager kernel, registered under its own framework name. The first call
    traces and compiles, and is timed apart as compile_s (it includes one execution); the
    timed calls reuse the compiled graphs. A kernel dynamo cannot take raises at that first
    call and its row says why. A kernel marked ``compiles_inside`` (a Python loop over steps
    whose body it compiles itself: dynamo would unroll the loop) is called as it is; its
    first call, which compiles the body, is compile_s the same way."""

    name = "torch-compile"

    def compile(self, fn, args, kwargs, static):
        import functools

        import torch

        bound = functools.partial(fn, **static)
        compiled = bound if getattr(fn, "compiles_inside", False) else torch.compile(bound)
        t0 = time.perf_counter()
        self.sync(compiled(*args, **kwargs))
        compile_s = time.perf_counter() - t0
        return (lambda: compiled(*args, **kwargs)), compile_s


class OnnxFw:
    """The exported graphs (docs/guide/devices.md): kernels register *program builders*; building
    (torch.onnx export, LPU lint, runtime session or GroqChip compile) is this path's compile
    step and is timed apart. Inputs stay NumPy arrays on the host; every call returns host
    arrays, so the copy back is the device sync."""

    name = "onnx"

    def version(self) -> str:
        import onnx

        return onnx.__version__

    def runtime(self) -> dict:
        import torch

        from . import onnx_backend

        facts: dict[str, str | None] = {
            "exporter": f"torch.onnx (TorchScript) {torch.__version__}, opset {onnx_backend.OPSET}"
        }
        try:
            import onnxruntime

            facts["onnxruntime"] = onnxruntime.__version__
        except ImportError:
            facts["onnxruntime"] = None
        return facts

    def device(self, kind: str, index: int = 0):
        if kind not in ("onnxrt", "lpu"):
            raise LookupError(f"the exported graphs run on onnxrt or lpu, not {kind}")
        return kind

    def put(self, x, device):
        return None if x is None else np.asarray(x)

    def sync(self, out):
        return out

    def to_numpy(self, x):
        return np.asarray(x)

    def compile(self, fn, args, kwargs, static):
        return _build(fn, args, kwargs, static)


def _build(fn, args, kwargs, static):
    """The compile step of a path whose kernels are builders (ONNX, NEST): build, timed."""
    t0 = time.perf_counter()
    run = fn(*args, **kwargs, **static)
    return run, time.perf_counter() - t0


def _dist_version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


class AdseqFw(JaxFw):
    """The EventQueues authors' queues (PyPI ``adseq``): JAX programs, compiled and synced
    like ours."""

    name = "adseq"

    def version(self) -> str:
        return _dist_version("adseq")

    def runtime(self) -> dict:
        return {**super().runtime(), "jax": super().version()}


class NestFw(NumpyFw):
    """NEST (PyPI ``nest-simulator``): kernels register *network builders*; building the
    network (ResetKernel, Create, Connect) is this path's compile step, timed apart; each
    timed call is ``nest.Simulate`` plus reading the spike recorder. NEST runs on the CPU and
    returns host arrays, so there is nothing to sync."""

    name = "nest"

    def version(self) -> str:
        return _dist_version("nest-simulator")

    def compile(self, fn, args, kwargs, static):
        return _build(fn, args, kwargs, static)


ADAPTERS: dict[str, FrameworkAdapter] = {
    "numpy": NumpyFw(),
    "jax": JaxFw(),
    "torch": TorchFw(),
    "torch-compile": TorchCompileFw(),
    "onnx": OnnxFw(),
    "adseq": AdseqFw(),
    "nest": NestFw(),
}


def adapter(name: str) -> FrameworkAdapter:
    try:
        return ADAPTERS[name]
    except KeyError:
        raise ValueError(f"unknown framework {name!r}; known: {sorted(ADAPTERS)}") from None


def base(name: str) -> str:
    """The built-in framework `name` runs on (itself for a built-in one; a registered one's
    ``like``): the harness sets, e.g., PyTorch's thread count for every library built on it."""
    from . import devices

    return devices.LIKE.get(name, name)


def register(
    name: str,
    adapter: FrameworkAdapter,
    *,
    reaches: tuple[str, ...] = ("cpu",),
    like: str = "numpy",
    peer: bool = False,
) -> FrameworkAdapter:
    """Add a framework (a plugin's library as its own ``framework`` value): its `adapter`,
    the device kinds it `reaches`, and the built-in framework it is `like` (present on a
    device kind wherever that one is); `peer`: a peer library whose rows stand beside a
    family's own (the peers table) and never in its figures (``rows.PEERS``). ValueError for
    a taken name, an adapter missing a method of ``FrameworkAdapter``, an unknown device kind
    or base."""
    from .. import rows
    from . import devices

    if not name or name in ADAPTERS:
        raise ValueError(f"framework name {name!r} is empty or already registered")
    if not isinstance(adapter, FrameworkAdapter):
        missing = [
            m
            for m in ("version", "device", "put", "sync", "to_numpy", "compile")
            if not callable(getattr(adapter, m, None))
        ]
        raise ValueError(f"framework {name!r}: the adapter lacks {', '.join(missing) or 'name'}")
    bad = sorted(set(reaches) - set(rows.DEVICE_KINDS))
    if bad:
        raise ValueError(
            f"framework {name!r}: unknown device kind(s) {bad}; known: {list(rows.DEVICE_KINDS)}"
        )
    if like not in ADAPTERS:
        raise ValueError(
            f"framework {name!r}: like={like!r} is not a framework; known: {sorted(ADAPTERS)}"
        )
    ADAPTERS[name] = adapter
    rows.FRAMEWORKS.append(name)
    if peer:
        rows.PEERS.append(name)
    devices.REACH[name] = tuple(reaches)
    devices.LIKE[name] = like
    return ADAPTERS[name]
