"""The Friday report: weeks and cut-offs, the figures on the fixed ledger, errors, determinism,
golden Markdown and CSV, and the workbook (cells and the chart's XML).

Golden files live in ``tests/data/reports/friday/``. After an intended change, regenerate them
with ``INSPECT_ENGINE_REGEN_GOLDEN=1 .venv/bin/pytest tests/reports/test_friday.py`` and review the
diff (docs/reports.md, "Determinism").
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest

from inspect_engine.cli.main import main
from inspect_engine.clock import CHINA
from inspect_engine.errors import InputError
from inspect_engine.ledger import Ledger
from inspect_engine.reports.friday import FridayReport, build_friday, render_friday
from inspect_engine.reports.week import (
    ReportWeek,
    WeekGrid,
    latest_report,
    week_containing,
    weeks_between,
)
from inspect_engine.rulepack import RulePack
from tests.reports.friday_ledger import cutoff

GOLDEN = Path(__file__).parent.parent / "data" / "reports" / "friday"
REGEN = os.environ.get("INSPECT_ENGINE_REGEN_GOLDEN") == "1"


def golden(name: str, data: bytes) -> None:
    """Compare with the golden file, or write it when regenerating."""
    path = GOLDEN / name
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"{path} missing: regenerate with INSPECT_ENGINE_REGEN_GOLDEN=1"
    assert data == path.read_bytes(), f"differs from {path} (see the module docstring)"


@pytest.fixture
def w4(friday_ledger: Ledger, campaign_packs: list[RulePack]) -> FridayReport:
    """The report of the week of 2020-09-21 (cut-off 2020-09-25 00:00)."""
    return build_friday(friday_ledger, campaign_packs, week=dt.date(2020, 9, 21))


# --- weeks ----------------------------------------------------------------------------------------


def test_week_of_a_date_is_monday_to_sunday_cut_off_thursday_24h() -> None:
    for day in range(21, 28):  # Monday 09-21 .. Sunday 09-27
        week = week_containing(dt.date(2020, 9, day))
        assert week.cutoff == dt.datetime(2020, 9, 25, 0, 0, tzinfo=CHINA)
    assert week_containing(dt.date(2020, 9, 28)).cutoff == cutoff(10, 2)
    week = week_containing(dt.date(2020, 9, 21))
    assert (week.first_day, week.last_day, week.today) == (
        dt.date(2020, 9, 18),
        dt.date(2020, 9, 24),
        dt.date(2020, 9, 25),
    )
    assert week.due == dt.datetime(2020, 9, 25, 12, 0, tzinfo=CHINA)
    assert week.period_zh() == "2020年9月18日0时至9月24日24时"


def test_an_event_at_friday_midnight_belongs_to_the_week_ending_then() -> None:
    week = week_containing(dt.date(2020, 9, 21))
    assert week.contains(cutoff(9, 25))
    assert not week.contains(cutoff(9, 18))
    assert week.before().contains(cutoff(9, 18))
    grid = WeekGrid(weeks_between(dt.date(2020, 8, 31), week))
    assert grid.index(cutoff(9, 25)) == 3  # W4
    assert grid.index(cutoff(9, 25) + dt.timedelta(microseconds=1)) == 4  # after the last week
    assert grid.index(cutoff(8, 28)) == -1  # before the first week


def test_latest_report_on_the_clock() -> None:
    friday_morning = dt.datetime(2020, 9, 25, 10, 0, tzinfo=CHINA)
    assert latest_report(friday_morning).cutoff == cutoff(9, 25)
    thursday_night = dt.datetime(2020, 9, 24, 23, 0, tzinfo=CHINA)
    assert latest_report(thursday_night).cutoff == cutoff(9, 18)
    # a clock in another zone: Friday 00:00 China time is Thursday 16:00 UTC
    utc = dt.datetime(2020, 9, 24, 16, 0, tzinfo=dt.UTC)
    assert latest_report(utc).cutoff == cutoff(9, 25)


def test_explicit_cutoff_gives_the_same_report_as_the_week(
    friday_ledger: Ledger, campaign_packs: list[RulePack], w4: FridayReport
) -> None:
    other = build_friday(friday_ledger, campaign_packs, cutoff=cutoff(9, 25))
    assert render_friday(other, "md") == render_friday(w4, "md")
    # the clock's default (Saturday 09-26) is the same report too
    assert ReportWeek(cutoff(9, 25)) == w4.week


# --- figures --------------------------------------------------------------------------------------


def test_county_table(w4: FridayReport) -> None:
    table = w4.table("counties")
    rows = {r[0]: r for r in table.rows}
    keys = [c.key for c in table.columns]

    def get(label: str, key: str) -> object:
        row = rows[label] if label != "合计" else table.total
        assert row is not None
        return row[keys.index(key)]

    assert list(rows) == ["城区", "平定县", "盂县"]
    # this week (09-18, 09-25]: F6 found at 盂县; F4 (平定县) and F5 (城区) reported; F1 销号
    assert [get(c, "found_week") for c in ("城区", "平定县", "盂县", "合计")] == [0, 0, 1, 1]
    assert [get(c, "rectified_week") for c in ("城区", "平定县", "盂县", "合计")] == [1, 1, 0, 2]
    # last week: F5 found at 城区; F1 reported at 平定县
    assert [get(c, "found_change") for c in ("城区", "平定县", "盂县", "合计")] == [-1, 0, 1, 0]
    assert [get(c, "rectified_change") for c in ("城区", "平定县", "盂县", "合计")] == [1, 0, 0, 1]
    assert get("合计", "found") == 6 and get("合计", "rectified") == 4
    assert get("合计", "rate") == pytest.approx(4 / 6)
    assert get("平定县", "overdue") == 2 and get("合计", "major_open") == 2
    assert get("平定县", "orders_in_force") == 2  # 停业 and 撤离; 停止使用 lifted
    assert get("合计", "sites") == 4 and get("合计", "sites_week") == 1


def test_week_on_week_totals(w4: FridayReport) -> None:
    compare = {r[0]: r[1:] for r in w4.table("compare").rows}
    assert compare["发现隐患"] == (1, 1, 0, 6)
    assert compare["其中重大"] == (1, 0, 1, 3)
    assert compare["整改隐患"] == (2, 1, 1, 4)
    assert compare["销号"] == (1, 0, 1, 2)
    assert compare["排查场所"] == (1, 1, 0, 4)
    assert (w4.this_week.found, w4.last_week.found) == (1, 1)


def test_major_hazards_with_status(w4: FridayReport) -> None:
    major = w4.table("major")
    keys = [c.key for c in major.columns]
    rows = [dict(zip(keys, r, strict=True)) for r in major.rows]
    assert [(r["site"], r["status"]) for r in rows] == [
        ("娘子关镇2号", "待整改（逾期）"),  # F3: due 09-20, open: first
        ("秀水镇4号", "待整改"),  # F6: due 10-10
        ("冠山镇1号", "销号"),  # F1 销号 last
    ]
    assert rows[2]["deadline"] == dt.date(2020, 9, 30)  # the 五落实 时限, not the rule's 09-10
    assert rows[2]["orders"] == "责令停止使用（已解除）；撤离人员"
    assert rows[0]["raised"] == dt.date(2020, 9, 9)


def test_orders_and_phases(
    friday_ledger: Ledger, campaign_packs: list[RulePack], w4: FridayReport
) -> None:
    orders = {r[0]: r[1:] for r in w4.table("orders").rows}
    assert orders["责令停止违法行为"] == (1, 1, 1, 0)  # ordered 09-23: this week
    assert orders["责令停止使用"] == (1, 0, 0, 1)
    phases = [(p.name, p.state, p.days_left, p.value) for p in w4.phases]
    assert phases == [
        ("全面摸排、掌握底数", "进行中", 5, "75.0%（3/4）"),  # S1 S2 S3 of S1 S2 S3 S5
        ("立即整改、消除隐患", "进行中", 36, "80.0%（4/5）"),
        ("压实责任、建立长效机制", "进行中", 66, "重大未销号 1 项，逾期 3 项"),
        ("专项治理", "未开始", None, "0.0%（0/1）"),
    ]
    assert w4.week_no == 4
    late = build_friday(friday_ledger, campaign_packs, week=dt.date(2020, 10, 5))
    assert [p.state for p in late.phases][:2] == ["已结束", "进行中"]


def test_group_and_pack_scope(friday_ledger: Ledger, campaign_packs: list[RulePack]) -> None:
    group = build_friday(
        friday_ledger, campaign_packs, week=dt.date(2020, 9, 21), group="第四帮扶督导组"
    )
    assert [r[0] for r in group.table("counties").rows] == ["平定县"]
    assert group.title == "阳泉市专项排查整治工作进展周报（第四帮扶督导组，第4周）"
    assert group.table("info").rows[0] == ("统计范围", "第四帮扶督导组")
    env = build_friday(
        friday_ledger, campaign_packs, week=dt.date(2020, 10, 19), pack="eleven-prohibitions"
    )
    env_pack = next(p for p in campaign_packs if p.id == "eleven-prohibitions")
    assert env.week_no == 1 and env.title == f"{env_pack.manifest.title.zh}工作进展周报（第1周）"
    assert env.counties.total.found == 1
    assert [p.name for p in env.phases] == ["专项治理"]


# --- errors ---------------------------------------------------------------------------------------


def test_week_outside_the_campaign(friday_ledger: Ledger, campaign_packs: list[RulePack]) -> None:
    with pytest.raises(InputError, match="不在专项行动期间"):
        build_friday(friday_ledger, campaign_packs, week=dt.date(2020, 8, 24))
    with pytest.raises(InputError, match="不在专项行动期间"):
        build_friday(friday_ledger, campaign_packs, week=dt.date(2021, 1, 4))
    with pytest.raises(InputError, match="2020-10-19至2020-12-31"):
        build_friday(
            friday_ledger, campaign_packs, week=dt.date(2020, 9, 21), pack="eleven-prohibitions"
        )
    # the week holding the campaign's first day is its first week
    first = build_friday(friday_ledger, campaign_packs, week=dt.date(2020, 8, 31))
    assert first.week_no == 1 and first.counties.total.found == 2


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_errors_write_nothing(
    friday_dir: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(friday_dir[0])
    out = tmp_path / "report.xlsx"
    out.write_bytes(b"previous report")
    base = ["report", "friday", "--data-dir", data, "--out", str(out)]
    code, _, err = run([*base, "--county", "阳曲县"], capsys)
    assert code == 3 and "已有：城区、平定县、盂县" in err
    code, _, err = run([*base, "--group", "第九组"], capsys)
    assert code == 3 and "第一帮扶督导组" in err
    code, _, err = run([*base, "--week", "2021-03-01"], capsys)
    assert code == 3 and "不在专项行动期间" in err
    code, _, err = run([*base, "--week", "last friday"], capsys)
    assert code == 2
    empty = tmp_path / "empty"
    code, _, err = run(["report", "friday", "--data-dir", str(empty), "--out", str(out)], capsys)
    assert code == 3 and "台账为空" in err
    assert out.read_bytes() == b"previous report"
    assert sorted(os.listdir(tmp_path)) == ["report.xlsx"]  # no temp file, no ledger made
    code, _, err = run(["report", "friday", "--data-dir", data, "--format", "xlsx"], capsys)
    assert code == 2 and "--out" in err
    code, _, err = run([*base[:-1], str(tmp_path / "r.pdf")], capsys)
    assert code == 2 and "give --format" in err
    code, _, err = run([*base, "--format", "md"], capsys)  # report.xlsx written as Markdown?
    assert code == 2 and "contradicts" in err
    assert out.read_bytes() == b"previous report"


def test_cli_progress_on_stderr_and_data_on_stdout(
    friday_dir: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["report", "friday", "--data-dir", str(friday_dir[0]), "--week", "2020-09-21"]
    code, out, err = run([*argv, "--format", "md"], capsys)
    assert code == 0
    assert out.startswith("# 阳泉市专项排查整治工作进展周报（第4周）")
    assert "[friday] 写出 5/5" in err and "[friday]" not in out
    code, _, err = run([*argv, "--format", "md", "--quiet"], capsys)
    assert err == ""
    # the clock decides the default week: --now Saturday 09-26 → the report cut off 09-25
    code, again, _ = run(
        ["report", "friday", "--data-dir", str(friday_dir[0]), "--now", "2020-09-26T09:00+08:00"]
        + ["--format", "md", "--quiet"],
        capsys,
    )
    assert again == out


# --- formats and determinism ----------------------------------------------------------------------


def test_text_formats_are_deterministic_and_golden(
    friday_ledger: Ledger, campaign_packs: list[RulePack], w4: FridayReport
) -> None:
    again = build_friday(friday_ledger, campaign_packs, week=dt.date(2020, 9, 21))
    for fmt in ("text", "md", "csv"):
        assert render_friday(again, fmt) == render_friday(w4, fmt)
    golden("friday-2020-09-25.md", render_friday(w4, "md"))
    golden("friday-2020-09-25.csv", render_friday(w4, "csv"))


def test_csv_opens_as_excel_reads_it(w4: FridayReport) -> None:
    data = render_friday(w4, "csv")
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["阳泉市专项排查整治工作进展周报（第4周）"]
    start = rows.index(["各县区进展"])
    assert rows[start + 1][:4] == ["县区", "本周排查场所", "累计排查场所", "本周发现隐患"]
    total = next(r for r in rows[start:] if r and r[0] == "合计")
    assert total[5] == "6" and total[10] == "66.7%"


def test_file_outputs_are_atomic_and_match_stdout(
    friday_dir: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["report", "friday", "--data-dir", str(friday_dir[0]), "--week", "2020-09-21", "--quiet"]
    for suffix, fmt in ((".md", "md"), (".csv", "csv"), (".txt", "text")):
        out = tmp_path / f"r{suffix}"
        assert run([*argv, "--out", str(out)], capsys)[0] == 0
        if fmt != "csv":
            assert run([*argv, "--format", fmt], capsys)[1].encode() == out.read_bytes()
    assert sorted(os.listdir(tmp_path)) == ["r.csv", "r.md", "r.txt"]


def _chart_refs(path: Path) -> list[tuple[str, str, str]]:
    """(title ref, categories ref, values ref) of every series of the workbook's charts."""
    ns = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart"}
    out = []
    with zipfile.ZipFile(path) as archive:
        charts = sorted(n for n in archive.namelist() if re.match(r"xl/charts/chart\d+\.xml", n))
        assert charts == ["xl/charts/chart1.xml"]
        root = ElementTree.fromstring(archive.read(charts[0]))
    assert root.find(".//c:barChart/c:barDir", ns).get("val") == "col"  # type: ignore[union-attr]
    # both axes say they are shown (Excel hides an axis without <c:delete val="0"/>)
    for axis in ("catAx", "valAx"):
        assert root.find(f".//c:{axis}/c:delete", ns).get("val") == "0"  # type: ignore[union-attr]
    for ser in root.iterfind(".//c:ser", ns):
        title = ser.findtext("c:tx/c:strRef/c:f", namespaces=ns) or ""
        cats = ser.findtext("c:cat/c:strRef/c:f", namespaces=ns) or ""
        vals = ser.findtext("c:val/c:numRef/c:f", namespaces=ns) or ""
        out.append((title, cats, vals))
    return out


def _cells(ws: object, ref: str) -> list[object]:
    """The values of a sheet range like ``'逐周趋势'!$C$3:$C$6`` (or one cell)."""
    from openpyxl.worksheet.worksheet import Worksheet

    assert isinstance(ws, Worksheet)
    area = ref.split("!")[1].replace("$", "")
    got = ws[area]
    if isinstance(got, tuple):
        return [row[0].value if isinstance(row, tuple) else row.value for row in got]
    return [got.value]


def test_xlsx_cells_chart_and_bytes(
    friday_dir: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["report", "friday", "--data-dir", str(friday_dir[0]), "--week", "2020-09-21", "--quiet"]
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    assert run([*argv, "--out", str(first)], capsys)[0] == 0
    assert run([*argv, "--out", str(second), "--format", "xlsx"], capsys)[0] == 0
    assert first.read_bytes() == second.read_bytes()

    wb = openpyxl.load_workbook(first)
    assert wb.sheetnames == ["周报", "重大隐患", "处置措施", "阶段进展", "逐周趋势"]
    ws = wb["周报"]
    assert ws["A1"].value == "阳泉市专项排查整治工作进展周报（第4周）"
    assert ws["A2"].value == "项目" and ws["A2"].font.b and ws.freeze_panes == "A3"
    heads = {c.value: c.column for c in ws[13] if c.value}
    assert ws["A12"].value == "各县区进展" and "累计发现隐患" in heads
    county_rows = {ws.cell(row=r, column=1).value: r for r in range(14, 18)}
    assert list(county_rows) == ["城区", "平定县", "盂县", "合计"]
    rate = ws.cell(row=county_rows["合计"], column=heads["整改率"])
    assert rate.value == pytest.approx(4 / 6) and rate.number_format == "0.0%"
    found = ws.cell(row=county_rows["平定县"], column=heads["累计发现隐患"])
    assert found.value == 4 and found.data_type == "n"
    major = wb["重大隐患"]
    assert (
        major["G3"].value == dt.datetime(2020, 9, 9) and major["G3"].number_format == "yyyy-mm-dd"
    )

    weekly = wb["逐周趋势"]
    assert [c.value for c in weekly[2]][:4] == ["周次", "统计至", "本周发现", "本周整改"]
    refs = _chart_refs(first)
    assert refs == [
        ("'逐周趋势'!C2", "'逐周趋势'!$A$3:$A$6", "'逐周趋势'!$C$3:$C$6"),
        ("'逐周趋势'!D2", "'逐周趋势'!$A$3:$A$6", "'逐周趋势'!$D$3:$D$6"),
    ]
    (t1, cats, v1), (t2, _, v2) = refs
    assert _cells(weekly, t1) == ["本周发现"] and _cells(weekly, t2) == ["本周整改"]
    assert _cells(weekly, cats) == [
        f"第{n}周（09-{d:02d}）" for n, d in enumerate((3, 10, 17, 24), 1)
    ]
    assert _cells(weekly, v1) == [2, 2, 1, 1]
    assert _cells(weekly, v2) == [1, 1, 1, 2]
    with zipfile.ZipFile(first) as archive:
        core = archive.read("docProps/core.xml").decode()
    assert "2020-09-24T16:00:00Z" in core  # the cut-off (Friday 00:00 China time) in UTC
