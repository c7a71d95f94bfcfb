"""Follow-up of one hazard: 五落实 for a 重大 one, start rectifying, the rectification report,
verification and closing (销号), reopening with a reason, lifting an enforcement order.

The keys offered follow the ledger's rectification loop (``inspect_engine.rectification``): a key
that does not fit the finding's status is hidden; if the ledger still refuses a move (a 重大
hazard without 五落实, say) its message is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Static

from inspect_engine.rectification import ORDER_KINDS
from tui.backend import FindingView, FivePlan, OrderView
from tui.format import finding_text, status_text, when
from tui.screens.base import BaseScreen
from tui.screens.dialogs import TextPrompt
from tui.screens.five import FiveInPlaceDialog


class FindingScreen(BaseScreen):
    """A recorded hazard and what happened to it since."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "five", "key.five"),
        Binding("s", "start", "key.start_rect"),
        Binding("r", "report", "key.report"),
        Binding("v", "verify", "key.verify"),
        Binding("o", "reopen", "key.reopen"),
        Binding("l", "lift", "key.lift"),
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
            yield Static("", id="finding-orders")
            yield Static("", id="finding-history")
            yield Static("", id="finding-detail")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        """Load the finding."""
        self.reload()
        self.query_one("#finding-body").focus()

    def order_label(self, order: OrderView) -> str:
        """The order's wording in the app's language."""
        if self.t.lang == "zh":
            return ORDER_KINDS.get(order.kind, order.kind)
        for pack in self.backend.packs():
            if order.kind in pack.consequences:
                return pack.consequences[order.kind].en
        return order.kind

    def reload(self) -> None:
        """Read the finding, its history and its orders from the backend."""
        t = self.t
        view = self.ui.guard(self.backend.finding, self.finding_id)
        if view is None:
            return
        self.view = view
        self.sub_title = view.site_name
        lines = [
            f"[b]{t('finding.status')}[/b]{t.colon}{status_text(view, t)}    "
            f"[b]{t('finding.deadline')}[/b]{t.colon}{view.deadline.isoformat()}",
        ]
        if view.plan is not None:
            p = view.plan
            lines.append(f"[b]{t('key.five')}[/b]{t.colon}")
            for key, value in (
                ("responsible_person", p.responsible_person),
                ("measures", p.measures),
                ("funds", f"{p.funds:g}"),
                ("deadline", p.deadline.isoformat()),
                ("contingency_plan", p.contingency_plan),
            ):
                lines.append(f"  {t('five.' + key)}{t.colon}{escape(value)}")
        self.query_one("#finding-status", Static).update("\n".join(lines))
        if view.orders:
            lines = [f"[b]{t('finding.orders')}[/b]{t.colon}"]
            for order in view.orders:
                if order.in_force:
                    state = f"[b]{t('finding.order_active')}[/b]"
                else:
                    lifted = order.lifted_on.isoformat() if order.lifted_on else ""
                    state = f"[dim]{t('finding.order_lifted')} {lifted} {escape(order.lift_basis)}"
                    state += "[/dim]"
                label = escape(self.order_label(order))
                lines.append(f"  · {label}  {order.ordered_on.isoformat()}  {state}")
            self.query_one("#finding-orders", Static).update("\n".join(lines))
        self.query_one("#finding-orders", Static).display = bool(view.orders)
        lines = [f"[b]{t('finding.history')}[/b]{t.colon}"]
        for h in view.history:
            action = t(f"action.{h.action}") if t.has(f"action.{h.action}") else h.action
            note = f"  {escape(h.note)}" if h.note else ""
            lines.append(f"  {when(h.at)}  {action}  {escape(h.actor)}{note}")
        self.query_one("#finding-history", Static).update("\n".join(lines))
        self.query_one("#finding-detail", Static).update(
            finding_text(view.finding, t, self.backend.packs())
        )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only the moves the finding's status allows."""
        view = self.view
        if view is None:
            return action in ("back",)
        status = view.status
        major = view.finding.level == "重大"
        allowed = {
            # the loop of inspect_engine.rectification: a 重大 hazard needs 五落实, then 整改中
            "five": major and status != "closed",
            "start": status == "open" and (not major or view.plan is not None),
            "report": status == "in_rectification" or (status == "open" and not major),
            "verify": status == "reported",
            "reopen": status in ("reported", "closed"),
            "lift": any(o.in_force for o in view.orders),
        }
        return allowed.get(action, True)

    # --- moves -------------------------------------------------------------------------------

    def _ask_text(self, key: str, then: Callable[[str], None]) -> None:
        def check(text: str) -> str | None:
            return None if text else self.t("finding.need_text")

        def done(text: str | None) -> None:
            if text:
                then(text)

        self.app.push_screen(TextPrompt(self.t(key), check=check), done)

    def _do(self, call: Callable[..., None], *args: object) -> None:
        self.ui.guard(call, *args)
        self.reload()

    def action_five(self) -> None:
        """Record 五落实 (责任、措施、资金、时限、预案) for a 重大 hazard."""
        current = self.view.plan if self.view else None
        self.app.push_screen(FiveInPlaceDialog(current), self._five_done)

    def _five_done(self, plan: FivePlan | None) -> None:
        if plan is not None:
            self._do(self.backend.set_plan, self.finding_id, plan)

    def action_start(self) -> None:
        """待整改 → 整改中."""
        self._ask_text(
            "finding.start_prompt",
            lambda text: self._do(self.backend.start_rectification, self.finding_id, text),
        )

    def action_report(self) -> None:
        """The responsible party reports it rectified."""
        self._ask_text(
            "finding.report_prompt",
            lambda text: self._do(self.backend.report_rectified, self.finding_id, text),
        )

    def action_verify(self) -> None:
        """Verified on re-inspection: close it (销号)."""
        self._ask_text(
            "finding.verify_prompt",
            lambda text: self._do(self.backend.close_finding, self.finding_id, text),
        )

    def action_reopen(self) -> None:
        """Reopen, with the reason."""
        self._ask_text(
            "finding.reopen_prompt",
            lambda text: self._do(self.backend.reopen_finding, self.finding_id, text),
        )

    def action_lift(self) -> None:
        """Lift the first order in force, after re-inspection."""
        active = [o for o in self.view.orders if o.in_force] if self.view else []
        if not active:
            self.ui.show_error(self.t("finding.no_orders"))
            return
        order = active[0]
        self._ask_text(
            "finding.lift_prompt",
            lambda text: self._do(self.backend.lift_order, order.id, text),
        )

    def action_back(self) -> None:
        """Back."""
        self.app.pop_screen()
