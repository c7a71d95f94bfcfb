"""Turning core objects into the words on screen (both languages): answers, findings, bases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rich.cells import cell_len
from rich.markup import escape

from inspect_engine.conditions import AnswerValue
from inspect_engine.deadlines import describe_zh
from inspect_engine.findings import Finding
from inspect_engine.rulepack import (
    Basis,
    ChoiceAnswer,
    Item,
    MultiChoiceAnswer,
    NumberAnswer,
    RulePack,
    YesNoAnswer,
)
from tui.backend import FindingView
from tui.i18n import Strings


def clip(text: str, cells: int) -> str:
    """``text`` cut to ``cells`` terminal cells (CJK count two), ending in "…" when cut."""
    if cell_len(text) <= cells:
        return text
    out, used = [], 0
    for ch in text:
        width = cell_len(ch)
        if used + width > cells - 1:
            break
        out.append(ch)
        used += width
    return "".join(out) + "…"


def num(value: float) -> str:
    """A number without a needless ``.0``."""
    return f"{value:g}"


def answer_text(item: Item, value: AnswerValue, t: Strings) -> str:
    """An answer as the inspector gave it: 是/否/不适用, ``3.5 m``, option labels, text."""
    spec = item.answer
    if isinstance(spec, YesNoAnswer):
        return {"yes": t("app.yes"), "no": t("app.no"), "na": t("app.na")}.get(str(value), "?")
    if isinstance(spec, NumberAnswer) and isinstance(value, int | float):
        return f"{num(float(value))} {spec.unit}"
    if isinstance(spec, ChoiceAnswer | MultiChoiceAnswer):
        labels = {o.value: t.text(o.label) for o in spec.options}
        values = value if isinstance(value, list) else [str(value)]
        return t.list_sep.join(labels.get(v, v) for v in values) or t("app.none")
    return str(value)


def basis_text(basis: Basis, t: Strings) -> str:
    """The clause of the source document, its quote, and the law and standards (markup)."""
    lines = [f"[b]{t('basis.source')}[/b]{t.colon}{escape(basis.source.section)}"]
    if basis.source.quote:
        lines.append(f"  「{escape(basis.source.quote)}」")
    if basis.law:
        lines.append(f"[b]{t('basis.law')}[/b]{t.colon}")
        for ref in basis.law:
            text = ref.instrument + (f" {ref.article}" if ref.article else "")
            if ref.version:
                text += f"（{ref.version}）"
            text = escape(text)
            if ref.unverified:
                text += f"[yellow]{t('basis.unverified')}[/yellow]"
            if ref.later_law:
                text += f"[dim]{t('basis.later_law')}[/dim]"
            lines.append(f"  ·{text}")
            if ref.note:
                lines.append(f"    [dim]{escape(ref.note)}[/dim]")
    return "\n".join(lines)


def level_text(level: str, t: Strings) -> str:
    """重大 in red, 一般 in yellow (English: major / general)."""
    word = level if t.lang == "zh" else {"重大": "major", "一般": "general"}.get(level, level)
    colour = "red" if level == "重大" else "yellow"
    return f"[b {colour}]{word}[/]"


def deadline_rule_text(f: Finding, t: Strings, packs: Sequence[RulePack]) -> str:
    """How the deadline was reached, in the app's language (立即 / 5个工作日 / ...)."""
    if t.lang == "en":
        return f.deadline_rule
    for pack in packs:
        if pack.id == f.pack_id:
            try:
                spec = pack.rule(f.rule_id).finding
            except KeyError:
                break
            if spec is not None:
                return describe_zh(spec.deadline, pack)
    return f.deadline_rule


def finding_text(f: Finding, t: Strings, packs: Sequence[RulePack] = ()) -> str:
    """A finding in full: level, consequences in the documents' wording, rectification,
    deadline, responsible parties, and why (answers read, facts, clause) - as markup."""
    conseq = t.sep.join(c.zh if t.lang == "zh" else c.en for c in f.consequences)
    lines = [
        f"{level_text(f.level, t)}  [b]{escape(t.text(f.title))}[/b]  [dim]{f.rule_id}[/dim]",
        f"[b]{t('review.consequences')}[/b]{t.colon}{escape(conseq)}",
        f"[b]{t('review.rectification')}[/b]{t.colon}{escape(t.text(f.rectification))}",
        f"[b]{t('review.deadline')}[/b]{t.colon}{f.deadline.isoformat()}  "
        f"[dim]({escape(deadline_rule_text(f, t, packs))})[/dim]",
    ]
    parties = []
    for r in f.responsible:
        label = t(f"party.{r.role}")
        unit = r.unit or t("review.unregistered")
        parties.append(f"{label} {unit}" + (f" {r.contact}" if r.contact else ""))
    lines.append(f"[b]{t('review.responsible')}[/b]{t.colon}{escape(t.sep.join(parties))}")
    if f.triggers:
        lines.append(f"[b]{t('review.why')}[/b]{t.colon}")
        items = {i.id: i for p in packs if p.id == f.pack_id for i in p.items}
        for trig in f.triggers:
            value = trig.value
            item = items.get(trig.item_id)
            if item is not None:
                shown = answer_text(item, value, t)
            else:
                shown = {"yes": t("app.yes"), "no": t("app.no"), "na": t("app.na")}.get(
                    str(value), t.list_sep.join(value) if isinstance(value, list) else str(value)
                )
            lines.append(f"  ·{escape(t.text(trig.question))} → {escape(shown)}")
    if f.facts:
        lines.append(f"[b]{t('review.facts')}[/b]{t.colon}{escape(t.list_sep.join(f.facts))}")
    if f.site_level:
        lines.append(f"  {t('review.site_level')}")
    lines.append(basis_text(f.basis, t))
    return "\n".join(lines)


def status_text(fv: FindingView, t: Strings) -> str:
    """待整改 / 整改中 / 已整改待复查 / 销号, led by 逾期 when past the deadline."""
    text = t(f"fstatus.{fv.status}")
    if fv.overdue and fv.status != "closed":
        text = f"[b red]{t('fstatus.overdue')}[/] {text}"
    return text


def finding_cells(fv: FindingView, t: Strings) -> tuple[str, str, str, str]:
    """Level, title, deadline, status: one table row."""
    return (
        level_text(fv.finding.level, t),
        escape(t.text(fv.finding.title)),
        fv.deadline.isoformat(),
        status_text(fv, t),
    )


def when(at: dt.datetime) -> str:
    """A timestamp to the minute."""
    return at.strftime("%Y-%m-%d %H:%M")
