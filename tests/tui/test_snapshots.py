"""What the main screens look like at 80×24, as labelled SVG snapshots (pytest-textual-snapshot).

Each test's name is its label. Update with ``pytest tests/tui/test_snapshots.py --snapshot-update``
only after looking at the report (snapshot_report.html): Rich draws Chinese squeezed in the SVGs
(libraries.md T3), so compare the text, not the look. The data are deterministic and stable: the
test pack (tests/data/packs/good/mini, which the campaign packs' edits never touch), the demo
register over its site types, a fixed clock, fixed answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from inspect_engine.clock import FixedClock
from inspect_engine.demo import demo_sites
from inspect_engine.ledger import Ledger
from inspect_engine.rulepack import RulePack
from inspect_engine.site import Site
from tests.tui.conftest import INSPECTOR, app_on, settle, site_of_type, steady_cursor
from tests.tui.test_followup import seed_finding
from tests.tui.test_walk import open_site, start_walk
from tui.screens.walk import WalkScreen

SnapCompare = Callable[..., bool]


@pytest.fixture
def mini_register(mini_pack: RulePack) -> list[Site]:
    """Twelve demo sites over the test pack's two site types."""
    return demo_sites([mini_pack], 12)


@pytest.fixture
def mini_ledger(tmp_path: Path, clock: FixedClock, mini_register: list[Site]) -> Iterator[Ledger]:
    """A ledger holding the mini register."""
    with Ledger.open(tmp_path / "mini", clock=clock, actor=INSPECTOR) as led:
        led.register_sites(mini_register)
        yield led


def test_sites_list(snap_compare: SnapCompare, mini_ledger: Ledger, mini_pack: RulePack) -> None:
    """Sites: filters, search, the table of every site with its status (Chinese)."""

    async def before(pilot: Pilot[None]) -> None:
        await pilot.press("a")
        await settle(pilot)
        steady_cursor(pilot.app)  # type: ignore[arg-type]

    assert snap_compare(app_on(mini_ledger, [mini_pack]), run_before=before)


def test_site_record(
    snap_compare: SnapCompare, mini_ledger: Ledger, mini_pack: RulePack, mini_register: list[Site]
) -> None:
    """Site: the record with its parties, open findings and past inspections."""
    fv = seed_finding(mini_ledger, mini_pack, mini_register[0], "重大")

    async def before(pilot: Pilot[None]) -> None:
        from tui.screens.site import SiteScreen

        await pilot.app.push_screen(SiteScreen(fv.site_id))
        await settle(pilot)

    assert snap_compare(app_on(mini_ledger, [mini_pack]), run_before=before)


def test_walk_yes_no_item(
    snap_compare: SnapCompare, mini_ledger: Ledger, mini_pack: RulePack, mini_register: list[Site]
) -> None:
    """Walk: section, progress, a yes/no item with its keys, the save state (Chinese)."""
    site = site_of_type(mini_register, "building")

    async def before(pilot: Pilot[None]) -> None:
        await open_site(pilot, site)
        walk = await start_walk(pilot, mini_pack)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(walk, WalkScreen)

    assert snap_compare(app_on(mini_ledger, [mini_pack]), run_before=before)


def test_walk_number_item_english(
    snap_compare: SnapCompare, mini_ledger: Ledger, mini_pack: RulePack, mini_register: list[Site]
) -> None:
    """Walk in English: a number item with its unit and range, and a refused entry."""
    site = site_of_type(mini_register, "site")

    async def before(pilot: Pilot[None]) -> None:
        await open_site(pilot, site)
        walk = await start_walk(pilot, mini_pack)
        number = next(i for i in walk.walk.items() if i.answer.type == "number")
        walk.walk.go(number.id)
        walk.show_item()
        await pilot.press("9", "9", "enter")
        await settle(pilot)
        steady_cursor(pilot.app)  # type: ignore[arg-type]

    assert snap_compare(app_on(mini_ledger, [mini_pack], lang="en"), run_before=before)


def test_review_findings(
    snap_compare: SnapCompare, mini_ledger: Ledger, mini_pack: RulePack, mini_register: list[Site]
) -> None:
    """Review: the findings derived live, the first one explained in full."""
    pack = mini_pack
    site = site_of_type(mini_register, "building")
    insp = mini_ledger.start_inspection(
        site.id, pack_id=pack.id, pack_version=pack.version, method="open", inspectors=[INSPECTOR]
    )
    for item_id, value in {"T.LAND.01": "no", "T.HAZ.01": "yes"}.items():
        mini_ledger.record_answer(insp.id, item_id, value)

    async def before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)

    assert snap_compare(app_on(mini_ledger, [mini_pack]), run_before=before)


def test_finding_follow_up(
    snap_compare: SnapCompare, mini_ledger: Ledger, mini_pack: RulePack, mini_register: list[Site]
) -> None:
    """Follow-up: a 重大 hazard with its order in force and the moves it allows."""
    fv = seed_finding(mini_ledger, mini_pack, mini_register[0], "重大")

    async def before(pilot: Pilot[None]) -> None:
        from tui.screens.finding import FindingScreen

        await pilot.app.push_screen(FindingScreen(fv.id))
        await settle(pilot)

    assert snap_compare(app_on(mini_ledger, [mini_pack]), run_before=before)


def test_help(snap_compare: SnapCompare, mini_ledger: Ledger, mini_pack: RulePack) -> None:
    """Help: every key, by screen."""
    assert snap_compare(app_on(mini_ledger, [mini_pack]), press=["f1"])
