"""Report table of the anchors (README "Anchors"): every anchor row -- the EventQueues authors'
queues (framework ``adseq``) and NEST (``nest``) -- next to spikebench's JAX and PyTorch (eager
and compiled) rows of the same case on the same inputs, in the same run and with the same
thread count, as ours / anchor time (< 1: spikebench is faster). Our rows must be usable (ok
and correct); an anchor row that ran but disagrees with the reference is listed with its
reason (e.g. adseq's heap) and no ratio, so a known difference is shown, never hidden."""

from __future__ import annotations

from ..rows import places

ANCHORS = ("adseq", "nest")
OURS = ("jax", "torch", "torch-compile")
TITLE = "Anchors: spikebench's kernels against the field's own code on the same cases"
NOTE = (
    "Median seconds per call in one run; jax_over_anchor = JAX time / anchor time (< 1: "
    "ours is faster), likewise torch and torch-compile (PyTorch eager and compiled); "
    "anchors: adseq (the EventQueues authors' queues, timed in their own benchmark's loop "
    "form: tally = total; tally = queue adds per-queue counters to the loop, ours and "
    "theirs alike, and is compared only with its like), NEST (iaf_psc_exp_ps, its rows with "
    "t_ref = 0.1 ms; rate_hz: input events per simulated second, which NEST's cost "
    "follows). anchor_correct False: the anchor disagrees with the reference (the "
    "reason is given) and gets no ratio."
)

# where an anchor's documented difference lives (framework -> module with KNOWN_DIFFERENCES,
# keyed by implementation)
KNOWN = {"adseq": "spikebench.kernels.queues._adseq"}


def known_difference(row) -> str | None:
    """The documented reason an anchor row disagrees with the reference (README "Anchors"), or
    None: then a wrong anchor row is as wrong as any other."""
    import importlib

    mod = KNOWN.get(row.get("framework"))
    if mod is None:
        return None
    return importlib.import_module(mod).KNOWN_DIFFERENCES.get(row.get("impl"))


def anchor_table(df, host_params=None):
    """Per anchor row: our medians of the same case in the same run and thread count, and ours
    / anchor time. `host_params`: family -> its host-loop knobs, not matched."""
    import pandas as pd

    from .. import results
    from .devices import same_case, sizes_text

    if df is None or df.empty or not df["framework"].isin(ANCHORS).any():
        return pd.DataFrame()
    ours = results.usable(df[df["framework"].isin(OURS)]).rows
    anchors = df[df["framework"].isin(ANCHORS) & (df["status"] == "ok")]
    out = []
    labels = places(df)  # the report's place labels (the same colour on every figure)
    for i, r in anchors.iterrows():
        correct = bool(r["correct"]) if pd.notna(r["correct"]) else False
        row = {
            "family": r["family"],
            "impl": r["impl"],
            "dtype": r["dtype"],
            "dataset": r["dataset"],
            "sizes": sizes_text(r, df),
            "threads": r["threads"],
            "place": labels[i],
            "n_neurons": r.get("param_n_neurons"),
            "n_inputs": r.get("param_n_inputs"),
            "batch": r.get("param_batch"),
            "rate_hz": r.get("param_rate_hz"),
            "tally": r.get("param_tally"),
            "anchor": r["framework"],
            "anchor_s": r["time_median_s"],
            "anchor_correct": correct,
            "reason": None if correct else r.get("error"),
        }
        host = (host_params or {}).get(r["family"], ())
        mine = (
            ours[same_case(ours, r, extra=("run_id", "threads"), host=host)]
            if ours is not None
            else None
        )
        for fw in OURS:
            m = None if mine is None else mine[mine["framework"] == fw]["time_median_s"]
            row[f"{fw}_s"] = float(m.median()) if m is not None and len(m) else None
            row[f"{fw}_over_anchor"] = (
                row[f"{fw}_s"] / row["anchor_s"] if correct and row[f"{fw}_s"] else None
            )
        out.append(row)
    if not out:
        return pd.DataFrame()
    return (
        pd.DataFrame(out)
        .sort_values(["family", "impl", "anchor", "sizes", "threads"])
        .reset_index(drop=True)
    )


# one density curve per place and configuration: the rate varies, nothing else
DENSITY_KEYS = ["place", "n_neurons", "n_inputs", "batch"]


def density_label(place, n, n_in, b) -> str:
    return f"{int(n)} neuron{'s' * (n != 1)}, {int(n_in)} inputs, batch {int(b)}, on {place}"


def _config_label(n, n_in, b) -> str:
    return f"{int(n)} x {int(n_in)} inputs, batch {int(b)}"


def density_figure(table, out_dir):
    """Ours / NEST time against input events per simulated second (NEST's cost follows
    simulated time, ours events): colour the place, marker and line style the framework
    (``style``), each line labelled at its end with its configuration (neurons x inputs,
    batch); the PNG + SVG paths, layout-checked (``style.save``); [] without NEST rows at two
    or more rates."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from . import style as st

    if table is None or table.empty:
        return []
    t = table[(table["anchor"] == "nest") & table["rate_hz"].notna()]
    if t["rate_hz"].nunique() < 2:
        return []
    fig, ax = plt.subplots(figsize=(14, 4.6), layout="constrained")
    drawn = set()
    for fw in ("jax", "torch"):
        col = f"{fw}_over_anchor"
        if col not in t:
            continue
        for (place, n, n_in, b), g in t.groupby(DENSITY_KEYS):
            g = g.assign(r=pd.to_numeric(g[col], errors="coerce")).dropna(subset=["r"])
            g = g.groupby("rate_hz")["r"].median()
            if len(g) < 2:
                continue
            ax.plot(
                g.index,
                g.values,
                marker=st.MARKER.get(fw, "o"),
                ls=st.DASH.get(fw, "-"),
                color=st.place_color(place),
            )
            ax.annotate(
                _config_label(n, n_in, b),
                (g.index[-1], g.values[-1]),
                textcoords="offset points",
                xytext=(6, 0),
                va="center",
                fontsize=8,
                color=st.place_color(place),
            )
            drawn.add((place, fw))
    if not drawn:
        plt.close(fig)
        return []
    st.ratio_axis(ax, "y")
    st.log_axis(ax, "x")
    ax.grid(True, which="major", alpha=0.3)
    ax.margins(x=0.12)
    ax.set_xlabel("input events per simulated second (rate)")
    ax.set_ylabel("our time / NEST's (x; < 1: ours faster)")
    ax.set_title("Event LIF against NEST across input density")
    st.legend_below(ax, [p for p, _ in sorted(drawn)], [f for _, f in sorted(drawn)], ncol=4)
    return st.save(fig, out_dir, "anchors_density")
