"""The app and rule-pack versions: an open inspection continues under the version it started
with, even after a newer one is installed; one whose version is gone is a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from inspect_engine.cli.main import main
from inspect_engine.clock import FixedClock
from inspect_engine.ledger import Ledger
from inspect_engine.packstore import install_pack, read_pack_files
from inspect_engine.rulepack import RulePack
from inspect_engine.site import Site
from tests.reliability.sync_kit import NEW_Q, OLD_Q, PACK, pack_version
from tests.tui.conftest import INSPECTOR, drive, screen_text, settle, site_of_type
from tui.app import make_app
from tui.ledger_backend import LedgerBackend
from tui.main import installed_packs
from tui.screens.dialogs import MessageDialog
from tui.screens.site import SiteScreen
from tui.screens.sync import SyncScreen
from tui.screens.walk import WalkScreen


def _pinned(ledger: Ledger, site: Site, version: str) -> None:
    ledger.start_inspection(
        site.id, pack_id=PACK, pack_version=version, method="open", inspectors=[INSPECTOR]
    )


def test_walk_resumes_under_the_pinned_version(
    ledger: Ledger, register: list[Site], tmp_path: Path
) -> None:
    """Started under 1.0.0; 1.0.1 arrives (in force): resuming walks 1.0.0's questions."""
    site = site_of_type(register, "rural_self_built_house")
    _pinned(ledger, site, "1.0.0")
    install_pack(ledger.data_dir, read_pack_files(pack_version(tmp_path, "1.0.1")), ledger.ops)
    packs = installed_packs(ledger.data_dir)
    assert {p.id: p.version for p in packs}[PACK] == "1.0.1"
    app = make_app(LedgerBackend(ledger, packs))

    async def script(pilot: Pilot[None]) -> None:
        await settle(pilot)  # the app resumes the open inspection at start
        walk = pilot.app.screen
        assert isinstance(walk, WalkScreen)
        assert walk.pack.version == "1.0.0"
        assert walk.pack.item("BS.LAND.01").question.zh == OLD_Q
        assert NEW_Q not in screen_text(pilot.app)

    drive(app, script)


def test_a_pinned_version_gone_is_a_dialog(
    ledger: Ledger, register: list[Site], real_packs: list[RulePack]
) -> None:
    """Pinned to 0.9.0, which is nowhere here: a dialog names both versions; closing it leaves
    the site screen (the walk never opens under another version)."""
    site = site_of_type(register, "rural_self_built_house")
    _pinned(ledger, site, "0.9.0")
    app = make_app(LedgerBackend(ledger, real_packs))

    async def script(pilot: Pilot[None]) -> None:
        await settle(pilot)  # the app tries to resume the open inspection at start
        dialog = pilot.app.screen
        assert isinstance(dialog, MessageDialog), dialog
        text = screen_text(pilot.app)
        assert "0.9.0" in text and "1.0.0" in text
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, SiteScreen)
        await pilot.press("s")  # asking again says it again, without opening the walk
        await settle(pilot)
        assert isinstance(pilot.app.screen, MessageDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, SiteScreen)
        assert pilot.app.screen.site_id == site.id

    drive(app, script)


def test_sync_screen_names_the_packs_installed(
    tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """A direct sync from the sync screen installs the hub's 1.0.1, says so, and the app's
    packs in force are 1.0.1 afterwards (new inspections start with it)."""
    hub, laptop = tmp_path / "hub", tmp_path / "laptop"
    assert main(["sync", "enroll", "--as-hub", "--data-dir", str(hub), "--quiet"]) == 0
    enroll = ["sync", "enroll", "--data-dir", str(laptop), "--hub", str(hub), "--quiet"]
    assert main([*enroll, "--inspector", INSPECTOR]) == 0
    folder = pack_version(tmp_path, "1.0.1")
    assert main(["packs", "install", str(folder), "--data-dir", str(hub)]) == 0
    capsys.readouterr()

    with Ledger.open(laptop, clock=clock, actor=INSPECTOR) as ledger:
        backend = LedgerBackend(
            ledger,
            installed_packs(laptop),
            reload_packs=lambda: installed_packs(laptop),
        )
        assert {p.id: p.version for p in backend.packs()}[PACK] == "1.0.0"

        async def script(pilot: Pilot[None]) -> None:
            await pilot.press("y")
            await settle(pilot)
            screen = pilot.app.screen
            assert isinstance(screen, SyncScreen)
            await pilot.press("r")
            pilot.app.screen.query_one("#prompt").value = str(hub)  # type: ignore[attr-defined]
            await pilot.press("enter")
            await settle(pilot)
            assert screen.outcomes is not None
            assert screen.outcomes[1].packs == (f"{PACK} 1.0.1",)
            assert f"已安装汇总台账下发的检查表：{PACK} 1.0.1" in screen_text(pilot.app)

        drive(make_app(backend), script)
        assert {p.id: p.version for p in backend.packs()}[PACK] == "1.0.1"
