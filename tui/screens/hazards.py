"""Office view: every unresolved hazard, overdue first, filtered by county and level.

The list is one :class:`~tui.widgets.table.FixedTable` (every column has a fixed width), which
skips DataTable's measuring of every cell: the city's 3,099 open hazards took 0.5 s of the
screen's 1.1 s to measure. The list is read with the cyclic garbage collector paused
(:func:`_collector_paused`)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import ClassVar

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Label, Select

from tui.backend import FindingView
from tui.format import level_text, status_text
from tui.screens.base import ReloadingScreen
from tui.widgets.table import FixedTable


class HazardsScreen(ReloadingScreen):
    """The unresolved-hazards list (on the ledger's queries); Enter opens a finding."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "key.open", show=False),
        Binding("c", "focus_filter('hz-county')", "key.filter_county"),
        Binding("l", "focus_filter('hz-level')", "review.level"),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._all: list[FindingView] = []
        self._shown: list[FindingView] = []
        self._drawn_for: tuple[object, object, int] | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        with Horizontal(id="filters"):
            yield Select[str](
                [(self.t("filter.all_counties"), "")],
                id="hz-county",
                compact=True,
                allow_blank=False,
            )
            yield Select[str](
                [(self.t("hazards.all_levels"), "")],
                id="hz-level",
                compact=True,
                allow_blank=False,
            )
            yield Label("", id="hz-count")
        yield FixedTable(id="hazards", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        """Load the list."""
        t = self.t
        self.sub_title = t("hazards.title")
        table = self.query_one("#hazards", DataTable)
        # fixed widths (FixedTable measures nothing): long names and titles are clipped
        widths = {"county": 6, "site": 16, "level": 4, "title": 18, "deadline": 10, "status": 12}
        for key, width in widths.items():
            table.add_column(t(f"hazards.col.{key}"), key=key, width=width)
        levels = [("重大", "重大"), ("一般", "一般")]
        if t.lang == "en":
            levels = [("major", "重大"), ("general", "一般")]
        level = self.query_one("#hz-level", Select)
        level.set_options([(t("hazards.all_levels"), "")] + levels)
        level.value = ""
        self.reload()
        table.focus()

    def reload(self) -> None:
        """Query the ledger again."""
        with _collector_paused():
            self._reload()

    def _reload(self) -> None:
        self._all = self.ui.guard(self.backend.unresolved) or []
        counties: list[str] = []
        for fv in self._all:
            if fv.county not in counties:
                counties.append(fv.county)
        select = self.query_one("#hz-county", Select)
        keep = select.value if isinstance(select.value, str) else ""
        with self.prevent(Select.Changed):
            select.set_options([(self.t("filter.all_counties"), "")] + [(c, c) for c in counties])
            select.value = keep if keep in counties else ""
        self._redraw()

    def _redraw(self) -> None:
        county = self.query_one("#hz-county", Select).value
        level = self.query_one("#hz-level", Select).value
        self._drawn_for = (county, level, len(self._all))
        self._shown = [
            fv
            for fv in self._all
            if (not county or fv.county == county) and (not level or fv.finding.level == level)
        ]
        table = self.query_one("#hazards", DataTable)
        table.clear()
        t = self.t
        table.add_rows(
            (
                fv.county,
                escape(fv.site_name),
                level_text(fv.finding.level, t),
                escape(t.text(fv.finding.title)),
                fv.deadline.isoformat(),
                status_text(fv, t),
            )
            for fv in self._shown
        )
        overdue = sum(1 for fv in self._shown if fv.overdue)
        self.query_one("#hz-count", Label).update(
            t("hazards.count", n=len(self._shown), overdue=overdue)
        )

    @on(Select.Changed)
    def _filtered(self) -> None:
        county = self.query_one("#hz-county", Select).value
        level = self.query_one("#hz-level", Select).value
        if (county, level, len(self._all)) != self._drawn_for:
            self._redraw()

    @on(DataTable.RowSelected, "#hazards")
    def _row_chosen(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        """The finding under the cursor."""
        from tui.screens.finding import FindingScreen

        table = self.query_one("#hazards", DataTable)
        if self._shown and 0 <= table.cursor_row < len(self._shown):
            self.app.push_screen(FindingScreen(self._shown[table.cursor_row].id))

    def action_focus_filter(self, name: str) -> None:
        """Open a filter."""
        select = self.query_one(f"#{name}", Select)
        select.focus()
        select.action_show_overlay()

    def action_back(self) -> None:
        """Back to the sites."""
        self.app.pop_screen()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector, for reading the whole list.

    The city's 3,099 hazards make about 150,000 objects (the views, their findings, the rows).
    While they are made, the collector goes over every object the app holds two or three times
    (each time the new ones outnumber a quarter of the old: the site list's 20,000 rows
    among them), 0.4-0.6 s; paused, it goes over the new ones once, after. Nothing is frozen
    (unlike ``inspect_engine.storage.gc_paused``): this screen's objects must be collected once
    it is closed.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
