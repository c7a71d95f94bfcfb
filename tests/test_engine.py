"""The engine and ``evaluate``: findings with their explanation, combinations, derived facts,
site-level rules, supersession, determinism, isolation, skip logic and input errors."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

import pytest

from inspect_engine.answers import AnswerError
from inspect_engine.cases import reference_fired, run_cases
from inspect_engine.engine import (
    EngineError,
    compile_pack,
    engine_fired,
    fired_rules,
    live_sessions,
)
from inspect_engine.errors import InputError
from inspect_engine.evaluation import applicable_items, evaluate, evaluate_full
from inspect_engine.packs import load_pack, pack_dirs
from inspect_engine.rulepack import RulePack
from inspect_engine.site import Site
from tests.conftest import GOOD_PACKS
from tests.engine_helpers import item, make_pack, rule

ON = dt.date(2020, 9, 25)
PACKS = [GOOD_PACKS / "mini", *pack_dirs()]


@functools.cache
def _load(folder: Path) -> RulePack:
    return load_pack(folder, root=folder.parent)


def site(types: list[str], **kw: Any) -> Site:
    """A registered site with an owner and a user on record (no approver)."""
    data: dict[str, Any] = {
        "id": kw.pop("id", "S-001"),
        "name": "城东旅馆",
        "county": "平定县",
        "township": "冠山镇",
        "site_types": types,
        "parties": {
            "owner": {"unit": "张三", "contact": "13900000000"},
            "user": {"unit": "城东旅馆有限公司"},
        },
        **kw,
    }
    return Site.model_validate(data)


@pytest.mark.parametrize("folder", PACKS, ids=[p.name for p in PACKS])
def test_every_rule_case_runs_through_the_engine(folder: Path) -> None:
    """Every pass/fail case beside every rule gives the expected verdict through durable-rules,
    and the same verdicts as the plain reading."""
    pack = _load(folder)
    results = run_cases(pack, engine_fired)
    assert results, "a pack without cases"
    assert [r.describe() for r in results if not r.ok] == []
    assert [r.fired for r in results] == [r.fired for r in run_cases(pack, reference_fired)]


def test_findings_carry_their_explanation(mini_pack: RulePack) -> None:
    """A finding names its rule and triggering answers, level, consequences in the documents'
    wording, rectification, deadline, responsible parties from the record, and its basis."""
    s = site(["building"], attributes={"crowded": True})
    answers = {"T.LAND.01": "no", "T.HAZ.01": "yes", "T.USE.01": "hotel"}
    findings = evaluate(mini_pack, s, answers, ON)
    assert [f.rule_id for f in findings] == ["T.R.LAND", "T.R.STOP_USE", "T.R.HOTEL"]
    land, stop, hotel = findings
    assert land.level == "重大" and land.pack_id == "mini" and land.pack_version == "1.0.0"
    assert [(t.item_id, t.value, t.question.zh) for t in land.triggers] == [
        ("T.LAND.01", "no", "是否取得合法用地手续？")
    ]
    assert [(c.code, c.zh) for c in land.consequences] == [
        ("stop_construction", "责令停止建设"),
        ("legal_disposal", "依法查处/处置"),
    ]
    assert land.rectification.zh == "停止建设并依法处置"
    assert (land.deadline, land.deadline_rule) == (ON, "immediately")
    assert [(r.role, r.label, r.unit, r.contact) for r in land.responsible] == [
        ("approver", "审批单位", "", ""),
        ("owner", "产权人", "张三", "13900000000"),
    ]
    assert land.basis.source.quote == "对违法占用土地进行建设的，一律责令停止建设"
    assert not land.site_level
    assert [t.item_id for t in stop.triggers] == ["T.LAND.01", "T.HAZ.01"]
    assert stop.site_level
    assert (stop.deadline, stop.deadline_rule) == (dt.date(2020, 10, 31), "end of phase rectify")
    assert [r.unit for r in stop.responsible] == ["城东旅馆有限公司", "张三"]
    assert (hotel.deadline, hotel.deadline_rule) == (dt.date(2020, 10, 10), "15 calendar days")


def test_derived_fact_feeds_a_later_rule(mini_pack: RulePack) -> None:
    """A depth of 3 m derives 危大 (deep_pit); with no special plan that raises a finding that
    names the fact, due in 5 working days across the 2020 National Day holiday."""
    result = evaluate_full(mini_pack, site(["site"]), {"T.PIT.01": 4, "T.PIT.02": "no"}, ON)
    assert result.outcome.facts == {"deep_pit"}
    assert result.outcome.fired == ("T.R.PIT", "T.R.PLAN")
    (plan,) = result.findings
    assert plan.facts == ["deep_pit"]
    assert [t.item_id for t in plan.triggers] == ["T.PIT.02"]
    assert (plan.deadline, plan.deadline_rule) == (dt.date(2020, 10, 9), "5 working days")
    shallow = evaluate_full(mini_pack, site(["site"]), {"T.PIT.01": 2.5}, ON)
    assert shallow.findings == [] and shallow.outcome.facts == set()


def test_site_level_rule_needs_a_hazard_at_the_site(mini_pack: RulePack) -> None:
    """'Illegal building with any hazard here → stop use' needs the answers and a hazard finding
    from another rule; with a legal building and the same answer it stays silent."""
    fired = fired_rules(mini_pack, {"building"}, {"T.LAND.01": "no", "T.HAZ.01": "yes"}, {})
    assert fired.fired == ("T.R.LAND", "T.R.STOP_USE")
    quiet = fired_rules(mini_pack, {"building"}, {"T.LAND.01": "yes", "T.HAZ.01": "yes"}, {})
    assert quiet.fired == ()


def test_site_attribute_combines_with_an_answer(mini_pack: RulePack) -> None:
    """The hotel rule needs the site to be a crowded place and the use answer 'hotel'."""
    answers = {"T.USE.01": "hotel"}
    crowded = evaluate(mini_pack, site(["building"], attributes={"crowded": True}), answers, ON)
    assert [f.rule_id for f in crowded] == ["T.R.HOTEL"]
    assert evaluate(mini_pack, site(["building"], attributes={"crowded": False}), answers, ON) == []
    assert evaluate(mini_pack, site(["building"]), answers, ON) == []


def _graded_pack() -> RulePack:
    items = [item("G.DEPTH.01", {"type": "number", "unit": "m", "min": 0, "max": 50})]
    rules = [
        rule("G.R.DEEP", {"answer": "G.DEPTH.01", "ge": 3}, derive=["deep"], with_finding=False),
        rule("G.R.GENERAL", {"fact": "deep", "eq": True}, level="一般"),
        rule(
            "G.R.MAJOR",
            {"answer": "G.DEPTH.01", "ge": 5},
            supersedes=["G.R.GENERAL"],
            level="重大",
            deadline={"kind": "working_days", "days": 3},
        ),
    ]
    return make_pack(items, rules, facts=["deep"], pack_id="graded")


def test_a_major_finding_supersedes_its_general_variant() -> None:
    """危大 from a depth raises the 一般 finding; past the 重大 criterion only the 重大 one
    stands, and the explanation says which rule replaced which."""
    pack = _graded_pack()
    general = evaluate_full(pack, site(["a"]), {"G.DEPTH.01": 4}, ON)
    assert [f.rule_id for f in general.findings] == ["G.R.GENERAL"]
    major = evaluate_full(pack, site(["a"]), {"G.DEPTH.01": 6}, ON)
    assert [f.rule_id for f in major.findings] == ["G.R.MAJOR"]
    assert major.outcome.fired == ("G.R.DEEP", "G.R.GENERAL", "G.R.MAJOR")
    assert major.superseded == {"G.R.GENERAL": ["G.R.MAJOR"]}
    assert major.findings[0].deadline == dt.date(2020, 9, 29)


def test_same_input_same_findings_in_the_same_order(mini_pack: RulePack) -> None:
    """Evaluating the same site twice, with other sites in between, gives equal findings."""
    s = site(["building"], attributes={"crowded": True})
    answers = {"T.LAND.01": "no", "T.HAZ.01": "yes", "T.USE.01": "hotel"}
    first = evaluate(mini_pack, s, answers, ON)
    evaluate(mini_pack, site(["site"]), {"T.PIT.01": 9, "T.PIT.02": "no"}, ON)
    assert evaluate(mini_pack, s, answers, ON) == first
    reordered = dict(reversed(answers.items()))
    again = evaluate(mini_pack, s, reordered, ON)
    assert [f.model_dump(mode="json") for f in again] == [f.model_dump(mode="json") for f in first]


def test_nothing_leaks_from_one_site_to_the_next(mini_pack: RulePack) -> None:
    """A site full of hazards, then an all-compliant site: the second has no findings, no facts,
    and no session is left open after either."""
    bad = evaluate_full(mini_pack, site(["site"]), {"T.LAND.01": "no", "T.PIT.01": 9}, ON)
    assert bad.outcome.fired == ("T.R.LAND", "T.R.PIT")
    assert live_sessions() == 0
    clean = evaluate_full(mini_pack, site(["site"], id="S-002"), {"T.LAND.01": "yes"}, ON)
    assert clean.findings == [] and clean.outcome.facts == set()
    assert live_sessions() == 0


def test_applicable_items_follow_site_types_and_skip_logic(mini_pack: RulePack) -> None:
    """The items still to answer, in order: by site type; a depth of 3 m or more brings the
    special-plan question in; answered items drop out."""
    ids = [i.id for i in applicable_items(mini_pack, site(["building"]), {})]
    assert ids == ["T.LAND.01", "T.HAZ.01", "T.USE.01"]
    ids = [i.id for i in applicable_items(mini_pack, site(["site"]), {})]
    assert ids == ["T.LAND.01", "T.PIT.01"]
    ids = [i.id for i in applicable_items(mini_pack, site(["site"]), {"T.PIT.01": 3})]
    assert ids == ["T.LAND.01", "T.PIT.02"]
    both = site(["building", "site"])
    ids = [i.id for i in applicable_items(mini_pack, both, {"T.LAND.01": "yes"})]
    assert ids == ["T.HAZ.01", "T.PIT.01", "T.USE.01"]


@pytest.mark.parametrize(
    ("types", "answers", "item_id", "words"),
    [
        (["site"], {"T.PIT.01": 60}, "T.PIT.01", "outside the range 0–50 m"),
        (["site"], {"T.PIT.01": "0.9"}, "T.PIT.01", "must be a number"),
        (["building"], {"T.USE.01": "castle"}, "T.USE.01", "not an offered choice"),
        (["building"], {"T.HAZ.01": "na"}, "T.HAZ.01", "one of yes, no"),
        (["building"], {"T.PIT.01": 4}, "T.PIT.01", "applies to site types site"),
        (["site"], {"T.PIT.01": 1, "T.PIT.02": "no"}, "T.PIT.02", "skip logic excludes it"),
        (["site"], {"T.NOPE.01": "yes"}, "T.NOPE.01", "no such item"),
    ],
)
def test_unanswerable_and_contradictory_answers_name_the_item(
    mini_pack: RulePack, types: list[str], answers: dict[str, Any], item_id: str, words: str
) -> None:
    """Both the skip-logic convenience and evaluate refuse the answers, naming the item."""
    for call in (
        lambda: applicable_items(mini_pack, site(types), answers),
        lambda: evaluate(mini_pack, site(types), answers, ON),
    ):
        with pytest.raises(AnswerError) as info:
            call()
        assert info.value.item_id == item_id
        assert words in info.value.message and item_id in info.value.message


def test_site_attributes_are_typed_before_the_engine(mini_pack: RulePack) -> None:
    """A string where the pack declares a boolean is refused naming the attribute; attributes
    of other packs are ignored; a site of none of the pack's types is refused."""
    with pytest.raises(InputError, match="attribute 'crowded'"):
        evaluate(mini_pack, site(["building"], attributes={"crowded": "yes"}), {}, ON)
    assert evaluate(mini_pack, site(["building"], attributes={"floors": "3"}), {}, ON) == []
    with pytest.raises(InputError, match="pack mini inspects only building, site"):
        evaluate(mini_pack, site(["river_section"]), {}, ON)


def test_untyped_values_never_reach_durable_rules(mini_pack: RulePack) -> None:
    """The engine itself refuses a string for a number (durable-rules would take "0.9" < 1.0,
    D12), a choice not offered, and a site attribute of the wrong type."""
    with pytest.raises(EngineError, match="D12"):
        fired_rules(mini_pack, {"site"}, {"T.PIT.01": "0.9"}, {})
    with pytest.raises(EngineError, match="D12"):
        fired_rules(mini_pack, {"building"}, {"T.USE.01": "castle"}, {})
    with pytest.raises(EngineError, match="D12"):
        fired_rules(mini_pack, {"building"}, {}, {"crowded": 1.0})
    assert live_sessions() == 0


def test_rules_are_compiled_into_a_versioned_ruleset(mini_pack: RulePack) -> None:
    """Each rule is a durable-rules rule gated on its context fact; a catch-all rule handles
    every fact; the ruleset name carries the pack id, version, content hash and a serial."""
    compiled = compile_pack(mini_pack)
    assert compiled.ruleset.startswith("ie_mini_1_0_0_" + compiled.digest[:12] + "_")
    assert compiled.definition["catch_all"] == {"all": [{"m": {"$ex": {"k": 1}}}]}
    assert compiled.definition["r0"] == {"all": [{"m": {"$and": [{"k": 0}, {"a0": "no"}]}}]}
    assert compiled.definition["r3"] == {
        "all": [{"m": {"$and": [{"k": 2}, {"a0": "no"}, {"a1": "yes"}, {"hz": True}]}}]
    }
    assert compiled.asserts == 3
    assert compile_pack(mini_pack) is compiled
