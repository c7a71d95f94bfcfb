"""Answer entry for one item: the keys of a yes/no item, choices, numbers and text.

:class:`AnswerPanel` holds one widget of each kind and shows the one the current item needs:
the widgets are reused from item to item, never remounted, so moving on costs a redraw, not a
restyle of new widgets. Each posts :class:`Answered` with a value for
:func:`inspect_engine.answers.check_answer`, or :class:`Invalid` with a message to show; none of
them saves anything (the walk screen does).

| widget | keys |
|---|---|
| yes/no (a line of keys) | Y, N, X - bound on the walk screen |
| :class:`ChoiceList` (choice) | 1–9 pick an option; ↑/↓ and Enter |
| :class:`ChoiceList` (multiple) | 1–9 or Space tick; Enter saves the ticked set |
| :class:`NumberField` | digits, ``.``, ``-``; Enter checks range and saves |
| :class:`TextField` | any text; Enter saves |
"""

from __future__ import annotations

import math
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from inspect_engine.conditions import AnswerValue
from inspect_engine.rulepack import (
    ChoiceAnswer,
    Item,
    MultiChoiceAnswer,
    NumberAnswer,
    TextAnswer,
    YesNoAnswer,
)
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
    """The options of a choice (Enter or a digit picks) or a multiple choice (Space or a digit
    ticks, Enter saves the ticked set)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "tick", "key.toggle", show=False),
        *[Binding(str(n), f"digit({n})", show=False) for n in range(1, 10)],
    ]

    def __init__(self, strings: Strings) -> None:
        super().__init__(classes="choices")
        self.t = strings
        self.item_id = ""
        self.spec: ChoiceAnswer | MultiChoiceAnswer | None = None
        self.ticked: set[str] = set()
        self._chosen: AnswerValue | None = None

    @property
    def multi(self) -> bool:
        """Whether several options may be ticked."""
        return isinstance(self.spec, MultiChoiceAnswer)

    def show(
        self, item_id: str, spec: ChoiceAnswer | MultiChoiceAnswer, current: AnswerValue | None
    ) -> None:
        """Show the options of ``item_id`` with ``current`` marked."""
        self.item_id, self.spec, self._chosen = item_id, spec, current
        self.ticked = set(current) if isinstance(current, list) and self.multi else set()
        self.set_options(self._build_options())
        values = [o.value for o in spec.options]
        self.highlighted = values.index(current) if current in values else 0

    def _build_options(self) -> list[Option]:
        assert self.spec is not None
        out = []
        for n, opt in enumerate(self.spec.options, start=1):
            key = str(n) if n <= 9 else " "
            if self.multi:
                mark = "☑" if opt.value in self.ticked else "☐"
            else:
                mark = "●" if opt.value == self._chosen else "○"
            out.append(Option(f"{key}. {mark} {self.t.text(opt.label)}", id=opt.value))
        return out

    def _flip(self, value: str) -> None:
        self.ticked ^= {value}
        keep = self.highlighted
        self.set_options(self._build_options())
        self.highlighted = keep

    def action_tick(self) -> None:
        """Tick or untick the highlighted option (multiple choice)."""
        if self.spec is not None and self.multi and self.highlighted is not None:
            self._flip(self.spec.options[self.highlighted].value)

    def action_digit(self, n: int) -> None:
        """Pick (choice) or tick (multiple choice) option ``n``."""
        if self.spec is None or n > len(self.spec.options):
            return
        value = self.spec.options[n - 1].value
        self.highlighted = n - 1
        if self.multi:
            self._flip(value)
        else:
            self.post_message(Answered(self.item_id, value))

    def action_select(self) -> None:
        """Enter: pick the highlighted option, or save the ticked set."""
        if self.spec is None:
            return
        if self.multi:
            order = [o.value for o in self.spec.options]
            self.post_message(Answered(self.item_id, [v for v in order if v in self.ticked]))
        elif self.highlighted is not None:
            self.post_message(Answered(self.item_id, self.spec.options[self.highlighted].value))


class NumberField(Input):
    """A measured number: checked against the item's range and unit before it is posted."""

    def __init__(self, strings: Strings) -> None:
        super().__init__(type="number", classes="number")
        self.t = strings
        self.item_id = ""
        self.spec: NumberAnswer | None = None

    def show(self, item_id: str, spec: NumberAnswer, current: float | None) -> None:
        """Ready for ``item_id``, holding ``current``."""
        self.item_id, self.spec = item_id, spec
        self.placeholder = f"{num(spec.min)}–{num(spec.max)} {spec.unit}"
        self.value = "" if current is None else num(current)
        self.cursor_position = len(self.value)

    async def action_submit(self) -> None:
        """Enter: check and post."""
        spec, t = self.spec, self.t
        if spec is None:
            return
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

    def __init__(self, strings: Strings) -> None:
        super().__init__(classes="text")
        self.t = strings
        self.item_id = ""

    def show(self, item_id: str, spec: TextAnswer, current: str | None) -> None:
        """Ready for ``item_id``, holding ``current``."""
        self.item_id = item_id
        self.max_length = spec.max_length
        self.value = current or ""
        self.cursor_position = len(self.value)

    async def action_submit(self) -> None:
        """Enter: post the text."""
        if not self.value.strip():
            self.post_message(Invalid(self.item_id, self.t("walk.empty_text")))
        else:
            self.post_message(Answered(self.item_id, self.value.strip()))


class AnswerPanel(Vertical):
    """The answer entry of the current item: one line of guidance and the widget it needs."""

    def __init__(self, strings: Strings) -> None:
        super().__init__(id="answer-area")
        self.t = strings
        self.choices = ChoiceList(strings)
        self.number = NumberField(strings)
        self.text = TextField(strings)

    def compose(self) -> ComposeResult:
        yield Label("", classes="answer-guide", markup=False)
        yield self.choices
        yield self.number
        yield self.text

    def show(self, item: Item | None, current: AnswerValue | None) -> Widget | None:
        """Set up for ``item``; the widget to focus (``None``: keys go to the screen)."""
        t = self.t
        guide = self.query_one(".answer-guide", Label)
        spec = item.answer if item is not None else None
        active: Widget | None = None
        if isinstance(spec, YesNoAnswer):
            guide.update(t("walk.yes_no_na" if spec.allow_na else "walk.yes_no"))
        elif isinstance(spec, ChoiceAnswer | MultiChoiceAnswer):
            assert item is not None
            guide.update(t("walk.multi" if isinstance(spec, MultiChoiceAnswer) else "walk.choice"))
            self.choices.show(item.id, spec, current)
            active = self.choices
        elif isinstance(spec, NumberAnswer):
            assert item is not None
            comma = "，" if t.lang == "zh" else ", "
            unit = spec.unit + (f"{comma}{t('walk.integer')}" if spec.integer else "")
            guide.update(t("walk.number", unit=unit, min=num(spec.min), max=num(spec.max)))
            value = float(current) if isinstance(current, int | float) else None
            self.number.show(item.id, spec, value)
            active = self.number
        elif isinstance(spec, TextAnswer):
            assert item is not None
            guide.update(t("walk.text"))
            self.text.show(item.id, spec, current if isinstance(current, str) else None)
            active = self.text
        else:
            guide.update("")
        guide.set_class(isinstance(spec, YesNoAnswer), "yn-keys")
        for widget in (self.choices, self.number, self.text):
            widget.display = widget is active
        return active
