"""Sweep profiles and how a sweep's cases are chosen.

A profile is a name (``quick``: the CPU / CI default, minutes on a laptop; ``full``: the
accelerator default, the paper-sized sweep; ``gpu-smoke``; ``selftest``); what each family runs
in it is that family's data, ``Family.sweeps`` (``spikebench.families.<name>.sweeps``), so a
plugin adds its own sweeps to a profile, or a profile of its own. This module joins them
(``table``), lists the values each filter key takes (``choices``), parses and checks filters,
expands a profile into cases, moves cases onto a dataset, shards them, and ``select`` does all
of that for the CLI and ``pytest --benchmark`` alike.
"""

from __future__ import annotations

from .cases import Case, expand


def table() -> dict[str, dict[str, list[dict]]]:
    """profile -> family -> sweep specs, joined from every registered family's ``sweeps``
    (built-in and plugins), profiles and families in the order they were registered."""
    from . import families

    out: dict[str, dict[str, list[dict]]] = {}
    for fam in families.FAMILIES.values():
        for prof, specs in fam.sweeps.items():
            out.setdefault(prof, {})[fam.name] = list(specs)
    return out


def names() -> list[str]:
    """Every profile's name."""
    return list(table())


FILTER_KEYS = ("family", "impl", "framework", "dtype", "dataset", "mode")


def implementations() -> dict[str, set[str]]:
    """Each family's implementations named in any profile (what a results row may hold)."""
    out: dict[str, set[str]] = {}
    for prof in table().values():
        for fam, specs in prof.items():
            for spec in specs:
                out.setdefault(fam, set()).update(spec["impls"])
    return out


def choices(profile: str | None = None) -> dict[str, list[str]]:
    """The values each filter key takes in `profile` (every profile when None): the case
    fields (FILTER_KEYS), every size and every knob (e.g. ``chunk``, the parallel simulator's
    K), as sorted text. What `--filter` / `--bench-filter` and the CLI's options accept."""
    import collections

    profiles = table()
    names = [profile] if profile is not None else list(profiles)
    out: dict[str, set] = collections.defaultdict(set)
    for name in names:
        for fam, specs in profiles[name].items():
            out["family"].add(fam)
            for spec in specs:
                out["impl"].update(spec["impls"])
                out["framework"].update(spec["frameworks"])
                out["dtype"].update(spec["dtypes"])
                out["mode"].update(spec.get("modes", ["forward"]))
                out["dataset"].update(spec["datasets"])
                for k, vals in spec.get("sizes", {}).items():
                    out[k].update(str(int(v)) for v in vals)
                for knobs in spec.get("knobs", {}).values():
                    for k, vals in knobs.items():
                        out[k].update(map(str, vals))

    def order(v):
        try:
            return (0, float(v), v)
        except ValueError:
            return (1, 0.0, v)

    return {k: sorted(v, key=order) for k, v in out.items()}


def parse_filters(texts) -> dict[str, list[str]]:
    """``["framework=jax", "chunk=16,128"]`` -> ``{"framework": ["jax"], "chunk": ["16",
    "128"]}`` (a key given twice keeps both lists); ValueError for text without ``=``."""
    out: dict[str, list[str]] = {}
    for text in texts or []:
        key, sep, values = str(text).partition("=")
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key.strip() or not vals:
            raise ValueError(
                f"filter {text!r}: expected KEY=V1,V2 (e.g. framework=jax or chunk=16,128)"
            )
        out.setdefault(key.strip(), []).extend(vals)
    return out


def _text(v) -> str:
    """A filter value as the text ``choices`` lists: 1e3 and 1000.0 as 1000."""
    if isinstance(v, bool):
        return str(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return str(int(f)) if f.is_integer() else str(v)


def check_filters(profile: str, filters: dict) -> None:
    """ValueError naming the bad key or value and listing the choices (``choices``): an
    unknown key, or a value that no case of `profile` has."""
    known = choices(profile)
    for key, allowed in filters.items():
        if allowed is None or len(allowed) == 0:
            continue
        if key not in known:
            raise ValueError(f"unknown filter {key!r}; choose from: {', '.join(sorted(known))}")
        bad = [_text(a) for a in allowed if _text(a) not in known[key]]
        if bad:
            raise ValueError(
                f"{key} {', '.join(map(repr, bad))} not in profile {profile!r}; "
                f"choose from: {', '.join(known[key])}"
            )


def profile_cases(profile: str, devices: list[str], limits: bool = True, **filters) -> list[Case]:
    """Cases of a profile, expanded over devices and narrowed by filters.

    limits=False ignores the profile's size caps (e.g. to run PyTorch's serial loop at 1e5
    events per sample in the quick profile's configuration).

    Each filter is a list of allowed values for one of FILTER_KEYS (None = all), a size
    name (e.g. n_events) or a knob name (e.g. chunk); ValueError for an unknown name or a
    value the profile does not have, listing the choices (``check_filters``).
    """
    profiles = table()
    if profile not in profiles:
        raise ValueError(f"unknown profile {profile!r}; choose from: {', '.join(profiles)}")
    check_filters(profile, filters)
    cases = []
    for fam, specs in profiles[profile].items():
        for spec in specs:
            cases += expand(spec, fam, devices, limits)
    cases = list(dict.fromkeys(cases))  # a case two sweeps share runs once
    for key, allowed in filters.items():
        if allowed is None or len(allowed) == 0:
            continue
        want = {_text(a) for a in allowed}
        if key in FILTER_KEYS:
            cases = [c for c in cases if getattr(c, key) in want]
        else:
            cases = [c for c in cases if _text(c.size.get(key, c.knob.get(key))) in want]
    return cases


def with_dataset(cases, name: str, data_dir=None, stats_file=None) -> list[Case]:
    """The cases whose inputs are event data, all moved onto dataset `name`
    (docs/guide/datasets.md): event-LIF cases, PSU network cases and the queues' recurrent network
    (whose input current the data then drives). Their input width ``n_inputs`` becomes the
    dataset's channel count (the sized generators ``poisson``, ``synthetic-shd`` and
    ``synthetic-ssc`` keep any width). Cases whose inputs are not event samples (PSU neuron level,
    the queues' traffic) are left out. Reader datasets need `data_dir`; ValueError for an unknown
    name. With `stats_file` (saved by ``spikebench datasets stats FILE --save``) a stand-in
    generator follows those statistics, and the rows' dataset is labelled ``NAME@hash`` so they
    never pool with the defaults."""
    import dataclasses

    from . import datasets, families

    d = datasets.get(name)
    label = name if stats_file is None else datasets.stats_label(name, stats_file)
    if d.kind == "reader":
        if data_dir is None:
            raise ValueError(
                f"dataset {name!r} reads files: give --data-dir (expected "
                f"{', '.join(f for fs in d.files.values() for f in fs)})"
            )
        d.open(data_dir, next(iter(d.files)))  # fail now, naming the files, not per case
    out = []
    for c in cases:
        if not families.get(c.family).takes_events(c):
            continue
        sizes = dict(c.sizes)
        if "n_inputs" in sizes and name not in datasets.SIZED:
            sizes["n_inputs"] = d.n_channels
        out.append(
            dataclasses.replace(
                c,
                dataset=label,
                sizes=tuple(sorted(sizes.items())),
                data_dir=None if data_dir is None else str(data_dir),
                stats_file=None if stats_file is None else str(stats_file),
            )
        )
    return list(dict.fromkeys(out))


def shard(cases, spec: str) -> tuple[list[Case], dict]:
    """Shard `i/n` of a sweep (1 <= i <= n): every n-th case from the i-th on, so the shards
    are disjoint, together hold every case, and mix cheap and costly families alike. The
    returned dict goes into the JSON context: index, count, the whole sweep's size and its
    ``sweep_id`` (a hash of every case id), by which ``spikebench merge`` knows the shards of
    one sweep. ValueError for a malformed spec."""
    import hashlib

    text = str(spec)
    first, sep, last = text.partition("/")
    try:
        i, n = int(first), int(last)
    except ValueError:
        i = n = 0
    if not sep or not (n >= 1 and 1 <= i <= n):
        raise ValueError(f"--shard {text!r}: expected i/n with 1 <= i <= n, e.g. 2/4")
    ids = sorted(c.case_id for c in cases)
    info = {
        "index": i,
        "count": n,
        "n_cases": len(cases),
        "sweep_id": hashlib.sha1(" ".join(ids).encode()).hexdigest()[:12],
    }
    return list(cases)[i - 1 :: n], info


def select(
    profile: str,
    kinds: list[str],
    filters: dict | None = None,
    *,
    limits=True,
    dataset: str | None = None,
    data_dir=None,
    stats_file=None,
    shard_spec=None,
):
    """The cases of a sweep and its shard information (None without a shard): `profile`'s
    cases on the device `kinds`, narrowed by `filters`, moved onto `dataset` (with its
    `data_dir` and `stats_file`) and cut to shard `shard_spec` ("i/n"). ValueError naming
    the bad value, or saying that the filters leave no case. ``spikebench run`` and
    ``pytest --benchmark`` both call it."""
    cases = profile_cases(profile, kinds, limits, **(filters or {}))
    if dataset is not None:
        cases = with_dataset(cases, dataset, data_dir, stats_file)
    elif data_dir is not None or stats_file is not None:
        raise ValueError("--data-dir and --dataset-stats need --dataset")
    info = None
    if shard_spec is not None:
        cases, info = shard(cases, shard_spec)
    if not cases:
        raise ValueError(
            "the filters (and shard) leave no case to run: each value exists in "
            "the profile, but no case has them all"
        )
    return cases, info
