"""Report pieces for the train rows of every family (README "Training to accuracy"): the
time-to-accuracy table, the learning curves (test accuracy against wall time, one panel per
place), the queues' accuracy against drop rate and the PSU family's accuracy against the
LIF / unit time ratio. Every figure comes from the rows' own columns and raw curves."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import results, rows

COLS = {
    "family": "family",
    "impl": "impl",
    "param_capacity": "capacity",
    "framework": "framework",
    "device_kind": "device",
    "target": "target",
    "epochs_to_target": "epochs to target",
    "time_to_target_s": "time to target (s)",
    "accuracy": "final accuracy",
    "spike_rate": "firing rate",
    "drop_rate": "drop rate",
    "time_median_s": "time / epoch (s)",
    "param_epochs": "epochs",
    "correct": "within the band of the reference",
}


def train_rows(df, family: str | None = None) -> pd.DataFrame:
    """The ok train rows (of `family`)."""
    if df is None or df.empty or "mode" not in df or "curve_accuracy" not in df:
        return pd.DataFrame()
    keep = (df["mode"] == "train") & (df["status"] == "ok")
    if family is not None:
        keep &= df["family"] == family
    return df[keep]


def place(r) -> str:
    """The row's place label (a report of several places has already put it in
    device_kind: it is not spelled twice)."""
    kind = str(r.get("device_kind", ""))
    return kind if str(r.get("machine_id", "")) in kind else rows.place_of(r)


def _label(r) -> str:
    cap = r.get("param_capacity")
    return (
        f"{r['impl']} cap {int(cap)}"
        if r["family"] == "queues" and pd.notna(cap)
        else str(r["impl"])
    )


def table(df, family: str | None = None, impl_label: str = "impl") -> pd.DataFrame:
    """Time to the target test accuracy per implementation (named `impl_label`: the family's
    ``Task.impl_label``), framework and place (the columns that apply: capacity and drop rate
    for the queues, firing rate where it is a fraction)."""
    rows = train_rows(df, family)
    if rows.empty:
        return pd.DataFrame()
    out = rows[[c for c in COLS if c in rows and rows[c].notna().any()]]
    out = out.rename(columns=COLS)
    if family is not None:
        out = out.drop(columns="family").rename(columns={"impl": impl_label})
    return out.sort_values(list(out.columns[:2])).reset_index(drop=True)


def curves(df, family: str | None = None) -> pd.DataFrame:
    """The learning curves, long: one row per (run, evaluation) with the wall time at the
    evaluation (the running sum of the epochs' times) and the test accuracy."""
    out = []
    for _, r in train_rows(df, family).iterrows():
        try:
            times, acc = results.learning_curve(r)
        except ValueError:
            continue
        if len(acc) != len(times):
            continue
        out += [
            {
                "family": r["family"],
                "impl": _label(r),
                "framework": r["framework"],
                "place": place(r),
                "epoch": i + 1,
                "time_s": t,
                "accuracy": a,
                "target": r["target"],
            }
            for i, (t, a) in enumerate(zip(times, acc, strict=True))
        ]
    return pd.DataFrame(out)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, out_dir: Path, stem: str) -> list[Path]:
    """``report_style.save``: plain ticks, the layout check, PNG + SVG."""
    from . import style as report_style

    return report_style.save(fig, out_dir, stem)


def per_place(frame, out_dir: Path, stem: str, width: float, draw) -> list[Path]:
    """One panel per place of `frame` (``draw(ax, its rows, place)``), its legend to its
    right, then ``save``."""
    plt = _pyplot()
    places = sorted(frame["place"].unique())
    fig, axes = plt.subplots(1, len(places), figsize=(width * len(places), 4.5), squeeze=False)
    for ax, place in zip(axes[0], places, strict=True):
        draw(ax, frame[frame["place"] == place], place)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    return save(fig, out_dir, stem)


def plot_curves(df, out_dir: Path, family: str, title: str, stem: str | None = None) -> list[Path]:
    """Test accuracy against wall time, one panel per place, a colour per implementation and
    a line style per framework (the target dotted); `title`: the family's task."""
    from . import style as st

    c = curves(df, family)
    if c.empty:
        return []

    def draw(ax, part, place):
        for (impl, fw), g in part.groupby(["impl", "framework"]):
            ax.plot(
                g["time_s"],
                g["accuracy"],
                color=st.color(impl),
                marker=st.MARKER.get(fw, "."),
                ms=4,
                ls=st.DASH.get(fw, ":"),
                label=f"{impl} ({st.FRAMEWORK_NAME.get(fw, fw)})",
            )
        for t in part["target"].unique():
            ax.axhline(t, color="k", lw=0.8, ls=":")
        st.time_axis(ax, "x")
        ax.set_xlabel("wall time since the start of training (s)")
        ax.set_ylabel("test accuracy")
        ax.set_title(f"{title}: test accuracy against time, {place}")

    return per_place(c, out_dir, stem or f"{family}_training", 7, draw)


def index_table(df, tasks: dict[str, str]) -> pd.DataFrame:
    """The index page's time-to-accuracy lines: per family, task (`tasks`: family -> the
    title of its task), implementation, framework and place, the target, whether and when it
    was reached, and the final accuracy."""
    rows = train_rows(df)
    if rows.empty:
        return pd.DataFrame()
    out = pd.DataFrame(
        {
            "family": rows["family"],
            "task": rows["family"].map(tasks),
            "impl": rows.apply(_label, axis=1),
            "framework": rows["framework"],
            "place": rows.apply(place, axis=1),
            "target": rows["target"],
            "time to target (s)": rows["time_to_target_s"],
            "epochs to target": rows["epochs_to_target"],
            "final accuracy": rows["accuracy"],
        }
    )
    return out.sort_values(["family", "impl", "framework", "place"]).reset_index(drop=True)


INDEX_TITLE = "Training to accuracy: time to the target test accuracy"
INDEX_NOTE = (
    "Usable train rows only (final accuracy within the band of the float64 "
    "reference); an empty time to target: the target was not reached (the row's "
    "error says why). Learning curves on each family's page."
)
