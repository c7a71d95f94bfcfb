"""The narrow interface between the app and the core: what the screens need, nothing more.

Screens never touch storage. They call a :class:`Backend`, whose one implementation,
:class:`tui.ledger_backend.LedgerBackend`, wraps ``inspect_engine.ledger.Ledger`` (the durable,
locked, event-sourced store) and ``inspect_engine.evaluation.evaluate`` (the engine). The view
models below are plain frozen dataclasses so that screens and tests do not depend on the ledger's
record types.

Contract shared by every method: a problem the user can act on (locked or damaged ledger, an
answer the item cannot take, a sealed inspection) raises an
:class:`~inspect_engine.errors.InspectError` with a message; :meth:`Backend.record_answer`
returns only once the answer is durable (fsynced).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from inspect_engine.conditions import AnswerValue
from inspect_engine.findings import Finding
from inspect_engine.rulepack import RulePack
from inspect_engine.site import Site

SiteStatus = Literal["new", "in_progress", "clear", "open", "overdue"]
"""new: never inspected; in_progress: an inspection is open; clear: inspected, nothing open;
open: open findings; overdue: an open finding is past its deadline."""

FindingStatus = Literal["open", "reported", "closed"]
"""open: not rectified; reported: a rectification report is in, awaiting verification;
closed: verified and closed (销号)."""

METHODS: tuple[str, ...] = ("明查", "暗访", "突击", "随机抽查")
"""Inspection methods (排查方式), as the ledger records them."""


@dataclass(frozen=True)
class SiteRow:
    """A site in the list, with its inspection status."""

    site: Site
    status: SiteStatus
    open_findings: int = 0


@dataclass(frozen=True)
class InspectionInfo:
    """One inspection of a site (open or submitted)."""

    id: str
    site_id: str
    pack_id: str
    method: str
    inspectors: tuple[str, ...]
    started: dt.datetime
    submitted: dt.datetime | None = None
    findings: int = 0


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
    """The item answered last (the walk resumes right after it)."""


@dataclass(frozen=True)
class HistoryEntry:
    """One event in a finding's life (reported, verified, reopened, order lifted...)."""

    at: dt.datetime
    kind: str
    actor: str
    text: str


@dataclass(frozen=True)
class OrderView:
    """An enforcement order (责令停止施工...) attached to a finding."""

    id: str
    code: str
    label: str
    lifted: bool


@dataclass(frozen=True)
class FindingView:
    """A recorded finding with its follow-up state."""

    id: str
    site_id: str
    site_name: str
    county: str
    inspection_id: str
    finding: Finding
    status: FindingStatus
    overdue: bool
    history: tuple[HistoryEntry, ...] = ()
    orders: tuple[OrderView, ...] = ()
    five_in_place: dict[str, str] | None = None
    """五落实 (责任、措施、资金、时限、预案) for a 重大 finding, once recorded."""


class Backend(Protocol):
    """What the app asks of the core. See the module docstring for the error contract."""

    @property
    def demo(self) -> bool:
        """Whether the ledger holds generated demo data (the app says so on every screen)."""
        ...

    @property
    def inspector(self) -> str:
        """The inspector using the app (the default actor of every event)."""
        ...

    def packs(self) -> Sequence[RulePack]:
        """The rule packs installed."""
        ...

    def today(self) -> dt.date:
        """The date inspections and deadlines are judged on (the injected clock)."""
        ...

    def sites(self) -> list[SiteRow]:
        """The inspector's assigned sites, with their status."""
        ...

    def site(self, site_id: str) -> Site:
        """One site's record."""
        ...

    def inspections(self, site_id: str) -> list[InspectionInfo]:
        """The site's inspections, newest first."""
        ...

    def site_findings(self, site_id: str) -> list[FindingView]:
        """The site's findings that are not closed."""
        ...

    def open_inspection(self, site_id: str | None = None) -> OpenInspection | None:
        """The open inspection (of ``site_id``, or the most recent of any site), to resume."""
        ...

    def start_inspection(
        self, site_id: str, pack_id: str, method: str, inspectors: Sequence[str]
    ) -> OpenInspection:
        """Open a new inspection (durable before it returns)."""
        ...

    def record_answer(self, inspection_id: str, item_id: str, value: AnswerValue) -> None:
        """Record one checked answer durably (returns once fsynced)."""
        ...

    def record_note(self, inspection_id: str, item_id: str, note: str) -> None:
        """Record a note on an item durably."""
        ...

    def attach_evidence(self, inspection_id: str, item_id: str, path: Path) -> EvidenceRef:
        """Store a file by its hash and attach it to an item, durably."""
        ...

    def evaluate(
        self, pack: RulePack, site: Site, answers: dict[str, AnswerValue]
    ) -> list[Finding]:
        """The findings the engine derives from these (effective) answers today."""
        ...

    def submit(self, inspection_id: str, answers: dict[str, AnswerValue]) -> list[FindingView]:
        """Seal the inspection with its findings (evaluated by the ledger from the answers)."""
        ...

    def finding(self, finding_id: str) -> FindingView:
        """One recorded finding with its history."""
        ...

    def report_rectification(self, finding_id: str, text: str) -> None:
        """The responsible party reports the finding rectified."""
        ...

    def verify_and_close(self, finding_id: str, text: str) -> None:
        """Re-inspection confirms the rectification: close the finding (销号)."""
        ...

    def reopen(self, finding_id: str, reason: str) -> None:
        """Reopen a closed (or reported) finding, with the reason."""
        ...

    def lift_order(self, finding_id: str, order_id: str, text: str) -> None:
        """Lift an enforcement order after re-inspection."""
        ...

    def record_five_in_place(self, finding_id: str, five: dict[str, str]) -> None:
        """Record 五落实 (责任、措施、资金、时限、预案) for a 重大 finding."""
        ...

    def unresolved(self) -> list[FindingView]:
        """Every finding not closed, overdue first, then by deadline."""
        ...
