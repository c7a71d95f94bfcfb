"""The walk as plain Python: what applies, where the cursor goes, skip logic as answers come in."""

from __future__ import annotations

from inspect_engine.demo import demo_sites
from inspect_engine.rulepack import RulePack
from inspect_engine.site import Site
from tui.walk import Walk


def _site(pack: RulePack, site_type: str, **attrs: bool) -> Site:
    base = next(s for s in demo_sites([pack], 4) if s.site_types == [site_type])
    return base.model_copy(update={"attributes": dict(attrs)})


def test_only_applicable_items_in_order(mini_pack: RulePack) -> None:
    """A building sees the building items; a construction site sees its own."""
    walk = Walk(mini_pack, _site(mini_pack, "building"))
    assert [i.id for i in walk.items()] == ["T.LAND.01", "T.HAZ.01", "T.USE.01"]
    walk = Walk(mini_pack, _site(mini_pack, "site"))
    assert [i.id for i in walk.items()] == ["T.LAND.01", "T.PIT.01"]


def test_skip_logic_follows_answers(mini_pack: RulePack) -> None:
    """A deep pit brings in the special-plan question; a shallow one hides it (and its answer)."""
    walk = Walk(mini_pack, _site(mini_pack, "site"))
    walk.start()
    assert walk.current == "T.LAND.01"
    assert walk.record("T.LAND.01", "yes") == "T.PIT.01"
    assert walk.record("T.PIT.01", 4.0) == "T.PIT.02"
    assert walk.progress() == (2, 3)
    assert walk.record("T.PIT.02", "no") is None
    assert walk.complete()
    walk.go("T.PIT.01")
    walk.record("T.PIT.01", 1.0)
    assert "T.PIT.02" not in walk.effective_answers()
    assert "T.PIT.02" in walk.answers  # kept, in case the depth is corrected back
    assert walk.progress() == (2, 2)
    walk.record("T.PIT.01", 5.0)
    assert walk.effective_answers()["T.PIT.02"] == "no"


def test_resume_after_last_answer(mini_pack: RulePack) -> None:
    """Resuming puts the cursor right after the item answered last."""
    walk = Walk(mini_pack, _site(mini_pack, "building"), answers={"T.LAND.01": "no"})
    walk.start("T.LAND.01")
    assert walk.current == "T.HAZ.01"
    walk = Walk(mini_pack, _site(mini_pack, "building"), answers={"T.HAZ.01": "no"})
    walk.start("T.HAZ.01")
    assert walk.current == "T.USE.01"
    walk.record("T.USE.01", "home")
    assert walk.current == "T.LAND.01"  # wraps round to the one left unanswered


def test_step_and_position(mini_pack: RulePack) -> None:
    """PgUp/PgDn move over every applicable item and stop at the ends."""
    walk = Walk(mini_pack, _site(mini_pack, "building"))
    walk.start()
    assert walk.position() == (1, 3)
    walk.step(-1)
    assert walk.current == "T.LAND.01"
    walk.step(1)
    walk.step(1)
    walk.step(1)
    assert walk.current == "T.USE.01"
    assert walk.position() == (3, 3)
    assert [s.id for s, _ in walk.sections()] == ["build"]
