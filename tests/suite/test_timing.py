"""The timer's stopping rules, statistics and noise flag, with a fake clock: each rule is
pinned at its boundary, so a loosened or shifted rule fails here (the mutation run, README
"Mutation testing", uses these)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from spikebench.harness import timing


@pytest.fixture
def clock(monkeypatch):
    """perf_counter advancing by the next of `steps` on each timed call (read twice a call)."""
    state = {"now": 0.0, "steps": [], "reads": 0}

    def perf_counter():
        state["reads"] += 1
        if state["reads"] % 2 == 0:  # the read after the call: the call took steps[0]
            state["now"] += state["steps"].pop(0)
        return state["now"]

    monkeypatch.setattr(timing.time, "perf_counter", perf_counter)
    return state


def _run(clock, steps, **kw):
    clock["steps"] = list(steps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return timing.time_calls(lambda: None, lambda out: out, warmup=0, **kw)


def test_min_rounds_come_first_even_past_min_time(clock):
    m = _run(clock, [1.0] * 10, min_rounds=4, max_rounds=10, min_time=0.5)
    assert m.samples == [1.0] * 4


def test_it_stops_as_soon_as_the_samples_reach_min_time(clock):
    m = _run(clock, [0.1] * 20, min_rounds=1, max_rounds=20, min_time=0.45, max_time=100.0)
    assert m.rounds == 5  # 0.5 >= 0.45; 0.4 is not
    m = _run(clock, [0.25] * 20, min_rounds=1, max_rounds=20, min_time=0.5, max_time=100.0)
    assert m.rounds == 2  # exactly min_time is enough


def test_max_rounds_and_max_time_cap_it(clock):
    assert _run(clock, [0.01] * 30, min_rounds=1, max_rounds=7, min_time=10.0).rounds == 7
    m = _run(clock, [0.25] * 30, min_rounds=2, max_rounds=30, min_time=100.0, max_time=0.75)
    assert m.rounds == 3  # 0.75 >= max_time


def test_min_rounds_must_be_positive_and_warmup_is_untimed(clock):
    with pytest.raises(ValueError, match="min_rounds must be >= 1, got 0"):
        timing.time_calls(lambda: None, lambda o: o, min_rounds=0)
    calls = []
    clock["steps"] = [0.5] * 3
    m = timing.time_calls(
        lambda: calls.append(1), lambda o: o, min_rounds=3, max_rounds=3, min_time=0.0, warmup=2
    )
    assert len(calls) == 5 and m.samples == [0.5] * 3


def test_median_iqr_min_of_the_raw_samples():
    m = timing.Measurement([4.0, 1.0, 3.0, 2.0, 10.0])
    assert (m.rounds, m.median, m.min) == (5, 3.0, 1.0)
    assert m.iqr == pytest.approx(2.0)  # q3 4 - q1 2


def test_the_noise_flag_at_its_threshold():
    assert not timing.noisy(1.0, timing.NOISY)
    assert timing.noisy(1.0, timing.NOISY * 1.01)
    assert timing.NOISY == 0.1
    for median, iqr in (
        (0.0, 1.0),
        (-1.0, 1.0),
        (1.0, float("nan")),
        (None, 0.5),
        ("x", 0.5),
        (1.0, float("inf")),
    ):
        assert not timing.noisy(median, iqr), (median, iqr)


def test_a_noisy_measurement_warns_and_a_steady_one_does_not(clock):
    clock["steps"] = [1.0, 1.0, 2.0]
    with pytest.warns(UserWarning, match=r"noisy measurement: IQR/median = 0.50"):
        timing.time_calls(lambda: None, lambda o: o, min_rounds=3, max_rounds=3, warmup=0)
    clock["steps"] = [1.0] * 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        timing.time_calls(lambda: None, lambda o: o, min_rounds=3, max_rounds=3, warmup=0)
    clock["steps"] = [1.0, 5.0]  # two rounds: no IQR worth flagging
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        timing.time_calls(lambda: None, lambda o: o, min_rounds=2, max_rounds=2, warmup=0)


def test_the_defaults_are_the_documented_ones():
    assert timing.DEFAULTS == {
        "min_rounds": 3,
        "max_rounds": 50,
        "min_time": 0.2,
        "max_time": 20.0,
        "warmup": 1,
    }


def test_noisy_is_a_ratio_not_a_product():
    assert not timing.noisy(10.0, 0.5)  # 5 % of the median
    assert timing.noisy(0.5, 0.1)  # 20 %


def test_the_warning_names_the_ratio_and_the_callers_line(clock):
    clock["steps"] = [2.0, 2.0, 4.0]  # median 2, IQR 1
    with pytest.warns(UserWarning, match=r"IQR/median = 0.50") as rec:
        timing.time_calls(lambda: None, lambda o: o, min_rounds=3, max_rounds=3, warmup=0)
    # stacklevel: the caller's line, not timing.py's (mutmut's trampoline may stand between)
    assert Path(rec[0].filename).name != "timing.py"
