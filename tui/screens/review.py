"""Review: the findings the engine derives from the answers, explained; confirm and submit.

The findings are evaluated afresh in a worker when the screen opens (the walk keeps them live
while answering). Submitting seals the inspection: the ledger records the answers and the
findings it derives, and the walk cannot change afterwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Label, OptionList, Static
from textual.widgets.option_list import Option

from inspect_engine.conditions import AnswerValue
from inspect_engine.errors import InspectError
from inspect_engine.findings import Finding
from tui.backend import FindingView
from tui.format import finding_text
from tui.screens.base import BaseScreen
from tui.screens.dialogs import ConfirmDialog, MessageDialog

if TYPE_CHECKING:
    from tui.screens.walk import WalkScreen


class ReviewScreen(BaseScreen):
    """The findings of the inspection being walked."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s,s", "submit", "key.submit"),
        Binding("escape,w", "back", "key.walk"),
    ]

    def __init__(self, walk_screen: WalkScreen) -> None:
        super().__init__()
        self._walk_screen = walk_screen
        self.findings: list[Finding] | None = walk_screen.findings
        self.submitted: list[FindingView] | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        yield Label("", id="review-summary")
        yield OptionList(id="finding-list")
        with VerticalScroll(id="finding-detail"):
            yield Static("", id="detail")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        """Show what is known, then evaluate afresh."""
        self.sub_title = self._walk_screen.walk.site.name
        self._show()
        self._evaluate(self._walk_screen.walk.effective_answers())
        self.query_one("#finding-list", OptionList).focus()

    def _show(self) -> None:
        t = self.t
        walk = self._walk_screen.walk
        done, total = walk.progress()
        summary = [f"{t.text(walk.pack.manifest.title)} · {done}/{total}"]
        if self.findings is None:
            summary.append(t("review.evaluating"))
        else:
            summary.append(t("walk.findings_live", n=len(self.findings)))
        if done < total:
            summary.append(f"[yellow]{t('review.incomplete', n=total - done)}[/yellow]")
        missing = self._missing_evidence()
        if missing:
            summary.append(f"[yellow]{t('review.missing_evidence', items=', '.join(missing))}[/]")
        self.query_one("#review-summary", Label).update("  ·  ".join(summary))
        options = self.query_one("#finding-list", OptionList)
        keep = options.highlighted
        options.clear_options()
        for n, f in enumerate(self.findings or []):
            colour = "red" if f.level == "重大" else "yellow"
            level = f.level if t.lang == "zh" else ("major" if f.level == "重大" else "general")
            line = Text.assemble((f"[{level}] ", f"bold {colour}"), t.text(f.title))
            options.add_option(Option(line, id=str(n)))
        if self.findings:
            options.highlighted = min(keep or 0, len(self.findings) - 1)
            self._detail(options.highlighted)
        else:
            none = t("review.none") if self.findings is not None else t("review.evaluating")
            self.query_one("#detail", Static).update(none)

    def _missing_evidence(self) -> list[str]:
        walk = self._walk_screen.walk
        fired = {trig.item_id for f in self.findings or [] for trig in f.triggers}
        missing = []
        for item in walk.items():
            if item.evidence is None or walk.evidence.get(item.id):
                continue
            if item.evidence.when == "always" or item.id in fired:
                missing.append(item.id)
        return missing

    def _detail(self, index: int | None) -> None:
        if index is None or not self.findings:
            return
        self.query_one("#detail", Static).update(
            finding_text(self.findings[index], self.t, self.backend.packs())
        )

    @on(OptionList.OptionHighlighted, "#finding-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._detail(event.option_index)

    # --- evaluation --------------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="review", exclusive=True)
    def _evaluate(self, answers: dict[str, AnswerValue]) -> None:
        walk = self._walk_screen.walk
        try:
            on = self._walk_screen.inspection.started.date()
            findings: list[Finding] | str = self.backend.evaluate(walk.pack, walk.site, answers, on)
        except InspectError as err:
            findings = err.message
        except Exception as exc:  # noqa: BLE001 - never exit the app from a worker
            findings = self.ui.describe_bug(exc)
        try:
            self.app.call_from_thread(self._evaluated, findings)
        except RuntimeError:
            pass

    def _evaluated(self, findings: list[Finding] | str) -> None:
        if isinstance(findings, str):
            self.ui.show_error(self.t("review.eval_failed", error=findings))
            return
        self.findings = findings
        if self.is_mounted:
            self._show()

    # --- submitting --------------------------------------------------------------------------

    def action_submit(self) -> None:
        """Confirm, then seal the inspection with its findings."""
        t = self.t
        if self._walk_screen.saving:
            self.ui.show_error(t("review.pending"))
            return
        done, total = self._walk_screen.walk.progress()
        if done < total:
            self.ui.show_error(t("review.incomplete", n=total - done))
            return
        n = len(self.findings or [])
        self.app.push_screen(ConfirmDialog(t("review.confirm", n=n)), self._confirmed)

    def _confirmed(self, yes: bool | None) -> None:
        if yes:
            walk_screen = self._walk_screen
            self._submit(walk_screen.inspection.id, walk_screen.walk.effective_answers())

    @work(thread=True, exit_on_error=False, group="save", name="submit")
    def _submit(self, inspection_id: str, answers: dict[str, AnswerValue]) -> None:
        try:
            with self._walk_screen.save_lock:
                result: list[FindingView] | str = self.backend.submit(inspection_id, answers)
        except InspectError as err:
            result = err.message
        except Exception as exc:  # noqa: BLE001
            result = self.ui.describe_bug(exc)
        try:
            self.app.call_from_thread(self._submitted, result)
        except RuntimeError:
            pass

    def _submitted(self, result: list[FindingView] | str) -> None:
        if isinstance(result, str):
            self.ui.show_error(result)
            return
        self.submitted = result
        t = self.t
        lines = [t("review.submitted")] + [
            f"· {escape(t.text(fv.finding.title))}  {fv.deadline.isoformat()}" for fv in result
        ]
        if result:
            lines.append(t("review.notice_hint"))
        # back to the site: the walk is sealed now
        self.app.pop_screen()
        self.app.pop_screen()
        self.app.push_screen(MessageDialog(t("review.title"), "\n".join(lines), markup=True))

    def action_back(self) -> None:
        """Back to the walk."""
        self.app.pop_screen()
