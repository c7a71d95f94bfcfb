"""The walk through a checklist, as plain Python: which items apply, where the inspector is, what
comes next. No Textual here, so it is tested directly and shared by the screen and the benchmark.

The walk holds every answer recorded for the inspection, including answers to items that later
answers hid (skip logic): those are kept (the inspector may change their mind back) but are not
*effective*; only effective answers are shown as given, counted, evaluated and submitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from inspect_engine.answers import applicable_items
from inspect_engine.conditions import AnswerValue, Scalar
from inspect_engine.evaluation import site_attributes
from inspect_engine.rulepack import Item, RulePack, SectionFile
from inspect_engine.site import Site


@dataclass
class Walk:
    """One inspection's checklist walk over ``pack`` at ``site``."""

    pack: RulePack
    site: Site
    answers: dict[str, AnswerValue] = field(default_factory=dict)
    """Every recorded answer by item id (effective or hidden by skip logic)."""
    notes: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, list[str]] = field(default_factory=dict)
    """Evidence by item id: display names (file name and short hash) of stored files."""
    current: str | None = None
    """The item shown, or ``None`` when every applicable item is answered (time to review)."""

    def __post_init__(self) -> None:
        self._section_of = {i.id: s for s in self.pack.sections for i in s.items}
        self._site_attrs: Mapping[str, Scalar] = site_attributes(self.pack, self.site)

    # --- what applies ------------------------------------------------------------------------

    def effective_answers(self) -> dict[str, AnswerValue]:
        """The recorded answers to items that apply given the other effective answers.

        Skip logic only reads earlier answers (the pack loader refuses cycles), so dropping the
        answers of items that no longer apply reaches a fixed point in a few rounds.
        """
        answers = dict(self.answers)
        while True:
            applicable = {i.id for i in self._applicable(answers)}
            kept = {k: v for k, v in answers.items() if k in applicable}
            if kept == answers:
                return kept
            answers = kept

    def _applicable(self, answers: Mapping[str, AnswerValue]) -> list[Item]:
        return applicable_items(self.pack, self.site.site_types, answers, self._site_attrs)

    def items(self) -> list[Item]:
        """The items that apply now, in document order."""
        return self._applicable(self.effective_answers())

    def section_of(self, item_id: str) -> SectionFile:
        """The section an item belongs to."""
        return self._section_of[item_id]

    def sections(self) -> list[tuple[SectionFile, list[Item]]]:
        """The sections with items that apply now, each with those items."""
        items = self.items()
        return [
            (s, [i for i in items if self._section_of[i.id] is s])
            for s in self.pack.sections
            if any(self._section_of[i.id] is s for i in items)
        ]

    # --- progress ----------------------------------------------------------------------------

    def progress(self) -> tuple[int, int]:
        """(answered, total) over the items that apply now."""
        items = self.items()
        effective = self.effective_answers()
        return sum(1 for i in items if i.id in effective), len(items)

    def is_answered(self, item_id: str) -> bool:
        """Whether the item has an effective answer."""
        return item_id in self.effective_answers()

    def complete(self) -> bool:
        """Whether every applicable item is answered."""
        done, total = self.progress()
        return done == total

    # --- moving ------------------------------------------------------------------------------

    def next_unanswered(self, after: str | None) -> str | None:
        """The first unanswered applicable item after ``after`` (wrapping round), else ``None``."""
        items = self.items()
        effective = self.effective_answers()
        ids = [i.id for i in items]
        start = ids.index(after) + 1 if after in ids else 0
        for item_id in ids[start:] + ids[:start]:
            if item_id not in effective:
                return item_id
        return None

    def start(self, last_answered: str | None = None) -> None:
        """Put the cursor where the walk stood: after the last answer recorded, else the first
        unanswered item (this is what the screen showed when the app stopped)."""
        self.current = self.next_unanswered(last_answered)

    def record(self, item_id: str, value: AnswerValue) -> str | None:
        """Take an answer (already checked) and move on to the next unanswered item."""
        self.answers[item_id] = value
        self.current = self.next_unanswered(item_id)
        return self.current

    def go(self, item_id: str) -> None:
        """Jump to an applicable item."""
        if item_id not in {i.id for i in self.items()}:
            raise KeyError(item_id)
        self.current = item_id

    def step(self, delta: int) -> str | None:
        """Move ``delta`` items forward (or back) among the items that apply, answered or not."""
        ids = [i.id for i in self.items()]
        if not ids:
            self.current = None
            return None
        if self.current in ids:
            index = ids.index(self.current) + delta
        else:
            index = len(ids) - 1 if delta < 0 else 0
        self.current = ids[max(0, min(len(ids) - 1, index))]
        return self.current

    def position(self) -> tuple[int, int]:
        """(1-based index of the current item, number of applicable items); 0 when none shown."""
        ids = [i.id for i in self.items()]
        return (ids.index(self.current) + 1 if self.current in ids else 0), len(ids)
