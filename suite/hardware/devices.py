"""Device discovery (docs/guide/devices.md): probe each backend once per process, cache, and say
plainly why a device kind is unavailable. Never fake a device.

Kinds and what reaches them in this suite (``REACH``):

- ``cpu``: NumPy, JAX (XLA CPU), PyTorch; always present.
- ``gpu``: JAX with a CUDA/ROCm plugin, PyTorch CUDA/ROCm (or MPS on Apple).
- ``tpu``: JAX on a TPU VM (``jax[tpu]``); torch_xla is not wired in.
- ``onnxrt``: the exported ONNX graphs (framework ``onnx``) on ONNX Runtime: its CUDA
  execution provider where onnxruntime-gpu sees a GPU, else the CPU provider.
- ``lpu``: the same graphs compiled for a GroqChip by the GroqWare SDK (groq-devtools: the
  compiler ``groq-compiler`` and the assembler ``aa-latest``; groq-runtime: the Python module
  ``groq.runner.tsp``), on a host with a GroqCard (PCI vendor 1de0). None of it is on PyPI;
  the PyPI package ``groq`` is a REST client for hosted chat models and is not an LPU backend.

Each probe imports the backend, lists its devices and runs a tiny computation. JAX's GPU
preallocation is switched off before JAX starts a backend (XLA_PYTHON_CLIENT_PREALLOCATE=false),
so that memory figures mean something and workers can share the device.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from dataclasses import dataclass, field

from ..rows import DEVICE_KINDS as KINDS
from . import groq

# which frameworks can reach which device kind (a case pairs only these)
REACH = {
    "numpy": ("cpu",),
    "jax": ("cpu", "gpu", "tpu"),
    "torch": ("cpu", "gpu"),
    "torch-compile": ("cpu", "gpu"),
    "onnx": ("onnxrt", "lpu"),
    "adseq": ("cpu", "gpu", "tpu"),
    "nest": ("cpu",),
}


@dataclass(frozen=True)
class DeviceInfo:
    kind: str
    name: str
    available: bool
    reason: str = ""
    frameworks: tuple[str, ...] = ()
    memory_bytes: int | None = None
    count: int = 0
    versions: dict = field(default_factory=dict, compare=False)


def reaches(framework: str, kind: str) -> bool:
    """Can `framework` run on device `kind` at all (whatever this machine has)?"""
    return kind in REACH.get(framework, ())


def _has(mod: str) -> bool:
    try:
        return importlib.util.find_spec(mod) is not None
    except (ImportError, ValueError):  # a parent package is missing (e.g. groq.runner)
        return False


def _version(mod: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(ANCHOR_DIST.get(mod, mod))
    except Exception:  # noqa: BLE001 - not installed
        return None


def no_preallocation():
    """JAX must not grab 75 % of an accelerator's memory up front (docs/guide/devices.md)."""
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")


def _probe_torch_gpu():
    """(names, memory, count, reason)."""
    if not _has("torch"):
        return [], None, 0, "torch not installed"
    import torch

    if torch.cuda.is_available():
        n = torch.cuda.device_count()
        props = torch.cuda.get_device_properties(0)
        x = torch.ones(4, device="cuda")
        if float(x.sum()) != 4.0:
            return [], None, 0, "torch: CUDA device failed a test kernel"
        return [props.name], int(props.total_memory), n, ""
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return ["Apple MPS"], None, 1, ""
    build = (
        "CPU-only build" if not (torch.version.cuda or torch.version.hip) else "no device visible"
    )
    return [], None, 0, f"torch: no CUDA/ROCm/MPS device ({build} {torch.__version__})"


def _probe_jax(platform: str):
    """(names, memory, count, reason) of JAX's `platform` backend."""
    if not _has("jax"):
        return [], None, 0, "jax not installed"
    no_preallocation()
    import jax

    try:
        devs = jax.devices(platform)
    except RuntimeError:
        extra = "jax[cuda12] (NVIDIA) or a ROCm plugin" if platform == "gpu" else "jax[tpu]"
        return [], None, 0, f"jax {jax.__version__}: no {platform} backend (install {extra})"
    import jax.numpy as jnp

    if float(jax.device_put(jnp.ones(4), devs[0]).sum()) != 4.0:
        return [], None, 0, f"jax: {platform} device failed a test kernel"
    stats = devs[0].memory_stats() or {}
    return [devs[0].device_kind], stats.get("bytes_limit"), len(devs), ""


def _ort_providers():
    import onnxruntime as ort

    return ort.get_available_providers()


def _probe_onnxrt() -> DeviceInfo:
    missing = [m for m in ("onnx", "onnxruntime", "torch") if not _has(m)]
    versions = {m: _version(m) for m in ("onnx", "onnxruntime", "torch")}
    if missing:
        return DeviceInfo(
            "onnxrt",
            "",
            False,
            f"{', '.join(missing)} not installed (pip install "
            f"'spikebench[onnx]'; torch exports the graphs)",
            versions=versions,
        )
    from . import onnx_backend

    provider = onnx_backend.provider()
    try:
        onnx_backend.smoke_test(provider)
    except Exception as exc:  # noqa: BLE001 - a broken runtime is a reason, not a crash
        return DeviceInfo(
            "onnxrt", "", False, f"onnxruntime failed a test graph: {exc}", versions=versions
        )
    return DeviceInfo(
        "onnxrt",
        f"onnxruntime {provider}",
        True,
        "",
        ("onnx",),
        _ram() if provider == "CPUExecutionProvider" else None,
        1,
        versions,
    )


def _probe_lpu() -> DeviceInfo:
    versions = {
        "groq-runtime": _version("groq-runtime"),
        "groq-devtools": _version("groq-devtools"),
    }
    missing = groq.lpu_missing()
    if missing:
        return DeviceInfo("lpu", "", False, "; ".join(missing), versions=versions)
    return DeviceInfo(
        "lpu", "GroqChip", True, "", ("onnx",), None, groq.groq_cards() or 0, versions
    )


def _ram():
    from .machine import ram_bytes

    return ram_bytes()


# anchors (README "Anchors"): their import name and distribution
ANCHOR_DIST = {"adseq": "adseq", "nest": "nest-simulator"}


# frameworks a plugin registered (``frameworks.register``): name -> the framework whose
# presence on a device kind makes it present there too
LIKE: dict[str, str] = {}


def _riders(reach: tuple[str, ...], nest: bool = False) -> tuple[str, ...]:
    """The frameworks that run on top of the given ones and are installed here: the adseq
    anchor wherever JAX reaches, torch-compile wherever PyTorch does, the NEST anchor on the
    CPU, and a plugin's framework wherever the one it is ``like`` is."""
    found: tuple[str, ...] = ("adseq",) if "jax" in reach and _has("adseq") else ()
    found += ("torch-compile",) if "torch" in reach else ()
    found += ("nest",) if nest and _has("nest") else ()
    return found + tuple(n for n, base in LIKE.items() if base in reach + found)


@functools.cache
def discover() -> tuple[DeviceInfo, ...]:
    """Probe every kind once per process (cached; the installed plugins are loaded first, so
    their frameworks are found)."""
    from .. import plugins
    from .machine import cpu_model

    plugins.load()

    cpu_fw = tuple(f for f in ("numpy", "jax", "torch") if _has(f))
    cpu_fw += _riders(cpu_fw, nest=True)
    out = [
        DeviceInfo(
            "cpu", cpu_model(), True, "", cpu_fw, _ram(), 1, {f: _version(f) for f in cpu_fw}
        )
    ]
    t_names, t_mem, t_n, t_why = _probe_torch_gpu()
    j_names, j_mem, j_n, j_why = _probe_jax("gpu")
    gpu_fw = tuple(f for f, names in (("jax", j_names), ("torch", t_names)) if names)
    gpu_fw += _riders(gpu_fw)
    out.append(
        DeviceInfo(
            "gpu",
            (t_names or j_names or [""])[0],
            bool(gpu_fw),
            "" if gpu_fw else f"{j_why}; {t_why}",
            gpu_fw,
            t_mem or j_mem,
            max(t_n, j_n),
            {f: _version(f) for f in gpu_fw},
        )
    )
    p_names, p_mem, p_n, p_why = _probe_jax("tpu")
    out.append(
        DeviceInfo(
            "tpu",
            (p_names or [""])[0],
            bool(p_names),
            p_why,
            ("jax",) if p_names else (),
            p_mem,
            p_n,
            {"jax": _version("jax")} if p_names else {},
        )
    )
    out.append(_probe_lpu())
    out.append(_probe_onnxrt())
    return tuple(out)


def get(kind: str) -> DeviceInfo:
    for d in discover():
        if d.kind == kind:
            return d
    raise ValueError(f"unknown device kind {kind!r}; known: {', '.join(KINDS)}")
