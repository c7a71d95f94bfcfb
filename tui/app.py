"""The inspector's terminal app, built by one factory shared by the CLI and the tests.

``make_app(backend, lang=...)`` returns an :class:`InspectApp`. The app owns the
:class:`~tui.backend.Backend` (the ledger and the engine behind a narrow interface) and the
language; screens ask it for both. It starts on the site list and, when an inspection was left
open (the app was closed or killed mid-walk), goes straight back into that walk at the item it
stood on.

Errors: an :class:`~inspect_engine.errors.InspectError` from the core becomes a dialog with its
message. Anything else is a bug: its traceback goes to a log file and the user sees one line
naming that file, never a traceback on the terminal.
"""

from __future__ import annotations

import os
import tempfile
import traceback
from collections.abc import Callable
from typing import ClassVar, TypeVar

from textual.app import App
from textual.binding import Binding, BindingType

from inspect_engine.errors import InspectError
from tui.backend import Backend
from tui.i18n import Lang, Strings
from tui.screens.base import localize_bindings
from tui.screens.dialogs import MessageDialog
from tui.screens.help import HelpScreen
from tui.screens.sites import SitesScreen

T = TypeVar("T")


class InspectApp(App[None]):
    """The app: site list → site → walk → review → submit; follow-up and office views."""

    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "key.help"),
        Binding("ctrl+q", "quit", "key.quit", priority=True, show=False),
    ]

    def __init__(self, backend: Backend, strings: Strings, *, resume: bool = True) -> None:
        super().__init__()
        self.backend = backend
        self.t = strings
        self.resume = resume
        self._type_labels: dict[str, str] | None = None
        localize_bindings(self, strings)
        self.title = strings("app.title")
        if backend.demo:
            self.title += f"【{strings('app.demo')}】"

    def on_mount(self) -> None:
        """Show the sites; resume an open inspection where it stood."""
        self.push_screen(SitesScreen())
        if self.resume:
            self.resume_open_inspection()

    def resume_open_inspection(self) -> None:
        """Go back into the open inspection, if there is one."""
        from tui.screens.site import SiteScreen
        from tui.screens.walk import WalkScreen

        open_ = self.guard(self.backend.open_inspection)
        if open_ is None:
            return
        self.push_screen(SiteScreen(open_.info.site_id))
        self.push_screen(WalkScreen(open_))

    def site_type_labels(self) -> dict[str, str]:
        """Site type id → label in the app's language, over every installed pack."""
        if self._type_labels is None:
            labels: dict[str, str] = {}
            for pack in self.guard(self.backend.packs) or []:
                for st in pack.manifest.site_types:
                    labels.setdefault(st.id, self.t.text(st.label))
            self._type_labels = labels
        return self._type_labels

    # --- errors ------------------------------------------------------------------------------

    def guard(self, call: Callable[..., T], *args: object) -> T | None:
        """Call into the core; show a dialog (and return ``None``) if it fails."""
        try:
            return call(*args)
        except InspectError as err:
            self.show_error(err.message)
        except Exception as exc:  # noqa: BLE001 - bugs become a message, never a traceback
            self.show_error(self.describe_bug(exc))
        return None

    def show_error(self, message: str) -> None:
        """A dialog with the message; Enter or Esc closes it."""
        self.push_screen(MessageDialog(self.t("app.error"), message, error=True))

    def describe_bug(self, exc: BaseException) -> str:
        """Write the traceback to a log file; the one-line message naming it."""
        fd, path = tempfile.mkstemp(prefix="inspect-engine-tui-crash-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("".join(traceback.format_exception(exc)))
        return self.t("app.internal", kind=type(exc).__name__, path=path)

    def _fatal_error(self) -> None:
        # Textual renders an unhandled exception as a rich traceback on exit; we log it to a file
        # and leave one line instead (Textual 8.2.8 private hook, pinned in pyproject).
        import sys

        exc = sys.exc_info()[1]
        message = self.describe_bug(exc) if exc is not None else self.t("app.error")
        self.bell()
        self._exit_renderables.append(message)
        self._close_messages_no_wait()

    def get_key_display(self, binding: Binding) -> str:
        """Function keys as ``F2``, Escape as ``Esc`` (the footer and the help screen)."""
        shown = super().get_key_display(binding)
        if len(shown) in (2, 3) and shown[0] == "f" and shown[1:].isdigit():
            return shown.upper()
        return {"escape": "Esc", "esc": "Esc"}.get(shown, shown)

    # --- actions -----------------------------------------------------------------------------

    def action_help(self) -> None:
        """The key list."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def make_app(backend: Backend, *, lang: Lang = "zh", resume: bool = True) -> InspectApp:
    """The app on ``backend`` in ``lang``; the CLI and the tests both build it here."""
    return InspectApp(backend, Strings(lang), resume=resume)
