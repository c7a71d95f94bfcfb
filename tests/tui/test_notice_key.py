"""The inspector hands over the rectification notice: ``n`` on the site screen writes it."""

from __future__ import annotations

import docx
from textual.pilot import Pilot

from inspect_engine.ledger import Ledger
from inspect_engine.rulepack import RulePack
from inspect_engine.site import Site
from tests.tui.conftest import app_on, drive, settle
from tests.tui.test_followup import seed_finding
from tui.screens.dialogs import MessageDialog
from tui.screens.site import SiteScreen


def _message(pilot: Pilot[None]) -> MessageDialog:
    screen = pilot.app.screen
    assert isinstance(screen, MessageDialog)
    return screen


def test_n_writes_the_notice_of_the_last_submitted_inspection(
    ledger: Ledger, real_packs: list[RulePack], register: list[Site]
) -> None:
    """The .docx and the Markdown copy land in ``notices/``; the dialog names the file; writing
    it again gives the same bytes (the notice is built from the inspection as submitted)."""
    fv = seed_finding(ledger, real_packs[0], register[0], "重大")
    site = ledger.site(fv.site_id).site
    folder = ledger.data_dir / "notices"

    async def script(pilot: Pilot[None]) -> list[str]:
        pilot.app.push_screen(SiteScreen(site.id))
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        first = _message(pilot)._message
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        return [first, _message(pilot)._message]

    messages = drive(app_on(ledger, real_packs), script)
    written = sorted(p.name for p in folder.iterdir())
    assert len(written) == 2 and written[0].endswith(".docx") and written[1].endswith(".md")
    path = folder / written[0]
    assert str(path) in messages[0] and messages[0] == messages[1]
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "隐患整改通知书" in text and site.name in text
    cells = [c.text for t in docx.Document(str(path)).tables for r in t.rows for c in r.cells]
    assert any(fv.finding.title.zh in c for c in cells)
    md = (folder / written[1]).read_text(encoding="utf-8")
    assert md.startswith("# 隐患整改通知书") and fv.finding.title.zh in md


def test_n_without_a_submitted_inspection_says_so(
    ledger: Ledger, real_packs: list[RulePack], register: list[Site]
) -> None:
    """A site never inspected has no notice: a message says so, nothing is written."""

    async def script(pilot: Pilot[None]) -> str:
        pilot.app.push_screen(SiteScreen(register[5].id))
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        dialog = _message(pilot)
        assert not dialog._is_error  # nothing went wrong: there is nothing to hand over
        return dialog._message

    message = drive(app_on(ledger, real_packs), script)
    assert "没有已提交且发现问题的检查" in message
    assert not (ledger.data_dir / "notices").exists()
