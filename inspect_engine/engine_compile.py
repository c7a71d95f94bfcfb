"""Compiling a rule pack into the durable-rules JSON form: pure Python, no C call.

:mod:`inspect_engine.engine` runs what this produces; ``docs/engine.md`` explains both.

**Encoding.** An evaluation asserts a few *context facts*, one at a time. A context fact
carries, as attributes of its own, only what the rules it feeds read: answer ``i`` of the pack is
attribute ``a<i>`` (multiple choice adds one boolean ``a<i>o<j>`` per option; free text is sent as
the index of the constant it equals, or -1), site attribute ``j`` is ``s<j>``, site type ``j`` is
the boolean ``t<j>``, derived fact ``j`` is the boolean ``f<j>``, "any hazard" is ``hz``, and a
helper result is ``x<j>``. No attribute ever holds item codes as values, so no attribute is
tested against more than a pack's own thresholds (D8).

**Conditions.** A rule's condition is put in negation normal form with the exact meaning of
:func:`~inspect_engine.conditions.holds` (a test on a missing value is false, ``answered: false``
is ``$nex``, a negated test on a missing value is true, types never coerce: D12) and becomes one
durable-rules pattern ``{k: <batch>} and <condition>``. A condition too large for one pattern is
split: sub-conditions become helper rules whose results (``x<j>``) feed a later context fact.

**Order.** Rules run in strata: a rule reading a fact runs after every rule deriving it, a rule
reading ``any_hazard`` after every hazard rule that does not depend on it, a rule after its
helpers. Each stratum is asserted as one or more context facts (*batches*) whose attributes
include everything derived so far; a rule's pattern tests its batch number ``k`` first. Batches
stay under the C core's limits (nodes per network node, properties per fact); a pack that cannot
is refused with :class:`EngineLimitError`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from inspect_engine.conditions import Condition
from inspect_engine.errors import ExitCode, InputError, InspectError
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


def node_count(e: _Expr) -> int:
    if isinstance(e, _Test):
        return 1
    if isinstance(e, _Op):
        return sum(node_count(k) for k in e.kids) + (1 if e.op == "$or" else 0)
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
        and node_count(e) + 1 <= MAX_PATTERN_NODES
        and len(_attrs(e)) + 1 <= MAX_PATTERN_ATTRS
    )


# --- subjects: what an attribute holds ----------------------------------------------------------


@dataclass(frozen=True)
class Subject:
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


def is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _pos_neg(subject: Subject, op: str, operand: Any) -> tuple[_Expr, _Expr]:
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


def _equals(subject: Subject, value: Any) -> tuple[_Expr, _Expr]:
    """``value == operand`` without coercion (True != 1, "1" != 1), over a present value."""
    a, kind = subject.attr, subject.kind
    if kind == "num" and is_num(value):
        return _Test("eq", a, float(value)), _Test("neq", a, float(value))
    if kind == "str" and _is_str(value):
        return _Test("eq", a, value), _Test("neq", a, value)
    if kind == "text" and _is_str(value):
        index = subject.constants.index(value)
        return _Test("eq", a, index), _Test("neq", a, index)
    if kind in ("bool", "flag") and isinstance(value, bool):
        return _Test("eq", a, value), _Test("eq", a, not value)
    return FALSE, TRUE  # a type the value never has; lists (multi) equal nothing


def _leaf(subject: Subject, op: str, operand: Any, positive: bool) -> _Expr:
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
class Node:
    """One durable-rules rule: a pack rule (``rule`` set) or a helper (``aux`` set)."""

    name: str
    expr: _Expr
    rule: str | None = None
    aux: str | None = None
    deps: set[str] = field(default_factory=set)
    stratum: int = 0
    batch: int = 0


@dataclass
class Batch:
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
    nodes: dict[str, Node]
    batches: list[Batch]
    items: dict[str, Subject]
    item_specs: dict[str, Any]
    site: dict[str, Subject]
    types: dict[str, Subject]
    facts: dict[str, Subject]
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
        self.items: dict[str, Subject] = {}
        self.item_specs: dict[str, Any] = {}
        self.site: dict[str, Subject] = {}
        self.types: dict[str, Subject] = {}
        self.facts: dict[str, Subject] = {}
        self.nodes: dict[str, Node] = {}
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
                self.items[item.id] = Subject(f"a{i}", "num")
            elif isinstance(spec, YesNoAnswer | ChoiceAnswer):
                self.items[item.id] = Subject(f"a{i}", "str")
            elif isinstance(spec, MultiChoiceAnswer):
                options = tuple(o.value for o in spec.options)
                self.items[item.id] = Subject(f"a{i}", "multi", options=options)
            else:
                assert isinstance(spec, TextAnswer)
                self.items[item.id] = Subject(f"a{i}", "text", constants=texts)
        kinds = {"bool": "bool", "number": "num", "text": "text"}
        for j, attr in enumerate(pack.manifest.site_attributes):
            texts = tuple(constants.get(("site", attr.id), [])) if attr.type == "text" else ()
            self.site[attr.id] = Subject(f"s{j}", kinds[attr.type], constants=texts)
        names: list[str] = [t.id for t in pack.manifest.site_types]
        facts: list[str] = [f.id for f in pack.manifest.facts]
        for rule in pack.rules:
            facts += [f for f in rule.derive if f not in facts]
            for node in rule.when.walk():
                if node.site == "types" and node.contains not in names and node.contains:
                    names.append(node.contains)
                if node.fact is not None and node.fact not in facts:
                    facts.append(node.fact)
        self.types = {name: Subject(f"t{j}", "flag") for j, name in enumerate(names)}
        self.facts = {name: Subject(f"f{j}", "flag") for j, name in enumerate(facts)}

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
        by_size = sorted(range(len(kids)), key=lambda i: (-node_count(kids[i]), i))
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
        self.nodes[name] = Node(name=name, expr=self.fit(e), aux=name)
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
            self.nodes[name] = Node(name=name, expr=self.fit(expr), rule=rule.id)
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

    def _batches(self) -> list[Batch]:
        order = sorted(self.nodes.values(), key=lambda n: (n.stratum, _node_key(n.name)))
        batches: list[Batch] = []
        current: Batch | None = None
        stratum, used_nodes, used_attrs = -1, 0, set[str]()
        for node in order:
            size = node_count(node.expr) + 1
            attrs = set(_attrs(node.expr)) if not isinstance(node.expr, _Const) else set()
            if (
                current is None
                or node.stratum != stratum
                or used_nodes + size > MAX_BATCH_NODES
                or len(used_attrs | attrs) > MAX_BATCH_ATTRS
            ):
                current = Batch(k=len(batches), attrs=[], nodes=[])
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
            batches.append(Batch(k=0, attrs=[], nodes=[]))  # rules that can never fire
        return batches

    def _definition(self, batches: list[Batch]) -> dict[str, Any]:
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


def _check_hashes(pack_id: str, compiler: _Compiler, batches: list[Batch]) -> None:
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


def compile_plan(pack: RulePack, digest: str = "") -> CompiledPack:
    """``pack`` as durable-rules rules and context-fact batches (``ruleset`` still unnamed);
    :class:`EngineLimitError` if it cannot stay within the C core's limits."""
    return _Compiler(pack).compile(digest)


def limit_problems(pack: RulePack) -> list[str]:
    """Why the engine would refuse ``pack`` (empty when it takes it); compiles nothing in C."""
    try:
        compile_plan(pack)
    except EngineLimitError as err:
        return [err.message]
    return []
