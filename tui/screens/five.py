"""五落实 for a 重大 hazard: responsibility, measures, funds, deadline, contingency plan."""

from __future__ import annotations

import datetime as dt
import math
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Label

from tui.backend import FivePlan
from tui.screens.base import BaseModal

FIELDS: tuple[str, ...] = (
    "responsible_person",
    "measures",
    "funds",
    "deadline",
    "contingency_plan",
)


class FiveInPlaceDialog(BaseModal[FivePlan]):
    """Five fields; Tab moves, Enter on the last (or Ctrl+S) saves, Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "key.confirm", priority=True),
        Binding("escape", "cancel", "app.cancel"),
    ]

    def __init__(self, current: FivePlan | None = None) -> None:
        super().__init__()
        self._current: dict[str, str] = {}
        if current is not None:
            self._current = {
                "responsible_person": current.responsible_person,
                "measures": current.measures,
                "funds": f"{current.funds:g}",
                "deadline": current.deadline.isoformat(),
                "contingency_plan": current.contingency_plan,
            }

    def compose(self) -> ComposeResult:
        t = self.t
        with Vertical(classes="dialog", id="five"):
            yield Label(t("finding.five_title"), classes="dialog-title")
            for name in FIELDS:
                yield Label(t(f"finding.five.{name}"))
                yield Input(value=self._current.get(name, ""), id=f"five-{name}", compact=True)
            yield Label("", id="five-error", classes="error")
            yield Label(
                f"[Tab] ↓  [Ctrl+S] {t('key.confirm')}  [Esc] {t('app.cancel')}",
                classes="dialog-keys",
                markup=False,
            )

    def on_mount(self) -> None:
        """Start in the first field."""
        self.query_one(f"#five-{FIELDS[0]}", Input).focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input.id == f"five-{FIELDS[-1]}":
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        """Check every field and return them."""
        t = self.t
        values = {n: self.query_one(f"#five-{n}", Input).value.strip() for n in FIELDS}
        error = None
        for name in FIELDS:
            if not values[name]:
                error = f"{t('finding.five.' + name)}{t.colon}{t('finding.need_text')}"
                break
        funds = -1.0
        deadline = dt.date.min
        if error is None:
            try:
                funds = float(values["funds"])
            except ValueError:
                pass
            if not (math.isfinite(funds) and funds >= 0):
                error = t("finding.five.bad_funds")
        if error is None:
            try:
                deadline = dt.date.fromisoformat(values["deadline"])
            except ValueError:
                error = t("finding.five.bad_date")
        if error is not None:
            self.query_one("#five-error", Label).update(error)
            return
        self.dismiss(
            FivePlan(
                responsible_person=values["responsible_person"],
                measures=values["measures"],
                funds=funds,
                deadline=deadline,
                contingency_plan=values["contingency_plan"],
            )
        )

    def action_cancel(self) -> None:
        """Close without saving."""
        self.dismiss(None)
