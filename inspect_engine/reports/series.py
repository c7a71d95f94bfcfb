"""Week-by-week figures over the campaign, derived in one pass from the findings' histories.

The Friday report needs, for every week up to its cut-off, what was found and rectified that
week and the running totals: the chart plots them, the week-on-week change is this week minus
last week. A projection per week (:func:`~inspect_engine.asof.as_of`, 0.1–0.2 s each on a city
ledger) would cost one derivation per week of the campaign; instead each finding's ``history``
(the steps raised/plan/start/report/close/reopen, with their times and the status after each) is
read once and its steps are bucketed by week (:class:`~inspect_engine.reports.week.WeekGrid`).

Per week ``k`` with cut-off ``c``, for the findings in scope:

* **found** (本周发现): raised in ``(previous, c]``; **found_cum**: raised by ``c``.
* **rectified** (本周整改): rectified at ``c`` (已整改待复查 or 销号) and its latest report step
  (the step that made it 已整改) falls in the week. A finding reported one week and 销号 the next
  counts once, in the week of its report (its 销号 counts in **closed**): otherwise the weekly
  bars would count the same hazard twice and add up to more than the running total. A finding
  reopened after its report is not rectified until it is reported again; it then counts in the
  week of the new report.
* **closed** (本周销号): 销号 at ``c`` with a close step in the week.
* **rectified_cum** / **closed_cum**: rectified / 销号 at ``c``.
* **sites** (本周排查场所): distinct sites with an inspection submitted in the week;
  **sites_cum**: with one submitted by ``c``.

"The status at ``c``" is the status after the finding's steps up to the first step later than
``c``: the rule :func:`~inspect_engine.asof.as_of` cuts a history by, so the two always agree,
and what a replay of the events up to ``c`` (``Ledger.projection_as_of(c)``) computes when each
finding's steps carry non-decreasing times, which is the case unless a device's clock was wrong
or two devices moved the finding concurrently (:mod:`inspect_engine.asof`). The tests check
they agree on every week of the fixed ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from inspect_engine.projection import Projection, Step
from inspect_engine.rectification import Status
from inspect_engine.reports.tallies import RECTIFIED, InScope, PackIndex, Scope, gather
from inspect_engine.reports.week import ReportWeek, WeekGrid
from inspect_engine.site import Site


@dataclass
class WeekFigures:
    """One bucket's figures for one week (see the module docstring)."""

    found: int = 0
    found_major: int = 0
    rectified: int = 0
    closed: int = 0
    sites: int = 0
    found_cum: int = 0
    rectified_cum: int = 0
    closed_cum: int = 0
    sites_cum: int = 0

    @property
    def rate(self) -> float | None:
        """整改率 at the week's cut-off."""
        return self.rectified_cum / self.found_cum if self.found_cum else None


@dataclass
class _Acc:
    """Per-slot counters; slot 0 is "before the first week", slot k+1 is week k."""

    size: int
    found: list[int] = field(default_factory=list)
    found_major: list[int] = field(default_factory=list)
    rectified: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    rect_delta: list[int] = field(default_factory=list)
    closed_delta: list[int] = field(default_factory=list)
    sites: list[int] = field(default_factory=list)
    sites_new: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in (
            "found",
            "found_major",
            "rectified",
            "closed",
            "rect_delta",
            "closed_delta",
            "sites",
            "sites_new",
        ):
            setattr(self, name, [0] * self.size)

    def weeks(self) -> list[WeekFigures]:
        out = []
        found_cum, rect_cum, closed_cum, sites_cum = (
            self.found[0],
            self.rect_delta[0],
            self.closed_delta[0],
            self.sites_new[0],
        )
        for slot in range(1, self.size - 1):
            found_cum += self.found[slot]
            rect_cum += self.rect_delta[slot]
            closed_cum += self.closed_delta[slot]
            sites_cum += self.sites_new[slot]
            out.append(
                WeekFigures(
                    found=self.found[slot],
                    found_major=self.found_major[slot],
                    rectified=self.rectified[slot],
                    closed=self.closed[slot],
                    sites=self.sites[slot],
                    found_cum=found_cum,
                    rectified_cum=rect_cum,
                    closed_cum=closed_cum,
                    sites_cum=sites_cum,
                )
            )
        return out


@dataclass
class Series:
    """Week-by-week figures: ``total[k]`` and ``by_key[key][k]`` for ``weeks[k]``."""

    weeks: list[ReportWeek]
    total: list[WeekFigures]
    by_key: dict[str, list[WeekFigures]]

    def of(self, key: str) -> list[WeekFigures]:
        """A bucket's weeks (all zeros for a key with nothing in it)."""
        return self.by_key.get(key) or [WeekFigures() for _ in self.weeks]


def weekly_series(
    projection: Projection,
    packs: PackIndex,
    weeks: list[ReportWeek],
    *,
    scope: Scope | None = None,
    key: Callable[[Site | None], str] | None = None,
) -> Series:
    """The figures of every week in ``weeks`` (consecutive, oldest first), in one pass.

    ``projection`` should be the state as of the last week's cut-off (later steps would fall
    outside every week and are ignored anyway). ``key`` buckets by site (the county, say);
    without it only the total is computed.
    """
    if not weeks:
        raise ValueError("a weekly series needs at least one week")
    gathered = gather(projection, packs, scope or Scope(), weeks[-1].cutoff)
    return series_of(gathered, weeks, key=key)


def series_of(
    gathered: InScope,
    weeks: list[ReportWeek],
    *,
    key: Callable[[Site | None], str] | None = None,
) -> Series:
    """:func:`weekly_series` of a gathering's hazards and submitted inspections (the Friday
    report's, which its other tables read too)."""
    size = len(weeks) + 2  # before, the weeks, after
    total = _Acc(size)
    by_key: dict[str, _Acc] = {}
    targets: dict[str, list[_Acc]] = {}  # key → [total, its accumulator]

    def accs(site: Site | None) -> list[_Acc]:
        if key is None:
            return [total]
        name = key(site)
        found = targets.get(name)
        if found is None:
            acc = by_key[name] = _Acc(size)
            found = targets[name] = [total, acc]
        return found

    slot = _Slots(WeekGrid(weeks))
    for hazard in gathered.hazards:
        _finding(hazard.finding.history, hazard.marks.major, slot, accs(hazard.site))

    slots_of: dict[str, set[int]] = {}  # site id → the slots of its submissions
    site_of: dict[str, Site | None] = {}
    for insp, site in gathered.submitted:
        if insp.submitted_at is None:
            continue
        s = slot[insp.submitted_at]
        slots = slots_of.get(insp.site_id)
        if slots is None:
            slots_of[insp.site_id], site_of[insp.site_id] = {s}, site
        else:
            slots.add(s)
    for site_id, slots in slots_of.items():
        first = min(slots)
        for acc in accs(site_of[site_id]):
            for s in slots:
                if s < size:
                    acc.sites[s] += 1
            if first < size:
                acc.sites_new[first] += 1

    return Series(
        weeks=list(weeks),
        total=total.weeks(),
        by_key={name: acc.weeks() for name, acc in sorted(by_key.items())},
    )


class _Slots(dict[str, int]):
    """Event time (ISO text) → accumulator slot (``WeekGrid.index_text`` + 1: 0 before the first
    week, ``k + 1`` in week ``k``), each distinct text worked out once."""

    def __init__(self, grid: WeekGrid) -> None:
        super().__init__()
        self.grid = grid

    def __missing__(self, text: str) -> int:
        found = self[text] = self.grid.index_text(text) + 1
        return found


def _finding(history: list[Step], major: bool, slot: _Slots, targets: list[_Acc]) -> None:
    """Add one finding's history to the accumulators (see the module docstring)."""
    size = targets[0].size
    current = 0  # running maximum of the step slots: the prefix rule
    rect_before = closed_before = False
    week_slot = -1
    status: Status | None = None
    reported = closed_step = False

    def flush() -> None:
        nonlocal rect_before, closed_before
        if week_slot < 0 or week_slot >= size - 1:
            return
        rect = status in RECTIFIED
        closed = status == Status.CLOSED
        for acc in targets:
            if rect and reported:
                acc.rectified[week_slot] += 1
            if closed and closed_step:
                acc.closed[week_slot] += 1
            if rect != rect_before:
                acc.rect_delta[week_slot] += 1 if rect else -1
            if closed != closed_before:
                acc.closed_delta[week_slot] += 1 if closed else -1
        rect_before, closed_before = rect, closed

    for n, step in enumerate(history):
        current = max(current, slot[step.time])
        if n == 0:
            if current < size - 1:
                for acc in targets:
                    acc.found[current] += 1
                    acc.found_major[current] += major
        if current != week_slot:
            flush()
            week_slot, reported, closed_step = current, False, False
        status = step.status
        if step.action == "report":
            reported = True
        elif step.action == "close":
            closed_step = True
    flush()
