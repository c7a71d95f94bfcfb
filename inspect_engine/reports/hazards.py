"""The unresolved-hazards list (未销号隐患清单): the ledger columns of domain-standards.md §4.3.

Rows are those of :func:`inspect_engine.queries.open_findings` — hazards not yet 销号, overdue
first (most overdue first), then by deadline — made by the same functions (``open_hazards``,
``hazard_row``, ``open_order``), so this list and the app agree on what is open and in what order.
Each hazard's row and values are made in one pass (its objects are read once, while at hand: on
a city ledger they are scattered over a large heap and most of a row's cost is reaching them);
what hazards share — a rule's texts, a site's columns, an answer's words — is worked out once.
``tests/reports/test_hazards_fast.py`` compares the list with one made the plain way.

This module adds the §4.3 columns, the supervision-group filter, two other orderings and the
:mod:`~inspect_engine.reports.tabular` tables every output format is rendered from.

Columns (Chinese labels, keys for JSON):

* 序号 ``seq``, 隐患编号 ``number`` (``YH-YYYYMMDD-NNN``, see
  :mod:`~inspect_engine.reports.numbering`), 隐患ID ``finding_id`` (the ledger's identity);
* 排查日期 ``inspected_on`` (the inspection's start date), 排查人 ``inspectors``;
* 县区, 乡镇（街道）, 隐患单位/场所, 地址, 产权人/使用人, 联系电话, 对象类型 (the packs' labels);
* 隐患内容 ``content`` (the finding's title and the answers that raised it), 隐患等级, 判定依据;
* the 五落实 as recorded, else what the rule says: 整改措施 (plan measures, else the rule's
  rectification), 整改责任单位/责任人 (plan, else the site's parties), 整改资金（万元）, 整改时限
  (the deadline in force: plan 时限, else the rule's), 应急预案;
* 处置措施 (the consequences in the documents' wording), 整改情况 (status, with 逾期N天),
  逾期天数, 验收人 and 验收日期 (empty: nothing in this list has passed 复查 yet), 帮扶督导组,
  备注 (reopenings with their reason, a plan deadline that moved the rule's, orders in force).

Overdue is judged on ``today``, which the caller passes (``--today``, else the clock's date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Literal, NamedTuple

from inspect_engine.errors import InputError
from inspect_engine.projection import FindingState, OrderState, Projection
from inspect_engine.queries import FindingRow, hazard_row, open_hazards, open_order
from inspect_engine.rectification import ORDER_KINDS, OVERDUE_LABEL, STATUS_LABELS
from inspect_engine.reports.labels import (
    PackLabels,
    basis_text,
    consequences_text,
    local_date,
    triggers_text,
)
from inspect_engine.reports.numbering import hazard_numbers
from inspect_engine.reports.tabular import Column, Kind, Row, Table, Value
from inspect_engine.site import PARTY_LABELS, Site
from inspect_engine.storage import gc_paused
from inspect_engine.textwidth import cell_width

Sort = Literal["deadline", "county", "level"]
SORTS: tuple[Sort, ...] = ("deadline", "county", "level")

COLUMNS: tuple[Column, ...] = (
    Column("seq", "序号", Kind.INT),
    Column("number", "隐患编号"),
    Column("finding_id", "隐患ID"),
    Column("inspected_on", "排查日期", Kind.DATE),
    Column("inspectors", "排查人"),
    Column("county", "县区"),
    Column("township", "乡镇（街道）"),
    Column("site", "隐患单位/场所"),
    Column("address", "地址"),
    Column("parties", "产权人/使用人"),
    Column("phone", "联系电话"),
    Column("site_type", "对象类型"),
    Column("content", "隐患内容"),
    Column("level", "隐患等级"),
    Column("basis", "判定依据"),
    Column("measures", "整改措施"),
    Column("responsible", "整改责任单位/责任人"),
    Column("funds", "整改资金（万元）", Kind.FLOAT),
    Column("deadline", "整改时限", Kind.DATE),
    Column("contingency", "应急预案"),
    Column("disposal", "处置措施"),
    Column("status", "整改情况"),
    Column("days_overdue", "逾期天数", Kind.INT),
    Column("verifier", "验收人"),
    Column("verified_on", "验收日期", Kind.DATE),
    Column("group", "帮扶督导组"),
    Column("remarks", "备注"),
)
"""Every column, in the order of the CSV, Markdown, Excel and JSON outputs."""

TEXT_COLUMNS: tuple[Column, ...] = (
    Column("seq", "序号", Kind.INT),
    Column("number", "隐患编号"),
    Column("county", "县区"),
    Column("site", "隐患单位/场所"),
    Column("title", "隐患"),
    Column("level", "等级"),
    Column("deadline", "整改时限", Kind.DATE),
    Column("status", "整改情况"),
)
"""The terminal's narrower subset (the full list is far wider than any terminal)."""

TEXT_CLIP = 30
"""Terminal cells a text-format cell may take (15 Chinese characters); longer ones end in ``…``."""

TEXT_COLUMN_HELP = (
    "序号, 隐患编号, 县区, 隐患单位/场所, 隐患 (title only), 等级, 整改时限, 整改情况"
)


@dataclass(frozen=True)
class HazardLine:
    """One hazard in the list: the core's row plus the §4.3 values keyed as :data:`COLUMNS`."""

    row: FindingRow
    values: dict[str, Value]


@dataclass(frozen=True)
class HazardList:
    """The list and what it was asked for (printed under the table)."""

    today: dt.date
    lines: tuple[HazardLine, ...]
    filters: dict[str, str]
    sort: Sort

    @property
    def title(self) -> str:
        """``未销号隐患清单（截至2020-09-21）``."""
        return f"未销号隐患清单（截至{self.today.isoformat()}）"

    def notes(self) -> tuple[str, ...]:
        """Footnotes: filters, count, how overdue and the numbers are defined."""
        asked = "；".join(f"{k}：{v}" for k, v in self.filters.items()) or "全部"
        late = sum(1 for line in self.lines if line.row.overdue)
        return (
            f"筛选：{asked}。共{len(self.lines)}项，其中逾期{late}项。",
            "逾期：整改时限（已落实五落实的以其时限为准）之后仍未销号。",
            "隐患编号：提交检查之日（YYYYMMDD）及当日提交隐患的顺序；隐患ID为台账中的唯一标识。",
        )

    @gc_paused()  # a row per hazard over a big live heap (storage.gc_paused)
    def table(self, columns: Sequence[Column] = COLUMNS, *, clip: int | None = None) -> Table:
        """The list as a :class:`Table` of ``columns`` (any of :data:`COLUMNS` or ``title``).

        ``clip``: text longer than this many terminal cells is cut with ``…`` (the terminal).
        """
        keys = [c.key for c in columns]
        if clip is None and len(keys) > 1:
            get = itemgetter(*keys)  # a tuple of the values, in the order of ``keys``
            rows: list[Row] = [get(line.values) for line in self.lines]
        elif clip is None:
            rows = [tuple([line.values[k] for k in keys]) for line in self.lines]
        else:
            rows = [tuple([_clip(line.values[k], clip) for k in keys]) for line in self.lines]
        return Table(
            title=self.title,
            columns=tuple(columns),
            rows=tuple(rows),
            notes=self.notes(),
            key="hazards",
        )

    def records(self) -> list[dict[str, Value]]:
        """The rows as ``{key: value}`` over :data:`COLUMNS` (for JSON)."""
        return [{c.key: line.values[c.key] for c in COLUMNS} for line in self.lines]


def _clip(value: Value, width: int | None) -> Value:
    if width is None or not isinstance(value, str) or cell_width(value) <= width:
        return value
    out = ""
    for ch in value:
        if cell_width(out + ch) > width - 1:
            break
        out += ch
    return out + "…"


def check_filters(
    proj: Projection,
    where: str,
    *,
    county: str | None = None,
    township: str | None = None,
    group: str | None = None,
) -> None:
    """Refuse an empty ledger and a county, township or group no registered site has.

    An empty list is a fine answer to a real question (all hazards of 盂县 closed); a list that is
    empty because the ledger is empty or ``--county 孟县`` was mistyped is not, and says so.
    """
    if not any(i.status == "submitted" for i in proj.inspections.values()):
        raise InputError(
            "台账中没有已提交的检查，无隐患可列 "
            f"/ no submitted inspection in the ledger at {where}",
            hint="check --data-dir (or $INSPECT_ENGINE_DATA_DIR)",
        )
    sites = [s.site for s in proj.sites.values()]
    for flag, what, value, known in (
        ("--county", "县区", county, sorted({s.county for s in sites})),
        ("--township", "乡镇", township, sorted({s.township for s in sites})),
        ("--group", "督导组", group, sorted({s.group for s in sites if s.group})),
    ):
        if value is not None and value not in known:
            raise InputError(
                f"{flag} {value}: 台账中没有该{what}的场所 / no registered site has "
                f"{flag[2:]} {value!r} in the ledger at {where} "
                f"(known: {'、'.join(known) or 'none'})"
            )


@gc_paused()  # many small objects over a big live heap (storage.gc_paused)
def hazard_list(
    proj: Projection,
    today: dt.date,
    labels: PackLabels,
    *,
    county: str | None = None,
    township: str | None = None,
    level: str | None = None,
    group: str | None = None,
    overdue_only: bool = False,
    sort: Sort = "deadline",
) -> HazardList:
    """The hazards not 销号 matching every filter, in ``sort`` order.

    ``deadline`` (default): the core's order, overdue first (most overdue first), then by
    deadline. ``county``: by county and township, the core's order within each. ``level``: 重大
    first, the core's order within each level.
    """
    numbers = hazard_numbers(proj)
    orders: dict[str, list[OrderState]] = {}  # in force, by finding: one pass, not one per row
    for order in sorted(proj.orders.values(), key=lambda o: (o.ordered_on, o.id)):
        if order.finding_id is not None and order.in_force:
            orders.setdefault(order.finding_id, []).append(order)
    # each hazard's row and values in one pass, while its objects are at hand, then the order
    made = _Values(proj, labels)
    found = open_hazards(
        proj, today, county=county, township=township, level=level, overdue_only=overdue_only
    )
    lines = []
    for f, status, site in found:
        if group is not None and (site.group if site is not None else "") != group:
            continue
        row = hazard_row(f, status, site, today)
        number = numbers.get(f.id, "")
        lines.append(HazardLine(row, made.of(f, site, row, number, orders.get(f.id, []))))
    lines.sort(key=_core_order)
    if sort == "county":
        lines.sort(key=lambda line: (line.row.county, line.row.township))
    elif sort == "level":
        lines.sort(key=lambda line: line.row.level != "重大")
    for seq, line in enumerate(lines, 1):
        line.values["seq"] = seq
    filters = {
        k: v
        for k, v in (
            ("县区", county),
            ("乡镇", township),
            ("等级", level),
            ("督导组", group),
            ("仅逾期", "是" if overdue_only else None),
        )
        if v
    }
    return HazardList(today=today, lines=tuple(lines), filters=filters, sort=sort)


def _core_order(line: HazardLine) -> tuple[bool, dt.date, str, str, str]:
    return open_order(line.row)


class _RuleText(NamedTuple):
    """What a finding's document says of its rule, as the list shows it (判定依据, 处置措施):
    the same for every finding of the rule, kept once with the parts of the document it was
    made from. (Named tuples: made several times quicker than frozen dataclasses.)"""

    basis: Any
    consequences: Any
    basis_text: str
    disposal: str


class _SiteText(NamedTuple):
    """A site's columns (kept once per site: a site may have several hazards)."""

    parties: list[str]
    phones: str
    address: str
    site_type: str
    group: str


class _Values:
    """Makes the values of the list's rows, keeping what findings share: a rule's texts (basis,
    consequences) by pack, version and rule, and a site's columns by site.

    A rule's texts are used again only for a document whose basis and consequences equal (as
    JSON values compare) those they were made from, so a document that differs from the others
    of its rule (a pack changed without a new version) gets its own.
    """

    def __init__(self, proj: Projection, labels: PackLabels) -> None:
        self._proj = proj
        self._labels = labels
        self._rules: dict[tuple[str, str, str], _RuleText] = {}
        self._sites: dict[str, _SiteText | None] = {}

    def _rule(self, rule_id: str, data: dict[str, Any]) -> _RuleText:
        basis = data.get("basis", {})
        consequences = data.get("consequences", [])
        key = (str(data.get("pack_id", "")), str(data.get("pack_version", "")), rule_id)
        kept = self._rules.get(key)
        if kept is None or kept.basis != basis or kept.consequences != consequences:
            kept = self._rules[key] = _RuleText(
                basis, consequences, basis_text(self._labels, data), consequences_text(data)
            )
        return kept

    def _site(self, site_id: str, site: Site | None) -> _SiteText | None:
        if site is None:
            return None
        text = self._sites.get(site_id)
        if text is None:
            parties, phones = [], []
            for role in ("owner", "user"):
                rec = getattr(site.parties, role)
                if rec is not None:
                    parties.append(f"{PARTY_LABELS[role]}：{rec.unit}")
                    if rec.contact:
                        phones.append(rec.contact)
            text = self._sites[site_id] = _SiteText(
                parties=parties,
                phones="；".join(dict.fromkeys(phones)),
                address=site.address or f"{site.county}{site.township}{site.village}",
                site_type=self._labels.site_types(site.site_types),
                group=site.group,
            )
        return text

    def of(
        self,
        f: FindingState,
        site: Site | None,
        row: FindingRow,
        number: str,
        orders: list[OrderState],
    ) -> dict[str, Value]:
        """The values of the hazard ``f`` at ``site`` (its register entry), keyed as
        :data:`COLUMNS` (plus ``title``); ``seq`` is 0, for the caller to set."""
        insp = self._proj.inspections.get(f.inspection_id)
        where = self._site(f.site_id, site)
        data = f.data
        triggers = triggers_text(self._labels, data)
        rule = self._rule(f.rule_id, data)
        plan = f.plan
        status = STATUS_LABELS[row.status]
        if row.overdue:
            status += f"（{OVERDUE_LABEL}{row.days_overdue}天）"
        parties = where.parties if where is not None else []
        return {
            "seq": 0,
            "number": number,
            "finding_id": f.id,
            "inspected_on": local_date(insp.started_at) if insp else local_date(f.raised_at),
            "inspectors": "、".join(insp.inspectors) if insp else "",
            "county": row.county,
            "township": row.township,
            "site": row.site_name,
            "address": where.address if where is not None else "",
            "parties": "；".join(parties),
            "phone": where.phones if where is not None else "",
            "site_type": where.site_type if where is not None else "",
            "title": f.title,
            "content": f"{f.title}。{triggers}" if triggers else f.title,
            "level": f.level,
            "basis": rule.basis_text,
            "measures": plan.measures if plan else str(data.get("rectification", {}).get("zh", "")),
            "responsible": plan.responsible_person if plan else _responsible(data, parties),
            "funds": plan.funds if plan else None,
            "deadline": row.deadline,
            "contingency": plan.contingency_plan if plan else "",
            "disposal": rule.disposal,
            "status": status,
            "days_overdue": row.days_overdue,
            "verifier": "",
            "verified_on": None,
            "group": where.group if where is not None else "",
            "remarks": _remarks(f, orders),
        }


def _responsible(data: dict[str, Any], site_parties: list[str]) -> str:
    """The finding's responsible parties (谁审批/主管/拥有/使用谁负责), else the site's."""
    named = [
        f"{r.get('label', '')}：{r['unit']}" for r in data.get("responsible", []) if r.get("unit")
    ]
    return "；".join(named or site_parties)


def _remarks(f: FindingState, orders: list[OrderState]) -> str:
    """Reopenings (with the earlier 销号 and the reason), a moved deadline, orders in force."""
    notes = []
    closed: str | None = None
    for step in f.history:
        if step.action == "close":
            closed = f"{step.time[:10]}销号（验收：{step.note}）"
        elif step.action == "reopen":
            before = f"曾于{closed}，" if closed else "复查不合格，"
            notes.append(f"{before}{step.time[:10]}重新整改：{step.note}")
            closed = None
    if f.plan is not None and f.plan.deadline != f.rule_deadline:
        notes.append(
            f"规则时限{f.rule_deadline.isoformat()}，按五落实时限{f.plan.deadline.isoformat()}"
        )
    for order in orders:
        kind = ORDER_KINDS.get(order.kind, order.kind)
        notes.append(f"已{kind}（{order.ordered_on.isoformat()}，未解除）")
    return "；".join(notes)
