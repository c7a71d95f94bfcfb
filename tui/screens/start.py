"""Starting an inspection: the checklist (when several apply), the method and the inspectors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Label, Select

from inspect_engine.rulepack import RulePack
from tui.backend import METHODS
from tui.screens.base import BaseModal


@dataclass(frozen=True)
class StartRequest:
    """What the inspector chose."""

    pack_id: str
    method: str
    inspectors: tuple[str, ...]


class StartDialog(BaseModal[StartRequest]):
    """Tab between the fields; Enter in the inspectors field (or Ctrl+S) starts; Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "start", "key.start", priority=True),
        Binding("escape", "cancel", "app.cancel"),
    ]

    def __init__(self, packs: Sequence[RulePack], inspector: str) -> None:
        super().__init__()
        self._packs = list(packs)
        self._inspector = inspector

    def compose(self) -> ComposeResult:
        t = self.t
        with Vertical(classes="dialog", id="start"):
            yield Label(t("start.title"), classes="dialog-title")
            yield Label(t("start.pack"))
            yield Select[str](
                [(t.text(p.manifest.title), p.id) for p in self._packs],
                value=self._packs[0].id,
                allow_blank=False,
                id="pack",
                compact=True,
            )
            yield Label(t("start.method"))
            yield Select[str](
                [(t(f"method.{m}"), m) for m in METHODS],
                value=METHODS[0],
                allow_blank=False,
                id="method",
                compact=True,
            )
            yield Label(t("start.inspectors"))
            yield Input(value=self._inspector, id="inspectors", compact=True)
            yield Label("", id="start-error", classes="error")
            yield Label(
                f"[Enter/Ctrl+S] {t('key.start')}    [Tab] ↓    [Esc] {t('app.cancel')}",
                classes="dialog-keys",
                markup=False,
            )

    def on_mount(self) -> None:
        """Start in the inspectors field: method and checklist have sensible defaults."""
        self.query_one("#inspectors", Input).focus()

    @on(Input.Submitted, "#inspectors")
    def _submitted(self) -> None:
        self.action_start()

    def action_start(self) -> None:
        """Start with the chosen values."""
        raw = self.query_one("#inspectors", Input).value
        names = tuple(n.strip() for n in raw.replace("，", ",").replace("、", ",").split(","))
        names = tuple(n for n in names if n)
        if not names:
            self.query_one("#start-error", Label).update(self.t("start.need_inspector"))
            return
        pack = self.query_one("#pack", Select).value
        method = self.query_one("#method", Select).value
        assert isinstance(pack, str) and isinstance(method, str)
        self.dismiss(StartRequest(pack_id=pack, method=method, inspectors=names))

    def action_cancel(self) -> None:
        """Close without starting."""
        self.dismiss(None)
