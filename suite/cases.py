"""Case specs (what to measure) and sweep expansion (which cases a profile means).

A Case is frozen and hashable; its `case_id` is stable across runs and machines, so rows of
different runs can be grouped by it.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Case:
    family: str
    impl: str
    framework: str
    device: str
    dtype: str
    mode: str
    dataset: str
    sizes: tuple[tuple[str, int], ...]  # e.g. (("n_events", 1000), ("batch", 2), ...)
    knobs: tuple[tuple[str, object], ...] = ()
    seed: int = 0
    timeout_s: float = field(default=600.0, compare=False)
    # where a reader dataset's files are (not part of the case's identity: the dataset name is)
    data_dir: str | None = field(default=None, compare=False)
    # the statistics a stand-in follows (its hash is in the dataset label NAME@hash)
    stats_file: str | None = field(default=None, compare=False)

    @property
    def size(self) -> dict:
        return dict(self.sizes)

    @property
    def knob(self) -> dict:
        return dict(self.knobs)

    @property
    def input_key(self) -> tuple:
        """Cases with equal input_key get the very same inputs (and reference)."""
        return (self.family, self.dataset, self.sizes, self.seed)

    @property
    def case_id(self) -> str:
        text = repr(
            (
                self.family,
                self.impl,
                self.framework,
                self.device,
                self.dtype,
                self.mode,
                self.dataset,
                self.sizes,
                self.knobs,
                self.seed,
            )
        )
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    def label(self) -> str:
        """``family/impl/framework/device/dtype/mode/dataset[sizes;knobs]``: every value that
        makes the case (two cases that differ only in a knob, e.g. the chunk size K, have
        different labels). Plain text: escape it before handing it to rich."""
        sz = ",".join(f"{k}={v}" for k, v in self.sizes)
        kn = ",".join(f"{k}={v}" for k, v in self.knobs)
        return (
            f"{self.family}/{self.impl}/{self.framework}/{self.device}/{self.dtype}/"
            f"{self.mode}/{self.dataset}[{sz}{';' + kn if kn else ''}]"
        )


def expand(spec: dict, family: str, devices: list[str], limits: bool = True) -> list[Case]:
    """Expand one family's declarative sweep spec into cases, pairing each framework only
    with the device kinds it can reach (``devices.REACH``).

    spec keys: impls, frameworks, dtypes, modes, datasets, sizes (name -> list of values),
    knobs (impl -> {name -> list}: knobs belong to an implementation, e.g. the parallel
    simulator's chunk size), seed, timeout_s, and `limits`: a list of {"where": {...},
    "max": {size: value}} (or "drop": True) entries that drop combinations a profile does
    not run (ignored with limits=False).
    """
    from .hardware.devices import reaches

    sizes = spec.get("sizes", {})
    size_names = sorted(sizes)
    out = []
    for impl, fw, dev, dt, mode, ds in itertools.product(
        spec["impls"],
        spec["frameworks"],
        devices,
        spec["dtypes"],
        spec.get("modes", ["forward"]),
        spec["datasets"],
    ):
        if not reaches(fw, dev):  # e.g. NumPy on a GPU, the exported graphs on a CPU kind
            continue
        knobs = spec.get("knobs", {}).get(impl, {})
        knob_names = sorted(knobs)
        for sv in itertools.product(*(sizes[n] for n in size_names)):
            for kv in itertools.product(*(knobs[n] for n in knob_names)):
                case = Case(
                    family,
                    impl,
                    fw,
                    dev,
                    dt,
                    mode,
                    ds,
                    tuple(zip(size_names, (int(v) for v in sv), strict=True)),
                    tuple(zip(knob_names, kv, strict=True)),
                    int(spec.get("seed", 0)),
                    float(spec.get("timeout_s", 600.0)),
                )
                if not (limits and _limited(case, spec.get("limits", []))):
                    out.append(case)
    return out


def _limited(case: Case, limits) -> bool:
    fields = {
        "impl": case.impl,
        "framework": case.framework,
        "device": case.device,
        "dtype": case.dtype,
        "mode": case.mode,
        "dataset": case.dataset,
        **case.size,
        **case.knob,
    }
    for lim in limits:
        if all(fields.get(k) == v for k, v in lim.get("where", {}).items()):
            if lim.get("drop") or any(
                case.size.get(k, case.knob.get(k, 0)) > v for k, v in lim.get("max", {}).items()
            ):
                return True
    return False
