"""Device discovery (spec/devices.md): probe each backend once per process, cache, and say
plainly why a device kind is unavailable. Never fake a device."""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass

KINDS = ("cpu", "gpu", "tpu", "lpu", "onnxrt")


@dataclass(frozen=True)
class DeviceInfo:
    kind: str
    name: str
    available: bool
    reason: str = ""
    frameworks: tuple[str, ...] = ()
    memory_bytes: int | None = None
    count: int = 0


def _has(mod: str) -> bool:
    return importlib.util.find_spec(mod) is not None


@functools.cache
def discover() -> tuple[DeviceInfo, ...]:
    from .machine import cpu_model, ram_bytes

    cpu_fw = tuple(f for f in ("numpy", "jax", "torch") if _has(f))
    out = [DeviceInfo("cpu", cpu_model(), True, "", cpu_fw, ram_bytes(), 1)]
    gpu_fw, gpu_names, why = [], [], []
    if _has("torch"):
        import torch

        if torch.cuda.is_available():
            gpu_fw.append("torch")
            gpu_names.append(torch.cuda.get_device_name(0))
        else:
            why.append("torch: no CUDA device" + ("" if torch.version.cuda else
                                                  " (CPU-only build)"))
    else:
        why.append("torch not installed")
    tpu_fw, tpu_names, tpu_why = [], [], []
    if _has("jax"):
        import jax

        for platform, fws, names, whys in (("gpu", gpu_fw, gpu_names, why),
                                           ("tpu", tpu_fw, tpu_names, tpu_why)):
            try:
                devs = jax.devices(platform)
                fws.append("jax")
                names.append(devs[0].device_kind)
            except RuntimeError:
                whys.append(f"jax: no {platform} backend (install jax[cuda12] / jax[tpu])")
    else:
        why.append("jax not installed")
        tpu_why.append("jax not installed")
    out.append(DeviceInfo("gpu", gpu_names[0] if gpu_names else "", bool(gpu_fw),
                          "" if gpu_fw else "; ".join(why), tuple(gpu_fw),
                          count=len(gpu_names) and 1))
    out.append(DeviceInfo("tpu", tpu_names[0] if tpu_names else "", bool(tpu_fw),
                          "" if tpu_fw else "; ".join(tpu_why), tuple(tpu_fw),
                          count=len(tpu_names) and 1))
    groq = _has("groq") and _has("groq.runner")
    out.append(DeviceInfo("lpu", "", False,
                          "GroqWare SDK (groq-devtools + groq-runtime) not found; the PyPI "
                          "package 'groq' is only a chat REST client" if not groq else
                          "LPU path not implemented yet"))
    out.append(DeviceInfo("onnxrt", "", False, "ONNX export path not implemented yet"))
    return tuple(out)


def get(kind: str) -> DeviceInfo:
    for d in discover():
        if d.kind == kind:
            return d
    raise ValueError(f"unknown device kind {kind!r}; known: {KINDS}")
