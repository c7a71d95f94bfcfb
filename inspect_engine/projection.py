"""Sites, inspections, findings and orders, rebuilt from the events.

The projection is a pure function of the *set* of events: :meth:`Projection.build` sorts them by
``(lamport, device_id, seq)`` (see :mod:`inspect_engine.events`) and applies each in turn, so two
replicas holding the same events, received in any order, compute the same state and the same
:meth:`Projection.digest`. It never assumes one device: sync appends other devices' events and the
ledger rebuilds.

Each event is checked against the state it lands on (:meth:`Projection.check`). The ledger runs
the same check before it makes an event of its own and refuses the action with the reason; an
event from another device that fails it (two devices moved the same finding concurrently, say) is
kept in the log, not applied, and listed in :attr:`Projection.rejected` with the reason. Two
registrations or edits of one site that did not see each other are both kept: the later in the
total order wins and the pair is listed in :attr:`Projection.conflicts`. Nothing is dropped
silently.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, ValidationError

from inspect_engine.conditions import AnswerValue
from inspect_engine.events import (
    ORDER_KEY,
    PAYLOADS,
    AnswerRecorded,
    DeviceEnrolled,
    EnforcementLifted,
    EnforcementOrdered,
    Event,
    Evidence,
    FindingClosed,
    FindingReopened,
    InspectionCancelled,
    InspectionStarted,
    InspectionSubmitted,
    Payload,
    PlanSet,
    RectificationReported,
    RectificationStarted,
    SiteRegistered,
    SiteUpdated,
    canonical,
)
from inspect_engine.findings import Finding
from inspect_engine.rectification import (
    Action,
    FiveImplementations,
    Status,
    TransitionError,
    effective_deadline,
    is_overdue,
    next_status,
)
from inspect_engine.site import Site


@dataclass
class SiteState:
    """A registered site and the event that made its current version."""

    site: Site
    version: str
    """Event id of the registration or update in force."""
    registered_at: str
    updated_at: str
    versions: list[SiteVersion] = field(default_factory=list)
    """Every version applied, in the projection's order (the last is ``site``): what the
    register said at an earlier time (:mod:`inspect_engine.asof`)."""


class SiteVersion(NamedTuple):
    """One applied registration or edit of a site: its event's time and id, and the record."""

    time: str
    event_id: str
    site: Site


@dataclass(slots=True)
class Answer:
    """The state in force for one item: value (``None`` while unanswered), note, evidence."""

    item_id: str
    value: AnswerValue | None
    note: str
    evidence: list[Evidence]
    time: str
    actor: str
    event_id: str


InspectionStatus = Literal["open", "submitted", "cancelled"]
INSPECTION_STATUS_LABELS: dict[str, str] = {
    "open": "进行中",
    "submitted": "已提交",
    "cancelled": "已取消",
}


@dataclass
class InspectionState:
    """One inspection: who, when, how, its answers; sealed once submitted or cancelled."""

    id: str
    site_id: str
    pack_id: str
    pack_version: str
    method: str
    inspectors: list[str]
    started_at: str
    device_id: str
    actor: str
    status: InspectionStatus = "open"
    _answers: dict[str, Answer] | None = field(default_factory=dict, repr=False)
    _load_answers: Callable[[], dict[str, Answer]] | None = field(
        default=None, repr=False, compare=False
    )
    """Set instead of ``_answers`` by :mod:`inspect_engine.statefile` for a sealed inspection:
    its answers are decoded the first time they are read (most never are)."""
    current_item: str | None = None
    """The item answered last: where the app resumes after a crash."""
    submitted_at: str | None = None
    finding_ids: list[str] = field(default_factory=list)
    cancel_reason: str = ""
    recorded_at: str = ""
    """The time of the ``inspection.started`` event (``started_at`` is what the inspector
    entered); reports as of a cut-off count an inspection from this time."""
    cancelled_at: str | None = None
    """The time of the ``inspection.cancelled`` event."""

    @property
    def answers(self) -> dict[str, Answer]:
        """The answers in force, by item id (decoded on first read when loaded from a saved
        state; mutate only through the projection)."""
        answers = self._answers
        if answers is None:
            assert self._load_answers is not None
            answers = self._answers = self._load_answers()
            self._load_answers = None
        return answers

    @answers.setter
    def answers(self, value: dict[str, Answer]) -> None:
        self._answers, self._load_answers = value, None

    @property
    def answers_loaded(self) -> bool:
        """Whether :attr:`answers` is decoded already (the saved state re-encodes the rest)."""
        return self._answers is not None

    @property
    def sealed(self) -> bool:
        """Submitted or cancelled: no more answers."""
        return self.status != "open"

    def values(self) -> dict[str, AnswerValue]:
        """The answered items' values (what the engine evaluates)."""
        return {k: a.value for k, a in self.answers.items() if a.value is not None}


@dataclass
class Step:
    """One move in a finding's history."""

    time: str
    actor: str
    action: str
    """``raised``, ``plan``, or an :class:`~inspect_engine.rectification.Action` value."""
    status: Status | None
    note: str
    event_id: str
    evidence: list[Evidence] = field(default_factory=list)
    plan: FiveImplementations | None = None
    """For a ``plan`` step: the 五落实 it recorded (the plan in force from then on)."""
    base: str | None = None
    """The ``base`` its event recorded (the finding's latest step its device had seen; ``None``
    for the raising step and moves recorded without one): what tells concurrent moves apart
    (:mod:`inspect_engine.sync.conflicts`)."""


class _FindingCore(BaseModel):
    """The fields of a stored finding the ledger itself relies on (others are kept as-is)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    rule_id: str
    pack_id: str
    pack_version: str
    title: dict[str, str]
    level: Literal["一般", "重大"]
    hazard: bool = True
    deadline: dt.date
    consequences: list[dict[str, Any]] = []


@dataclass
class FindingState:
    """A finding in the ledger: the engine's output plus its place in the rectification loop.

    ``status`` is ``None`` for a finding that is not a hazard (it is recorded, not rectified).
    """

    id: str
    inspection_id: str
    site_id: str
    pack_id: str
    pack_version: str
    """The pack (id and version) whose rule made the finding: what reports group and look up
    sections by, without reading :attr:`data`."""
    _data: dict[str, Any] | None = field(repr=False)
    """The finding exactly as submitted (read it as :attr:`data`); ``None`` until decoded when
    loaded from a saved state (``_load_data`` set instead)."""
    rule_id: str
    level: str
    hazard: bool
    title: str
    rule_deadline: dt.date
    consequences: list[str]
    raised_at: str
    status: Status | None
    plan: FiveImplementations | None = None
    history: list[Step] = field(default_factory=list)
    closed_at: str | None = None
    _load_data: Callable[[], dict[str, Any]] | None = field(default=None, repr=False, compare=False)
    """Set instead of ``_data`` by :mod:`inspect_engine.statefile`: the finding's document is
    decoded the first time it is read (a report or a list reads a few of 12,000)."""

    @property
    def data(self) -> dict[str, Any]:
        """The finding exactly as submitted (``Finding.model_dump(mode="json")``; decoded on
        first read when loaded from a saved state; never mutate it)."""
        data = self._data
        if data is None:
            assert self._load_data is not None
            data = self._data = self._load_data()
            self._load_data = None
        return data

    @property
    def data_loaded(self) -> bool:
        """Whether :attr:`data` is decoded already (the saved state re-encodes the rest)."""
        return self._data is not None

    @property
    def deadline(self) -> dt.date:
        """The deadline in force: the 五落实 时限 if recorded, else the rule's."""
        return effective_deadline(self.rule_deadline, self.plan)

    def overdue(self, today: dt.date) -> bool:
        """Open (not 销号) and past the deadline on ``today``."""
        return self.status is not None and is_overdue(self.status, self.deadline, today)

    @property
    def is_open(self) -> bool:
        """A hazard not yet 销号."""
        return self.status is not None and self.status != Status.CLOSED

    def finding(self) -> Finding:
        """The engine's :class:`Finding` (raises if the stored form no longer validates)."""
        return Finding.model_validate(self.data)


@dataclass
class OrderState:
    """An enforcement order and, once lifted, when and on what basis."""

    id: str
    site_id: str
    finding_id: str | None
    kind: str
    ordered_on: dt.date
    issued_by: str
    note: str
    event_id: str
    lifted_on: dt.date | None = None
    lift_basis: str = ""
    reinspection_id: str | None = None
    ordered_at: str = ""
    """The time of the ``enforcement.ordered`` event (``ordered_on`` is the order's date)."""
    lifted_at: str | None = None
    """The time of the ``enforcement.lifted`` event."""

    @property
    def in_force(self) -> bool:
        """Not lifted yet."""
        return self.lifted_on is None


_ANSWER_KEYS = frozenset(("inspection_id", "item_id", "value", "note", "evidence"))
_SCALARS = (bool, int, float, str)


class _FastAnswer(NamedTuple):
    """The fields of :class:`AnswerRecorded` without pydantic's cost (most events are answers;
    a named tuple: a frozen dataclass's ``__init__`` is several times slower)."""

    inspection_id: str
    item_id: str
    value: AnswerValue | None
    note: str
    evidence: tuple[()] = ()


def _fast_answer(event: Event) -> _FastAnswer | None:
    """The payload of a plain answer event without pydantic (most events are these).

    Only for the common shape (no evidence, JSON scalar or list-of-strings value); anything else
    returns ``None`` and goes through full validation.
    """
    if event.kind != "inspection.answered":
        return None
    d = event.payload
    value = d.get("value")
    if (
        d.keys() == _ANSWER_KEYS
        and type(d["inspection_id"]) is str
        and len(d["inspection_id"]) == 32
        and type(d["item_id"]) is str
        and 0 < len(d["item_id"]) <= 100
        and type(d["note"]) is str
        and len(d["note"]) <= 2000
        and d["evidence"] == []
        and (
            value is None
            or type(value) in _SCALARS
            or (type(value) is list and all(type(v) is str for v in value))
        )
    ):
        return _FastAnswer(d["inspection_id"], d["item_id"], value, d["note"])
    return None


@dataclass(frozen=True)
class Rejected:
    """An event kept in the log but not applied, and why."""

    event_id: str
    device_id: str
    seq: int
    kind: str
    reason: str
    time: str = ""
    """The rejected event's time."""


@dataclass(frozen=True)
class Conflict:
    """Two events that changed one thing without seeing each other; ``winner`` is in force."""

    entity: str
    winner: str
    loser: str
    reason: str
    time: str = ""
    """The time of the event that made the conflict (the winner)."""


@dataclass(frozen=True)
class Enrollment:
    """A ``device.enrolled`` event: who recorded it, when, and the enrollment (read by
    :mod:`inspect_engine.sync.devices`, which decides whose enrollments are trusted)."""

    by_device: str
    event_id: str
    time: str
    enrolled: DeviceEnrolled


class Projection:
    """The state rebuilt from events (see the module docstring)."""

    def __init__(self) -> None:
        self.sites: dict[str, SiteState] = {}
        self.inspections: dict[str, InspectionState] = {}
        self.findings: dict[str, FindingState] = {}
        self.orders: dict[str, OrderState] = {}
        self.rejected: list[Rejected] = []
        self.conflicts: list[Conflict] = []
        self.enrollments: list[Enrollment] = []
        self.applied = 0

    @classmethod
    def build(cls, events: Iterable[Event]) -> Projection:
        """Apply ``events`` in ``(lamport, device_id, seq)`` order to an empty state."""
        proj = cls()
        apply = proj.apply
        inspections = proj.inspections
        applied = 0
        for event in sorted(events, key=ORDER_KEY):
            # Plain answers to open inspections (most events) are applied here, inline: the
            # same test as _fast_answer and the same effect as _apply_inspection_answered
            # (tests/test_ledger_segments.py compares this with apply() event by event).
            if event.kind == "inspection.answered":
                d = event.payload
                if d.keys() == _ANSWER_KEYS:
                    iid, item, value, note = d["inspection_id"], d["item_id"], d["value"], d["note"]
                    if (
                        type(iid) is str
                        and len(iid) == 32
                        and type(item) is str
                        and 0 < len(item) <= 100
                        and type(note) is str
                        and len(note) <= 2000
                        and d["evidence"] == []
                        and (
                            value is None
                            or type(value) in _SCALARS
                            or (type(value) is list and all(type(v) is str for v in value))
                        )
                    ):
                        insp = inspections.get(iid)
                        if insp is not None and insp.status == "open":
                            if value is None and not note:
                                insp.answers.pop(item, None)
                            else:
                                insp.answers[item] = Answer(
                                    item, value, note, [], event.time, event.actor, event.event_id
                                )
                            insp.current_item = item
                            applied += 1
                            continue
            apply(event)
        proj.applied += applied
        return proj

    # -- checking ---------------------------------------------------------------------------

    def parse(self, event: Event) -> Payload:
        """The event's payload as its model (``ValueError`` if it does not validate)."""
        try:
            return PAYLOADS[event.kind].model_validate(event.payload)
        except ValidationError as err:
            raise ValueError(f"payload does not validate: {err.errors()[0]['msg']}") from err

    def check(self, kind: str, p: Payload) -> str | None:
        """Why an event of ``kind`` with payload ``p`` cannot apply now, or ``None``."""
        method = getattr(self, "_check_" + kind.replace(".", "_"), None)
        if method is None:
            return None
        reason: str | None = method(p)
        return reason

    def _check_site_updated(self, p: SiteUpdated) -> str | None:
        if p.site.id not in self.sites:
            return f"场所 {p.site.id} 未登记 / unknown site {p.site.id}"
        return None

    def _check_inspection_started(self, p: InspectionStarted) -> str | None:
        if p.inspection_id in self.inspections:
            return f"inspection {p.inspection_id} already started"
        if p.site_id not in self.sites:
            return f"场所 {p.site_id} 未登记 / unknown site {p.site_id}"
        return None

    def _open_inspection(self, inspection_id: str) -> str | None:
        insp = self.inspections.get(inspection_id)
        if insp is None:
            return f"没有这次检查 / unknown inspection {inspection_id}"
        if insp.status == "submitted":
            return f"检查已提交，不能再修改 / inspection {inspection_id} is submitted and sealed"
        if insp.status == "cancelled":
            return f"检查已取消 / inspection {inspection_id} was cancelled"
        return None

    def _check_inspection_answered(self, p: AnswerRecorded) -> str | None:
        return self._open_inspection(p.inspection_id)

    def _check_inspection_cancelled(self, p: InspectionCancelled) -> str | None:
        return self._open_inspection(p.inspection_id)

    def _check_inspection_submitted(self, p: InspectionSubmitted) -> str | None:
        reason = self._open_inspection(p.inspection_id)
        if reason:
            return reason
        seen: set[str] = set()
        for i, f in enumerate(p.findings):
            if f.finding_id in self.findings or f.finding_id in seen:
                return f"finding id {f.finding_id} used twice"
            seen.add(f.finding_id)
            try:
                _FindingCore.model_validate(f.finding)
            except ValidationError as err:
                return f"finding {i}: {err.errors()[0]['msg']}"
        return None

    def _finding_move(self, finding_id: str, action: Action) -> str | None:
        f = self.findings.get(finding_id)
        if f is None:
            return f"没有这条隐患 / unknown finding {finding_id}"
        if f.status is None:
            return f"该问题不是隐患，无需整改 / finding {finding_id} is not a hazard"
        try:
            next_status(f.status, action, level=f.level, has_plan=f.plan is not None)
        except TransitionError as err:
            return err.message
        return None

    def _check_finding_plan_set(self, p: PlanSet) -> str | None:
        f = self.findings.get(p.finding_id)
        if f is None:
            return f"没有这条隐患 / unknown finding {p.finding_id}"
        if f.status is None:
            return f"该问题不是隐患 / finding {p.finding_id} is not a hazard"
        if f.status == Status.CLOSED:
            return "隐患已销号 / the finding is closed"
        return None

    def _check_finding_rectification_started(self, p: RectificationStarted) -> str | None:
        return self._finding_move(p.finding_id, Action.START)

    def _check_finding_rectification_reported(self, p: RectificationReported) -> str | None:
        return self._finding_move(p.finding_id, Action.REPORT)

    def _check_finding_closed(self, p: FindingClosed) -> str | None:
        return self._finding_move(p.finding_id, Action.CLOSE)

    def _check_finding_reopened(self, p: FindingReopened) -> str | None:
        return self._finding_move(p.finding_id, Action.REOPEN)

    def _check_enforcement_ordered(self, p: EnforcementOrdered) -> str | None:
        if p.order_id in self.orders:
            return f"order {p.order_id} already recorded"
        if p.site_id not in self.sites:
            return f"场所 {p.site_id} 未登记 / unknown site {p.site_id}"
        if p.finding_id is not None:
            f = self.findings.get(p.finding_id)
            if f is None:
                return f"没有这条隐患 / unknown finding {p.finding_id}"
            if f.site_id != p.site_id:
                return f"finding {p.finding_id} is at site {f.site_id}, not {p.site_id}"
        return None

    def _check_enforcement_lifted(self, p: EnforcementLifted) -> str | None:
        order = self.orders.get(p.order_id)
        if order is None:
            return f"没有这项处置措施 / unknown order {p.order_id}"
        if order.lifted_on is not None:
            return f"处置措施已于 {order.lifted_on} 解除 / order already lifted"
        if p.lifted_on < order.ordered_on:
            return f"解除日期早于下达日期 / lifted {p.lifted_on} before ordered {order.ordered_on}"
        if p.reinspection_id is not None:
            insp = self.inspections.get(p.reinspection_id)
            if insp is None or insp.status != "submitted":
                return f"复查 {p.reinspection_id} 不存在或未提交 / re-inspection not submitted"
            if insp.site_id != order.site_id:
                return "复查不是在该场所进行的 / the re-inspection is at another site"
        return None

    # -- applying ---------------------------------------------------------------------------

    def apply(self, event: Event) -> bool:
        """Apply one event; ``False`` (and an entry in :attr:`rejected`) if it cannot apply."""
        p: Any
        if event.kind == "inspection.answered":
            # Most events: a plain answer to an open inspection (the same check and effect as
            # the general path below, without its lookups by name).
            fast = _fast_answer(event)
            if fast is not None:
                insp = self.inspections.get(fast.inspection_id)
                if insp is not None and insp.status == "open":
                    p = fast
                    self._apply_inspection_answered(event, p)
                    self.applied += 1
                    return True
        try:
            p = _fast_answer(event) or self.parse(event)
            reason = self.check(event.kind, p)
        except ValueError as err:
            reason = str(err)
        if reason is not None:
            self.rejected.append(
                Rejected(event.event_id, event.device_id, event.seq, event.kind, reason, event.time)
            )
            return False
        getattr(self, "_apply_" + event.kind.replace(".", "_"))(event, p)
        self.applied += 1
        return True

    def _apply_site_registered(self, e: Event, p: SiteRegistered) -> None:
        old = self.sites.get(p.site.id)
        if old is not None:
            self.conflicts.append(
                Conflict(f"site {p.site.id}", e.event_id, old.version, "registered twice", e.time)
            )
            old.site, old.version, old.updated_at = p.site, e.event_id, e.time
            old.versions.append(SiteVersion(e.time, e.event_id, p.site))
            return
        self.sites[p.site.id] = SiteState(
            p.site, e.event_id, e.time, e.time, [SiteVersion(e.time, e.event_id, p.site)]
        )

    def _apply_site_updated(self, e: Event, p: SiteUpdated) -> None:
        old = self.sites[p.site.id]
        if p.base != old.version:
            self.conflicts.append(
                Conflict(f"site {p.site.id}", e.event_id, old.version, "concurrent edits", e.time)
            )
        old.site, old.version, old.updated_at = p.site, e.event_id, e.time
        old.versions.append(SiteVersion(e.time, e.event_id, p.site))

    def _apply_inspection_started(self, e: Event, p: InspectionStarted) -> None:
        self.inspections[p.inspection_id] = InspectionState(
            id=p.inspection_id,
            site_id=p.site_id,
            pack_id=p.pack_id,
            pack_version=p.pack_version,
            method=p.method,
            inspectors=list(p.inspectors),
            started_at=p.started_at,
            device_id=e.device_id,
            actor=e.actor,
            recorded_at=e.time,
        )

    def _apply_inspection_answered(self, e: Event, p: AnswerRecorded) -> None:
        insp = self.inspections[p.inspection_id]
        if p.value is None and not p.note and not p.evidence:
            insp.answers.pop(p.item_id, None)
        else:
            insp.answers[p.item_id] = Answer(
                p.item_id, p.value, p.note, list(p.evidence), e.time, e.actor, e.event_id
            )
        insp.current_item = p.item_id

    def _apply_inspection_cancelled(self, e: Event, p: InspectionCancelled) -> None:
        insp = self.inspections[p.inspection_id]
        insp.status, insp.cancel_reason, insp.cancelled_at = "cancelled", p.reason, e.time

    def _apply_inspection_submitted(self, e: Event, p: InspectionSubmitted) -> None:
        insp = self.inspections[p.inspection_id]
        insp.status, insp.submitted_at = "submitted", e.time
        for sub in p.findings:
            core = _FindingCore.model_validate(sub.finding)
            status = Status.OPEN if core.hazard else None
            state = FindingState(
                id=sub.finding_id,
                inspection_id=insp.id,
                site_id=insp.site_id,
                pack_id=core.pack_id,
                pack_version=core.pack_version,
                _data=sub.finding,
                rule_id=core.rule_id,
                level=core.level,
                hazard=core.hazard,
                title=core.title.get("zh", core.rule_id),
                rule_deadline=core.deadline,
                consequences=[str(c.get("code", "")) for c in core.consequences],
                raised_at=e.time,
                status=status,
            )
            state.history.append(Step(e.time, e.actor, "raised", status, "", e.event_id))
            self.findings[sub.finding_id] = state
            insp.finding_ids.append(sub.finding_id)

    def _apply_finding_plan_set(self, e: Event, p: PlanSet) -> None:
        f = self.findings[p.finding_id]
        f.plan = p.plan
        f.history.append(
            Step(e.time, e.actor, "plan", f.status, "", e.event_id, [], p.plan, p.base)
        )

    def _move(
        self,
        e: Event,
        p: RectificationStarted | RectificationReported | FindingClosed | FindingReopened,
        action: Action,
        note: str,
        ev: list[Evidence],
    ) -> None:
        f = self.findings[p.finding_id]
        assert f.status is not None
        f.status = next_status(f.status, action, level=f.level, has_plan=f.plan is not None)
        f.closed_at = e.time if f.status == Status.CLOSED else None
        f.history.append(
            Step(e.time, e.actor, action.value, f.status, note, e.event_id, ev, None, p.base)
        )

    def _apply_finding_rectification_started(self, e: Event, p: RectificationStarted) -> None:
        self._move(e, p, Action.START, p.note, [])

    def _apply_finding_rectification_reported(self, e: Event, p: RectificationReported) -> None:
        self._move(e, p, Action.REPORT, p.note, list(p.evidence))

    def _apply_finding_closed(self, e: Event, p: FindingClosed) -> None:
        note = f"{p.verifier}: {p.note}" if p.note else p.verifier
        self._move(e, p, Action.CLOSE, note, list(p.evidence))

    def _apply_finding_reopened(self, e: Event, p: FindingReopened) -> None:
        self._move(e, p, Action.REOPEN, p.reason, [])

    def _apply_enforcement_ordered(self, e: Event, p: EnforcementOrdered) -> None:
        self.orders[p.order_id] = OrderState(
            id=p.order_id,
            site_id=p.site_id,
            finding_id=p.finding_id,
            kind=p.kind,
            ordered_on=p.ordered_on,
            issued_by=p.issued_by,
            note=p.note,
            event_id=e.event_id,
            ordered_at=e.time,
        )

    def _apply_enforcement_lifted(self, e: Event, p: EnforcementLifted) -> None:
        order = self.orders[p.order_id]
        order.lifted_on, order.lift_basis = p.lifted_on, p.basis
        order.reinspection_id, order.lifted_at = p.reinspection_id, e.time

    def _apply_device_enrolled(self, e: Event, p: DeviceEnrolled) -> None:
        """Kept in order for :mod:`inspect_engine.sync.devices` (which trusts only the hub's)."""
        self.enrollments.append(Enrollment(e.device_id, e.event_id, e.time, p))

    # -- summaries --------------------------------------------------------------------------

    def open_inspections(self) -> list[InspectionState]:
        """Inspections started and neither submitted nor cancelled, oldest first."""
        return sorted(
            (i for i in self.inspections.values() if i.status == "open"),
            key=lambda i: (i.started_at, i.id),
        )

    def digest(self) -> str:
        """SHA-256 over a canonical summary of the state: equal on replicas with equal events."""
        summary = {
            "sites": {k: s.version for k, s in sorted(self.sites.items())},
            "inspections": {
                k: [i.status, {a: v.event_id for a, v in sorted(i.answers.items())}]
                for k, i in sorted(self.inspections.items())
            },
            "findings": {
                k: [
                    f.status.value if f.status else None,
                    f.history[-1].event_id,
                    f.plan.model_dump(mode="json") if f.plan else None,
                ]
                for k, f in sorted(self.findings.items())
            },
            "orders": {
                k: [o.event_id, o.lifted_on.isoformat() if o.lifted_on else None]
                for k, o in sorted(self.orders.items())
            },
            "rejected": sorted(r.event_id for r in self.rejected),
        }
        return hashlib.sha256(canonical(summary)).hexdigest()
