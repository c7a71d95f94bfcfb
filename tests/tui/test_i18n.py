"""Every string the app shows exists in Chinese and English, and every key the code uses exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import tui
from tui.i18n import Strings, all_keys

TUI = Path(tui.__file__).parent


def test_both_languages_complete() -> None:
    """No empty translation; the placeholders match between languages."""
    zh, en = Strings("zh"), Strings("en")
    for key in all_keys():
        a, b = zh(key), en(key)
        assert a.strip() and b.strip(), key
        assert set(re.findall(r"{(\w+)}", a)) == set(re.findall(r"{(\w+)}", b)), key


def test_every_literal_key_in_the_code_exists() -> None:
    """``t("...")`` and binding descriptions name strings that exist."""
    known = set(all_keys())
    used: set[str] = set()
    for path in TUI.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z_]+)+)["']""", text))
        used |= set(re.findall(r"""Binding\([^)]*?["']((?:key|app|review)\.[a-z_]+)["']""", text))
    assert used, "no keys found: the pattern is stale"
    assert sorted(used - known) == []


def test_unknown_language_refused() -> None:
    """Only zh and en."""
    with pytest.raises(ValueError):
        Strings("fr")  # type: ignore[arg-type]
