"""The site list's cheap parts behave as the plain ones: :class:`tui.widgets.table.FixedTable`
as Textual's DataTable (same rows, cursor, scrolling, layout and drawn lines), and
``LedgerBackend.sites`` as ``Ledger.sites``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable

from inspect_engine.clock import FixedClock
from inspect_engine.ledger import Ledger
from inspect_engine.rulepack import RulePack
from inspect_engine.site import Site
from tests.tui.conftest import INSPECTOR, SIZE
from tui.backend import SiteRow
from tui.ledger_backend import LedgerBackend
from tui.widgets.table import FixedTable

Script = Callable[[Pilot[None], DataTable[str]], Awaitable[None]]

FIXED = (28, 6, 10, 12, 12)
"""The site list's column widths."""


def _rows(n: int, tag: str = "") -> list[tuple[str, ...]]:
    """Rows with CJK text, escaped markup and cells left out (padded with None)."""
    out: list[tuple[str, ...]] = []
    for i in range(n):
        name = f"【演示】阳泉市{tag}第{i}号自建房 \\[{i}]" if i % 7 == 0 else f"{tag}site {i}"
        row = (name, "盂县", "秀水镇", "农村自建房、经营", "有未销号隐患 2")
        out.append(row[: 3 + i % 3])
    return out


class _TableApp(App[None]):
    def __init__(self, table: DataTable[str], widths: tuple[int | None, ...]) -> None:
        super().__init__()
        self.table = table
        self.widths = widths

    def compose(self) -> ComposeResult:
        yield self.table

    def on_mount(self) -> None:
        for i, width in enumerate(self.widths):
            self.table.add_column(f"列{i}", key=f"c{i}", width=width)


def _state(
    table_cls: type[DataTable[str]], widths: tuple[int | None, ...], script: Script
) -> tuple[Any, ...]:
    """Run ``script`` on a table of ``table_cls``; everything a user could see or reach."""
    table = table_cls(cursor_type="row", zebra_stripes=True)
    app = _TableApp(table, widths)

    async def main() -> tuple[Any, ...]:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await script(pilot, table)
            await pilot.pause()
            lines = [
                [(seg.text, seg.style) for seg in table.render_line(y) if isinstance(seg, Segment)]
                for y in range(table.size.height)
            ]
            return (
                table.row_count,
                [table.get_row_at(i) for i in range(table.row_count)],
                [table.rows[key].height for key in table.rows],
                table.cursor_coordinate,
                table.scroll_offset,
                table.virtual_size,
                [column.get_render_width(table) for column in table.ordered_columns],
                lines,
            )

    return asyncio.run(main())


async def _batches_and_keys(pilot: Pilot[None], table: DataTable[str]) -> None:
    assert table.add_rows([]) == []
    keys = table.add_rows(_rows(300))
    assert len(set(keys)) == 300
    table.add_row("单独一行", "平定县")
    table.add_rows(iter(_rows(40, "b")))
    await pilot.pause()
    await pilot.press("down", "down", "down", "end", "pageup", "up")


async def _clear_and_refill(pilot: Pilot[None], table: DataTable[str]) -> None:
    table.add_rows(_rows(500))
    await pilot.pause()
    await pilot.press("end")
    table.clear()
    table.add_rows(_rows(1))
    table.add_rows(_rows(60, "c"))
    await pilot.pause()
    await pilot.press("pagedown", "down")


async def _labelled_row(pilot: Pilot[None], table: DataTable[str]) -> None:
    table.add_rows(_rows(30))
    table.add_row("有标签", "郊区", label="第一")
    table.add_row("两行高", "矿区", height=None)
    await pilot.pause()
    await pilot.press("end")


@pytest.mark.parametrize(
    "widths",
    [FIXED, (28, None, 10, 12, 12)],
    ids=["fixed widths", "an auto-width column (measured)"],
)
@pytest.mark.parametrize(
    "script",
    [_batches_and_keys, _clear_and_refill, _labelled_row],
    ids=["batches", "clear and refill", "a labelled and an auto-height row (measured)"],
)
def test_fixed_table_is_a_data_table(widths: tuple[int | None, ...], script: Script) -> None:
    """Whatever rows come in and whatever keys are pressed, FixedTable ends where DataTable
    ends, to the drawn segment: it skips only work whose result is never used."""
    assert _state(FixedTable, widths, script) == _state(DataTable, widths, script)


def test_fixed_table_refuses_a_row_too_wide() -> None:
    """Too many cells is DataTable's ValueError; the rows before it are kept, as DataTable's."""

    async def script(pilot: Pilot[None], table: DataTable[str]) -> None:
        with pytest.raises(ValueError, match="More values"):
            table.add_rows([*_rows(5), ("1", "2", "3", "4", "5", "6")])

    assert _state(FixedTable, FIXED, script) == _state(DataTable, FIXED, script)


def test_backend_site_list_is_the_ledgers(
    ledger: Ledger, real_packs: list[RulePack], register: list[Site], tmp_path: Path
) -> None:
    """My sites and every site are the ledger's rows; an inspector with no site assigned gets
    none for "mine" (the screen then asks for every site)."""
    backend = LedgerBackend(ledger, real_packs)

    def rows(inspector: str | None) -> list[SiteRow]:
        return [
            SiteRow(r.site, r.status, r.open_findings) for r in ledger.sites(inspector=inspector)
        ]

    assert backend.sites(mine=True) == rows(INSPECTOR) != []
    assert backend.sites(mine=False) == rows(None)
    clock = FixedClock(ledger.clock.now())
    with Ledger.open(tmp_path / "office", clock=clock, actor="科室") as led:
        led.register_sites(register)
        office = LedgerBackend(led, real_packs)
        assert office.sites(mine=True) == []
        assert len(office.sites(mine=False)) == len(register)
