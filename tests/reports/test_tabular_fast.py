"""The table renderings' shortcuts give what the plain computation gives.

``_cells_of`` formats a column at a time (one type check per column where every cell has one
type) and ``render_csv`` joins the fields of a line itself when none needs quotes. Each is
compared here with the plain way: :func:`format_value` per cell, :func:`csv.writer` per line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import random
from collections.abc import Sequence

import pytest

from inspect_engine.clock import CHINA
from inspect_engine.reports.tabular import (
    CSV_BOM,
    MISSING,
    Column,
    Kind,
    Row,
    Table,
    Value,
    _cells_of,
    _csv_lines,
    format_value,
    render_csv,
    render_csv_sections,
)

AWKWARD_TEXT = [
    "",
    " ",
    "a",
    "平定县",
    "a,b",
    'say "hi"',
    '"',
    ",",
    "x\ny",
    "x\r\ny",
    "\r",
    "—",
    "a|b",
]
"""Texts the CSV writer quotes (comma, quote, CR, LF), and ones it does not."""

VALUES: list[Value] = [
    None,
    *AWKWARD_TEXT,
    0,
    3,
    -1,
    12345678901234567890,
    True,
    False,
    0.0,
    0.5,
    -2.25,
    1e-9,
    float("inf"),
    dt.date(2020, 9, 30),
    dt.date(1, 1, 1),
    dt.datetime(2020, 9, 30, 8, 5, tzinfo=CHINA),
    dt.datetime(2020, 9, 30, 8, 5, tzinfo=dt.UTC),
    dt.datetime(2020, 9, 30, 8, 5),
]


def _plain_cells(table: Table, rows: Sequence[Row], missing: str) -> list[list[str]]:
    """The reference: :func:`format_value` of every cell."""
    return [
        [format_value(v, c.kind, missing=missing) for v, c in zip(row, table.columns, strict=True)]
        for row in rows
    ]


def _plain_csv(rows: Sequence[Sequence[str]]) -> str:
    """The reference: :func:`csv.writer` writes every line."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


def _tables(seed: int) -> list[Table]:
    """Tables of every kind: columns of one type (the shortcuts), of mixed types, and empty."""
    rng = random.Random(seed)
    tables = []
    for kind in Kind:
        columns: list[tuple[Column, list[Value]]] = []
        pools: tuple[list[Value], ...] = (
            [v for v in VALUES if type(v) is str],
            [v for v in VALUES if type(v) is int],
            [v for v in VALUES if type(v) is dt.date],
            [None],
            [v for v in VALUES if type(v) is float],
            [None, 1, "x"],
            VALUES,
        )
        for n, pool in enumerate(pools):
            columns.append((Column(f"c{n}", f"列{n}", kind), pool))
        rows = tuple(
            tuple(rng.choice(pool) for _, pool in columns) for _ in range(rng.randint(1, 40))
        )
        tables.append(Table(f"表{kind.value}", tuple(c for c, _ in columns), rows))
        tables.append(Table("空", tuple(c for c, _ in columns), ()))
    return tables


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("missing", [MISSING, ""])
def test_cells_of_formats_every_cell_as_format_value(seed: int, missing: str) -> None:
    """A column at a time gives each cell's :func:`format_value`, whatever the column holds."""
    for table in _tables(seed):
        fast = _cells_of(table, table.rows, missing=missing)
        assert [list(r) for r in fast] == _plain_cells(table, table.rows, missing)


def test_cells_of_refuses_a_row_that_does_not_fit() -> None:
    """A row with a value too many or too few is a ``ValueError``, as with a call per cell."""
    cols = (Column("a", "甲"), Column("b", "乙"))
    table = Table("t", cols, (("x", "y"),))
    for rows in ([("x",)], [("x", "y"), ("x",)], [("x", "y", "z")], [()]):
        with pytest.raises(ValueError):
            _cells_of(table, rows)
    with pytest.raises(ValueError):
        _cells_of(Table("t", (), ()), [("x",)])
    assert _cells_of(Table("t", (), ((), ())), [(), ()]) == [(), ()]


def test_csv_lines_are_the_writer_s() -> None:
    """Lines joined here equal the CSV writer's, for every awkward field in every position."""
    rows: list[Sequence[str]] = [[], [""], ["", ""], [" "]]
    rows += [[t] for t in AWKWARD_TEXT]
    rows += [list(p) for p in itertools.product(AWKWARD_TEXT, repeat=2)]
    rows += [["a", t, "b"] for t in AWKWARD_TEXT]
    rng = random.Random(4)
    rows += [[rng.choice(AWKWARD_TEXT) for _ in range(rng.randint(0, 9))] for _ in range(500)]
    lines: list[str] = []
    _csv_lines(rows, lines)
    assert "".join(lines) == _plain_csv(rows)
    assert len(lines) == len(rows)


@pytest.mark.parametrize("seed", range(4))
def test_render_csv_is_the_writer_s(seed: int) -> None:
    """Whole files (one table, and sections with titles and notes) equal the writer's."""
    for table in _tables(seed):
        rows = [[c.label for c in table.columns], *_plain_cells(table, table.rows, "")]
        assert render_csv(table) == (CSV_BOM + _plain_csv(rows)).encode("utf-8")
    tables = [
        Table("标题,带逗号", (Column("a", "甲"),), (("x",),), notes=("注一", 'say "hi"')),
        Table("第二表", (Column("n", "数", Kind.INT),), ((1,), (None,)), total=(1,)),
    ]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for i, table in enumerate(tables):
        if i:
            writer.writerow([])
        writer.writerow([table.title])
        writer.writerows([[c.label for c in table.columns], *_plain_cells(table, table.rows, "")])
        if table.total is not None:
            writer.writerow(_plain_cells(table, [table.total], "")[0])
        writer.writerows([f"注：{n}"] for n in table.notes)
    assert render_csv_sections(tables) == (CSV_BOM + buf.getvalue()).encode("utf-8")
