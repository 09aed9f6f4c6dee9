"""Report table of the anchors (README "Anchors"): every anchor row -- the EventQueues authors'
queues (framework ``adseq``) and NEST (``nest``) -- next to spikebench's JAX and PyTorch (eager
and compiled) rows of the same case on the same inputs, in the same run and with the same
thread count, as ours / anchor time (< 1: spikebench is faster). Our rows must be usable (ok
and correct); an anchor row that ran but disagrees with the reference is listed with its
reason (e.g. adseq's heap) and no ratio, so a known difference is shown, never hidden."""

from __future__ import annotations

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
    for _, r in anchors.iterrows():
        correct = bool(r["correct"]) if pd.notna(r["correct"]) else False
        row = {
            "family": r["family"],
            "impl": r["impl"],
            "dtype": r["dtype"],
            "dataset": r["dataset"],
            "sizes": sizes_text(r, df),
            "threads": r["threads"],
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


# one density curve per configuration: the rate varies, nothing else
DENSITY_KEYS = ["n_neurons", "n_inputs", "batch", "threads"]


def density_label(n, n_in, b, threads) -> str:
    return (
        f"{int(n)} neuron{'s' * (n != 1)}, {int(n_in)} inputs, batch {int(b)}, "
        f"{int(threads)} thread{'s' * (threads != 1)}"
    )


def density_figure(table, out_dir):
    """Ours / NEST time against input events per simulated second (NEST's cost follows
    simulated time, ours events), a line per framework and layer width; None without NEST
    rows at two or more rates."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from .style import FRAMEWORK_NAME

    if table is None or table.empty:
        return None
    t = table[(table["anchor"] == "nest") & table["rate_hz"].notna()]
    if t["rate_hz"].nunique() < 2:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    drawn = False
    for fw in ("jax", "torch"):
        col = f"{fw}_over_anchor"
        if col not in t:
            continue
        for (n, n_in, b, th), g in t.groupby(DENSITY_KEYS):
            g = g.assign(r=pd.to_numeric(g[col], errors="coerce")).dropna(subset=["r"])
            g = g.groupby("rate_hz")["r"].median()
            if len(g) < 2:
                continue
            ax.plot(
                g.index,
                g.values,
                marker="o",
                label=f"{FRAMEWORK_NAME.get(fw, fw)}, {density_label(n, n_in, b, th)}",
            )
            drawn = True
    if not drawn:
        plt.close(fig)
        return None
    ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("input events per simulated second")
    ax.set_ylabel("our time / NEST's (< 1: ours faster)")
    ax.set_title("Event LIF against NEST across input density", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    path = out_dir / "anchors_density.svg"
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path
