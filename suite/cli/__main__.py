"""`python -m spikebench.cli`: the `spikebench` console script."""

from . import app

app(prog_name="spikebench")
