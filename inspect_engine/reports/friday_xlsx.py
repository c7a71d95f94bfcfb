"""The Friday report as an Excel workbook, with a native chart of found vs rectified by week.

Sheets: 周报 (基本情况, 各县区进展, 本周与上周对比), 重大隐患, 处置措施, 阶段进展, 逐周趋势. The
chart is an Excel clustered-column chart on 逐周趋势, beside its table: two series, 本周发现 and
本周整改, whose titles and values are references to that table's header and data cells (so the
chart follows if someone corrects a figure), with the 周次 column as categories. The workbook is
deterministic (:func:`inspect_engine.reports.tabular.xlsx_bytes`): its document dates are the
report's cut-off.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef

from inspect_engine.reports.friday import FridayReport
from inspect_engine.reports.tabular import Placement, worksheet, write_xlsx

CHART_SERIES = ("found", "rectified")
"""Columns of the weekly table the chart plots, in order."""


def add_weekly_chart(workbook: Workbook, where: Mapping[str, Placement]) -> None:
    """Add the found-vs-rectified column chart beside the 逐周趋势 table."""
    place = where["weekly"]
    ws = worksheet(workbook, place.sheet)
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "clustered"
    chart.title = "逐周发现与整改隐患数"
    chart.y_axis.title = "隐患数"
    chart.x_axis.title = "周次"
    # openpyxl 3.1 leaves <c:delete> out of the axes, and Excel then hides them: say "shown"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.height = 9
    chart.width = 18
    for key in CHART_SERIES:
        col = place.column(key)
        values = Reference(
            ws, min_col=col, max_col=col, min_row=place.header_row, max_row=place.last_row
        )
        chart.add_data(values, titles_from_data=True)
    cats = place.column("week")
    labels = Reference(
        ws, min_col=cats, max_col=cats, min_row=place.first_row, max_row=place.last_row
    )
    for series in chart.series:
        # the week labels are text: a string reference, so Excel shows them, not 1, 2, 3
        series.cat = AxDataSource(strRef=StrRef(f=str(labels)))
    last_col = max(place.columns.values())
    anchor = ws.cell(row=place.title_row, column=last_col + 2).coordinate
    ws.add_chart(chart, anchor)


def write_friday_xlsx(report: FridayReport, out: Path) -> None:
    """Write the report's workbook to ``out`` atomically (document dates = the cut-off)."""
    write_xlsx(out, report.sheets(), created=report.week.cutoff, decorate=add_weekly_chart)
