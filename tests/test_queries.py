"""The site list filters the register before it makes rows, and the open-hazards list filters the
hazards before it makes rows: the same rows, in the same order, as making every row and then
filtering (references written here, the plain way)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspect_engine.ledger import Ledger
from inspect_engine.projection import Projection
from inspect_engine.queries import (
    SITE_STATUS_LABELS,
    SiteRow,
    SiteStatus,
    finding_row,
    list_sites,
    open_findings,
    site_record,
)
from inspect_engine.rectification import FiveImplementations
from inspect_engine.site import Site
from tests.reliability import kit

PACK = ("building-safety", "1.0.0")
TODAYS = (dt.date(2020, 8, 20), dt.date(2020, 9, 10), dt.date(2020, 9, 25), dt.date(2020, 12, 1))
"""Before every deadline, between them, and after all of them."""
PLAN = FiveImplementations(
    responsible_person="王五",
    measures="加固",
    funds=1.0,
    deadline=dt.date(2020, 9, 30),
    contingency_plan="撤人",
)
"""A 五落实 plan: its deadline replaces the rule's."""


def _reference_rows(proj: Projection, today: dt.date) -> list[SiteRow]:
    """Every registered site's row, each worked out from all the inspections and findings."""
    rows = []
    for site_id, state in proj.sites.items():
        insps = [i for i in proj.inspections.values() if i.site_id == site_id]
        submitted = [i for i in insps if i.status == "submitted"]
        opened = [i.id for i in insps if i.status == "open"]
        findings = [f for f in proj.findings.values() if f.site_id == site_id and f.is_open]
        late = [f for f in findings if f.overdue(today)]
        status: SiteStatus
        if late:
            status = "overdue"
        elif findings:
            status = "open_findings"
        elif opened:
            status = "in_progress"
        elif submitted:
            status = "clear"
        else:
            status = "not_inspected"
        rows.append(
            SiteRow(
                site=state.site,
                status=status,
                status_label=SITE_STATUS_LABELS[status],
                inspections=len(submitted),
                last_inspected=max((i.started_at for i in submitted), default=None),
                open_findings=len(findings),
                overdue_findings=len(late),
                open_inspection=opened[0] if opened else None,
            )
        )
    return rows


def _reference_filter(
    rows: list[SiteRow],
    *,
    county: str | None = None,
    township: str | None = None,
    site_type: str | None = None,
    status: str | None = None,
    search: str | None = None,
    inspector: str | None = None,
) -> list[SiteRow]:
    """``rows`` that pass every filter given, sorted as the site list is."""
    out = []
    for row in rows:
        s = row.site
        if status == "open_findings":
            wanted_status = row.status in ("open_findings", "overdue")
        else:
            wanted_status = status is None or row.status == status
        hay = f"{s.id} {s.name} {s.village} {s.address}".casefold()
        if (
            (county is None or s.county == county)
            and (township is None or s.township == township)
            and (site_type is None or site_type in s.site_types)
            and (inspector is None or s.inspector == inspector)
            and wanted_status
            and (not search or search.casefold() in hay)
        ):
            out.append(row)
    return sorted(
        out, key=lambda r: (r.site.county, r.site.township, r.site.village, r.site.name, r.site.id)
    )


def _site(n: int, rng: random.Random) -> Site:
    """A site with some fields shared with others (names, villages), some empty."""
    base = kit.site(
        n,
        county=rng.randrange(3),
        types=rng.choice((("self_built",), ("crowded_place",), ("self_built", "crowded_place"))),
    )
    data = base.model_dump()
    data["id"] = f"{'Ab' if n % 3 else 'S'}-{n:03d}"
    data["village"] = rng.choice(("", "东村", "西村"))
    data["name"] = rng.choice((base.name, "同名自建房", "Straße Café"))
    data["address"] = rng.choice(("", base.address, f"东关路{n}号"))
    data["inspector"] = rng.choice(("张三", "李四", ""))
    if n % 11 == 0:
        data["township"] = "另一镇"
    return Site.model_validate(data)


def _deadline(rng: random.Random) -> dt.date:
    return dt.date(2020, 9, rng.choice((1, 5, 15, 20, 28)))


def _build(led: Ledger, rng: random.Random) -> None:
    """Sites in every state: never inspected, in progress (one or two open inspections),
    inspected and clear, with open hazards (overdue or not, by rule or 五落实 deadline), with
    closed or reported ones, with a finding that is not a hazard, cancelled inspections."""
    sites = [_site(n, rng) for n in range(60)]
    led.register_sites(sites)

    def start(site_id: str, day: int) -> str:
        at = kit.T0.replace(day=day, hour=rng.randrange(8, 18), minute=rng.randrange(60))
        return led.start_inspection(
            site_id,
            pack_id=PACK[0],
            pack_version=PACK[1],
            method="明查",
            inspectors=["张三"],
            started_at=at,
        ).id

    for site in sites:
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            kind = rng.choice(("open", "cancel", "clean", "hazards", "hazards", "other"))
            insp = start(site.id, rng.randrange(1, 28))
            if kind == "open":
                continue
            if kind == "cancel":
                led.cancel_inspection(insp, "下雨")
                continue
            if kind == "clean":
                led.submit_inspection(insp, [])
                continue
            if kind == "other":
                led.submit_inspection(insp, [kit.finding("N1", hazard=False)])
                continue
            found = led.submit_inspection(
                insp,
                [
                    kit.finding(
                        f"R{k}", level=rng.choice(("一般", "重大")), deadline=_deadline(rng)
                    )
                    for k in range(rng.randrange(1, 4))
                ],
            )
            for f in found:
                step = rng.choice(("leave", "leave", "plan", "rectify", "report", "close"))
                if step == "plan" or (step != "leave" and f.level == "重大"):
                    led.set_plan(f.id, PLAN)  # a 重大 hazard needs it before rectifying
                if step == "rectify" or (step in ("report", "close") and f.level == "重大"):
                    led.start_rectification(f.id)
                if step in ("report", "close"):
                    led.report_rectified(f.id, note="已整改")
                    if step == "close":
                        led.close_finding(f.id, verifier="复查组")


@pytest.fixture(scope="module")
def proj(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Projection]:
    """A ledger of 60 varied sites (see :func:`_build`), its projection."""
    path: Path = tmp_path_factory.mktemp("queries") / "data"
    with Ledger.open(path, clock=kit.clock(), actor="张三") as led:
        _build(led, random.Random(2020))
        yield led.projection


SEARCHES = (
    None,
    "",
    "s-00",  # ids, case folded
    "AB-01",
    "第1",  # names
    "同名",
    "STRASSE",  # ß folds to ss
    "西村",  # villages
    "东关路",  # addresses
    "平定县冠山镇",
    "-009 第9号",  # across the id and the name
    "无此文字",
)
FILTERS: dict[str, tuple[str | None, ...]] = {
    "county": (None, "平定县", "盂县", "no-such-county"),
    "township": (None, "冠山镇", "另一镇"),
    "site_type": (None, "self_built", "crowded_place", "river_section"),
    "status": (None, *SITE_STATUS_LABELS),
    "search": SEARCHES,
    "inspector": (None, "张三", "李四", "", "nobody"),
}


def _combinations() -> Iterator[dict[str, str | None]]:
    """Each filter alone (every value), every pair of filters, and a spread of all six."""
    names = list(FILTERS)
    for name in names:
        for value in FILTERS[name]:
            yield {name: value}
    for a, b in itertools.combinations(names, 2):
        for va, vb in itertools.product(FILTERS[a], FILTERS[b]):
            yield {a: va, b: vb}
    rng = random.Random(7)
    for _ in range(400):
        yield {name: rng.choice(values) for name, values in FILTERS.items()}


def test_the_ledger_has_every_case(proj: Projection) -> None:
    """The built ledger is varied enough: every status, open and late counts, two open
    inspections on one site, shared names, sites without an inspector."""
    every = [r for today in TODAYS for r in _reference_rows(proj, today)]
    assert {r.status for r in every} == set(SITE_STATUS_LABELS)
    assert any(r.overdue_findings and r.open_findings > r.overdue_findings for r in every)
    late = _reference_rows(proj, TODAYS[-1])
    assert any(r.inspections >= 2 for r in late)
    assert any(r.open_inspection and r.inspections for r in late)
    opened = [i.site_id for i in proj.inspections.values() if i.status == "open"]
    assert len(opened) > len(set(opened))
    names = [s.site.name for s in proj.sites.values()]
    assert names.count("同名自建房") > 1
    assert any(s.site.inspector == "" for s in proj.sites.values())
    for search in SEARCHES[2:-1]:
        assert search is not None
        found = _reference_filter(late, search=search)
        assert 0 < len(found) < len(late), search


@pytest.mark.parametrize("today", TODAYS)
def test_list_sites_is_filtering_every_row(proj: Projection, today: dt.date) -> None:
    """For each filter alone and combined, the same rows in the same order as the reference."""
    every = _reference_rows(proj, today)
    count = 0
    for kw in _combinations():
        assert list_sites(proj, today, **kw) == _reference_filter(every, **kw), kw
        count += 1
    assert count > 600


def test_unknown_status_is_refused(proj: Projection) -> None:
    """An unknown status is a ValueError, even when no site passes the other filters."""
    with pytest.raises(ValueError, match="unknown site status"):
        list_sites(proj, TODAYS[0], status="overdue_findings")
    with pytest.raises(ValueError, match="unknown site status"):
        list_sites(proj, TODAYS[0], status="nope", county="no-such-county")


@pytest.mark.parametrize("today", TODAYS)
def test_site_record_row_is_the_list_row(proj: Projection, today: dt.date) -> None:
    """A site's record carries the same row as the reference's for that site."""
    for row in _reference_rows(proj, today):
        record = site_record(proj, row.site.id, today)
        assert record is not None and record.row == row


HAZARD_FILTERS: dict[str, tuple[object, ...]] = {
    "county": (None, "平定县", "盂县", "no-such-county"),
    "township": (None, "冠山镇", "另一镇"),
    "level": (None, "一般", "重大"),
    "due_by": (None, dt.date(2020, 9, 5), dt.date(2020, 9, 20), dt.date(2020, 9, 30)),
    "overdue_only": (False, True),
    "site_id": (None, "S-000", "Ab-001", "Ab-004"),
}


@pytest.mark.parametrize("today", TODAYS)
def test_open_findings_is_filtering_every_row(proj: Projection, today: dt.date) -> None:
    """Every combination of the hazard filters gives the rows of every open hazard, filtered,
    in the order overdue first, then deadline, county, site name, finding id."""
    every = [finding_row(proj, f, today) for f in proj.findings.values() if f.is_open]
    every.sort(key=lambda r: (not r.overdue, r.deadline, r.county, r.site_name, r.finding_id))
    assert len({r.overdue for r in every}) == 2 or today in (TODAYS[0], TODAYS[-1])
    names = list(HAZARD_FILTERS)
    seen = 0
    for values in itertools.product(*HAZARD_FILTERS.values()):
        kw = dict(zip(names, values, strict=True))
        wanted = [
            r
            for r in every
            if (kw["county"] is None or r.county == kw["county"])
            and (kw["township"] is None or r.township == kw["township"])
            and (kw["level"] is None or r.level == kw["level"])
            and (kw["due_by"] is None or r.deadline <= kw["due_by"])  # type: ignore[operator]
            and (not kw["overdue_only"] or r.overdue)
            and (kw["site_id"] is None or r.site_id == kw["site_id"])
        ]
        assert open_findings(proj, today, **kw) == wanted, kw  # type: ignore[arg-type]
        seen += len(wanted)
    assert seen > 100
