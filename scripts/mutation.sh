#!/usr/bin/env bash
# Mutation testing of the suite's check code (README "Mutation testing"): mutmut 3 mutates
# validate.py, timing.py and the families' correctness checks one change at a time and runs
# the tests that cover each changed line; a mutant no test fails "survives".
#
# mutmut runs the tests against a copy of the package under mutants/, found first on
# sys.path; the repository keeps the package's folders under other names (suite/ is
# spikebench/), so the copy is staged in the installed layout first, in build/mutation/.
#
#   scripts/mutation.sh            # run (about 20-40 minutes on 2 cores), then list results
#   scripts/mutation.sh results    # list the surviving mutants of the last run again
#   scripts/mutation.sh show NAME  # the diff of one mutant
#
# Needs the dev install (pip install -e ".[jax,torch,dev]") and mutmut==3.8.1.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
stage="$here/build/mutation"
py="${PYTHON:-python}"
if [[ "${1:-run}" != "run" ]]; then
    cd "$stage" && exec "$py" -m mutmut "$@"
fi
rm -rf "$stage"
mkdir -p "$stage/spikebench" "$stage/results"
cp -r "$here"/suite/. "$stage/spikebench/"
cp -r "$here/kernels" "$stage/spikebench/kernels"
cp -r "$here/datasets" "$stage/spikebench/datasets"
cp -r "$here/tests" "$here/conftest.py" "$stage/"
cp -r "$here/results/amd-epyc-0a7c9cdf" "$stage/results/"
find "$stage" -name __pycache__ -prune -exec rm -rf {} +
# pytest's settings, then mutmut's: what to mutate and which tests cover it
sed -n '/^\[tool.pytest.ini_options\]/,/^\[/p' "$here/pyproject.toml" | sed '$d' > "$stage/pyproject.toml"
cat >> "$stage/pyproject.toml" <<'TOML'

[tool.mutmut]
source_paths = ["spikebench"]
only_mutate = ["spikebench/validate.py", "spikebench/timing.py", "spikebench/families/*"]
mutate_only_covered_lines = true
also_copy = ["results", "conftest.py"]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-p", "no:randomly", "-q"]
pytest_add_cli_args_test_selection = [
    "tests/suite/test_timing.py",
    "tests/suite/test_checks_at_their_tolerance.py",
    "tests/suite/test_validate.py",
    "tests/suite/test_hostile_submissions.py",
    "tests/suite/test_event_lif_check.py",
    "tests/suite/test_psu_family.py::test_a_wrong_output_makes_the_row_incorrect",
    "tests/suite/test_psu_family.py::test_a_wrong_gradient_makes_the_row_incorrect",
    "tests/suite/test_psu_family.py::test_network_rows_are_checked_by_teacher_forcing",
    "tests/suite/test_queues_family.py::test_lost_events_and_wrong_payloads_make_the_row_incorrect",
]
TOML
cd "$stage"
"$py" -m mutmut run --max-children "${MUTMUT_CHILDREN:-2}" || true
"$py" -m mutmut results
