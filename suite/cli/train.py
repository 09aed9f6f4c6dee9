"""`spikebench train`: a family's training task to a target accuracy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ._app import _out, app, console


def _tasks() -> dict:
    """Every family's training task by its --task name (``Family.task``; plugins' too)."""
    from .. import families

    return {f.task.name: f.task for f in families.FAMILIES.values() if f.task is not None}


@app.command()
def train(
    task: Annotated[
        str,
        typer.Option(
            help="a family's training task: digits (the PSU family on scikit-learn's 8x8 digits), "
            "yinyang (the exact LIF network, serial and parallel), delays (the queue network "
            "with learned delays on the timing classes), or a plugin's"
        ),
    ] = "digits",
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--impl",
            "--kind",
            help="what to train: digits: lif, psu, ipsu, rpsu; yinyang: serial, parallel; "
            "delays: queue capacities (default: all)",
        ),
    ] = None,
    framework: Annotated[list[str] | None, typer.Option(help="jax, torch (default: both)")] = None,
    epochs: Annotated[
        int | None, typer.Option(help="training epochs (default: digits 10, yinyang 20, delays 6)")
    ] = None,
    batch: Annotated[
        int | None, typer.Option(help="samples a step (default: digits 64, yinyang 50, delays 32)")
    ] = None,
    lr: Annotated[
        float | None, typer.Option(help="Adam's learning rate (default: the task's)")
    ] = None,
    target: Annotated[float, typer.Option(help="test accuracy to reach, in (0, 1]")] = 0.85,
    seed: Annotated[int, typer.Option(help="initial weights, batch order and split")] = 0,
    json_out: Annotated[
        Path | None,
        typer.Option(
            "--json", help="write every run (settings, time to target, raw curve) as JSON here"
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="check the settings, list the runs and stop")
    ] = False,
):
    """Train to a target test accuracy: time to target, final accuracy and firing rate per
    implementation and framework (docs: Training to accuracy)."""
    import json

    from .. import training

    _out(json_out, "--json", "file")
    tasks = _tasks()
    if task not in tasks:
        raise typer.BadParameter(f"{task} not in {', '.join(sorted(tasks))}", param_hint="--task")
    spec = tasks[task]
    known, defaults = spec.impls, spec.defaults
    kinds = kind or list(known)
    fws = framework or list(training.FRAMEWORKS)
    for name, got, allowed in (("--impl", kinds, known), ("--framework", fws, training.FRAMEWORKS)):
        bad = sorted(set(got) - set(allowed))
        if bad:
            raise typer.BadParameter(
                f"{', '.join(bad)} not in {', '.join(allowed)}", param_hint=name
            )
    try:
        config = training.TrainConfig(
            epochs=defaults[0] if epochs is None else epochs,
            batch=defaults[1] if batch is None else batch,
            lr=defaults[2] if lr is None else lr,
            target=target,
            seed=seed,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if dry_run:
        for k in kinds:
            for fw in fws:
                console.print(f"{task}/{k} in {fw}: {config}", markup=False, highlight=False)
        console.print(f"{len(kinds) * len(fws)} runs")
        return
    data = spec.inputs(seed)
    extra = list(spec.extra_columns)
    cols = [
        "impl",
        "framework",
        "epochs to target",
        "time to target",
        "final accuracy",
        "firing rate",
        *(c.replace("_", " ") for c in extra),
        "time / epoch",
        "compile",
    ]
    table = Table(*cols, box=None)
    runs = []
    for k in kinds:
        for fw in fws:
            console.print(f"training {escape(task)}/{escape(k)} in {fw} ...")
            r = spec.run(k, fw, config, data)
            runs.append(r.to_dict())
            per_epoch = r.curve[-1]["time_s"] / len(r.curve)
            table.add_row(
                k,
                fw,
                "-" if r.epochs_to_target is None else str(r.epochs_to_target),
                "-" if r.time_to_target_s is None else f"{r.time_to_target_s:.2f} s",
                f"{r.final_accuracy:.3f}",
                f"{r.firing_rate:.3f}",
                *(f"{r.curve[-1][c]:.3f}" for c in extra),
                f"{per_epoch:.3f} s",
                f"{r.compile_s:.2f} s",
            )
            if r.reason:
                console.print(f"  {escape(r.reason)}")
    Console(width=max(console.width, 120)).print(table)
    if json_out is not None:
        json_out.write_text(json.dumps(runs, indent=1, default=str))
        console.print(f"saved: {json_out}")
