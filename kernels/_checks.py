"""Boundary checks shared by the kernel families (concrete values, outside jit).

- ``as_int(name, v, low, high=None)``: a Python int from an int, a NumPy integer or a 0-d
  integer array, within [low, high]; bools, floats and strings are refused by name.
- ``check_fits(arr, name, dtype)``: values are validated in float64 but computed in `dtype`;
  one beyond its range (1e39 in float32) would become inf inside the kernel and silently
  change the result.
"""

from __future__ import annotations

import operator

import numpy as np


def as_int(name: str, v, low: int, high: int | None = None) -> int:
    try:
        n = operator.index(v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {v!r}") from None
    if isinstance(v, (bool, np.bool_)) or n < low or (high is not None and n > high):
        span = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be an integer {span}, got {v!r}")
    return n


def check_fits(arr, name: str, dtype) -> None:
    arr = np.asarray(arr)
    big = np.finfo(dtype).max
    if arr.size and np.max(np.abs(arr)) > big:
        k = np.unravel_index(int(np.argmax(np.abs(arr))), arr.shape)
        at = f" at index {tuple(map(int, k))}" if arr.ndim else ""
        raise ValueError(
            f"{name} = {float(arr[k]):g}{at} is beyond {dtype}'s range "
            f"({big:.3g}): use float64 or rescale"
        )
