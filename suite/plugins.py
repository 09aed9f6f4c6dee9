"""Plugins: code from other installed distributions that the suite runs like its own.

A plugin is a module named by an entry point in the group ``spikebench.plugins`` of any
installed distribution (its ``pyproject.toml``::

    [project.entry-points."spikebench.plugins"]
    mylab = "mylab_snn.spikebench_plugin"

). The suite imports every such module once per process, before it looks up a family, a kernel
or a device -- in the parent and in every isolated worker, which imports it again because the
lookups run there too. On import the module registers what it brings, with the same calls the
built-in families use:

- kernels: ``spikebench.registry.register(family, impl, framework, entry=..., modes=...)`` as a
  decorator on each timed function;
- a family: ``spikebench.families.register(MyFamily())``, a subclass of
  ``spikebench.families.Family`` whose ``sweeps`` maps profile names to sweep specs (the dict
  form of ``cases.expand``: impls, frameworks, dtypes, modes, datasets, sizes, knobs, seed,
  timeout_s);
- a framework, if its library is its own ``framework`` value (say a library built on PyTorch):
  ``spikebench.hardware.frameworks.register(name, adapter, reaches=("cpu", "gpu"), like="torch")``.

From then on ``--family``, ``--filter``, the profiles, ``validate``, ``report`` and ``compare``
take its rows like the built-in ones. A plugin that fails to import is skipped with a warning
naming it and the error (``FAILED``), never a crash of the sweep; ``spikebench devices``
lists the loaded and the failed ones. The docs' "Writing a plugin" walks through one.
"""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points

GROUP = "spikebench.plugins"
LOADED: dict[str, str] = {}  # entry point name -> the module it names
FAILED: dict[str, str] = {}  # entry point name -> why it did not load
_state = {"done": False}


def load() -> dict[str, str]:
    """Import every installed plugin module (once per process); returns ``LOADED``."""
    if _state["done"]:
        return LOADED
    _state["done"] = True  # first: a plugin that looks up a family must not recurse here
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        if ep.name in LOADED or ep.name in FAILED:
            continue
        try:
            ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the suite
            FAILED[ep.name] = f"{type(exc).__name__}: {exc}"
            warnings.warn(
                f"spikebench plugin {ep.name!r} ({ep.value}) did not load: {FAILED[ep.name]}",
                RuntimeWarning,
                stacklevel=2,
            )
        else:
            LOADED[ep.name] = ep.value
    return LOADED
