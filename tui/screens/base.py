"""What every screen shares: the app's backend and strings, and translated key descriptions."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual.binding import BindingsMap
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen

from tui.backend import Backend
from tui.i18n import Strings

if TYPE_CHECKING:
    from tui.app import InspectApp

R = TypeVar("R")


def localize_bindings(node: DOMNode, strings: Strings) -> None:
    """Replace each binding description that is a string key (``key.help``) by its translation.

    Bindings are declared once per class with keys as descriptions; the footer and the help
    screen then show them in the app's language.
    """
    translated = BindingsMap()
    for _key, binding in node._bindings:
        desc = binding.description
        if strings.has(desc):
            binding = dataclasses.replace(binding, description=strings(desc))
        translated._add_binding(binding)
    node._bindings = translated


class _AppAccess:
    """Typed access to the running :class:`~tui.app.InspectApp`."""

    @property
    def ui(self) -> InspectApp:
        """The app (typed)."""
        return cast("InspectApp", cast(Any, self).app)

    @property
    def backend(self) -> Backend:
        """The core behind its narrow interface."""
        return self.ui.backend

    @property
    def t(self) -> Strings:
        """The app's strings."""
        return self.ui.t


class BaseScreen(_AppAccess, Screen[None]):
    """A full screen."""

    def on_mount(self) -> None:
        """Translate the key descriptions of this screen."""
        localize_bindings(self, self.t)


class ReloadingScreen(BaseScreen):
    """A screen of ledger data that another screen on top may change (a walk, a finding): it
    reads the backend again each time it comes back, not on its first showing (``on_mount``
    fills it then)."""

    _shown_once = False

    def reload(self) -> None:
        """Read the backend and redraw."""
        raise NotImplementedError

    def on_screen_resume(self) -> None:
        """Back on top: refresh."""
        if self._shown_once:
            self.reload()
        self._shown_once = True
        self.refresh_bindings()


class BaseModal(_AppAccess, ModalScreen[R]):
    """A dialog over the current screen, returning ``R`` (``None`` when cancelled)."""

    def on_mount(self) -> None:
        """Translate the key descriptions of this dialog."""
        localize_bindings(self, self.t)
        self.refresh_bindings()
