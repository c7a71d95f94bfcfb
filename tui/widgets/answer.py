"""Answer entry for one item: choices, multiple choices, numbers and text.

Yes/no items need no widget (the walk screen takes Y, N and X directly). Each widget here posts
:class:`Answered` with a value for :func:`inspect_engine.answers.check_answer`, or
:class:`Invalid` with a message to show; none of them saves anything.

| widget | keys |
|---|---|
| :class:`ChoiceList` (choice) | 1–9 pick an option; ↑/↓ and Enter |
| :class:`ChoiceList` (multiple) | 1–9 or Space toggle; Enter saves the ticked set |
| :class:`NumberField` | digits, ``.``, ``-``; Enter checks unit range and saves |
| :class:`TextField` | any text; Enter saves |
"""

from __future__ import annotations

import math
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from inspect_engine.conditions import AnswerValue
from inspect_engine.rulepack import ChoiceAnswer, MultiChoiceAnswer, NumberAnswer, TextAnswer
from tui.format import num
from tui.i18n import Strings


class Answered(Message):
    """The inspector gave a value for the item."""

    def __init__(self, item_id: str, value: AnswerValue) -> None:
        super().__init__()
        self.item_id = item_id
        self.value = value


class Invalid(Message):
    """The value entered cannot be taken; ``message`` says why."""

    def __init__(self, item_id: str, message: str) -> None:
        super().__init__()
        self.item_id = item_id
        self.message = message


class ChoiceList(OptionList):
    """The options of a choice (Enter picks) or a multiple choice (Space ticks, Enter saves)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "tick", "key.toggle", show=False),
        *[Binding(str(n), f"digit({n})", show=False) for n in range(1, 10)],
    ]

    def __init__(
        self,
        item_id: str,
        spec: ChoiceAnswer | MultiChoiceAnswer,
        strings: Strings,
        current: AnswerValue | None,
    ) -> None:
        self.item_id = item_id
        self.spec = spec
        self.t = strings
        self.multi = isinstance(spec, MultiChoiceAnswer)
        if self.multi and isinstance(current, list):
            self.ticked = set(current)
        else:
            self.ticked = set()
        self._current = current
        super().__init__(*self._build_options(), classes="choices")

    def _build_options(self) -> list[Option]:
        out = []
        for n, opt in enumerate(self.spec.options, start=1):
            key = str(n) if n <= 9 else " "
            if self.multi:
                box = "☑" if opt.value in self.ticked else "☐"
                prompt = f"{key}. {box} {self.t.text(opt.label)}"
            else:
                mark = "●" if opt.value == self._current else "○"
                prompt = f"{key}. {mark} {self.t.text(opt.label)}"
            out.append(Option(prompt, id=opt.value))
        return out

    def on_mount(self) -> None:
        """Highlight the current answer, else the first option."""
        values = [o.value for o in self.spec.options]
        if isinstance(self._current, str) and self._current in values:
            self.highlighted = values.index(self._current)
        else:
            self.highlighted = 0

    def _redraw(self) -> None:
        keep = self.highlighted
        self.set_options(self._build_options())
        self.highlighted = keep

    def action_tick(self) -> None:
        """Tick or untick the highlighted option (multiple choice)."""
        if self.multi and self.highlighted is not None:
            self._flip(self.spec.options[self.highlighted].value)

    def _flip(self, value: str) -> None:
        self.ticked ^= {value}
        self._redraw()

    def action_digit(self, n: int) -> None:
        """Pick (choice) or tick (multiple choice) option ``n``."""
        if n > len(self.spec.options):
            return
        value = self.spec.options[n - 1].value
        self.highlighted = n - 1
        if self.multi:
            self._flip(value)
        else:
            self.post_message(Answered(self.item_id, value))

    def action_select(self) -> None:
        """Enter: pick the highlighted option, or save the ticked set."""
        if self.multi:
            order = [o.value for o in self.spec.options]
            self.post_message(Answered(self.item_id, [v for v in order if v in self.ticked]))
        elif self.highlighted is not None:
            self.post_message(Answered(self.item_id, self.spec.options[self.highlighted].value))


class NumberField(Input):
    """A measured number: checked against the item's range and unit before it is posted."""

    def __init__(self, item_id: str, spec: NumberAnswer, strings: Strings, current: float | None):
        super().__init__(
            value="" if current is None else num(current),
            placeholder=f"{num(spec.min)}–{num(spec.max)} {spec.unit}",
            type="number",
            classes="number",
        )
        self.item_id = item_id
        self.spec = spec
        self.t = strings

    async def action_submit(self) -> None:
        """Enter: check and post."""
        spec, t = self.spec, self.t
        try:
            value = float(self.value.strip())
        except ValueError:
            self.post_message(Invalid(self.item_id, t("walk.bad_number")))
            return
        if not math.isfinite(value):
            self.post_message(Invalid(self.item_id, t("walk.bad_number")))
        elif not spec.min <= value <= spec.max:
            self.post_message(
                Invalid(
                    self.item_id,
                    t("walk.out_of_range", min=num(spec.min), max=num(spec.max), unit=spec.unit),
                )
            )
        elif spec.integer and not value.is_integer():
            self.post_message(Invalid(self.item_id, t("walk.not_integer")))
        else:
            self.post_message(Answered(self.item_id, value))


class TextField(Input):
    """Free text, posted on Enter when not blank."""

    def __init__(self, item_id: str, spec: TextAnswer, strings: Strings, current: str | None):
        super().__init__(value=current or "", max_length=spec.max_length, classes="text")
        self.item_id = item_id
        self.t = strings

    async def action_submit(self) -> None:
        """Enter: post the text."""
        if not self.value.strip():
            self.post_message(Invalid(self.item_id, self.t("walk.empty_text")))
        else:
            self.post_message(Answered(self.item_id, self.value.strip()))
