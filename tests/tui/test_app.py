"""Behaviour of the app around the walk: the site list at scale, saving that never blocks and is
shown as saved only when durable, failures as messages, notes and evidence, help, English."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from inspect_engine.demo import demo_sites
from inspect_engine.ledger import Ledger
from inspect_engine.rulepack import RulePack
from inspect_engine.site import Site
from tests.tui.conftest import app_on, drive, screen_text, settle, site_of_type
from tests.tui.fakes import FakeBackend
from tests.tui.test_walk import open_site, start_walk
from tui.app import make_app
from tui.screens.dialogs import MessageDialog
from tui.screens.help import HelpScreen
from tui.screens.sites import SitesScreen
from tui.screens.walk import WalkScreen


def _rows(pilot: Pilot[None]) -> int:
    return pilot.app.screen.query_one("#sites", DataTable).row_count


def test_two_thousand_sites_filter_and_search(real_packs: list[RulePack]) -> None:
    """One table holds 2,000 sites; county, status and incremental search narrow it."""
    sites = demo_sites(real_packs, 2000)
    app = make_app(FakeBackend(real_packs, sites))

    async def script(pilot: Pilot[None]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, SitesScreen)
        assert _rows(pilot) == 2000
        assert len(screen.query("*")) < 60, "a widget per row would be a trap (T1)"
        screen.query_one("#county").value = "盂县"  # type: ignore[attr-defined]
        await pilot.pause()
        in_county = [s for s in sites if s.county == "盂县"]
        assert _rows(pilot) == len(in_county)
        target = in_county[5]
        await pilot.press("slash", *target.township)
        await pilot.pause()
        assert _rows(pilot) == sum(1 for s in in_county if target.township in s.name + s.address)
        await pilot.press("escape", "x")
        await pilot.pause()
        assert _rows(pilot) == 2000
        screen.query_one("#status").value = "in_progress"  # type: ignore[attr-defined]
        await pilot.pause()
        assert _rows(pilot) == 0

    drive(app, script)


def test_saving_never_blocks_and_saved_means_durable(
    real_packs: list[RulePack], register: list[Site]
) -> None:
    """While the disk holds a save, the next item is already shown and the answer says 保存中;
    ✓ 已保存 appears only once the backend has returned."""
    backend = FakeBackend(real_packs, register)
    site = site_of_type(register, "grazing_area")
    app = make_app(backend)

    async def script(pilot: Pilot[None]) -> None:
        await open_site(pilot, site)
        walk = await start_walk(pilot, real_packs[1])
        first = walk.walk.current
        backend.gate.clear()
        await pilot.press("y")
        await pilot.pause()
        assert walk.walk.current != first, "the walk moved on while the save waits"
        assert walk.saving and backend.recorded == []
        await pilot.press("pageup")
        await pilot.pause()
        line = str(walk.query_one("#answer-line").render())
        assert "保存中" in line and "已保存" not in line
        backend.gate.set()
        await settle(pilot)
        assert backend.recorded == [(first, "yes")]
        assert "已保存" in str(walk.query_one("#answer-line").render())

    drive(app, script)


def test_failed_save_is_a_message_and_the_answer_is_taken_back(
    real_packs: list[RulePack], register: list[Site]
) -> None:
    """A save that fails (disk full, say) never exits the app: a dialog says why, and the
    walk goes back to the item, unanswered."""
    backend = FakeBackend(real_packs, register)
    site = site_of_type(register, "grazing_area")
    app = make_app(backend)

    async def script(pilot: Pilot[None]) -> None:
        await open_site(pilot, site)
        walk = await start_walk(pilot, real_packs[1])
        first = walk.walk.current
        backend.fail_saves = "保存失败：磁盘已满"
        await pilot.press("n")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, MessageDialog)
        assert "磁盘已满" in screen_text(pilot.app)
        await pilot.press("enter")
        await pilot.pause()
        assert pilot.app.screen is walk
        assert walk.walk.current == first and not walk.walk.is_answered(first or "")

    drive(app, script)


def test_number_out_of_range_is_refused_then_note_and_evidence_are_saved(
    ledger: Ledger, real_packs: list[RulePack], register: list[Site], tmp_path: Path
) -> None:
    """A number outside its range is refused with the range and unit; a note and a photo are
    recorded in the ledger (the photo by its hash)."""
    site = site_of_type(register, "rural_self_built_house")
    photo = tmp_path / "现场照片.jpg"
    photo.write_bytes(b"\xff\xd8 not really a jpeg")

    async def script(pilot: Pilot[None]) -> None:
        await open_site(pilot, site)
        walk = await start_walk(pilot, real_packs[0])
        number = next(i for i in walk.walk.items() if i.answer.type == "number")
        walk.walk.go(number.id)
        walk.show_item()
        await pilot.pause()
        assert number.answer.type == "number"
        await pilot.press(*str(int(number.answer.max) + 1), "enter")
        await pilot.pause()
        assert number.answer.unit in str(walk.query_one("#invalid").render())
        assert not walk.walk.is_answered(number.id)
        await pilot.press("f3", *"墙体有裂缝", "enter")
        await pilot.press("f4")
        pilot.app.screen.query_one("#prompt", Input).value = str(photo)  # a long path: paste it
        await pilot.press("enter")
        await settle(pilot)
        assert "现场照片.jpg" in str(walk.query_one("#extras").render())

    drive(app_on(ledger, real_packs), script)
    insp = ledger.open_inspections()[0]
    answer = next(a for a in insp.answers.values() if a.note)
    assert answer.note == "墙体有裂缝" and answer.value is None
    assert [e.name for e in answer.evidence] == ["现场照片.jpg"]
    assert ledger.has_evidence(answer.evidence[0].sha256)


def test_help_lists_every_key_of_every_screen(ledger: Ledger, real_packs: list[RulePack]) -> None:
    """F1 opens a list holding every binding of every screen; Esc closes it."""
    from tui.app import InspectApp
    from tui.screens.finding import FindingScreen
    from tui.screens.hazards import HazardsScreen
    from tui.screens.review import ReviewScreen
    from tui.screens.site import SiteScreen

    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(pilot.app.screen, HelpScreen)
        text = screen_text(pilot.app)
        t = pilot.app.t  # type: ignore[attr-defined]
        for cls in (InspectApp, SitesScreen, SiteScreen, WalkScreen, ReviewScreen,
                    FindingScreen, HazardsScreen):  # fmt: skip
            for binding in cls.BINDINGS:
                assert t(binding.description) in text, (cls.__name__, binding)  # type: ignore[union-attr]
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, SitesScreen)

    drive(app_on(ledger, real_packs), script)


def test_english(ledger: Ledger, real_packs: list[RulePack], register: list[Site]) -> None:
    """--lang en: the app's words and the pack's questions in English."""
    site = site_of_type(register, "grazing_area")

    async def script(pilot: Pilot[None]) -> None:
        assert "Search by name or address" in str(pilot.app.screen.query_one("#search").placeholder)  # type: ignore[attr-defined]
        await open_site(pilot, site)
        assert "Address" in screen_text(pilot.app)
        walk = await start_walk(pilot, real_packs[1])
        item = walk.current_item
        assert item is not None
        assert item.question.en in screen_text(pilot.app)

    drive(app_on(ledger, real_packs, lang="en"), script)


def test_jump_back_and_basis_one_key_away(
    ledger: Ledger, real_packs: list[RulePack], register: list[Site]
) -> None:
    """F5 lists the items by section and jumps; PgUp goes back; F2 shows the item's clause."""
    site = site_of_type(register, "river_section")

    async def script(pilot: Pilot[None]) -> None:
        await open_site(pilot, site)
        walk = await start_walk(pilot, real_packs[1])
        first = walk.walk.current
        await pilot.press("f5", "down", "down", "enter")
        await pilot.pause()
        assert pilot.app.screen is walk
        ids = [i.id for i in walk.walk.items()]
        assert walk.walk.current == ids[2]
        await pilot.press("pageup", "pageup")
        await pilot.pause()
        assert walk.walk.current == first
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(pilot.app.screen, MessageDialog)
        item = walk.current_item
        assert item is not None and item.basis.source.section in screen_text(pilot.app)
        assert "文件条款" in screen_text(pilot.app)

    drive(app_on(ledger, real_packs), script)


def test_a_bug_is_one_line_naming_the_log(real_packs: list[RulePack], register: list[Site]) -> None:
    """An unexpected exception from the core is a dialog naming the log file with the
    traceback; the app keeps running."""

    class Broken(FakeBackend):
        def site(self, site_id: str) -> Site:
            raise RuntimeError("boom")

    app = make_app(Broken(real_packs, register))

    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MessageDialog)
        text = screen_text(pilot.app)
        assert "内部错误（RuntimeError）" in text and "Traceback" not in text
        log = Path(text.split("详情已写入 ")[1].split()[0])
        assert "boom" in log.read_text(encoding="utf-8")
        log.unlink()

    drive(app, script)
