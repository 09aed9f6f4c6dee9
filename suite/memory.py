"""Peak memory of a measured call, per spec/devices.md. Every figure carries its method; rows
with different methods are never compared."""

from __future__ import annotations

import resource


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class CpuPeak:
    """Peak resident memory of a case above the worker's resident memory when it began.

    Linux: reset the high-water mark (write 5 to /proc/self/clear_refs) at the start, read
    VmHWM at the end (method `cpu_vmhwm_delta`). Elsewhere: ru_maxrss, which cannot be reset,
    so the figure also covers anything earlier in the worker (method `cpu_maxrss_delta`).
    """

    def __enter__(self):
        self.base_kb = _status_kb("VmRSS")
        self.method = None
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.method = "cpu_vmhwm_delta"
        except OSError:
            self.base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            self.method = "cpu_maxrss_delta"
        return self

    def __exit__(self, *exc):
        if self.method == "cpu_vmhwm_delta":
            peak = _status_kb("VmHWM")
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.peak_bytes = None if peak is None or self.base_kb is None else \
            max(0, (peak - self.base_kb) * 1024)
        return False


class TorchCudaPeak:
    """torch.cuda: reset_peak_memory_stats before, max_memory_allocated after."""

    def __init__(self, device):
        self.device = device
        self.method = "torch_cuda_max_allocated"

    def __enter__(self):
        import torch

        torch.cuda.synchronize(self.device)
        self.base = torch.cuda.memory_allocated(self.device)
        torch.cuda.reset_peak_memory_stats(self.device)
        return self

    def __exit__(self, *exc):
        import torch

        torch.cuda.synchronize(self.device)
        self.peak_bytes = max(0, torch.cuda.max_memory_allocated(self.device) - self.base)
        return False


class JaxDevicePeak:
    """JAX accelerators: peak_bytes_in_use cannot be reset, so it is only meaningful in a fresh
    worker per case (which the harness gives every case)."""

    def __init__(self, device):
        self.device = device
        self.method = "jax_peak_bytes_fresh_worker"

    def __enter__(self):
        stats = self.device.memory_stats() or {}
        self.base = stats.get("bytes_in_use", 0)
        return self

    def __exit__(self, *exc):
        stats = self.device.memory_stats() or {}
        peak = stats.get("peak_bytes_in_use")
        self.peak_bytes = None if peak is None else max(0, peak - self.base)
        return False


class NotMeasured:
    """A device whose memory this suite cannot read (a GroqChip; ONNX Runtime's CUDA provider
    keeps its own arena): no figure rather than a host figure passed off as the device's."""

    def __init__(self, why: str):
        self.method = why
        self.peak_bytes = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def for_device(framework: str, device_kind: str, handle=None):
    if device_kind == "cpu":
        return CpuPeak()
    if device_kind == "lpu":
        return NotMeasured("not_measured_lpu")
    if device_kind == "onnxrt":
        from .onnx_backend import provider

        # the CPU provider works in the worker's memory: its peak RSS is the figure
        return CpuPeak() if provider() == "CPUExecutionProvider" else \
            NotMeasured("not_measured_ort_cuda")
    if framework in ("torch", "torch-compile") and device_kind == "gpu":
        return TorchCudaPeak(handle)
    if framework == "jax":
        return JaxDevicePeak(handle)
    return CpuPeak()
