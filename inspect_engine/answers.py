"""Answers: checking one against its item, and which items a site must still answer.

Everything that reaches an evaluator has passed through here, typed: ``yes``/``no``/``na`` for
yes/no items, a float within the item's range for numbers, an offered option for choices, a sorted
list of offered options for multiple choice, a bounded string for text. A string ``"0.9"`` never
reaches a numeric test (durable-rules would match it; libraries.md D12).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from inspect_engine.conditions import AnswerValue, Context, Scalar, holds
from inspect_engine.errors import InputError
from inspect_engine.rulepack import (
    ChoiceAnswer,
    Item,
    MultiChoiceAnswer,
    NumberAnswer,
    RulePack,
    TextAnswer,
    YesNoAnswer,
)


class AnswerError(InputError):
    """An answer that cannot be taken; ``item_id`` names the item."""

    def __init__(self, item_id: str, message: str) -> None:
        super().__init__(f"{item_id}: {message}")
        self.item_id = item_id


def check_answer(item: Item, raw: Any) -> AnswerValue:
    """The typed value of ``raw`` as an answer to ``item``; :class:`AnswerError` if it cannot be."""
    spec = item.answer
    if isinstance(spec, YesNoAnswer):
        allowed = ("yes", "no", "na") if spec.allow_na else ("yes", "no")
        if isinstance(raw, str) and raw in allowed:
            return raw
        raise AnswerError(item.id, f"answer must be one of {', '.join(allowed)}; got {raw!r}")
    if isinstance(spec, NumberAnswer):
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise AnswerError(item.id, f"answer must be a number in {spec.unit}; got {raw!r}")
        value = float(raw)
        if not math.isfinite(value):
            raise AnswerError(item.id, f"answer must be a finite number; got {raw!r}")
        if spec.integer and not value.is_integer():
            raise AnswerError(item.id, f"answer must be a whole number; got {raw!r}")
        if not spec.min <= value <= spec.max:
            raise AnswerError(
                item.id,
                f"{_num(value)} {spec.unit} is outside the range "
                f"{_num(spec.min)}–{_num(spec.max)} {spec.unit}",
            )
        return value
    if isinstance(spec, ChoiceAnswer):
        offered = [o.value for o in spec.options]
        if isinstance(raw, str) and raw in offered:
            return raw
        raise AnswerError(item.id, f"{raw!r} is not an offered choice ({', '.join(offered)})")
    if isinstance(spec, MultiChoiceAnswer):
        offered = [o.value for o in spec.options]
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise AnswerError(item.id, f"answer must be a list of choices; got {raw!r}")
        unknown = [v for v in raw if v not in offered]
        if unknown:
            raise AnswerError(
                item.id, f"{', '.join(map(repr, unknown))} not offered ({', '.join(offered)})"
            )
        if len(set(raw)) != len(raw):
            raise AnswerError(item.id, "a choice is listed twice")
        return sorted(raw, key=offered.index)
    assert isinstance(spec, TextAnswer)
    if not isinstance(raw, str) or not raw.strip():
        raise AnswerError(item.id, f"answer must be non-empty text; got {raw!r}")
    if len(raw) > spec.max_length:
        raise AnswerError(item.id, f"text is {len(raw)} characters; at most {spec.max_length}")
    return raw


def _num(value: float) -> str:
    return f"{value:g}"


def applicable_items(
    pack: RulePack,
    site_types: frozenset[str] | set[str] | list[str],
    answers: Mapping[str, AnswerValue],
    site: Mapping[str, Scalar] | None = None,
) -> list[Item]:
    """Items that apply to this site now, in document order: site type matches, skip logic holds.

    Skip logic is read over the answers given so far (already checked), so answering an item can
    make later items appear or disappear.
    """
    types = frozenset(site_types)
    ctx = Context(answers=answers, site_types=types, site=dict(site or {}))
    return [
        item
        for item in pack.items
        if types.intersection(item.applies_to)
        and (item.relevant is None or holds(item.relevant, ctx))
    ]


def still_to_answer(
    pack: RulePack,
    site_types: frozenset[str] | set[str] | list[str],
    answers: Mapping[str, AnswerValue],
    site: Mapping[str, Scalar] | None = None,
) -> list[Item]:
    """Applicable items without an answer yet, in order: what the inspector must still answer."""
    return [i for i in applicable_items(pack, site_types, answers, site) if i.id not in answers]


def check_answers(
    pack: RulePack,
    site_types: frozenset[str] | set[str] | list[str],
    raw: Mapping[str, Any],
    site: Mapping[str, Scalar] | None = None,
) -> dict[str, AnswerValue]:
    """Type every answer and refuse a set that contradicts itself.

    Refused, naming the item: an unknown item, a value the item cannot take, and an answer to an
    item that does not apply to this site or whose skip logic excludes it given the other answers.
    """
    known = {item.id: item for item in pack.items}
    typed: dict[str, AnswerValue] = {}
    for item_id, value in raw.items():
        item = known.get(item_id)
        if item is None:
            raise AnswerError(item_id, f"no such item in pack {pack.id} {pack.version}")
        typed[item_id] = check_answer(item, value)
    applicable = {i.id for i in applicable_items(pack, site_types, typed, site)}
    for item_id in typed:
        if item_id not in applicable:
            item = known[item_id]
            if not frozenset(site_types).intersection(item.applies_to):
                why = f"it applies to site types {', '.join(item.applies_to)}"
            else:
                why = "its skip logic excludes it given the other answers"
            raise AnswerError(item_id, f"answered, but the item does not apply here: {why}")
    return typed
