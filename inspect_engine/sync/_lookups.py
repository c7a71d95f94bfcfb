"""Stopgaps: the two look-ups sync needs that the ledger and its projection do not offer yet.

Sync's import path (:func:`~inspect_engine.sync.protocol.import_bundle`, the conflict counts of
its summary) must not read the whole event log: on a city ledger the sealed events are not in
memory, and :meth:`Ledger.events` reads every one of them (seconds). The conflict listing
(:mod:`inspect_engine.sync.conflicts`) needs only

* the ``base`` of each applied finding step, to tell which findings can be in conflict at all
  (almost none); and
* the events of those findings, and of the site conflicts the projection recorded (a handful).

Until the ledger offers them (TODO(lead): ``Step.base`` in the projection and
``Ledger.events_by_id``; contracts below), both are answered here from :meth:`Ledger.events`.
This module is the only place on the import path that reads the log:
``tests/test_sync_import_path.py`` allows it here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

from inspect_engine.events import Event
from inspect_engine.ledger import Ledger
from inspect_engine.projection import Step


def events_by_id(ledger: Ledger, event_ids: Iterable[str]) -> dict[str, Event]:
    """The events with these ids that ``ledger`` holds (unknown ids are left out).

    TODO(lead): ``Ledger.events_by_id(event_ids: Iterable[str]) -> dict[str, Event]`` with this
    contract, reading only the sealed segments that hold the ids asked for (sync asks for a
    few: the sides of existing conflicts); then this function is that call.
    """
    wanted = set(event_ids)
    if not wanted:
        return {}
    return {e.event_id: e for e in ledger.events() if e.event_id in wanted}


def step_bases(ledger: Ledger, move_kinds: Collection[str]) -> Callable[[Step], str | None]:
    """``base(step)``: the ``base`` a finding step's event recorded (the finding's latest step on
    its device when it was made; ``None`` for the raising step and moves recorded without one).

    TODO(lead): ``Step.base: str | None`` in the projection (set from ``PlanSet.base`` and the
    moves' ``base`` when the step is applied, kept in the saved state); then this function is
    ``lambda step: step.base`` and reads nothing.
    """
    bases: dict[str, str] = {}
    for e in ledger.events():
        if e.kind in move_kinds:
            base = e.payload.get("base")
            if isinstance(base, str):
                bases[e.event_id] = base
    return lambda step: bases.get(step.event_id)
