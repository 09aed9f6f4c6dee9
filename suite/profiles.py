"""Declarative sweep profiles. `quick` is the CPU / CI default (minutes on a laptop); `full` is
the accelerator default (the paper-sized sweep). Edit the data, not the code."""

from __future__ import annotations

from .cases import Case, expand

DECADES = [100, 1_000, 10_000, 100_000, 1_000_000]

PROFILES: dict[str, dict[str, dict]] = {
    "quick": {
        "event_lif": {
            "impls": ["serial", "bare_scan"],
            "frameworks": ["jax", "torch"],
            "dtypes": ["float32", "float64"],
            "datasets": ["poisson", "synthetic-shd"],
            "sizes": {"n_events": DECADES, "n_neurons": [128], "n_inputs": [700],
                      "batch": [2]},
            "seed": 0,
            "timeout_s": 600,
            # PyTorch's serial loop runs in Python: ~0.05-1 ms per input event (see README),
            # so 1e5-1e6 events per sample do not fit a CPU quick run; `full` runs them.
            "limits": [
                {"where": {"framework": "torch", "impl": "serial"}, "max": {"n_events": 10_000}},
                {"where": {"framework": "torch", "impl": "bare_scan"},
                 "max": {"n_events": 100_000}},
            ],
        },
    },
    "full": {
        "event_lif": {
            "impls": ["serial", "bare_scan"],
            "frameworks": ["numpy", "jax", "torch"],
            "dtypes": ["float32", "float64"],
            "datasets": ["poisson", "synthetic-shd"],
            "sizes": {"n_events": DECADES, "n_neurons": [128, 512], "n_inputs": [700],
                      "batch": [1, 8, 32]},
            "seed": 0,
            "timeout_s": 3600,
            "limits": [{"where": {"framework": "numpy"}, "max": {"n_events": 100_000}}],
        },
    },
    # the harness's own self-test (not part of the default sweep)
    "selftest": {
        "selftest": {
            "impls": ["ok", "raises", "hangs"],
            "frameworks": ["numpy"],
            "dtypes": ["float64"],
            "datasets": ["none"],
            "sizes": {"n": [8]},
            "timeout_s": 5,
        },
    },
}

FILTER_KEYS = ("family", "impl", "framework", "dtype", "dataset", "mode")


def profile_cases(profile: str, devices: list[str], limits: bool = True,
                  **filters) -> list[Case]:
    """Cases of a profile, expanded over devices and narrowed by filters.

    limits=False ignores the profile's size caps (e.g. to run PyTorch's serial loop at 1e5
    events per sample in the quick profile's configuration).

    Each filter is a list of allowed values for one of FILTER_KEYS (None = all), or a size
    name (e.g. n_events) with a list of allowed sizes. Unknown names raise ValueError.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; known: {sorted(PROFILES)}")
    families = PROFILES[profile]
    size_names = {n for spec in families.values() for n in spec.get("sizes", {})}
    unknown = set(filters) - set(FILTER_KEYS) - size_names
    if unknown:
        raise ValueError(f"unknown filter(s) {sorted(unknown)}; known: "
                         f"{sorted(set(FILTER_KEYS) | size_names)}")
    cases = []
    for fam, spec in families.items():
        cases += expand(spec, fam, devices, limits)
    for key, allowed in filters.items():
        if allowed is None or len(allowed) == 0:
            continue
        if key in FILTER_KEYS:
            cases = [c for c in cases if getattr(c, key) in allowed]
        else:
            allowed_i = {int(float(a)) for a in allowed}
            cases = [c for c in cases if c.size.get(key) in allowed_i]
    return cases
