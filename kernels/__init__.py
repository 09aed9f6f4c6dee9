"""Kernel families: pure functions of arrays and typed parameters, one sub-package each.

NumPy reference, JAX and PyTorch twins with the same names and arguments; no I/O, timing,
device choice or global flags in here (the suite owns those).
"""
