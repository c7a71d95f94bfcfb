"""The rule engine: a pack's rules compiled into durable-rules rulesets and run through sessions.

This is the only module that imports ``durable_rules``. Its interface is small:

* :func:`fired_rules` - which rules fire for a site and its checked answers (an
  :class:`~inspect_engine.reference_eval.Outcome`, the same shape as the plain-Python reading);
* :func:`engine_fired` - the same as a :data:`~inspect_engine.cases.Evaluator` for rule cases;
* :func:`compile_pack` / :func:`limit_problems` - compile ahead of use, or only check the limits.

What it computes is fixed by :mod:`inspect_engine.conditions` and
:mod:`inspect_engine.reference_eval`; the property tests hold the two to the same outcome.
:mod:`inspect_engine.engine_compile` turns a pack into rules and context facts; this module
registers them with durable-rules and runs each evaluation in a session of its own, behind the
guards of ``docs/engine.md`` (libraries.md §1.4): one Host per process that starts no threads,
one lock around every call, one fact per assert, a catch-all rule, state checked for swallowed
action errors, versioned ruleset names, and the session deleted whatever happens.
"""

from __future__ import annotations

import locale
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import durable_rules_engine
from durable import engine as _dr

from inspect_engine.conditions import AnswerValue, Scalar
from inspect_engine.engine_compile import (
    MAX_BATCH_ATTRS,
    MAX_BATCH_NODES,
    MAX_BATCHES,
    SID,
    Batch,
    CompiledPack,
    EngineError,
    EngineLimitError,
    Subject,
    compile_plan,
    dumps,
    fnv1a32,
    is_num,
    limit_problems,
    pack_digest,
)
from inspect_engine.reference_eval import Outcome
from inspect_engine.rulepack import RulePack, YesNoAnswer

__all__ = [
    "MAX_BATCHES",
    "MAX_BATCH_ATTRS",
    "MAX_BATCH_NODES",
    "SID",
    "CompiledPack",
    "EngineError",
    "EngineLimitError",
    "compile_pack",
    "dumps",
    "engine_fired",
    "fired_rules",
    "fnv1a32",
    "limit_problems",
    "live_sessions",
    "pack_digest",
]

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
        compiled = compile_plan(pack, key[2])
        _SERIAL += 1
        safe = "".join(c if c.isalnum() else "_" for c in f"{pack.id}_{pack.version}")
        compiled.ruleset = f"ie_{safe}_{key[2][:12]}_{_SERIAL}"
        sink: list[tuple[str, Any]] = []
        actions = {name: _recorder(sink, name) for name in compiled.definition}
        try:
            ruleset = _Ruleset(compiled.ruleset, _host(), compiled.definition, actions)
        except durable_rules_engine.error as err:  # a limit engine_compile does not know of
            raise EngineError(f"durable-rules could not compile pack {pack.id}: {err}") from None
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

    def _answer(self, item_id: str, s: Subject, value: Any) -> None:
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

    def _site(self, name: str, s: Subject, value: Any) -> None:
        ok = {
            "bool": isinstance(value, bool),
            "num": is_num(value) and math.isfinite(float(value)),
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

    def _take(self, sink: list[tuple[str, Any]], batch: Batch) -> None:
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
