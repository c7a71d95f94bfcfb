"""Follow-up of one finding: rectification report, verification and closing (销号), reopening
with a reason, lifting an enforcement order, and 五落实 for a 重大 hazard."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Static

from tui.backend import FindingView
from tui.format import finding_text, status_text, when
from tui.screens.base import BaseScreen
from tui.screens.dialogs import TextPrompt
from tui.screens.five import FiveInPlaceDialog


class FindingScreen(BaseScreen):
    """A recorded finding and what happened to it since."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "report", "key.report"),
        Binding("v", "verify", "key.verify"),
        Binding("o", "reopen", "key.reopen"),
        Binding("l", "lift", "key.lift"),
        Binding("f", "five", "key.five"),
        Binding("escape", "back", "key.back"),
    ]

    def __init__(self, finding_id: str) -> None:
        super().__init__()
        self.finding_id = finding_id
        self.view: FindingView | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        with VerticalScroll(id="finding-body"):
            yield Static("", id="finding-status")
            yield Static("", id="finding-detail")
            yield Static("", id="finding-orders")
            yield Static("", id="finding-history")
        yield Footer()

    def on_mount(self) -> None:
        """Load the finding."""
        self.reload()
        self.query_one("#finding-body").focus()

    def reload(self) -> None:
        """Read the finding and its history from the backend."""
        t = self.t
        view = self.ui.guard(self.backend.finding, self.finding_id)
        if view is None:
            return
        self.view = view
        self.sub_title = view.site_name
        status = f"[b]{t('finding.status')}[/b]：{status_text(view, t)}  [dim]{view.id}[/dim]"
        if view.five_in_place:
            five = "；".join(f"{t('finding.five.' + k)} {v}" for k, v in view.five_in_place.items())
            status += f"\n[b]{t('key.five')}[/b]：{escape(five)}"
        self.query_one("#finding-status", Static).update(status)
        self.query_one("#finding-detail", Static).update(finding_text(view.finding, t))
        if view.orders:
            lines = [f"[b]{t('finding.orders')}[/b]："]
            for order in view.orders:
                if order.lifted:
                    state = f"[dim]{t('finding.order_lifted')}[/dim]"
                else:
                    state = f"[b]{t('finding.order_active')}[/b]"
                lines.append(f"  · {escape(order.label)}  {state}")
            self.query_one("#finding-orders", Static).update("\n".join(lines))
        else:
            self.query_one("#finding-orders", Static).update("")
        if view.history:
            lines = [f"[b]{t('finding.history')}[/b]："]
            lines += [
                f"  {when(h.at)}  {escape(h.kind)}  {escape(h.actor)}  {escape(h.text)}"
                for h in view.history
            ]
            self.query_one("#finding-history", Static).update("\n".join(lines))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only the steps that fit the finding's state."""
        view = self.view
        if view is None:
            return action == "back"
        if action == "report":
            return view.status == "open"
        if action == "verify":
            return view.status in ("open", "reported")
        if action == "reopen":
            return view.status in ("reported", "closed")
        if action == "lift":
            return any(not o.lifted for o in view.orders)
        if action == "five":
            return view.finding.level == "重大" and view.status != "closed"
        return True

    def _ask_text(self, key: str, then: Callable[[str], None]) -> None:
        def check(text: str) -> str | None:
            return None if text else self.t("finding.need_text")

        def done(text: str | None) -> None:
            if text:
                then(text)

        self.app.push_screen(TextPrompt(self.t(key), check=check), done)

    def _after(self, call: Callable[..., None], *args: object) -> None:
        self.ui.guard(call, *args)
        self.reload()

    def action_report(self) -> None:
        """Record the responsible party's rectification report."""
        self._ask_text(
            "finding.report_prompt",
            lambda text: self._after(self.backend.report_rectification, self.finding_id, text),
        )

    def action_verify(self) -> None:
        """Verified on re-inspection: close the finding (销号)."""
        self._ask_text(
            "finding.verify_prompt",
            lambda text: self._after(self.backend.verify_and_close, self.finding_id, text),
        )

    def action_reopen(self) -> None:
        """Reopen, with the reason."""
        self._ask_text(
            "finding.reopen_prompt",
            lambda text: self._after(self.backend.reopen, self.finding_id, text),
        )

    def action_lift(self) -> None:
        """Lift the first order in force, after re-inspection."""
        if self.view is None:
            return
        active = [o for o in self.view.orders if not o.lifted]
        if not active:
            self.ui.show_error(self.t("finding.no_orders"))
            return
        order = active[0]
        self._ask_text(
            "finding.lift_prompt",
            lambda text: self._after(self.backend.lift_order, self.finding_id, order.id, text),
        )

    def action_five(self) -> None:
        """Record 五落实 for a 重大 hazard."""
        current = self.view.five_in_place if self.view else None
        self.app.push_screen(FiveInPlaceDialog(current), self._five_done)

    def _five_done(self, five: dict[str, str] | None) -> None:
        if five is not None:
            self._after(self.backend.record_five_in_place, self.finding_id, five)

    def action_back(self) -> None:
        """Back."""
        self.app.pop_screen()
