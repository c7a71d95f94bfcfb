"""Report weeks and cut-offs: which events a Friday report counts, and which week a time is in.

The city's rhythm (阳政办发〔2020〕99号 五(四), and both packs' ``reporting``): every Friday by
12:00 each supervision group reports its counties' progress. A report can only count what was on
record before it was written, so the **cut-off** of a week's report is Thursday 24:00 China
Standard Time, that is Friday 00:00:00+08:00.

* An event belongs to a report when its time is **at or before** the cut-off
  (:func:`inspect_engine.asof.as_of` keeps ``at <= cutoff``). An event stamped exactly Friday
  00:00:00 is Thursday 24:00: it is in that Friday's report, not the next one.
* **This week** of a report is the half-open interval ``(previous cut-off, cut-off]``: from
  Friday 00:00 (exclusive) a week earlier to this Friday 00:00 (inclusive), i.e. last Friday to
  Thursday, both whole days.
* ``--week DATE`` names the calendar week (Monday to Sunday) holding DATE; its report is the one
  due on that week's Friday. ``--cutoff TIME`` sets the cut-off directly; the week is then the
  seven days before it.
* Overdue is judged on the cut-off's **date** in China time (a Friday for the default cut-off):
  a hazard due on Thursday and not 销号 by Thursday 24:00 is overdue in Friday's report, as
  ``Ledger.status_counts(as_of=…)`` judges it.

:func:`weeks_between` lists the report weeks from a campaign's start to a cut-off; the weekly
series (found vs rectified per week) is bucketed by :meth:`WeekGrid.index`.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from inspect_engine.asof import CHINA_TIME_TEXT, all_in_devices_shape, china_time_text
from inspect_engine.clock import CHINA
from inspect_engine.events import parse_time

REPORT_WEEKDAY = 4
"""Friday (``date.weekday()``), the reporting day: 99号 五(四), both packs' ``reporting``."""

DUE_TIME = dt.time(12, 0)
"""The report is due at 12:00 on the reporting day."""

WEEK = dt.timedelta(days=7)


@dataclass(frozen=True, slots=True)
class ReportWeek:
    """One report: its cut-off, the week it covers and the date overdue is judged on."""

    cutoff: dt.datetime
    """Aware; events at or before it count."""

    @property
    def previous(self) -> dt.datetime:
        """The previous report's cut-off: this week is ``(previous, cutoff]``."""
        return self.cutoff - WEEK

    @property
    def today(self) -> dt.date:
        """The date overdue is judged on: the cut-off's date in China time."""
        return self.cutoff.astimezone(CHINA).date()

    @property
    def first_day(self) -> dt.date:
        """The first whole day of the week (a Friday for the default cut-off)."""
        return self.previous.astimezone(CHINA).date()

    @property
    def last_day(self) -> dt.date:
        """The last whole day of the week (a Thursday for the default cut-off)."""
        return (self.cutoff.astimezone(CHINA) - dt.timedelta(microseconds=1)).date()

    @property
    def due(self) -> dt.datetime:
        """When the report is due: 12:00 on the day after the last counted day."""
        return dt.datetime.combine(self.last_day + dt.timedelta(days=1), DUE_TIME, tzinfo=CHINA)

    def before(self) -> ReportWeek:
        """Last week's report."""
        return ReportWeek(self.previous)

    def contains(self, at: dt.datetime) -> bool:
        """Whether ``at`` is in this week: ``previous < at <= cutoff``."""
        return self.previous < at <= self.cutoff

    def period_zh(self) -> str:
        """``2020年9月18日0时至9月24日24时`` (the statistical period, as a report states it)."""
        a, b = self.first_day, self.last_day
        end = f"{b.month}月{b.day}日" if a.year == b.year else f"{b.year}年{b.month}月{b.day}日"
        start_at = self.previous.astimezone(CHINA)
        end_at = self.cutoff.astimezone(CHINA)
        if start_at.time() == dt.time(0) and end_at.time() == dt.time(0):
            return f"{a.year}年{a.month}月{a.day}日0时至{end}24时"
        return f"{start_at:%Y-%m-%d %H:%M}（不含）至{end_at:%Y-%m-%d %H:%M}"


def week_containing(day: dt.date) -> ReportWeek:
    """The report of the calendar week (Monday to Sunday) holding ``day``: cut-off that week's
    Friday 00:00 China time (Thursday 24:00)."""
    friday = day - dt.timedelta(days=day.weekday()) + dt.timedelta(days=REPORT_WEEKDAY)
    return ReportWeek(dt.datetime.combine(friday, dt.time(0), tzinfo=CHINA))


def latest_report(now: dt.datetime) -> ReportWeek:
    """The most recent report whose cut-off has passed at ``now`` (the one due this Friday if
    it is Friday or later, else last Friday's)."""
    week = week_containing(now.astimezone(CHINA).date())
    return week if week.cutoff <= now else week.before()


def weeks_between(first_day: dt.date, last: ReportWeek) -> list[ReportWeek]:
    """The report weeks from the one that counts ``first_day`` up to ``last``, oldest first.

    With the default cut-offs these are consecutive; ``last`` may carry any cut-off (``--cutoff``)
    and the earlier ones step back from it by whole weeks.
    """
    start = dt.datetime.combine(first_day, dt.time(0), tzinfo=CHINA)
    weeks = [last]
    while weeks[-1].previous >= start:
        weeks.append(weeks[-1].before())
    weeks.reverse()
    return weeks


class WeekGrid:
    """Buckets times into consecutive report weeks (for the weekly series, in one pass).

    ``index(at)`` is ``k`` when ``weeks[k].previous < at <= weeks[k].cutoff``, ``-1`` before the
    first week and ``len(weeks)`` after the last.
    """

    def __init__(self, weeks: list[ReportWeek]) -> None:
        if not weeks:
            raise ValueError("a week grid needs at least one week")
        self.weeks = weeks
        self._cutoffs = [w.cutoff for w in weeks]
        self._start = weeks[0].previous
        texts = [china_time_text(at) for at in (self._start, *self._cutoffs)]
        self.bounds_text: list[str] | None = (
            [t for t in texts if t is not None] if None not in texts else None
        )
        """The first week's start and every cut-off as texts in the devices' shape
        (:data:`~inspect_engine.asof.CHINA_TIME_TEXT`), ``None`` when one has a fraction of a
        second. A text ``t`` of that shape is in week ``bisect_left(bounds_text, t) - 1``."""

    def index(self, at: dt.datetime) -> int:
        """The week ``at`` falls in (see the class docstring)."""
        if at <= self._start:
            return -1
        return bisect.bisect_left(self._cutoffs, at)

    def index_text(self, text: str) -> int:
        """:meth:`index` of a time given as the ISO text the ledger recorded (one that
        :func:`~inspect_engine.events.parse_time` accepts).

        A time in the devices' shape (:data:`~inspect_engine.asof.CHINA_TIME_TEXT`) is compared
        as text with the week bounds written the same way (which sorts as the times do); any other
        is parsed, as are all when a bound has a fraction of a second.
        """
        texts = self.bounds_text
        if texts is None or not CHINA_TIME_TEXT.fullmatch(text):
            return self.index(parse_time(text))
        if text <= texts[0]:
            return -1
        return bisect.bisect_left(texts, text, 1) - 1

    def slots_text(self, texts: Sequence[str]) -> list[int]:
        """``index_text(text) + 1`` of each text, in order (0 before the first week, ``k + 1`` in
        week ``k``): the slots of a weekly series' many times, worked out together.

        When the week bounds are in the devices' shape and so is every text (checked all at once,
        :func:`~inspect_engine.asof.all_in_devices_shape`), each is compared as text with no check
        of its own: a third of the time of
        :meth:`index_text` per text on the city's 48,000. Otherwise each distinct text is taken by
        :meth:`index_text` once.
        """
        bounds = self.bounds_text
        if bounds is not None and texts and all_in_devices_shape(texts):
            find = bisect.bisect_left
            # 0 at or before the first bound (index_text's -1), else index_text + 1
            return [find(bounds, text) for text in texts]
        known: dict[str, int] = {}
        out = []
        for text in texts:
            slot = known.get(text)
            if slot is None:
                slot = known[text] = self.index_text(text) + 1
            out.append(slot)
        return out
