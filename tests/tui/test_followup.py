"""Follow-up with the keyboard: 五落实, rectify, report, verify and close (销号), reopen with a
reason, lift an enforcement order; and the office's unresolved-hazards list."""

from __future__ import annotations

from textual.pilot import Pilot

from inspect_engine.ledger import Ledger
from inspect_engine.rectification import ORDER_KINDS
from inspect_engine.rulepack import Rule, RulePack
from inspect_engine.site import Site
from tests.tui.conftest import app_on, drive, settle
from tui.backend import FindingView
from tui.ledger_backend import LedgerBackend
from tui.screens.finding import FindingScreen
from tui.screens.hazards import HazardsScreen


def _rule(pack: RulePack, level: str) -> Rule:
    """A rule of ``level`` with a failing case; a 重大 one that orders something (停止使用...)."""
    for rule in pack.rules:
        f = rule.finding
        if f is None or f.level != level or not f.hazard:
            continue
        if level == "重大" and not set(f.consequences) & set(ORDER_KINDS):
            continue
        if any(c.outcome == "fail" for c in rule.cases):
            return rule
    raise AssertionError(f"no {level} rule with an order in {pack.id}")


def seed_finding(ledger: Ledger, pack: RulePack, base: Site, level: str) -> FindingView:
    """Submit an inspection whose answers are the rule's failing case; its finding."""
    rule = _rule(pack, level)
    case = next(c for c in rule.cases if c.outcome == "fail")
    site = base.model_copy(
        update={
            "id": f"T-{level == '重大':d}",
            "site_types": case.site_types,
            "attributes": case.site,
        }
    )
    ledger.register_sites([site])
    backend = LedgerBackend(ledger, [pack])
    open_ = backend.start_inspection(site.id, pack.id, "open", ["排查员01"])
    answers = dict(case.answers)
    for item_id, value in answers.items():
        backend.record_answer(open_.info.id, item_id, value)
    views = backend.submit(open_.info.id, answers)
    return next(v for v in views if v.finding.rule_id == rule.id)


def _status(screen: FindingScreen) -> str:
    assert screen.view is not None
    return screen.view.status


async def open_in_hazards(pilot: Pilot[None], finding_id: str) -> FindingScreen:
    """The office list, the row of this finding, Enter."""
    await pilot.press("h")
    await settle(pilot)
    hazards = pilot.app.screen
    assert isinstance(hazards, HazardsScreen)
    index = [fv.id for fv in hazards._shown].index(finding_id)
    await pilot.press(*["down"] * index, "enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, FindingScreen) and screen.finding_id == finding_id
    return screen


def test_major_hazard_closed_and_order_lifted(
    ledger: Ledger, real_packs: list[RulePack], register: list[Site]
) -> None:
    """重大: 五落实 first, then rectify, report, verify and close; lift the order it carried."""
    fv = seed_finding(ledger, real_packs[0], register[0], "重大")
    assert fv.orders and all(o.in_force for o in fv.orders)

    async def script(pilot: Pilot[None]) -> None:
        screen = await open_in_hazards(pilot, fv.id)
        assert screen.check_action("start", ()) is False, "no rectifying before 五落实"
        await pilot.press("f")
        await pilot.press(*"张三", "enter", *"拆除加固", "enter", "2", "enter")
        await pilot.press(*"2020-10-15", "enter", *"专人值守", "enter")
        await settle(pilot)
        assert screen.view is not None and screen.view.plan is not None
        assert screen.view.deadline.isoformat() == "2020-10-15"
        for key, text in (("s", "开工"), ("r", "已加固"), ("v", "复查合格")):
            await pilot.press(key, *text, "enter")
            await settle(pilot)
        assert screen.view.status == "closed"
        await pilot.press("l", *"复查合格，同意恢复使用", "enter")
        await settle(pilot)
        assert not any(o.in_force for o in screen.view.orders)

    drive(app_on(ledger, real_packs), script)
    closed = ledger.finding(fv.id)
    assert closed.status is not None and closed.status.value == "closed"
    assert [s.action for s in closed.history] == ["raised", "plan", "start", "report", "close"]
    assert not any(o.in_force for o in ledger.projection.orders.values() if o.finding_id == fv.id)


def test_general_hazard_reported_then_reopened_with_reason(
    ledger: Ledger, real_packs: list[RulePack], register: list[Site]
) -> None:
    """一般: reported at once (立行立改); verification fails, so it is reopened with the reason;
    a refused move shows the ledger's reason instead of crashing."""
    fv = seed_finding(ledger, real_packs[0], register[0], "一般")

    async def script(pilot: Pilot[None]) -> None:
        screen = await open_in_hazards(pilot, fv.id)
        await pilot.press("r", *"已清理", "enter")
        await settle(pilot)
        assert _status(screen) == "reported"
        await pilot.press("o", "enter")  # an empty reason is refused by the prompt
        await pilot.pause()
        await pilot.press(*"复查仍有堵塞", "enter")
        await settle(pilot)
        assert _status(screen) == "in_rectification"
        assert screen.view is not None and screen.view.history[-1].note == "复查仍有堵塞"

    drive(app_on(ledger, real_packs), script)
    assert ledger.finding(fv.id).history[-1].action == "reopen"
