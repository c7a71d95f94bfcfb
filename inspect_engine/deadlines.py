"""Rectification deadlines: a rule's deadline kind turned into a date.

The only module that imports ``chinese_calendar`` (the ``chinesecalendar`` package, which follows
the State Council's yearly holiday notices, make-up workdays (调休) included). Kinds:

* ``immediately`` - the inspection date itself;
* ``calendar_days`` N - N days after the inspection date;
* ``working_days`` N - the N-th working day after the inspection date on the official calendar
  (the inspection date itself never counts; weekends count when they are make-up workdays,
  weekdays do not when they are holidays);
* ``phase_end`` - the last day of the named campaign phase; an inspection after that day gets
  the inspection date (a deadline never precedes the inspection that set it).

A date the calendar package has no data for gives an :class:`~inspect_engine.errors.InputError`
that names the date and the years it knows.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar

from inspect_engine.errors import InputError
from inspect_engine.rulepack import (
    CalendarDays,
    DeadlineRule,
    Immediately,
    PhaseEnd,
    RulePack,
    WorkingDays,
)


def calendar_years() -> tuple[int, int]:
    """First and last year the installed calendar package has official data for."""
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


def is_workday(day: dt.date) -> bool:
    """Whether ``day`` is a working day on the official calendar (make-up workdays included)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        first, last = calendar_years()
        raise InputError(
            f"no official working-day calendar for {day.isoformat()}: the installed calendar "
            f"(chinesecalendar) covers {first}–{last}",
            hint="update the chinesecalendar package, or use a date inside those years",
        ) from None


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The ``days``-th working day after ``start`` (``start`` itself does not count)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    day = start
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_workday(day):
            counted += 1
    return day


def deadline(rule: DeadlineRule, on: dt.date, pack: RulePack) -> dt.date:
    """The date by which a finding raised on ``on`` must be rectified."""
    if isinstance(rule, Immediately):
        return on
    if isinstance(rule, CalendarDays):
        return on + dt.timedelta(days=rule.days)
    if isinstance(rule, WorkingDays):
        return add_working_days(on, rule.days)
    assert isinstance(rule, PhaseEnd)
    return max(pack.phase(rule.phase).end, on)


def describe(rule: DeadlineRule) -> str:
    """How the date is reached, in English: ``immediately``, ``15 calendar days``,
    ``5 working days``, ``end of phase rectify``."""
    if isinstance(rule, Immediately):
        return "immediately"
    if isinstance(rule, CalendarDays):
        return f"{rule.days} calendar days"
    if isinstance(rule, WorkingDays):
        return f"{rule.days} working days"
    assert isinstance(rule, PhaseEnd)
    return f"end of phase {rule.phase}"


def describe_zh(rule: DeadlineRule, pack: RulePack) -> str:
    """The same in Chinese, for people: 立即 / 15个自然日 / 5个工作日 / 「立即整改」阶段结束."""
    if isinstance(rule, Immediately):
        return "立即"
    if isinstance(rule, CalendarDays):
        return f"{rule.days}个自然日"
    if isinstance(rule, WorkingDays):
        return f"{rule.days}个工作日"
    assert isinstance(rule, PhaseEnd)
    return f"「{pack.phase(rule.phase).name.zh}」阶段结束"
