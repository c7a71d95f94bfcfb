"""The inspector's assigned sites: filters, incremental search, one table for thousands of rows.

One table holds every row (a widget per row is a trap: a ListView of 2,000 items took 5.6 s to
start, libraries.md T1). Filtering rebuilds the table's rows, not widgets. The table is a
:class:`~tui.widgets.table.FixedTable`, a DataTable that is cheap per row: every column has a
fixed width, so nothing is measured, and a batch of rows is added at once (20,000 rows added and
drawn in about 0.15 s, where DataTable took 1.5-2.2 s).
"""

from __future__ import annotations

from typing import ClassVar

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Label, Select

from tui.backend import SiteRow
from tui.filters import STATUS_FILTERS, SiteFilter, apply
from tui.screens.base import ReloadingScreen
from tui.widgets.table import FixedTable


class SitesScreen(ReloadingScreen):
    """The home screen: the list of sites."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_site", "key.open", show=False),
        Binding("slash", "search", "key.search"),
        Binding("c", "focus_filter('county')", "key.filter_county"),
        # shown in the help (F1); the footer has room for the main keys only at 80 columns
        Binding("w", "focus_filter('township')", "key.filter_township", show=False),
        Binding("t", "focus_filter('type')", "key.filter_type", show=False),
        Binding("s", "focus_filter('status')", "key.filter_status", show=False),
        Binding("x", "clear_filters", "key.clear_filters"),
        Binding("h", "hazards", "key.hazards"),
        Binding("a", "toggle_mine", "key.all_sites"),
        Binding("y", "sync", "key.sync"),
        Binding("escape", "to_table", "key.back", show=False),
        Binding("q", "app.quit", "key.quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._site_rows: list[SiteRow] = []
        self._shown_ids: list[str] = []
        self._filter = SiteFilter()
        self.mine = True
        """Showing only the sites assigned to this inspector."""
        self._want_mine = True
        """What the inspector asked for (``a`` toggles); with nothing assigned, all are shown."""

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        if self.backend.demo:
            yield Label(self.t("app.demo_banner"), classes="demo-banner", markup=False)
        with Horizontal(id="filters"):
            for name, all_label in (
                ("county", "filter.all_counties"),
                ("township", "filter.all_townships"),
                ("type", "filter.all_types"),
                ("status", "filter.all_status"),
            ):
                yield Select[str](
                    [(self.t(all_label), "")], id=name, compact=True, allow_blank=False
                )
        yield Input(placeholder=self.t("sites.search"), id="search", compact=True)
        yield FixedTable(id="sites", cursor_type="row", zebra_stripes=True)
        yield Label("", id="count")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        """Load the sites and set up the filters."""
        t = self.t
        table = self.query_one("#sites", DataTable)
        # Fixed widths: 80 columns hold every column; long names are clipped with "…".
        table.add_column(t("sites.col.name"), key="name", width=28)
        table.add_column(t("sites.col.county"), key="county", width=6)
        table.add_column(t("sites.col.township"), key="township", width=10)
        table.add_column(t("sites.col.type"), key="type", width=12)
        table.add_column(t("sites.col.status"), key="status", width=12)
        self._types = self.ui.site_type_labels()
        with self.prevent(Select.Changed):
            self.query_one("#type", Select).set_options(
                [(t("filter.all_types"), "")] + [(lbl, tid) for tid, lbl in self._types.items()]
            )
            self.query_one("#status", Select).set_options(
                [(t("filter.all_status"), "")] + [(t(f"status.{s}"), s) for s in STATUS_FILTERS]
            )
            for sid in ("#county", "#township", "#type", "#status"):
                self.query_one(sid, Select).value = ""
        self.reload()
        table.focus()

    def reload(self) -> None:
        """Fetch the rows from the backend and redraw."""
        self.mine = self._want_mine
        rows = self.ui.guard(lambda: self.backend.sites(mine=self.mine)) or []
        if self.mine and not rows:
            self.mine = False  # nothing assigned to this inspector: show every site
            rows = self.ui.guard(lambda: self.backend.sites(mine=False)) or []
        self._site_rows = rows
        self.sub_title = self.t("sites.mine" if self.mine else "sites.all")
        counties: list[str] = []
        for row in self._site_rows:
            if row.site.county not in counties:
                counties.append(row.site.county)
        county = self.query_one("#county", Select)
        keep = county.value if isinstance(county.value, str) else ""
        with self.prevent(Select.Changed):
            county.set_options([(self.t("filter.all_counties"), "")] + [(c, c) for c in counties])
            county.value = keep if keep in counties else ""
        self._set_townships()
        self._redraw()

    def _set_townships(self) -> None:
        county = self._filter.county
        towns: list[str] = []
        for row in self._site_rows:
            if (not county or row.site.county == county) and row.site.township not in towns:
                towns.append(row.site.township)
        select = self.query_one("#township", Select)
        with self.prevent(Select.Changed):
            select.set_options([(self.t("filter.all_townships"), "")] + [(w, w) for w in towns])
            keep = self._filter.township if self._filter.township in towns else ""
            select.value = keep
        if keep != self._filter.township:
            self._filter = SiteFilter(**{**self._filter.__dict__, "township": keep})

    def _redraw(self) -> None:
        table = self.query_one("#sites", DataTable)
        shown = apply(self._site_rows, self._filter)
        t, types = self.t, self._types
        status = {s: t(f"status.{s}") for s in (*STATUS_FILTERS, "clear")}
        table.clear()
        table.add_rows(
            (
                escape(r.site.name),
                r.site.county,
                r.site.township,
                t.list_sep.join(types.get(x, x) for x in r.site.site_types),
                status[r.status] + (f" {r.open_findings}" if r.open_findings else ""),
            )
            for r in shown
        )
        # keys: DataTable.add_rows gives generated keys; remember ids by row index
        self._shown_ids = [r.site.id for r in shown]
        self.query_one("#count", Label).update(
            self.t("sites.count", shown=len(shown), total=len(self._site_rows))
        )

    def selected_site_id(self) -> str | None:
        """The site under the cursor."""
        table = self.query_one("#sites", DataTable)
        if not self._shown_ids or table.cursor_row < 0:
            return None
        return self._shown_ids[min(table.cursor_row, len(self._shown_ids) - 1)]

    # --- events ------------------------------------------------------------------------------

    @on(Select.Changed)
    def _filter_changed(self, event: Select.Changed) -> None:
        value = event.value if isinstance(event.value, str) else ""
        name = event.select.id or ""
        field = {"county": "county", "township": "township", "type": "site_type"}.get(name, name)
        new = SiteFilter(**{**self._filter.__dict__, field: value})
        if new == self._filter:  # a select set up or reset programmatically: nothing to redo
            return
        self._filter = new
        if name == "county":
            self._set_townships()
        self._redraw()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self._filter = SiteFilter(**{**self._filter.__dict__, "search": event.value.strip()})
        self._redraw()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.query_one("#sites", DataTable).focus()

    @on(DataTable.RowSelected, "#sites")
    def _row_selected(self) -> None:
        self.action_open_site()

    # --- actions -----------------------------------------------------------------------------

    def action_open_site(self) -> None:
        """Open the site under the cursor."""
        from tui.screens.site import SiteScreen

        site_id = self.selected_site_id()
        if site_id is not None:
            self.app.push_screen(SiteScreen(site_id))

    def action_search(self) -> None:
        """Focus the search field."""
        self.query_one("#search", Input).focus()

    def action_focus_filter(self, name: str) -> None:
        """Open one filter's drop-down."""
        select = self.query_one(f"#{name}", Select)
        select.focus()
        select.action_show_overlay()

    def action_clear_filters(self) -> None:
        """Show every site again."""
        self._filter = SiteFilter()
        with self.prevent(Select.Changed, Input.Changed):
            for sid in ("#county", "#township", "#type", "#status"):
                self.query_one(sid, Select).value = ""
            self.query_one("#search", Input).value = ""
        self._set_townships()
        self._redraw()
        self.query_one("#sites", DataTable).focus()

    def action_to_table(self) -> None:
        """Leave the search field or a filter for the table."""
        self.query_one("#sites", DataTable).focus()

    def action_toggle_mine(self) -> None:
        """Switch between my assigned sites and every site in the ledger."""
        self._want_mine = not self.mine
        self.reload()

    def action_sync(self) -> None:
        """Sync with the office hub."""
        from tui.screens.sync import SyncScreen

        self.app.push_screen(SyncScreen())

    def action_hazards(self) -> None:
        """The office view of unresolved hazards."""
        from tui.screens.hazards import HazardsScreen

        self.app.push_screen(HazardsScreen())
