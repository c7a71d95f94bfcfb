"""Tallies: the campaign's figures as of a cut-off, grouped by one dimension.

Definitions (docs/reports.md, "Tallies"; every report's footnote says the same):

* **排查场所** (sites inspected): registered sites with at least one inspection submitted by the
  cut-off (with ``--pack``: under that pack). Not defined per section or hazard level (``—``).
* **发现隐患** (hazards found): hazard findings (``hazard: true``; the ledger gives them a status)
  raised by the cut-off; **其中重大**: of level 重大.
* **已整改** (rectified): status at the cut-off 已整改待复查 or 销号; **销号** (verified closed):
  销号. A reopened finding is back in 整改中 and is not rectified.
* **整改率** = 已整改 ÷ 发现隐患, **销号率** = 销号 ÷ 发现隐患 (``—`` when nothing was found).
* **逾期** (overdue): not 销号 and the cut-off's date (China time) after its deadline in force
  (the 五落实 时限 once recorded, else the rule's).
* **重大未销号**: 重大 hazards not 销号 (in any status before it, 已整改待复查 included).
* **处置措施** (enforcement orders) by kind: ordered by the cut-off, and of those still in force
  or lifted at the cut-off. An order counts under its site's county, township, group and types,
  and under its finding's pack, section and level; an order linked to no finding appears in the
  total only when grouping by pack, section or level.

A site with several site types counts under each of them (so rows by site type may add up to more
than the total). A finding's section is the pack section holding its rule, looked up in the pack
version the finding pinned, else in the version in force of the same pack, else ``未知章节``.

:func:`tally` takes the projection **as of the cut-off** (:func:`projection_at`: derived from the
ledger's projection by :func:`inspect_engine.asof.as_of`, equal to replaying the events up to the
cut-off); the same ledger and cut-off give the same rows in the same order, so the output is
byte-identical. A report with several tables collects what they read once with :func:`gather`
(the hazards in scope with their deadline and marks, the submitted inspections, the orders) and
counts several dimensions in one pass with :func:`tallies_of`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, NamedTuple

from inspect_engine.clock import CHINA
from inspect_engine.errors import InputError
from inspect_engine.ledger import Ledger
from inspect_engine.packs import version_key
from inspect_engine.projection import FindingState, InspectionState, OrderState, Projection
from inspect_engine.rectification import ORDER_KINDS, Status, is_overdue
from inspect_engine.reports.tabular import Column, Kind, Row, Table
from inspect_engine.rulepack import RulePack
from inspect_engine.site import Site
from inspect_engine.site_import import YANGQUAN_COUNTIES

DIMENSIONS: dict[str, str] = {
    "county": "县区",
    "township": "乡镇（街道）",
    "group": "帮扶督导组",
    "pack": "专项行动",
    "section": "检查章节",
    "site_type": "场所类型",
    "level": "隐患等级",
}
"""The dimensions a tally groups by, with the Chinese head of their column."""

RECTIFIED = frozenset((Status.REPORTED, Status.CLOSED))
"""Statuses that count as rectified (已整改): reported awaiting re-inspection, or 销号."""

UNKNOWN_SECTION = "未知章节"
UNREGISTERED = "（未登记场所）"
NO_GROUP = "（未分组）"
MAJOR = "重大"

DEFINITIONS: tuple[str, ...] = (
    "排查场所：截止时已提交检查的登记场所数；发现隐患：截止时已登记的隐患（不含非隐患问题）。",
    "已整改：截止时状态为“已整改待复查”或“销号”（重新整改的不计）；整改率 = 已整改 ÷ 发现隐患；"
    "销号率 = 销号 ÷ 发现隐患。",
    "逾期：截止日（北京时间）已过整改期限（已落实“五落实”的以其时限为准）且未销号；"
    "重大未销号：重大隐患中尚未销号的（含已整改待复查）。",
)
"""The definitions, as the reports' footnotes state them."""

Key = tuple[Any, ...]
"""A bucket's sort key; its last element is its label."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Which part of the ledger a report covers: all of it, or one county, group and/or pack."""

    county: str | None = None
    group: str | None = None
    pack: str | None = None

    def label(self) -> str:
        """``全市``, or the filters joined: ``第四帮扶督导组 · 平定县``."""
        parts = [p for p in (self.group, self.county) if p]
        return " · ".join(parts) if parts else "全市"

    def site_ok(self, site: Site | None) -> bool:
        """Whether a site is inside the scope (an unregistered site only in the whole city)."""
        if site is None:
            return self.county is None and self.group is None
        if self.county is not None and site.county != self.county:
            return False
        return self.group is None or site.group == self.group


class PackIndex:
    """The loaded packs, indexed for reports: versions in force, sections of rules, labels.

    ``packs`` may hold several versions of one pack; the highest is the one in force.
    """

    def __init__(self, packs: Sequence[RulePack]) -> None:
        self.by_version: dict[tuple[str, str], RulePack] = {(p.id, p.version): p for p in packs}
        self.in_force: dict[str, RulePack] = {}
        for pack in sorted(packs, key=lambda p: (p.id, version_key(p.version) or (0, 0, 0))):
            self.in_force[pack.id] = pack
        self._sections: dict[tuple[str, str], dict[str, tuple[int, str, str]]] = {}
        self._types: dict[str, tuple[int, int, str]] = {}
        for p_no, pack in enumerate(self.in_force.values()):
            for t_no, site_type in enumerate(pack.manifest.site_types):
                self._types.setdefault(site_type.id, (p_no, t_no, site_type.label.zh))
        self._ranks = {code: n for n, code in enumerate(ORDER_KINDS)}
        self._orders: dict[str, str] = dict(ORDER_KINDS)
        for pack in self.in_force.values():
            for code, cons in pack.consequences.items():
                self._orders.setdefault(code, cons.zh)

    def _rule_sections(self, pack: RulePack) -> dict[str, tuple[int, str, str]]:
        key = (pack.id, pack.version)
        found = self._sections.get(key)
        if found is None:
            found = {
                rule.id: (s_no, section.id, f"{section.ref} {section.title.zh}")
                for s_no, section in enumerate(pack.sections)
                for rule in section.rules
            }
            self._sections[key] = found
        return found

    def section(self, pack_id: str, version: str, rule_id: str) -> tuple[int, str, str]:
        """``(position, section id, label)`` of the section holding ``rule_id`` (see module)."""
        for pack in (self.by_version.get((pack_id, version)), self.in_force.get(pack_id)):
            if pack is not None:
                hit = self._rule_sections(pack).get(rule_id)
                if hit is not None:
                    return hit
        return (10_000, "", UNKNOWN_SECTION)

    def pack_label(self, pack_id: str) -> str:
        """The campaign document's number (``阳政办发〔2020〕99号``), else the pack id."""
        pack = self.in_force.get(pack_id)
        return pack.manifest.provenance.doc_number if pack is not None else pack_id

    def site_type(self, type_id: str) -> tuple[int, int, str]:
        """``(pack position, type position, label)``; unknown types sort last under their id."""
        return self._types.get(type_id, (10_000, 0, type_id))

    def order_label(self, code: str) -> str:
        """The Chinese wording of an order kind (``责令停止使用``), else its code."""
        return self._orders.get(code, code)

    def order_rank(self, code: str) -> tuple[int, str]:
        """Sort key of order kinds: the catalogue's order, unknown codes after, by code."""
        rank = self._ranks.get(code)
        return (rank, "") if rank is not None else (len(self._ranks), code)

    def pack_types(self, pack_id: str) -> set[str]:
        """The site types the pack in force inspects (empty if the pack is not loaded)."""
        pack = self.in_force.get(pack_id)
        return {t.id for t in pack.manifest.site_types} if pack is not None else set()


_ZH_NUMERAL = re.compile(r"[零一二三四五六七八九十]+")
_ZH_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")}


def _zh_number(run: str) -> int:
    """``十二`` → 12, ``二十`` → 20, ``三`` → 3 (numerals below a hundred, as group names use)."""
    if "十" not in run:
        return int("".join(str(_ZH_DIGITS[c]) for c in run))
    tens, _, units = run.partition("十")
    return _ZH_DIGITS.get(tens[-1:], 1) * 10 + (_ZH_DIGITS.get(units[:1], 0) if units else 0)


def zh_order(text: str) -> tuple[Any, ...]:
    """A sort key that orders numbers by value, Chinese numerals included: 第二组 before 第十组,
    第一 before 第三. Alternates text and numbers, so any two keys compare."""
    digits = _ZH_NUMERAL.sub(lambda m: str(_zh_number(m[0])), text)
    parts = re.split(r"(\d+)", digits)
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


def county_key(county: str) -> Key:
    """Yangquan's counties in the official order (yangquan.md), others after by name."""
    rank = (
        YANGQUAN_COUNTIES.index(county) if county in YANGQUAN_COUNTIES else len(YANGQUAN_COUNTIES)
    )
    return (rank, county, county)


def cutoff_day(cutoff: dt.datetime) -> dt.date:
    """The date overdue is judged on: the cut-off's date in China time."""
    return cutoff.astimezone(CHINA).date()


def projection_at(ledger: Ledger, cutoff: dt.datetime) -> Projection:
    """The ledger's state as of ``cutoff``: :func:`~inspect_engine.asof.as_of` of its projection
    (sites, inspections, findings and orders cut at the cut-off from their recorded histories;
    without answers, which reports never read), or the projection itself when nothing in it is
    later than the cut-off (:func:`~inspect_engine.asof.later_than`).

    Neither reads the ledger's events: ``as_of`` takes 0.1–0.2 s on the city ledger (522,292
    events), where replaying the events up to the cut-off (``Ledger.projection_as_of``) took
    0.6 s and needs every event in memory. The result equals that replay whenever the events'
    times agree with the ledger's order (:mod:`inspect_engine.asof` says when they may not).
    """
    return ledger.state_at(cutoff)


def check_scope(proj: Projection, packs: PackIndex, scope: Scope) -> None:
    """:class:`InputError` for an empty ledger, or naming the known values when a filter matches
    nothing in the ledger."""
    if not proj.sites:
        raise InputError(
            "台账为空：没有登记任何场所 / the ledger is empty (no site registered)",
            hint="import the site register first: inspect-engine sites import FILE",
        )
    sites = [s.site for s in proj.sites.values()]
    if scope.county is not None and all(s.county != scope.county for s in sites):
        known = sorted({s.county for s in sites}, key=county_key)
        raise InputError(
            f"台账中没有县区“{scope.county}” / unknown county {scope.county!r}"
            f"（已有：{'、'.join(known) or '无'}）"
        )
    if scope.group is not None and all(s.group != scope.group for s in sites):
        known = sorted({s.group for s in sites if s.group}, key=zh_order)
        raise InputError(
            f"台账中没有帮扶督导组“{scope.group}” / unknown supervision group {scope.group!r}"
            f"（已有：{'、'.join(known) or '无'}）"
        )
    if scope.pack is not None and scope.pack not in packs.in_force:
        known = sorted(packs.in_force)
        raise InputError(
            f"没有规则包“{scope.pack}” / unknown rule pack {scope.pack!r}"
            f"（已安装：{'、'.join(known) or '无'}）"
        )


def site_of(proj: Projection, site_id: str) -> Site | None:
    """The site record in force, ``None`` when the site was never registered."""
    state = proj.sites.get(site_id)
    return state.site if state is not None else None


def finding_pack(f: FindingState) -> str:
    """The pack a finding was judged under."""
    return f.pack_id


def hazards_in_scope(
    proj: Projection, packs: PackIndex, scope: Scope
) -> Iterator[tuple[FindingState, Site | None]]:
    """Hazard findings (status not ``None``) inside the scope, with their site."""
    sites = proj.sites
    for f in proj.findings.values():
        if f.status is None:
            continue
        if scope.pack is not None and finding_pack(f) != scope.pack:
            continue
        state = sites.get(f.site_id)
        site = state.site if state is not None else None
        if scope.site_ok(site):
            yield f, site


def submitted_in_scope(
    proj: Projection, scope: Scope
) -> Iterator[tuple[InspectionState, Site | None]]:
    """Submitted inspections (under ``scope.pack`` if set) at sites inside the scope, with their
    site."""
    sites = proj.sites
    for insp in proj.inspections.values():
        if insp.status != "submitted":
            continue
        if scope.pack is not None and insp.pack_id != scope.pack:
            continue
        state = sites.get(insp.site_id)
        site = state.site if state is not None else None
        if scope.site_ok(site):
            yield insp, site


def orders_in_scope(
    proj: Projection, packs: PackIndex, scope: Scope
) -> Iterator[tuple[OrderState, Site | None, FindingState | None]]:
    """Enforcement orders inside the scope, with their site and finding (if linked).

    With a pack filter: orders linked to a finding of that pack, or linked to none at a site of
    one of the pack's site types.
    """
    types = packs.pack_types(scope.pack) if scope.pack is not None else set()
    for order in proj.orders.values():
        site = site_of(proj, order.site_id)
        if not scope.site_ok(site):
            continue
        finding = proj.findings.get(order.finding_id) if order.finding_id else None
        if scope.pack is not None:
            if finding is not None and finding_pack(finding) != scope.pack:
                continue
            if finding is None and (site is None or not types & set(site.site_types)):
                continue
        yield order, site, finding


# --- what a report reads, gathered once ---------------------------------------------------------


class HazardMarks(NamedTuple):
    """What one hazard adds to the figures of every bucket it counts in (module docstring)."""

    major: bool
    rectified: bool
    closed: bool
    overdue: bool


class Hazard(NamedTuple):
    """A hazard finding inside a report's scope, with its site and what the tables read of it,
    each computed once per report."""

    finding: FindingState
    site: Site | None
    deadline: dt.date
    """The deadline in force (``finding.deadline``)."""
    marks: HazardMarks


def hazard_marks(f: FindingState, deadline: dt.date, today: dt.date) -> HazardMarks:
    """The marks of a hazard finding (status not ``None``) with ``deadline`` in force, overdue
    judged on ``today``: as :meth:`Figures.add_finding` counts it."""
    status = f.status
    assert status is not None
    return HazardMarks(
        major=f.level == MAJOR,
        rectified=status in RECTIFIED,
        closed=status == Status.CLOSED,
        overdue=is_overdue(status, deadline, today),
    )


_MARKS = {
    (major, rectified, closed, overdue): HazardMarks(major, rectified, closed, overdue)
    for major in (False, True)
    for rectified in (False, True)
    for closed in (False, True)
    for overdue in (False, True)
}
"""Every :class:`HazardMarks`, made once: :func:`gather` picks one instead of making one per
hazard."""


class Submission(NamedTuple):
    """A submitted inspection inside a report's scope, with its site and what the tallies and
    the weekly series read of it, read once (:class:`InScope`)."""

    inspection: InspectionState
    site: Site | None
    site_id: str
    pack_id: str
    submitted_at: str | None


@dataclass(frozen=True)
class InScope:
    """The hazards, submitted inspections and orders of a projection inside a scope, each with
    its site: gathered in one pass (:func:`gather`), so that every table of a report (the
    tallies, the weekly series, the 重大 list, the orders) reads them without walking the
    projection again.

    The lists keep the projection's order and refer to its objects: the projection must not change
    while the gathering is used (a state as of a cut-off never does). What the tables read of
    each inspection is copied into its :class:`Submission` once: the tallies and the series then
    read compact tuples instead of looking fields up in 23,000 inspections again (on the city,
    reading four fields of each inspection costs about 4 ms per pass).
    """

    projection: Projection
    scope: Scope
    cutoff: dt.datetime
    """Aware; overdue is judged on its date in China time (:attr:`today`)."""
    hazards: list[Hazard]
    """As :func:`hazards_in_scope` yields them."""
    submitted: list[Submission]
    """The inspections :func:`submitted_in_scope` yields, in its order."""
    orders: list[tuple[OrderState, Site | None, FindingState | None]]
    """As :func:`orders_in_scope` yields them."""
    sites: dict[str, Site]
    """The registered sites inside the scope, by id, in the projection's order."""

    @property
    def today(self) -> dt.date:
        """The date overdue is judged on (:func:`cutoff_day`)."""
        return cutoff_day(self.cutoff)


def gather(projection: Projection, packs: PackIndex, scope: Scope, cutoff: dt.datetime) -> InScope:
    """What the tables of a report as of ``cutoff`` read of ``projection`` (the state as of that
    cut-off) inside ``scope``. :class:`InputError` when ``cutoff`` is naive.

    The same selection as :func:`hazards_in_scope`, :func:`submitted_in_scope` and
    :func:`orders_in_scope` (the tests compare them), made with the sites inside the scope
    looked up once each rather than tested per hazard, inspection and order.
    """
    if cutoff.tzinfo is None:
        raise InputError("the cut-off time must be timezone-aware")
    today = cutoff_day(cutoff)
    sites = _sites_in_scope(projection, scope)
    # a site missing from ``sites``: out of the scope, or never registered (in the whole city)
    unregistered_ok = scope.site_ok(None)
    pack = scope.pack
    site_get = sites.get
    new = tuple.__new__
    closed_status = Status.CLOSED

    hazards: list[Hazard] = []
    for f in projection.findings.values():
        status = f.status
        if status is None or (pack is not None and f.pack_id != pack):
            continue
        site = site_get(f.site_id)
        if site is None and not unregistered_ok:
            continue
        deadline = f.deadline
        closed = status == closed_status
        marks = _MARKS[
            f.level == MAJOR, status in RECTIFIED, closed, not closed and today > deadline
        ]
        hazards.append(new(Hazard, (f, site, deadline, marks)))

    submitted: list[Submission] = [
        new(Submission, (insp, site, insp.site_id, insp.pack_id, insp.submitted_at))
        for insp in projection.inspections.values()
        if insp.status == "submitted"
        and (pack is None or insp.pack_id == pack)
        and ((site := site_get(insp.site_id)) is not None or unregistered_ok)
    ]

    return InScope(
        projection=projection,
        scope=scope,
        cutoff=cutoff,
        hazards=hazards,
        submitted=submitted,
        orders=list(orders_in_scope(projection, packs, scope)),
        sites=sites,
    )


def _sites_in_scope(projection: Projection, scope: Scope) -> dict[str, Site]:
    """The registered sites inside ``scope`` by id (:meth:`Scope.site_ok`)."""
    states = projection.sites
    if scope.county is None and scope.group is None:
        return {site_id: state.site for site_id, state in states.items()}
    return {site_id: site for site_id, state in states.items() if scope.site_ok(site := state.site)}


# --- buckets ------------------------------------------------------------------------------------

SITE_DIMENSIONS = ("county", "township", "group", "site_type")
"""The dimensions that bucket by the site: every registered site's buckets appear as rows."""


def site_keys(by: str, site: Site | None, packs: PackIndex) -> list[Key]:
    """The buckets a site counts in for a site dimension (several for several site types)."""
    if by == "county":
        return [county_key(site.county) if site else (99, "", UNREGISTERED)]
    if by == "township":
        if site is None:
            return [(99, "", "", UNREGISTERED)]
        return [(*county_key(site.county)[:2], site.township, f"{site.county}·{site.township}")]
    if by == "group":
        group = site.group if site and site.group else NO_GROUP
        return [(group == NO_GROUP, zh_order(group), group)]
    if by == "site_type":
        if site is None:
            return [(10_001, 0, UNREGISTERED)]
        return [packs.site_type(t) for t in dict.fromkeys(site.site_types)]
    raise ValueError(by)


_SITE_READS: dict[str, Callable[[Site], Hashable]] = {
    "county": attrgetter("county"),
    "township": attrgetter("county", "township"),
    "group": attrgetter("group"),
    "site_type": lambda site: tuple(site.site_types),
}
"""All that :func:`site_keys` reads of a site, per site dimension: equal values, equal keys."""

_NO_SITE = object()


def pack_key(packs: PackIndex, pack_id: str) -> Key:
    """The bucket of a pack when grouping by pack."""
    return (pack_id, packs.pack_label(pack_id))


def finding_keys(by: str, f: FindingState, site: Site | None, packs: PackIndex) -> list[Key]:
    """The buckets a finding counts in."""
    if by in SITE_DIMENSIONS:
        return site_keys(by, site, packs)
    if by == "pack":
        return [pack_key(packs, finding_pack(f))]
    if by == "section":
        pack_id = finding_pack(f)
        pos, section_id, label = packs.section(pack_id, f.pack_version, f.rule_id)
        shown = label if label == UNKNOWN_SECTION else f"{packs.pack_label(pack_id)} {label}"
        return [(pack_id, pos, section_id, shown)]
    if by == "level":
        return [(f.level != MAJOR, f.level, f.level)]
    raise ValueError(by)


# --- figures ------------------------------------------------------------------------------------


@dataclass
class OrderCount:
    """Orders of one kind: ordered by the cut-off, and of those in force or lifted at it."""

    ordered: int = 0
    in_force: int = 0
    lifted: int = 0

    def add(self, order: OrderState) -> None:
        """Count one order."""
        self.ordered += 1
        if order.in_force:
            self.in_force += 1
        else:
            self.lifted += 1


@dataclass
class Figures:
    """The figures of one bucket (or the total)."""

    label: str
    sites: set[str] | None = field(default_factory=set)
    """Ids of the sites inspected; ``None`` where the dimension does not define it."""
    found: int = 0
    found_major: int = 0
    rectified: int = 0
    closed: int = 0
    overdue: int = 0
    major_open: int = 0
    orders: dict[str, OrderCount] = field(default_factory=dict)

    @property
    def sites_inspected(self) -> int | None:
        """How many sites were inspected (``None``: not defined for this dimension)."""
        return None if self.sites is None else len(self.sites)

    @property
    def rate(self) -> float | None:
        """整改率: rectified ÷ found (``None`` when nothing was found)."""
        return self.rectified / self.found if self.found else None

    @property
    def close_rate(self) -> float | None:
        """销号率: closed ÷ found."""
        return self.closed / self.found if self.found else None

    def add_finding(self, f: FindingState, today: dt.date) -> None:
        """Count one hazard finding (its status is the one at the cut-off)."""
        self.add_marks(hazard_marks(f, f.deadline, today))

    def add_marks(self, marks: HazardMarks, times: int = 1) -> None:
        """Count ``times`` hazards with these marks (:func:`hazard_marks`)."""
        self.found += times
        if marks.major:
            self.found_major += times
            if not marks.closed:
                self.major_open += times
        if marks.rectified:
            self.rectified += times
        if marks.closed:
            self.closed += times
        if marks.overdue:
            self.overdue += times

    def add_order(self, order: OrderState) -> None:
        """Count one enforcement order."""
        self.orders.setdefault(order.kind, OrderCount()).add(order)

    def add_orders(self, kind: str, in_force: bool, times: int) -> None:
        """Count ``times`` orders of ``kind``, in force or lifted (:meth:`add_order` of each)."""
        count = self.orders.setdefault(kind, OrderCount())
        count.ordered += times
        if in_force:
            count.in_force += times
        else:
            count.lifted += times

    def orders_in_force(self) -> int:
        """Orders of every kind still in force."""
        return sum(c.in_force for c in self.orders.values())

    def orders_lifted(self) -> int:
        """Orders of every kind lifted."""
        return sum(c.lifted for c in self.orders.values())

    def as_json(self, kinds: Sequence[str]) -> dict[str, Any]:
        """The figures as JSON (rates rounded to 4 places; orders for every kind in ``kinds``)."""
        return {
            "label": self.label,
            "sites_inspected": self.sites_inspected,
            "found": self.found,
            "found_major": self.found_major,
            "rectified": self.rectified,
            "closed": self.closed,
            "rate": None if self.rate is None else round(self.rate, 4),
            "close_rate": None if self.close_rate is None else round(self.close_rate, 4),
            "overdue": self.overdue,
            "major_open": self.major_open,
            "orders": {
                k: {
                    "ordered": self.orders.get(k, OrderCount()).ordered,
                    "in_force": self.orders.get(k, OrderCount()).in_force,
                    "lifted": self.orders.get(k, OrderCount()).lifted,
                }
                for k in kinds
            },
        }


@dataclass
class Tally:
    """The result of :func:`tally`: rows in report order, the total, and the order kinds seen."""

    by: str
    cutoff: dt.datetime
    scope: Scope
    rows: list[Figures]
    total: Figures
    order_kinds: list[str]
    """Order kinds present, in the catalogue's order."""
    order_labels: dict[str, str]
    keys: list[Key] = field(default_factory=list)
    """The rows' bucket keys, in row order (the last element of each is the row's label)."""

    def figures_of(self, key: Key) -> Figures | None:
        """The row of bucket ``key`` (:func:`pack_key`, say); ``None`` when nothing counted
        under it."""
        for k, row in zip(self.keys, self.rows, strict=True):
            if k == key:
                return row
        return None

    def table(self, title: str | None = None) -> Table:
        """The tally as a :class:`Table` (Chinese heads, the definitions as notes)."""
        columns = [
            Column("key", DIMENSIONS[self.by]),
            Column("sites_inspected", "排查场所", Kind.INT),
            Column("found", "发现隐患", Kind.INT),
            Column("found_major", "其中重大", Kind.INT),
            Column("rectified", "已整改", Kind.INT),
            Column("closed", "销号", Kind.INT),
            Column("rate", "整改率", Kind.PERCENT),
            Column("close_rate", "销号率", Kind.PERCENT),
            Column("overdue", "逾期", Kind.INT),
            Column("major_open", "重大未销号", Kind.INT),
        ]
        columns += [Column(f"order_{k}", self.order_labels[k], Kind.INT) for k in self.order_kinds]
        if self.order_kinds:
            columns += [
                Column("orders_in_force", "处置措施在执行", Kind.INT),
                Column("orders_lifted", "处置措施已解除", Kind.INT),
            ]
        notes = list(DEFINITIONS)
        if self.by == "site_type":
            notes.append("一个场所有多个类型的，分别计入各类型，各行之和可能大于合计。")
        if self.order_kinds:
            notes.append("处置措施各列为截止时已下达的数量（含已解除）。")
        when = self.cutoff.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
        return Table(
            title=title or f"按{DIMENSIONS[self.by]}统计（截至 {when}，{self.scope.label()}）",
            columns=tuple(columns),
            rows=tuple(self._row(f) for f in self.rows),
            total=self._row(self.total),
            notes=tuple(notes),
            key=f"tally_{self.by}",
        )

    def _row(self, f: Figures) -> Row:
        values: list[Any] = [
            f.label,
            f.sites_inspected,
            f.found,
            f.found_major,
            f.rectified,
            f.closed,
            f.rate,
            f.close_rate,
            f.overdue,
            f.major_open,
        ]
        values += [f.orders.get(k, OrderCount()).ordered for k in self.order_kinds]
        if self.order_kinds:
            values += [f.orders_in_force(), f.orders_lifted()]
        return tuple(values)

    def as_json(self) -> dict[str, Any]:
        """The versioned JSON form (``"format": 1``) of ``report tallies --format json``."""
        return {
            "format": 1,
            "cutoff": self.cutoff.isoformat(),
            "by": self.by,
            "scope": {
                "county": self.scope.county,
                "group": self.scope.group,
                "pack": self.scope.pack,
            },
            "order_kinds": {k: self.order_labels[k] for k in self.order_kinds},
            "rows": [f.as_json(self.order_kinds) for f in self.rows],
            "total": self.total.as_json(self.order_kinds),
            "definitions": list(DEFINITIONS),
        }


def tally(
    projection: Projection,
    packs: Sequence[RulePack] | PackIndex,
    cutoff: dt.datetime,
    by: str = "county",
    *,
    scope: Scope | None = None,
) -> Tally:
    """The figures of ``projection`` grouped ``by`` a dimension (:data:`DIMENSIONS`).

    ``projection`` must be the ledger's state as of ``cutoff`` (:func:`projection_at`):
    statuses are read as they are in it; ``cutoff`` gives the date overdue is judged on. Rows come
    in report order (counties in the official order, groups by number, sections in document order,
    重大 before 一般), the total last. Filters in ``scope`` must have been checked
    (:func:`check_scope`); here they only select.
    """
    _check_dimension(by)
    index = packs if isinstance(packs, PackIndex) else PackIndex(packs)
    return tallies_of(gather(projection, index, scope or Scope(), cutoff), index, (by,))[by]


def tallies_of(gathered: InScope, packs: PackIndex, bys: Sequence[str]) -> dict[str, Tally]:
    """The tallies by each dimension in ``bys``, counted in one pass over ``gathered``.

    ``tallies_of(gather(projection, packs, scope, cutoff), packs, bys)[by]`` equals
    ``tally(projection, packs, cutoff, by, scope=scope)``: the Friday report takes its counties
    and its per-pack phase figures from one call. The tallies share one total.
    """
    for by in bys:
        _check_dimension(by)
    groupings = {by: _Grouping(by, packs) for by in bys}
    by_site = [g for g in groupings.values() if g.by in SITE_DIMENSIONS]
    if by_site:
        _add_registered(gathered, packs, by_site)
    total = Figures("合计")
    submitted = gathered.submitted
    inspected = {s.site_id: s.site for s in submitted}  # site id → site
    by_pack: dict[str, set[str]] = {}  # pack id → ids of the sites inspected under it
    if "pack" in groupings:
        for pack_id in dict.fromkeys([s.pack_id for s in submitted]):
            by_pack[pack_id] = {s.site_id for s in submitted if s.pack_id == pack_id}
    total.sites = set(inspected)
    for g in groupings.values():
        g.add_inspected(inspected, by_pack)
    for marks, n in Counter([h.marks for h in gathered.hazards]).items():
        total.add_marks(marks, n)
    for g in groupings.values():
        g.add_hazards(gathered.hazards)
    orders = gathered.orders
    in_force = [order.in_force for order, _, _ in orders]
    kinds = [order.kind for order, _, _ in orders]
    for (kind, force), n in Counter(zip(kinds, in_force, strict=True)).items():
        total.add_orders(kind, force, n)
    for g in groupings.values():
        g.add_orders(orders, in_force)
    kinds = sorted(total.orders, key=packs.order_rank)
    labels = {k: packs.order_label(k) for k in kinds}
    return {
        by: g.tally(gathered.cutoff, gathered.scope, total, kinds, labels)
        for by, g in groupings.items()
    }


def _check_dimension(by: str) -> None:
    if by not in DIMENSIONS:
        raise InputError(f"不能按“{by}”统计 / cannot tally by {by!r} (use {', '.join(DIMENSIONS)})")


def _add_registered(gathered: InScope, packs: PackIndex, groupings: list[_Grouping]) -> None:
    """Give every registered site's buckets a row, zeros included: a county with no progress is
    news (with a pack filter: sites of the pack's types)."""
    scope = gathered.scope
    sites = list(gathered.sites.values())
    if scope.pack is not None:
        types = packs.pack_types(scope.pack)
        sites = [site for site in sites if types & set(site.site_types)]
    for g in groupings:
        g.add_registered(sites)


class _Grouping:
    """The buckets of one dimension while :func:`tallies_of` counts.

    A bucket depends on little of a site or finding (:meth:`value`: the county, say, or the
    pack), so the keys are worked out once per distinct value, and hazards with the same value
    and the same marks are counted together.
    """

    def __init__(self, by: str, packs: PackIndex) -> None:
        self.by = by
        self.packs = packs
        self.by_site = by in SITE_DIMENSIONS
        self.per_site = self.by_site or by == "pack"
        """Whether the dimension defines 排查场所 (not per section or level)."""
        self.buckets: dict[Key, Figures] = {}
        self._reads = _SITE_READS.get(by)
        self._keys: dict[Hashable, list[Key]] = {}

    def bucket(self, key: Key) -> Figures:
        """The figures of bucket ``key``, made on first use."""
        fig = self.buckets.get(key)
        if fig is None:
            fig = self.buckets[key] = Figures(str(key[-1]), sites=set() if self.per_site else None)
        return fig

    def value(self, f: FindingState | None, site: Site | None) -> Hashable:
        """All that the buckets of finding ``f`` at ``site`` depend on (for a site dimension,
        of the site alone): equal values, equal buckets."""
        if self._reads is not None:
            return _NO_SITE if site is None else self._reads(site)
        assert f is not None, f"{self.by} buckets by finding"
        if self.by == "pack":
            return finding_pack(f)
        if self.by == "section":
            return (finding_pack(f), f.pack_version, f.rule_id)
        return f.level

    def _values(self, hazards: list[Hazard]) -> list[Hashable]:
        """:meth:`value` of each hazard, in order (written out per dimension: 8,000 calls of
        it cost more than the rest of the count)."""
        reads = self._reads
        if reads is not None:
            return [_NO_SITE if h.site is None else reads(h.site) for h in hazards]
        if self.by == "pack":
            return [finding_pack(h.finding) for h in hazards]
        return [self.value(h.finding, h.site) for h in hazards]

    def keys(self, f: FindingState | None, site: Site | None) -> list[Key]:
        """The buckets of finding ``f`` at ``site`` (:func:`site_keys` for a site dimension,
        else :func:`finding_keys`), remembered per :meth:`value`."""
        value = self.value(f, site)
        keys = self._keys.get(value)
        if keys is None:
            if self.by_site:
                keys = site_keys(self.by, site, self.packs)
            else:
                assert f is not None
                keys = finding_keys(self.by, f, site, self.packs)
            self._keys[value] = keys
        return keys

    def add_registered(self, sites: list[Site]) -> None:
        """Make the buckets of every site in ``sites`` (a site dimension)."""
        reads = self._reads
        assert reads is not None, f"{self.by} does not bucket by site"
        for site in dict(zip(map(reads, sites), sites, strict=True)).values():
            for key in self.keys(None, site):
                self.bucket(key)

    def add_inspected(
        self, inspected: dict[str, Site | None], by_pack: dict[str, set[str]]
    ) -> None:
        """Count the inspected sites (site id → site) in their buckets, or by the packs they
        were inspected under (pack id → site ids); section and level do not define 排查场所."""
        if self.by_site:
            reads = self._reads
            assert reads is not None
            ids: dict[Hashable, list[str]] = {}  # value → the ids of the sites with it
            sample: dict[Hashable, Site | None] = {}  # value → a site with it
            for site_id, site in inspected.items():
                value = _NO_SITE if site is None else reads(site)
                alike = ids.get(value)
                if alike is None:
                    ids[value] = [site_id]
                    sample[value] = site
                else:
                    alike.append(site_id)
            for value, alike in ids.items():
                for key in self.keys(None, sample[value]):
                    self._sites(key).update(alike)
        elif self.by == "pack":
            for pack_id, site_ids in by_pack.items():
                self._sites(pack_key(self.packs, pack_id)).update(site_ids)

    def _sites(self, key: Key) -> set[str]:
        sites = self.bucket(key).sites
        assert sites is not None
        return sites

    def add_hazards(self, hazards: list[Hazard]) -> None:
        """Count each hazard in each of its buckets (those alike counted together)."""
        values = self._values(hazards)
        sample = dict(zip(values, hazards, strict=True))  # a hazard of each value
        alike = Counter(zip(values, [h.marks for h in hazards], strict=True))
        for (value, marks), n in alike.items():
            for key in self.keys(sample[value].finding, sample[value].site):
                self.bucket(key).add_marks(marks, n)

    def add_order(self, order: OrderState, site: Site | None, finding: FindingState | None) -> None:
        """Count an order under its site's buckets, or its finding's (none when it has none)."""
        if not self.by_site and finding is None:
            return
        for key in self.keys(finding, site):
            self.bucket(key).add_order(order)

    def add_orders(
        self,
        orders: list[tuple[OrderState, Site | None, FindingState | None]],
        in_force: list[bool],
    ) -> None:
        """:meth:`add_order` of each order (``in_force[n]`` of ``orders[n]``), those alike (same
        :meth:`value`, kind and state) counted together."""
        sample: dict[Hashable, tuple[FindingState | None, Site | None]] = {}
        alike: Counter[tuple[Hashable, str, bool]] = Counter()
        for (order, site, finding), force in zip(orders, in_force, strict=True):
            if finding is None and not self.by_site:
                continue
            value = self.value(finding, site)
            if value not in sample:
                sample[value] = (finding, site)
            alike[value, order.kind, force] += 1
        for (value, kind, force), n in alike.items():
            for key in self.keys(*sample[value]):
                self.bucket(key).add_orders(kind, force, n)

    def tally(
        self,
        cutoff: dt.datetime,
        scope: Scope,
        total: Figures,
        kinds: list[str],
        labels: dict[str, str],
    ) -> Tally:
        """The counted buckets as a :class:`Tally`, rows in key order."""
        keys = sorted(self.buckets)
        return Tally(
            by=self.by,
            cutoff=cutoff,
            scope=scope,
            rows=[self.buckets[k] for k in keys],
            total=total,
            order_kinds=kinds,
            order_labels=labels,
            keys=keys,
        )
