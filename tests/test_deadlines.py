"""Deadlines: immediately, calendar days, working days on the official calendar (with the 2020
National Day holiday and its make-up workdays), end of a campaign phase; clear errors outside
the calendar's years."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspect_engine.deadlines import (
    add_working_days,
    calendar_years,
    deadline,
    describe,
    describe_zh,
    is_workday,
)
from inspect_engine.errors import InputError
from inspect_engine.rulepack import (
    CalendarDays,
    DeadlineRule,
    Immediately,
    PhaseEnd,
    RulePack,
    WorkingDays,
)

D = dt.date


def test_2020_national_day_holiday_and_make_up_workdays() -> None:
    """Oct 1–8 2020 are holidays; Sunday Sep 27 and Saturday Oct 10 are make-up workdays."""
    assert is_workday(D(2020, 9, 27)) and is_workday(D(2020, 10, 10))
    assert not any(is_workday(D(2020, 10, day)) for day in range(1, 9))
    assert not is_workday(D(2020, 9, 26)) and is_workday(D(2020, 10, 9))


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (D(2020, 9, 25), 5, D(2020, 10, 9)),  # Sun 27 counts, Oct 1–8 do not
        (D(2020, 9, 30), 2, D(2020, 10, 10)),  # Oct 9, then Saturday Oct 10 (make-up)
        (D(2020, 9, 26), 1, D(2020, 9, 27)),  # Saturday → Sunday make-up workday
        (D(2020, 10, 1), 1, D(2020, 10, 9)),
        (D(2020, 10, 10), 1, D(2020, 10, 12)),  # Sat make-up day → Mon, skipping Sun 11
        (D(2020, 9, 14), 5, D(2020, 9, 21)),  # an ordinary week
    ],
)
def test_working_days_count_forward_on_the_official_calendar(
    start: dt.date, days: int, due: dt.date
) -> None:
    """The N-th working day after the inspection date (which itself never counts)."""
    assert add_working_days(start, days) == due


def test_each_deadline_kind(mini_pack: RulePack) -> None:
    """immediately = the inspection date; N calendar days later; N working days; phase end (the
    inspection date once the phase is over)."""
    on = D(2020, 9, 25)
    assert deadline(Immediately(kind="immediately"), on, mini_pack) == on
    assert deadline(CalendarDays(kind="calendar_days", days=15), on, mini_pack) == D(2020, 10, 10)
    assert deadline(WorkingDays(kind="working_days", days=5), on, mini_pack) == D(2020, 10, 9)
    phase = PhaseEnd(kind="phase_end", phase="rectify")
    assert deadline(phase, on, mini_pack) == D(2020, 10, 31)
    assert deadline(phase, D(2020, 11, 5), mini_pack) == D(2020, 11, 5)


def test_descriptions(mini_pack: RulePack) -> None:
    """English for the finding's deadline_rule, Chinese for people."""
    kinds: list[DeadlineRule] = [
        Immediately(kind="immediately"),
        CalendarDays(kind="calendar_days", days=15),
        WorkingDays(kind="working_days", days=5),
        PhaseEnd(kind="phase_end", phase="rectify"),
    ]
    assert [describe(k) for k in kinds] == [
        "immediately",
        "15 calendar days",
        "5 working days",
        "end of phase rectify",
    ]
    assert [describe_zh(k, mini_pack) for k in kinds] == [
        "立即",
        "15个自然日",
        "5个工作日",
        "「立即整改」阶段结束",
    ]


def test_a_date_outside_the_calendar_is_a_clear_input_error(mini_pack: RulePack) -> None:
    """Working days past the calendar's last year: an InputError naming the date and the years
    known, not a NotImplementedError from the package."""
    first, last = calendar_years()
    assert first <= 2020 <= last
    with pytest.raises(InputError) as info:
        deadline(WorkingDays(kind="working_days", days=3), D(last + 3, 6, 1), mini_pack)
    assert f"{last + 3}-06-02" in info.value.message
    assert f"{first}–{last}" in info.value.message
    with pytest.raises(InputError, match="no official working-day calendar"):
        is_workday(D(first - 1, 12, 31))
    assert deadline(CalendarDays(kind="calendar_days", days=3), D(last + 3, 6, 1), mini_pack)


@given(start=st.dates(D(2005, 1, 1), D(2025, 6, 30)), days=st.integers(1, 60))
def test_working_day_count_is_exact(start: dt.date, days: int) -> None:
    """The due date is a working day, and exactly N working days lie in (start, due]."""
    due = add_working_days(start, days)
    assert due > start and is_workday(due)
    span = [start + dt.timedelta(days=i) for i in range(1, (due - start).days + 1)]
    assert sum(is_workday(d) for d in span) == days
