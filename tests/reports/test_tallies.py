"""Tallies and the weekly series against hand-counted figures of the fixed ledger.

The ledger and the hand counts are described in ``tests/reports/friday_ledger.py``; W4 is the
report of the week 2020-09-21 (cut-off 2020-09-25 00:00 China time).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from inspect_engine.cli.main import main
from inspect_engine.errors import InputError
from inspect_engine.ledger import Ledger
from inspect_engine.rectification import Status
from inspect_engine.reports.series import WeekFigures, weekly_series
from inspect_engine.reports.tallies import (
    RECTIFIED,
    PackIndex,
    Scope,
    check_scope,
    projection_at,
    tally,
    zh_order,
)
from inspect_engine.reports.week import ReportWeek, week_containing, weeks_between
from inspect_engine.rulepack import RulePack
from tests.reports.friday_ledger import cutoff

W4 = cutoff(9, 25)

FIELDS = ("sites_inspected", "found", "found_major", "rectified", "closed", "overdue", "major_open")


def figures(
    ledger: Ledger, packs: list[RulePack], by: str, at: dt.datetime = W4, **scope: str
) -> dict[str, tuple[Any, ...]]:
    """The tally's rows as ``{label: FIELDS values}``, the total under 合计."""
    result = tally(ledger.projection_as_of(at), packs, at, by, scope=Scope(**scope))
    rows = {f.label: tuple(getattr(f, k) for k in FIELDS) for f in result.rows}
    rows["合计"] = tuple(getattr(result.total, k) for k in FIELDS)
    return rows


def test_by_county(friday_ledger: Ledger, campaign_packs: list[RulePack]) -> None:
    assert figures(friday_ledger, campaign_packs, "county") == {
        "城区": (1, 1, 0, 1, 0, 1, 0),  # S3 (F5 reported, overdue); S5 never inspected
        "平定县": (2, 4, 2, 3, 2, 2, 1),  # F1 F2 closed, F4 reported; F3 F4 overdue; F3 重大 open
        "盂县": (1, 1, 1, 0, 0, 0, 1),  # F6 重大 open, not yet due; F7 is not a hazard
        "合计": (4, 6, 3, 4, 2, 3, 2),
    }


def test_rows_come_in_the_official_county_order(
    friday_ledger: Ledger, campaign_packs: list[RulePack]
) -> None:
    result = tally(friday_ledger.projection_as_of(W4), campaign_packs, W4, "county")
    assert [f.label for f in result.rows] == ["城区", "平定县", "盂县"]
    assert result.total.rate == pytest.approx(4 / 6)
    assert result.total.close_rate == pytest.approx(2 / 6)


def test_by_section_site_type_level(friday_ledger: Ledger, campaign_packs: list[RulePack]) -> None:
    assert figures(friday_ledger, campaign_packs, "section") == {
        "阳政办发〔2020〕99号 二(二) 改建改用人员密集场所及装饰装修改动结构排查": (
            None, 2, 1, 1, 0, 2, 1,
        ),
        "阳政办发〔2020〕99号 二(四) 既有建筑安全隐患排查": (None, 3, 1, 3, 2, 1, 0),
        "阳政办发〔2020〕109号 三 禁止地下水超采": (None, 1, 1, 0, 0, 0, 1),
        "合计": (4, 6, 3, 4, 2, 3, 2),
    }  # fmt: skip
    by_type = figures(friday_ledger, campaign_packs, "site_type")
    # S1 has two types and counts under both; S5 (never inspected) gives a row of zeros
    assert by_type["农村自建房"] == (1, 2, 1, 2, 2, 0, 0)
    assert by_type["人员密集场所（酒店、饭店、学校、体育馆等）"] == (2, 3, 1, 3, 2, 1, 0)
    assert by_type["城市社区建筑"] == (0, 0, 0, 0, 0, 0, 0)
    assert sum(v[1] for k, v in by_type.items() if k != "合计") == 8 > by_type["合计"][1] == 6
    assert figures(friday_ledger, campaign_packs, "level") == {
        "重大": (None, 3, 3, 1, 1, 1, 2),
        "一般": (None, 3, 0, 3, 1, 2, 0),
        "合计": (4, 6, 3, 4, 2, 3, 2),
    }


def test_by_group_township_pack(friday_ledger: Ledger, campaign_packs: list[RulePack]) -> None:
    assert list(figures(friday_ledger, campaign_packs, "group")) == [
        "第一帮扶督导组",
        "第四帮扶督导组",
        "第五帮扶督导组",
        "合计",
    ]
    towns = figures(friday_ledger, campaign_packs, "township")
    assert towns["城区·义井街道"] == (0, 0, 0, 0, 0, 0, 0)
    assert towns["平定县·娘子关镇"] == (1, 2, 1, 1, 0, 2, 1)
    assert figures(friday_ledger, campaign_packs, "pack") == {
        "阳政办发〔2020〕99号": (3, 5, 2, 4, 2, 3, 1),
        "阳政办发〔2020〕109号": (1, 1, 1, 0, 0, 0, 1),
        "合计": (4, 6, 3, 4, 2, 3, 2),
    }


def test_orders_by_kind(friday_ledger: Ledger, campaign_packs: list[RulePack]) -> None:
    result = tally(friday_ledger.projection_as_of(W4), campaign_packs, W4, "county")
    data = result.as_json()
    assert list(data["order_kinds"]) == [
        "stop_use",
        "suspend_business",
        "evacuate",
        "stop_violation",
    ]
    assert data["total"]["orders"]["stop_use"] == {"ordered": 1, "in_force": 0, "lifted": 1}
    assert data["rows"][1]["label"] == "平定县"
    assert data["rows"][1]["orders"]["suspend_business"] == {
        "ordered": 1,
        "in_force": 1,
        "lifted": 0,
    }
    assert data["rows"][0]["orders"]["evacuate"]["ordered"] == 0
    # before the stop-use order was lifted (09-22) it was in force
    early = tally(friday_ledger.projection_as_of(cutoff(9, 18)), campaign_packs, cutoff(9, 18))
    assert early.total.orders["stop_use"].in_force == 1
    assert "stop_violation" not in early.total.orders  # ordered 09-23


def test_week_boundaries_overdue_and_reopen(
    friday_ledger: Ledger, campaign_packs: list[RulePack]
) -> None:
    total = FIELDS.index("rectified")
    # F4 was reported at exactly 2020-09-11 00:00:00: counted at that cut-off, not a second before
    at_w2 = figures(friday_ledger, campaign_packs, "county", cutoff(9, 11))["合计"]
    before = figures(
        friday_ledger, campaign_packs, "county", cutoff(9, 11) - dt.timedelta(seconds=1)
    )
    assert at_w2[total] == 2 and before["合计"][total] == 1
    # F4 was reopened 09-15: at W3 it is not rectified (F1 reported, F2 closed are)
    at_w3 = figures(friday_ledger, campaign_packs, "county", cutoff(9, 18))["合计"]
    assert at_w3 == (3, 5, 2, 2, 1, 1, 2)  # 重大未销号: F3 open and F1 reported, not yet 销号
    # F5 (raised at exactly 09-18 00:00) is due 09-18: not overdue on its deadline day (W3),
    # overdue at W4 although reported (not 销号); F4 (due 09-12) overdue in both
    assert figures(friday_ledger, campaign_packs, "county", cutoff(9, 18))["城区"][5] == 0
    assert figures(friday_ledger, campaign_packs, "county")["城区"][5] == 1
    # a 五落实 时限 replaces the rule's deadline: F1 (rule 09-10, plan 09-30) not overdue at W3
    assert figures(friday_ledger, campaign_packs, "level", cutoff(9, 18))["重大"][5] == 0


def test_scope_filters(friday_ledger: Ledger, campaign_packs: list[RulePack]) -> None:
    assert figures(friday_ledger, campaign_packs, "county", group="第四帮扶督导组") == {
        "平定县": (2, 4, 2, 3, 2, 2, 1),
        "合计": (2, 4, 2, 3, 2, 2, 1),
    }
    assert figures(friday_ledger, campaign_packs, "county", county="城区")["合计"] == (
        1, 1, 0, 1, 0, 1, 0,
    )  # fmt: skip
    env = figures(friday_ledger, campaign_packs, "county", pack="eleven-prohibitions")
    assert env == {"盂县": (1, 1, 1, 0, 0, 0, 1), "合计": (1, 1, 1, 0, 0, 0, 1)}


def test_unknown_filters_name_the_known_values(
    friday_ledger: Ledger, campaign_packs: list[RulePack]
) -> None:
    proj, index = friday_ledger.projection, PackIndex(campaign_packs)
    with pytest.raises(InputError, match="已有：城区、平定县、盂县"):
        check_scope(proj, index, Scope(county="阳曲县"))
    with pytest.raises(InputError, match="已有：第一帮扶督导组、第四帮扶督导组、第五帮扶督导组"):
        check_scope(proj, index, Scope(group="第九组"))
    with pytest.raises(InputError, match="building-safety、eleven-prohibitions"):
        check_scope(proj, index, Scope(pack="nope"))
    with pytest.raises(InputError, match="cannot tally by"):
        tally(proj, campaign_packs, W4, "village")


def test_unknown_pack_version_goes_to_unknown_section(
    friday_ledger: Ledger, campaign_packs: list[RulePack]
) -> None:
    only_bs = [p for p in campaign_packs if p.id == "building-safety"]
    rows = figures(friday_ledger, only_bs, "section")
    assert rows["未知章节"] == (None, 1, 1, 0, 0, 0, 1)  # F6: its pack is not loaded


def test_zh_order() -> None:
    names = ["第十组", "第二组", "第十二组", "第一组", "A组"]
    assert sorted(names, key=zh_order) == ["A组", "第一组", "第二组", "第十组", "第十二组"]


# --- the weekly series equals a projection per week ----------------------------------------------


def direct(ledger: Ledger, week: ReportWeek, county: str | None = None) -> WeekFigures:
    """The week's figures the slow way: a projection as of its cut-off, counted by definition."""
    proj = ledger.projection_as_of(week.cutoff)

    def t(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text)

    def in_county(site_id: str) -> bool:
        return county is None or proj.sites[site_id].site.county == county

    hazards = [f for f in proj.findings.values() if f.status is not None and in_county(f.site_id)]
    out = WeekFigures()
    for f in hazards:
        reports = [t(s.time) for s in f.history if s.action == "report"]
        closes = [t(s.time) for s in f.history if s.action == "close"]
        out.found += week.contains(t(f.raised_at))
        out.found_major += week.contains(t(f.raised_at)) and f.level == "重大"
        out.rectified += f.status in RECTIFIED and max(reports) > week.previous
        out.closed += f.status == Status.CLOSED and max(closes) > week.previous
        out.found_cum += 1
        out.rectified_cum += f.status in RECTIFIED
        out.closed_cum += f.status == Status.CLOSED
    submitted = [
        i for i in proj.inspections.values() if i.status == "submitted" and in_county(i.site_id)
    ]
    assert all(i.submitted_at for i in submitted)
    out.sites = len({i.site_id for i in submitted if week.contains(t(i.submitted_at or ""))})
    out.sites_cum = len({i.site_id for i in submitted})
    return out


def test_series_equals_projection_as_of_every_week(
    friday_ledger: Ledger, campaign_packs: list[RulePack]
) -> None:
    last = week_containing(dt.date(2020, 9, 28))  # W5, cut-off 10-02
    weeks = weeks_between(dt.date(2020, 8, 31), last)
    assert [w.cutoff for w in weeks] == [cutoff(9, d) for d in (4, 11, 18, 25)] + [cutoff(10, 2)]
    proj = friday_ledger.projection_as_of(last.cutoff)
    series = weekly_series(
        proj, PackIndex(campaign_packs), weeks, key=lambda s: s.county if s else "?"
    )
    for k, week in enumerate(weeks):
        assert series.total[k] == direct(friday_ledger, week), f"week {k + 1}"
        for county in ("城区", "平定县", "盂县"):
            assert series.of(county)[k] == direct(friday_ledger, week, county), (k + 1, county)
    # the hand counts (friday_ledger.py): found, rectified this week, 销号 this week
    assert [(w.found, w.rectified, w.closed) for w in series.total] == [
        (2, 1, 0),  # F1 F2 raised; F2 reported
        (2, 1, 1),  # F3 F4 raised; F4 reported at 09-11 00:00:00; F2 销号
        (1, 1, 0),  # F5 raised at 09-18 00:00:00; F1 reported (F4 reopened)
        (1, 2, 1),  # F6 raised; F4 and F5 reported; F1 销号
        (0, 0, 0),  # F3's plan and start one second after W4: no change in counts
    ]
    assert [w.rectified_cum for w in series.total] == [1, 2, 2, 4, 4]


def test_tallies_cli_json_is_byte_identical(
    friday_dir: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["report", "tallies", "--data-dir", str(friday_dir[0]), "--quiet"]
    argv += ["--by", "county", "--cutoff", "2020-09-25T00:00+08:00", "--format", "json"]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert main(argv) == 0
    assert capsys.readouterr().out == first
    data = json.loads(first)
    assert data["format"] == 1 and data["cutoff"] == "2020-09-25T00:00:00+08:00"
    assert data["total"]["found"] == 6 and data["total"]["rate"] == 0.6667
    assert main([*argv[:-2], "--out", str(tmp_path / "t.json")]) == 0
    assert (tmp_path / "t.json").read_text(encoding="utf-8") == first
    # --week gives the same cut-off as the explicit one
    week_argv = [a if a != "--cutoff" else "--week" for a in argv]
    week_argv[week_argv.index("--week") + 1] = "2020-09-23"
    assert main(week_argv) == 0
    assert capsys.readouterr().out == first


def test_tallies_cli_formats(
    friday_dir: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["report", "tallies", "--data-dir", str(friday_dir[0]), "--quiet", "--by", "level"]
    # a cut-off without an offset is China time
    assert main([*base, "--cutoff", "2020-09-25T00:00", "--out", str(tmp_path / "t.csv")]) == 0
    rows = list(csv.reader(io.StringIO((tmp_path / "t.csv").read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["隐患等级", "排查场所", "发现隐患"]
    assert rows[1][:3] == ["重大", "", "3"] and rows[-1][:3] == ["合计", "4", "6"]
    assert main([*base, "--cutoff", "2020-09-25T00:00", "--out", str(tmp_path / "t.xlsx")]) == 0
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["统计"]
    assert ws["A3"].value == "重大" and ws["C3"].value == 3 and ws["B3"].value is None
    assert main([*base, "--week", "2020-09-21", "--format", "md"]) == 0
    md = capsys.readouterr().out
    assert "| **合计** | **4** | **6** | **3** | **4** | **2** | **66.7%** |" in md
    assert main([*base, "--county", "阳曲县"]) == 3
    assert "已有：城区、平定县、盂县" in capsys.readouterr().err


def test_projection_at_reuses_the_live_projection_only_when_nothing_is_later(
    friday_ledger: Ledger,
) -> None:
    late = cutoff(10, 2)  # after every event of the fixed ledger
    assert projection_at(friday_ledger, late) is friday_ledger.projection
    assert friday_ledger.projection.digest() == friday_ledger.projection_as_of(late).digest()
    # F3's plan and start are one second after W4's cut-off: the as-of projection it is
    at_w4 = projection_at(friday_ledger, W4)
    assert at_w4 is not friday_ledger.projection
    assert at_w4.digest() == friday_ledger.projection_as_of(W4).digest()
    assert projection_at(friday_ledger, W4 + dt.timedelta(seconds=1)) is friday_ledger.projection


def test_projection_without_answers_matches_the_full_replay(
    tmp_path: Path, campaign_packs: list[RulePack]
) -> None:
    """What reports read is the same whether the answer events are replayed or not.

    On the demo ledger: inspections with answers, findings, plans, moves and orders, and a walk
    left open with two answers.
    """
    from tui.demo import build_demo

    build_demo(tmp_path, campaign_packs, sites=64)
    with Ledger.open(tmp_path, readonly=True) as ledger:
        for at in (cutoff(9, 5), cutoff(9, 12), cutoff(9, 19), cutoff(9, 22)):
            full = ledger.projection_as_of(at)
            lean = ledger.projection_as_of(at, answers=False)
            assert lean is not full
            assert full.inspections and any(i.answers for i in full.inspections.values())
            assert all(not i.answers for i in lean.inspections.values())
            assert {k: s.version for k, s in lean.sites.items()} == {
                k: s.version for k, s in full.sites.items()
            }
            assert {
                k: (i.site_id, i.status, i.submitted_at, i.finding_ids)
                for k, i in lean.inspections.items()
            } == {
                k: (i.site_id, i.status, i.submitted_at, i.finding_ids)
                for k, i in full.inspections.items()
            }
            assert {
                k: (f.status, f.plan, f.deadline, [s.event_id for s in f.history], f.closed_at)
                for k, f in lean.findings.items()
            } == {
                k: (f.status, f.plan, f.deadline, [s.event_id for s in f.history], f.closed_at)
                for k, f in full.findings.items()
            }
            assert {k: (o.kind, o.lifted_on) for k, o in lean.orders.items()} == {
                k: (o.kind, o.lifted_on) for k, o in full.orders.items()
            }
            # cached per (cut-off, answers): asking again gives the same object
            assert ledger.projection_as_of(at, answers=False) is lean
        late = ledger.projection_as_of(cutoff(9, 22), answers=False)
        assert late.findings and late.orders
        assert any(f.history[-1].action != "raised" for f in late.findings.values())
