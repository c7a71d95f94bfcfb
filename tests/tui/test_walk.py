"""Walking whole inspections with the keyboard on the real ledger and packs, then resuming one
after a simulated crash."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from textual.pilot import Pilot

from inspect_engine.clock import FixedClock
from inspect_engine.evaluation import evaluate
from inspect_engine.ledger import Ledger
from inspect_engine.rulepack import (
    ChoiceAnswer,
    MultiChoiceAnswer,
    NumberAnswer,
    RulePack,
    YesNoAnswer,
)
from inspect_engine.site import Site
from tests.tui.conftest import INSPECTOR, app_on, drive, settle, site_of_type
from tui.demo import auto_answer
from tui.format import num
from tui.screens.review import ReviewScreen
from tui.screens.site import SiteScreen
from tui.screens.walk import WalkScreen


async def open_site(pilot: Pilot[None], site: Site) -> None:
    """From the site list: every site, search by the end of its id, open it."""
    await pilot.press("a", "slash", *site.id[-4:], "enter", "enter")
    await pilot.pause()
    assert isinstance(pilot.app.screen, SiteScreen)
    assert pilot.app.screen.site_id == site.id


async def start_walk(pilot: Pilot[None], pack: RulePack) -> WalkScreen:
    """``s`` on the site, choose the pack, accept method and inspector."""
    await pilot.press("s")
    await pilot.pause()
    select = pilot.app.screen.query_one("#pack")
    select.value = pack.id  # type: ignore[attr-defined]
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, WalkScreen)
    return screen


async def answer_shown(pilot: Pilot[None], walk: WalkScreen, rng: random.Random) -> None:
    """Answer the item shown with the keys an inspector would use."""
    item = walk.current_item
    assert item is not None
    value = auto_answer(item, rng)
    spec = item.answer
    if isinstance(spec, YesNoAnswer):
        await pilot.press({"yes": "y", "no": "n", "na": "x"}[str(value)])
    elif isinstance(spec, NumberAnswer):
        assert isinstance(value, float)
        await pilot.press(*num(value), "enter")
    elif isinstance(spec, ChoiceAnswer):
        values = [o.value for o in spec.options]
        await pilot.press(str(values.index(str(value)) + 1))
    elif isinstance(spec, MultiChoiceAnswer):
        values = [o.value for o in spec.options]
        assert isinstance(value, list)
        await pilot.press(*[str(values.index(v) + 1) for v in value], "enter")
    else:
        await pilot.press(*"ok", "enter")


@pytest.mark.parametrize(
    ("pack_index", "site_type"),
    [(0, "rural_self_built_house"), (1, "abandoned_mine")],
    ids=["building-safety", "eleven-prohibitions"],
)
def test_walk_a_whole_inspection_and_submit(
    ledger: Ledger,
    real_packs: list[RulePack],
    register: list[Site],
    pack_index: int,
    site_type: str,
) -> None:
    """Every applicable item answered by key, each durable in the ledger; the review shows the
    engine's findings; submitting seals the inspection with exactly those findings."""
    pack = real_packs[pack_index]
    site = site_of_type(register, site_type)
    rng = random.Random(7)
    app = app_on(ledger, real_packs)

    async def script(pilot: Pilot[None]) -> None:
        await open_site(pilot, site)
        walk = await start_walk(pilot, pack)
        kinds = set()
        for _ in range(200):
            if walk.walk.current is None:
                break
            item = walk.current_item
            assert item is not None
            kinds.add(item.answer.type)
            before = walk.walk.current
            await answer_shown(pilot, walk, rng)
            assert walk.walk.current != before, f"{before} not taken"
        await settle(pilot)
        assert walk.walk.current is None and walk.walk.complete()
        assert not walk.saving
        assert {"yes_no", "choice"} <= kinds
        answers = walk.walk.effective_answers()
        insp = ledger.open_inspections()[0]
        assert {k: a.value for k, a in insp.answers.items() if a.value is not None} == answers
        expected = evaluate(pack, site, answers, insp_date(insp.started_at))
        await pilot.press("r")
        await settle(pilot)
        review = pilot.app.screen
        assert isinstance(review, ReviewScreen)
        assert [f.rule_id for f in review.findings or []] == [f.rule_id for f in expected]
        await pilot.press("ctrl+s", "y")
        await settle(pilot)
        assert isinstance(pilot.app.screen_stack[-2], SiteScreen)
        sealed = ledger.inspection(insp.id)
        assert sealed.status == "submitted"
        stored = [ledger.finding(fid).rule_id for fid in sealed.finding_ids]
        assert stored == [f.rule_id for f in expected]

    drive(app, script)


def insp_date(started_at: str) -> dt.date:
    """The inspection's date (deadlines count from it)."""
    return dt.datetime.fromisoformat(started_at).date()


def test_resume_after_a_crash_at_the_same_item(
    ledger: Ledger, real_packs: list[RulePack], register: list[Site], clock: FixedClock
) -> None:
    """Answers saved before the app died are all there, and the walk stands where it stood."""
    pack = real_packs[0]
    site = site_of_type(register, "rural_self_built_house")
    rng = random.Random(3)
    state: dict[str, object] = {}

    async def first(pilot: Pilot[None]) -> None:
        await open_site(pilot, site)
        walk = await start_walk(pilot, pack)
        for _ in range(5):
            await answer_shown(pilot, walk, rng)
        await settle(pilot)
        state["answers"] = dict(walk.walk.effective_answers())
        state["current"] = walk.walk.current

    drive(app_on(ledger, real_packs), first)
    # The process "dies": nothing is closed or flushed; only the OS lock goes with it.
    data_dir = ledger.data_dir
    ledger.close()
    with Ledger.open(data_dir, clock=clock, actor=INSPECTOR) as again:

        async def second(pilot: Pilot[None]) -> None:
            await settle(pilot)
            walk = pilot.app.screen
            assert isinstance(walk, WalkScreen), "the open inspection is resumed at start"
            assert walk.walk.effective_answers() == state["answers"]
            assert walk.walk.current == state["current"]
            assert walk.walk.site.id == site.id

        drive(app_on(again, real_packs), second)
