"""The help screen: every key of every screen, read from the screens' own bindings.

Keys handled by widgets rather than bindings (digits in choices, Space, Enter, Tab) are listed
from :data:`EXTRA_KEYS`, so nothing the app responds to is missing here.
"""

from __future__ import annotations

from typing import ClassVar

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Label, Static

from tui.screens.base import BaseModal

EXTRA_KEYS: dict[str, list[tuple[str, str]]] = {
    "help.global": [("tab / shift+tab", "help.focus"), ("↑ ↓", "help.move")],
    "help.sites": [("enter", "key.open")],
    "help.walk": [
        ("1-9", "key.choose"),
        ("space", "key.toggle"),
        ("enter", "key.confirm"),
    ],
    "help.dialogs": [("enter", "key.confirm"), ("escape", "app.cancel")],
}


def _key_name(key: str) -> str:
    names = {
        "pageup": "PgUp",
        "pagedown": "PgDn",
        "escape": "Esc",
        "slash": "/",
        "enter": "Enter",
        "space": "Space",
    }
    out = []
    for k in key.split(","):
        k = k.strip()
        if k.startswith("ctrl+"):
            out.append("Ctrl+" + k.removeprefix("ctrl+").upper())
        else:
            out.append(names.get(k, k.upper() if k.startswith("f") and k[1:].isdigit() else k))
    return " / ".join(out)


def _rows(bindings: list[BindingType]) -> list[tuple[str, str]]:
    return [(b.key, b.description) for b in bindings if isinstance(b, Binding)]


class HelpScreen(BaseModal[None]):
    """Every key, by screen. Esc closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "close", "app.back"),
    ]

    def compose(self) -> ComposeResult:
        from tui.app import InspectApp
        from tui.screens.finding import FindingScreen
        from tui.screens.hazards import HazardsScreen
        from tui.screens.review import ReviewScreen
        from tui.screens.site import SiteScreen
        from tui.screens.sites import SitesScreen
        from tui.screens.sync import SyncScreen
        from tui.screens.walk import WalkScreen

        t = self.t
        sections: list[tuple[str, list[tuple[str, str]]]] = [
            ("help.global", _rows(InspectApp.BINDINGS)),
            ("help.sites", _rows(SitesScreen.BINDINGS)),
            ("help.site", _rows(SiteScreen.BINDINGS)),
            ("help.walk", _rows(WalkScreen.BINDINGS)),
            ("help.review", _rows(ReviewScreen.BINDINGS)),
            ("help.finding", _rows(FindingScreen.BINDINGS)),
            ("help.hazards", _rows(HazardsScreen.BINDINGS)),
            ("help.sync", _rows(SyncScreen.BINDINGS)),
            ("help.dialogs", []),
        ]
        lines = [t("help.no_mouse"), ""]
        for title, rows in sections:
            lines.append(f"[b]{t(title)}[/b]")
            seen = set()
            for key, desc in rows + EXTRA_KEYS.get(title, []):
                if (key, desc) in seen:
                    continue
                seen.add((key, desc))
                label = t(desc) if t.has(desc) else desc
                lines.append(f"  {escape(_key_name(key)):<22} {escape(label)}")
            lines.append("")
        with VerticalScroll(classes="dialog -wide", id="help"):
            yield Label(t("help.title"), classes="dialog-title")
            yield Static("\n".join(lines), id="help-text")
            yield Label(t("help.close"), classes="dialog-keys", markup=False)

    def on_mount(self) -> None:
        """Focus the scroller so ↑/↓ scroll."""
        self.query_one("#help").focus()

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)
