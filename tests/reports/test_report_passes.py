"""The Friday report's one-pass computations give what the plain, item-by-item ones give.

``gather`` selects with the sites in scope looked up once (against ``hazards_in_scope``,
``submitted_in_scope``, ``orders_in_scope`` and ``hazard_marks``); ``WeekGrid.slots_text`` checks
many times in one match (against ``index_text``); ``series_of`` counts each finding's steps in
one pass with flat counters (against a count week by week, from parsed times, of random
histories: times out of order, on the week bounds, before the first week and after the last, in
other shapes and offsets).
"""

from __future__ import annotations

import datetime as dt
import random
from types import SimpleNamespace
from typing import Any, cast

import pytest

from inspect_engine.clock import CHINA
from inspect_engine.events import parse_time
from inspect_engine.ledger import Ledger
from inspect_engine.rectification import Status
from inspect_engine.reports.series import WeekFigures, series_of
from inspect_engine.reports.tallies import (
    DIMENSIONS,
    RECTIFIED,
    SITE_DIMENSIONS,
    Figures,
    Hazard,
    HazardMarks,
    InScope,
    PackIndex,
    Scope,
    Submission,
    cutoff_day,
    finding_keys,
    gather,
    hazard_marks,
    hazards_in_scope,
    orders_in_scope,
    pack_key,
    site_keys,
    submitted_in_scope,
    tallies_of,
)
from inspect_engine.reports.week import ReportWeek, WeekGrid, weeks_between
from inspect_engine.rulepack import RulePack
from tests.reports.friday_ledger import cutoff

SCOPES = [
    Scope(),
    Scope(county="平定县"),
    Scope(county="盂县"),
    Scope(group="第一帮扶督导组"),
    Scope(pack="eleven-prohibitions"),
    Scope(county="平定县", pack="building-safety"),
    Scope(county="阳曲县"),  # matches nothing
]
CUTOFFS = [cutoff(9, 4), cutoff(9, 18), cutoff(9, 25), cutoff(10, 2)]


@pytest.mark.parametrize("scope", SCOPES, ids=str)
def test_gather_selects_what_the_plain_selections_do(
    friday_ledger: Ledger, campaign_packs: list[RulePack], scope: Scope
) -> None:
    """Hazards (with deadline and marks), submissions, orders and sites in scope, in order."""
    index = PackIndex(campaign_packs)
    for at in CUTOFFS:
        proj = friday_ledger.state_at(at)
        today = cutoff_day(at)
        got = gather(proj, index, scope, at)
        assert [tuple(h) for h in got.hazards] == [
            (f, site, f.deadline, hazard_marks(f, f.deadline, today))
            for f, site in hazards_in_scope(proj, index, scope)
        ]
        assert [(s.inspection, s.site) for s in got.submitted] == list(
            submitted_in_scope(proj, scope)
        )
        for s in got.submitted:
            assert (s.site_id, s.pack_id, s.submitted_at) == (
                s.inspection.site_id,
                s.inspection.pack_id,
                s.inspection.submitted_at,
            )
        assert got.orders == list(orders_in_scope(proj, index, scope))
        assert got.sites == {
            k: state.site for k, state in proj.sites.items() if scope.site_ok(state.site)
        }
        if scope == Scope() and at == CUTOFFS[-1]:
            assert got.hazards and got.submitted and got.orders  # the comparison saw something


def _count_plainly(gathered: InScope, index: PackIndex, by: str) -> list[dict[str, Any]]:
    """The rows and total of a tally, every hazard, inspection and order counted one at a time
    into each of its buckets (docs/reports.md, "Tallies")."""
    per_site = by in SITE_DIMENSIONS or by == "pack"
    buckets: dict[Any, Figures] = {}

    def bucket(key: Any) -> Figures:
        return buckets.setdefault(key, Figures(str(key[-1]), sites=set() if per_site else None))

    total = Figures("合计")
    assert total.sites is not None
    if by in SITE_DIMENSIONS:
        types = index.pack_types(gathered.scope.pack) if gathered.scope.pack else None
        for site in gathered.sites.values():
            if types is None or types & set(site.site_types):
                for key in site_keys(by, site, index):
                    bucket(key)
    for s in gathered.submitted:
        total.sites.add(s.site_id)
        keys = site_keys(by, s.site, index) if by in SITE_DIMENSIONS else []
        keys += [pack_key(index, s.pack_id)] if by == "pack" else []
        for key in keys:
            sites = bucket(key).sites
            assert sites is not None
            sites.add(s.site_id)
    for h in gathered.hazards:
        total.add_marks(h.marks)
        for key in finding_keys(by, h.finding, h.site, index):
            bucket(key).add_marks(h.marks)
    for order, at, finding in gathered.orders:
        total.add_order(order)
        if by in SITE_DIMENSIONS:
            keys = site_keys(by, at, index)
        else:
            keys = [] if finding is None else finding_keys(by, finding, at, index)
        for key in keys:
            bucket(key).add_order(order)
    kinds = sorted(total.orders, key=index.order_rank)
    return [buckets[k].as_json(kinds) for k in sorted(buckets)] + [total.as_json(kinds)]


@pytest.mark.parametrize("scope", SCOPES[:6], ids=str)
def test_tallies_count_alike_items_as_one_at_a_time(
    friday_ledger: Ledger, campaign_packs: list[RulePack], scope: Scope
) -> None:
    """Every dimension at once, over the gathering with each hazard, inspection and order
    repeated (some orders lifted, some not): alike items counted together give the counts one
    at a time does."""
    index = PackIndex(campaign_packs)
    proj = friday_ledger.state_at(cutoff(10, 2))
    once = gather(proj, index, scope, cutoff(10, 2))
    lifted = [o for o in once.orders if not o[0].in_force]
    gathered = InScope(
        projection=proj,
        scope=scope,
        cutoff=once.cutoff,
        hazards=once.hazards * 3,
        submitted=once.submitted * 2,
        orders=once.orders * 3 + lifted * 2,
        sites=once.sites,
    )
    together = tallies_of(gathered, index, tuple(DIMENSIONS))
    for by in DIMENSIONS:
        tally = together[by]
        got = [f.as_json(tally.order_kinds) for f in [*tally.rows, tally.total]]
        assert got == _count_plainly(gathered, index, by), by
    if scope == Scope():
        assert lifted and len(once.orders) > len(lifted)  # both states repeated


def _grid(last: dt.datetime) -> WeekGrid:
    return WeekGrid(weeks_between(dt.date(2020, 8, 31), ReportWeek(last)))


def test_slots_of_many_texts_are_their_indexes() -> None:
    """All in the devices' shape (one match), some in another (each taken alone), bounds with a
    fraction of a second; a text holding a newline is not taken for two good ones."""
    grid = _grid(cutoff(10, 2))
    assert grid.bounds_text is not None
    shaped = list(grid.bounds_text) + [
        "2020-09-11T00:00:01+08:00",
        "2020-08-01T10:00:00+08:00",
    ]
    shaped += ["2020-09-10T23:59:59+08:00", "2020-12-01T10:00:00+08:00"]
    others = [
        "2020-09-10T16:00:00+00:00",
        "2020-09-11 00:00:00+08:00",
        "2020-09-11T00:00:00.5+08:00",
    ]
    for texts in (shaped, shaped + others, others, []):
        assert grid.slots_text(texts) == [grid.index_text(t) + 1 for t in texts]
    fraction = _grid(cutoff(10, 2) + dt.timedelta(microseconds=500))
    assert fraction.bounds_text is None
    texts = shaped + others
    assert fraction.slots_text(texts) == [fraction.index_text(t) + 1 for t in texts]
    with pytest.raises(ValueError):  # parsed (and refused), not compared as text
        grid.slots_text([shaped[0], f"{shaped[1]}\n{shaped[2]}"])


# --- the weekly series against a count week by week ---------------------------------------------

_ACTIONS = ["plan", "start", "report", "close", "reopen"]
_STATUSES = [Status.OPEN, Status.IN_RECTIFICATION, Status.REPORTED, Status.CLOSED]


def _text(at: dt.datetime, rng: random.Random, shapes: bool) -> str:
    """``at`` as the devices write it, or (``shapes``) sometimes in another offset or shape."""
    if shapes and rng.random() < 0.2:
        return rng.choice(
            [
                at.astimezone(dt.UTC).isoformat(),
                at.astimezone(CHINA).isoformat(sep=" "),
                at.astimezone(CHINA).isoformat(timespec="milliseconds"),
            ]
        )
    return at.astimezone(CHINA).isoformat()


def _time(weeks: list[ReportWeek], rng: random.Random) -> dt.datetime:
    """Often exactly on a week bound or a second either side, else anywhere from a week before
    the first week to a week after the last."""
    bounds = [weeks[0].previous, *(w.cutoff for w in weeks)]
    if rng.random() < 0.4:
        return rng.choice(bounds) + dt.timedelta(seconds=rng.choice([-1, 0, 1]))
    span = (bounds[-1] - bounds[0]).total_seconds() + 14 * 86400
    return bounds[0] - dt.timedelta(days=7) + dt.timedelta(seconds=rng.randrange(int(span)))


def _random_gathering(
    weeks: list[ReportWeek], rng: random.Random, shapes: bool
) -> tuple[InScope, list[str]]:
    """Hazards with random histories and submissions at random sites (some unregistered)."""
    counties = ["城区", "矿区", "郊区"]
    sites: list[Any] = [SimpleNamespace(county=c) for c in counties for _ in range(3)]
    sites += [None, SimpleNamespace(county=counties[0]), SimpleNamespace(county="阳曲县")]
    site_ids = [f"S{n}" for n in range(len(sites))]
    hazards = []
    for n in range(400):
        k = rng.randrange(len(sites) - 2)  # the last sites only have inspections
        at = _time(weeks, rng)
        steps = [SimpleNamespace(time=_text(at, rng, shapes), action="raised", status=Status.OPEN)]
        for _ in range(rng.choice([0, 0, 1, 2, 3, 4, 6])):
            if rng.random() < 0.85:  # mostly later, sometimes earlier (a wrong clock)
                at += dt.timedelta(seconds=rng.choice([0, 1, 3600, 86400 * rng.randrange(1, 15)]))
            else:
                at -= dt.timedelta(seconds=rng.choice([1, 86400 * rng.randrange(1, 8)]))
            action = rng.choice(_ACTIONS)
            status = {"report": Status.REPORTED, "close": Status.CLOSED}.get(action)
            status = status or rng.choice(_STATUSES)
            steps.append(SimpleNamespace(time=_text(at, rng, shapes), action=action, status=status))
        f = SimpleNamespace(id=f"F{n}", site_id=site_ids[k], history=steps)
        marks = HazardMarks(rng.random() < 0.3, False, False, False)
        hazards.append(Hazard(cast(Any, f), sites[k], dt.date(2020, 9, 1), marks))
    submitted = []
    for _ in range(300):
        k = rng.randrange(len(sites))
        when = None if rng.random() < 0.05 else _text(_time(weeks, rng), rng, shapes)
        submitted.append(Submission(cast(Any, None), sites[k], site_ids[k], "p", when))
    gathered = InScope(
        projection=cast(Any, None),
        scope=Scope(),
        cutoff=weeks[-1].cutoff,
        hazards=hazards,
        submitted=submitted,
        orders=[],
        sites={k: site for k, site in zip(site_ids, sites, strict=True) if site is not None},
    )
    return gathered, [*counties, "阳曲县"]


def _week_by_week(
    gathered: InScope, week: ReportWeek, keep: Any = lambda site: True
) -> WeekFigures:
    """The figures of one week as the module docstring defines them, from parsed times: a step
    counts at a cut-off when it and every step before it are at or before it."""
    out = WeekFigures()
    for hazard in gathered.hazards:
        if not keep(hazard.site):
            continue
        history = hazard.finding.history
        kept, latest = [], None
        for step in history:
            at = parse_time(step.time)
            latest = at if latest is None else max(latest, at)
            kept.append((step, latest))
        at_cut = [(s, t) for s, t in kept if t <= week.cutoff]
        if not at_cut:
            continue
        status = at_cut[-1][0].status
        in_week = [s for s, t in at_cut if t > week.previous]
        raised_in_week = at_cut[0][1] > week.previous
        out.found += raised_in_week
        out.found_major += raised_in_week and hazard.marks.major
        out.rectified += status in RECTIFIED and any(s.action == "report" for s in in_week)
        out.closed += status == Status.CLOSED and any(s.action == "close" for s in in_week)
        out.found_cum += 1
        out.rectified_cum += status in RECTIFIED
        out.closed_cum += status == Status.CLOSED
    this_week, by_cut = set(), set()
    for s in gathered.submitted:
        if s.submitted_at is None or not keep(s.site):
            continue
        at = parse_time(s.submitted_at)
        if at <= week.cutoff:
            by_cut.add(s.site_id)
            if at > week.previous:
                this_week.add(s.site_id)
    out.sites, out.sites_cum = len(this_week), len(by_cut)
    return out


def _county(site: Any) -> str:
    return "（未登记）" if site is None else str(site.county)


@pytest.mark.parametrize(
    ("last", "shapes"),
    [
        (cutoff(10, 2), False),  # every time in the devices' shape: compared as text
        (cutoff(10, 2), True),  # some in other shapes and offsets: those parsed
        (cutoff(10, 2) + dt.timedelta(microseconds=500), False),  # bounds not in that shape
        (cutoff(9, 4), False),  # one week
    ],
    ids=["shaped", "mixed shapes", "fraction cut-off", "one week"],
)
def test_series_equals_a_count_week_by_week(last: dt.datetime, shapes: bool) -> None:
    """Random histories, totals and by county, every week."""
    weeks = weeks_between(dt.date(2020, 8, 31), ReportWeek(last))
    for seed in range(3):
        gathered, counties = _random_gathering(weeks, random.Random(seed), shapes)
        series = series_of(gathered, weeks, key=_county)
        alone = series_of(gathered, weeks)
        assert alone.total == series.total and not alone.by_key
        assert sorted(series.by_key) == sorted([*counties, "（未登记）"])
        for k, week in enumerate(weeks):
            assert series.total[k] == _week_by_week(gathered, week), (seed, k)
            for name in series.by_key:
                expected = _week_by_week(gathered, week, lambda s, n=name: _county(s) == n)
                assert series.of(name)[k] == expected, (seed, k, name)
        assert series.total[-1].found_cum > 0 and series.total[-1].sites_cum > 0
