"""Test support for the engine tests: synthetic packs, and hypothesis strategies that draw valid
inputs (and whole packs) so durable-rules can be held to the plain-Python reading."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from hypothesis import strategies as st

from inspect_engine.answers import AnswerError, check_answers
from inspect_engine.conditions import AnswerValue, Condition, Scalar
from inspect_engine.packs import load_catalog
from inspect_engine.rulepack import (
    ChoiceAnswer,
    MultiChoiceAnswer,
    NumberAnswer,
    RulePack,
    TextAnswer,
    YesNoAnswer,
)
from tests.conftest import GOOD_PACKS

SITE_TYPES = ["a", "b", "c"]
BASIS = {"source": {"section": "一"}}
_CASES = [
    {"name": "pass", "outcome": "pass", "site_types": ["a"]},
    {"name": "fail", "outcome": "fail", "site_types": ["a"]},
]


def finding(
    level: str = "一般",
    hazard: bool = True,
    deadline: dict[str, Any] | None = None,
    responsible: list[str] | None = None,
) -> dict[str, Any]:
    """A rule's ``finding`` block with defaults."""
    return {
        "title": {"zh": "问题", "en": "Problem"},
        "level": level,
        "hazard": hazard,
        "consequences": ["rectify"],
        "rectification": {"zh": "整改", "en": "Rectify"},
        "deadline": deadline or {"kind": "immediately"},
        "responsible": responsible or ["owner"],
    }


def rule(
    rule_id: str,
    when: dict[str, Any],
    *,
    derive: list[str] | None = None,
    supersedes: list[str] | None = None,
    with_finding: bool = True,
    **finding_kw: Any,
) -> dict[str, Any]:
    """A rule dict (the cases are placeholders: synthetic packs are not case-checked)."""
    out: dict[str, Any] = {
        "id": rule_id,
        "when": when,
        "derive": derive or [],
        "supersedes": supersedes or [],
        "basis": BASIS,
        "cases": _CASES,
    }
    if with_finding:
        out["finding"] = finding(**finding_kw)
    return out


def item(item_id: str, answer: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An item dict applying to every synthetic site type unless ``applies_to`` is given."""
    return {
        "id": item_id,
        "question": {"zh": f"问题{item_id}", "en": f"Question {item_id}"},
        "answer": answer,
        "applies_to": extra.pop("applies_to", SITE_TYPES),
        "basis": BASIS,
        **extra,
    }


def make_pack(
    items: list[dict[str, Any]],
    rules: list[dict[str, Any]],
    *,
    facts: list[str] | None = None,
    site_attributes: list[tuple[str, str]] | None = None,
    pack_id: str = "synthetic",
    version: str = "1.0.0",
) -> RulePack:
    """A pack built in memory (no loader checks beyond the models')."""
    codes, problems = load_catalog(GOOD_PACKS)
    assert not problems
    manifest = {
        "format": 1,
        "id": pack_id,
        "version": version,
        "title": {"zh": "合成", "en": "Synthetic"},
        "provenance": {
            "doc_number": "测试〔2020〕2号",
            "title": {"zh": "测试", "en": "Test"},
            "issuer": "测试",
            "issued": "2020-09-11",
            "source_file": "none.txt",
        },
        "campaign": {
            "start": "2020-08-31",
            "end": "2020-11-30",
            "phases": [
                {
                    "id": "rectify",
                    "name": {"zh": "立即整改", "en": "Rectify"},
                    "start": "2020-08-31",
                    "end": "2020-10-31",
                    "source_section": "四",
                }
            ],
        },
        "reporting": {
            "weekday": "friday",
            "due_time": "12:00",
            "reporter": {"zh": "组", "en": "group"},
            "recipient": {"zh": "办", "en": "office"},
            "focus": {"zh": "隐患", "en": "hazards"},
            "source_section": "五",
        },
        "site_types": [{"id": t, "label": {"zh": t, "en": t}} for t in SITE_TYPES],
        "site_attributes": [
            {"id": name, "label": {"zh": name, "en": name}, "type": kind}
            for name, kind in (site_attributes or [])
        ],
        "facts": [{"id": f, "label": {"zh": f, "en": f}} for f in (facts or [])],
        "sections": ["s.yaml"],
    }
    section = {
        "id": "s",
        "ref": "一",
        "title": {"zh": "节", "en": "Section"},
        "items": items,
        "rules": rules,
    }
    content = {
        "manifest": manifest,
        "sections": [section],
        "consequences": {c: d.model_dump() for c, d in codes.items()},
    }
    # reference_eval caches rule orders by (id, version, path): a path naming the content keeps
    # two synthetic packs from sharing one order
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    return RulePack.model_validate({**content, "path": f"<{pack_id} {digest[:16]}>"})


# --- inputs ----------------------------------------------------------------------------------


def _constants(pack: RulePack) -> dict[str, list[Any]]:
    """Operands the pack's conditions compare each item or site attribute with."""
    found: dict[str, list[Any]] = {}
    conditions: list[Condition] = [r.when for r in pack.rules]
    conditions += [i.relevant for i in pack.items if i.relevant is not None]
    for cond in conditions:
        for node in cond.walk():
            name = node.answer or node.site
            if name is None or name == "types":
                continue
            op, operand = node.test
            values = operand if op == "in" else [operand]
            found.setdefault(name, []).extend(v for v in values if not isinstance(v, bool))
    return found


def _number(draw: st.DrawFn, spec: NumberAnswer, near: list[Any]) -> float:
    edges: list[float] = [spec.min, spec.max]
    for v in near:
        if isinstance(v, int | float) and spec.min <= v <= spec.max:
            edges += [float(v), math.nextafter(float(v), -math.inf), math.nextafter(v, math.inf)]
    edges = [e for e in edges if spec.min <= e <= spec.max]
    tiny = [x for x in (1e-7, 2.5e-5, 1e-300, 3e16) if spec.min <= x <= spec.max]
    value = draw(
        st.one_of(
            st.sampled_from(edges),
            st.floats(spec.min, spec.max, allow_nan=False),
            st.sampled_from(tiny or edges),
        )
    )
    return float(round(value)) if spec.integer else value


def answer_value(draw: st.DrawFn, pack: RulePack, item_id: str, near: list[Any]) -> Any:
    """A value ``item_id`` accepts, biased towards the pack's thresholds and choices."""
    spec = pack.item(item_id).answer
    if isinstance(spec, YesNoAnswer):
        return draw(st.sampled_from(["yes", "no", "na"] if spec.allow_na else ["yes", "no"]))
    if isinstance(spec, NumberAnswer):
        return _number(draw, spec, near)
    if isinstance(spec, ChoiceAnswer):
        return draw(st.sampled_from([o.value for o in spec.options]))
    if isinstance(spec, MultiChoiceAnswer):
        options = [o.value for o in spec.options]
        return draw(st.lists(st.sampled_from(options), unique=True, max_size=len(options)))
    assert isinstance(spec, TextAnswer)
    texts = [v for v in near if isinstance(v, str) and v.strip()]
    text = st.text(min_size=1, max_size=12).filter(lambda s: bool(s.strip()))
    return draw(st.one_of(st.sampled_from(texts), text) if texts else text)


def _site_value(draw: st.DrawFn, kind: str, near: list[Any]) -> Scalar:
    if kind == "bool":
        return draw(st.booleans())
    if kind == "number":
        nums = [float(v) for v in near if isinstance(v, int | float)]
        plain = st.floats(-1e6, 1e6, allow_nan=False)
        return draw(st.one_of(st.sampled_from(nums), plain) if nums else plain)
    texts = [v for v in near if isinstance(v, str)]
    return draw(st.one_of(st.sampled_from(texts), st.text(max_size=8)) if texts else st.text())


@st.composite
def site_inputs(
    draw: st.DrawFn, pack: RulePack
) -> tuple[frozenset[str], dict[str, AnswerValue], dict[str, Scalar]]:
    """Site types, checked answers and typed site attributes for ``pack``, valid together."""
    near = _constants(pack)
    declared = [t.id for t in pack.manifest.site_types]
    types = frozenset(draw(st.lists(st.sampled_from(declared), min_size=1, unique=True)))
    site: dict[str, Scalar] = {}
    for attr in pack.manifest.site_attributes:
        if draw(st.booleans()):
            site[attr.id] = _site_value(draw, attr.type, near.get(attr.id, []))
    raw: dict[str, Any] = {}
    for it in pack.items:
        if types & set(it.applies_to) and draw(st.integers(0, 3)) > 0:
            raw[it.id] = answer_value(draw, pack, it.id, near.get(it.id, []))
    while True:  # drop answers that the skip logic excludes, until the set is consistent
        try:
            return types, check_answers(pack, types, raw, site), site
        except AnswerError as err:
            del raw[err.item_id]


# --- whole packs -----------------------------------------------------------------------------

_KINDS = ["yes_no", "number", "choice", "multi_choice", "text"]
_OPTIONS = ["p", "q", "r", "s"]
_ODD = [True, False, 0, 1, 2.5, "yes", "no", "na", "p", "zz", "0.9", ""]
"""Operands of the wrong type for some subject: the engine must not coerce them (D12)."""


def _answer_spec(kind: str, allow_na: bool, integer: bool) -> dict[str, Any]:
    if kind == "yes_no":
        return {"type": "yes_no", "allow_na": allow_na}
    if kind == "number":
        return {"type": "number", "unit": "m", "min": 0, "max": 100, "integer": integer}
    if kind in ("choice", "multi_choice"):
        return {
            "type": kind,
            "options": [{"value": o, "label": {"zh": o, "en": o}} for o in _OPTIONS[:3]],
        }
    return {"type": "text"}


def _operand_for(draw: st.DrawFn, kind: str) -> Any:
    typical: dict[str, st.SearchStrategy[Any]] = {
        "yes_no": st.sampled_from(["yes", "no", "na"]),
        "number": st.one_of(st.integers(0, 100), st.floats(0, 100, allow_nan=False)),
        "choice": st.sampled_from(_OPTIONS),
        "multi_choice": st.sampled_from(_OPTIONS),
        "text": st.sampled_from(["甲", "乙", 'q"uote\\', "yes"]),
        "bool": st.booleans(),
        "text_attr": st.sampled_from(["甲", "乙", "x y"]),
    }
    return draw(
        st.one_of(typical[kind], st.sampled_from(_ODD))
        if draw(st.integers(0, 5)) == 0
        else typical[kind]
    )


def _leaf(
    draw: st.DrawFn,
    items: list[tuple[str, str]],
    attrs: list[tuple[str, str]],
    facts: list[str],
) -> dict[str, Any]:
    choice = draw(st.integers(0, 9))
    if choice <= 5 and items:
        item_id, kind = draw(st.sampled_from(items))
        op = draw(
            st.sampled_from(
                ["eq", "ne", "in", "lt", "le", "gt", "ge", "contains", "answered", "answered"]
            )
        )
        if op == "answered":
            return {"answer": item_id, "answered": draw(st.booleans())}
        if op in ("lt", "le", "gt", "ge"):
            return {"answer": item_id, op: draw(st.floats(0, 100, allow_nan=False))}
        if op == "contains":
            return {"answer": item_id, "contains": draw(st.sampled_from(_OPTIONS + ["yes"]))}
        if op == "in":
            width = draw(st.sampled_from([1, 2, 3, 45, 600]))
            if width > 3 and kind == "number":
                values: list[Any] = [float(v) / 4 for v in range(width)]
            else:
                values = [_operand_for(draw, kind) for _ in range(min(width, 5))]
            return {"answer": item_id, "in": values}
        return {"answer": item_id, op: _operand_for(draw, kind)}
    if choice <= 7 and attrs:
        name, kind = draw(st.sampled_from(attrs))
        op = draw(st.sampled_from(["eq", "ne", "lt", "ge", "in", "answered", "contains"]))
        operand_kind = {"bool": "bool", "number": "number", "text": "text_attr"}[kind]
        if op == "answered":
            return {"site": name, "answered": draw(st.booleans())}
        if op in ("lt", "ge"):
            return {"site": name, op: draw(st.floats(-10, 10, allow_nan=False))}
        if op == "in":
            return {"site": name, "in": [_operand_for(draw, operand_kind) for _ in range(2)]}
        if op == "contains":
            return {"site": name, "contains": "甲"}
        return {"site": name, op: _operand_for(draw, operand_kind)}
    if choice == 8:
        return {"site": "types", "contains": draw(st.sampled_from([*SITE_TYPES, "zz"]))}
    use_fact = draw(st.booleans())
    if facts and use_fact:
        op = draw(st.sampled_from(["eq", "ne"]))
        return {"fact": draw(st.sampled_from(facts)), op: draw(st.booleans())}
    return {"any_hazard": True}


def _condition(
    draw: st.DrawFn,
    items: list[tuple[str, str]],
    attrs: list[tuple[str, str]],
    facts: list[str],
    depth: int,
) -> dict[str, Any]:
    if depth <= 0 or draw(st.integers(0, 2)) == 0:
        return _leaf(draw, items, attrs, facts)
    form = draw(st.sampled_from(["all", "any", "not", "all", "any"]))
    if form == "not":
        return {"not": _condition(draw, items, attrs, facts, depth - 1)}
    width = draw(st.sampled_from([1, 2, 3, 4, 45]))
    if width > 4:
        return {form: [_leaf(draw, items, attrs, facts) for _ in range(width)]}
    return {form: [_condition(draw, items, attrs, facts, depth - 1) for _ in range(width)]}


@st.composite
def random_packs(draw: st.DrawFn) -> RulePack:
    """A small pack with random items, site attributes, facts and rules (conditions nest, read
    derived facts and any_hazard, compare with operands of the wrong type, and sometimes grow
    wide enough that the engine must split them into helper rules)."""
    n_items = draw(st.integers(1, 8))
    items: list[dict[str, Any]] = []
    kinds: list[tuple[str, str]] = []
    for i in range(n_items):
        kind = draw(st.sampled_from(_KINDS))
        spec = _answer_spec(kind, draw(st.booleans()), draw(st.booleans()))
        applies = draw(st.lists(st.sampled_from(SITE_TYPES), min_size=1, unique=True))
        extra: dict[str, Any] = {"applies_to": applies}
        if i and draw(st.integers(0, 4)) == 0:  # skip logic on an earlier yes/no answer
            earlier = [k for k in kinds if k[1] == "yes_no"]
            if earlier:
                extra["relevant"] = {"answer": draw(st.sampled_from(earlier))[0], "eq": "yes"}
        items.append(item(f"R.I.{i}", spec, **extra))
        kinds.append((f"R.I.{i}", kind))
    attrs = [
        (f"attr{j}", draw(st.sampled_from(["bool", "number", "text"])))
        for j in range(draw(st.integers(0, 3)))
    ]
    facts = [f"fact{j}" for j in range(draw(st.integers(0, 3)))]
    rules: list[dict[str, Any]] = []
    n_rules = draw(st.integers(1, 8))
    for r in range(n_rules):
        derive = [f for f in facts if draw(st.integers(0, 3)) == 0]
        low = min((facts.index(f) for f in derive), default=len(facts))
        readable = facts[:low]  # read only facts before the ones derived: no cycles
        when = _condition(draw, kinds, attrs, readable, depth=draw(st.integers(0, 4)))
        others = [f"R.R.{k}" for k in range(n_rules) if k != r]
        supersedes = (
            draw(st.lists(st.sampled_from(others), max_size=2, unique=True)) if others else []
        )
        has_finding = not derive or draw(st.booleans())
        rules.append(
            rule(
                f"R.R.{r}",
                when,
                derive=derive,
                supersedes=supersedes,
                with_finding=has_finding,
                hazard=draw(st.booleans()),
                level=draw(st.sampled_from(["一般", "重大"])),
            )
        )
    return make_pack(items, rules, facts=facts, site_attributes=attrs)
