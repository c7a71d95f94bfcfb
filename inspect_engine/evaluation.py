"""Evaluating a site: checked answers in, explained findings out.

:func:`evaluate` is the public entry point: it checks the site and the answers against the pack
(every error names the item or attribute), asks the durable-rules engine
(:mod:`inspect_engine.engine`) which rules fire, and turns each standing finding into a
:class:`~inspect_engine.findings.Finding`: the answers that raised it, its consequences in the
documents' wording, the rectification requirement, the deadline date
(:mod:`inspect_engine.deadlines`), the responsible parties from the site's record, and the basis.

Findings come in document order; a finding superseded by another rule that fired is dropped.
The same pack, site, answers and date give the same findings in the same order, every time.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from inspect_engine import answers as _answers
from inspect_engine.conditions import AnswerValue, Scalar
from inspect_engine.deadlines import deadline, describe
from inspect_engine.engine import fired_rules
from inspect_engine.errors import InputError
from inspect_engine.findings import ConsequenceOut, Finding, Responsible, Trigger
from inspect_engine.reference_eval import Outcome
from inspect_engine.rulepack import Item, Party, Rule, RulePack
from inspect_engine.site import PARTY_LABELS, Site


@dataclass(frozen=True)
class Evaluation:
    """Everything one evaluation says about a site (what ``inspect-engine evaluate`` prints)."""

    findings: list[Finding]
    outcome: Outcome
    """Rules fired, facts derived, findings standing (rule ids)."""
    answers: dict[str, AnswerValue]
    """The answers as checked and typed."""
    superseded: dict[str, list[str]]
    """Rules that fired but whose findings were replaced, with the rules that replaced them."""
    still_to_answer: list[Item]
    """Items that apply to the site and have no answer yet, in document order."""


def site_attributes(pack: RulePack, site: Site) -> dict[str, Scalar]:
    """The site's attributes that ``pack`` declares, typed; attributes of other packs are left
    out. A value of the wrong type is an :class:`InputError` naming the attribute (a string
    "0.9" is never taken for a number)."""
    declared = {a.id: a for a in pack.manifest.site_attributes}
    typed: dict[str, Scalar] = {}
    for name, value in site.attributes.items():
        attr = declared.get(name)
        if attr is None:
            continue
        if attr.type == "bool":
            ok = isinstance(value, bool)
        elif attr.type == "number":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            ok = ok and math.isfinite(float(value))
        else:
            ok = isinstance(value, str)
        if not ok:
            want = {"bool": "true or false", "number": "a number", "text": "text"}[attr.type]
            raise InputError(
                f"site {site.id}: attribute {name!r} ({attr.label.zh}) must be {want}; "
                f"got {value!r}"
            )
        typed[name] = float(value) if attr.type == "number" else value
    return typed


def _site_types(pack: RulePack, site: Site) -> frozenset[str]:
    types = frozenset(site.site_types)
    declared = {t.id for t in pack.manifest.site_types}
    if not types & declared:
        raise InputError(
            f"site {site.id} has site types {', '.join(site.site_types)}; pack {pack.id} "
            f"inspects only {', '.join(sorted(declared))}"
        )
    return types


def check(
    pack: RulePack, site: Site, answers: Mapping[str, Any]
) -> tuple[frozenset[str], dict[str, Scalar], dict[str, AnswerValue]]:
    """Site types, typed site attributes and typed answers; :class:`InputError` naming the item
    or attribute for an unknown item, a value out of range, a choice not offered, or an answer
    to an item that does not apply here."""
    types = _site_types(pack, site)
    attrs = site_attributes(pack, site)
    typed = _answers.check_answers(pack, types, answers, attrs)
    return types, attrs, typed


def applicable_items(pack: RulePack, site: Site, answers: Mapping[str, Any]) -> list[Item]:
    """The items the inspector must still answer at ``site``, in order: those whose site types
    match and whose skip logic holds over the answers so far, less those answered.

    The answers are checked first (:func:`check`), so an unanswerable or contradictory answer is
    an error naming the item, not a silently shorter list.
    """
    types, attrs, typed = check(pack, site, answers)
    return _answers.still_to_answer(pack, types, typed, attrs)


def evaluate(pack: RulePack, site: Site, answers: Mapping[str, Any], on: dt.date) -> list[Finding]:
    """The findings for ``site`` given its raw ``answers`` on the inspection date ``on``."""
    return evaluate_full(pack, site, answers, on).findings


def evaluate_full(
    pack: RulePack, site: Site, answers: Mapping[str, Any], on: dt.date
) -> Evaluation:
    """:func:`evaluate` with the rest of the explanation: rules fired, facts derived,
    superseded findings, items still to answer."""
    types, attrs, typed = check(pack, site, answers)
    outcome = fired_rules(pack, types, typed, attrs)
    findings = [
        build_finding(pack, pack.rule(rule_id), site, typed, outcome.facts, on)
        for rule_id in outcome.findings
    ]
    fired = set(outcome.fired)
    superseded: dict[str, list[str]] = {}
    for rule in pack.rules:
        if rule.id in fired:
            for other in rule.supersedes:
                if other in fired:
                    superseded.setdefault(other, []).append(rule.id)
    return Evaluation(
        findings=findings,
        outcome=outcome,
        answers=typed,
        superseded={r: superseded[r] for r in outcome.fired if r in superseded},
        still_to_answer=_answers.still_to_answer(pack, types, typed, attrs),
    )


def build_finding(
    pack: RulePack,
    rule: Rule,
    site: Site,
    answers: Mapping[str, AnswerValue],
    facts: frozenset[str],
    on: dt.date,
) -> Finding:
    """The finding ``rule`` raises at ``site`` (the rule fired and has a finding)."""
    spec = rule.finding
    if spec is None:
        raise ValueError(f"rule {rule.id} derives facts only; it raises no finding")
    read = rule.when.items()
    triggers = [
        Trigger(item_id=item.id, question=item.question, value=answers[item.id])
        for item in pack.items
        if item.id in read and item.id in answers
    ]
    read_facts = rule.when.facts()
    declared = [f.id for f in pack.manifest.facts]
    return Finding(
        rule_id=rule.id,
        pack_id=pack.id,
        pack_version=pack.version,
        title=spec.title,
        level=spec.level,
        hazard=spec.hazard,
        consequences=[
            ConsequenceOut(code=code, zh=pack.consequences[code].zh, en=pack.consequences[code].en)
            for code in spec.consequences
        ],
        rectification=spec.rectification,
        deadline=deadline(spec.deadline, on, pack),
        deadline_rule=describe(spec.deadline),
        responsible=[_responsible(site, role) for role in spec.responsible],
        basis=rule.basis,
        triggers=triggers,
        facts=[f for f in declared if f in read_facts and f in facts],
        site_level=rule.when.uses_any_hazard(),
    )


def _responsible(site: Site, role: Party) -> Responsible:
    record = getattr(site.parties, role)
    return Responsible(
        role=role,
        label=PARTY_LABELS[role],
        unit=record.unit if record is not None else "",
        contact=record.contact if record is not None else "",
    )
