"""The state as of a cut-off time, derived from the projection's own histories.

Reports count what was on record at a cut-off (the Friday report: Thursday 24:00). Replaying the
events up to the cut-off (``Ledger.projection_as_of``) needs every event in memory and costs a
rebuild (0.6 s without the answers on the city ledger of 522,292 events). The projection records,
for each thing it holds, when each change to it happened:

* a site's :attr:`~inspect_engine.projection.SiteState.versions` (every registration and edit
  applied, with its event's time);
* an inspection's ``recorded_at``, ``submitted_at`` and ``cancelled_at``;
* a finding's ``history`` (each :class:`~inspect_engine.projection.Step` with its time and the
  status after it; a ``plan`` step carries the 五落实 it recorded);
* an order's ``ordered_at`` and ``lifted_at``; the times of rejected events, conflicts and
  enrollments.

:func:`as_of` cuts those histories at the cut-off: 0.08 s on the city ledger at the Friday
report's cut-off, 0.05 s when it may share what the cut leaves unchanged with ``proj`` (a
read-only ledger's :meth:`~inspect_engine.ledger.Ledger.state_at`). Times are compared as text
when they are all in the devices' shape (:data:`CHINA_TIME_TEXT`), which is checked all at once
after; else the derivation is made again with the texts parsed.

**Contract.** ``as_of(proj, cutoff)`` equals ``Projection.build(e for e in events if e.kind !=
"inspection.answered" and e.at <= cutoff)`` — the replay ``Ledger.projection_as_of(cutoff,
answers=False)`` makes, ``events`` being those ``proj`` was built from — field by field, dict and
list order included, ``applied`` included, unless the times of related events contradict the
projection's order (next paragraph). Inspections come without answers (``answers`` empty,
``current_item`` ``None``) and answer events are left out of ``rejected``, as in that replay.
Thing by thing:

* a **site** is there when its first registration is at or before the cut-off; the record in
  force is the last of its versions at or before the cut-off (a version is a whole record and
  replaces whatever came before it);
* an **inspection** is there when its ``inspection.started`` event is at or before the cut-off
  and its site is there; it is submitted (with its ``finding_ids``) or cancelled only if that
  event is at or before the cut-off, else open;
* a **finding** is there when its inspection is submitted as of the cut-off; its history is cut
  before its first step later than the cut-off (each step is a move of the rectification loop
  from the status the steps before it left); ``status`` is the last kept step's, ``plan`` the
  last kept ``plan`` step's 五落实, ``closed_at`` the last kept move's time if it closed it;
* an **order** is there when it was ordered at or before the cut-off and its site (and finding,
  if it names one) is there; it is lifted only if lifted at or before the cut-off and, when the
  lifting names a re-inspection, that re-inspection is submitted as of the cut-off;
* **rejected** events, **conflicts** and **enrollments** are those stamped at or before the
  cut-off.

**The limit: where it can differ from a replay.** A replay decides every event again without the
ones after the cut-off; :func:`as_of` keeps the decisions ``proj`` made with all of them and cuts
their results. The two differ only when an event at or before the cut-off was decided by an event
stamped after the cut-off that sorts before it: events of two devices that had not seen each
other (sorted by Lamport time and device id, whatever their clocks said) touching the same thing,
or a device clock that was wrong. :func:`as_of` then reports:

* an event ``proj`` **rejected** stays rejected (listed in ``rejected``, no effect), where the
  replay may apply it: a 销号 rejected after a concurrent reopen stamped later, a second lifting
  of one order;
* an event ``proj`` **applied** stays applied, unless it stood on what the cut removed: a
  finding's steps after a removed step are removed with it; a site whose first registration is
  removed is not there (a concurrent second registration at or before the cut-off included); an
  inspection, order or lifting whose site, finding or re-inspection is not there is left out
  (where the replay rejects it, and lists it in ``rejected``); a concurrent site edit keeps the
  conflict ``proj`` found with a version the cut removed.

A device stamps its events with its clock in the order it makes them, and imports another's
event before acting on it (so its own sorts after it); a wrong clock aside, only concurrent
events of two devices on one thing (both moving one finding, lifting one order, editing or
registering one site) stamped the other way round from their order can make a difference, and
only for a cut-off between their two times. ``tests/test_asof.py`` compares :func:`as_of` with the
replay on a generated city, a hand-made two-device ledger and random ledgers, at every weekly
cut-off and at and around event times, and shows two of the differences above.

:func:`as_of` reads ``proj`` and never changes it; ``proj`` must not change while it runs (the CLI
is single-threaded; the app calls it under its backend lock). The result shares what is never
changed once made (:class:`~inspect_engine.site.Site` records, findings' ``data``, steps, plans,
rejected events, conflicts, enrollments, inspectors) and has its own state objects and lists, so
later changes to ``proj`` (a writable ledger applies its events in place) do not reach it. With
``share=True`` it has its own objects only where the cut changed them and holds ``proj``'s
others (their inspections with their answers): only for a ``proj`` that never changes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from inspect_engine.clock import CHINA
from inspect_engine.errors import InputError
from inspect_engine.events import parse_time
from inspect_engine.projection import (
    FindingState,
    InspectionState,
    OrderState,
    Projection,
    SiteState,
    Step,
)
from inspect_engine.rectification import FiveImplementations, Status
from inspect_engine.storage import gc_paused

__all__ = ["CHINA_TIME_TEXT", "all_in_devices_shape", "as_of", "china_time_text", "later_than"]

_State = TypeVar("_State", SiteState, InspectionState, FindingState, OrderState)


def _copy(state: _State) -> _State:
    """A shallow copy of a state object (its attribute dict copied: four times quicker than
    ``copy.copy`` for 60,000 of them, and a field added to the class later is carried along)."""
    new: Any = object.__new__(type(state))
    new.__dict__ = state.__dict__.copy()
    return new  # type: ignore[no-any-return]


CHINA_TIME_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+08:00")
"""An event time as the devices write it: whole seconds, China time
(``2020-10-21T13:05:09+08:00``). Texts of this one fixed-width shape sort as the times they name,
so they can be compared as text, without parsing."""


def china_time_text(at: dt.datetime) -> str | None:
    """``at`` (aware) in the shape of :data:`CHINA_TIME_TEXT`; ``None`` when it has a fraction of
    a second, which that shape cannot hold."""
    if at.microsecond:
        return None
    return at.astimezone(CHINA).isoformat()


class _Cut(dict[str, bool]):
    """Whether event times (ISO text) are at or before a cut-off: ``cut[text]``, worked out once
    per distinct text and remembered.

    A text in the devices' shape (:data:`CHINA_TIME_TEXT`, every time of a city ledger) is
    compared as text with the cut-off written the same way; any other is parsed. A ledger repeats
    its texts across sites, inspections, findings' steps and orders (89,134 tests of 41,225
    texts on the city ledger): a repeated text costs a dictionary look-up made in C, about a
    tenth of the shape's regular expression.
    """

    __slots__ = ("cutoff", "text")

    def __init__(self, cutoff: dt.datetime) -> None:
        super().__init__()
        self.cutoff = cutoff
        self.text = china_time_text(cutoff)

    def __missing__(self, text: str) -> bool:
        if self.text is not None and CHINA_TIME_TEXT.fullmatch(text):
            kept = text <= self.text
        else:
            kept = parse_time(text) <= self.cutoff
        self[text] = kept
        return kept

    def test(self, text: str) -> bool:
        """Whether ``text`` is at or before the cut-off (``self[text]``)."""
        return self[text]


def as_of(proj: Projection, cutoff: dt.datetime, *, share: bool = False) -> Projection:
    """The state as of ``cutoff`` (aware; :class:`InputError` otherwise), derived from ``proj``.

    See the module docstring for the contract and its limit. ``proj`` is not changed.

    ``share=True`` puts ``proj``'s own state objects in the result wherever the cut leaves them
    as they are (a site whose versions are all at or before the cut-off, an inspection whose
    times are, a finding whose whole history is, an order ordered and lifted before it) and
    copies only the others: on the city ledger at the Friday cut-off it copies 679 objects
    instead of 57,918. Only for a ``proj`` that never changes afterwards (a read-only ledger's:
    :meth:`~inspect_engine.ledger.Ledger.state_at`), and the result, like ``proj``, must be
    treated as read-only. Every field equals the copying result's but one: a shared inspection
    keeps ``proj``'s ``answers`` and ``current_item`` (those the cut leaves out of a copy),
    as the state with nothing later than the cut-off (``proj`` itself) has them.

    The cyclic garbage collector is paused meanwhile (:func:`~inspect_engine.storage.gc_paused`):
    a copying result is ~250,000 new containers on a city ledger, and the collections they would
    trigger cost more than the derivation itself. A result that big is frozen with everything
    else alive (``gc_paused`` says why and at what price): the first collection after it would
    otherwise traverse all of it (measured 0.04 s after the city's, and again 0.04 s in the
    older generation while the report that reads it runs).
    """
    if cutoff.tzinfo is None:
        raise InputError("the cut-off time must be timezone-aware")
    with gc_paused():
        text = china_time_text(cutoff)
        if text is not None:
            seen: list[str] = []
            out = _as_of(proj, _compared_as_text(text, seen.append), share)
            if all_in_devices_shape(seen):
                return out
            del out
        return _as_of(proj, _Cut(cutoff).__getitem__, share)


def _compared_as_text(cutoff: str, seen: Callable[[str], object]) -> Callable[[str], bool]:
    """A time test comparing texts with ``cutoff`` (in the devices' shape) as text, and passing
    each text to ``seen``: right for the texts in that shape, which the caller checks after
    (one call of :func:`all_in_devices_shape`, about 5 ms for the city ledger's texts, instead
    of one regular expression or dictionary look-up per text in the loops)."""

    def kept(text: str) -> bool:
        seen(text)
        return text <= cutoff

    return kept


_DIGITS = bytes.maketrans(b"0123456789\0", b"\0" * 10 + b"\1")
_LINE = b"\0\0\0\0-\0\0-\0\0T\0\0:\0\0:\0\0+\0\0:\0\0\n"
"""A line of :data:`CHINA_TIME_TEXT` with its digits made NUL by :data:`_DIGITS`."""


def all_in_devices_shape(texts: Sequence[str]) -> bool:
    """Whether every one of ``texts`` matches :data:`CHINA_TIME_TEXT`, checked all at once (what
    lets a caller compare many times as text: as-of states, weekly series, hazard numbers).

    The texts are joined as lines (UTF-8). With every ASCII digit made NUL (and NUL made
    something else, every other byte unchanged), the lines must be ``n`` copies of
    :data:`_LINE` end to end (``n`` of them found, not overlapping, in ``26 n`` bytes): then
    each of the ``n`` newlines joined is where a copy ends, so no text holds one, and each text
    is the shape with digits where it has them. Each text must also end ``+08:00``: in that
    shape ``+`` stands in one place only, so ``+08:00`` followed by a newline is found once per
    text that ends so, and nowhere else. 5 ms for the city's 89,134 texts, where the regular
    expression takes 12 ms one by one.
    """
    n = len(texts)
    lines = ("\n".join(texts) + "\n").encode()
    return n == 0 or (
        len(lines) == len(_LINE) * n
        and lines.translate(_DIGITS).count(_LINE) == n
        and lines.count(b"+08:00\n") == n
    )


def _as_of(proj: Projection, kept: Callable[[str], bool], share: bool) -> Projection:
    """:func:`as_of`'s work: each of ``proj``'s things, in order, left out, taken as it is
    (``share``) or copied, and cut where the cut-off falls inside its history."""
    out = Projection()
    applied = 0

    sites = out.sites
    for site_id, s in proj.sites.items():
        if not kept(s.registered_at):  # the first version's time
            continue
        versions = s.versions
        if len(versions) == 1:
            applied += 1
            if share:
                sites[site_id] = s
            else:
                new_site = _copy(s)
                new_site.versions = versions[:]
                sites[site_id] = new_site
            continue
        now = [v for v in versions if kept(v.time)]
        applied += len(now)
        if share and len(now) == len(versions):
            sites[site_id] = s
            continue
        last = now[-1]
        new_site = _copy(s)
        new_site.site, new_site.version, new_site.updated_at = last.site, last.event_id, last.time
        new_site.versions = now
        sites[site_id] = new_site

    inspections = out.inspections
    every_site = len(sites) == len(proj.sites)  # then no need to look each up
    for insp_id, i in proj.inspections.items():
        if not kept(i.recorded_at) or not (every_site or i.site_id in sites):
            continue
        status = i.status
        if status == "submitted":
            assert i.submitted_at is not None
            if kept(i.submitted_at):
                applied += 2
                if share:
                    inspections[insp_id] = i
                    continue
                new_insp = _copy(i)
                new_insp.finding_ids = i.finding_ids[:]
            else:
                applied += 1
                new_insp = _copy(i)
                new_insp.status, new_insp.submitted_at, new_insp.finding_ids = "open", None, []
        else:
            if status == "cancelled":
                assert i.cancelled_at is not None
                cut = not kept(i.cancelled_at)
                applied += 1 if cut else 2
            else:
                cut = False
                applied += 1
            if share and not cut:
                inspections[insp_id] = i
                continue
            new_insp = _copy(i)
            new_insp.finding_ids = i.finding_ids[:]  # its own: a submission appends to theirs
            if cut:
                new_insp.status, new_insp.cancelled_at, new_insp.cancel_reason = "open", None, ""
        new_insp.answers, new_insp.current_item = {}, None
        inspections[insp_id] = new_insp

    findings = out.findings
    last_id, submitted = "", False  # an inspection's findings come one after another
    for finding_id, f in proj.findings.items():
        if f.inspection_id != last_id:
            last_id = f.inspection_id
            insp = inspections.get(last_id)
            submitted = insp is not None and insp.status == "submitted"
        if not submitted:
            continue
        history = f.history
        size = len(history)
        n = 1  # the "raised" step is the submission, kept with it
        while n < size and kept(history[n].time):
            n += 1
        applied += n - 1
        if n == size:
            if share:
                findings[finding_id] = f
                continue
            new_f = _copy(f)
            new_f.history = history[:]
        else:
            new_f = _copy(f)
            new_f.history = history[:n]
            new_f.status, new_f.plan, new_f.closed_at = _truncated(new_f.history)
        findings[finding_id] = new_f

    orders = out.orders
    for order_id, o in proj.orders.items():
        if not kept(o.ordered_at) or not (every_site or o.site_id in sites):
            continue
        if o.finding_id is not None and o.finding_id not in findings:
            continue
        applied += 1
        lifted_at = o.lifted_at
        if lifted_at is not None:
            re = o.reinspection_id
            if kept(lifted_at) and (
                re is None or (re in inspections and inspections[re].status == "submitted")
            ):
                applied += 1
            else:
                new_o = _copy(o)
                new_o.lifted_on, new_o.lift_basis, new_o.reinspection_id = None, "", None
                new_o.lifted_at = None
                orders[order_id] = new_o
                continue
        orders[order_id] = o if share else _copy(o)

    out.rejected = [r for r in proj.rejected if r.kind != "inspection.answered" and kept(r.time)]
    out.conflicts = [c for c in proj.conflicts if kept(c.time)]
    out.enrollments = [e for e in proj.enrollments if kept(e.time)]
    out.applied = applied + len(out.enrollments)
    return out


def _truncated(history: list[Step]) -> tuple[Status | None, FiveImplementations | None, str | None]:
    """Status, plan and ``closed_at`` after the steps of a cut history (as the projection's
    ``_apply_finding_*`` methods leave them)."""
    plan: FiveImplementations | None = None
    closed_at: str | None = None
    for step in history[1:]:
        if step.action == "plan":
            plan = step.plan
        else:
            closed_at = step.time if step.status == Status.CLOSED else None
    return history[-1].status, plan, closed_at


def later_than(proj: Projection, cutoff: dt.datetime) -> bool:
    """Whether ``proj`` holds anything recorded after ``cutoff`` (answers aside).

    When it does not, :func:`as_of` would give ``proj`` again, answers aside: every event other
    than an answer leaves its time in the state (a site version, an inspection's times, a
    finding's step, an order's times, a rejected event, an enrollment). Looks newest first where
    the state keeps an order, and stops at the first time after the cut-off.
    """
    if cutoff.tzinfo is None:
        raise InputError("the cut-off time must be timezone-aware")
    kept = _Cut(cutoff).__getitem__
    if not all(kept(e.time) for e in reversed(proj.enrollments)):
        return True
    if not all(kept(r.time) for r in reversed(proj.rejected) if r.kind != "inspection.answered"):
        return True
    for o in reversed(proj.orders.values()):
        if not kept(o.ordered_at) or (o.lifted_at is not None and not kept(o.lifted_at)):
            return True
    for f in reversed(proj.findings.values()):
        if not all(kept(step.time) for step in reversed(f.history)):
            return True
    for i in reversed(proj.inspections.values()):
        for t in (i.recorded_at, i.submitted_at, i.cancelled_at):
            if t is not None and not kept(t):
                return True
    for s in reversed(proj.sites.values()):
        if not all(kept(v.time) for v in s.versions):
            return True
    return False
