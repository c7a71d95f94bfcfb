"""A stand-in backend for the few app tests that must make the core misbehave on purpose: a
save that fails (disk full, ledger locked away) or that hangs. Everything else runs on the real
ledger."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from pathlib import Path

from inspect_engine.conditions import AnswerValue
from inspect_engine.errors import LedgerError
from inspect_engine.evaluation import evaluate
from inspect_engine.findings import Finding
from inspect_engine.rulepack import RulePack
from inspect_engine.site import Site
from tui.backend import (
    EvidenceRef,
    FindingView,
    FivePlan,
    InspectionInfo,
    OpenInspection,
    Progress,
    SiteRow,
    SyncInfo,
    SyncOutcome,
)


class FakeBackend:
    """In-memory :class:`~tui.backend.Backend` with a failure switch and a gate on saves."""

    def __init__(self, packs: Sequence[RulePack], sites: Sequence[Site]) -> None:
        self._packs = list(packs)
        self._sites = {s.id: s for s in sites}
        self.open_: dict[str, OpenInspection] = {}
        self.recorded: list[tuple[str, AnswerValue | None]] = []
        self.fail_saves: str | None = None
        """When set, every save raises LedgerError with this message."""
        self.gate = threading.Event()
        """Saves wait for this (set by default); clear it to hold them."""
        self.gate.set()
        self.notices: list[str] = []
        """Inspections whose notice the app asked for."""

    @property
    def demo(self) -> bool:
        return False

    @property
    def inspector(self) -> str:
        return "排查员01"

    def packs(self) -> Sequence[RulePack]:
        return self._packs

    def inspection_pack(self, info: InspectionInfo) -> RulePack:
        return next(p for p in self._packs if p.id == info.pack_id)

    def today(self) -> dt.date:
        return dt.date(2020, 9, 15)

    def sites(self, *, mine: bool) -> list[SiteRow]:
        busy = {o.info.site_id for o in self.open_.values()}
        return [
            SiteRow(s, "in_progress" if s.id in busy else "not_inspected")
            for s in self._sites.values()
        ]

    def site(self, site_id: str) -> Site:
        return self._sites[site_id]

    def inspections(self, site_id: str) -> list[InspectionInfo]:
        return [o.info for o in self.open_.values() if o.info.site_id == site_id]

    def site_findings(self, site_id: str) -> list[FindingView]:
        return []

    def open_inspection(self, site_id: str | None = None) -> OpenInspection | None:
        for o in self.open_.values():
            if site_id is None or o.info.site_id == site_id:
                return o
        return None

    def start_inspection(
        self, site_id: str, pack_id: str, method: str, inspectors: Sequence[str]
    ) -> OpenInspection:
        info = InspectionInfo(
            id=f"i{len(self.open_) + 1}",
            site_id=site_id,
            pack_id=pack_id,
            method=method,
            inspectors=tuple(inspectors),
            started=dt.datetime(2020, 9, 15, 9, 0, tzinfo=dt.UTC),
        )
        self.open_[info.id] = OpenInspection(info)
        return self.open_[info.id]

    def _save(self) -> None:
        if not self.gate.wait(10):
            raise LedgerError("gate never opened")
        if self.fail_saves:
            raise LedgerError(self.fail_saves)

    def record_answer(self, inspection_id: str, item_id: str, value: AnswerValue | None) -> None:
        self._save()
        self.recorded.append((item_id, value))
        if value is not None:
            self.open_[inspection_id].answers[item_id] = value

    def record_note(self, inspection_id: str, item_id: str, note: str) -> None:
        self._save()
        self.open_[inspection_id].notes[item_id] = note

    def attach_evidence(self, inspection_id: str, item_id: str, path: Path) -> EvidenceRef:
        raise LedgerError("not in the fake")

    def evaluate(
        self, pack: RulePack, site: Site, answers: dict[str, AnswerValue], on: dt.date
    ) -> list[Finding]:
        return evaluate(pack, site, answers, on)

    def submit(self, inspection_id: str, answers: dict[str, AnswerValue]) -> list[FindingView]:
        raise LedgerError("not in the fake")

    def finding(self, finding_id: str) -> FindingView:
        raise LedgerError("not in the fake")

    def set_plan(self, finding_id: str, plan: FivePlan) -> None:
        raise LedgerError("not in the fake")

    def start_rectification(self, finding_id: str, note: str) -> None:
        raise LedgerError("not in the fake")

    def report_rectified(self, finding_id: str, note: str) -> None:
        raise LedgerError("not in the fake")

    def close_finding(self, finding_id: str, note: str) -> None:
        raise LedgerError("not in the fake")

    def reopen_finding(self, finding_id: str, reason: str) -> None:
        raise LedgerError("not in the fake")

    def lift_order(self, order_id: str, basis: str) -> None:
        raise LedgerError("not in the fake")

    def write_notice(self, inspection_id: str) -> Path:
        self.notices.append(inspection_id)
        return Path("/notices") / f"{inspection_id}.docx"

    def unresolved(self) -> list[FindingView]:
        return []

    def sync_info(self) -> SyncInfo:
        return SyncInfo(None, "fake", None)

    def sync_run(self, hub_dir: Path, progress: Progress) -> list[SyncOutcome]:
        raise LedgerError("not in the fake")

    def sync_export(self, out: Path, progress: Progress) -> SyncOutcome:
        raise LedgerError("not in the fake")

    def sync_import(self, bundle: Path, progress: Progress) -> SyncOutcome:
        raise LedgerError("not in the fake")
