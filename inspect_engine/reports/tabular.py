"""The table model every report is made of, and its four renderings.

A report is a list of :class:`Table` objects: a title, typed :class:`Column` heads, rows of plain
values, an optional total row and footnotes. The same tables render as

* a terminal table (:func:`render_text`, aligned in terminal cells: a CJK character takes two),
* Markdown (:func:`render_markdown`, GitHub pipe tables),
* CSV (:func:`render_csv` for one table, :func:`render_csv_sections` for several in one file),
* an Excel workbook (:func:`write_xlsx`), with a hook (``decorate``) through which a report adds
  charts that point at the cells the tables landed in.

Values are stored raw (``int``, ``float``, ``date``, ``datetime``, ``str`` or ``None``) and
formatted by the column's :class:`Kind` at render time, so the workbook holds numbers as numbers,
dates as dates and percentages as fractions with a percent number format, while the text
renderings show ``50.0%``. ``None`` is "no value" (a rate with nothing to divide by): ``—`` in
text and Markdown, an empty cell in CSV and Excel.

Determinism is a contract: the same tables give the same bytes in every format. The workbook gets
its document properties (created, modified) from the caller (a report passes its cut-off, never
"now") and its zip entries fixed timestamps, in the order openpyxl wrote them; see
:func:`xlsx_bytes`.

Files are written atomically by :func:`inspect_engine.reports.outfile.write_out` (a temporary file
in the target's directory, ``fsync``, ``os.replace``); a failed render or write leaves the target as
it was and is reported as an input error naming the path.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import cast

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from inspect_engine.clock import CHINA
from inspect_engine.reports.outfile import write_out
from inspect_engine.storage import gc_paused
from inspect_engine.textwidth import cell_width, pad

Value = str | int | float | dt.date | dt.datetime | None
"""One cell's raw value. ``datetime`` is a subclass of ``date``: check it first."""

Row = tuple[Value, ...]
"""One row: a value per column, in column order."""

MISSING = "—"
"""How ``None`` shows in the terminal and in Markdown."""


class Kind(Enum):
    """How a column's values are formatted and aligned."""

    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    PERCENT = "percent"
    """A fraction (0.5) shown as ``50.0%``; ``None`` when there is nothing to divide by."""
    DATE = "date"
    DATETIME = "datetime"
    """Aware datetimes are shown (and stored in Excel) as China Standard Time wall-clock time."""
    SIGNED = "signed"
    """An integer change (week on week): ``+3``, ``-1``, ``0``."""

    @property
    def numeric(self) -> bool:
        """Right-aligned in text and Markdown."""
        return self in (Kind.INT, Kind.FLOAT, Kind.PERCENT, Kind.SIGNED)


_XLSX_FORMATS: dict[Kind, str] = {
    Kind.INT: "0",
    Kind.FLOAT: "0.00",
    Kind.PERCENT: "0.0%",
    Kind.DATE: "yyyy-mm-dd",
    Kind.DATETIME: "yyyy-mm-dd hh:mm",
    Kind.SIGNED: "+0;-0;0",
}


@dataclass(frozen=True, slots=True)
class Column:
    """A column: ``key`` for code (and JSON), ``label`` (Chinese) for people, and its kind."""

    key: str
    label: str
    kind: Kind = Kind.TEXT


@dataclass(frozen=True, slots=True)
class Table:
    """A titled table. ``rows`` and ``total`` hold one value per column, in column order.

    ``key`` names the table for :class:`Placement` (so a chart can find its cells); ``notes``
    are footnotes shown under it (definitions, the cut-off), in every format but plain CSV.
    """

    title: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    total: Row | None = None
    notes: tuple[str, ...] = ()
    key: str = ""

    def __post_init__(self) -> None:
        width = len(self.columns)
        for row in (*self.rows, *([self.total] if self.total is not None else [])):
            if len(row) != width:
                raise ValueError(
                    f"table {self.title!r}: row {row!r} has {len(row)} values, not {width}"
                )

    def column_index(self, key: str) -> int:
        """0-based position of the column ``key`` (``KeyError`` if absent)."""
        for i, col in enumerate(self.columns):
            if col.key == key:
                return i
        raise KeyError(key)

    def records(self) -> list[dict[str, Value]]:
        """The rows as ``{column key: raw value}`` dicts (for JSON output)."""
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.rows]


@dataclass(frozen=True, slots=True)
class Sheet:
    """A worksheet: its name (≤ 31 characters, Excel's limit) and its tables, top to bottom."""

    name: str
    tables: tuple[Table, ...]


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a table landed in the workbook (1-based rows and columns), for charts.

    ``first_row``..``last_row`` are the data rows (without the header and the total row);
    ``last_row < first_row`` when the table has no rows.
    """

    sheet: str
    title_row: int
    header_row: int
    first_row: int
    last_row: int
    columns: Mapping[str, int] = field(default_factory=dict)

    def column(self, key: str) -> int:
        """1-based column number of the column ``key``."""
        return self.columns[key]


Decorate = Callable[[Workbook, Mapping[str, Placement]], None]
"""A report's hook: add charts (or anything) to the workbook, given where each keyed table is."""


def worksheet(workbook: Workbook, name: str) -> Worksheet:
    """The worksheet called ``name`` (``KeyError`` if absent), typed as a worksheet for charts."""
    for ws in workbook.worksheets:
        if ws.title == name:
            return ws
    raise KeyError(name)


# --- value formatting -------------------------------------------------------------------------


def _local(value: dt.datetime) -> dt.datetime:
    """An aware datetime as naive China Standard Time; naive ones are taken as already local."""
    return value.astimezone(CHINA).replace(tzinfo=None) if value.tzinfo is not None else value


def format_value(value: Value, kind: Kind, *, missing: str = MISSING) -> str:
    """``value`` as text for the terminal, Markdown and CSV."""
    if value is None:
        return missing
    if type(value) is str:  # most cells: text as it is (the cases below never apply)
        return value
    if type(value) is int and kind is Kind.INT:
        return str(value)
    if kind is Kind.PERCENT and isinstance(value, int | float):
        return f"{value * 100:.1f}%"
    if kind is Kind.SIGNED and isinstance(value, int):
        return f"{value:+d}" if value else "0"
    if kind is Kind.FLOAT and isinstance(value, int | float):
        return f"{value:.2f}"
    if isinstance(value, dt.datetime):
        return _local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _cells(table: Table, row: Row, *, missing: str = MISSING) -> list[str]:
    return [
        format_value(v, c.kind, missing=missing) for v, c in zip(row, table.columns, strict=True)
    ]


_PLAIN_KINDS = frozenset((Kind.TEXT, Kind.INT, Kind.DATE, Kind.DATETIME))
"""Kinds whose :func:`format_value` of an ``int`` is ``str(value)`` (the others format numbers)."""


def _column_text(values: Sequence[Value], kind: Kind, missing: str) -> Sequence[str]:
    """One column's values as :func:`format_value` makes them, a whole column of one type at a
    time where that type's text is the same for every value (every cell of most columns)."""
    types = set(map(type, values))
    if types == {str}:
        return cast(Sequence[str], values)
    if types == {type(None)}:
        return [missing] * len(values)
    if types == {int} and kind in _PLAIN_KINDS:
        return list(map(str, values))
    if types == {dt.date}:
        return list(map(dt.date.isoformat, cast(Sequence[dt.date], values)))
    return [v if type(v) is str else format_value(v, kind, missing=missing) for v in values]


def _cells_of(
    table: Table, rows: Sequence[Row], *, missing: str = MISSING
) -> list[tuple[str, ...]]:
    """Each row's values as text, as :func:`format_value` makes them, formatted a column at a
    time: most columns hold text only, and one type check of a whole column replaces one per
    cell (``tests/reports/test_tabular_fast.py`` compares the cells with a call per cell). A row
    that does not fit the columns is a ``ValueError``."""
    if not rows:
        return []
    if not table.columns:
        if any(rows):
            raise ValueError(f"table {table.title!r}: a row has values but there are no columns")
        return [() for _ in rows]
    columns = [
        _column_text(values, col.kind, missing)
        for values, col in zip(zip(*rows, strict=True), table.columns, strict=True)
    ]
    return list(zip(*columns, strict=True))


# --- text -------------------------------------------------------------------------------------


def _align(text: str, width: int, numeric: bool) -> str:
    return " " * max(0, width - cell_width(text)) + text if numeric else pad(text, width)


@gc_paused()  # many small objects over a big live heap (storage.gc_paused)
def render_text(tables: Sequence[Table]) -> str:
    """The tables as aligned terminal text (CJK-aware), a blank line between tables.

    Each table: its title, the header, a rule, the rows, a rule and the total row when there is
    one, then the notes. Numbers are right-aligned. Ends with a newline.
    """
    blocks: list[str] = []
    for table in tables:
        heads = [c.label for c in table.columns]
        body = _cells_of(table, table.rows)
        total = _cells(table, table.total) if table.total is not None else None
        widths = [cell_width(h) for h in heads]
        for cells in [*body, *([total] if total else [])]:
            widths = [max(w, cell_width(c)) for w, c in zip(widths, cells, strict=True)]
        numeric = [c.kind.numeric for c in table.columns]

        def line(
            cells: Sequence[str], widths: list[int] = widths, numeric: list[bool] = numeric
        ) -> str:
            parts = (_align(c, w, n) for c, w, n in zip(cells, widths, numeric, strict=True))
            return "  ".join(parts).rstrip()

        rule = "  ".join("-" * w for w in widths)
        lines = [table.title, line(heads), rule, *(line(c) for c in body)]
        if not body:
            lines.append("（无）")
        if total is not None:
            lines += [rule, line(total)]
        lines += [f"注：{n}" for n in table.notes]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


# --- Markdown ---------------------------------------------------------------------------------


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


@gc_paused()  # many small objects over a big live heap (storage.gc_paused)
def render_markdown(tables: Sequence[Table], *, heading_level: int = 2) -> str:
    """The tables as Markdown: a heading per table, a pipe table, the total row in bold, notes.

    Numeric columns are right-aligned (``---:``); ``|`` in a cell is escaped. An empty table shows
    one row of ``（无）``. Ends with a newline.
    """
    hashes = "#" * heading_level
    blocks: list[str] = []
    for table in tables:
        heads = [_md_escape(c.label) for c in table.columns]
        lines = [f"{hashes} {_md_escape(table.title)}", ""]
        lines.append("| " + " | ".join(heads) + " |")
        lines.append(
            "|" + "|".join("---:" if c.kind.numeric else "---" for c in table.columns) + "|"
        )
        lines += [
            "| " + " | ".join(_md_escape(c) for c in cells) + " |"
            for cells in _cells_of(table, table.rows)
        ]
        if not table.rows:
            lines.append("| " + " | ".join(["（无）"] + [""] * (len(heads) - 1)) + " |")
        if table.total is not None:
            cells = [f"**{_md_escape(c)}**" for c in _cells(table, table.total)]
            lines.append("| " + " | ".join(cells) + " |")
        if table.notes:
            lines.append("")
            lines += [f"- {_md_escape(n)}" for n in table.notes]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


# --- CSV --------------------------------------------------------------------------------------

CSV_BOM = "\ufeff"
"""UTF-8 byte-order mark. Excel on Chinese Windows reads a CSV without it as GB18030 and garbles
every Chinese character; with it, Excel, LibreOffice and Python (``encoding="utf-8-sig"``) all read
UTF-8. Tools that dislike a BOM are rarer among the offices than Excel."""


def _csv_rows(table: Table) -> list[Sequence[str]]:
    rows: list[Sequence[str]] = [[c.label for c in table.columns]]
    rows += _cells_of(table, table.rows, missing="")
    if table.total is not None:
        rows.append(_cells(table, table.total, missing=""))
    return rows


_CSV_LINE_END = "\r\n"


class _Lines:
    """What :func:`csv.writer` writes to: each line it writes, kept in a list."""

    __slots__ = ("write",)

    def __init__(self, lines: list[str]) -> None:
        self.write = lines.append


def _csv_lines(rows: Iterable[Sequence[str]], lines: list[str]) -> None:
    """Append each row of text as a CSV line (ending in CRLF), as :func:`csv.writer` writes it.

    A line whose fields need no quotes (no comma, quote, CR or LF in any field, and not one
    empty field, which the writer quotes) is the fields joined by commas: written so here, five
    times quicker than through the writer; the writer writes every other line
    (``tests/reports/test_tabular_fast.py`` compares the two on awkward fields).
    """
    quoted = csv.writer(_Lines(lines), lineterminator=_CSV_LINE_END)
    for row in rows:
        line = ",".join(row)
        if (
            line
            and line.count(",") == len(row) - 1
            and '"' not in line
            and "\n" not in line
            and "\r" not in line
        ):
            lines.append(line + _CSV_LINE_END)
        else:
            quoted.writerow(row)


@gc_paused()  # many small objects over a big live heap (storage.gc_paused)
def render_csv(table: Table) -> bytes:
    """One table as CSV bytes: UTF-8 with a BOM (:data:`CSV_BOM`), CRLF line ends (RFC 4180).

    The first line is the Chinese header; then the rows, then the total row if any. Values are
    formatted as in the terminal (``50.0%``, ``2020-09-30``: Excel reads both back as numbers and
    dates); ``None`` is an empty field. No title and no notes, so the file loads as a plain table.
    """
    lines = [CSV_BOM]
    _csv_lines(_csv_rows(table), lines)
    return "".join(lines).encode("utf-8")


@gc_paused()  # many small objects over a big live heap (storage.gc_paused)
def render_csv_sections(tables: Sequence[Table]) -> bytes:
    """Several tables in one CSV file, as a person reads it in Excel.

    Each table: a one-field line with its title, its header and rows (as :func:`render_csv`), its
    notes (one field each, prefixed ``注：``), then an empty line. UTF-8 with a BOM, CRLF.
    """
    lines = [CSV_BOM]
    for i, table in enumerate(tables):
        if i:
            lines.append(_CSV_LINE_END)
        _csv_lines([[table.title]], lines)
        _csv_lines(_csv_rows(table), lines)
        _csv_lines(([f"注：{n}"] for n in table.notes), lines)
    return "".join(lines).encode("utf-8")


# --- Excel ------------------------------------------------------------------------------------

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=12)
_MAX_WIDTH = 60


def _xlsx_value(value: Value) -> Value:
    """Excel has no timezones: aware datetimes become China Standard Time wall-clock time."""
    return _local(value) if isinstance(value, dt.datetime) else value


def _fill_sheet(ws: Worksheet, sheet: Sheet, placements: dict[str, Placement]) -> None:
    widths: dict[int, int] = {}
    row = 1
    frozen = False
    for t_index, table in enumerate(sheet.tables):
        if t_index:
            row += 1  # one empty row between tables
        title_row = row
        ws.cell(row=row, column=1, value=table.title).font = _TITLE
        row += 1
        header_row = row
        for col_no, col in enumerate(table.columns, start=1):
            cell = ws.cell(row=row, column=col_no, value=col.label)
            cell.font = _BOLD
            widths[col_no] = max(widths.get(col_no, 0), cell_width(col.label))
        if not frozen:
            ws.freeze_panes = f"A{row + 1}"
            frozen = True
        first = row + 1
        for values in table.rows:
            row += 1
            _put_row(ws, table, row, values, widths, bold=False)
        last = row
        if table.total is not None:
            row += 1
            _put_row(ws, table, row, table.total, widths, bold=True)
        for note in table.notes:
            row += 1
            ws.cell(row=row, column=1, value=f"注：{note}")
        if table.key:
            if table.key in placements:
                raise ValueError(f"two tables keyed {table.key!r}")
            placements[table.key] = Placement(
                sheet=sheet.name,
                title_row=title_row,
                header_row=header_row,
                first_row=first,
                last_row=last,
                columns={c.key: i for i, c in enumerate(table.columns, start=1)},
            )
        row += 1
    for col_no, width in sorted(widths.items()):
        ws.column_dimensions[get_column_letter(col_no)].width = min(_MAX_WIDTH, width + 2)


def _put_row(
    ws: Worksheet, table: Table, row: int, values: Row, widths: dict[int, int], *, bold: bool
) -> None:
    for col_no, (value, col) in enumerate(zip(values, table.columns, strict=True), start=1):
        cell = ws.cell(row=row, column=col_no, value=_xlsx_value(value))
        fmt = _XLSX_FORMATS.get(col.kind)
        if fmt is not None and value is not None:
            cell.number_format = fmt
        if bold:
            cell.font = _BOLD
        widths[col_no] = max(widths.get(col_no, 0), cell_width(format_value(value, col.kind)))


def build_workbook(
    sheets: Sequence[Sheet], *, created: dt.datetime, decorate: Decorate | None = None
) -> Workbook:
    """An openpyxl workbook of ``sheets``, document properties set from ``created``.

    Per sheet: each table's title (bold) in column A, the header row in bold, the rows, the total
    row in bold, the notes; one empty row between tables. The first table's header is frozen (it
    stays in view while scrolling). Column widths fit the widest rendered value in terminal cells
    (a CJK character counts two), capped at 60. Cells carry raw values with number formats: ``0``,
    ``0.0%``, ``yyyy-mm-dd``, ``yyyy-mm-dd hh:mm``. ``decorate(workbook, placements)`` runs last.
    """
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    wb = Workbook()
    default = wb.active
    assert default is not None
    wb.remove(default)
    placements: dict[str, Placement] = {}
    for sheet in sheets:
        if len(sheet.name) > 31:
            raise ValueError(f"sheet name longer than 31 characters: {sheet.name!r}")
        ws = wb.create_sheet(title=sheet.name)
        _fill_sheet(ws, sheet, placements)
    stamp = created.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    props = wb.properties
    props.created = stamp
    props.modified = stamp
    props.creator = "inspect-engine"
    props.lastModifiedBy = "inspect-engine"
    if decorate is not None:
        decorate(wb, placements)
    return wb


def xlsx_bytes(workbook: Workbook, *, created: dt.datetime) -> bytes:
    """The workbook as .xlsx bytes, identical for identical workbooks.

    ``openpyxl.save_workbook`` stamps ``modified`` with the wall clock and every zip entry with the
    current time; this writes through openpyxl's ``ExcelWriter`` (which keeps the properties we
    set) into memory, then copies the entries, in the order written, into a new archive whose
    entries all carry ``created`` (China Standard Time, to the even second DOS dates allow), mode
    0644 and a fixed creator system. Compression is deflate at zlib's default level.
    """
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    local = created.astimezone(CHINA)
    stamp = (local.year, local.month, local.day, local.hour, local.minute, local.second)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            entry.create_system = 3
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def write_xlsx(
    path: Path,
    sheets: Sequence[Sheet],
    *,
    created: dt.datetime,
    decorate: Decorate | None = None,
) -> None:
    """Write ``sheets`` to ``path`` as a deterministic .xlsx, atomically.

    ``created`` (aware; a report passes its cut-off) sets the document's created and modified
    properties and the zip entries' timestamps, so the same sheets give byte-identical files.
    The workbook is built fully in memory before anything touches ``path``.
    """
    with gc_paused():  # a big ledger in memory makes every collection slow (storage.gc_paused)
        book = build_workbook(sheets, created=created, decorate=decorate)
        data = xlsx_bytes(book, created=created)
    write_out(Path(path), data)
