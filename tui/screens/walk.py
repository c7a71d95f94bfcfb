"""The walk: one applicable item at a time, section by section, following skip logic.

Saving never blocks typing. Each answer (note, evidence) is taken into the walk at once and the
next item is shown, while a job goes to the save queue. Jobs are written strictly in the order
they were made: every thread worker takes *the oldest* pending job under one lock, so whichever
worker thread runs first, the ledger sees answers in the inspector's order. An answer is shown
as saved (✓) only once the backend has returned, i.e. once it is durable. After the last
pending job the same worker re-evaluates the findings, so the count on screen is live.

Workers are ``exit_on_error=False`` and catch everything: a failed save rolls the answer back,
puts the cursor on the item again and says why; it never exits the app (libraries.md T2).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, Label, ProgressBar, Static

from inspect_engine.answers import AnswerError, check_answer
from inspect_engine.conditions import AnswerValue
from inspect_engine.errors import InspectError
from inspect_engine.findings import Finding
from inspect_engine.rulepack import (
    Item,
    RulePack,
    YesNoAnswer,
)
from tui.backend import EvidenceRef, OpenInspection
from tui.format import answer_text, basis_text
from tui.screens.base import BaseScreen
from tui.screens.dialogs import MessageDialog, TextPrompt
from tui.screens.jump import JumpDialog
from tui.walk import Walk
from tui.widgets.answer import Answered, AnswerPanel, Invalid

JobKind = Literal["answer", "note", "evidence"]


@dataclass
class SaveJob:
    """One write waiting for the save worker."""

    kind: JobKind
    item_id: str
    value: AnswerValue | None = None
    text: str = ""
    path: Path | None = None
    previous: AnswerValue | None = None
    """The answer before this one (restored if the save fails)."""
    snapshot: dict[str, AnswerValue] | None = None
    """The effective answers right after this job, for re-evaluation."""
    result: EvidenceRef | None = None
    t_key: float = 0.0
    """When the answer was taken (perf_counter), for the benchmark; then shown, saved, acked."""
    t_shown: float = 0.0
    t_saved: float = 0.0
    t_acked: float = 0.0
    error: str | None = None
    findings: list[Finding] | None = None
    eval_error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


class WalkScreen(BaseScreen):
    """Walking one open inspection."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "yes_no('yes')", "key.yes"),
        Binding("n", "yes_no('no')", "key.no"),
        Binding("x", "yes_no('na')", "key.na"),
        Binding("pageup", "step(-1)", "key.prev", key_display="PgUp", priority=True),
        Binding("pagedown", "step(1)", "key.next", key_display="PgDn", priority=True),
        Binding("f2,b", "basis", "key.basis"),
        Binding("f3,m", "note", "key.note", show=False),
        Binding("f4,e", "evidence", "key.evidence", show=False),
        Binding("f5,g", "jump", "key.jump"),
        Binding("f6,r", "review", "key.review"),
        Binding("escape", "leave", "key.back", show=False),
    ]

    def __init__(self, open_: OpenInspection) -> None:
        super().__init__()
        self.inspection = open_.info
        self._open = open_
        self._jobs: deque[SaveJob] = deque()
        self.save_lock = threading.Lock()
        self._unsaved: dict[str, int] = {}
        self._last_error: str | None = None
        self.findings: list[Finding] | None = None
        self._shown_kind: str | None = "-"
        self.answer_log: list[SaveJob] = []
        """Answers written, with their timings (the benchmark reads them)."""
        self.saved_jobs = 0
        """Jobs written so far (the tests and the benchmark wait on it)."""

    # --- setup -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        with Vertical(id="walk"):
            yield Label("", id="section")
            with Horizontal(id="progress-row"):
                yield ProgressBar(id="progress", show_eta=False, show_percentage=False)
                yield Label("", id="position")
            with VerticalScroll(id="item"):
                yield Static("", id="question")
                yield AnswerPanel(self.t)
                yield Label("", id="invalid", classes="error")
                yield Static("", id="answer-line")
                yield Static("", id="extras")
            yield Label("", id="status")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        """Find the pack version the inspection started with and the site, rebuild the walk from
        what was saved, show the item. If any of that fails (the version is no longer installed,
        a site attribute the pack cannot read), leave the walk, then say why in a dialog."""
        try:
            pack = self.backend.inspection_pack(self.inspection)
            site = self.backend.site(self.inspection.site_id)
            walk = Walk(
                pack,
                site,
                answers=dict(self._open.answers),
                notes=dict(self._open.notes),
                evidence={k: [e.label() for e in v] for k, v in self._open.evidence.items()},
            )
        except InspectError as err:
            self.call_after_refresh(self._leave, err.message)
            return
        except Exception as exc:  # noqa: BLE001 - a bug is a message naming its log, never a crash
            self.call_after_refresh(self._leave, self.ui.describe_bug(exc))
            return
        self.pack: RulePack = pack
        self.walk = walk
        self.walk.start(self._open.last_item)
        self.sub_title = site.name
        self.show_item()
        self._evaluate_now(self.walk.effective_answers())

    def _leave(self, message: str) -> None:
        """Close the walk (once it has mounted), then the dialog opens over the screen it came
        from; a dialog pushed first would be the screen popped."""
        self.app.pop_screen()
        self.ui.show_error(message)

    # --- display -----------------------------------------------------------------------------

    @property
    def current_item(self) -> Item | None:
        """The item shown (``None`` once everything applicable is answered)."""
        return self.pack.item(self.walk.current) if self.walk.current else None

    def show_item(self) -> None:
        """Redraw for the current item (widgets are updated in place, never remounted)."""
        t = self.t
        item = self.current_item
        done, total = self.walk.progress()
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=max(total, 1), progress=done)
        pos, _ = self.walk.position()
        self.query_one("#position", Label).update(
            t("walk.progress", pos=pos or "-", total=total, done=done)
        )
        self.query_one("#invalid", Label).update("")
        current = self.walk.effective_answers().get(item.id) if item is not None else None
        focus = self.query_one(AnswerPanel).show(item, current)
        if item is None:
            self.query_one("#section", Label).update("")
            self.query_one("#question", Static).update(t("walk.done"))
            self.query_one("#answer-line", Static).update("")
            self.query_one("#extras", Static).update("")
        else:
            section = self.walk.section_of(item.id)
            self.query_one("#section", Label).update(f"{section.ref} {t.text(section.title)}")
            self.query_one("#question", Static).update(
                f"[dim]{item.id}[/dim]\n[b]{escape(t.text(item.question))}[/b]"
            )
            self._show_answer_line(item)
        if focus is not None:
            focus.focus()
        else:
            self.set_focus(None)
        self._show_status()
        kind = item.answer.type if item is not None else None
        if kind != self._shown_kind:  # the footer's keys change with the kind of item only
            self._shown_kind = kind
            self.refresh_bindings()

    def _show_answer_line(self, item: Item) -> None:
        t = self.t
        current = self.walk.effective_answers().get(item.id)
        if current is None:
            line = f"{t('walk.answer')}{t.colon}[dim]{t('walk.unanswered')}[/dim]"
        else:
            state = (
                f"[yellow]{t('walk.saving')}[/yellow]"
                if self._unsaved.get(item.id)
                else f"[green]✓ {t('walk.saved')}[/green]"
            )
            shown = escape(answer_text(item, current, t))
            line = f"{t('walk.answer')}{t.colon}[b]{shown}[/b]  {state}"
        self.query_one("#answer-line", Static).update(line)
        extras = []
        note = self.walk.notes.get(item.id)
        if note:
            extras.append(f"{t('walk.note')}{t.colon}{escape(note)}")
        files = self.walk.evidence.get(item.id)
        if files:
            extras.append(f"{t('walk.evidence')}{t.colon}{escape(t.sep.join(files))}")
        elif item.evidence is not None:
            kinds = t.list_sep.join(t(f"evidence.{k}") for k in item.evidence.kinds)
            extras.append(f"[dim]{t('walk.evidence_needed', kinds=kinds)}[/dim]")
        if item.hint is not None:
            extras.append(f"[dim]{t('walk.hint')}{t.colon}{escape(t.text(item.hint))}[/dim]")
        self.query_one("#extras", Static).update("\n".join(extras))

    def _show_status(self) -> None:
        t = self.t
        parts = []
        if self._last_error:
            parts.append(f"[b red]{escape(t('walk.save_failed', error=self._last_error))}[/]")
        elif self._jobs or any(self._unsaved.values()):
            parts.append(f"[yellow]{t('walk.saving')}[/yellow]")
        else:
            parts.append(f"[green]✓ {t('walk.saved')}[/green]")
        if self.findings is not None:
            parts.append(t("walk.findings_live", n=len(self.findings)))
        self.query_one("#status", Label).update("  ·  ".join(parts))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Y/N/X only on yes/no items (X only where not-applicable is allowed)."""
        if action == "yes_no":
            item = self.current_item if hasattr(self, "walk") else None
            if item is None or not isinstance(item.answer, YesNoAnswer):
                return False
            if parameters and parameters[0] == "na" and not item.answer.allow_na:
                return False
        return True

    # --- answering ---------------------------------------------------------------------------

    def action_yes_no(self, value: str) -> None:
        """Y / N / X: answer the yes/no item shown."""
        item = self.current_item
        if item is not None and isinstance(item.answer, YesNoAnswer):
            self.take(item.id, value)

    @on(Answered)
    def _answered(self, event: Answered) -> None:
        event.stop()
        self.take(event.item_id, event.value)

    @on(Invalid)
    def _invalid(self, event: Invalid) -> None:
        event.stop()
        self.query_one("#invalid", Label).update(event.message)

    def take(self, item_id: str, raw: AnswerValue) -> None:
        """Check an answer with the core, move on at once, and queue the durable save."""
        t_key = time.perf_counter()
        item = self.pack.item(item_id)
        try:
            value = check_answer(item, raw)
        except AnswerError as err:
            self.query_one("#invalid", Label).update(err.message)
            return
        previous = self.walk.answers.get(item_id)
        self.walk.record(item_id, value)
        job = SaveJob(
            "answer",
            item_id,
            value=value,
            previous=previous,
            snapshot=self.walk.effective_answers(),
            t_key=t_key,
        )
        self._enqueue(job)
        self.show_item()
        job.t_shown = time.perf_counter()

    # --- the save queue ----------------------------------------------------------------------

    def _enqueue(self, job: SaveJob) -> None:
        self._unsaved[job.item_id] = self._unsaved.get(job.item_id, 0) + 1
        self._last_error = None
        self._jobs.append(job)
        self._save_worker()

    @work(thread=True, exit_on_error=False, group="save", name="save")
    def _save_worker(self) -> None:
        with self.save_lock:
            job = self._jobs.popleft()
            self._perform(job)
            job.t_saved = time.perf_counter()
            if job.error is None and job.snapshot is not None and not self._jobs:
                self._evaluate_into(job, job.snapshot)
        job.done.set()
        try:
            self.app.call_from_thread(self._job_done, job)
        except RuntimeError:  # the app is closing; the write itself is done
            pass

    def _perform(self, job: SaveJob) -> None:
        backend, insp = self.backend, self.inspection.id
        try:
            if job.kind == "answer":
                assert job.value is not None
                backend.record_answer(insp, job.item_id, job.value)
            elif job.kind == "note":
                backend.record_note(insp, job.item_id, job.text)
            else:
                assert job.path is not None
                job.result = backend.attach_evidence(insp, job.item_id, job.path)
        except InspectError as err:
            job.error = err.message
        except Exception as exc:  # noqa: BLE001 - never exit the app from a worker
            job.error = self.ui.describe_bug(exc)

    def _evaluate_into(self, job: SaveJob, snapshot: dict[str, AnswerValue]) -> None:
        try:
            on = self.inspection.started.date()
            job.findings = self.backend.evaluate(self.pack, self.walk.site, snapshot, on)
        except InspectError as err:
            job.eval_error = err.message
        except Exception as exc:  # noqa: BLE001
            job.eval_error = self.ui.describe_bug(exc)

    def _job_done(self, job: SaveJob) -> None:
        self._unsaved[job.item_id] = max(0, self._unsaved.get(job.item_id, 1) - 1)
        self.saved_jobs += 1
        job.t_acked = time.perf_counter()
        if job.kind == "answer":
            self.answer_log.append(job)
        if job.error is not None:
            self._failed(job)
        elif job.kind == "evidence" and job.result is not None:
            self.walk.evidence.setdefault(job.item_id, []).append(job.result.label())
            self.notify(self.t("evidence.attached", name=job.result.label()))
        if job.findings is not None:
            self.findings = job.findings
        if job.eval_error is not None:
            self.notify(self.t("review.eval_failed", error=job.eval_error), severity="error")
        if self.is_mounted:
            self._refresh_after_save()

    def _refresh_after_save(self) -> None:
        item = self.current_item
        if item is not None:
            self._show_answer_line(item)
        self._show_status()

    def _failed(self, job: SaveJob) -> None:
        assert job.error is not None
        self._last_error = job.error
        if job.kind == "answer" and self.walk.answers.get(job.item_id) == job.value:
            if job.previous is None:
                self.walk.answers.pop(job.item_id, None)
            else:
                self.walk.answers[job.item_id] = job.previous
            if job.item_id in {i.id for i in self.walk.items()}:
                self.walk.go(job.item_id)
            if self.is_mounted:
                self.show_item()
        elif job.kind == "note":
            self.walk.notes.pop(job.item_id, None)
        self.ui.show_error(self.t("walk.save_failed", error=job.error))

    @work(thread=True, exit_on_error=False, group="save", name="evaluate")
    def _evaluate_now(self, snapshot: dict[str, AnswerValue]) -> None:
        job = SaveJob("answer", "")
        with self.save_lock:
            self._evaluate_into(job, snapshot)
        try:
            self.app.call_from_thread(self._evaluated, job)
        except RuntimeError:
            pass

    def _evaluated(self, job: SaveJob) -> None:
        if job.findings is not None:
            self.findings = job.findings
        if job.eval_error is not None:
            self.notify(self.t("review.eval_failed", error=job.eval_error), severity="error")
        if self.is_mounted:
            self._show_status()

    @property
    def saving(self) -> bool:
        """Whether any write is still on its way to disk."""
        return bool(self._jobs) or any(self._unsaved.values())

    # --- moving ------------------------------------------------------------------------------

    def action_step(self, delta: int) -> None:
        """PgUp / PgDn: the previous or next applicable item, answered or not."""
        self.walk.step(delta)
        self.show_item()

    def action_jump(self) -> None:
        """A list of every applicable item by section; Enter goes there."""
        self.app.push_screen(JumpDialog(self.walk), self._jumped)

    def _jumped(self, item_id: str | None) -> None:
        if item_id is not None:
            self.walk.go(item_id)
            self.show_item()

    def action_leave(self) -> None:
        """Back to the site; the inspection stays open and resumes here.

        Waits (a few milliseconds, without blocking) for saves on their way, so that opening the
        inspection again reads every answer from the ledger.
        """
        if self.saving:
            self.set_timer(0.02, self.action_leave)
            return
        if self.app.screen is self:
            self.app.pop_screen()

    # --- one key away ------------------------------------------------------------------------

    def action_basis(self) -> None:
        """The basis of the item: the clause, its quote, the law."""
        item = self.current_item
        if item is None:
            return
        self.app.push_screen(
            MessageDialog(
                f"{self.t('basis.title')}{self.t.colon}{item.id}",
                basis_text(item.basis, self.t),
                markup=True,
            )
        )

    def action_note(self) -> None:
        """A note on the item (saved like an answer)."""
        item = self.current_item
        if item is None:
            return
        prompt = TextPrompt(
            self.t("note.title", item=item.id),
            placeholder=self.t("note.placeholder"),
            value=self.walk.notes.get(item.id, ""),
        )
        self.app.push_screen(prompt, lambda text: self._noted(item.id, text))

    def _noted(self, item_id: str, text: str | None) -> None:
        if text is None or text == self.walk.notes.get(item_id, ""):
            return
        self.walk.notes[item_id] = text
        self._enqueue(SaveJob("note", item_id, text=text))
        self.show_item()

    def action_evidence(self) -> None:
        """Attach a file by its path (stored by its hash)."""
        item = self.current_item
        if item is None:
            return

        def check(text: str) -> str | None:
            path = Path(text).expanduser()
            return None if path.is_file() else self.t("evidence.missing", path=text)

        prompt = TextPrompt(
            self.t("evidence.title", item=item.id),
            placeholder=self.t("evidence.placeholder"),
            check=check,
        )
        self.app.push_screen(prompt, lambda text: self._attach_file(item.id, text))

    def _attach_file(self, item_id: str, text: str | None) -> None:
        if text:
            self._enqueue(SaveJob("evidence", item_id, path=Path(text).expanduser()))
            self._show_status()

    def action_review(self) -> None:
        """The findings derived so far; submit from there."""
        from tui.screens.review import ReviewScreen

        self.app.push_screen(ReviewScreen(self))
