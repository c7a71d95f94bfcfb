"""Running the pass and fail cases that sit beside every rule.

A case gives a site and its answers and says whether the rule fires (``fail``: the site fails the
rule) or not (``pass``). :func:`run_cases` runs every case of a pack through an evaluator and
reports each mismatch; one test runs it over every installed pack, through the reference reading
and through the durable-rules engine, so a rule without cases, or with a wrong one, fails CI.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from inspect_engine.answers import check_answers
from inspect_engine.conditions import AnswerValue, Scalar
from inspect_engine.reference_eval import reference_outcome
from inspect_engine.rulepack import RulePack

Evaluator = Callable[
    [RulePack, frozenset[str], Mapping[str, AnswerValue], Mapping[str, Scalar]],
    frozenset[str],
]
"""(pack, site types, checked answers, site attributes) -> ids of the rules that fired."""


def reference_fired(
    pack: RulePack,
    site_types: frozenset[str],
    answers: Mapping[str, AnswerValue],
    site: Mapping[str, Scalar],
) -> frozenset[str]:
    """:data:`Evaluator` over the plain-Python reading."""
    return frozenset(reference_outcome(pack, site_types, answers, site).fired)


@dataclass(frozen=True)
class CaseResult:
    """One case run: which rule and case, what was expected, what happened."""

    rule_id: str
    case: str
    expected: str
    fired: bool

    @property
    def ok(self) -> bool:
        """Whether the evaluator agreed with the case."""
        return (self.expected == "fail") == self.fired

    def describe(self) -> str:
        """A line for a failure report."""
        got = "fired" if self.fired else "did not fire"
        return f"{self.rule_id} / {self.case}: expected {self.expected}, but the rule {got}"


def run_cases(pack: RulePack, evaluate: Evaluator = reference_fired) -> list[CaseResult]:
    """Every case of every rule in ``pack``, in document order."""
    results = []
    for rule in pack.rules:
        for case in rule.cases:
            types = frozenset(case.site_types)
            answers = check_answers(pack, types, case.answers, case.site)
            fired = evaluate(pack, types, answers, dict(case.site))
            results.append(CaseResult(rule.id, case.name, case.outcome, rule.id in fired))
    return results
