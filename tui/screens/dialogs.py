"""Small dialogs: a message, a yes/no confirmation, a one-line text prompt.

Each is a :class:`~textual.screen.ModalScreen` that returns its answer through ``dismiss``;
``None`` means cancelled. Enter confirms and Esc cancels everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Label, Static

from tui.screens.base import BaseModal


class MessageDialog(BaseModal[None]):
    """A message (an error, or a confirmation that something was done)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "close", "app.ok"),
    ]

    def __init__(
        self, title: str, message: str, *, error: bool = False, markup: bool = False
    ) -> None:
        super().__init__()
        self._heading = title
        self._message = message
        self._is_error = error
        self._use_markup = markup

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -error" if self._is_error else "dialog"):
            yield Label(self._heading, classes="dialog-title", markup=False)
            with VerticalScroll(id="message-scroll"):
                yield Static(self._message, id="message", markup=self._use_markup)
            yield Label(f"[Enter] {self.t('app.ok')}", classes="dialog-keys", markup=False)

    def action_close(self) -> None:
        """Close the dialog."""
        self.dismiss(None)


class ConfirmDialog(BaseModal[bool]):
    """A yes/no question: Y or Enter confirms, N or Esc declines."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "key.confirm"),
        Binding("n,escape", "answer(False)", "app.cancel"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self._question, id="question", markup=False)
            yield Label(
                f"[Y/Enter] {self.t('key.confirm')}    [N/Esc] {self.t('app.cancel')}",
                classes="dialog-keys",
                markup=False,
            )

    def action_answer(self, yes: bool) -> None:
        """Close with the answer."""
        self.dismiss(yes)


class TextPrompt(BaseModal[str]):
    """One line of text: Enter returns it (after ``check``), Esc cancels.

    ``check`` returns an error message to show under the field, or ``None`` to accept.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "app.cancel"),
    ]

    def __init__(
        self,
        title: str,
        *,
        placeholder: str = "",
        value: str = "",
        check: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__()
        self._heading = title
        self._hint_text = placeholder
        self._start_text = value
        self._validate_text = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._heading, classes="dialog-title", markup=False)
            yield Input(value=self._start_text, placeholder=self._hint_text, id="prompt")
            yield Label("", id="prompt-error", classes="error")
            yield Label(
                f"[Enter] {self.t('key.confirm')}    [Esc] {self.t('app.cancel')}",
                classes="dialog-keys",
                markup=False,
            )

    @on(Input.Submitted, "#prompt")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        problem = self._validate_text(text) if self._validate_text else None
        if problem:
            self.query_one("#prompt-error", Label).update(problem)
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        """Close without an answer."""
        self.dismiss(None)
