"""Report table of the peers (docs/guide/peers.md): every row of a peer library -- jaxsnn,
SpikingJelly, snnTorch, spyx, Norse (``spikebench.peers``) -- next to our row of the same case
on the same inputs, in the same run, place and thread count: our implementation of the neuron
it stands for (``peers.relation``) in the array library the peer runs on (PyTorch for
SpikingJelly, snnTorch, Norse; JAX for spyx, jaxsnn), as peer / ours time (> 1: ours is
faster). ``same_model`` says whether the peer computes our neuron (exact), ours after a stated
mapping (mapped) or a different model (relative: shown beside ours, never as the same
neuron). A peer row that ran but disagrees with its reference is listed without a ratio."""

from __future__ import annotations

TITLE = "Peers: the libraries people use, on the same cases"
NOTE = (
    "Median seconds per call in one run (train rows: seconds to the target test accuracy, "
    "each library training its own network on the same Yin-Yang split); peer_over_ours = "
    "peer time / our time on the same case and device (> 1: ours is faster), ours being our "
    "implementation of the neuron the peer stands for in the array library the peer runs "
    "on. same_model: exact (our neuron, checked against our reference), mapped (ours after "
    "the stated mapping, checked against its own equation), relative (a different model, "
    "checked against its own published equation). max_err: the peer's error against its "
    "reference (event LIF: the largest relative spike-time error; PSU family: the fraction "
    "of spike entries that differ away from the threshold; train: the fraction of test "
    "samples whose class its trained weights predict differently in our reference "
    "simulator). lif_agreement: the fraction of its spike entries equal to discrete LIF's "
    "on the same input."
)


def peer_table(df, host_params=None):
    """One row per ok peer row: its version, time, check, relation, and our time on the same
    case (same run, place, device kind and threads). `host_params`: family -> host-loop knobs,
    not matched."""
    import pandas as pd

    from .. import results, rows
    from ..hardware import frameworks
    from .devices import sizes_text

    is_peer = df["framework"].isin(rows.PEERS) if df is not None and len(df) else None
    if is_peer is None or not is_peer.any():
        return pd.DataFrame()
    from .. import peers  # registered rows.PEERS, so it is installed

    ours = results.usable(rows.own(df)).rows
    mine_all = ours if ours is not None else df.iloc[:0]
    out = []
    for _, r in df[is_peer & (df["status"] == "ok")].iterrows():
        rel = peers.relation(r["family"], r["impl"], r["framework"])
        correct = bool(r["correct"]) if pd.notna(r["correct"]) else False
        base = frameworks.base(r["framework"])
        host = (host_params or {}).get(r["family"], ())
        mask = rows.same_case(
            mine_all,
            r,
            ignore=("framework", "impl", *host),
            extra=("machine_id", "run_id", "device_kind", "threads"),
        )
        time_col = "time_median_s"
        if r["mode"] == "train":  # a training run of its own network: time to the same target
            time_col = "time_to_target_s"
            mask = rows.same(
                mine_all,
                r,
                ["family", "mode", "dataset", "target", "machine_id", "run_id", "device_kind"],
            )
        mine = mine_all[mask]
        if rel is not None:
            mine = mine[(mine["impl"] == rel.ours) & (mine["framework"] == base)]
        ours_s = (
            float(mine[time_col].median()) if len(mine) and mine[time_col].notna().any() else None
        )
        peer_s = r[time_col] if pd.notna(r[time_col]) else None
        out.append(
            {
                "family": r["family"],
                "impl": r["impl"],
                "peer": r["framework"],
                "version": r.get("framework_version"),
                "device": r["device_kind"],
                "dtype": r["dtype"],
                "sizes": sizes_text(r, df),
                "threads": r["threads"],
                "same_model": rel.relation if rel is not None else None,
                "peer_s": peer_s,
                "ours": f"{rel.ours} ({base})" if rel is not None else None,
                "ours_s": ours_s,
                "peer_over_ours": peer_s / ours_s if correct and ours_s and peer_s else None,
                "correct": correct,
                "max_err": r.get("max_err"),
                "lif_agreement": r.get("lif_agreement"),
                "reason": None if correct else r.get("error"),
            }
        )
    if not out:
        return pd.DataFrame()
    return (
        pd.DataFrame(out)
        .sort_values(["family", "impl", "peer", "dtype", "sizes", "threads"])
        .reset_index(drop=True)
    )
