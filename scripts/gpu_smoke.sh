#!/usr/bin/env bash
# The prepared accelerator run (README "A prepared GPU run"): the headline configurations of
# every family on one GPU -- the Bullet Trains anchor (SHD-shaped input, 2 layers of 512, batch
# 128, K = 128; serial vs parallel, JAX and PyTorch), the queues' benchmark (b) at 10,000 and
# 900,000 queues (ours and adseq) and the PSU family's training step at T = 15 on its SHD
# network -- within about 8 minutes.
#
#   scripts/gpu_smoke.sh OUT_DIR [WHEEL_DIR] [extra `spikebench run` options, e.g. --dry-run]
#
# Needs a Python with CUDA builds of JAX and PyTorch and numpy, pandas, matplotlib, typer,
# rich, psutil, scipy, pytest, pytest-benchmark. No network: any other pure-Python dependency
# (pandera and what it needs; adseq for the anchor rows) is installed from WHEEL_DIR, which
# `scripts/gpu_wheels.sh DIR` fills on a machine with the registries. spikebench itself is not
# installed: it runs from this checkout through a symlinked package tree. Results go to
# OUT_DIR/results/<machine>/<utc>-<commit>.csv (+ .json), the report to OUT_DIR/reports.
set -euo pipefail
out=${1:?usage: scripts/gpu_smoke.sh OUT_DIR [WHEEL_DIR] [spikebench run options]}
wheels=${2:-}
shift $(( $# >= 2 ? 2 : 1 ))
here=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ -n "$wheels" ] && [ "$wheels" != "-" ]; then
    # every wheel in the folder, offline and without dependencies (the machine's numpy, pandas,
    # JAX and PyTorch stay as they are)
    "$python" -m pip install --quiet --no-index --no-deps "$wheels"/*.whl
fi

# the package layout of pyproject.toml (spikebench = suite/, kernels/, datasets/) as symlinks
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/spikebench"
for f in "$here"/suite/*; do ln -s "$f" "$tree/spikebench/"; done
ln -s "$here/kernels" "$tree/spikebench/kernels"
ln -s "$here/datasets" "$tree/spikebench/datasets"

cd "$out"
PYTHONPATH="$tree${PYTHONPATH:+:$PYTHONPATH}" "$python" -c \
    'import sys; from spikebench.cli import app; sys.argv[0] = "spikebench"; app()' \
    run --profile gpu-smoke --out "$out/results" --report-dir "$out/reports" "$@"
