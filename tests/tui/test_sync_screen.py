"""The sync screen on inspect_engine.sync: a direct sync with the hub carries the sites the
office registered; a file that is not a bundle is refused with its reason, nothing imported."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from inspect_engine.cli.main import main
from inspect_engine.clock import FixedClock
from inspect_engine.ledger import Ledger
from inspect_engine.rulepack import RulePack
from inspect_engine.site import Site
from tests.tui.conftest import INSPECTOR, app_on, drive, screen_text, settle
from tui.screens.sync import SyncScreen


def test_direct_sync_then_a_refused_file(
    tmp_path: Path,
    clock: FixedClock,
    real_packs: list[RulePack],
    register: list[Site],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """r + the hub's folder: pushed and pulled, the office's sites arrive; i + a stray file:
    refused [not-a-bundle], the ledger unchanged."""
    hub, laptop = tmp_path / "hub", tmp_path / "laptop"
    assert main(["sync", "enroll", "--as-hub", "--data-dir", str(hub), "--quiet"]) == 0
    enroll = ["sync", "enroll", "--data-dir", str(laptop), "--hub", str(hub), "--quiet"]
    assert main([*enroll, "--inspector", INSPECTOR]) == 0
    with Ledger.open(hub, clock=clock, actor="office") as office:
        office.register_sites(register[:10])  # registered after the laptop's first sync
    capsys.readouterr()
    stray = tmp_path / "photo.jpg"
    stray.write_bytes(b"not a bundle")

    with Ledger.open(laptop, clock=clock, actor=INSPECTOR) as ledger:
        before = len(ledger.sites())

        async def script(pilot: Pilot[None]) -> None:
            await pilot.press("y")
            await settle(pilot)
            screen = pilot.app.screen
            assert isinstance(screen, SyncScreen)
            assert "排查终端" in screen_text(pilot.app)
            await pilot.press("r")
            pilot.app.screen.query_one("#prompt").value = str(hub)  # type: ignore[attr-defined]
            await pilot.press("enter")
            await settle(pilot)
            assert screen.outcomes is not None
            assert [o.action for o in screen.outcomes] == ["push", "pull"]
            assert screen.outcomes[1].new >= 10
            await pilot.press("i")
            pilot.app.screen.query_one("#prompt").value = str(stray)  # type: ignore[attr-defined]
            await pilot.press("enter")
            await settle(pilot)
            assert screen.outcomes[0].refused == "not-a-bundle"
            assert "not-a-bundle" in screen_text(pilot.app)
            await pilot.press("escape")
            await settle(pilot)

        drive(app_on(ledger, real_packs), script)
        assert len(ledger.sites()) == before + 10
