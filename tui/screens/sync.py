"""Sync: direct with the hub's data directory, or by bundle file (export for the hub, import
from it), with progress, on ``inspect_engine.sync``.

The work runs in a worker thread that never exits the app; progress comes back through
``call_from_thread``. A refused bundle is shown with its reason code and the Chinese label (and
nothing was imported); any other problem is a dialog. Enrolling a laptop is an office step
(``inspect-engine sync enroll``); an unenrolled ledger says so.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Footer, Header, Label, ProgressBar, Static

from inspect_engine.errors import InspectError
from inspect_engine.sync.reasons import ZH, Reason
from tui.backend import SyncInfo, SyncOutcome
from tui.screens.base import BaseScreen
from tui.screens.dialogs import TextPrompt


class SyncScreen(BaseScreen):
    """Sync this ledger with the office hub."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run", "key.sync_run"),
        Binding("e", "export", "key.sync_export"),
        Binding("i", "import", "key.sync_import"),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.info: SyncInfo | None = None
        self.outcomes: list[SyncOutcome] | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        with Vertical(id="sync-body"):
            yield Static("", id="sync-info")
            yield Label("", id="sync-stage")
            yield ProgressBar(id="sync-progress", show_eta=False)
            yield Static("", id="sync-result")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        """Show the role and the hub."""
        t = self.t
        self.sub_title = t("sync.title")
        self.info = self.ui.guard(self.backend.sync_info)
        info = self.info
        if info is None:
            return
        if info.role is None:
            text = t("sync.not_enrolled")
        else:
            text = t("sync.role", role=t(f"sync.role.{info.role}"), device=info.device[:8])
            if info.hub:
                text += "\n" + t("sync.hub", hub=info.hub[:8])
        self.query_one("#sync-info", Static).update(text)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Sync only when enrolled (a direct run only from a laptop), one at a time."""
        if action in ("run", "export", "import"):
            if self.busy or self.info is None or self.info.role is None:
                return False
            if action == "run":
                return self.info.role == "laptop"
        return True

    # --- actions -----------------------------------------------------------------------------

    def _ask_path(self, key: str, then: Callable[[Path], None], *, must_exist: bool) -> None:
        def check(text: str) -> str | None:
            if not text:
                return self.t("finding.need_text")
            if must_exist and not Path(text).expanduser().exists():
                return self.t("evidence.missing", path=text)
            return None

        def done(text: str | None) -> None:
            if text:
                then(Path(text).expanduser())

        self.app.push_screen(TextPrompt(self.t(key), check=check), done)

    def action_run(self) -> None:
        """Direct sync with the hub's data directory (a shared folder or a USB disk)."""
        self._ask_path("sync.hub_prompt", lambda p: self._start("run", p), must_exist=True)

    def action_export(self) -> None:
        """Write a bundle for the hub to a folder or file (a USB stick)."""
        self._ask_path("sync.export_prompt", lambda p: self._start("export", p), must_exist=False)

    def action_import(self) -> None:
        """Import a bundle from the hub."""
        self._ask_path("sync.import_prompt", lambda p: self._start("import", p), must_exist=True)

    def _start(self, what: str, path: Path) -> None:
        self.busy = True
        self.refresh_bindings()
        self.query_one("#sync-result", Static).update("")
        self.query_one("#sync-stage", Label).update(self.t("sync.working"))
        self._work(what, path)

    @work(thread=True, exit_on_error=False, group="sync", name="sync")
    def _work(self, what: str, path: Path) -> None:
        def progress(stage: str, done: int, total: int) -> None:
            try:
                self.app.call_from_thread(self._progress, stage, done, total)
            except RuntimeError:
                pass

        backend = self.backend
        result: list[SyncOutcome] | str
        try:
            if what == "run":
                result = backend.sync_run(path, progress)
            elif what == "export":
                result = [backend.sync_export(path, progress)]
            else:
                result = [backend.sync_import(path, progress)]
        except InspectError as err:
            result = err.message
        except Exception as exc:  # noqa: BLE001 - never exit the app from a worker
            result = self.ui.describe_bug(exc)
        try:
            self.app.call_from_thread(self._finished, result)
        except RuntimeError:
            pass

    def _progress(self, stage: str, done: int, total: int) -> None:
        t = self.t
        name = t(f"sync.stage.{stage}") if t.has(f"sync.stage.{stage}") else stage
        self.query_one("#sync-stage", Label).update(f"{name} {done}/{total}")
        self.query_one("#sync-progress", ProgressBar).update(total=max(total, 1), progress=done)

    def _finished(self, result: list[SyncOutcome] | str) -> None:
        self.busy = False
        self.refresh_bindings()
        self.query_one("#sync-stage", Label).update("")
        if isinstance(result, str):
            self.ui.show_error(result)
            return
        self.outcomes = result
        t = self.t
        lines = []
        for o in result:
            action = t(f"sync.action.{o.action}") if t.has(f"sync.action.{o.action}") else o.action
            if o.refused:
                label = ZH[Reason(o.refused)] if t.lang == "zh" else o.refused
                code = escape(f"[{o.refused}]")
                lines.append(
                    f"[b red]{action}{t.colon}{t('sync.refused')} {code} {escape(label)}[/]"
                    f"\n  {escape(o.detail)}"
                )
                continue
            lines.append(
                f"[b]{action}[/b]{t.colon}"
                + t(
                    "sync.counts",
                    events=o.events,
                    new=o.new,
                    present=o.present,
                    evidence=o.evidence,
                    conflicts=o.conflicts,
                )
            )
            if o.packs:
                lines.append("  " + escape(t("sync.packs", packs=t.list_sep.join(o.packs))))
            if o.path:
                lines.append(f"  {escape(o.path)}")
        self.query_one("#sync-result", Static).update("\n".join(lines))
        self.query_one("#sync-progress", ProgressBar).update(total=1, progress=1)

    def action_back(self) -> None:
        """Back to the sites (they reload: sync may have brought new ones)."""
        if not self.busy:
            self.app.pop_screen()
