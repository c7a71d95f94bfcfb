"""Jump to any applicable item: one list, sections as headings, answered items ticked."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from tui.format import answer_text, clip
from tui.screens.base import BaseModal
from tui.walk import Walk


class JumpDialog(BaseModal[str]):
    """↑/↓ and Enter go to the item; Esc stays."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "app.cancel"),
    ]

    def __init__(self, walk: Walk) -> None:
        super().__init__()
        self._walk = walk

    def compose(self) -> ComposeResult:
        t = self.t
        effective = self._walk.effective_answers()
        options: list[Option] = []
        highlight = 0
        for section, items in self._walk.sections():
            options.append(
                Option(Text(f"{section.ref} {t.text(section.title)}", style="bold"), disabled=True)
            )
            for item in items:
                if item.id == self._walk.current:
                    highlight = len(options)
                value = effective.get(item.id)
                mark = "✓" if value is not None else "·"
                shown = f" → {answer_text(item, value, t)}" if value is not None else ""
                # one line per item, cut with "…" (the dialog is 76 cells wide)
                line = clip(f" {mark} {t.text(item.question)}{shown}", 68)
                options.append(Option(Text(line), id=item.id))
        self._highlight = highlight
        with Vertical(classes="dialog -wide"):
            yield Label(t("jump.title"), classes="dialog-title")
            yield OptionList(*options, id="jump-list")
            yield Label(
                f"[↑↓ Enter] {t('key.jump')}    [Esc] {t('app.cancel')}",
                classes="dialog-keys",
                markup=False,
            )

    def on_mount(self) -> None:
        """Start on the current item."""
        items = self.query_one("#jump-list", OptionList)
        items.highlighted = self._highlight
        items.focus()

    @on(OptionList.OptionSelected, "#jump-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Stay where we are."""
        self.dismiss(None)
