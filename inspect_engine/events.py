"""Ledger events: the immutable, hash-chained record everything else is rebuilt from.

An event is made once, on one device, and never changed::

    {"v": 1, "event_id": "<uuid4 hex, made on the device>", "device_id": "<uuid4 hex>",
     "seq": 17, "lamport": 230, "time": "2020-09-03T10:15:00+08:00", "actor": "张三",
     "kind": "inspection.answered", "payload": {...},
     "prev": "<hash of the device's event seq 16, null for seq 1>", "hash": "<sha256 hex>"}

* ``seq`` counts the device's own events from 1 with no gaps; ``prev`` chains each to the device's
  previous one, so changing, removing or reordering any event breaks every later link.
* ``lamport`` is a Lamport clock: one more than the largest ``lamport`` the device had seen when it
  made the event (its own and every imported one). The projection applies events in
  ``(lamport, device_id, seq)`` order, a total order that respects causality: an event made after
  seeing another always sorts after it, on every replica.
* ``hash`` = SHA-256 of ``b"inspect-engine/event/v1\\n"`` followed by the canonical JSON of the
  event without ``hash`` (keys sorted, no spaces, UTF-8, ``allow_nan`` off). Verification hashes
  the document as stored, so the encoding of times and numbers never needs to round-trip.

The payload of each ``kind`` is declared once below (:data:`PAYLOADS`) as a strict pydantic model.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from inspect_engine.conditions import AnswerValue
from inspect_engine.rectification import FiveImplementations
from inspect_engine.site import Site

EVENT_VERSION = 1
HASH_DOMAIN = b"inspect-engine/event/v1\n"

Hex32 = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
"""A uuid4 in hex: event, device, inspection, finding and order ids."""
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
"""A SHA-256 in hex: event hashes and evidence content hashes."""

Kind = Literal[
    "site.registered",
    "site.updated",
    "inspection.started",
    "inspection.answered",
    "inspection.submitted",
    "inspection.cancelled",
    "finding.plan_set",
    "finding.rectification_started",
    "finding.rectification_reported",
    "finding.closed",
    "finding.reopened",
    "enforcement.ordered",
    "enforcement.lifted",
    "device.enrolled",
]

Method = Literal["open", "unannounced", "surprise", "random"]
METHOD_LABELS: dict[str, str] = {
    "open": "明查",
    "unannounced": "暗访",
    "surprise": "突击检查",
    "random": "随机抽查",
}
"""Inspection methods and their Chinese names."""


METHOD_ALIASES: dict[str, str] = {
    **{code: code for code in METHOD_LABELS},
    **{label: code for code, label in METHOD_LABELS.items()},
    "突击": "surprise",
}
"""Accepted spellings of each method (codes and Chinese names) → the code stored."""


def normalize_method(value: str) -> str:
    """The method code for a code or Chinese name; ``ValueError`` if unknown."""
    try:
        return METHOD_ALIASES[value.strip()]
    except KeyError:
        known = "、".join(METHOD_LABELS.values())
        raise ValueError(f"unknown inspection method {value!r} (one of {known})") from None


def new_id() -> str:
    """A fresh id made on this device (uuid4, 32 hex digits)."""
    return uuid.uuid4().hex


def canonical(obj: Any) -> bytes:
    """The canonical JSON encoding hashed for events and digests."""
    return json.dumps(
        obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def event_hash(doc: Mapping[str, Any]) -> str:
    """The hash an event document should carry (computed over everything but ``hash``)."""
    body = {k: v for k, v in doc.items() if k != "hash"}
    return hashlib.sha256(HASH_DOMAIN + canonical(body)).hexdigest()


def parse_time(text: str) -> dt.datetime:
    """An ISO-8601 time with a UTC offset; ``ValueError`` otherwise."""
    at = dt.datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ValueError(f"time {text!r} has no UTC offset")
    return at


def _time_field(value: str) -> str:
    parse_time(value)
    return value


class EventDoc(BaseModel):
    """The stored form of an event, validated strictly (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    v: Literal[1]
    event_id: Hex32
    device_id: Hex32
    seq: Annotated[int, Field(ge=1)]
    lamport: Annotated[int, Field(ge=1)]
    time: str
    """When it happened on the device, ISO-8601 with UTC offset (stored as written)."""
    actor: Annotated[str, Field(max_length=100)]
    """Who did it: the inspector or office user named when the ledger was opened."""
    kind: Kind
    payload: dict[str, Any]
    prev: Sha256 | None
    hash: Sha256

    _check_time = field_validator("time")(_time_field)


EVENT_FIELDS = tuple(EventDoc.model_fields)


class Event(NamedTuple):
    """One ledger event in memory: the fields of :class:`EventDoc`, cheap to make and small.

    Build one with :func:`make_event` (a new event) or :meth:`from_doc` (a stored one). The
    payload dict is shared with the stored document: never change it. A named tuple rather than
    a frozen dataclass: a city ledger holds 700,000 of them, and a frozen dataclass's
    ``__init__`` (one ``object.__setattr__`` per field) cost more than parsing the line.
    """

    v: int
    event_id: str
    device_id: str
    seq: int
    lamport: int
    time: str
    actor: str
    kind: str
    payload: dict[str, Any]
    prev: str | None
    hash: str

    @property
    def at(self) -> dt.datetime:
        """``time`` as an aware datetime."""
        return parse_time(self.time)

    @property
    def order(self) -> tuple[int, str, int]:
        """The projection's total order: ``(lamport, device_id, seq)``."""
        return (self.lamport, self.device_id, self.seq)

    def to_doc(self) -> dict[str, Any]:
        """The document stored in the ledger file (JSON types only)."""
        return {
            "v": self.v,
            "event_id": self.event_id,
            "device_id": self.device_id,
            "seq": self.seq,
            "lamport": self.lamport,
            "time": self.time,
            "actor": self.actor,
            "kind": self.kind,
            "payload": self.payload,
            "prev": self.prev,
            "hash": self.hash,
        }

    def hash_ok(self) -> bool:
        """Whether ``hash`` matches the content."""
        return event_hash(self.to_doc()) == self.hash

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any], *, trusted: bool = False) -> Event:
        """An event from a stored document.

        Validated against :class:`EventDoc` (``pydantic.ValidationError`` if it does not
        conform) unless ``trusted``: a document from a checksummed ledger file whose shape was
        checked already.
        """
        if not trusted:
            EventDoc.model_validate(doc)
        return cls(**doc)


ORDER_KEY = attrgetter("lamport", "device_id", "seq")
"""``Event.order`` as a sort key computed in C (sorting 700,000 events)."""


def make_event(
    *,
    device_id: str,
    seq: int,
    lamport: int,
    time: dt.datetime,
    actor: str,
    kind: str,
    payload: Mapping[str, Any],
    prev: str | None,
    event_id: str | None = None,
) -> Event:
    """A new event with its hash, its payload checked against :data:`PAYLOADS`."""
    if time.tzinfo is None:
        raise ValueError("event time must be timezone-aware")
    body = PAYLOADS[kind].model_validate(payload).model_dump(mode="json")
    doc: dict[str, Any] = {
        "v": EVENT_VERSION,
        "event_id": event_id or new_id(),
        "device_id": device_id,
        "seq": seq,
        "lamport": lamport,
        "time": time.isoformat(),
        "actor": actor,
        "kind": kind,
        "payload": body,
        "prev": prev,
    }
    doc["hash"] = event_hash(doc)
    return Event.from_doc(doc)


@dataclass(frozen=True, slots=True)
class Head:
    """The newest event of one device's chain."""

    seq: int
    hash: str
    lamport: int


def link_problem(head: Head | None, event: Event) -> str | None:
    """Why ``event`` cannot follow ``head`` in its device's chain, or ``None`` if it can."""
    if head is None:
        if event.seq != 1:
            return f"seq {event.seq} but the device's chain starts at 1 (events missing)"
        if event.prev is not None:
            return "seq 1 must have prev null"
        return None
    if event.seq != head.seq + 1:
        if event.seq <= head.seq:
            return f"seq {event.seq} repeats or goes back (chain is at {head.seq})"
        return f"seq {event.seq} follows {head.seq}: seq {head.seq + 1}..{event.seq - 1} missing"
    if event.prev != head.hash:
        return f"seq {event.seq}: prev does not match the hash of seq {head.seq} (chain broken)"
    if event.lamport <= head.lamport:
        return f"seq {event.seq}: lamport {event.lamport} does not grow (was {head.lamport})"
    return None


def document_problem(doc: Mapping[str, Any]) -> str | None:
    """What is wrong with a stored event document (shape, payload, hash), or ``None``."""
    try:
        event = Event.from_doc(doc)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        return f"not a valid event: {loc}: {first['msg']}"
    if not event.hash_ok():
        return f"seq {event.seq}: hash does not match the content (event altered)"
    try:
        PAYLOADS[event.kind].model_validate(event.payload)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        return f"seq {event.seq}: payload of {event.kind}: {loc}: {first['msg']}"
    return None


# --------------------------------------------------------------------------------------------
# Payloads


class Payload(BaseModel):
    """Base of event payloads: strict and frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Note = Annotated[str, Field(max_length=2000)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=100)]


class Evidence(Payload):
    """An evidence file: its content hash (the key to the evidence store) and a display name.

    ``name`` is the original file name only (no folders): it labels the file, it never locates it.
    """

    sha256: Sha256
    name: Annotated[str, Field(max_length=200, pattern=r"^[^/\\\x00]*$")] = ""


class SiteRegistered(Payload):
    """A site entered in the register (by import or by hand)."""

    site: Site


class SiteUpdated(Payload):
    """A site's record replaced; ``base`` is the event id of the version it replaces."""

    site: Site
    base: Hex32


class InspectionStarted(Payload):
    """An inspection begun at a site with one pack version."""

    inspection_id: Hex32
    site_id: Annotated[str, Field(min_length=1, max_length=64)]
    pack_id: Annotated[str, Field(min_length=1, max_length=100)]
    pack_version: Annotated[str, Field(min_length=1, max_length=50)]
    method: Method
    inspectors: Annotated[list[Name], Field(min_length=1)]
    started_at: str
    """When the inspection began (ISO-8601 with offset); may differ from the event time."""

    _check_time = field_validator("started_at")(_time_field)


class AnswerRecorded(Payload):
    """The state of one item: value (``None``: not answered), note, evidence.

    A later event for the same item replaces the whole state; all three empty clears the item.
    """

    inspection_id: Hex32
    item_id: Annotated[str, Field(min_length=1, max_length=100)]
    value: AnswerValue | None
    note: Note = ""
    evidence: list[Evidence] = Field(default_factory=list)
    """Evidence files in the data directory's evidence store, by content hash."""


class SubmittedFinding(Payload):
    """A finding as the engine produced it, with the id the ledger gave it."""

    finding_id: Hex32
    finding: dict[str, Any]
    """``Finding.model_dump(mode="json")``."""


class InspectionSubmitted(Payload):
    """The inspection signed off with its findings; it is sealed from now on."""

    inspection_id: Hex32
    findings: list[SubmittedFinding]


class InspectionCancelled(Payload):
    """An open inspection abandoned (started by mistake, site unreachable...)."""

    inspection_id: Hex32
    reason: Reason


class PlanSet(Payload):
    """The 五落实 of a finding recorded (or revised)."""

    finding_id: Hex32
    plan: FiveImplementations
    base: Hex32 | None = None
    """Event id of the finding's latest step this device had seen (``None`` on older events):
    lets every replica tell concurrent changes apart (inspect_engine/sync/conflicts.py)."""


class RectificationStarted(Payload):
    """待整改 → 整改中."""

    finding_id: Hex32
    note: Note = ""
    base: Hex32 | None = None
    """See :attr:`PlanSet.base`."""


class RectificationReported(Payload):
    """→ 已整改待复查, with what was done and evidence of it."""

    finding_id: Hex32
    note: Note = ""
    evidence: list[Evidence] = Field(default_factory=list)
    base: Hex32 | None = None
    """See :attr:`PlanSet.base`."""


class FindingClosed(Payload):
    """已整改待复查 → 销号 after verification on site."""

    finding_id: Hex32
    verifier: Name
    note: Note = ""
    evidence: list[Evidence] = Field(default_factory=list)
    base: Hex32 | None = None
    """See :attr:`PlanSet.base`."""


class FindingReopened(Payload):
    """Verification failed, or a closed hazard found again: back to 整改中."""

    finding_id: Hex32
    reason: Reason
    base: Hex32 | None = None
    """See :attr:`PlanSet.base`."""


class EnforcementOrdered(Payload):
    """An enforcement order (停止使用、停止建设…) issued to a site."""

    order_id: Hex32
    site_id: Annotated[str, Field(min_length=1, max_length=64)]
    finding_id: Hex32 | None = None
    kind: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=50)]
    ordered_on: dt.date
    issued_by: Annotated[str, Field(max_length=200)] = ""
    note: Note = ""


class EnforcementLifted(Payload):
    """An order lifted after re-inspection, with its basis (复查合格 / 审查同意)."""

    order_id: Hex32
    lifted_on: dt.date
    basis: Reason
    reinspection_id: Hex32 | None = None
    note: Note = ""


class DeviceEnrolled(Payload):
    """A device admitted to sync, recorded by the hub: its Ed25519 public key and its inspector.

    Written and read by :mod:`inspect_engine.sync.devices`, which decides whose enrollments are
    trusted (the hub's own); the projection records nothing for it.
    """

    device_id: Hex32
    role: Literal["hub", "laptop"]
    inspector: Name
    """The inspector (or, for the hub, the office) the device belongs to."""
    public_key: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    """The raw 32-byte Ed25519 public key, hex."""


PAYLOADS: dict[str, type[Payload]] = {
    "site.registered": SiteRegistered,
    "site.updated": SiteUpdated,
    "inspection.started": InspectionStarted,
    "inspection.answered": AnswerRecorded,
    "inspection.submitted": InspectionSubmitted,
    "inspection.cancelled": InspectionCancelled,
    "finding.plan_set": PlanSet,
    "finding.rectification_started": RectificationStarted,
    "finding.rectification_reported": RectificationReported,
    "finding.closed": FindingClosed,
    "finding.reopened": FindingReopened,
    "enforcement.ordered": EnforcementOrdered,
    "enforcement.lifted": EnforcementLifted,
    "device.enrolled": DeviceEnrolled,
}
"""The payload model of every event kind."""
