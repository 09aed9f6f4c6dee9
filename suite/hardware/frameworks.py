"""Framework adapters: move NumPy inputs to a device, sync, fetch results, compile.

The harness talks to frameworks only through these, so kernels stay free of device choice.
"""

from __future__ import annotations

import time

import numpy as np


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

        return {"xla_version": f"jaxlib {jaxlib.__version__}",
                "backend": jax.default_backend()}

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

        return {"cuda_version": torch.version.cuda or "",
                "threads": torch.get_num_threads()}

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
    """The exported graphs (spec/devices.md): kernels register *program builders*; building
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

        facts = {"exporter": f"torch.onnx (TorchScript) {torch.__version__}, opset "
                             f"{onnx_backend.OPSET}"}
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


ADAPTERS = {"numpy": NumpyFw(), "jax": JaxFw(), "torch": TorchFw(),
            "torch-compile": TorchCompileFw(), "onnx": OnnxFw(),
            "adseq": AdseqFw(), "nest": NestFw()}


def adapter(name: str):
    try:
        return ADAPTERS[name]
    except KeyError:
        raise ValueError(f"unknown framework {name!r}; known: {sorted(ADAPTERS)}") from None
