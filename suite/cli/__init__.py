"""The `spikebench` console script, one module per command (like asv's ``commands/``):
``devices``, ``run``, ``report``, ``compare``, ``validate``, ``submit`` (and ``merge``),
``train``, ``datasets``; ``summary`` prints a sweep's terminal summary (``pytest --benchmark``
uses it too) and ``_app`` holds the Typer app and the option helpers."""

from __future__ import annotations

from . import compare, datasets, devices, report, run, submit, train, validate  # noqa: F401
from ._app import app, console
from .run import default_devices, default_profile, render_report
from .summary import print_summary

__all__ = ["app", "console", "default_devices", "default_profile", "print_summary", "render_report"]

if __name__ == "__main__":
    app()
