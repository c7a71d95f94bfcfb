"""The condition language's plain reading, and answer checking, on the edge cases that matter."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from inspect_engine.answers import AnswerError, check_answers, still_to_answer
from inspect_engine.conditions import Condition, Context, holds
from inspect_engine.reference_eval import reference_outcome
from inspect_engine.rulepack import RulePack


def _c(data: dict[str, object]) -> Condition:
    return Condition.model_validate(data)


def _ctx(**answers: object) -> Context:
    return Context(answers=answers, site_types=frozenset({"building"}))  # type: ignore[arg-type]


def test_missing_answer_fails_every_test_but_answered_false() -> None:
    """An unanswered item satisfies no comparison; 'not' and 'answered: false' see it missing."""
    ctx = _ctx()
    assert not holds(_c({"answer": "A.B", "eq": "no"}), ctx)
    assert not holds(_c({"answer": "A.B", "ne": "no"}), ctx)
    assert holds(_c({"not": {"answer": "A.B", "eq": "no"}}), ctx)
    assert holds(_c({"answer": "A.B", "answered": False}), ctx)


def test_no_string_number_coercion() -> None:
    """A string '0.9' never matches a numeric test (durable-rules would: libraries.md D12)."""
    assert not holds(_c({"answer": "A.B", "lt": 1.0}), _ctx(**{"A.B": "0.9"}))
    assert holds(_c({"answer": "A.B", "lt": 1.0}), _ctx(**{"A.B": 0.9}))
    assert not holds(_c({"answer": "A.B", "eq": 1}), _ctx(**{"A.B": True}))


def test_na_is_a_value_but_not_a_number() -> None:
    """'na' equals 'na' and fails ordering tests."""
    ctx = _ctx(**{"A.B": "na"})
    assert holds(_c({"answer": "A.B", "eq": "na"}), ctx)
    assert not holds(_c({"answer": "A.B", "ge": 0}), ctx)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"answer": "A.B"}, "exactly one test"),
        ({"answer": "A.B", "eq": 1, "ne": 2}, "exactly one test"),
        ({"all": [{"answer": "A.B", "eq": 1}], "eq": 1}, "takes no test"),
        ({}, "exactly one of"),
        ({"site": "types", "eq": "x"}, "contains"),
        ({"any_hazard": False}, "can only be true"),
    ],
)
def test_malformed_conditions_are_refused(data: dict[str, object], words: str) -> None:
    """A condition with no form, two forms or a misplaced test is refused with a reason."""
    with pytest.raises(ValidationError) as info:
        Condition.model_validate(data)
    assert words in str(info.value)


def test_skip_logic_follows_answers(mini_pack: RulePack) -> None:
    """T.PIT.02 (special plan) is asked only once the depth reaches 3 m."""
    shallow = check_answers(mini_pack, {"site"}, {"T.PIT.01": 2.0})
    assert [i.id for i in still_to_answer(mini_pack, {"site"}, shallow)] == ["T.LAND.01"]
    deep = check_answers(mini_pack, {"site"}, {"T.PIT.01": 3.0})
    assert [i.id for i in still_to_answer(mini_pack, {"site"}, deep)] == ["T.LAND.01", "T.PIT.02"]


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        ({"T.PIT.01": 51}, "T.PIT.01: 51 m is outside the range 0–50 m"),
        ({"T.PIT.01": "3"}, "T.PIT.01: answer must be a number"),
        ({"T.LAND.01": "maybe"}, "T.LAND.01: answer must be one of yes, no, na"),
        ({"T.HAZ.01": "yes"}, "T.HAZ.01: answered, but the item does not apply here"),
        ({"T.PIT.01": 1, "T.PIT.02": "no"}, "T.PIT.02: answered, but the item does not apply"),
        ({"T.NOPE.01": "yes"}, "T.NOPE.01: no such item"),
    ],
)
def test_bad_answers_name_the_item(
    mini_pack: RulePack, answers: dict[str, object], words: str
) -> None:
    """Out of range, wrong type, not offered, not applicable: each error names the item."""
    with pytest.raises(AnswerError) as info:
        check_answers(mini_pack, {"site"}, answers)
    assert words in str(info.value)


def test_choice_not_offered(mini_pack: RulePack) -> None:
    """A choice outside the options is refused, listing the offered ones."""
    with pytest.raises(AnswerError, match="'castle' is not an offered choice"):
        check_answers(mini_pack, {"building"}, {"T.USE.01": "castle"})


def test_any_hazard_and_derived_facts(mini_pack: RulePack) -> None:
    """Stop-use needs the illegal building *and* a hazard finding from another rule."""
    answers = check_answers(mini_pack, {"building"}, {"T.LAND.01": "no", "T.HAZ.01": "yes"})
    outcome = reference_outcome(mini_pack, {"building"}, answers)
    assert outcome.findings == ("T.R.LAND", "T.R.STOP_USE")
    site = check_answers(mini_pack, {"site"}, {"T.PIT.01": 5.0, "T.PIT.02": "no"})
    outcome = reference_outcome(mini_pack, {"site"}, site)
    assert outcome.facts == frozenset({"deep_pit"})
    assert outcome.findings == ("T.R.PLAN",)
