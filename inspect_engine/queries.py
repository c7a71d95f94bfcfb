"""Questions the app, the reports and the office ask of a projection.

All of them run in memory over :class:`~inspect_engine.projection.Projection` (the ledger keeps it
built), so no query re-reads or re-parses a file. ``today`` is always passed in (from the clock),
so overdue is reproducible. Rows carry the ledger columns of domain-standards.md §4.3.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Literal

from inspect_engine.projection import FindingState, InspectionState, OrderState, Projection
from inspect_engine.rectification import (
    STATUS_LABELS,
    FiveImplementations,
    Status,
    effective_deadline,
    is_overdue,
    status_label,
)
from inspect_engine.site import PARTY_LABELS, Site

SiteStatus = Literal["not_inspected", "in_progress", "open_findings", "overdue", "clear"]
SITE_STATUS_LABELS: dict[str, str] = {
    "not_inspected": "未检查",
    "in_progress": "检查中",
    "open_findings": "有未销号隐患",
    "overdue": "有逾期隐患",
    "clear": "无未销号隐患",
}


@dataclass(frozen=True)
class FindingRow:
    """One line of the hazard ledger (隐患整改台账)."""

    finding_id: str
    site_id: str
    site_name: str
    county: str
    township: str
    address: str
    level: str
    title: str
    rule_id: str
    status: Status
    status_label: str
    deadline: dt.date
    overdue: bool
    days_overdue: int
    raised_at: str
    inspection_id: str
    consequences: tuple[str, ...]
    responsible: str
    """The responsible parties from the site record (谁审批/主管/拥有/使用谁负责)."""
    plan: FiveImplementations | None
    closed_at: str | None


def finding_row(proj: Projection, f: FindingState, today: dt.date) -> FindingRow:
    """The ledger row of a hazard finding."""
    status = f.status
    assert status is not None
    state = proj.sites.get(f.site_id)
    return hazard_row(f, status, state.site if state else None, today)


def hazard_row(f: FindingState, status: Status, site: Site | None, today: dt.date) -> FindingRow:
    """:func:`finding_row` of the hazard ``f``, given its ``status`` (``f.status``) and ``site``
    (its register entry in the projection, ``None`` if not registered), as
    :func:`open_hazards` yields them."""
    plan = f.plan
    deadline = effective_deadline(f.rule_deadline, plan)
    overdue = is_overdue(status, deadline, today)
    parties = [
        f"{resp.get('label', '')}:{resp['unit']}"
        for resp in f.data.get("responsible", [])
        if isinstance(resp, dict) and resp.get("unit")
    ]
    if not parties and site is not None:
        for role, label in PARTY_LABELS.items():
            rec = getattr(site.parties, role)
            if rec is not None:
                parties.append(f"{label}:{rec.unit}")
    if site is not None:
        name, county, township, address = site.name, site.county, site.township, site.address
    else:
        name, county, township, address = f.site_id, "", "", ""
    return FindingRow(
        finding_id=f.id,
        site_id=f.site_id,
        site_name=name,
        county=county,
        township=township,
        address=address,
        level=f.level,
        title=f.title,
        rule_id=f.rule_id,
        status=status,
        status_label=status_label(status, overdue),
        deadline=deadline,
        overdue=overdue,
        days_overdue=(today - deadline).days if overdue else 0,
        raised_at=f.raised_at,
        inspection_id=f.inspection_id,
        consequences=tuple(f.consequences),
        responsible="；".join(parties),
        plan=plan,
        closed_at=f.closed_at,
    )


def open_hazards(
    proj: Projection,
    today: dt.date,
    *,
    county: str | None = None,
    township: str | None = None,
    level: str | None = None,
    due_by: dt.date | None = None,
    overdue_only: bool = False,
    site_id: str | None = None,
) -> Iterator[tuple[FindingState, Status, Site | None]]:
    """The hazards not yet 销号 that pass every filter given, in the projection's order, each
    with its status and its site (``None`` if not registered): :func:`open_findings` before
    rows are made (a row reads the finding's document) and sorted.

    The county and township are the site's (empty when it is not registered), as in the row;
    ``overdue_only`` and ``due_by`` judge the deadline in force, as the row does.
    """
    sites = proj.sites
    for f in proj.findings.values():
        status = f.status
        if status is None or not f.is_open:
            continue
        if level is not None and f.level != level:
            continue
        if site_id is not None and f.site_id != site_id:
            continue
        if due_by is not None and f.deadline > due_by:
            continue
        if overdue_only and not f.overdue(today):
            continue
        state = sites.get(f.site_id)
        site = state.site if state else None
        if county is not None and (site.county if site else "") != county:
            continue
        if township is not None and (site.township if site else "") != township:
            continue
        yield f, status, site


def open_order(row: FindingRow) -> tuple[bool, dt.date, str, str, str]:
    """The order of :func:`open_findings`: overdue first (most overdue first: the earliest
    deadline), then by deadline, county, site name and finding id."""
    return (not row.overdue, row.deadline, row.county, row.site_name, row.finding_id)


def open_findings(
    proj: Projection,
    today: dt.date,
    *,
    county: str | None = None,
    township: str | None = None,
    level: str | None = None,
    due_by: dt.date | None = None,
    overdue_only: bool = False,
    site_id: str | None = None,
) -> list[FindingRow]:
    """Hazards not yet 销号: overdue first (most overdue first), then by deadline, county, site.

    The filters are applied before the rows are made (:func:`open_hazards`).
    """
    hazards = open_hazards(
        proj,
        today,
        county=county,
        township=township,
        level=level,
        due_by=due_by,
        overdue_only=overdue_only,
        site_id=site_id,
    )
    rows = [hazard_row(f, status, site, today) for f, status, site in hazards]
    rows.sort(key=open_order)
    return rows


@dataclass
class StatusCounts:
    """Hazard findings by status, as of a date; ``overdue`` counts open ones past deadline."""

    today: dt.date
    total: Counter[str] = field(default_factory=Counter)
    """Status value → count (``open``, ``in_progress``, ``reported``, ``closed``)."""
    overdue: int = 0
    by_county: dict[str, Counter[str]] = field(default_factory=dict)
    """County → status value (plus ``overdue``) → count."""
    by_level: dict[str, Counter[str]] = field(default_factory=dict)
    """一般/重大 → status value (plus ``overdue``) → count."""

    def labelled(self) -> dict[str, int]:
        """Totals under their Chinese labels, plus 逾期."""
        out = {STATUS_LABELS[s]: self.total.get(s.value, 0) for s in Status}
        out["逾期"] = self.overdue
        return out


def status_counts(proj: Projection, today: dt.date) -> StatusCounts:
    """Count hazards by status, county and level; overdue judged on ``today``."""
    counts = StatusCounts(today)
    for f in proj.findings.values():
        if f.status is None:
            continue
        state = proj.sites.get(f.site_id)
        county = state.site.county if state else ""
        late = f.overdue(today)
        for bucket in (
            counts.total,
            counts.by_county.setdefault(county, Counter()),
            counts.by_level.setdefault(f.level, Counter()),
        ):
            bucket[f.status.value] += 1
            if late:
                bucket["overdue"] += 1
        if late:
            counts.overdue += 1
    counts.total.pop("overdue", None)
    return counts


@dataclass(frozen=True)
class SiteRow:
    """A site in a list, with what the app shows beside it."""

    site: Site
    status: SiteStatus
    status_label: str
    inspections: int
    last_inspected: str | None
    open_findings: int
    overdue_findings: int
    open_inspection: str | None


_SITE_ORDER = attrgetter("county", "township", "village", "name", "id")
"""The order of a site list: by county, township, village, name (the id breaks ties)."""


def _site_rows(
    proj: Projection,
    today: dt.date,
    sites: Sequence[tuple[str, Site]],
    status: str | None = None,
) -> list[SiteRow]:
    """The rows of ``sites`` (registered id, register entry), in that order; with ``status``,
    only those in it (``open_findings`` includes ``overdue``).

    The inspections and the findings are each read once and tallied by site, for the sites
    asked for only: one site's row costs a pass over them, not the rows of every site.
    """
    wanted = {site_id for site_id, _ in sites}
    done: dict[str, int] = {}
    last: dict[str, str] = {}
    open_insp: dict[str, str] = {}
    for insp in proj.inspections.values():
        site_id = insp.site_id
        if site_id not in wanted:
            continue
        if insp.status == "submitted":
            started = insp.started_at
            n = done.get(site_id)
            if n is None:
                done[site_id] = 1
                last[site_id] = started
            else:
                done[site_id] = n + 1
                if started > last[site_id]:
                    last[site_id] = started
        elif insp.status == "open" and site_id not in open_insp:
            open_insp[site_id] = insp.id
    open_f: dict[str, int] = {}
    late_f: dict[str, int] = {}
    for f in proj.findings.values():
        site_id = f.site_id
        if site_id in wanted and f.is_open:
            open_f[site_id] = open_f.get(site_id, 0) + 1
            if f.overdue(today):
                late_f[site_id] = late_f.get(site_id, 0) + 1
    accept = None
    if status is not None:
        accept = ("open_findings", "overdue") if status == "open_findings" else (status,)
    rows = []
    for site_id, site in sites:
        late = late_f.get(site_id, 0)
        n_open = open_f.get(site_id, 0)
        n_done = done.get(site_id, 0)
        row_status: SiteStatus
        if late:
            row_status = "overdue"
        elif n_open:
            row_status = "open_findings"
        elif site_id in open_insp:
            row_status = "in_progress"
        elif not n_done:
            row_status = "not_inspected"
        else:
            row_status = "clear"
        if accept is not None and row_status not in accept:
            continue
        rows.append(
            SiteRow(
                site=site,
                status=row_status,
                status_label=SITE_STATUS_LABELS[row_status],
                inspections=n_done,
                last_inspected=last.get(site_id),
                open_findings=n_open,
                overdue_findings=late,
                open_inspection=open_insp.get(site_id),
            )
        )
    return rows


def list_sites(
    proj: Projection,
    today: dt.date,
    *,
    county: str | None = None,
    township: str | None = None,
    site_type: str | None = None,
    status: str | None = None,
    search: str | None = None,
    inspector: str | None = None,
) -> list[SiteRow]:
    """Sites matching every filter given, by county, township, village, name.

    ``status``: ``not_inspected``, ``in_progress``, ``open_findings`` (includes overdue),
    ``overdue``, ``clear``. ``search`` matches id, name, village or address (case-insensitive).

    The register's filters are applied first and rows are made only for the sites that pass
    them; the status, which needs the site's inspections and findings, is judged on those rows
    (``tests/test_queries.py`` compares this with filtering the rows of every site).
    """
    if status is not None and status not in SITE_STATUS_LABELS:
        raise ValueError(f"unknown site status {status!r}")
    needle = search.casefold() if search else None
    chosen = []
    for site_id, state in proj.sites.items():
        s = state.site
        if county is not None and s.county != county:
            continue
        if township is not None and s.township != township:
            continue
        if site_type is not None and site_type not in s.site_types:
            continue
        if inspector is not None and s.inspector != inspector:
            continue
        if needle is not None:
            hay = " ".join((s.id, s.name, s.village, s.address)).casefold()
            if needle not in hay:
                continue
        chosen.append((site_id, s))
    if not chosen:
        return []
    rows = _site_rows(proj, today, chosen, status)
    rows.sort(key=lambda row: _SITE_ORDER(row.site))
    return rows


@dataclass(frozen=True)
class SiteRecord:
    """A site's file (一户一档): register entry, inspections, findings, orders."""

    site: Site
    row: SiteRow
    inspections: list[InspectionState]
    """Newest first."""
    open_findings: list[FindingRow]
    closed_findings: list[FindingState]
    other_findings: list[FindingState]
    """Findings that are not hazards (recorded, not rectified)."""
    orders: list[OrderState]


def site_record(proj: Projection, site_id: str, today: dt.date) -> SiteRecord | None:
    """Everything about one site, or ``None`` if it is not registered."""
    state = proj.sites.get(site_id)
    if state is None:
        return None
    inspections = sorted(
        (i for i in proj.inspections.values() if i.site_id == site_id),
        key=lambda i: (i.started_at, i.id),
        reverse=True,
    )
    mine = [f for f in proj.findings.values() if f.site_id == site_id]
    return SiteRecord(
        site=state.site,
        row=_site_rows(proj, today, [(site_id, state.site)])[0],
        inspections=inspections,
        open_findings=open_findings(proj, today, site_id=site_id),
        closed_findings=[f for f in mine if f.status == Status.CLOSED],
        other_findings=[f for f in mine if f.status is None],
        orders=sorted(
            (o for o in proj.orders.values() if o.site_id == site_id),
            key=lambda o: (o.ordered_on, o.id),
        ),
    )
