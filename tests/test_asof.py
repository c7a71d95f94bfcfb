"""``as_of(projection, cut-off)`` against the replay of the events up to the cut-off.

The replay is ``Ledger.projection_as_of(cutoff, answers=False)``; both are compared through
:func:`dump`, which writes out every field of every state object (histories, plans, versions,
orders, rejected events, conflicts, enrollments) with dictionary and list order. Ledgers are
made through the real ``Ledger`` API: a generated city (``benchmarks.citygen`` at scale 0.01),
a hand-made two-device ledger with every kind of event, random single-device ledgers
(hypothesis), and two ledgers that show the documented differences (module docstring of
:mod:`inspect_engine.asof`).

At every cut-off compared, ``as_of(..., share=True)`` is compared with the copying ``as_of``
too (:func:`check_shared`), and where every time is in the devices' shape the comparison as text
with the exact test (:func:`check_text_path`). ``Ledger.state_at`` shares on a read-only ledger
and copies on a writable one (whose projection later events change in place).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from benchmarks import citygen
from inspect_engine.asof import (
    CHINA_TIME_TEXT,
    _as_of,
    _compared_as_text,
    _Cut,
    all_in_devices_shape,
    as_of,
    china_time_text,
    later_than,
)
from inspect_engine.clock import CHINA, FixedClock
from inspect_engine.errors import InputError
from inspect_engine.events import DeviceEnrolled, parse_time
from inspect_engine.ledger import Ledger
from inspect_engine.projection import Projection
from inspect_engine.rectification import FiveImplementations, Status
from inspect_engine.reports.week import ReportWeek, week_containing
from tests.reliability import kit

SECOND = dt.timedelta(seconds=1)
UTC = dt.UTC


# -- the comparison ------------------------------------------------------------------------------


def _fields(cls: type) -> list[tuple[str, str]]:
    """(attribute, name in the dump) of a state class's fields; private storage behind a
    property (``_answers``) is read through the property, other private fields are left out."""
    out = []
    for f in dataclasses.fields(cls):
        if not f.name.startswith("_"):
            out.append((f.name, f.name))
        elif hasattr(cls, f.name[1:]):
            out.append((f.name[1:], f.name[1:]))
    return out


_FIELDS: dict[type, list[tuple[str, str]]] = {}


def _plain(x: Any) -> Any:
    """``x`` as data to compare: every dataclass and named-tuple field, dict order kept (as
    key/value pairs). Pydantic models (sites, plans, evidence) and a finding's ``data`` (the
    stored JSON) compare by value as they are."""
    if x is None or isinstance(x, str | int | float | BaseModel):
        return x
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        cls = type(x)
        fields = _FIELDS.get(cls) or _FIELDS.setdefault(cls, _fields(cls))
        out: dict[str, Any] = {"": cls.__name__}
        for attr, name in fields:
            value = getattr(x, attr)
            out[name] = value if name == "data" else _plain(value)
        return out
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return {"": type(x).__name__, **{k: _plain(getattr(x, k)) for k in x._fields}}
    if isinstance(x, enum.Enum):
        return x.value
    if isinstance(x, dt.date):
        return x.isoformat()
    if isinstance(x, dict):
        return [[k, _plain(v)] for k, v in x.items()]
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    raise TypeError(type(x))


def dump(proj: Projection) -> dict[str, Any]:
    """Everything a projection holds, in order."""
    return {
        name: _plain(getattr(proj, name))
        for name in (
            "sites",
            "inspections",
            "findings",
            "orders",
            "rejected",
            "conflicts",
            "enrollments",
            "applied",
        )
    }


def _non_answer_times(ledger: Ledger) -> list[dt.datetime]:
    return sorted({e.at for e in ledger.events() if e.kind != "inspection.answered"})


def _weekly(first: dt.datetime, last: dt.datetime) -> list[dt.datetime]:
    """Every Friday-report cut-off from the week before ``first`` to the week after ``last``."""
    week = week_containing(first.astimezone(CHINA).date()).before()
    out = []
    while week.cutoff <= last + dt.timedelta(days=7):
        out.append(week.cutoff)
        week = ReportWeek(week.cutoff + dt.timedelta(days=7))
    return out


def _around(times: list[dt.datetime]) -> list[dt.datetime]:
    return sorted({t + d for t in times for d in (-SECOND, dt.timedelta(0), SECOND)})


def compare(ledger: Ledger, cutoffs: list[dt.datetime]) -> int:
    """Assert ``as_of`` equals the replay at each cut-off, with and without sharing, and by
    either time test; returns how many were compared."""
    proj = ledger.projection
    before = dump(proj)
    unchanged = _without_answers(before)
    plain: dict[int, Any] = {}
    for cutoff in cutoffs:
        copied = as_of(proj, cutoff)
        derived = dump(copied)
        assert derived == dump(ledger.projection_as_of(cutoff, answers=False)), cutoff
        assert later_than(proj, cutoff) == (_without_answers(derived) != unchanged), cutoff
        check_shared(proj, cutoff, copied, derived, plain)
        check_text_path(proj, cutoff, derived)
    assert dump(proj) == before  # the input is never changed
    return len(cutoffs)


def _no_answers(x: Any) -> Any:
    """A dumped state object, an inspection's answers and current item dropped."""
    if x[""] == "InspectionState":
        return {**x, "answers": [], "current_item": None}
    return x


def _answerless(d: dict[str, Any]) -> dict[str, Any]:
    """A dump, its inspections' answers and current items dropped (all else kept)."""
    return {**d, "inspections": [[k, _no_answers(v)] for k, v in d["inspections"]]}


def check_shared(
    proj: Projection,
    cutoff: dt.datetime,
    copied: Projection,
    derived: dict[str, Any],
    plain: dict[int, Any],
) -> None:
    """``as_of(proj, cutoff, share=True)`` equals the copying result (``copied``, dumped as
    ``derived``) field by field, the answers and current item of the inspections it shares
    aside; it holds ``proj``'s own state object exactly where the copy equals it, a copy with no
    answers elsewhere, and lists of its own. ``plain``: ``proj``'s objects dumped, by id."""
    shared = as_of(proj, cutoff, share=True)
    assert _answerless(dump(shared)) == _answerless(derived), cutoff
    for name in ("sites", "inspections", "findings", "orders"):
        theirs, copies = getattr(proj, name), getattr(copied, name)
        for key, obj in getattr(shared, name).items():
            original = theirs[key]
            was = plain.get(id(original))
            if was is None:
                was = plain[id(original)] = _no_answers(_plain(original))
            copy = _no_answers(_plain(copies[key]))
            assert (obj is original) == (copy == was), (cutoff, name, key)
            if name == "inspections" and obj is not original:
                assert obj.answers == {} and obj.current_item is None, (cutoff, key)
    for name in ("rejected", "conflicts", "enrollments"):
        assert getattr(shared, name) is not getattr(proj, name)


def check_text_path(proj: Projection, cutoff: dt.datetime, derived: dict[str, Any]) -> None:
    """Where the cut-off and every time compared are in the devices' shape, comparing them as
    text gives what the exact test gives; ``as_of`` takes that path exactly then."""
    text = china_time_text(cutoff)
    if text is None:
        return
    seen: list[str] = []
    fast = _as_of(proj, _compared_as_text(text, seen.append), share=False)
    exact = _as_of(proj, _Cut(cutoff).__getitem__, share=False)
    assert dump(exact) == derived, cutoff
    in_shape = all(CHINA_TIME_TEXT.fullmatch(t) for t in seen)
    assert all_in_devices_shape(seen) == in_shape, cutoff
    if in_shape:
        assert dump(fast) == derived, cutoff


def _without_answers(d: dict[str, Any]) -> dict[str, Any]:
    """A dump as the replay without answer events would have it (``applied`` aside)."""
    out = dict(d)
    out["inspections"] = [
        [k, {**v, "answers": [], "current_item": None}] for k, v in d["inspections"]
    ]
    out["rejected"] = [r for r in d["rejected"] if r["kind"] != "inspection.answered"]
    out["applied"] = None
    return out


# -- a generated city ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    """The city benchmark at scale 0.01 (200 sites, 250 inspections, two devices), read-only."""
    data = tmp_path_factory.mktemp("city") / "data"
    citygen.generate(data, 0.01, 2020, log=False)
    with Ledger.open(data, readonly=True) as led:
        yield led


def test_city_every_week_and_around_event_times(city: Ledger) -> None:
    """Every weekly cut-off of the campaign, and 30 event times (findings' steps, orders,
    submissions) exactly and one second either side."""
    times = _non_answer_times(city)
    proj = city.projection
    assert any(any(s.action == "reopen" for s in f.history) for f in proj.findings.values())
    assert any(f.plan is not None for f in proj.findings.values()) and proj.orders
    sample = random.Random(2020).sample(times, 30)
    half = [t + dt.timedelta(microseconds=500_000) for t in sample[:5]]  # not as text
    n = compare(city, _weekly(times[0], times[-1]) + _around(sample) + half)
    assert n > 100
    assert all(CHINA_TIME_TEXT.fullmatch(t) for t in _times_of(proj))  # as_of compares as text


# -- a hand-made ledger with every kind of event ---------------------------------------------------


def at(month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0) -> dt.datetime:
    """A time in 2020, China time."""
    return dt.datetime(2020, month, day, hour, minute, second, tzinfo=CHINA)


def plan(deadline: dt.date, who: str = "业主") -> FiveImplementations:
    """A 五落实."""
    return FiveImplementations(
        responsible_person=who,
        measures="停止使用，加固",
        funds=3,
        deadline=deadline,
        contingency_plan="撤离人员",
    )


class Devices:
    """An office and a laptop, each with its own clock; ``sync()`` exchanges their events."""

    def __init__(self, root: Path) -> None:
        self.oc = FixedClock(at(9, 1, 9))
        # the laptop writes its times in UTC: the comparison must be by instant, not by text
        self.lc = FixedClock(at(9, 1, 9).astimezone(UTC))
        self.office = Ledger.open(root / "office", clock=self.oc, actor="办公室")
        self.lap = Ledger.open(root / "laptop", clock=self.lc, actor="张三")

    def o(self, when: dt.datetime) -> Ledger:
        """The office, its clock at ``when``."""
        self.oc.set(when)
        return self.office

    def l(self, when: dt.datetime) -> Ledger:  # noqa: E743 - the laptop
        """The laptop, its clock at ``when`` (written in UTC)."""
        self.lc.set(when.astimezone(UTC))
        return self.lap

    def sync(self) -> None:
        """Both ways: afterwards both hold every event."""
        self.lap.import_events(self.office.events())
        self.office.import_events(self.lap.events())

    def close(self) -> None:
        self.office.close()
        self.lap.close()


def _start(led: Ledger, site: str) -> str:
    """Start an inspection of ``site``; its id."""
    return led.start_inspection(
        site, pack_id="building-safety", pack_version="1.0.0", method="open", inspectors=["张三"]
    ).id


def _inspect(
    led: Ledger, site: str, found: list[Any], *, submit: dt.datetime | None = None
) -> tuple[str, list[str]]:
    """Start an inspection of ``site``, answer one item, submit ``found`` (at ``submit``, if
    given); the inspection's and the findings' ids."""
    insp_id = _start(led, site)
    led.record_answer(insp_id, "Q1", "no")
    if submit is not None:
        assert isinstance(led.clock, FixedClock)
        led.clock.set(submit)
    return insp_id, [f.id for f in led.submit_inspection(insp_id, found)]


def build_loop(root: Path) -> dict[str, str]:
    """The hand-made ledger (the office's): returns ids by name.

    Site edits before and after cut-offs, an inspection cancelled and one left open with
    answers, a 重大 hazard with a plan revised and a reopen, a 一般 one reopened after 销号,
    a finding that is not a hazard, orders with and without a finding, lifted with and without a
    re-inspection, an enrollment, events exactly at a weekly cut-off and several at one time,
    and between the two devices: concurrent site edits and registrations (conflicts) and a
    concurrent second 销号 (rejected), each with times in the projection's order.
    """
    d = Devices(root)
    ids: dict[str, str] = {}
    d.o(at(9, 1, 9)).register_sites([kit.site(n) for n in range(6)])
    d.o(at(9, 1, 9, 5)).enroll_device(
        DeviceEnrolled(device_id="ab" * 16, role="laptop", inspector="张三", public_key="0" * 64)
    )
    d.sync()
    ids["I1"], (ids["major"], ids["minor"], ids["other"]) = _inspect(
        d.l(at(9, 2, 10)),
        "S0000",
        [kit.finding("R1", level="重大"), kit.finding("R2"), kit.finding("R3", hazard=False)],
        submit=at(9, 2, 10, 30).astimezone(UTC),
    )
    order = d.l(at(9, 2, 10, 31)).order_enforcement(
        "S0000", "stop_use", ordered_on=dt.date(2020, 9, 2), finding_id=ids["major"]
    )
    ids["stop_use"] = order.id
    ids["I2"] = _start(d.l(at(9, 3, 9)), "S0001")
    d.l(at(9, 3, 9, 20)).cancel_inspection(ids["I2"], "场所关门")
    order = d.l(at(9, 3, 9, 30)).order_enforcement(
        "S0001", "halt_event", ordered_on=dt.date(2020, 9, 3)
    )
    ids["halt"] = order.id
    ids["I3"] = _start(d.l(at(9, 3, 11)), "S0002")
    d.l(at(9, 3, 15)).report_rectified(ids["minor"], note="立行立改")
    d.l(at(9, 3, 15, 5)).record_answer(ids["I3"], "Q1", "yes")
    d.l(at(9, 4, 0)).set_plan(ids["major"], plan(dt.date(2020, 10, 1)))  # exactly a cut-off
    d.l(at(9, 4, 0)).start_rectification(ids["major"])  # the same second
    d.l(at(9, 8)).set_plan(ids["major"], plan(dt.date(2020, 10, 20), "业主（改）"))  # revised
    d.l(at(9, 10)).report_rectified(ids["major"])
    d.sync()
    d.o(at(9, 9)).register_sites([kit.site(2, county=3)])  # site.updated
    d.o(at(9, 11)).close_finding(ids["minor"], verifier="复查组")
    d.o(at(9, 12)).reopen_finding(ids["minor"], reason="又改回去了")  # reopened after 销号
    d.o(at(9, 15)).reopen_finding(ids["major"], reason="复查不合格")
    d.sync()
    d.l(at(9, 14)).report_rectified(ids["minor"])
    d.l(at(9, 18)).lift_enforcement(ids["halt"], lifted_on=dt.date(2020, 9, 18), basis="审查同意")
    d.l(at(9, 20)).report_rectified(ids["major"])
    ids["I4"], _ = _inspect(d.l(at(9, 21, 9)), "S0000", [], submit=at(9, 21, 10).astimezone(UTC))
    ids["I5"], (ids["F5"],) = _inspect(d.l(at(9, 21, 11)), "S0004", [kit.finding("R5")])
    d.l(at(9, 21, 12)).report_rectified(ids["F5"])
    d.sync()
    # Concurrent site edits, the laptop's first in time and in order (the office makes another
    # event before its own, so its Lamport time is higher): a conflict "concurrent edits".
    d.l(at(9, 22)).register_sites([kit.site(3, county=1)])
    d.o(at(9, 22, 12)).register_sites([kit.site(6)])
    d.o(at(9, 23)).register_sites([kit.site(3, county=2)])
    # A concurrent second 销号, the office's later in time and in order: rejected.
    d.l(at(9, 22, 13)).close_finding(ids["F5"], verifier="张三")
    d.o(at(9, 23, 12)).register_sites([kit.site(7)])
    d.o(at(9, 23, 13)).close_finding(ids["F5"], verifier="复查组")
    d.sync()
    d.o(at(9, 24)).close_finding(ids["major"], verifier="复查组")
    d.o(at(9, 25, 0, 0, 1)).lift_enforcement(
        ids["stop_use"], lifted_on=dt.date(2020, 9, 25), basis="复查合格", reinspection_id=ids["I4"]
    )
    d.sync()
    # Concurrent registrations of one new site, in time and in order: "registered twice".
    d.o(at(9, 26)).register_sites([kit.site(8)])
    d.l(at(9, 26, 12)).register_sites([kit.site(9)])
    d.l(at(9, 27)).register_sites([kit.site(8, county=4)])
    d.sync()
    d.o(at(10, 5)).register_sites([kit.site(2, county=4)])  # an edit after everything else
    d.close()
    return ids


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Ledger, dict[str, str]]]:
    """The hand-made ledger, read-only, and its ids."""
    root = tmp_path_factory.mktemp("loop")
    ids = build_loop(root)
    with Ledger.open(root / "office", readonly=True) as led:
        yield led, ids


def test_the_hand_made_ledger_has_every_case(loop: tuple[Ledger, dict[str, str]]) -> None:
    """The ledger holds what the comparison is meant to cover."""
    led, ids = loop
    proj = led.projection
    major, minor = proj.findings[ids["major"]], proj.findings[ids["minor"]]
    assert [s.action for s in major.history].count("plan") == 2 and major.status == Status.CLOSED
    assert [s.action for s in minor.history].count("reopen") == 1
    assert proj.inspections[ids["I2"]].status == "cancelled"
    assert proj.inspections[ids["I3"]].answers and proj.inspections[ids["I3"]].status == "open"
    assert all(o.lifted_on is not None for o in proj.orders.values())
    assert proj.orders[ids["stop_use"]].reinspection_id == ids["I4"]
    assert len(proj.sites["S0002"].versions) == 3 and len(proj.sites["S0008"].versions) == 2
    assert sorted(c.reason for c in proj.conflicts) == ["concurrent edits", "registered twice"]
    assert [r.kind for r in proj.rejected] == ["finding.closed"]
    assert proj.enrollments
    offsets = {e.time[-6:] for e in led.events()}
    assert offsets == {"+08:00", "+00:00"}


def test_loop_every_event_time_and_week(loop: tuple[Ledger, dict[str, str]]) -> None:
    """Every event time exactly and one second either side, and every weekly cut-off."""
    led, _ = loop
    times = _non_answer_times(led)
    assert compare(led, _around(times) + _weekly(times[0], times[-1])) > 100


def test_before_everything_is_empty(loop: tuple[Ledger, dict[str, str]]) -> None:
    """A cut-off before the first event: nothing at all."""
    led, _ = loop
    empty = as_of(led.projection, at(8, 1))
    assert dump(empty) == dump(Projection())
    assert dump(empty) == dump(led.projection_as_of(at(8, 1), answers=False))


def test_after_everything_is_the_projection_without_answers(
    loop: tuple[Ledger, dict[str, str]],
) -> None:
    """A cut-off after the last event: the projection itself, answers aside."""
    led, _ = loop
    proj = led.projection
    late = as_of(proj, at(12, 31))
    assert _without_answers(dump(late)) == _without_answers(dump(proj))
    events = sum(e.kind != "inspection.answered" for e in led.events())
    assert late.applied == events - len(late.rejected)
    assert not later_than(proj, at(12, 31)) and later_than(proj, at(10, 5) - SECOND)


def test_truncated_states(loop: tuple[Ledger, dict[str, str]]) -> None:
    """Spot checks of what the cut leaves, in the report's words."""
    led, ids = loop
    proj = led.projection
    then = as_of(proj, at(9, 9, 12))
    major = then.findings[ids["major"]]
    assert major.status == Status.IN_RECTIFICATION and major.closed_at is None
    assert major.plan is not None and major.plan.responsible_person == "业主（改）"
    assert [s.action for s in major.history] == ["raised", "plan", "start", "plan"]
    assert then.sites["S0002"].site.county == kit.COUNTIES[3][0]  # edited 09-09 10:00
    assert then.sites["S0002"].registered_at == proj.sites["S0002"].registered_at
    assert then.inspections[ids["I2"]].status == "cancelled"
    assert then.inspections[ids["I3"]].answers == {}
    assert ids["I4"] not in then.inspections
    earlier = as_of(proj, at(9, 3, 9, 10))
    assert earlier.inspections[ids["I2"]].status == "open"
    assert earlier.inspections[ids["I2"]].cancel_reason == ""
    assert earlier.findings[ids["minor"]].status == Status.OPEN
    closed = as_of(proj, at(9, 11, 12)).findings[ids["minor"]]
    assert closed.status == Status.CLOSED and closed.closed_at is not None
    assert parse_time(closed.closed_at) == at(9, 11)
    stop_use = as_of(proj, at(9, 25, 0)).orders[ids["stop_use"]]
    assert stop_use.in_force and stop_use.lifted_at is None and stop_use.reinspection_id is None


def test_shares_immutable_parts_and_owns_the_rest(tmp_path: Path) -> None:
    """The result shares sites' records and findings' data, has its own states and lists, and
    later changes to the live projection of a writable ledger do not reach it."""
    clock = kit.clock(at(9, 1))
    with Ledger.open(tmp_path, clock=clock, actor="张三") as led:
        led.register_sites([kit.site(1)])
        clock.set(at(9, 2))
        _, (fid,) = _inspect(led, "S0001", [kit.finding("R1")])
        proj = led.projection
        then = as_of(proj, at(9, 3))
        before = dump(then)
        assert then.sites["S0001"].site is proj.sites["S0001"].site
        assert then.sites["S0001"] is not proj.sites["S0001"]
        assert then.findings[fid].data is proj.findings[fid].data
        assert then.findings[fid].history is not proj.findings[fid].history
        clock.set(at(9, 4))
        led.report_rectified(fid)
        led.register_sites([kit.site(1, county=2)])
        assert len(proj.findings[fid].history) == 2 and len(proj.sites["S0001"].versions) == 2
        assert dump(then) == before


def test_state_at_of_a_writable_ledger_is_not_changed_by_later_events(tmp_path: Path) -> None:
    """A writable ledger changes its projection in place: ``state_at`` gives a copy, which the
    events applied afterwards do not reach, whether the cut-off falls inside the histories or
    after everything (where the projection itself would be the state); the next ``state_at``
    sees them."""
    clock = kit.clock(at(9, 1))
    with Ledger.open(tmp_path, clock=clock, actor="张三") as led:
        led.register_sites([kit.site(1), kit.site(2)])
        clock.set(at(9, 2))
        _, (fid,) = _inspect(led, "S0001", [kit.finding("R1")])
        open_id = _start(led, "S0002")
        led.record_answer(open_id, "Q1", "no")
        order = led.order_enforcement(
            "S0001", "stop_use", ordered_on=dt.date(2020, 9, 2), finding_id=fid
        )
        clock.set(at(9, 3))
        led.report_rectified(fid)
        inside, late = led.state_at(at(9, 2, 12)), led.state_at(at(9, 30))
        proj = led.projection
        assert later_than(proj, at(9, 2, 12)) and not later_than(proj, at(9, 30))
        before = dump(inside), dump(late)
        assert before[1] == dump(as_of(proj, at(9, 30)))
        clock.set(at(9, 4))
        led.close_finding(fid, verifier="复查组")
        led.register_sites([kit.site(1, county=2)])
        led.record_answer(open_id, "Q2", "yes")
        led.submit_inspection(open_id, [kit.finding("R2")])
        led.lift_enforcement(order.id, lifted_on=dt.date(2020, 9, 4), basis="复查合格")
        assert (dump(inside), dump(late)) == before
        now = led.state_at(at(9, 30))
        assert now.findings[fid].status == Status.CLOSED and now.orders[order.id].lifted_at
        assert dump(now) == dump(led.projection_as_of(at(9, 30), answers=False))


def test_state_at_of_a_read_only_ledger_shares(loop: tuple[Ledger, dict[str, str]]) -> None:
    """A read-only ledger's ``state_at`` is the sharing ``as_of`` (cached), or the projection
    itself when nothing is later than the cut-off; it equals the copying ``as_of`` answers
    aside."""
    led, ids = loop
    proj = led.projection
    cut = at(9, 9, 12)
    then = led.state_at(cut)
    assert then is led.state_at(cut)
    assert _answerless(dump(then)) == _answerless(dump(as_of(proj, cut)))
    assert then.sites["S0001"] is proj.sites["S0001"]  # never edited
    assert then.sites["S0002"] is not proj.sites["S0002"]  # edited again on 10-05
    assert then.findings[ids["other"]] is proj.findings[ids["other"]]  # not a hazard: no moves
    assert then.findings[ids["major"]] is not proj.findings[ids["major"]]
    assert then.inspections[ids["I3"]] is proj.inspections[ids["I3"]]  # open, with answers
    assert then.inspections[ids["I3"]].answers
    assert led.state_at(at(12, 31)) is proj


def _texts_near(text: str) -> list[str]:
    """``text`` (in the devices' shape) and texts one change away from it: each character
    replaced by one that looks alike or by a separator, dropped or doubled; a line break or
    a non-ASCII digit inside."""
    out = [text]
    for k, c in enumerate(text):
        others = {"0", "9", "d", "-", ":", "T", " ", "+", "\n", "\0", "\x01", "٣", "０"} - {c}
        out += [text[:k] + other + text[k + 1 :] for other in sorted(others)]
        out += [text[:k] + text[k + 1 :], text[:k] + c + text[k:]]
    return out + [text + "\n" + text, "", "\n", text[:-6] + "+00:00", text + "Z"]


def test_the_shape_of_many_texts_is_checked_as_one_by_one() -> None:
    """``all_in_devices_shape`` (all texts at once) agrees with the regular expression on
    every text near a good one, alone and among good ones, and on lists of good ones."""
    good = ["2020-11-27T00:00:00+08:00", "1999-01-31T23:59:59+08:00"]
    assert all_in_devices_shape(good) and all_in_devices_shape(good * 50)
    assert all_in_devices_shape([])
    for text in _texts_near(good[0]):
        expected = CHINA_TIME_TEXT.fullmatch(text) is not None
        assert all_in_devices_shape([text]) == expected, repr(text)
        assert all_in_devices_shape([good[1], text, good[0]]) == expected, repr(text)


def _times_of(proj: Projection) -> list[str]:
    """Every time a projection records of its sites, inspections, findings and orders."""
    out = [v.time for s in proj.sites.values() for v in s.versions]
    for i in proj.inspections.values():
        out += [t for t in (i.recorded_at, i.submitted_at, i.cancelled_at) if t is not None]
    out += [step.time for f in proj.findings.values() for step in f.history]
    for o in proj.orders.values():
        out += [t for t in (o.ordered_at, o.lifted_at) if t is not None]
    return out


def test_cutoff_must_be_aware(loop: tuple[Ledger, dict[str, str]]) -> None:
    """A naive cut-off is refused."""
    led, _ = loop
    with pytest.raises(InputError, match="timezone-aware"):
        as_of(led.projection, dt.datetime(2020, 9, 10))
    with pytest.raises(InputError, match="timezone-aware"):
        later_than(led.projection, dt.datetime(2020, 9, 10))


# -- random single-device ledgers ------------------------------------------------------------------

_OPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["site", "edit", "inspect", "inspect", "cancel", "order", "lift", "lift_re"]
            + ["plan", "start", "report", "report", "close", "close", "reopen"] * 2
        ),
        st.integers(min_value=0, max_value=7),
        st.sampled_from([0, 1, 60, 3600, 86400, 3 * 86400]),
    ),
    min_size=10,
    max_size=40,
)


def _play(led: Ledger, clock: FixedClock, ops: list[tuple[str, int, int]]) -> None:
    """Apply the operations; those the ledger refuses (``InputError``) are skipped."""
    findings: list[str] = []
    inspections: list[str] = []
    orders: list[str] = []
    led.register_sites([kit.site(n) for n in range(3)])
    for op, n, step in ops:
        clock.advance(seconds=step)
        proj = led.projection
        try:
            if op == "site":
                led.register_sites([kit.site(n % 4)])
            elif op == "edit":
                led.register_sites([kit.site(n % 4, county=n)])
            elif op == "inspect":
                level = "重大" if n % 3 == 0 else "一般"
                found = [kit.finding("R1", level=level), kit.finding("R2", hazard=n % 2 == 0)]
                insp_id, got = _inspect(led, f"S{n % 4:04d}", found[: n % 3])
                inspections.append(insp_id)
                findings += got
            elif op == "cancel":
                insp_id = _start(led, f"S{n % 4:04d}")
                if n % 2:
                    led.cancel_inspection(insp_id, "场所关门")
            elif op in ("plan", "start", "report", "close", "reopen") and findings:
                fid = findings[n % len(findings)]
                if op == "plan":
                    led.set_plan(fid, plan(dt.date(2020, 10, 1) + dt.timedelta(days=n)))
                elif op == "start":
                    led.start_rectification(fid)
                elif op == "report":
                    led.report_rectified(fid)
                elif op == "close":
                    led.close_finding(fid, verifier="复查组")
                else:
                    led.reopen_finding(fid, reason="复查不合格")
            elif op == "order":
                linked = findings[n % len(findings)] if findings and n % 2 else None
                site = proj.findings[linked].site_id if linked else f"S{n % 4:04d}"
                day = clock.now().date()
                orders.append(
                    led.order_enforcement(site, "stop_use", ordered_on=day, finding_id=linked).id
                )
            elif op in ("lift", "lift_re") and orders:
                order = proj.orders[orders[n % len(orders)]]
                re = None
                if op == "lift_re":
                    re = next(
                        (i for i in inspections if proj.inspections[i].site_id == order.site_id),
                        None,
                    )
                led.lift_enforcement(
                    order.id, lifted_on=clock.now().date(), basis="复查合格", reinspection_id=re
                )
        except InputError:
            pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=_OPS)
def test_random_ledgers_agree_with_the_replay(ops: list[tuple[str, int, int]]) -> None:
    """One device, times never going back: ``as_of`` equals the replay at every event time,
    one second either side, and before and after everything."""
    with tempfile.TemporaryDirectory() as tmp:
        clock = kit.clock(at(9, 1))
        with Ledger.open(Path(tmp), clock=clock, actor="张三") as led:
            with led.batch():
                _play(led, clock, ops)
            times = _non_answer_times(led)
            extra = [at(8, 1), clock.now() + dt.timedelta(days=1)]
            compare(led, _around(times) + extra)


# -- the documented differences --------------------------------------------------------------------


def test_concurrent_moves_stamped_across_the_cutoff(tmp_path: Path) -> None:
    """Two devices move one finding without seeing each other: the laptop reopens it on 10-02,
    the office closes it on 10-01 but sorts after the reopen (higher Lamport time), so the
    close is rejected. As of 10-01 12:00 the replay (without the reopen) applies the close;
    ``as_of`` keeps the decision the whole ledger made: not closed, the close in ``rejected``."""
    d = Devices(tmp_path)
    d.o(at(9, 1)).register_sites([kit.site(1)])
    d.sync()
    _, (fid,) = _inspect(d.l(at(9, 2)), "S0001", [kit.finding("R1")])
    d.l(at(9, 3)).report_rectified(fid)
    d.sync()
    d.l(at(10, 2)).reopen_finding(fid, reason="复查不合格")
    d.o(at(9, 30)).register_sites([kit.site(2)])  # the office's close sorts after the reopen
    d.o(at(10, 1)).close_finding(fid, verifier="复查组")
    d.sync()
    led = d.office
    cut = at(10, 1, 12)
    proj = led.projection
    assert [r.kind for r in proj.rejected] == ["finding.closed"]
    replay = led.projection_as_of(cut, answers=False)
    derived = as_of(proj, cut)
    assert replay.findings[fid].status == Status.CLOSED and not replay.rejected
    assert derived.findings[fid].status == Status.REPORTED
    assert [r.kind for r in derived.rejected] == ["finding.closed"]
    # either side of the two stamps they agree
    for agreed in (at(9, 30, 12), at(10, 2, 12)):
        assert dump(as_of(proj, agreed)) == dump(led.projection_as_of(agreed, answers=False))
    d.close()


def test_a_wrong_clock_on_a_dependency(tmp_path: Path) -> None:
    """The office's clock runs two days fast when it registers a site; the laptop inspects it
    at the right time. As of a cut-off between, the replay rejects the inspection (unknown
    site) and lists it; ``as_of`` leaves it out too, without listing it."""
    d = Devices(tmp_path)
    d.o(at(10, 3)).register_sites([kit.site(1)])  # really 10-01
    d.sync()
    _inspect(d.l(at(10, 1, 10)), "S0001", [kit.finding("R1")], submit=at(10, 1, 11))
    d.sync()
    led = d.office
    cut = at(10, 2)
    replay = led.projection_as_of(cut, answers=False)
    derived = as_of(led.projection, cut)
    assert not replay.sites and not replay.inspections and not replay.findings
    assert [r.kind for r in replay.rejected] == ["inspection.started", "inspection.submitted"]
    assert dump(derived) == {**dump(replay), "rejected": [], "applied": 0}
    d.close()
