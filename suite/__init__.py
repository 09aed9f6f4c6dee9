"""spikebench: reference benchmarks for parallel spiking-neural-network algorithms.

Importing the package turns on JAX's 64-bit mode (the suite enables x64 at start-up so that
float64 is real float64; kernels never flip global flags). float32 work is unaffected:
every kernel casts its inputs to the dtype it is asked for.
"""

from __future__ import annotations

import os
import sys

__version__ = "0.1.0"

os.environ.setdefault("JAX_ENABLE_X64", "1")
if "jax" in sys.modules:  # imported before us: flip the live config instead
    sys.modules["jax"].config.update("jax_enable_x64", True)
