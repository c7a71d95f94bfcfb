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

import bisect
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from inspect_engine.asof import CHINA_TIME_TEXT
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


_FIELDS = 8
"""Counters per slot of an accumulator, each a run of ``size`` slots in one flat list: found,
found 重大, rectified, closed, the change in rectified, the change in closed, sites, new sites."""
_FOUND, _MAJOR, _RECT, _CLOSED, _RECT_DELTA, _CLOSED_DELTA, _SITES, _SITES_NEW = range(_FIELDS)


def _weeks_of(acc: list[int], size: int) -> list[WeekFigures]:
    """The weeks of one accumulator (slot 0 is "before the first week", slot ``k + 1`` is week
    ``k``, the last slot "after the last week")."""

    def run(field: int) -> list[int]:
        return acc[field * size : (field + 1) * size]

    found, major, rect, closed = run(_FOUND), run(_MAJOR), run(_RECT), run(_CLOSED)
    rect_delta, closed_delta = run(_RECT_DELTA), run(_CLOSED_DELTA)
    sites, sites_new = run(_SITES), run(_SITES_NEW)
    out = []
    found_cum, rect_cum, closed_cum, sites_cum = (
        found[0],
        rect_delta[0],
        closed_delta[0],
        sites_new[0],
    )
    for slot in range(1, size - 1):
        found_cum += found[slot]
        rect_cum += rect_delta[slot]
        closed_cum += closed_delta[slot]
        sites_cum += sites_new[slot]
        out.append(
            WeekFigures(
                found=found[slot],
                found_major=major[slot],
                rectified=rect[slot],
                closed=closed[slot],
                sites=sites[slot],
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
    report's, which its other tables read too).

    Each hazard's steps are read once (25,000 on the city; collecting their times first and
    slotting them together cost more than the second pass saved), their slots worked out as
    they are read; the submissions' times, copied into the gathering already, are slotted
    together (:meth:`WeekGrid.slots_text`). ``key`` is asked once per site.
    """
    size = len(weeks) + 2  # before, the weeks, after
    grid = WeekGrid(weeks)

    # one flat accumulator per key (the total is their sum), or the total alone
    accs: dict[str, list[int]] = {}
    total = [0] * (_FIELDS * size)
    of_site: dict[str, list[int]] = {}  # site id → its key's accumulator

    def acc_of(site_id: str, site: Site | None) -> list[int]:
        if key is None:
            return total
        acc = of_site.get(site_id)
        if acc is None:
            name = key(site)
            acc = accs.get(name)
            if acc is None:
                acc = accs[name] = [0] * (_FIELDS * size)
            of_site[site_id] = acc
        return acc

    slot_of = _slot_of(grid)
    for f, site, _, marks in gathered.hazards:
        acc = acc_of(f.site_id, site)
        history = f.history
        if history:
            _finding(history, slot_of, marks.major, acc, size)

    submitted = [s for s in gathered.submitted if s.submitted_at is not None]
    slots = grid.slots_text([s.submitted_at for s in submitted])  # type: ignore[misc]
    masks: dict[str, int] = {}  # site id → the slots of its submissions, one bit each
    mask_of = masks.get
    for s, slot in zip(submitted, slots, strict=True):
        site_id = s.site_id
        masks[site_id] = mask_of(site_id, 0) | (1 << slot)
    in_scope = gathered.sites.get  # an inspected site missing from it was never registered
    # sites alike (the same accumulator and slots) counted together
    accs_of = map(acc_of, masks, map(in_scope, masks))
    alike = Counter(zip(map(id, accs_of), masks.values(), strict=True))
    by_id = {id(acc): acc for acc in (*accs.values(), total)}
    sites_at, new_at = _SITES * size - 1, _SITES_NEW * size - 1
    for (acc_id, mask), n in alike.items():
        acc = by_id[acc_id]
        acc[new_at + (mask & -mask).bit_length()] += n  # the first submission's slot
        while mask:
            low = mask & -mask
            acc[sites_at + low.bit_length()] += n
            mask ^= low

    if key is not None:
        total = [sum(column) for column in zip(*accs.values(), strict=True)] or total
    return Series(
        weeks=list(weeks),
        total=_weeks_of(total, size),
        by_key={name: _weeks_of(acc, size) for name, acc in sorted(accs.items())},
    )


_SlotOf = tuple[WeekGrid, list[str], Callable[[str], object], Callable[[list[str], str], int]]
"""What :func:`_finding` works a step's slot out with (``WeekGrid.slots_text`` of one text,
written out: 25,000 steps on a city ledger): the grid, its bounds as texts, the test of the
devices' shape, the bisection."""


def _slot_of(grid: WeekGrid) -> _SlotOf:
    """The :data:`_SlotOf` of ``grid``, prepared once per series."""
    bounds = grid.bounds_text
    shaped = CHINA_TIME_TEXT.fullmatch if bounds is not None else _never
    return grid, bounds or [], shaped, bisect.bisect_left


_CLOSED_STATUS = Status.CLOSED


def _finding(history: list[Step], slot_of: _SlotOf, major: bool, acc: list[int], size: int) -> None:
    """Add one finding's history to ``acc`` (see the module docstring).

    A step's slot is the running maximum of the slots of the steps up to it (the prefix rule:
    the status at a cut-off is the status after the steps before the first later one). Steps
    in one slot form a group; at the end of each group the status it left is counted: rectified
    if a report step in the group made it so, closed if a close step did, and the change in the
    rectified and closed totals since the previous group. Slot ``size - 1`` (after the last
    week) and anything after it are not counted.
    """
    grid, bounds, shaped, find = slot_of
    last = size - 1
    text = history[0].time
    week = find(bounds, text) if shaped(text) else grid.index_text(text) + 1
    if week >= last:
        return
    acc[_FOUND * size + week] += 1
    if major:
        acc[_MAJOR * size + week] += 1
    rect_before = closed_before = reported = closed_step = False
    status: Status | None = None
    for step in history:
        text = step.time
        slot = find(bounds, text) if shaped(text) else grid.index_text(text) + 1
        if slot > week:
            # the group of ``week`` ends: count the status it left
            rect, closed = status in RECTIFIED, status == _CLOSED_STATUS
            if rect and reported:
                acc[_RECT * size + week] += 1
            if closed and closed_step:
                acc[_CLOSED * size + week] += 1
            if rect != rect_before:
                acc[_RECT_DELTA * size + week] += 1 if rect else -1
            if closed != closed_before:
                acc[_CLOSED_DELTA * size + week] += 1 if closed else -1
            rect_before, closed_before = rect, closed
            if slot >= last:
                return
            week, reported, closed_step = slot, False, False
        status = step.status
        action = step.action
        if action == "report":
            reported = True
        elif action == "close":
            closed_step = True
    rect, closed = status in RECTIFIED, status == _CLOSED_STATUS
    if rect and reported:
        acc[_RECT * size + week] += 1
    if closed and closed_step:
        acc[_CLOSED * size + week] += 1
    if rect != rect_before:
        acc[_RECT_DELTA * size + week] += 1 if rect else -1
    if closed != closed_before:
        acc[_CLOSED_DELTA * size + week] += 1 if closed else -1


def _never(text: str) -> None:
    """No text is compared as text (the week bounds have fractions of a second)."""
