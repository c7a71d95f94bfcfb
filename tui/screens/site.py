"""One site: its record, its past inspections and its open findings; start or resume a walk.

Both tables are :class:`~tui.widgets.table.FixedTable` (fixed-width columns, one-line rows), as
the site list is: a long history is listed without DataTable measuring every cell."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Label, Static

from tui.backend import FindingView, InspectionInfo, OpenInspection
from tui.format import finding_cells
from tui.screens.base import ReloadingScreen
from tui.screens.dialogs import MessageDialog
from tui.screens.start import StartDialog, StartRequest
from tui.widgets.table import FixedTable


class SiteScreen(ReloadingScreen):
    """A site's record with its history; ``s`` starts (or resumes) an inspection."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "start", "key.start"),
        Binding("f", "finding", "key.finding"),
        Binding("n", "notice", "key.notice"),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(self, site_id: str) -> None:
        super().__init__()
        self.site_id = site_id
        self._findings: list[FindingView] = []
        self._inspections: list[InspectionInfo] = []

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        with VerticalScroll(id="site-body"):
            yield Static("", id="record")
            yield Label(self.t("site.findings"), classes="section-title")
            yield FixedTable(id="findings", cursor_type="row", show_cursor=True)
            yield Label(self.t("site.inspections"), classes="section-title")
            yield FixedTable(id="inspections", cursor_type="row", show_cursor=False)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        """Fill the record and the tables."""
        t = self.t
        findings = self.query_one("#findings", DataTable)
        # fixed widths (FixedTable measures nothing): every column fits 80 cells; long titles
        # are clipped
        findings.add_column(t("site.col.level"), key="level", width=7)
        findings.add_column(t("site.col.title"), key="title", width=32)
        findings.add_column(t("site.col.deadline"), key="deadline", width=10)
        findings.add_column(t("site.col.status"), key="status", width=18)
        inspections = self.query_one("#inspections", DataTable)
        inspections.add_column(t("site.col.date"), key="date", width=10)
        inspections.add_column(t("site.col.pack"), key="pack", width=28)
        inspections.add_column(t("site.col.method"), key="method", width=12)
        inspections.add_column(t("site.col.state"), key="state", width=9)
        inspections.add_column(t("site.col.findings"), key="findings", width=8)
        self.reload()
        findings.focus()

    def reload(self) -> None:
        """Read the site, its inspections and findings from the backend."""
        t = self.t
        site = self.ui.guard(self.backend.site, self.site_id)
        if site is None:
            return
        self.sub_title = site.name
        types = self.ui.site_type_labels()
        lines = [
            f"[b]{_esc(site.name)}[/b]  [dim]{site.id}[/dim]",
            f"{t('site.address')}{t.colon}{_esc(site.address)}",
            f"{t('site.area')}{t.colon}{site.county} {site.township} {_esc(site.village)}",
            f"{t('site.types')}{t.colon}"
            + t.list_sep.join(types.get(x, x) for x in site.site_types),
        ]
        for role in ("approver", "supervisor", "owner", "user"):
            party = getattr(site.parties, role)
            if party is not None:
                contact = f"  {party.contact}" if party.contact else ""
                lines.append(f"{t('party.' + role)}{t.colon}{_esc(party.unit)}{contact}")
        if site.group or site.inspector:
            group = f"{t('site.group')}{t.colon}{site.group}"
            lines.append(f"{group}  {t('site.inspector')}{t.colon}{site.inspector}")
        self.query_one("#record", Static).update("\n".join(lines))

        self._findings = self.ui.guard(self.backend.site_findings, self.site_id) or []
        table = self.query_one("#findings", DataTable)
        table.clear()
        table.add_rows(finding_cells(fv, self.t) for fv in self._findings)
        if not self._findings:
            table.add_row("", t("site.no_findings"), "", "")

        self._inspections = self.ui.guard(self.backend.inspections, self.site_id) or []
        packs = {p.id: p for p in self.ui.guard(self.backend.packs) or []}
        table = self.query_one("#inspections", DataTable)
        table.clear()
        rows = []
        for info in self._inspections:
            pack = packs.get(info.pack_id)
            rows.append(
                (
                    info.started.strftime("%Y-%m-%d"),
                    t.text(pack.manifest.title) if pack else info.pack_id,
                    t(f"method.{info.method}") if t.has(f"method.{info.method}") else info.method,
                    t(f"insp.{info.state}"),
                    str(info.findings),
                )
            )
        table.add_rows(rows)
        if not self._inspections:
            table.add_row(t("site.no_inspections"), "", "", "", "")

    # --- actions -----------------------------------------------------------------------------

    def action_notice(self) -> None:
        """Write the rectification notice of the newest submitted inspection that raised
        findings (the one the inspector hands over on site) and say where it is."""
        t = self.t
        done = [i for i in self._inspections if i.state == "submitted" and i.findings]
        if not done:
            self.app.push_screen(MessageDialog(t("key.notice"), t("site.no_notice")))
            return
        path = self.ui.guard(self.backend.write_notice, done[0].id)  # newest first
        if path is not None:
            self.app.push_screen(
                MessageDialog(t("key.notice"), t("site.notice_written", path=str(path)))
            )

    def action_start(self) -> None:
        """Resume the open inspection of this site, or start one."""
        open_ = self.ui.guard(self.backend.open_inspection, self.site_id)
        if open_ is not None:
            self._walk(open_)
            return
        site = self.ui.guard(self.backend.site, self.site_id)
        if site is None:
            return
        packs = [
            p
            for p in self.ui.guard(self.backend.packs) or []
            if {t.id for t in p.manifest.site_types} & set(site.site_types)
        ]
        if not packs:
            self.ui.show_error(self.t("start.no_pack"))
            return
        self.app.push_screen(StartDialog(packs, self.backend.inspector), self._started)

    def _started(self, request: StartRequest | None) -> None:
        if request is None:
            return
        open_ = self.ui.guard(
            self.backend.start_inspection,
            self.site_id,
            request.pack_id,
            request.method,
            request.inspectors,
        )
        if open_ is not None:
            self._walk(open_)

    def _walk(self, open_: OpenInspection) -> None:
        from tui.screens.walk import WalkScreen

        self.app.push_screen(WalkScreen(open_))

    def action_finding(self) -> None:
        """Open the finding under the cursor (follow-up)."""
        table = self.query_one("#findings", DataTable)
        if not self._findings:
            return
        index = max(0, min(table.cursor_row, len(self._findings) - 1))
        from tui.screens.finding import FindingScreen

        self.app.push_screen(FindingScreen(self._findings[index].id))

    @on(DataTable.RowSelected, "#findings")
    def _finding_selected(self) -> None:
        self.action_finding()

    def action_back(self) -> None:
        """Back to the site list."""
        self.app.pop_screen()


def _esc(text: str) -> str:
    """Escape Rich markup in data."""
    return text.replace("[", r"\[")
