"""The :class:`~tui.backend.Backend` over the real ledger and engine.

Every call takes one lock, so the save worker thread and the UI thread never interleave inside
the ledger (the ledger serialises its own writes too; the lock here also covers reads of its
in-memory projection while a worker applies an event). Every write is the ledger's, durable when
it returns (``Ledger.record_answer`` appends to the small per-inspection journal and fsyncs).

Rule packs: :meth:`LedgerBackend.packs` are the versions in force (new inspections start with
them); an inspection continues and is evaluated under the version it started with, found among
the program's and the data directory's packs (:meth:`LedgerBackend.inspection_pack`). A sync that
installs packs from the hub reloads the packs in force.

Lists of findings are made in one pass (:meth:`LedgerBackend._views`): the projection is read
once and the enforcement orders grouped by finding once per call, not scanned for each finding
(the city's 3,099 open hazards took 0.5 s that way).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import ParamSpec, TypeVar

from pydantic import ValidationError

from inspect_engine.conditions import AnswerValue
from inspect_engine.errors import InputError, InspectError, LedgerError, PackError
from inspect_engine.evaluation import evaluate
from inspect_engine.events import parse_time
from inspect_engine.findings import Finding
from inspect_engine.ledger import Ledger
from inspect_engine.packs import load_pack
from inspect_engine.projection import FindingState, InspectionState, OrderState
from inspect_engine.queries import FindingRow, finding_row
from inspect_engine.rectification import FiveImplementations
from inspect_engine.reports.notice import notice_of, render_markdown
from inspect_engine.reports.outfile import write_out
from inspect_engine.rulepack import RulePack
from inspect_engine.site import Site
from inspect_engine.sync.bundle import write_bundle
from inspect_engine.sync.devices import role_of
from inspect_engine.sync.protocol import (
    Endpoint,
    Summary,
    export_bundle,
    import_bundle,
    open_endpoint,
    run_direct,
)
from inspect_engine.sync.reasons import Refused
from inspect_engine.sync.state import load_state
from tui.backend import (
    EvidenceRef,
    FindingView,
    FivePlan,
    HistoryEntry,
    InspectionInfo,
    OpenInspection,
    OrderView,
    Progress,
    SiteRow,
    SyncInfo,
    SyncOutcome,
)

P = ParamSpec("P")
R = TypeVar("R")


def _locked(fn: Callable[P, R]) -> Callable[P, R]:
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        self = args[0]
        assert isinstance(self, LedgerBackend)
        with self._lock:
            return fn(*args, **kwargs)

    wrapper.__doc__ = fn.__doc__
    wrapper.__name__ = fn.__name__
    return wrapper


NOTICE_DIR = "notices"
"""Where the app writes rectification notices, inside the data directory."""


class LedgerBackend:
    """The app's backend on an open, writable :class:`~inspect_engine.ledger.Ledger`."""

    def __init__(
        self,
        ledger: Ledger,
        packs: Sequence[RulePack],
        *,
        demo: bool = False,
        reload_packs: Callable[[], Sequence[RulePack]] | None = None,
    ) -> None:
        self.ledger = ledger
        self._packs = list(packs)
        self._pinned: dict[tuple[str, str], RulePack] = {}
        self._reload_packs = reload_packs
        """Loads the packs in force again (after a sync installed new ones); None: keep them."""
        self._demo = demo
        self._lock = threading.RLock()

    @property
    def demo(self) -> bool:
        """Whether this is the generated demo ledger."""
        return self._demo

    @property
    def inspector(self) -> str:
        """The ledger's actor."""
        return self.ledger.actor

    def packs(self) -> Sequence[RulePack]:
        """The packs the app was given."""
        return self._packs

    def _pack(self, pack_id: str) -> RulePack:
        for pack in self._packs:
            if pack.id == pack_id:
                return pack
        raise InputError(f"检查表 {pack_id} 未安装 / rule pack {pack_id} is not installed")

    def _pack_version(self, pack_id: str, version: str) -> RulePack:
        """The pack an inspection pinned: ``pack_id`` at ``version`` exactly."""
        for pack in self._packs:
            if pack.id == pack_id and pack.version == version:
                return pack
        if (pack_id, version) in self._pinned:
            return self._pinned[(pack_id, version)]
        try:
            pack = load_pack(pack_id, data_dir=self.ledger.data_dir, version=version)
        except (InputError, PackError) as err:
            current = next((p.version for p in self._packs if p.id == pack_id), None)
            now = f"在用版本 {current}" if current else "本机无此检查表"
            now_en = f"the version in force is {current}" if current else "it is not installed"
            raise InputError(
                f"本次检查按检查表 {pack_id} {version} 开始，但本机已没有该版本（{now}），"
                f"无法继续或评估 / the inspection was started under {pack_id} {version}, "
                f"which is no longer installed here ({now_en}): it cannot be continued or "
                "evaluated",
                hint=err.message,
            ) from None
        self._pinned[(pack_id, version)] = pack
        return pack

    def inspection_pack(self, info: InspectionInfo) -> RulePack:
        """The version the inspection started with (see the module docstring)."""
        if not info.pack_version:
            return self._pack(info.pack_id)
        with self._lock:
            return self._pack_version(info.pack_id, info.pack_version)

    def today(self) -> dt.date:
        """The clock's date."""
        return self.ledger.today()

    # --- sites -------------------------------------------------------------------------------

    @_locked
    def sites(self, *, mine: bool) -> list[SiteRow]:
        """The ledger's site list (assigned to this inspector when ``mine``)."""
        rows = self.ledger.sites(inspector=self.inspector if mine else None)
        return [SiteRow(r.site, r.status, r.open_findings) for r in rows]

    @_locked
    def site(self, site_id: str) -> Site:
        """One site's register entry."""
        return self.ledger.site(site_id).site

    @_locked
    def inspections(self, site_id: str) -> list[InspectionInfo]:
        """The site's inspections, newest first."""
        return [_info(i) for i in self.ledger.site(site_id).inspections]

    @_locked
    def site_findings(self, site_id: str) -> list[FindingView]:
        """The site's hazards not yet closed."""
        return self._views(self.ledger.site(site_id).open_findings)

    # --- inspections -------------------------------------------------------------------------

    @_locked
    def open_inspection(self, site_id: str | None = None) -> OpenInspection | None:
        """This device's open inspection (of ``site_id``): the one answered in last."""
        candidates = [
            i
            for i in self.ledger.open_inspections(mine=True)
            if site_id is None or i.site_id == site_id
        ]
        if not candidates:
            return None

        def last_touched(i: InspectionState) -> dt.datetime:
            times = [parse_time(i.started_at)] + [parse_time(a.time) for a in i.answers.values()]
            return max(times)

        # the one worked on last is the one the inspector was in when the app stopped
        return _open(max(candidates, key=lambda i: (last_touched(i), i.id)))

    @_locked
    def start_inspection(
        self, site_id: str, pack_id: str, method: str, inspectors: Sequence[str]
    ) -> OpenInspection:
        """Begin an inspection with the pack's current version."""
        pack = self._pack(pack_id)
        state = self.ledger.start_inspection(
            site_id,
            pack_id=pack.id,
            pack_version=pack.version,
            method=method,
            inspectors=list(inspectors),
        )
        return _open(state)

    @_locked
    def record_answer(self, inspection_id: str, item_id: str, value: AnswerValue | None) -> None:
        """Durable when it returns."""
        self.ledger.record_answer(inspection_id, item_id, value)

    @_locked
    def record_note(self, inspection_id: str, item_id: str, note: str) -> None:
        """Durable when it returns."""
        self.ledger.record_note(inspection_id, item_id, note)

    @_locked
    def attach_evidence(self, inspection_id: str, item_id: str, path: Path) -> EvidenceRef:
        """Store the file under its SHA-256, then attach it to the item."""
        evidence = self.ledger.add_evidence(path)
        self.ledger.attach_evidence(inspection_id, item_id, evidence)
        return EvidenceRef(evidence.name, evidence.sha256)

    def evaluate(
        self, pack: RulePack, site: Site, answers: dict[str, AnswerValue], on: dt.date
    ) -> list[Finding]:
        """The engine's findings (no ledger access, so no lock)."""
        return evaluate(pack, site, answers, on)

    @_locked
    def submit(self, inspection_id: str, answers: dict[str, AnswerValue]) -> list[FindingView]:
        """Withdraw answers that no longer apply, evaluate what is recorded, seal, order: all in
        one write of the ledger (a batch), so a crash leaves either all of it or none."""
        ledger = self.ledger
        with ledger.batch():
            insp = ledger.inspection(inspection_id)
            for item_id, answer in list(insp.answers.items()):
                if answer.value is not None and item_id not in answers:
                    ledger.record_answer(inspection_id, item_id, None)
            insp = ledger.inspection(inspection_id)
            recorded = {k: a.value for k, a in insp.answers.items() if a.value is not None}
            if recorded != answers:
                raise LedgerError(
                    "有回答尚未保存，请检查后再提交 / some answers are not saved yet; check, retry"
                )
            pack = self._pack_version(insp.pack_id, insp.pack_version)
            site = ledger.site(insp.site_id).site
            findings = evaluate(pack, site, recorded, parse_time(insp.started_at).date())
            states = ledger.submit_inspection(inspection_id, findings)
            ledger.order_for_findings(
                insp.site_id, states, ordered_on=ledger.today(), issued_by=self.inspector
            )
        return self._view_states(s for s in states if s.status is not None)

    # --- findings ----------------------------------------------------------------------------

    @_locked
    def finding(self, finding_id: str) -> FindingView:
        """A hazard with its history and orders."""
        return self._view_states([self.ledger.finding(finding_id)])[0]

    @_locked
    def set_plan(self, finding_id: str, plan: FivePlan) -> None:
        """五落实, checked by the ledger's own model."""
        try:
            five = FiveImplementations(
                responsible_person=plan.responsible_person,
                measures=plan.measures,
                funds=plan.funds,
                deadline=plan.deadline,
                contingency_plan=plan.contingency_plan,
            )
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InputError(f"五落实 {where}: {first['msg']}") from None
        self.ledger.set_plan(finding_id, five)

    @_locked
    def start_rectification(self, finding_id: str, note: str) -> None:
        """待整改 → 整改中."""
        self.ledger.start_rectification(finding_id, note=note)

    @_locked
    def report_rectified(self, finding_id: str, note: str) -> None:
        """→ 已整改待复查."""
        self.ledger.report_rectified(finding_id, note=note)

    @_locked
    def close_finding(self, finding_id: str, note: str) -> None:
        """复查合格，销号; the inspector is the verifier."""
        self.ledger.close_finding(finding_id, verifier=self.inspector, note=note)

    @_locked
    def reopen_finding(self, finding_id: str, reason: str) -> None:
        """Back to 整改中, with the reason."""
        self.ledger.reopen_finding(finding_id, reason=reason)

    @_locked
    def lift_order(self, order_id: str, basis: str) -> None:
        """Lifted today, on ``basis``."""
        self.ledger.lift_enforcement(order_id, lifted_on=self.ledger.today(), basis=basis)

    @_locked
    def write_notice(self, inspection_id: str) -> Path:
        """``notices/<notice number>.docx`` and ``.md`` (the same notice as ``inspect-engine
        notice``: built from the inspection as submitted, so rewriting it gives the same file)."""
        from inspect_engine.reports.notice_docx import render_docx  # python-docx when asked

        notice = notice_of(self.ledger, inspection_id)
        folder = self.ledger.data_dir / NOTICE_DIR
        folder.mkdir(mode=0o700, exist_ok=True)
        write_out(folder / f"{notice.number}.md", render_markdown(notice).encode("utf-8"))
        docx = folder / f"{notice.number}.docx"
        write_out(docx, render_docx(notice))
        return docx

    @_locked
    def unresolved(self) -> list[FindingView]:
        """The ledger's open-findings query (overdue first)."""
        return self._views(self.ledger.open_findings())

    # --- sync ------------------------------------------------------------------------------

    def _endpoint(self) -> Endpoint:
        return Endpoint(self.ledger, load_state(self.ledger.data_dir))

    @_locked
    def sync_info(self) -> SyncInfo:
        """Role, device and hub from the sync state."""
        ep = self._endpoint()
        return SyncInfo(role_of(self.ledger, ep.state), ep.device_id, ep.hub_id)

    @_locked
    def sync_run(self, hub_dir: Path, progress: Progress) -> list[SyncOutcome]:
        """Push, then pull, with the hub opened for the duration (its lock, waiting 10 s)."""
        laptop = self._endpoint()
        try:
            with open_endpoint(
                hub_dir, clock=self.ledger.clock, actor=self.inspector, wait=10.0
            ) as hub:
                result = run_direct(laptop, hub, progress=progress)
        except Refused as err:
            return [_refused("push/pull", err)]
        self._packs_arrived(result.pull)
        return [_outcome(result.push), _outcome(result.pull)]

    def _packs_arrived(self, summary: Summary) -> None:
        """Load the packs in force again when a sync installed some (new inspections use them;
        open ones keep their version)."""
        if summary.packs_installed and self._reload_packs is not None:
            with contextlib.suppress(InspectError):  # keep the packs the app has
                self._packs = list(self._reload_packs())

    @_locked
    def sync_export(self, out: Path, progress: Progress) -> SyncOutcome:
        """Build the bundle, then write it durably."""
        data, summary = export_bundle(self._endpoint(), progress=progress)
        if out.is_dir():
            stamp = self.ledger.clock.now().strftime("%Y%m%d-%H%M%S")
            out = out / f"inspect-{summary.signer[:8]}-to-{summary.recipient[:8]}-{stamp}.bundle"
        write_bundle(out, data)
        return _outcome(summary, path=str(out))

    @_locked
    def sync_import(self, bundle: Path, progress: Progress) -> SyncOutcome:
        """Verify all, then write; a refusal is an outcome, not an error."""
        try:
            summary = import_bundle(self._endpoint(), bundle, progress=progress)
        except Refused as err:
            return _refused("import", err)
        self._packs_arrived(summary)
        return _outcome(summary)

    # --- views -------------------------------------------------------------------------------

    def _view_states(self, states: Iterable[FindingState]) -> list[FindingView]:
        """The views of hazard findings; one that is not a hazard is an :class:`InputError`."""
        proj = self.ledger.projection
        today = self.ledger.today()
        rows = []
        for state in states:
            if state.status is None:
                raise InputError(
                    f"{state.title} 不是隐患，无需整改 / not a hazard: nothing to rectify"
                )
            rows.append(finding_row(proj, state, today))
        return self._views(rows)

    def _views(self, rows: Sequence[FindingRow]) -> list[FindingView]:
        """The views of ``rows``, with every order grouped by its finding once for all of them
        (``Ledger.projection`` checks the ledger's files: it is read once too)."""
        proj = self.ledger.projection
        orders: dict[str | None, list[OrderState]] = {}
        for order in proj.orders.values():
            orders.setdefault(order.finding_id, []).append(order)
        return [
            _view(proj.findings[row.finding_id], row, orders.get(row.finding_id, ()))
            for row in rows
        ]


def _view(state: FindingState, row: FindingRow, orders: Iterable[OrderState]) -> FindingView:
    """A finding's view from its state, its ledger row and its orders (in any order)."""
    plan = None
    if row.plan is not None:
        p = row.plan
        plan = FivePlan(p.responsible_person, p.measures, p.funds, p.deadline, p.contingency_plan)
    return FindingView(
        id=row.finding_id,
        site_id=row.site_id,
        site_name=row.site_name,
        county=row.county,
        inspection_id=row.inspection_id,
        finding=state.finding(),
        status=row.status.value,
        deadline=row.deadline,
        overdue=row.overdue,
        history=tuple(
            HistoryEntry(parse_time(s.time), s.action, s.actor, s.note) for s in state.history
        ),
        orders=tuple(
            OrderView(o.id, o.kind, o.ordered_on, o.lifted_on, o.lift_basis)
            for o in sorted(orders, key=lambda o: (o.ordered_on, o.id))
        ),
        plan=plan,
    )


def _outcome(summary: Summary, *, path: str = "") -> SyncOutcome:
    return SyncOutcome(
        action=summary.action,
        events=summary.events,
        new=summary.new,
        present=summary.already_present,
        evidence=summary.evidence,
        conflicts=summary.conflicts,
        path=path,
        packs=tuple(summary.packs_installed),
    )


def _refused(action: str, err: Refused) -> SyncOutcome:
    return SyncOutcome(action=action, refused=err.reason.value, detail=err.detail)


def _info(state: InspectionState) -> InspectionInfo:
    return InspectionInfo(
        id=state.id,
        site_id=state.site_id,
        pack_id=state.pack_id,
        method=state.method,
        inspectors=tuple(state.inspectors),
        started=parse_time(state.started_at),
        state=state.status,
        findings=len(state.finding_ids),
        pack_version=state.pack_version,
    )


def _open(state: InspectionState) -> OpenInspection:
    answers = {k: a.value for k, a in state.answers.items() if a.value is not None}
    notes = {k: a.note for k, a in state.answers.items() if a.note}
    evidence = {
        k: [EvidenceRef(e.name, e.sha256) for e in a.evidence]
        for k, a in state.answers.items()
        if a.evidence
    }
    return OpenInspection(_info(state), answers, notes, evidence, state.current_item)
