"""Fixtures and helpers for the app tests: the real packs, a real ledger in a temporary
directory on a fixed clock inside the 2020 campaign, and Pilot driving at 80×24.

pytest-asyncio is not installed: each Pilot test is a plain test that calls :func:`drive`, which
runs the app under ``asyncio.run`` (Textual's ``run_test`` needs nothing more). Snapshot tests use
pytest-textual-snapshot's ``snap_compare``, which runs its own event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input

from inspect_engine.clock import CHINA, FixedClock
from inspect_engine.demo import demo_sites
from inspect_engine.ledger import Ledger
from inspect_engine.packs import checklists_root, load_pack
from inspect_engine.rulepack import RulePack
from inspect_engine.site import Site
from tui.app import InspectApp, make_app
from tui.i18n import Lang
from tui.ledger_backend import LedgerBackend

SIZE = (80, 24)
INSPECTOR = "排查员01"
NOW = dt.datetime(2020, 9, 15, 10, 0, tzinfo=CHINA)

T = TypeVar("T")


@pytest.fixture(scope="session")
def real_packs() -> list[RulePack]:
    """The two campaign packs (loaded once: parsing them takes about a second each)."""
    root = checklists_root()
    return [load_pack(root / "building-safety"), load_pack(root / "eleven-prohibitions")]


@pytest.fixture(scope="session")
def register(real_packs: list[RulePack]) -> list[Site]:
    """A small demo register over every site type of both packs."""
    return demo_sites(real_packs, 40)


@pytest.fixture
def clock() -> FixedClock:
    """2020-09-15 10:00 in Yangquan."""
    return FixedClock(NOW)


@pytest.fixture
def ledger(tmp_path: Path, clock: FixedClock, register: list[Site]) -> Iterator[Ledger]:
    """A fresh ledger with the register, held by this test."""
    with Ledger.open(tmp_path / "data", clock=clock, actor=INSPECTOR) as led:
        led.register_sites(register)
        yield led


def app_on(ledger: Ledger, packs: list[RulePack], *, lang: Lang = "zh") -> InspectApp:
    """The app as the CLI builds it, on ``ledger``."""
    return make_app(LedgerBackend(ledger, packs), lang=lang)


def drive(app: InspectApp, script: Callable[[Pilot[None]], Awaitable[T]]) -> T:
    """Run ``app`` headless at 80×24, run ``script`` with its pilot, return what it returns."""

    async def main() -> T:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            return await script(pilot)

    return asyncio.run(main())


async def settle(pilot: Pilot[None]) -> None:
    """Wait until every worker (saves, evaluation) is done and the screen has caught up."""
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def steady_cursor(app: InspectApp) -> None:
    """No blinking cursor in snapshots (libraries.md T4)."""
    for widget in app.screen.query(Input):
        widget.cursor_blink = False


def site_of_type(register: list[Site], site_type: str) -> Site:
    """The first site of the register with this type."""
    return next(s for s in register if site_type in s.site_types)


def screen_text(app: App[Any]) -> str:
    """Everything the current screen shows, as plain text (for assertions on wording)."""
    from textual.widgets import Static

    return "\n".join(str(widget.render()) for widget in app.screen.query(Static))
