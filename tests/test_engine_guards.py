"""Regression tests for every durable-rules failure mode our use can reach (libraries.md §1.4).

Each guard is tested through the engine. Where it helps to show the mode is real in the pinned
durable-rules 2.0.28, a ``test_dN_library_...`` test reproduces it on the raw library, in a
child process so that a segfault or a hang stays there; if one of those starts failing, the
library changed and the guard can be reconsidered.
"""

from __future__ import annotations

import gc
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from inspect_engine import engine, engine_compile
from inspect_engine.engine import (
    MAX_BATCH_ATTRS,
    MAX_BATCH_NODES,
    MAX_BATCHES,
    SID,
    EngineError,
    EngineLimitError,
    compile_pack,
    fired_rules,
    fnv1a32,
    limit_problems,
    live_sessions,
)
from inspect_engine.engine_compile import node_count
from inspect_engine.reference_eval import reference_outcome
from inspect_engine.rulepack import RulePack
from tests.engine_helpers import item, make_pack, rule

ROOT = Path(__file__).resolve().parent.parent
ALL_COMPLIANT = {"T.LAND.01": "yes", "T.HAZ.01": "no", "T.USE.01": "home"}


def _python(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter of this venv, from the repository root."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


_RAW_HOST = """
    from durable import engine
    class Host(engine.Host):
        def _run(self):
            pass
    host = Host()
"""


def _session_gone(pack: RulePack) -> bool:
    try:
        engine._host().get_facts(compile_pack(pack).ruleset, SID)
    except Exception as err:  # noqa: BLE001 - durable_rules_engine.error has no stable type
        return "309" in str(err)
    return False


def _fresh(name: str, **kw: Any) -> RulePack:
    """A small pack of its own (so it compiles to a ruleset of its own)."""
    items = [item("F.Q.01", {"type": "yes_no"}), item("F.N.01", _number())]
    rules = [
        rule("F.R.NO", {"answer": "F.Q.01", "eq": "no"}),
        rule("F.R.DEEP", {"answer": "F.N.01", "ge": 3}),
    ]
    return make_pack(items, rules, pack_id=name, **kw)


def _number(top: float = 100) -> dict[str, Any]:
    return {"type": "number", "unit": "m", "min": 0, "max": top}


# --- D1 / D2: segfault deleting a session whose facts matched nothing -------------------------


def test_d1_all_compliant_inspection_is_cleaned_up_without_a_crash() -> None:
    """An inspection where every answer is compliant fires no rule; its session is deleted and
    the process lives on (run in a child process: a regression would be a segfault)."""
    result = _python(
        """
        from pathlib import Path
        from inspect_engine.engine import fired_rules, live_sessions
        from inspect_engine.packs import load_pack
        packs = Path("tests/data/packs/good")
        pack = load_pack(packs / "mini", root=packs)
        answers = {"T.LAND.01": "yes", "T.HAZ.01": "no", "T.USE.01": "home"}
        for _ in range(3):
            assert fired_rules(pack, {"building"}, answers, {}).fired == ()
        assert fired_rules(pack, {"site"}, {}, {}).fired == ()
        assert live_sessions() == 0
        print("alive")
        """
    )
    assert (result.returncode, result.stdout.strip()) == (0, "alive"), result.stderr


def test_d1_library_segfaults_without_a_catch_all_rule() -> None:
    """Why the guard exists: raw durable-rules, a fact no rule matches, delete_state: SIGSEGV."""
    result = _python(
        _RAW_HOST
        + """
    host.set_rulesets({"rs": {"r": {"all": [{"m": {"a": "x"}}], "run": lambda c: None}}})
    try:
        host.assert_fact("rs", {"id": "1", "sid": "s", "a": "y"})
    except engine.MessageNotHandledException:
        pass
    host.delete_state("rs", "s")
    print("survived")
    """
    )
    assert result.returncode == -signal.SIGSEGV, (result.returncode, result.stdout)


def test_d2_every_ruleset_has_a_catch_all_and_unmatched_facts_are_fine(
    mini_pack: RulePack,
) -> None:
    """Every fact is handled (no MessageNotHandledException reaches us), whatever the answers."""
    compiled = compile_pack(mini_pack)
    assert compiled.definition["catch_all"] == {"all": [{"m": {"$ex": {"k": 1}}}]}
    assert fired_rules(mini_pack, {"building"}, ALL_COMPLIANT, {}).fired == ()
    assert _session_gone(mini_pack)


# --- D3: 32-bit hashes stand for ids, sessions and property names -----------------------------


def test_d3_our_hash_is_the_cores_and_finds_the_known_collision() -> None:
    """fnv1a32 reproduces the core's constants and the measured F-0122789/F-0339192 clash."""
    assert fnv1a32("$eq") == 256037865 and fnv1a32("id") == 926444256
    assert fnv1a32("F-0122789") == fnv1a32("F-0339192")


def test_d3_library_drops_a_colliding_fact_as_already_observed() -> None:
    """Why the guard exists: the second of two colliding ids is refused as a duplicate."""
    result = _python(
        _RAW_HOST
        + """
    rules = {"c": {"all": [{"m": {"$ex": {"k": 1}}}], "run": lambda c: None}}
    host.set_rulesets({"rs": rules})
    host.assert_fact("rs", {"id": "F-0122789", "sid": "s", "k": 1})
    try:
        host.assert_fact("rs", {"id": "F-0339192", "sid": "s", "k": 2})
        print("accepted")
    except engine.MessageObservedException:
        print("observed")
    """
    )
    assert result.stdout.strip() == "observed", result.stderr


def test_d3_an_observed_new_fact_is_an_error_never_swallowed(mini_pack: RulePack) -> None:
    """If durable-rules ever takes a new fact for one it has seen, evaluation stops with a clear
    EngineError; nothing is dropped silently."""
    compiled, ruleset, _sink = engine._compiled(mini_pack)
    run = engine._Run(compiled, frozenset(), {}, {})
    host = engine._host()
    try:
        run._assert(host, ruleset, {"id": "F-0122789", "sid": "d3", "k": -1})
        with pytest.raises(EngineError, match="already observed.*D3"):
            run._assert(host, ruleset, {"id": "F-0339192", "sid": "d3", "k": -1})
    finally:
        host.delete_state(ruleset._name, "d3")


def test_d3_names_that_would_collide_are_refused_at_compile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Attribute names, fact ids and the session id are checked for 32-bit clashes; a clash is
    an EngineLimitError before any C call."""
    monkeypatch.setattr(engine_compile, "fnv1a32", lambda text: 7)
    with pytest.raises(EngineLimitError, match="share a 32-bit hash"):
        compile_pack(_fresh("clash"))
    assert limit_problems(_fresh("clash")) != []


def test_d3_names_within_the_limits_never_collide() -> None:
    """Every name a pack within the limits can produce hashes apart, so the check never trips."""
    names = ["id", "sid", "$s", "k", "hz"]
    for prefix in "asftxr":
        names += [f"{prefix}{i}" for i in range(2000)]
    names += [f"a{i}o{j}" for i in range(480) for j in range(40)]
    assert len({fnv1a32(n) for n in names}) == len(names)
    ids = [f"b{k}" for k in range(MAX_BATCHES)] + ["end", f"sid-{SID}"]
    assert len({fnv1a32(n) for n in ids}) == len(ids)


# --- D4 / D9: at most 1024 live sessions; memory per session -------------------------------


def test_d4_library_refuses_the_1025th_live_session() -> None:
    """Why the guard exists: a ruleset holds at most 1024 live sessions."""
    result = _python(
        _RAW_HOST
        + """
    host.set_rulesets({"rs": {"c": {"all": [{"m": {"$ex": {"k": 1}}}], "run": lambda c: None}}})
    for n in range(1100):
        try:
            host.assert_fact("rs", {"id": "f", "sid": str(n), "k": 1})
        except MemoryError:
            print(n)
            break
    """
    )
    assert result.stdout.strip() == "1024", result.stderr


def test_d4_sessions_never_accumulate(mini_pack: RulePack) -> None:
    """1,100 evaluations in a row (more than 1024) work; after each no session is left."""
    for n in range(1100):
        answers = {"T.LAND.01": "no" if n % 2 else "yes"}
        assert fired_rules(mini_pack, {"building"}, answers, {}).fired == (
            ("T.R.LAND",) if n % 2 else ()
        )
        assert live_sessions() == 0
    assert _session_gone(mini_pack)


def _rss_kb() -> int:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * 4


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_d9_memory_does_not_grow_over_10000_evaluations(
    mini_pack: RulePack, capsys: pytest.CaptureFixture[str]
) -> None:
    """10,000 evaluations of assorted sites: after a 1,000-evaluation warm-up, resident memory
    and the number of Python objects stay flat (sessions are deleted, nothing is cached per
    evaluation)."""
    inputs: list[tuple[set[str], dict[str, Any], dict[str, Any]]] = [
        ({"building"}, ALL_COMPLIANT, {}),
        ({"building"}, {"T.LAND.01": "no", "T.HAZ.01": "yes"}, {}),
        ({"building"}, {"T.USE.01": "hotel"}, {"crowded": True}),
        ({"site"}, {"T.PIT.01": 4.0, "T.PIT.02": "no"}, {}),
        ({"site"}, {"T.PIT.01": 1e-07}, {}),
        ({"site", "building"}, {}, {}),
    ]
    results: dict[int, Any] = {}
    figures: dict[int, tuple[int, int]] = {}
    for n in range(10_000):
        types, answers, site = inputs[n % len(inputs)]
        out = fired_rules(mini_pack, types, answers, site)
        results.setdefault(n % len(inputs), out)
        assert out == results[n % len(inputs)]
        if n + 1 in (1_000, 10_000):
            gc.collect()
            figures[n + 1] = (_rss_kb(), len(gc.get_objects()))
    grown_kb = figures[10_000][0] - figures[1_000][0]
    grown_objects = figures[10_000][1] - figures[1_000][1]
    with capsys.disabled():
        print(
            f"\nRSS after 1,000: {figures[1_000][0]} kB, after 10,000: {figures[10_000][0]} kB "
            f"({grown_kb:+d} kB); Python objects {grown_objects:+d}"
        )
    assert grown_kb < 2048
    assert grown_objects < 200
    assert live_sessions() == 0


# --- D5 / D10 / D11 / D13: threads, batches, locking, actions ------------------------------------


def test_d5_batch_asserts_and_events_are_refused(mini_pack: RulePack) -> None:
    """The engine never batches (actions would run late, on another thread); its ruleset refuses
    batches and events outright, and no action is left pending after an evaluation."""
    ruleset = engine._compiled(mini_pack)[1]
    with pytest.raises(EngineError, match="D5"):
        ruleset.assert_facts([{"id": "x", "sid": "z", "k": 0}])
    with pytest.raises(EngineError, match="facts"):
        ruleset.assert_event({"id": "x", "sid": "z", "k": 0})
    fired_rules(mini_pack, {"building"}, {"T.LAND.01": "no"}, {})
    assert engine.durable_rules_engine.start_action(ruleset._handle) is None  # type: ignore[attr-defined]


def test_d10_one_host_and_no_background_threads(mini_pack: RulePack) -> None:
    """One Host serves the process and it starts no dispatcher threads: compiling new rulesets
    and evaluating leave the thread count as it was."""
    before = {t.ident for t in threading.enumerate()}
    compile_pack(_fresh("threads"))
    fired_rules(mini_pack, {"building"}, {"T.LAND.01": "no"}, {})
    assert engine._host() is engine._host()
    assert {t.ident for t in threading.enumerate()} == before


def test_d13_actions_run_synchronously_on_the_calling_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every action runs inside assert_fact, on the thread that evaluates, and only records."""
    seen: list[int] = []
    original = engine._recorder

    def spying(sink: list[tuple[str, Any]], name: str) -> Any:
        inner = original(sink, name)

        def action(c: Any) -> None:
            seen.append(threading.get_ident())
            inner(c)

        return action

    monkeypatch.setattr(engine, "_recorder", spying)
    pack = _fresh("spied")
    assert fired_rules(pack, {"a"}, {"F.Q.01": "no", "F.N.01": 5.0}, {}).fired == (
        "F.R.NO",
        "F.R.DEEP",
    )
    assert seen and set(seen) == {threading.get_ident()}


def test_d11_concurrent_callers_get_the_serial_answers(mini_pack: RulePack) -> None:
    """Four threads evaluating at once (all engine calls take one lock) get exactly what one
    thread gets, and leave no session behind."""
    cases: list[tuple[set[str], dict[str, Any]]] = [
        ({"building"}, {"T.LAND.01": "no", "T.HAZ.01": "yes"}),
        ({"site"}, {"T.PIT.01": 4.0, "T.PIT.02": "no"}),
        ({"building"}, ALL_COMPLIANT),
    ]
    expected = [fired_rules(mini_pack, t, a, {}) for t, a in cases]
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for n in range(300):
                i = (n + offset) % len(cases)
                assert fired_rules(mini_pack, cases[i][0], cases[i][1], {}) == expected[i]
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert live_sessions() == 0


# --- D6: exceptions inside actions are swallowed into the session state ------------------------


def test_d6_a_failing_action_is_an_error_and_the_session_still_goes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An exception inside an action (durable-rules writes it into the state and carries on)
    stops the evaluation with an EngineError; the session is deleted all the same."""

    def broken(sink: list[tuple[str, Any]], name: str) -> Any:
        def action(c: Any) -> None:
            raise RuntimeError("boom")

        return action

    monkeypatch.setattr(engine, "_recorder", broken)
    pack = _fresh("broken")
    with pytest.raises(EngineError, match="action failed.*boom"):
        fired_rules(pack, {"a"}, {"F.Q.01": "no"}, {})
    assert live_sessions() == 0
    assert _session_gone(pack)


# --- D7: a ruleset name cannot be redefined ------------------------------------------------------


def test_d7_changed_pack_with_the_same_version_gets_a_ruleset_of_its_own() -> None:
    """Two packs with one id and version but different rules each compile to their own ruleset
    (names carry a content hash and a serial) and each gives its own answers; the same content
    compiles once."""
    one = make_pack(
        [item("V.Q.01", {"type": "yes_no"})],
        [rule("V.R.1", {"answer": "V.Q.01", "eq": "no"})],
        pack_id="versioned",
    )
    two = make_pack(
        [item("V.Q.01", {"type": "yes_no"})],
        [rule("V.R.1", {"answer": "V.Q.01", "eq": "yes"})],
        pack_id="versioned",
    )
    again = one.model_copy()
    assert (one.id, one.version) == (two.id, two.version)
    first, second = compile_pack(one), compile_pack(two)
    assert first.ruleset != second.ruleset
    assert compile_pack(again) is first
    assert fired_rules(one, {"a"}, {"V.Q.01": "no"}, {}).fired == ("V.R.1",)
    assert fired_rules(two, {"a"}, {"V.Q.01": "no"}, {}).fired == ()
    with pytest.raises(EngineError, match="D7"):
        engine._host().add(engine._compiled(one)[1])


# --- D8: ~512 distinct constants under one node hang the process --------------------------------


def test_d8_wide_packs_compile_and_agree_with_the_plain_reading() -> None:
    """480 rules testing one number against 480 thresholds, a rule with 600 values in one 'in',
    and 480 items with a rule each: the engine splits them under its limits, and gives the
    plain reading's answers (in a child process with a timeout: a regression would hang)."""
    result = _python(
        """
        from inspect_engine.engine import (
            MAX_BATCH_ATTRS, MAX_BATCH_NODES, compile_pack, fired_rules)
        from inspect_engine.reference_eval import reference_outcome
        from tests.engine_helpers import item, make_pack, rule

        number = {"type": "number", "unit": "m", "min": 0, "max": 1000}
        one_attr = make_pack(
            [item("W.N.01", number)],
            [rule(f"W.R.{i}", {"answer": "W.N.01", "eq": i}) for i in range(480)]
            + [rule("W.R.IN", {"answer": "W.N.01", "in": [i / 2 for i in range(600)]})],
            pack_id="wide-one",
        )
        many = make_pack(
            [item(f"M.Q.{i}", {"type": "yes_no"}) for i in range(480)],
            [rule(f"M.R.{i}", {"answer": f"M.Q.{i}", "eq": "no"}) for i in range(480)],
            pack_id="wide-many",
        )
        for pack, inputs in (
            (one_attr, [{"W.N.01": v} for v in (0.0, 17.0, 17.5, 299.5, 479.0, 600.0)]),
            (many, [{}, {f"M.Q.{i}": "no" for i in range(0, 480, 7)},
                    {f"M.Q.{i}": ("no" if i % 3 else "yes") for i in range(480)}]),
        ):
            compiled = compile_pack(pack)
            assert all(len(b.attrs) <= MAX_BATCH_ATTRS for b in compiled.batches)
            for answers in inputs:
                got = fired_rules(pack, {"a"}, answers, {})
                assert got == reference_outcome(pack, {"a"}, answers, {}), answers
            print(pack.id, compiled.asserts, len(compiled.nodes))
        """,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.strip().splitlines())
    assert set(lines) == {"wide-one", "wide-many"}


def test_d8_no_node_can_reach_the_hanging_fan_out() -> None:
    """Every batch keeps under MAX_BATCH_NODES alpha nodes and MAX_BATCH_ATTRS attributes, so
    no node of the network gets near 512 children (or 128 non-equality ones)."""
    pack = make_pack(
        [item("W.N.01", _number(1000))],
        [rule(f"W.R.{i}", {"answer": "W.N.01", "eq": i}) for i in range(300)],
        pack_id="fan-out",
    )
    compiled = compile_pack(pack)
    for batch in compiled.batches:
        nodes = sum(node_count(compiled.nodes[n].expr) + 1 for n in batch.nodes)
        assert nodes <= MAX_BATCH_NODES
        assert len(batch.attrs) <= MAX_BATCH_ATTRS
    assert compiled.asserts == 5  # 300 rules of 2 nodes (gate and test), 60 per batch


def test_d8_a_pack_beyond_the_engines_limits_is_refused_clearly() -> None:
    """A chain of 401 derived facts would need 401 context facts: refused before durable-rules
    sees it, with an error that says why and what to do."""
    items = [item("C.N.01", _number())]
    facts = [f"c{i}" for i in range(MAX_BATCHES + 1)]
    rules = [rule("C.R.0", {"answer": "C.N.01", "ge": 1}, derive=[facts[0]], with_finding=False)]
    rules += [
        rule(f"C.R.{i}", {"fact": facts[i - 1], "eq": True}, derive=[facts[i]], with_finding=False)
        for i in range(1, len(facts))
    ]
    pack = make_pack(items, rules, facts=facts, pack_id="chain")
    (problem,) = limit_problems(pack)
    assert f"at most {MAX_BATCHES}" in problem and "split the pack" in problem
    before = len(engine._CACHE)
    with pytest.raises(EngineLimitError):
        fired_rules(pack, {"a"}, {}, {})
    assert len(engine._CACHE) == before


@pytest.mark.slow
def test_d8_library_hangs_with_512_constants_on_one_attribute() -> None:
    """Why the guard exists: rules testing one attribute against 512 values (plus a catch-all,
    as every ruleset of ours has) hang inside C, holding the GIL."""
    with pytest.raises(subprocess.TimeoutExpired):
        _python(
            _RAW_HOST
            + """
    rules = {f"r{i}": {"all": [{"m": {"item": f"C{i}"}}], "run": lambda c: None}
             for i in range(512)}
    rules["all"] = {"all": [{"m": {"$ex": {"item": 1}}}], "run": lambda c: None}
    host.set_rulesets({"rs": rules})
    host.assert_fact("rs", {"id": "1", "sid": "s", "item": "C7"})
    print("done")
    """,
            timeout=8,
        )


# --- D12 / D14: values the C core misreads ------------------------------------------------------


def test_d12_library_matches_a_string_against_a_number() -> None:
    """Why answers are typed first: raw durable-rules takes "0.9" < 1.0 (and True < 3.0)."""
    result = _python(
        _RAW_HOST
        + """
    hits = []
    rule = {"all": [{"m": {"$lt": {"p": 1.0}}}], "run": lambda c: hits.append(c.m.p)}
    host.set_rulesets({"rs": {"r": rule}})
    host.assert_fact("rs", {"id": "1", "sid": "s", "p": "0.9"})
    print(hits)
    """
    )
    assert result.stdout.strip() == "['0.9']", result.stderr


def test_d14_library_cannot_read_exponent_numbers() -> None:
    """Found here: Python writes 1e-07 (no fraction) and the core's JSON parser refuses it
    (error 204), in rules and in facts alike."""
    result = _python(
        _RAW_HOST
        + """
    host.set_rulesets({"rs": {"r": {"all": [{"m": {"$lt": {"n": 0.5}}}], "run": lambda c: None}}})
    try:
        host.assert_fact("rs", {"id": "1", "sid": "s", "n": 1e-07})
        print("read")
    except Exception as err:
        print(err)
    """
    )
    assert "error code: 204" in result.stdout, result.stderr


def test_d14_tiny_and_huge_numbers_compare_exactly() -> None:
    """The engine writes its own JSON (1.0e-07), so thresholds and answers at any magnitude
    compare as in Python."""
    number = {"type": "number", "unit": "m", "min": 0, "max": 1e20}
    pack = make_pack(
        [item("E.N.01", number)],
        [
            rule("E.R.TINY", {"answer": "E.N.01", "lt": 1e-05}),
            rule("E.R.EXACT", {"answer": "E.N.01", "eq": 1e-07}),
            rule("E.R.HUGE", {"answer": "E.N.01", "ge": 2e16}),
        ],
        pack_id="exponents",
    )
    for value in (0.0, 1e-07, 9.999999999999999e-06, 1e-05, 1.9e16, 2e16, 3e19):
        answers = {"E.N.01": value}
        assert fired_rules(pack, {"a"}, answers, {}) == reference_outcome(
            pack, {"a"}, answers, {}
        ), value
    assert engine.dumps({"x": 1e-07, "y": 2e16, "z": True, "w": 1}) == (
        '{"x":1.0e-07,"y":2.0e+16,"z":true,"w":1}'
    )


def test_a_locale_with_a_decimal_comma_is_refused(
    mini_pack: RulePack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The core reads numbers with atof(); under a decimal-comma locale it would misread them,
    so the engine refuses to run rather than answer wrongly."""
    monkeypatch.setattr("locale.localeconv", lambda: {"decimal_point": ","})
    with pytest.raises(EngineError, match="decimal point"):
        fired_rules(mini_pack, {"site"}, {"T.PIT.01": 3.5}, {})


def test_deep_conditions_fit_the_cores_expression_slots() -> None:
    """A pattern has 32 expression slots, two per $and/$or (error 113 beyond): a condition
    nested 20 deep is split into helper rules and still means what the plain reading says."""
    items = [item(f"N.Q.{i}", {"type": "yes_no"}) for i in range(21)]
    cond: dict[str, Any] = {"answer": "N.Q.0", "eq": "yes"}
    for i in range(1, 21):
        form = "all" if i % 2 else "any"
        cond = {form: [cond, {"not": {"answer": f"N.Q.{i}", "eq": "no"}}]}
    pack = make_pack(items, [rule("N.R.DEEP", cond)], pack_id="deep")
    compiled = compile_pack(pack)
    assert any(name.startswith("x") for name in compiled.nodes)
    for pattern in compiled.definition.values():
        assert str(pattern).count("'$and'") + str(pattern).count("'$or'") <= 15
    for answers in (
        {},
        {f"N.Q.{i}": "yes" for i in range(21)},
        {f"N.Q.{i}": "no" for i in range(21)},
        {f"N.Q.{i}": ("yes" if i % 3 else "no") for i in range(21)},
        {"N.Q.0": "yes", "N.Q.20": "no"},
    ):
        assert fired_rules(pack, {"a"}, answers, {}) == reference_outcome(
            pack, {"a"}, answers, {}
        ), answers
