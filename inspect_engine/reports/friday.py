"""The Friday progress report (周五进展情况报告): what a supervision group sends by Friday 12:00.

99号 五(四): every Friday by 12:00 each 帮扶督导组 reports its counties' progress to the leading
group's office, "重点是发现隐患、整改隐患情况". The report holds, for its week (cut-off Thursday
24:00, :mod:`inspect_engine.reports.week`):

1. 基本情况 — scope, period, cut-off, due time, who reports to whom, the documents;
2. 各县区进展 — per county this week and cumulative: sites inspected, hazards found (重大),
   rectified, 销号, rates, overdue, 重大 still open, orders in force; the total, the change on
   last week for found and rectified;
3. 本周与上周对比 — the totals this week, last week, the change and the running totals;
4. 重大隐患 — every 重大 hazard raised by the cut-off with its status at the cut-off;
5. 处置措施 — enforcement orders by kind: ordered, ordered this week, in force, lifted;
6. 阶段进展 — where the campaign stands against its phases (摸排 to 09-30, 整改 to 10-31, 长效
   to 11-30), days left and a measure for each;
7. 逐周趋势 — found, rectified and 销号 week by week since the campaign began (the workbook charts
   found against rectified).

Cumulative figures come from the state as of the cut-off (:func:`tallies.projection_at`, which
derives it from the ledger's projection with :func:`inspect_engine.asof.as_of`, without reading
the events; :func:`tallies.tally`); weekly ones from the same projection's finding histories in
one pass (:mod:`series`).
:func:`build_friday` computes everything; :func:`write_friday` renders a format and writes it
atomically (nothing is written when anything fails). The same ledger and cut-off give the same
bytes in every format.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from operator import attrgetter
from pathlib import Path
from typing import Any, Literal

from inspect_engine.clock import CHINA
from inspect_engine.errors import InputError, UsageError
from inspect_engine.ledger import Ledger
from inspect_engine.projection import OrderState, Projection
from inspect_engine.rectification import status_label
from inspect_engine.reports.outfile import write_out
from inspect_engine.reports.series import Series, WeekFigures, series_of
from inspect_engine.reports.tabular import (
    Column,
    Kind,
    Row,
    Sheet,
    Table,
    render_csv_sections,
    render_markdown,
    render_text,
)
from inspect_engine.reports.tallies import (
    DEFINITIONS,
    UNREGISTERED,
    Figures,
    Hazard,
    InScope,
    PackIndex,
    Scope,
    Tally,
    check_scope,
    county_key,
    finding_pack,
    gather,
    pack_key,
    projection_at,
    tallies_of,
)
from inspect_engine.reports.week import (
    ReportWeek,
    latest_report,
    week_containing,
    weeks_between,
)
from inspect_engine.rulepack import RulePack
from inspect_engine.site import Site
from inspect_engine.storage import gc_paused

Format = Literal["text", "md", "csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("text", "md", "csv", "xlsx")

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as each stage of a report completes."""

WEEK_NOTES: tuple[str, ...] = (
    "本周发现：统计周期内登记的隐患；本周整改：截止时已整改、且最近一次报告整改在本周的隐患"
    "（先报告整改、后复查销号的，只在报告整改的一周计一次；重新整改后再次报告的，计入再次报告的一周）；"
    "本周销号：截止时已销号、且在本周销号的隐患。",
    "较上周 = 本周数 − 上周数。",
)

PHASE_STATES = {"pending": "未开始", "running": "进行中", "ended": "已结束"}


@dataclass(frozen=True)
class PhaseLine:
    """One campaign phase as the report shows it."""

    pack: str
    name: str
    start: dt.date
    end: dt.date
    state: str
    days_left: int | None
    """Days from the report date to the phase's last day (``None`` once ended)."""
    measure: str
    value: str


@dataclass
class FridayReport:
    """Everything the Friday report shows, computed; render with :func:`write_friday`."""

    title: str
    week: ReportWeek
    week_no: int
    scope: Scope
    packs: list[RulePack]
    counties: Tally
    series: Series
    phases: list[PhaseLine]
    tables: list[Table]
    """In report order: 基本情况, 各县区进展, 本周与上周对比, 重大隐患, 处置措施, 阶段, 逐周."""

    @property
    def this_week(self) -> WeekFigures:
        """The totals of the report week (from the histories)."""
        return self.series.total[-1]

    @property
    def last_week(self) -> WeekFigures:
        """The totals of the week before (zeros before the campaign's first week)."""
        return self.series.total[-2] if len(self.series.total) > 1 else WeekFigures()

    def table(self, key: str) -> Table:
        """The table with this key (``info``, ``counties``, ``compare``, ``major``, ``orders``,
        ``phases``, ``weekly``)."""
        for t in self.tables:
            if t.key == key:
                return t
        raise KeyError(key)

    def sheets(self) -> list[Sheet]:
        """The workbook's sheets (Chinese names)."""
        info = replace(self.table("info"), title=self.title)
        return [
            Sheet("周报", (info, self.table("counties"), self.table("compare"))),
            Sheet("重大隐患", (self.table("major"),)),
            Sheet("处置措施", (self.table("orders"),)),
            Sheet("阶段进展", (self.table("phases"),)),
            Sheet("逐周趋势", (self.table("weekly"),)),
        ]


def _noop(stage: str, done: int, total: int) -> None:
    """No progress shown."""


def build_friday(
    ledger: Ledger,
    packs: Sequence[RulePack],
    *,
    week: dt.date | None = None,
    cutoff: dt.datetime | None = None,
    group: str | None = None,
    county: str | None = None,
    pack: str | None = None,
    progress: Progress | None = None,
) -> FridayReport:
    """Compute the Friday report of ``ledger`` (see the module docstring).

    The week: ``cutoff`` (aware) if given, else the week holding ``week``, else the latest report
    whose cut-off has passed on the ledger's clock. ``group``, ``county`` and ``pack`` narrow the
    scope. :class:`InputError` (exit 3) for an empty ledger, an unknown county, group or pack, a
    week outside every campaign in scope, or no loaded pack.
    """
    step = progress or _noop
    stages = 5
    index = PackIndex(packs)
    if not index.in_force:
        raise InputError("没有可用的规则包 / no rule pack loaded", hint="inspect-engine packs list")
    scope = Scope(county=county, group=group, pack=pack)
    if cutoff is not None:
        if cutoff.tzinfo is None:
            raise UsageError("--cutoff: the time needs a UTC offset, e.g. 2020-09-25T00:00+08:00")
        report_week = ReportWeek(cutoff)
    elif week is not None:
        report_week = week_containing(week)
    else:
        report_week = latest_report(ledger.clock.now())

    current = ledger.projection
    check_scope(current, index, scope)
    in_scope = [index.in_force[pack]] if pack is not None else list(index.in_force.values())
    _check_campaign(report_week, in_scope)
    step("范围与周期", 1, stages)

    proj = projection_at(ledger, report_week.cutoff)
    if not any(scope.site_ok(s.site) for s in proj.sites.values()):
        raise InputError(
            f"截至 {_when(report_week.cutoff)}，{scope.label()}没有登记场所 "
            f"/ no site registered in scope by the cut-off"
        )
    step("截止时台账", 2, stages)

    with gc_paused():  # many small objects over a big live heap (storage.gc_paused)
        start = min(p.manifest.campaign.start for p in in_scope)
        weeks = weeks_between(start, report_week)
        # one gathering and one counting pass for every table (docs/reports.md, "Figures")
        gathered = gather(proj, index, scope, report_week.cutoff)
        figures = tallies_of(gathered, index, ("county", "pack"))
        counties = figures["county"]
        series = series_of(gathered, weeks, key=_county_of)
        step("逐周统计", 3, stages)

        phases = _phases(gathered, index, in_scope, report_week, figures["pack"])
        title = _title(in_scope, scope, len(weeks))
        tables = [
            _info_table(report_week, scope, in_scope, len(weeks)),
            _county_table(counties, series, report_week),
            _compare_table(counties, series),
            _major_table(gathered, index),
            _orders_table(gathered, index, report_week),
            _phase_table(phases, report_week),
            _weekly_table(series),
        ]
    step("报表", 4, stages)
    return FridayReport(
        title=title,
        week=report_week,
        week_no=len(weeks),
        scope=scope,
        packs=in_scope,
        counties=counties,
        series=series,
        phases=phases,
        tables=tables,
    )


def render_friday(report: FridayReport, fmt: Format) -> bytes:
    """The report in a text format (``text``, ``md``, ``csv``) as UTF-8 bytes."""
    if fmt == "text":
        head = f"{report.title}\n{'=' * 40}\n\n"
        return (head + render_text(report.tables)).encode("utf-8")
    if fmt == "md":
        return (f"# {report.title}\n\n" + render_markdown(report.tables)).encode("utf-8")
    if fmt == "csv":
        return render_csv_sections(
            [replace(report.tables[0], title=report.title)] + report.tables[1:]
        )
    raise ValueError(f"not a text format: {fmt}")


def write_friday(
    report: FridayReport,
    fmt: Format,
    out: Path | None,
    *,
    progress: Progress | None = None,
) -> None:
    """Render ``report`` as ``fmt`` and write it to ``out`` atomically (stdout when ``None``).

    ``xlsx`` needs ``out`` (:class:`UsageError`). The file is rendered in memory first, then
    written to a temporary file beside ``out`` and renamed over it: on any error ``out`` is left
    as it was.
    """
    step = progress or _noop
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    if fmt == "xlsx":
        if out is None:
            raise UsageError("--format xlsx needs --out FILE (a workbook is not written to stdout)")
        from inspect_engine.reports.friday_xlsx import write_friday_xlsx

        write_friday_xlsx(report, out)
    else:
        data = render_friday(report, fmt)
        if out is None:
            sys.stdout.write(data.decode("utf-8"))
            sys.stdout.flush()
        else:
            write_out(out, data)
    step("写出", 5, 5)


# --- pieces -------------------------------------------------------------------------------------


def _when(at: dt.datetime) -> str:
    return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _zh_day(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


_WEEKDAYS = "一二三四五六日"


def _county_of(site: Site | None) -> str:
    return site.county if site is not None else UNREGISTERED


def _check_campaign(week: ReportWeek, packs: Sequence[RulePack]) -> None:
    """:class:`InputError` when the report's period touches no campaign in scope."""
    for pack in packs:
        camp = pack.manifest.campaign
        opens = dt.datetime.combine(camp.start, dt.time(0), tzinfo=CHINA)
        closes = dt.datetime.combine(camp.end + dt.timedelta(days=1), dt.time(0), tzinfo=CHINA)
        if week.previous < closes and week.cutoff > opens:
            return
    windows = "；".join(
        f"{p.manifest.provenance.doc_number} {p.manifest.campaign.start}至{p.manifest.campaign.end}"
        for p in packs
    )
    raise InputError(
        f"{week.first_day}至{week.last_day}这一周不在专项行动期间（{windows}）"
        f" / the week {week.first_day}..{week.last_day} is outside every campaign in scope",
        hint="pick a week inside the campaign with --week DATE",
    )


def _title(packs: Sequence[RulePack], scope: Scope, week_no: int) -> str:
    """``阳泉市专项排查整治工作进展周报（第4周）``; a group's or county's report names it:
    ``…周报（第四帮扶督导组，第4周）``."""
    name = packs[0].manifest.title.zh if len(packs) == 1 else "阳泉市专项排查整治"
    who = "" if scope.county is None and scope.group is None else f"{scope.label()}，"
    return f"{name}工作进展周报（{who}第{week_no}周）"


def _info_table(week: ReportWeek, scope: Scope, packs: Sequence[RulePack], week_no: int) -> Table:
    reporters = "；".join(dict.fromkeys(p.manifest.reporting.reporter.zh for p in packs))
    recipients = "；".join(dict.fromkeys(p.manifest.reporting.recipient.zh for p in packs))
    docs = "；".join(
        f"{p.manifest.provenance.doc_number}《{p.manifest.provenance.title.zh}》" for p in packs
    )
    due = week.due
    rows: list[Row] = [
        ("统计范围", scope.label() + (f"（{scope.pack}）" if scope.pack else "")),
        ("报告周次", f"第{week_no}周"),
        ("统计周期", week.period_zh()),
        ("统计截止", f"{_when(week.cutoff)}（北京时间，含该时刻）"),
        ("报送时限", f"{_zh_day(due.date())}（周{_WEEKDAYS[due.weekday()]}）12:00前"),
        ("报送单位", reporters),
        ("报送对象", recipients),
        ("依据", docs),
    ]
    return Table(
        title="基本情况",
        columns=(Column("item", "项目"), Column("value", "内容")),
        rows=tuple(rows),
        key="info",
    )


def _county_table(counties: Tally, series: Series, week: ReportWeek) -> Table:
    columns = (
        Column("county", "县区"),
        Column("sites_week", "本周排查场所", Kind.INT),
        Column("sites", "累计排查场所", Kind.INT),
        Column("found_week", "本周发现隐患", Kind.INT),
        Column("found_change", "较上周", Kind.SIGNED),
        Column("found", "累计发现隐患", Kind.INT),
        Column("found_major", "其中重大", Kind.INT),
        Column("rectified_week", "本周整改", Kind.INT),
        Column("rectified_change", "较上周", Kind.SIGNED),
        Column("rectified", "累计已整改", Kind.INT),
        Column("rate", "整改率", Kind.PERCENT),
        Column("closed", "累计销号", Kind.INT),
        Column("close_rate", "销号率", Kind.PERCENT),
        Column("overdue", "逾期", Kind.INT),
        Column("major_open", "重大未销号", Kind.INT),
        Column("orders_in_force", "处置措施在执行", Kind.INT),
    )

    def row(fig: Any, weeks: list[WeekFigures]) -> Row:
        now = weeks[-1]
        before = weeks[-2] if len(weeks) > 1 else WeekFigures()
        return (
            fig.label,
            now.sites,
            fig.sites_inspected,
            now.found,
            now.found - before.found,
            fig.found,
            fig.found_major,
            now.rectified,
            now.rectified - before.rectified,
            fig.rectified,
            fig.rate,
            fig.closed,
            fig.close_rate,
            fig.overdue,
            fig.major_open,
            fig.orders_in_force(),
        )

    rows = tuple(row(fig, series.of(fig.label)) for fig in counties.rows)
    notes = (
        f"统计截止 {_when(week.cutoff)}（北京时间）；本周 = {week.period_zh()}。",
        *DEFINITIONS,
        *WEEK_NOTES,
    )
    return Table(
        title="各县区进展",
        columns=columns,
        rows=rows,
        total=row(counties.total, series.total),
        notes=notes,
        key="counties",
    )


def _compare_table(counties: Tally, series: Series) -> Table:
    now = series.total[-1]
    before = series.total[-2] if len(series.total) > 1 else WeekFigures()
    total = counties.total
    lines = [
        ("排查场所", now.sites, before.sites, total.sites_inspected),
        ("发现隐患", now.found, before.found, total.found),
        ("其中重大", now.found_major, before.found_major, total.found_major),
        ("整改隐患", now.rectified, before.rectified, total.rectified),
        ("销号", now.closed, before.closed, total.closed),
    ]
    return Table(
        title="本周与上周对比（合计）",
        columns=(
            Column("metric", "指标"),
            Column("this_week", "本周", Kind.INT),
            Column("last_week", "上周", Kind.INT),
            Column("change", "较上周", Kind.SIGNED),
            Column("cumulative", "累计", Kind.INT),
        ),
        rows=tuple((m, a, b, a - b, c) for m, a, b, c in lines),
        notes=("累计“整改隐患”为截止时已整改（含已整改待复查）的隐患数。",),
        key="compare",
    )


def _orders_by_finding(proj: Projection) -> dict[str, list[OrderState]]:
    out: dict[str, list[OrderState]] = {}
    for order in proj.orders.values():
        if order.finding_id:
            out.setdefault(order.finding_id, []).append(order)
    return out


def _major_table(gathered: InScope, index: PackIndex) -> Table:
    by_finding = _orders_by_finding(gathered.projection)
    majors: list[tuple[Any, Hazard]] = []
    for hazard in gathered.hazards:
        if not hazard.marks.major:  # the level, read once by gather
            continue
        f, site = hazard.finding, hazard.site
        key = (
            hazard.marks.closed,
            not hazard.marks.overdue,
            hazard.deadline,
            county_key(site.county if site else UNREGISTERED),
            site.name if site else f.site_id,
            f.raised_at,
            f.id,
        )
        majors.append((key, hazard))
    majors.sort(key=lambda m: m[0])
    rows: list[Row] = []
    for n, (_, hazard) in enumerate(majors, start=1):
        f, site = hazard.finding, hazard.site
        assert f.status is not None
        orders = sorted(by_finding.get(f.id, []), key=lambda o: (index.order_rank(o.kind), o.id))
        measures = "；".join(
            index.order_label(o.kind) + ("" if o.in_force else "（已解除）") for o in orders
        )
        section = index.section(finding_pack(f), f.pack_version, f.rule_id)
        rows.append(
            (
                n,
                site.county if site else UNREGISTERED,
                site.township if site else "",
                site.name if site else f.site_id,
                f.title,
                section[2],
                dt.datetime.fromisoformat(f.raised_at).astimezone(CHINA).date(),
                hazard.deadline,
                status_label(f.status, hazard.marks.overdue),
                f.plan.responsible_person if f.plan else "",
                measures,
            )
        )
    return Table(
        title="重大隐患清单",
        columns=(
            Column("no", "序号", Kind.INT),
            Column("county", "县区"),
            Column("township", "乡镇（街道）"),
            Column("site", "场所"),
            Column("title", "隐患"),
            Column("section", "检查章节"),
            Column("raised", "发现日期", Kind.DATE),
            Column("deadline", "整改期限", Kind.DATE),
            Column("status", "整改情况"),
            Column("responsible", "整改责任人"),
            Column("orders", "处置措施"),
        ),
        rows=tuple(rows),
        notes=(
            "截止时登记的全部重大隐患及其截止时的整改情况；未销号、逾期的在前。",
            "整改期限：已落实“五落实”的为其时限，否则为规则给出的期限。",
        ),
        key="major",
    )


def _orders_table(gathered: InScope, index: PackIndex, week: ReportWeek) -> Table:
    counts: dict[str, list[int]] = {}
    first_day, last_day = week.first_day, week.last_day
    for order, _, _ in gathered.orders:
        c = counts.setdefault(order.kind, [0, 0, 0, 0])
        c[0] += 1
        c[1] += first_day <= order.ordered_on <= last_day
        c[2] += order.in_force
        c[3] += not order.in_force
    kinds = sorted(counts, key=index.order_rank)
    rows: tuple[Row, ...] = tuple((index.order_label(k), *counts[k]) for k in kinds)
    sums: Row = ("合计", *(sum(counts[k][i] for k in kinds) for i in range(4)))
    total = sums if kinds else None
    return Table(
        title="处置措施",
        columns=(
            Column("kind", "措施"),
            Column("ordered", "累计下达", Kind.INT),
            Column("ordered_week", "本周下达", Kind.INT),
            Column("in_force", "在执行", Kind.INT),
            Column("lifted", "已解除", Kind.INT),
        ),
        rows=rows,
        total=total,
        notes=("本周下达：下达日期在统计周期内；在执行、已解除：截止时的状态。",),
        key="orders",
    )


def _phases(
    gathered: InScope,
    index: PackIndex,
    packs: Sequence[RulePack],
    week: ReportWeek,
    by_pack: Tally,
) -> list[PhaseLine]:
    """The phases of ``packs``, measured by each pack's row of ``by_pack`` (the tally by pack of
    the report's scope: a pack's row is the total of the tally narrowed to that pack)."""
    today = week.today
    type_sets = _registered_type_sets(gathered)
    out = []
    for pack in packs:
        figures = by_pack.figures_of(pack_key(index, pack.id)) or Figures("")
        types = {t.id for t in pack.manifest.site_types}
        registered = sum(n for kinds, n in type_sets.items() if types & kinds)
        inspected = figures.sites_inspected or 0
        for phase in pack.manifest.campaign.phases:
            if today < phase.start:
                state, left = "pending", None
            elif today <= phase.end:
                state, left = "running", (phase.end - today).days
            else:
                state, left = "ended", None
            if phase.id == "survey":
                measure = "已排查场所 ÷ 登记场所"
                value = _share(inspected, registered)
            elif phase.id == "long_term":
                measure = "重大未销号、逾期"
                value = f"重大未销号 {figures.major_open} 项，逾期 {figures.overdue} 项"
            else:
                measure = "整改率（已整改 ÷ 发现隐患）"
                value = _share(figures.rectified, figures.found)
            out.append(
                PhaseLine(
                    pack=pack.manifest.provenance.doc_number,
                    name=phase.name.zh,
                    start=phase.start,
                    end=phase.end,
                    state=PHASE_STATES[state],
                    days_left=left,
                    measure=measure,
                    value=value,
                )
            )
    return out


def _registered_type_sets(gathered: InScope) -> dict[frozenset[str], int]:
    """How many registered sites inside the scope have each set of site types."""
    counts = Counter(map(tuple, map(attrgetter("site_types"), gathered.sites.values())))
    out: Counter[frozenset[str]] = Counter()
    for types, n in counts.items():
        out[frozenset(types)] += n
    return out


def _share(part: int, whole: int) -> str:
    if not whole:
        return f"—（{part}/{whole}）"
    return f"{part / whole * 100:.1f}%（{part}/{whole}）"


def _phase_table(phases: list[PhaseLine], week: ReportWeek) -> Table:
    return Table(
        title=f"阶段进展（截至{_zh_day(week.today)}）",
        columns=(
            Column("pack", "文件"),
            Column("phase", "阶段"),
            Column("start", "开始", Kind.DATE),
            Column("end", "结束", Kind.DATE),
            Column("state", "状态"),
            Column("days_left", "剩余天数", Kind.INT),
            Column("measure", "衡量指标"),
            Column("value", "完成情况"),
        ),
        rows=tuple(
            (p.pack, p.name, p.start, p.end, p.state, p.days_left, p.measure, p.value)
            for p in phases
        ),
        notes=(
            "剩余天数：报告日（统计截止日）至阶段最后一天的天数。",
            "99号规定三个步骤同步推进；109号未规定阶段，其“专项治理”期限为规则包的假定。",
        ),
        key="phases",
    )


def _weekly_table(series: Series) -> Table:
    rows = []
    for n, (week, fig) in enumerate(zip(series.weeks, series.total, strict=True), start=1):
        label = f"第{n}周（{week.last_day:%m-%d}）"
        rows.append(
            (
                label,
                week.last_day,
                fig.found,
                fig.rectified,
                fig.closed,
                fig.found_cum,
                fig.rectified_cum,
                fig.closed_cum,
                fig.rate,
            )
        )
    return Table(
        title="逐周趋势",
        columns=(
            Column("week", "周次"),
            Column("last_day", "统计至", Kind.DATE),
            Column("found", "本周发现", Kind.INT),
            Column("rectified", "本周整改", Kind.INT),
            Column("closed", "本周销号", Kind.INT),
            Column("found_cum", "累计发现", Kind.INT),
            Column("rectified_cum", "累计已整改", Kind.INT),
            Column("closed_cum", "累计销号", Kind.INT),
            Column("rate", "整改率", Kind.PERCENT),
        ),
        rows=tuple(rows),
        notes=("每周统计至周四24时；第1周为专项行动开始所在的一周。",),
        key="weekly",
    )


__all__ = [
    "FORMATS",
    "Format",
    "FridayReport",
    "PhaseLine",
    "build_friday",
    "render_friday",
    "write_friday",
]
