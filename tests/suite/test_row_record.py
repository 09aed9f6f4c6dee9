"""The typed row record: ``results.Row`` has exactly the schema's columns, and ``new_row`` --
the one place a row is built (the runner calls it for every case) -- refuses a column outside
the schema or an unknown status, naming it."""

from __future__ import annotations

import typing

import pytest
from spikebench import results


def test_the_row_record_is_the_schema():
    assert list(typing.get_type_hints(results.Row)) == results.COLUMNS


def test_new_row_checks_columns_and_status():
    row = results.new_row({"status": "ok", "family": "psu", "time_median_s": 0.5})
    assert row == {"status": "ok", "family": "psu", "time_median_s": 0.5}
    with pytest.raises(ValueError, match=r"outside schema v\d+: \['speedup'\]"):
        results.new_row({"status": "ok", "speedup": 44})
    with pytest.raises(ValueError, match="status 'fast' is not one of"):
        results.new_row({"status": "fast"})
