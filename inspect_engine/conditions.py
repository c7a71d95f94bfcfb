"""Conditions: the small language rules and skip logic are written in, and its plain reading.

A condition is exactly one of:

* ``all: [...]`` / ``any: [...]`` / ``not: {...}`` - combinations;
* ``answer: ITEM`` with one test - over an item's answer;
* ``site: NAME`` with one test - over a site attribute, or ``site: types`` with ``contains``;
* ``fact: NAME`` with one test - over a fact derived by an earlier rule (``eq: true``);
* ``any_hazard: true`` - this site has a hazard finding from any rule that does not itself
  (transitively) depend on ``any_hazard``.

Tests: ``eq``, ``ne``, ``lt``, ``le``, ``gt``, ``ge``, ``in`` (one of a list), ``contains`` (a
multiple-choice answer includes an option; a site's types include a type), ``answered`` (true:
any answer, ``na`` included; false: none).

Semantics, shared by every evaluator (the durable-rules engine is checked against
:func:`holds`): a test on something that has no value (an unanswered item, an unset fact, a
missing site attribute) is false, except ``answered: false``; a fact not derived is false;
``not`` negates; ``na`` is a value
(``eq: na`` holds) but every ordering test on it is false.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

Scalar = bool | int | float | str
AnswerValue = bool | int | float | str | list[str]

_TESTS = ("eq", "ne", "lt", "le", "gt", "ge", "in_", "contains", "answered")
_SUBJECTS = ("answer", "site", "fact")
_COMBINATORS = ("all_", "any_", "not_", "any_hazard")


class Condition(BaseModel):
    """One node of a condition (see the module docstring for the forms and their meaning)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    all_: Annotated[list[Condition] | None, Field(alias="all", min_length=1)] = None
    any_: Annotated[list[Condition] | None, Field(alias="any", min_length=1)] = None
    not_: Annotated[Condition | None, Field(alias="not")] = None
    any_hazard: bool | None = None

    answer: str | None = None
    """An item id."""
    site: str | None = None
    """A site attribute id, or ``types``."""
    fact: str | None = None
    """A derived fact id."""

    eq: Scalar | None = None
    ne: Scalar | None = None
    lt: float | None = None
    le: float | None = None
    gt: float | None = None
    ge: float | None = None
    in_: Annotated[list[Scalar] | None, Field(alias="in", min_length=1)] = None
    contains: str | None = None
    answered: bool | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [n for n in _COMBINATORS + _SUBJECTS if getattr(self, n) is not None]
        tests = [n for n in _TESTS if getattr(self, n) is not None]
        if len(forms) != 1:
            names = [n.rstrip("_") for n in forms] or ["nothing"]
            raise ValueError(
                "a condition needs exactly one of all, any, not, any_hazard, answer, site, fact; "
                f"got {', '.join(names)}"
            )
        form = forms[0]
        if form in _SUBJECTS:
            if len(tests) != 1:
                got = ", ".join(t.rstrip("_") for t in tests) or "none"
                raise ValueError(
                    f"'{form}' needs exactly one test (eq, ne, lt, le, gt, ge, in, contains, "
                    f"answered); got {got}"
                )
            if form == "site" and self.site == "types" and tests != ["contains"]:
                raise ValueError("'site: types' is tested with 'contains: <site type>'")
            if form == "answer" and tests == ["answered"] and self.answered is None:
                raise ValueError("'answered' must be true or false")
        elif tests:
            raise ValueError(f"'{form.rstrip('_')}' takes no test; put tests on answer/site/fact")
        if self.any_hazard is False:
            raise ValueError("'any_hazard' can only be true (write 'not: {any_hazard: true}')")
        return self

    @property
    def test(self) -> tuple[str, Any]:
        """The (operator, operand) of a leaf; operator names drop the trailing underscore."""
        for name in _TESTS:
            value = getattr(self, name)
            if value is not None:
                return name.rstrip("_"), value
        raise ValueError("not a leaf condition")

    def walk(self) -> Iterator[Condition]:
        """This node and every node below it, depth first."""
        yield self
        for child in self.all_ or self.any_ or ([self.not_] if self.not_ else []):
            yield from child.walk()

    def items(self) -> set[str]:
        """Item ids this condition reads."""
        return {n.answer for n in self.walk() if n.answer is not None}

    def facts(self) -> set[str]:
        """Derived facts this condition reads."""
        return {n.fact for n in self.walk() if n.fact is not None}

    def uses_any_hazard(self) -> bool:
        """Whether the condition reads the site-level 'any hazard' flag."""
        return any(n.any_hazard for n in self.walk())


@dataclass(frozen=True)
class Context:
    """What a condition is evaluated over: typed answers, site attributes, derived facts."""

    answers: Mapping[str, AnswerValue]
    site_types: frozenset[str]
    site: Mapping[str, Scalar] = field(default_factory=dict)
    facts: frozenset[str] = frozenset()
    any_hazard: bool = False


def _compare(op: str, value: Any, operand: Any) -> bool:
    if op == "answered":
        raise AssertionError("handled by caller")
    if value is None:
        return False
    if op == "contains":
        return isinstance(value, list | frozenset | set) and operand in value
    if isinstance(value, list):
        return False
    if op == "eq":
        return _same(value, operand)
    if op == "ne":
        return not _same(value, operand)
    if op == "in":
        return any(_same(value, o) for o in operand)
    # ordering tests: numbers only, never strings or booleans (no "0.9" < 1.0 coercion)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    number = float(value)
    bound = float(operand)
    if op == "lt":
        return number < bound
    if op == "le":
        return number <= bound
    if op == "gt":
        return number > bound
    if op == "ge":
        return number >= bound
    raise ValueError(f"unknown test {op!r}")


def _same(value: Any, operand: Any) -> bool:
    """Equality without Python's bool/int/str confusions (True != 1, "1" != 1)."""
    if isinstance(value, bool) or isinstance(operand, bool):
        return isinstance(value, bool) and isinstance(operand, bool) and value is operand
    if isinstance(value, int | float) and isinstance(operand, int | float):
        return float(value) == float(operand)
    return type(value) is type(operand) and bool(value == operand)


def holds(cond: Condition, ctx: Context) -> bool:
    """The plain-Python reading of a condition: the reference every evaluator must agree with."""
    if cond.all_ is not None:
        return all(holds(c, ctx) for c in cond.all_)
    if cond.any_ is not None:
        return any(holds(c, ctx) for c in cond.any_)
    if cond.not_ is not None:
        return not holds(cond.not_, ctx)
    if cond.any_hazard:
        return ctx.any_hazard
    op, operand = cond.test
    value: Any
    if cond.answer is not None:
        present = cond.answer in ctx.answers
        if op == "answered":
            return present is operand
        value = ctx.answers.get(cond.answer)
    elif cond.site is not None:
        if cond.site == "types":
            return operand in ctx.site_types
        if op == "answered":
            return (cond.site in ctx.site) is operand
        value = ctx.site.get(cond.site)
    else:
        assert cond.fact is not None
        if op == "answered":
            return (cond.fact in ctx.facts) is operand
        value = cond.fact in ctx.facts  # facts are boolean: not derived means false
    return _compare(op, value, operand)
