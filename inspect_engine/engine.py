"""The rule engine: a pack's rules compiled into durable-rules rulesets and run through sessions.

This is the only module that imports ``durable_rules``. Its interface is small:

* :func:`fired_rules` - which rules fire for a site and its checked answers (an
  :class:`~inspect_engine.reference_eval.Outcome`, the same shape as the plain-Python reading);
* :func:`engine_fired` - the same as a :data:`~inspect_engine.cases.Evaluator` for rule cases;
* :func:`compile_pack` / :func:`limit_problems` - compile ahead of use, or only check the limits.

What it computes is fixed by :mod:`inspect_engine.conditions` and
:mod:`inspect_engine.reference_eval`; the property tests hold the two to the same fired set.
``docs/engine.md`` describes the encoding and every guard; in short:

**Encoding.** Each evaluation runs in a fresh session and asserts a few *context facts*, one at a
time, never a batch. A context fact carries, as attributes of its own, only what the rules it
feeds read: answer ``i`` of the pack is attribute ``a<i>`` (multiple choice adds one boolean
``a<i>o<j>`` per option; free text is sent as the index of the constant it equals, or -1), site
attribute ``j`` is ``s<j>``, site type ``j`` is the boolean ``t<j>``, derived fact ``j`` is the
boolean ``f<j>``, "any hazard" is ``hz``, and a helper result is ``x<j>``. No attribute ever holds
item codes as values, so no attribute is tested against more than a pack's own thresholds (D8).

**Compilation.** A rule's condition is put in negation normal form with the exact meaning of
:func:`~inspect_engine.conditions.holds` (a test on a missing value is false, ``answered: false``
is ``$nex``, a negated test on a missing value is true, types never coerce: D12) and becomes one
durable-rules pattern ``{k: <batch>} and <condition>``. A condition too large for one pattern is
split: sub-conditions become helper rules whose results (``x<j>``) feed a later context fact.

**Order.** Rules run in strata: a rule reading a fact runs after every rule deriving it, a rule
reading ``any_hazard`` after every hazard rule that does not depend on it, a rule after its
helpers. Each stratum is asserted as one or more context facts (*batches*) whose attributes
include everything derived so far; a rule's pattern tests its batch number ``k`` first.
"""

from __future__ import annotations

import hashlib
import json
import locale
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import durable_rules_engine
from durable import engine as _dr

from inspect_engine.conditions import AnswerValue, Condition, Scalar
from inspect_engine.errors import ExitCode, InputError, InspectError
from inspect_engine.reference_eval import Outcome
from inspect_engine.rulepack import (
    ChoiceAnswer,
    MultiChoiceAnswer,
    NumberAnswer,
    RulePack,
    TextAnswer,
    YesNoAnswer,
)

# --- limits of the durable-rules C core (libraries.md §1.4, src/rules/*.h) ---------------------

MAX_PATTERN_COMBINATORS: Final = 12
"""``$and``/``$or`` per pattern. The core has 32 expression slots per pattern and each combinator
takes two; past that ``create_ruleset`` fails with error 113."""
MAX_PATTERN_NODES: Final = 60
"""Alpha nodes (tests, plus one per ``$or``) per pattern."""
MAX_PATTERN_ATTRS: Final = 60
"""Attributes one pattern reads."""
WIDE: Final = 40
"""Children of one ``all``/``any`` kept in one pattern; wider ones are chunked into helpers."""
MAX_BATCH_NODES: Final = 120
"""Alpha nodes under one batch gate. A node keeps its equality children in a 512-slot table that
hangs the process once full (D8) and its other children in a 128-slot list (error 107)."""
MAX_BATCH_ATTRS: Final = 200
"""Attributes per context fact; the core takes at most 255 properties per fact (error 302)."""
MAX_BATCHES: Final = 400
"""Context facts per evaluation: every batch gate hangs off the root's 512-slot table (D8)."""
SID: Final = "1"
"""The session id. One session is live at a time (all calls hold :data:`_LOCK`), so one id does."""

_RESERVED = ("id", "sid", "$s", "k")


class EngineError(InspectError):
    """durable-rules did something it must not (a bug here or in the library); nothing returned."""

    exit_code = ExitCode.INTERNAL


class EngineLimitError(InputError):
    """A pack the engine cannot run safely; refused before durable-rules ever sees it."""


def fnv1a32(text: str) -> int:
    """The core's ``fnv1Hash32``: it names properties, fact ids and sessions by this hash alone
    (a signed ``char`` XOR, so bytes >= 0x80 are sign-extended)."""
    value = 0x811C9DC5
    for byte in text.encode("utf-8"):
        value ^= byte | 0xFFFFFF00 if byte >= 0x80 else byte
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


# --- JSON for the C core (D14: exponent floats) ---------------------------------------------------


def _number(value: float) -> str:
    """A float as the core's parser reads it: it takes ``1e-07`` as 1 and then fails (error 204),
    so an exponent always follows a fraction (``1.0e-07``)."""
    if not math.isfinite(value):
        raise EngineError(f"non-finite number {value!r} cannot reach the engine")
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        text = f"{mantissa}e{exponent}"
    return text


def dumps(obj: Any) -> str:
    """JSON text for durable-rules: exact floats, booleans kept apart from numbers."""
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if isinstance(obj, float):
        return _number(obj)
    if isinstance(obj, int | str) or obj is None:
        return json.dumps(obj, ensure_ascii=False)
    if isinstance(obj, dict):
        return "{" + ",".join(f"{dumps(str(k))}:{dumps(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, list | tuple):
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    raise EngineError(f"cannot send {type(obj).__name__} to the engine")


# --- conditions as durable-rules expressions --------------------------------------------------


@dataclass(frozen=True)
class _Test:
    """One durable-rules test on one attribute: ``op`` is eq, neq, lt, lte, gt, gte, ex or nex."""

    op: str
    attr: str
    value: Any = None

    def render(self) -> dict[str, Any]:
        if self.op == "eq":
            return {self.attr: self.value}
        if self.op in ("ex", "nex"):
            return {f"${self.op}": {self.attr: 1}}
        return {f"${self.op}": {self.attr: self.value}}


@dataclass(frozen=True)
class _Op:
    """``$and`` / ``$or`` over two or more children."""

    op: str
    kids: tuple[_Expr, ...]

    def render(self) -> dict[str, Any]:
        return {self.op: [k.render() for k in self.kids]}


@dataclass(frozen=True)
class _Const:
    """A test whose outcome is known at compile time (a type that can never match, an empty in)."""

    value: bool

    def render(self) -> dict[str, Any]:
        raise EngineError("a constant is folded away before rendering")


_Expr = _Test | _Op | _Const
TRUE: Final = _Const(True)
FALSE: Final = _Const(False)


def _combine(op: str, kids: Sequence[_Expr]) -> _Expr:
    """``$and``/``$or`` simplified: constants folded, nested same-op flattened, duplicates kept."""
    absorbing, neutral = (FALSE, TRUE) if op == "$and" else (TRUE, FALSE)
    flat: list[_Expr] = []
    for kid in kids:
        if kid == absorbing:
            return absorbing
        if kid == neutral:
            continue
        if isinstance(kid, _Op) and kid.op == op:
            flat.extend(kid.kids)
        else:
            flat.append(kid)
    if not flat:
        return neutral
    return flat[0] if len(flat) == 1 else _Op(op, tuple(flat))


def _and(*kids: _Expr) -> _Expr:
    return _combine("$and", kids)


def _or(*kids: _Expr) -> _Expr:
    return _combine("$or", kids)


def _nodes(e: _Expr) -> int:
    if isinstance(e, _Test):
        return 1
    if isinstance(e, _Op):
        return sum(_nodes(k) for k in e.kids) + (1 if e.op == "$or" else 0)
    return 0


def _combinators(e: _Expr) -> int:
    return 1 + sum(_combinators(k) for k in e.kids) if isinstance(e, _Op) else 0


def _attrs(e: _Expr) -> frozenset[str]:
    if isinstance(e, _Test):
        return frozenset([e.attr])
    if isinstance(e, _Op):
        return frozenset().union(*(_attrs(k) for k in e.kids))
    return frozenset()


def _pattern_fits(e: _Expr) -> bool:
    gate = 0 if isinstance(e, _Op) and e.op == "$and" else 1  # the gate joins a top-level $and
    return (
        _combinators(e) + gate <= MAX_PATTERN_COMBINATORS
        and _nodes(e) + 1 <= MAX_PATTERN_NODES
        and len(_attrs(e)) + 1 <= MAX_PATTERN_ATTRS
    )


# --- subjects: what an attribute holds ----------------------------------------------------------


@dataclass(frozen=True)
class _Subject:
    """An attribute of the context fact and the kind of value it carries.

    Kinds: ``str`` (yes/no and choice answers: the value itself), ``num`` (a float), ``bool`` (a
    boolean site attribute), ``text`` (free text, sent as the index of the constant it equals, or
    -1), ``multi`` (multiple choice: ``attr`` marks it answered, one boolean per option), ``flag``
    (a boolean that is always present: site types, derived facts, any hazard, helper results).
    """

    attr: str
    kind: str
    options: tuple[str, ...] = ()
    constants: tuple[str, ...] = ()

    def option_attr(self, option: str) -> str:
        return f"{self.attr}o{self.options.index(option)}"


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _pos_neg(subject: _Subject, op: str, operand: Any) -> tuple[_Expr, _Expr]:
    """The test over a *present* value, and its complement over present values."""
    a, kind = subject.attr, subject.kind
    if op in ("lt", "le", "gt", "ge"):
        if kind != "num":  # ordering tests read numbers only: never "0.9" < 1.0 (D12)
            return FALSE, TRUE
        durable = {"lt": "lt", "le": "lte", "gt": "gt", "ge": "gte"}[op]
        negated = {"lt": "gte", "le": "gt", "gt": "lte", "ge": "lt"}[op]
        return _Test(durable, a, float(operand)), _Test(negated, a, float(operand))
    if op == "contains":
        if kind != "multi" or not _is_str(operand) or operand not in subject.options:
            return FALSE, TRUE
        attr = subject.option_attr(operand)
        return _Test("eq", attr, True), _Test("eq", attr, False)
    if kind == "multi":  # a list of choices equals nothing and orders with nothing
        return FALSE, TRUE
    if op in ("eq", "ne", "in"):
        operands = list(operand) if op == "in" else [operand]
        pos = _or(*(_equals(subject, v)[0] for v in operands))
        neg = _and(*(_equals(subject, v)[1] for v in operands))
        return (neg, pos) if op == "ne" else (pos, neg)
    raise EngineError(f"unknown test {op!r}")


def _equals(subject: _Subject, value: Any) -> tuple[_Expr, _Expr]:
    """``value == operand`` without coercion (True != 1, "1" != 1), over a present value."""
    a, kind = subject.attr, subject.kind
    if kind == "num" and _is_num(value):
        return _Test("eq", a, float(value)), _Test("neq", a, float(value))
    if kind == "str" and _is_str(value):
        return _Test("eq", a, value), _Test("neq", a, value)
    if kind == "text" and _is_str(value):
        index = subject.constants.index(value)
        return _Test("eq", a, index), _Test("neq", a, index)
    if kind in ("bool", "flag") and isinstance(value, bool):
        return _Test("eq", a, value), _Test("eq", a, not value)
    return FALSE, TRUE  # a type the value never has; lists (multi) equal nothing


def _leaf(subject: _Subject, op: str, operand: Any, positive: bool) -> _Expr:
    """A leaf test on a subject, or its negation, with the plain reading's treatment of missing
    values: a test on a missing value is false, so its negation is true."""
    if op == "answered":
        if subject.kind == "flag":  # a fact "answered" means derived
            return _Test("eq", subject.attr, operand is positive)
        present = operand is positive
        return _Test("ex" if present else "nex", subject.attr)
    pos, neg = _pos_neg(subject, op, operand)
    if subject.kind == "flag":
        return pos if positive else neg
    if positive:
        # every durable-rules test is false on a missing attribute, so only "always" needs
        # saying that the value is there (``ne: true`` holds for any answer to a yes/no item)
        return _Test("ex", subject.attr) if pos == TRUE else pos
    return _or(_Test("nex", subject.attr), neg)


# --- the compiled form ----------------------------------------------------------------------


@dataclass
class _Node:
    """One durable-rules rule: a pack rule (``rule`` set) or a helper (``aux`` set)."""

    name: str
    expr: _Expr
    rule: str | None = None
    aux: str | None = None
    deps: set[str] = field(default_factory=set)
    stratum: int = 0
    batch: int = 0


@dataclass
class _Batch:
    """One context fact: its gate value ``k``, the attributes it carries, the nodes it feeds."""

    k: int
    attrs: list[str]
    nodes: list[str]


@dataclass
class CompiledPack:
    """A pack compiled into one durable-rules ruleset (cached per pack id, version and content)."""

    pack_id: str
    version: str
    digest: str
    ruleset: str
    nodes: dict[str, _Node]
    batches: list[_Batch]
    items: dict[str, _Subject]
    item_specs: dict[str, Any]
    site: dict[str, _Subject]
    types: dict[str, _Subject]
    facts: dict[str, _Subject]
    rule_ids: list[str]
    derive: dict[str, list[str]]
    hazard_rules: frozenset[str]
    """Rules that set ``any_hazard`` when they fire (hazard findings, not depending on it)."""
    supersedes: dict[str, list[str]]
    findings: frozenset[str]
    definition: dict[str, Any]
    """The ruleset as given to durable-rules (without the actions), for docs and tests."""

    @property
    def asserts(self) -> int:
        """Context facts per evaluation."""
        return len(self.batches)


class _Compiler:
    """Turns a pack into nodes, strata and batches; never touches durable-rules itself."""

    def __init__(self, pack: RulePack) -> None:
        self.pack = pack
        self.items: dict[str, _Subject] = {}
        self.item_specs: dict[str, Any] = {}
        self.site: dict[str, _Subject] = {}
        self.types: dict[str, _Subject] = {}
        self.facts: dict[str, _Subject] = {}
        self.nodes: dict[str, _Node] = {}
        self._aux_count = 0
        self._schema()

    # subjects ------------------------------------------------------------------------------
    def _schema(self) -> None:
        pack = self.pack
        constants: dict[tuple[str, str], list[str]] = {}
        conditions = [r.when for r in pack.rules]
        for cond in conditions:
            for node in cond.walk():
                subject = ("answer", node.answer) if node.answer else ("site", node.site or "")
                if node.answer is None and node.site is None:
                    continue
                op, operand = node.test
                values = operand if op == "in" else [operand]
                if op in ("eq", "ne", "in"):
                    for v in values:
                        if isinstance(v, str) and v not in constants.setdefault(subject, []):
                            constants[subject].append(v)
        for i, item in enumerate(pack.items):
            spec = item.answer
            self.item_specs[item.id] = spec
            texts = tuple(constants.get(("answer", item.id), []))
            if isinstance(spec, NumberAnswer):
                self.items[item.id] = _Subject(f"a{i}", "num")
            elif isinstance(spec, YesNoAnswer | ChoiceAnswer):
                self.items[item.id] = _Subject(f"a{i}", "str")
            elif isinstance(spec, MultiChoiceAnswer):
                options = tuple(o.value for o in spec.options)
                self.items[item.id] = _Subject(f"a{i}", "multi", options=options)
            else:
                assert isinstance(spec, TextAnswer)
                self.items[item.id] = _Subject(f"a{i}", "text", constants=texts)
        kinds = {"bool": "bool", "number": "num", "text": "text"}
        for j, attr in enumerate(pack.manifest.site_attributes):
            texts = tuple(constants.get(("site", attr.id), [])) if attr.type == "text" else ()
            self.site[attr.id] = _Subject(f"s{j}", kinds[attr.type], constants=texts)
        names: list[str] = [t.id for t in pack.manifest.site_types]
        facts: list[str] = [f.id for f in pack.manifest.facts]
        for rule in pack.rules:
            facts += [f for f in rule.derive if f not in facts]
            for node in rule.when.walk():
                if node.site == "types" and node.contains not in names and node.contains:
                    names.append(node.contains)
                if node.fact is not None and node.fact not in facts:
                    facts.append(node.fact)
        self.types = {name: _Subject(f"t{j}", "flag") for j, name in enumerate(names)}
        self.facts = {name: _Subject(f"f{j}", "flag") for j, name in enumerate(facts)}

    # conditions ----------------------------------------------------------------------------
    def expr(self, cond: Condition, positive: bool = True) -> _Expr:
        if cond.all_ is not None:
            kids = [self.expr(c, positive) for c in cond.all_]
            return _and(*kids) if positive else _or(*kids)
        if cond.any_ is not None:
            kids = [self.expr(c, positive) for c in cond.any_]
            return _or(*kids) if positive else _and(*kids)
        if cond.not_ is not None:
            return self.expr(cond.not_, not positive)
        if cond.any_hazard:
            return _Test("eq", "hz", positive)
        op, operand = cond.test
        if cond.answer is not None:
            subject = self.items.get(cond.answer)
            if subject is None:
                raise EngineLimitError(f"pack {self.pack.id}: unknown item {cond.answer!r}")
        elif cond.site == "types":
            return _Test("eq", self.types[operand].attr, positive)
        elif cond.site is not None:
            subject = self.site.get(cond.site)
            if subject is None:
                raise EngineLimitError(f"pack {self.pack.id}: unknown site attribute {cond.site!r}")
        else:
            assert cond.fact is not None
            subject = self.facts[cond.fact]
        return _leaf(subject, op, operand, positive)

    def fit(self, e: _Expr) -> _Expr:
        """``e`` reshaped to fit one pattern; oversized parts become helper rules."""
        if _pattern_fits(e) or not isinstance(e, _Op):
            return e
        kids = list(e.kids)
        if len(kids) > WIDE:
            chunks = [kids[i : i + WIDE] for i in range(0, len(kids), WIDE)]
            return self.fit(_combine(e.op, [self.helper(_combine(e.op, c)) for c in chunks]))
        by_size = sorted(range(len(kids)), key=lambda i: (-_nodes(kids[i]), i))
        for i in by_size:
            if _pattern_fits(_combine(e.op, kids)):
                break
            if isinstance(kids[i], _Op):
                kids[i] = self.helper(kids[i])
        return _combine(e.op, kids)

    def helper(self, e: _Expr) -> _Expr:
        """A helper rule computing ``e``; returns the test reading its result."""
        name = f"x{self._aux_count}"
        self._aux_count += 1
        self.nodes[name] = _Node(name=name, expr=self.fit(e), aux=name)
        return _Test("eq", name, True)

    # the whole pack --------------------------------------------------------------------------
    def compile(self, digest: str = "") -> CompiledPack:
        pack = self.pack
        rules = pack.rules
        tainted = _tainted(pack)
        hazard_rules = frozenset(
            r.id
            for r in rules
            if r.id not in tainted and r.finding is not None and r.finding.hazard
        )
        producers: dict[str, list[str]] = {}
        for i, rule in enumerate(rules):
            expr = self.expr(rule.when)
            if expr == FALSE:
                continue  # can never hold (a type its value never has): nothing to compile
            name = f"r{i}"
            self.nodes[name] = _Node(name=name, expr=self.fit(expr), rule=rule.id)
            for fact in rule.derive:
                producers.setdefault(self.facts[fact].attr, []).append(name)
        rule_node = {n.rule: n.name for n in self.nodes.values() if n.rule}
        hazard_nodes = sorted(rule_node[r] for r in hazard_rules if r in rule_node)
        for node in self.nodes.values():
            for attr in _attrs(node.expr) if not isinstance(node.expr, _Const) else ():
                if attr in producers:
                    node.deps.update(producers[attr])
                elif attr == "hz":
                    node.deps.update(hazard_nodes)
                elif attr in self.nodes:
                    node.deps.add(attr)
        self._strata()
        batches = self._batches()
        definition = self._definition(batches)
        _check_hashes(pack.id, self, batches)
        return CompiledPack(
            pack_id=pack.id,
            version=pack.version,
            digest=digest,
            ruleset="",
            nodes=self.nodes,
            batches=batches,
            items=self.items,
            item_specs=self.item_specs,
            site=self.site,
            types=self.types,
            facts=self.facts,
            rule_ids=[r.id for r in rules],
            derive={r.id: list(r.derive) for r in rules},
            hazard_rules=hazard_rules,
            supersedes={r.id: list(r.supersedes) for r in rules},
            findings=frozenset(r.id for r in rules if r.finding is not None),
            definition=definition,
        )

    def _strata(self) -> None:
        done: dict[str, int] = {}
        pending = dict(self.nodes)
        while pending:
            ready = [n for n in pending.values() if n.deps <= done.keys()]
            if not ready:
                raise EngineLimitError(
                    f"pack {self.pack.id}: rules depend on each other in a cycle"
                )
            for node in ready:
                node.stratum = 1 + max((done[d] for d in node.deps), default=-1)
                done[node.name] = node.stratum
                del pending[node.name]

    def _batches(self) -> list[_Batch]:
        order = sorted(self.nodes.values(), key=lambda n: (n.stratum, _node_key(n.name)))
        batches: list[_Batch] = []
        current: _Batch | None = None
        stratum, used_nodes, used_attrs = -1, 0, set[str]()
        for node in order:
            size = _nodes(node.expr) + 1
            attrs = set(_attrs(node.expr)) if not isinstance(node.expr, _Const) else set()
            if (
                current is None
                or node.stratum != stratum
                or used_nodes + size > MAX_BATCH_NODES
                or len(used_attrs | attrs) > MAX_BATCH_ATTRS
            ):
                current = _Batch(k=len(batches), attrs=[], nodes=[])
                batches.append(current)
                stratum, used_nodes, used_attrs = node.stratum, 0, set()
            current.nodes.append(node.name)
            node.batch = current.k
            used_nodes += size
            used_attrs |= attrs
            current.attrs = sorted(used_attrs, key=_attr_key)
        if len(batches) > MAX_BATCHES:
            raise EngineLimitError(
                f"pack {self.pack.id} needs {len(batches)} context facts per evaluation; the "
                f"engine takes at most {MAX_BATCHES} (split the pack)"
            )
        if not batches:
            batches.append(_Batch(k=0, attrs=[], nodes=[]))  # rules that can never fire
        return batches

    def _definition(self, batches: list[_Batch]) -> dict[str, Any]:
        definition: dict[str, Any] = {}
        for batch in batches:
            for name in batch.nodes:
                node = self.nodes[name]
                gate = _Test("eq", "k", batch.k)
                body = gate if node.expr == TRUE else _and(gate, node.expr)
                assert isinstance(body, _Test | _Op)
                definition[name] = {"all": [{"m": body.render()}]}
        definition["catch_all"] = {"all": [{"m": {"$ex": {"k": 1}}}]}  # D1, D2
        return definition


def _node_key(name: str) -> tuple[int, int]:
    return (0 if name.startswith("x") else 1, int(name[1:]))


def _attr_key(attr: str) -> tuple[str, int, str]:
    head = attr.rstrip("0123456789o")
    rest = attr[len(head) :]
    return (head, int(rest.split("o")[0]) if rest else -1, rest)


def _tainted(pack: RulePack) -> frozenset[str]:
    """Rules reading ``any_hazard``, directly or through facts derived by such rules."""
    tainted: set[str] = set()
    changed = True
    while changed:
        changed = False
        tainted_facts = {f for r in pack.rules if r.id in tainted for f in r.derive}
        for rule in pack.rules:
            if rule.id not in tainted and (
                rule.when.uses_any_hazard() or rule.when.facts() & tainted_facts
            ):
                tainted.add(rule.id)
                changed = True
    return frozenset(tainted)


def _check_hashes(pack_id: str, compiler: _Compiler, batches: list[_Batch]) -> None:
    """The core tells properties, fact ids and sessions apart by a 32-bit hash only (D3)."""
    groups = {
        "attribute": [
            *_RESERVED,
            "hz",
            *compiler.nodes.keys(),
            *(s.attr for s in compiler.items.values()),
            *(
                s.option_attr(o)
                for s in compiler.items.values()
                if s.kind == "multi"
                for o in s.options
            ),
            *(s.attr for s in compiler.site.values()),
            *(s.attr for s in compiler.types.values()),
            *(s.attr for s in compiler.facts.values()),
        ],
        "fact id": [*(f"b{b.k}" for b in batches), "end", f"sid-{SID}"],
    }
    for what, names in groups.items():
        seen: dict[int, str] = {}
        for name in dict.fromkeys(names):
            other = seen.setdefault(fnv1a32(name), name)
            if other != name:
                raise EngineLimitError(
                    f"pack {pack_id}: {what}s {other!r} and {name!r} share a 32-bit hash in "
                    "durable-rules (libraries.md D3)"
                )


def pack_digest(pack: RulePack) -> str:
    """A hash of the pack's content (not where it was loaded from)."""
    text = pack.model_dump_json(exclude={"path"})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_DIGESTS: OrderedDict[int, tuple[RulePack, str]] = OrderedDict()
"""Digests of the packs seen last, by identity (a pack is frozen; hashing one takes ~2 ms)."""


def _digest(pack: RulePack) -> str:
    entry = _DIGESTS.get(id(pack))
    if entry is not None and entry[0] is pack:
        _DIGESTS.move_to_end(id(pack))
        return entry[1]
    digest = pack_digest(pack)
    _DIGESTS[id(pack)] = (pack, digest)  # holding the pack keeps its id from being reused
    while len(_DIGESTS) > 32:
        _DIGESTS.popitem(last=False)
    return digest


def limit_problems(pack: RulePack) -> list[str]:
    """Why the engine would refuse ``pack`` (empty when it takes it); compiles nothing in C."""
    try:
        _Compiler(pack).compile()
    except EngineLimitError as err:
        return [err.message]
    return []


# --- the durable-rules side ---------------------------------------------------------------------


class _Ruleset(_dr.Ruleset):  # type: ignore[misc]
    """A ruleset whose JSON we write (:func:`dumps`), that refuses batches (D5)."""

    def __init__(self, name: str, host: _Host, definition: dict[str, Any], actions: Any) -> None:
        self._actions = {rule: _dr.Promise(action) for rule, action in actions.items()}
        self._name = name
        self._host = host
        self._handle = durable_rules_engine.create_ruleset(name, dumps(definition))
        self._definition = definition

    def assert_fact(self, fact: dict[str, Any]) -> Any:
        result = durable_rules_engine.assert_fact(self._handle, dumps(fact))
        return self._handle_result(result, fact)

    def assert_facts(self, facts: Any) -> Any:
        raise EngineError("batch asserts run actions late, on another thread (D5); not used")

    def assert_event(self, message: Any) -> Any:
        raise EngineError("events are consumed by their first match; the engine uses facts")

    assert_events = assert_event


class _Host(_dr.Host):  # type: ignore[misc]
    """The process's one Host (D10), without the two dispatcher threads: every action runs
    synchronously inside ``assert_fact``, on the calling thread, under :data:`_LOCK`."""

    def _run(self) -> None:
        """durable-rules starts two immortal timer threads here; nothing needs them."""

    def add(self, ruleset: _Ruleset) -> None:
        if ruleset._name in self._ruleset_directory:
            raise EngineError(f"ruleset {ruleset._name} is already registered (D7)")
        self._ruleset_directory[ruleset._name] = ruleset
        self._ruleset_list.append(ruleset)


_LOCK = threading.RLock()
"""Every call into durable-rules holds this lock (D11)."""
_HOST: _Host | None = None
_CACHE: dict[tuple[str, str, str], tuple[CompiledPack, _Ruleset, list[tuple[str, Any]]]] = {}
_SERIAL = 0
_LIVE_SESSIONS = 0


def _host() -> _Host:
    global _HOST
    if _HOST is None:
        _HOST = _Host()
    return _HOST


def compile_pack(pack: RulePack) -> CompiledPack:
    """Compile ``pack`` into a durable-rules ruleset, once per (id, version, content) and process.

    Ruleset names carry a process-unique serial, since durable-rules cannot redefine one (D7).
    Refuses (:class:`EngineLimitError`) a pack over the core's limits before any C call.
    """
    return _compiled(pack)[0]


def _compiled(pack: RulePack) -> tuple[CompiledPack, _Ruleset, list[tuple[str, Any]]]:
    global _SERIAL
    with _LOCK:
        key = (pack.id, pack.version, _digest(pack))
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        compiled = _Compiler(pack).compile(key[2])
        _SERIAL += 1
        safe = "".join(c if c.isalnum() else "_" for c in f"{pack.id}_{pack.version}")
        compiled.ruleset = f"ie_{safe}_{key[2][:12]}_{_SERIAL}"
        sink: list[tuple[str, Any]] = []
        actions = {name: _recorder(sink, name) for name in compiled.definition}
        ruleset = _Ruleset(compiled.ruleset, _host(), compiled.definition, actions)
        _host().add(ruleset)
        _CACHE[key] = (compiled, ruleset, sink)
        return _CACHE[key]


def _recorder(sink: list[tuple[str, Any]], name: str) -> Any:
    """The action of one durable rule: append (rule, batch) to a list; nothing else (D13)."""

    def action(c: Any) -> None:
        sink.append((name, c.m["k"]))

    return action


def _check_locale() -> None:
    # the core parses numbers with atof(), which follows LC_NUMERIC
    if locale.localeconv()["decimal_point"] != ".":
        raise EngineError(
            "the C locale's decimal point is not '.'; the engine would misread numbers"
        )


def fired_rules(
    pack: RulePack,
    site_types: frozenset[str] | set[str] | list[str],
    answers: Mapping[str, AnswerValue],
    site: Mapping[str, Scalar] | None = None,
) -> Outcome:
    """Which rules fire, through durable-rules, for checked answers and typed site attributes.

    ``answers`` must come from :func:`inspect_engine.answers.check_answers`; a value of the wrong
    type is refused (:class:`EngineError`), never coerced (D12). Evaluations are isolated: each
    runs in a fresh session that is deleted before this returns, whatever happens (D4, D9).
    """
    with _LOCK:
        _check_locale()
        compiled, ruleset, sink = _compiled(pack)
        run = _Run(compiled, frozenset(site_types), answers, dict(site or {}))
        return run.execute(ruleset, sink)


def engine_fired(
    pack: RulePack,
    site_types: frozenset[str],
    answers: Mapping[str, AnswerValue],
    site: Mapping[str, Scalar],
) -> frozenset[str]:
    """:data:`inspect_engine.cases.Evaluator` over durable-rules."""
    return frozenset(fired_rules(pack, site_types, answers, site).fired)


def live_sessions() -> int:
    """Sessions open right now (0 between evaluations)."""
    return _LIVE_SESSIONS


class _Run:
    """One evaluation: the values, what has fired so far, and the context facts built from them."""

    def __init__(
        self,
        compiled: CompiledPack,
        site_types: frozenset[str],
        answers: Mapping[str, AnswerValue],
        site: dict[str, Scalar],
    ) -> None:
        self.c = compiled
        self.values: dict[str, Any] = {}
        self.fired: set[str] = set()
        for item_id, value in answers.items():
            subject = compiled.items.get(item_id)
            if subject is None:
                raise EngineError(f"answer to unknown item {item_id!r}")
            self._answer(item_id, subject, value)
        for name, value in site.items():
            subject = compiled.site.get(name)
            if subject is not None:
                self._site(name, subject, value)
        for name, subject in compiled.types.items():
            self.values[subject.attr] = name in site_types
        for subject in compiled.facts.values():
            self.values[subject.attr] = False
        for node in compiled.nodes.values():
            if node.aux:
                self.values[node.aux] = False
        self.values["hz"] = False

    def _answer(self, item_id: str, s: _Subject, value: Any) -> None:
        spec = self.c.item_specs[item_id]
        bad = EngineError(f"{item_id}: untyped answer {value!r} must not reach the engine (D12)")
        if s.kind == "num":
            if not isinstance(value, float) or not math.isfinite(value):
                raise bad
            self.values[s.attr] = value
        elif s.kind == "str":
            allowed = (
                ("yes", "no", "na")
                if isinstance(spec, YesNoAnswer)
                else tuple(o.value for o in spec.options)
            )
            if not isinstance(value, str) or value not in allowed:
                raise bad
            self.values[s.attr] = value
        elif s.kind == "multi":
            if not isinstance(value, list) or not set(value) <= set(s.options):
                raise bad
            self.values[s.attr] = True
            for option in s.options:
                self.values[s.option_attr(option)] = option in value
        else:
            if not isinstance(value, str):
                raise bad
            self.values[s.attr] = s.constants.index(value) if value in s.constants else -1

    def _site(self, name: str, s: _Subject, value: Any) -> None:
        ok = {
            "bool": isinstance(value, bool),
            "num": _is_num(value) and math.isfinite(float(value)),
            "text": isinstance(value, str),
        }[s.kind]
        if not ok:
            raise EngineError(f"site attribute {name!r}: untyped value {value!r} (D12)")
        if s.kind == "num":
            self.values[s.attr] = float(value)
        elif s.kind == "text":
            self.values[s.attr] = s.constants.index(value) if value in s.constants else -1
        else:
            self.values[s.attr] = value

    def execute(self, ruleset: _Ruleset, sink: list[tuple[str, Any]]) -> Outcome:
        global _LIVE_SESSIONS
        host = _host()
        sink.clear()
        _LIVE_SESSIONS += 1
        try:
            for batch in self.c.batches:
                fact: dict[str, Any] = {"id": f"b{batch.k}", "sid": SID, "k": batch.k}
                for attr in batch.attrs:
                    if attr in self.values:
                        fact[attr] = self.values[attr]
                self._assert(host, ruleset, fact)
                self._take(sink, batch)
            self._no_pending(ruleset)
        except BaseException:
            self._close(host, ruleset, failed=True)
            raise
        self._close(host, ruleset, failed=False)
        return self._outcome()

    def _assert(self, host: _Host, ruleset: _Ruleset, fact: dict[str, Any]) -> None:
        try:
            state = host.assert_fact(ruleset._name, fact)
        except _dr.MessageObservedException as err:  # D3: never swallowed
            raise EngineError(
                f"durable-rules took new fact {fact['id']!r} for one already observed (32-bit id "
                f"hash collision, libraries.md D3); no findings were produced: {err.message}"
            ) from None
        except _dr.MessageNotHandledException as err:  # D2: the catch-all rule handles all
            raise EngineError(f"a fact matched no rule: {err.message}") from None
        except durable_rules_engine.error as err:
            raise EngineError(f"durable-rules refused fact {fact['id']!r}: {err}") from None
        if isinstance(state, dict) and "exception" in state:  # D6: swallowed into the state
            raise EngineError(f"a rule action failed inside durable-rules: {state['exception']}")

    def _take(self, sink: list[tuple[str, Any]], batch: _Batch) -> None:
        for name, k in sink:
            if name == "catch_all":
                continue
            node = self.c.nodes[name]
            if k != batch.k or node.batch != batch.k:  # D5: an action for another fact
                raise EngineError(f"action of {name} ran for batch {k} while asserting {batch.k}")
            if node.aux:
                self.values[node.aux] = True
            elif node.rule and node.rule not in self.fired:
                self.fired.add(node.rule)
                for fact in self.c.derive[node.rule]:
                    self.values[self.c.facts[fact].attr] = True
                if node.rule in self.c.hazard_rules:
                    self.values["hz"] = True
        sink.clear()

    def _no_pending(self, ruleset: _Ruleset) -> None:
        """No action may be left for later (D5): nothing runs it, and it would be lost."""
        pending = durable_rules_engine.start_action(ruleset._handle)
        if pending:
            durable_rules_engine.abandon_action(ruleset._handle, pending[2])
            raise EngineError("durable-rules deferred an action (D5); the evaluation is void")

    def _close(self, host: _Host, ruleset: _Ruleset, failed: bool) -> None:
        """Delete the session (D4, D9), also after a failure (whose error then propagates). A
        last fact that only the catch-all rule matches goes first, so the session never holds
        nothing but unhandled facts when it is deleted: that segfaults (D1)."""
        global _LIVE_SESSIONS
        problem: EngineError | None = None
        try:
            self._assert(host, ruleset, {"id": "end", "sid": SID, "k": -1})
        except EngineError as err:
            problem = err
        host.delete_state(ruleset._name, SID)
        _LIVE_SESSIONS -= 1
        if problem is not None and not failed:
            raise problem

    def _outcome(self) -> Outcome:
        c = self.c
        fired = tuple(r for r in c.rule_ids if r in self.fired)
        facts = frozenset(f for r in fired for f in c.derive[r])
        superseded = {s for r in fired for s in c.supersedes[r]}
        findings = tuple(r for r in fired if r in c.findings and r not in superseded)
        return Outcome(fired=fired, facts=facts, findings=findings)
