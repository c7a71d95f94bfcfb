"""The plain-Python reading of a pack's rules: which rules fire for a site and its answers.

This is the reference the durable-rules engine is checked against (rule cases, property tests and
the benchmark run both). It is deliberately simple: rules are put in a stratified order once per
pack, then each is tried exactly once.

Order: a rule that reads a fact comes after every rule deriving it; a rule that reads
``any_hazard`` (directly, or through facts derived by such rules) comes after every hazard-raising
rule that does not, and sees whether any of those fired. Ties keep document order. The pack
loader has already refused cycles among facts, so the order always exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from inspect_engine.conditions import AnswerValue, Context, Scalar, holds
from inspect_engine.rulepack import Rule, RulePack


@dataclass(frozen=True)
class Outcome:
    """What a pack's rules say about one site."""

    fired: tuple[str, ...]
    """Ids of every rule whose condition held, in document order."""
    facts: frozenset[str]
    """Facts derived."""
    findings: tuple[str, ...]
    """Ids of rules whose findings stand (fired, with a finding, not superseded), document order."""


def tainted_rules(pack: RulePack) -> frozenset[str]:
    """Rules that depend on ``any_hazard``, directly or through the facts they read."""
    producers: dict[str, list[Rule]] = {}
    for rule in pack.rules:
        for fact in rule.derive:
            producers.setdefault(fact, []).append(rule)
    tainted: set[str] = set()
    changed = True
    while changed:
        changed = False
        for rule in pack.rules:
            if rule.id in tainted:
                continue
            reads = rule.when.facts()
            if rule.when.uses_any_hazard() or any(
                p.id in tainted for f in reads for p in producers.get(f, [])
            ):
                tainted.add(rule.id)
                changed = True
    return frozenset(tainted)


def rule_order(pack: RulePack) -> list[Rule]:
    """The rules in the stratified order described in the module docstring."""
    return list(_order(pack))


_CACHE: dict[int, tuple[RulePack, tuple[Rule, ...], frozenset[str]]] = {}
_CACHE_SIZE = 16


def _plan(pack: RulePack) -> tuple[tuple[Rule, ...], frozenset[str]]:
    """(stratified order, tainted rules) of this pack object, computed once.

    Keyed by object identity (the entry holds the pack, so the id cannot be reused while cached):
    a pack edited and reloaded is a new object and gets a new plan, never a stale one.
    """
    hit = _CACHE.get(id(pack))
    if hit is not None and hit[0] is pack:
        return hit[1], hit[2]
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    order, tainted = _compute_order(pack), tainted_rules(pack)
    _CACHE[id(pack)] = (pack, order, tainted)
    return order, tainted


def _order(pack: RulePack) -> tuple[Rule, ...]:
    return _plan(pack)[0]


def _compute_order(pack: RulePack) -> tuple[Rule, ...]:
    rules = pack.rules
    index = {r.id: i for i, r in enumerate(rules)}
    tainted = tainted_rules(pack)
    deps: dict[str, set[str]] = {r.id: set() for r in rules}
    for rule in rules:
        for other in rules:
            if other.id == rule.id:
                continue
            if set(other.derive) & rule.when.facts():
                deps[rule.id].add(other.id)
            if (
                rule.id in tainted
                and other.id not in tainted
                and other.finding is not None
                and other.finding.hazard
            ):
                deps[rule.id].add(other.id)
    ordered: list[Rule] = []
    done: set[str] = set()
    while len(ordered) < len(rules):
        ready = [r for r in rules if r.id not in done and deps[r.id] <= done]
        if not ready:
            raise ValueError(f"pack {pack.id}: rules depend on each other in a cycle")
        nxt = min(ready, key=lambda r: index[r.id])
        ordered.append(nxt)
        done.add(nxt.id)
    return tuple(ordered)


def reference_outcome(
    pack: RulePack,
    site_types: frozenset[str] | set[str] | list[str],
    answers: Mapping[str, AnswerValue],
    site: Mapping[str, Scalar] | None = None,
) -> Outcome:
    """Which rules fire for checked answers (see :func:`inspect_engine.answers.check_answers`)."""
    order, tainted = _plan(pack)
    facts: set[str] = set()
    fired: set[str] = set()
    hazard = False
    types = frozenset(site_types)
    attrs = dict(site or {})
    for rule in order:
        ctx = Context(answers, types, attrs, frozenset(facts), hazard)
        if holds(rule.when, ctx):
            fired.add(rule.id)
            facts.update(rule.derive)
            if rule.id not in tainted and rule.finding is not None and rule.finding.hazard:
                hazard = True
    superseded = {s for rule in pack.rules if rule.id in fired for s in rule.supersedes}
    in_order = tuple(r.id for r in pack.rules if r.id in fired)
    findings = tuple(
        r.id
        for r in pack.rules
        if r.id in fired and r.finding is not None and r.id not in superseded
    )
    return Outcome(fired=in_order, facts=frozenset(facts), findings=findings)
