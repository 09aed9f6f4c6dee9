#!/usr/bin/env bash
# Mutation testing of the suite's check code (README "Mutation testing"): mutmut 3 mutates
# validate.py, timing.py and the functions of the family adapters that decide a row's
# correctness, one change at a time, and runs the tests that cover each changed line; a
# mutant no test fails "survives".
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
only_mutate = ["spikebench/submission/validate.py", "spikebench/harness/timing.py",
               "spikebench/families/*", "spikebench/families/*/*"]
mutate_only_covered_lines = true
also_copy = ["results", "conftest.py"]
# JAX and PyTorch threads do not survive fork (mutmut forks per mutant): tests that run
# those kernels are left out, and so are the CLI routes that only repeat validate's checks
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-k",
    "not simultaneous_events and not test_submit and not test_merge and not test_report and not test_compare"]
pytest_add_cli_args_test_selection = [
    "tests/suite/test_timing.py",
    "tests/suite/test_checks_at_their_tolerance.py",
    "tests/suite/test_validate.py",
    "tests/suite/test_hostile_submissions.py",
    "tests/suite/test_event_lif_check.py",
    "tests/suite/test_psu_family.py::test_a_wrong_output_makes_the_row_incorrect",
    "tests/suite/test_psu_family.py::test_a_wrong_gradient_makes_the_row_incorrect",
    "tests/suite/test_psu_family.py::test_network_rows_are_checked_by_teacher_forcing",
]
TOML
cd "$stage"
# the check code: all of validate and timing; in the family adapters the functions that decide
# a row's correctness (check, _check_*, _spike_check, _match, _rates, _agree, rel_err)
# (validate's _schema, the declarative table of column checks, by default not: its ~270
# mutants take an hour; MUTATE_SCHEMA=1 adds them)
fns=(_read read_csv _duplicates _names _formulas _known _schema_errors _rows _samples _curve
     _work _same _context validate _where _line _missing "Report*")
checks=("spikebench.harness.timing.*" "spikebench.families.*check*"
        "spikebench.families.*_match__*" "spikebench.families.*_rates__*"
        "spikebench.families.*_agree__*" "spikebench.families._base.x_rel_err__*")
for f in "${fns[@]}"; do checks+=("spikebench.submission.validate.x*${f}__mutmut_*"); done
if [[ -n "${MUTATE_SCHEMA:-}" ]]; then checks+=("spikebench.submission.validate.x__schema__mutmut_*"); fi
"$py" -m mutmut run --max-children "${MUTMUT_CHILDREN:-2}" "${checks[@]}" || true
"$py" -m mutmut results
