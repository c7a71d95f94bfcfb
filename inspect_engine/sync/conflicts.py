"""Conflicts: changes to one finding (or site) made on devices that had not seen each other's.

Nothing is ever dropped: every event stays in the ledger. What a person needs is to *see* where
two devices disagreed and which change is in force; ``inspect-engine sync conflicts`` lists them.

The winner rule (the same on every replica, because it depends only on the set of events)
-----------------------------------------------------------------------------------------
The projection applies all events in the total order ``(lamport, device_id, seq)``; a move that
is no longer allowed from the state reached (rectification.py's loop) is kept but not applied.
So of two concurrent changes to a finding:

* if the later one (in that order) is still an allowed move after the earlier one, both apply
  and the later one is in force (it **wins**): e.g. closed (销号) on one laptop, reopened on
  another → 整改中;
* otherwise the later one is kept but not applied and the earlier one stands (it **wins**): two
  devices both report the rectification → the first report stands, the second is kept beside it;
  reopened on one, closed on another with the reopen first → 整改中.

Concurrent close and reopen therefore always end in 整改中, whichever comes first: a hazard
never silently disappears because two verifiers disagreed.

Detection
---------
Every finding move records ``base``: the finding's latest step on its device when it was made
(:attr:`inspect_engine.events.PlanSet.base`). A move is concurrent with the applied steps of other
devices that come after its base and before it in the total order (its device had not seen
them), and with whatever made it inapplicable. Moves written before ``base`` existed are
reported only when they were not applied. Concurrent site registrations and edits are detected
by the projection itself and listed here too.

Reading little
--------------
A finding can be in conflict only if a move naming it was not applied, or one of its applied
steps was not built on the step just before it in its history (its ``base`` is another event):
a step whose base is its predecessor has seen every step applied before it, so nothing is
concurrent with it. :func:`list_conflicts` finds those findings in the projection and reads the
events of those alone (and the two sides of each site conflict), never the whole log; on a city
ledger, whose sealed events are not in memory, that is the difference between milliseconds and
seconds for every sync import (which counts the conflicts before and after). Each step's
``base`` is in the projection (:attr:`~inspect_engine.projection.Step.base`); the events are
asked for by id (:meth:`~inspect_engine.ledger.Ledger.events_by_id`, which reads the sealed
events only when one of them is asked for).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from inspect_engine.events import Event
from inspect_engine.ledger import Ledger
from inspect_engine.projection import Projection, Step
from inspect_engine.rectification import ACTION_LABELS, STATUS_LABELS, Action

MOVES: dict[str, str] = {
    "finding.plan_set": "五落实",
    "finding.rectification_started": ACTION_LABELS[Action.START],
    "finding.rectification_reported": ACTION_LABELS[Action.REPORT],
    "finding.closed": ACTION_LABELS[Action.CLOSE],
    "finding.reopened": ACTION_LABELS[Action.REOPEN],
}
"""Finding events and their Chinese labels."""


@dataclass(frozen=True)
class Change:
    """One side of a conflict: an event, who made it where, and whether it was applied."""

    event_id: str
    device_id: str
    seq: int
    actor: str
    time: str
    kind: str
    label: str
    applied: bool


@dataclass(frozen=True)
class Conflict:
    """Concurrent changes to one thing; ``winner`` is in force, every ``losers`` event is kept."""

    entity: Literal["finding", "site"]
    entity_id: str
    site_id: str
    title: str
    winner: Change
    losers: tuple[Change, ...]
    reason: str
    in_force: str


def _change(e: Event, applied: bool) -> Change:
    label = MOVES.get(e.kind, {"inspection.submitted": "发现隐患"}.get(e.kind, e.kind))
    return Change(e.event_id, e.device_id, e.seq, e.actor, e.time, e.kind, label, applied)


_READ = frozenset((*MOVES, "inspection.submitted", "site.registered", "site.updated"))
"""The kinds a conflict can involve or point at: finding steps (a move's ``base`` is the
finding's latest step, i.e. its raising submission, a plan or a move) and site records. Answers,
most of a ledger, never take part, so they are left out before sorting."""


def list_conflicts(ledger: Ledger) -> list[Conflict]:
    """Every conflict in the ledger, findings first (by site, finding, order), then sites.

    Reads the projection and the events of the findings that can be in conflict, never the
    whole log (see "Reading little" above).
    """
    proj = ledger.projection
    suspects, found = _suspects(ledger, proj)
    events = sorted((e for e in found if e.kind in _READ), key=lambda e: e.order)
    return finding_conflicts(events, proj, only=suspects) + site_conflicts(events, proj)


def _suspects(ledger: Ledger, proj: Projection) -> tuple[set[str], list[Event]]:
    """The findings that can be in conflict, and the events listing them needs: of each such
    finding its raising submission, every move naming it and the events those moves name as
    their ``base``; the winner and loser of each site conflict the projection recorded."""
    base_of = _base_of
    not_applied: dict[str, list[Event]] = {}
    rejected = [r.event_id for r in proj.rejected if r.kind in MOVES]
    for e in ledger.events_by_id(rejected).values():
        fid = e.payload.get("finding_id")
        if isinstance(fid, str) and fid in proj.findings:
            not_applied.setdefault(fid, []).append(e)
    suspects: set[str] = set()
    found: dict[str, Event] = {}
    wanted: set[str] = set()
    for fid, finding in proj.findings.items():
        steps = finding.history
        if fid not in not_applied and _each_on_its_predecessor(steps, base_of):
            continue
        suspects.add(fid)
        wanted.update(s.event_id for s in steps)
        wanted.update(b for s in steps[1:] if (b := base_of(s)) is not None)
        for e in not_applied.get(fid, ()):
            found[e.event_id] = e
            base = e.payload.get("base")
            if isinstance(base, str):
                wanted.add(base)
    for c in proj.conflicts:
        wanted.update((c.winner, c.loser))
    found.update(ledger.events_by_id(wanted - found.keys()))
    return suspects, list(found.values())


def _base_of(step: Step) -> str | None:
    return step.base


def _each_on_its_predecessor(steps: list[Step], base_of: Callable[[Step], str | None]) -> bool:
    """Whether every step after the first names the step before it as its ``base``."""
    prev = None
    for step in steps:
        if prev is not None and base_of(step) != prev:
            return False
        prev = step.event_id
    return True


def finding_conflicts(
    events: list[Event], proj: Projection, *, only: set[str] | None = None
) -> list[Conflict]:
    """Concurrent finding moves (see the module docstring), in a stable order.

    ``events`` are in the total order; every move of a finding must be among them for its
    conflicts to be found, with the finding's raising submission and the moves' bases. ``only``
    limits the findings looked at (the others' moves may still be present as bases).
    """
    rejected = {r.event_id for r in proj.rejected}
    by_id = {e.event_id: e for e in events}
    moves: dict[str, list[Event]] = {}
    for e in events:
        if e.kind in MOVES:
            fid = e.payload.get("finding_id")
            if isinstance(fid, str) and fid in proj.findings and (only is None or fid in only):
                moves.setdefault(fid, []).append(e)
    out: list[Conflict] = []
    for fid in sorted(moves, key=lambda f: (proj.findings[f].site_id, f)):
        finding = proj.findings[fid]
        raised = by_id.get(finding.history[0].event_id) if finding.history else None
        applied: list[Event] = [raised] if raised is not None else []
        for m in moves[fid]:
            ok = m.event_id not in rejected
            base = m.payload.get("base")
            unseen: list[Event] = []
            if isinstance(base, str):
                base_ev = by_id.get(base)
                if base_ev is not None:
                    unseen = [a for a in applied if a.order > base_ev.order]
            unseen = [u for u in unseen if u.device_id != m.device_id]
            if not ok and not unseen and applied:
                unseen = [applied[-1]]
            if unseen or not ok:
                winner = m if ok else applied[-1] if applied else m
                sides = [*unseen, m]
                losers = tuple(
                    _change(e, e.event_id not in rejected) for e in sides if e is not winner
                )
                status = finding.status
                out.append(
                    Conflict(
                        entity="finding",
                        entity_id=fid,
                        site_id=finding.site_id,
                        title=finding.title,
                        winner=_change(winner, winner.event_id not in rejected),
                        losers=losers,
                        reason=(
                            "两台设备同时处理同一隐患 / concurrent changes: "
                            + " vs ".join(
                                f"{_change(e, True).label}@{e.device_id[:8]}" for e in sides
                            )
                            + (
                                ""
                                if ok
                                else " (the later one no longer applies; kept, not applied)"
                            )
                        ),
                        in_force=STATUS_LABELS[status] if status is not None else "",
                    )
                )
            if ok:
                applied.append(m)
    return out


def site_conflicts(events: list[Event], proj: Projection) -> list[Conflict]:
    """Concurrent site registrations and edits, as the projection records them."""
    by_id = {e.event_id: e for e in events}
    out: list[Conflict] = []
    for c in proj.conflicts:
        winner, loser = by_id.get(c.winner), by_id.get(c.loser)
        if winner is None or loser is None or not c.entity.startswith("site "):
            continue
        site_id = c.entity.removeprefix("site ")
        site = proj.sites.get(site_id)
        out.append(
            Conflict(
                entity="site",
                entity_id=site_id,
                site_id=site_id,
                title=site.site.name if site else site_id,
                winner=_change(winner, True),
                losers=(_change(loser, True),),
                reason=f"场所登记被两台设备同时修改 / {c.reason}",
                in_force=site.version if site else "",
            )
        )
    return out
