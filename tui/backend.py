"""The narrow interface between the app and the core: what the screens need, nothing more.

Screens never touch storage. They call a :class:`Backend`, implemented by
:class:`tui.ledger_backend.LedgerBackend` over ``inspect_engine.ledger.Ledger`` (the durable,
locked, event-sourced record) and ``inspect_engine.evaluation.evaluate`` (the engine). The view
models below are plain frozen dataclasses, so screens and their tests do not depend on the
ledger's record types; the vocabulary (site statuses, finding statuses, inspection methods) is
the ledger's.

Contract shared by every method: a problem the user can act on (locked or damaged ledger, an
answer the item cannot take, a sealed inspection, a move the rectification loop forbids) raises
an :class:`~inspect_engine.errors.InspectError` whose message says so; :meth:`Backend.record_answer`
(and every other write) returns only once the change is durable. Implementations must be safe to
call from the app's save worker thread while the UI thread reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from inspect_engine.conditions import AnswerValue
from inspect_engine.findings import Finding
from inspect_engine.rulepack import RulePack
from inspect_engine.site import Site

SiteStatus = Literal["not_inspected", "in_progress", "open_findings", "overdue", "clear"]
"""The ledger's site statuses (``inspect_engine.queries.SiteStatus``)."""

FindingStatus = Literal["open", "in_rectification", "reported", "closed"]
"""The rectification loop (``inspect_engine.rectification.Status``): 待整改, 整改中,
已整改待复查, 销号."""

METHODS: tuple[str, ...] = ("open", "unannounced", "surprise", "random")
"""Inspection methods as the ledger stores them: 明查, 暗访, 突击检查, 随机抽查."""


@dataclass(frozen=True)
class SiteRow:
    """A site in the list, with its inspection status."""

    site: Site
    status: SiteStatus
    open_findings: int = 0


@dataclass(frozen=True)
class InspectionInfo:
    """One inspection of a site (open or sealed)."""

    id: str
    site_id: str
    pack_id: str
    method: str
    inspectors: tuple[str, ...]
    started: dt.datetime
    state: Literal["open", "submitted", "cancelled"] = "open"
    findings: int = 0
    pack_version: str = ""
    """The pack version the inspection was started with (it continues under it)."""


@dataclass(frozen=True)
class EvidenceRef:
    """A stored evidence file: its original name and content hash."""

    name: str
    sha256: str

    def label(self) -> str:
        """``name (abcd1234)`` for display."""
        return f"{self.name} ({self.sha256[:8]})"


@dataclass(frozen=True)
class OpenInspection:
    """An inspection in progress with everything recorded so far (for resuming)."""

    info: InspectionInfo
    answers: dict[str, AnswerValue] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, list[EvidenceRef]] = field(default_factory=dict)
    last_item: str | None = None
    """The item recorded last (the walk resumes right after it)."""


@dataclass(frozen=True)
class HistoryEntry:
    """One step in a finding's life (raised, plan, start, report, close, reopen)."""

    at: dt.datetime
    action: str
    actor: str
    note: str


@dataclass(frozen=True)
class OrderView:
    """An enforcement order (责令停止使用...) and whether it is still in force."""

    id: str
    kind: str
    ordered_on: dt.date
    lifted_on: dt.date | None = None
    lift_basis: str = ""

    @property
    def in_force(self) -> bool:
        """Not lifted yet."""
        return self.lifted_on is None


@dataclass(frozen=True)
class FivePlan:
    """五落实 of a 重大 hazard: 责任、措施、资金（万元）、时限、预案."""

    responsible_person: str
    measures: str
    funds: float
    deadline: dt.date
    contingency_plan: str


@dataclass(frozen=True)
class FindingView:
    """A recorded hazard finding with its place in the rectification loop."""

    id: str
    site_id: str
    site_name: str
    county: str
    inspection_id: str
    finding: Finding
    status: FindingStatus
    deadline: dt.date
    """The deadline in force (the 五落实 时限 once recorded, else the rule's)."""
    overdue: bool
    history: tuple[HistoryEntry, ...] = ()
    orders: tuple[OrderView, ...] = ()
    plan: FivePlan | None = None


Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)`` as sync advances (called from the worker thread)."""


@dataclass(frozen=True)
class SyncInfo:
    """This ledger's place in sync."""

    role: Literal["hub", "laptop"] | None
    """``None``: not enrolled (the office enrolls laptops with ``inspect-engine sync enroll``)."""
    device: str
    hub: str | None


@dataclass(frozen=True)
class SyncOutcome:
    """What one push, pull, export or import did; ``refused`` is the reason code if refused."""

    action: str
    events: int = 0
    new: int = 0
    present: int = 0
    evidence: int = 0
    conflicts: int = 0
    refused: str | None = None
    detail: str = ""
    path: str = ""
    packs: tuple[str, ...] = ()
    """``id version`` of each rule pack the hub sent that was installed here."""


class Backend(Protocol):
    """What the app asks of the core. See the module docstring for the error contract."""

    @property
    def demo(self) -> bool:
        """Whether the ledger holds generated demo data (the app says so on every screen)."""
        ...

    @property
    def inspector(self) -> str:
        """The inspector using the app: the actor of every event, the default inspector."""
        ...

    def packs(self) -> Sequence[RulePack]:
        """The rule packs in force (the highest installed version of each; new inspections
        start with these)."""
        ...

    def inspection_pack(self, info: InspectionInfo) -> RulePack:
        """The pack version ``info`` was started with, which it continues and is evaluated
        under; an :class:`~inspect_engine.errors.InspectError` saying so if it is no longer
        installed."""
        ...

    def today(self) -> dt.date:
        """The date deadlines and overdue are judged on (from the injected clock)."""
        ...

    def sites(self, *, mine: bool) -> list[SiteRow]:
        """Sites with their status: the inspector's assigned ones (``mine``), or all."""
        ...

    def site(self, site_id: str) -> Site:
        """One site's record."""
        ...

    def inspections(self, site_id: str) -> list[InspectionInfo]:
        """The site's inspections, newest first."""
        ...

    def site_findings(self, site_id: str) -> list[FindingView]:
        """The site's hazards not yet closed (销号)."""
        ...

    def open_inspection(self, site_id: str | None = None) -> OpenInspection | None:
        """The open inspection of ``site_id`` (or the latest of any site) on this device."""
        ...

    def start_inspection(
        self, site_id: str, pack_id: str, method: str, inspectors: Sequence[str]
    ) -> OpenInspection:
        """Open a new inspection (durable before it returns)."""
        ...

    def record_answer(self, inspection_id: str, item_id: str, value: AnswerValue | None) -> None:
        """Record one checked answer (``None`` withdraws it); returns once it is durable."""
        ...

    def record_note(self, inspection_id: str, item_id: str, note: str) -> None:
        """Record a note on an item durably (its answer and evidence are kept)."""
        ...

    def attach_evidence(self, inspection_id: str, item_id: str, path: Path) -> EvidenceRef:
        """Store a file by its hash and attach it to an item, durably."""
        ...

    def evaluate(
        self, pack: RulePack, site: Site, answers: dict[str, AnswerValue], on: dt.date
    ) -> list[Finding]:
        """The findings the engine derives from these (effective) answers on date ``on``."""
        ...

    def submit(self, inspection_id: str, answers: dict[str, AnswerValue]) -> list[FindingView]:
        """Seal the inspection with the findings derived from ``answers`` (the effective ones;
        any other recorded answer is withdrawn first) and record the enforcement orders they
        carry."""
        ...

    def finding(self, finding_id: str) -> FindingView:
        """One recorded finding with its history and orders."""
        ...

    def set_plan(self, finding_id: str, plan: FivePlan) -> None:
        """Record (or revise) 五落实 of a finding."""
        ...

    def start_rectification(self, finding_id: str, note: str) -> None:
        """待整改 → 整改中."""
        ...

    def report_rectified(self, finding_id: str, note: str) -> None:
        """The responsible party reports the finding rectified (→ 已整改待复查)."""
        ...

    def close_finding(self, finding_id: str, note: str) -> None:
        """Verified on re-inspection: close the finding (销号)."""
        ...

    def reopen_finding(self, finding_id: str, reason: str) -> None:
        """Reopen a reported or closed finding, with the reason."""
        ...

    def lift_order(self, order_id: str, basis: str) -> None:
        """Lift an enforcement order after re-inspection, with the basis."""
        ...

    def write_notice(self, inspection_id: str) -> Path:
        """Write the rectification notice (隐患整改通知书) of a submitted inspection as a printable
        .docx and a Markdown copy into the data directory's ``notices`` folder; the .docx path."""
        ...

    def unresolved(self) -> list[FindingView]:
        """Every hazard not closed, overdue first, then by deadline (the ledger's query)."""
        ...

    def sync_info(self) -> SyncInfo:
        """Whether and how this ledger is enrolled for sync."""
        ...

    def sync_run(self, hub_dir: Path, progress: Progress) -> list[SyncOutcome]:
        """Direct sync with the hub's data directory: push, then pull."""
        ...

    def sync_export(self, out: Path, progress: Progress) -> SyncOutcome:
        """Write a bundle for the hub (a file, or a new file in a folder)."""
        ...

    def sync_import(self, bundle: Path, progress: Progress) -> SyncOutcome:
        """Verify and import a bundle; a refused one imports nothing (``refused`` says why)."""
        ...
