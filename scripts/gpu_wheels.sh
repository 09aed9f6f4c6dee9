#!/usr/bin/env bash
# Fill DIR with the wheels scripts/gpu_smoke.sh installs on an offline accelerator machine:
# the pure-Python dependencies a CUDA image usually lacks (pandera and what it needs, pydantic,
# adseq for the anchor rows, seaborn and py-cpuinfo2), for the Python version given (default: this one's).
#
#   scripts/gpu_wheels.sh DIR [PYTHON_VERSION e.g. 3.11]
set -euo pipefail
dir=${1:?usage: scripts/gpu_wheels.sh DIR [PYTHON_VERSION]}
pyver=${2:-$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')}
mkdir -p "$dir"
# pandera resolved with its dependencies (all pure Python but pydantic-core, for which the
# manylinux wheel of that Python is fetched; pandera's core needs neither numpy nor pandas);
# adseq without its dependencies: JAX stays the machine's own CUDA build
plat=(--only-binary=:all: --python-version "$pyver" --platform manylinux2014_x86_64
      --platform manylinux_2_17_x86_64)
python3 -m pip download --quiet --dest "$dir" "${plat[@]}" pandera
python3 -m pip download --quiet --dest "$dir" "${plat[@]}" --no-deps "adseq==0.9.4"
# the report's plotting layer and the machine facts (pure Python; numpy, pandas and
# matplotlib stay the machine's)
python3 -m pip download --quiet --dest "$dir" "${plat[@]}" --no-deps "seaborn>=0.13" \
    "py-cpuinfo2>=10.1"
ls "$dir"
