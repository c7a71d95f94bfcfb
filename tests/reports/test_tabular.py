"""The shared table model: text, Markdown, CSV and a byte-identical, reopenable .xlsx."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, Reference

from inspect_engine.clock import CHINA
from inspect_engine.reports.tabular import (
    Column,
    Kind,
    Placement,
    Sheet,
    Table,
    build_workbook,
    render_csv,
    render_csv_sections,
    render_markdown,
    render_text,
    worksheet,
    write_xlsx,
    xlsx_bytes,
)

CUTOFF = dt.datetime(2020, 10, 1, 0, 0, tzinfo=CHINA)

TABLE = Table(
    title="各县区排查整改情况",
    key="counties",
    columns=(
        Column("county", "县区"),
        Column("found", "发现隐患", Kind.INT),
        Column("rate", "整改率", Kind.PERCENT),
        Column("due", "整改期限", Kind.DATE),
        Column("change", "较上周", Kind.SIGNED),
    ),
    rows=(
        ("城区", 12, 0.5, dt.date(2020, 9, 30), 3),
        ("平定县", 0, None, None, -1),
        ("a|b", 7, 1.0, dt.date(2020, 10, 31), 0),
    ),
    total=("合计", 19, 0.6842105263, None, 2),
    notes=("整改率 = 已整改 ÷ 发现隐患",),
)


def test_text_aligns_cjk_in_terminal_cells() -> None:
    text = render_text([TABLE])
    lines = text.splitlines()
    assert lines[0] == "各县区排查整改情况"
    assert lines[1].split() == ["县区", "发现隐患", "整改率", "整改期限", "较上周"]
    # "平定县" is 6 cells wide; every data row's second column ends at the same cell.
    assert "平定县" in lines[4]
    assert "50.0%" in lines[3] and "+3" in lines[3] and "2020-09-30" in lines[3]
    assert "—" in lines[4] and "-1" in lines[4]
    assert lines[-1] == "注：整改率 = 已整改 ÷ 发现隐患"
    assert "68.4%" in lines[-2] and lines[-2].startswith("合计")
    from inspect_engine.textwidth import cell_width

    ends = {
        cell_width(line[: line.index(n) + len(n)])
        for line, n in zip(lines[3:6], ("12", " 0", "7"), strict=True)
    }
    assert len(ends) == 1, "numbers right-aligned in one column"


def test_markdown_escapes_and_aligns() -> None:
    md = render_markdown([TABLE])
    lines = md.splitlines()
    assert lines[0] == "## 各县区排查整改情况"
    assert lines[2] == "| 县区 | 发现隐患 | 整改率 | 整改期限 | 较上周 |"
    assert lines[3] == "|---|---:|---:|---|---:|"
    assert lines[6] == "| a\\|b | 7 | 100.0% | 2020-10-31 | 0 |"
    assert lines[7] == "| **合计** | **19** | **68.4%** | **—** | **+2** |"
    assert lines[-1] == "- 整改率 = 已整改 ÷ 发现隐患"


def test_csv_has_bom_crlf_and_empty_missing() -> None:
    data = render_csv(TABLE)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["县区", "发现隐患", "整改率", "整改期限", "较上周"]
    assert rows[2] == ["平定县", "0", "", "", "-1"]
    assert rows[3][0] == "a|b"
    assert rows[-1] == ["合计", "19", "68.4%", "", "+2"]
    assert len(rows) == 5  # no title, no notes


def test_csv_sections_title_each_table() -> None:
    other = Table("第二表", (Column("x", "项"),), (("一",),))
    rows = list(csv.reader(io.StringIO(render_csv_sections([TABLE, other]).decode("utf-8-sig"))))
    assert rows[0] == ["各县区排查整改情况"]
    assert rows[6] == ["注：整改率 = 已整改 ÷ 发现隐患"]
    assert rows[7] == []
    assert rows[8:] == [["第二表"], ["项"], ["一"]]


def test_row_width_is_checked() -> None:
    with pytest.raises(ValueError, match="has 1 values"):
        Table("t", (Column("a", "甲"), Column("b", "乙")), (("x",),))


def _chart(wb: Workbook, where: Mapping[str, Placement]) -> None:
    place = where["counties"]
    ws = worksheet(wb, place.sheet)
    chart = BarChart()
    col = place.column("found")
    data = Reference(ws, min_col=col, min_row=place.header_row, max_row=place.last_row)
    chart.add_data(data, titles_from_data=True)
    ws.add_chart(chart, "H2")


def _sheets() -> list[Sheet]:
    other = Table(
        "说明", (Column("x", "项"), Column("at", "时间", Kind.DATETIME)), (("截止", CUTOFF),)
    )
    return [Sheet("汇总", (TABLE, other)), Sheet("空表", (Table("无数据", TABLE.columns, ()),))]


def test_xlsx_is_byte_identical_and_cells_typed(tmp_path: Path) -> None:
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_xlsx(first, _sheets(), created=CUTOFF, decorate=_chart)
    time.sleep(2.1)  # a zip timestamp or "modified" taken from the wall clock would now differ
    write_xlsx(second, _sheets(), created=CUTOFF, decorate=_chart)
    assert first.read_bytes() == second.read_bytes()

    with zipfile.ZipFile(first) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2020, 10, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
        assert "2020-09-30T16:00:00Z" in core  # created and modified: the cut-off, in UTC
        assert "xl/charts/chart1.xml" in archive.namelist()

    wb = load_workbook(first)
    assert wb.sheetnames == ["汇总", "空表"]
    ws = wb["汇总"]
    assert ws["A1"].value == "各县区排查整改情况" and ws["A1"].font.b
    assert [c.value for c in ws[2]][:5] == ["县区", "发现隐患", "整改率", "整改期限", "较上周"]
    assert ws["B2"].font.b and ws.freeze_panes == "A3"
    assert ws["B3"].value == 12 and ws["B3"].data_type == "n"
    assert ws["C3"].value == 0.5 and ws["C3"].number_format == "0.0%"
    assert ws["D3"].value == dt.datetime(2020, 9, 30) and ws["D3"].number_format == "yyyy-mm-dd"
    assert ws["C4"].value is None and ws["D4"].value is None
    assert ws["A6"].value == "合计" and ws["A6"].font.b and ws["B6"].value == 19
    assert ws["A7"].value == "注：整改率 = 已整改 ÷ 发现隐患"
    assert ws["A9"].value == "说明"
    assert ws["B11"].value == dt.datetime(2020, 10, 1, 0, 0)  # CST wall clock, no timezone
    assert ws.column_dimensions["A"].width == 8  # "平定县"/"各县..." fit: 6 cells + 2
    assert wb.properties.created == dt.datetime(2020, 9, 30, 16, 0)


def test_xlsx_bytes_depend_on_content() -> None:
    wb1 = build_workbook(_sheets(), created=CUTOFF)
    other = Table("x", (Column("a", "甲", Kind.INT),), ((1,),))
    wb2 = build_workbook([Sheet("汇总", (other,))], created=CUTOFF)
    assert xlsx_bytes(wb1, created=CUTOFF) != xlsx_bytes(wb2, created=CUTOFF)


def test_failed_render_leaves_the_target(tmp_path: Path) -> None:
    target = tmp_path / "report.xlsx"
    target.write_bytes(b"old")

    def boom(wb: Workbook, where: Mapping[str, Placement]) -> None:
        raise RuntimeError("chart failed")

    with pytest.raises(RuntimeError):
        write_xlsx(target, _sheets(), created=CUTOFF, decorate=boom)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["report.xlsx"]
