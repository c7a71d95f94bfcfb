"""What the hazard list and the rectification notice say in words a reader understands.

A finding stores machine values: site-type ids (``rural_self_built_house``), choice values
(``outside``), ``yes``/``no``, the deadline rule in English (``15 calendar days``). The reports show
the packs' Chinese labels instead. :class:`PackLabels` looks them up in the packs a finding was
judged under (the exact pinned version when installed, else the version in force); when no pack
can be loaded — a ledger read on a machine without the pack — every lookup falls back to the
stored value, so a report is never refused for want of a label.

Basis texts (:func:`basis_text`) say which document clause and which law articles a finding rests
on, and mark what the reference tagged unverified (``MEM``) or later than the 2020 campaign, as
the packs require users be told.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from inspect_engine.errors import InspectError
from inspect_engine.packs import load_pack, pack_sources
from inspect_engine.rulepack import (
    AnswerSpec,
    ChoiceAnswer,
    MultiChoiceAnswer,
    NumberAnswer,
    RulePack,
    TextAnswer,
)

YES_NO = {"yes": "是", "no": "否", "na": "不适用"}


class PackLabels:
    """Labels from the packs, looked up lazily and cached; falls back to stored values.

    ``packs`` pre-loads packs (tests pass their own); otherwise packs are loaded on first use from
    the program's ``checklists/`` and ``data_dir``'s installed packs.
    """

    def __init__(self, data_dir: Path | None = None, packs: Sequence[RulePack] = ()) -> None:
        self._data_dir = data_dir
        self._loaded: dict[tuple[str, str], RulePack | None] = {(p.id, p.version): p for p in packs}
        self._preloaded = bool(packs)
        self._type_labels: dict[str, str] | None = None
        self._specs: dict[tuple[str, str, str], tuple[AnswerSpec | None, dict[str, str]]] = {}
        self._answers: dict[tuple[str, str, str, str], str] = {}
        self._type_lists: dict[tuple[str, ...], str] = {}

    def pack(self, pack_id: str, version: str) -> RulePack | None:
        """The pack a finding was judged under: that version, else the one in force, else None."""
        key = (pack_id, version)
        if key in self._loaded:
            return self._loaded[key]
        found: RulePack | None = None
        same_id = [p for (pid, _), p in self._loaded.items() if pid == pack_id and p is not None]
        if self._preloaded:
            found = same_id[-1] if same_id else None
        else:
            for pinned in (version or None, None):
                try:
                    found = load_pack(pack_id, data_dir=self._data_dir, version=pinned)
                    break
                except InspectError:
                    continue
        self._loaded[key] = found
        return found

    def site_type(self, type_id: str) -> str:
        """The Chinese label of a site type (``农村自建房``), else its id."""
        if self._type_labels is None:
            self._type_labels = {}
            for pack in self._all_packs():
                for t in pack.manifest.site_types:
                    self._type_labels.setdefault(t.id, t.label.zh)
        return self._type_labels.get(type_id, type_id)

    def site_types(self, type_ids: Iterable[str]) -> str:
        """Several site types, joined by ``、`` (kept by list: sites share a few lists)."""
        key = tuple(type_ids)
        text = self._type_lists.get(key)
        if text is None:
            text = self._type_lists[key] = "、".join([self.site_type(t) for t in key])
        return text

    def _all_packs(self) -> list[RulePack]:
        if self._preloaded:
            return [p for p in self._loaded.values() if p is not None]
        packs = []
        for source in pack_sources(self._data_dir):
            loaded = self.pack(source.id, source.version or "")
            if loaded is not None:
                packs.append(loaded)
        return packs

    def _answer_spec(
        self, pack_id: str, version: str, item_id: str
    ) -> tuple[AnswerSpec | None, dict[str, str]]:
        """The item's answer spec in the finding's pack (``None`` when unknown) and, for a
        choice, its option labels; looked up once per item."""
        key = (pack_id, version, item_id)
        found = self._specs.get(key)
        if found is None:
            pack = self.pack(pack_id, version)
            spec: AnswerSpec | None = None
            if pack is not None:
                try:
                    spec = pack.item(item_id).answer
                except KeyError:
                    spec = None
            names: dict[str, str] = {}
            if isinstance(spec, ChoiceAnswer | MultiChoiceAnswer):
                names = {o.value: o.label.zh for o in spec.options}
            found = self._specs[key] = (spec, names)
        return found

    def answer(self, data: Mapping[str, Any], item_id: str, value: Any) -> str:
        """An answer as a reader sees it: 是/否, choice labels, a number with its unit."""
        return self.answer_in(
            str(data.get("pack_id", "")), str(data.get("pack_version", "")), item_id, value
        )

    def answer_in(self, pack_id: str, version: str, item_id: str, value: Any) -> str:
        """:meth:`answer` to item ``item_id`` of the pack ``pack_id`` ``version``; kept for a
        text value (是/否 and choices: most answers, repeated across findings)."""
        if type(value) is not str:
            return self._answer(pack_id, version, item_id, value)
        key = (pack_id, version, item_id, value)
        text = self._answers.get(key)
        if text is None:
            text = self._answers[key] = self._answer(pack_id, version, item_id, value)
        return text

    def _answer(self, pack_id: str, version: str, item_id: str, value: Any) -> str:
        spec, names = self._answer_spec(pack_id, version, item_id)
        if isinstance(spec, ChoiceAnswer | MultiChoiceAnswer):
            values = value if isinstance(value, list) else [value]
            return "、".join(names.get(str(v), str(v)) for v in values) or "（无）"
        if isinstance(spec, NumberAnswer):
            return f"{_number(value)} {spec.unit}"
        if isinstance(value, str) and not isinstance(spec, TextAnswer) and value in YES_NO:
            return YES_NO[value]
        if isinstance(value, list):
            return "、".join(str(v) for v in value) or "（无）"
        if isinstance(value, float | int) and not isinstance(value, bool):
            return _number(value)
        return str(value)

    def deadline_rule(self, data: Mapping[str, Any]) -> str:
        """How the deadline was reached, in Chinese: 立即 / 15个自然日 / 「立即整改」阶段结束."""
        rule = str(data.get("deadline_rule", ""))
        if rule == "immediately":
            return "立即整改"
        if m := re.fullmatch(r"(\d+) calendar days", rule):
            return f"排查之日起{m[1]}个自然日"
        if m := re.fullmatch(r"(\d+) working days", rule):
            return f"排查之日起{m[1]}个工作日"
        if m := re.fullmatch(r"end of phase (\S+)", rule):
            pack = self.pack(str(data.get("pack_id", "")), str(data.get("pack_version", "")))
            name = m[1]
            if pack is not None:
                try:
                    name = pack.phase(m[1]).name.zh
                except KeyError:
                    pass
            return f"至「{name}」阶段结束"
        return rule

    def document(self, pack_id: str, version: str) -> tuple[str, str]:
        """The campaign document of a pack: (文号, 标题), or the pack id when it is not loaded."""
        pack = self.pack(pack_id, version)
        if pack is None:
            return "", pack_id
        prov = pack.manifest.provenance
        return prov.doc_number, prov.title.zh


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def triggers_text(labels: PackLabels, data: Mapping[str, Any]) -> str:
    """The answers that raised a finding: ``问题：回答；问题：回答``."""
    pack_id, version = str(data.get("pack_id", "")), str(data.get("pack_version", ""))
    parts = []
    for trig in data.get("triggers", []):
        item_id = trig.get("item_id", "")
        question = trig.get("question", {}).get("zh", item_id)
        answer = labels.answer_in(pack_id, version, item_id, trig["value"])
        parts.append(f"{question}：{answer}")
    return "；".join(parts)


def basis_text(labels: PackLabels, data: Mapping[str, Any]) -> str:
    """The clause of the campaign document and the law articles a finding rests on.

    ``阳政办发〔2020〕99号 二(四)“房屋倾斜…”；自建房结构安全排查技术要点（暂行） 第十四条（二）
    （2022，晚于2020年专项行动，仅供参考）``. Unverified references (``MEM``) say 未核实.
    """
    basis = data.get("basis", {})
    source = basis.get("source", {})
    doc_number, title = labels.document(
        str(data.get("pack_id", "")), str(data.get("pack_version", ""))
    )
    head = doc_number or title
    part = f"{head} {source.get('section', '')}".strip()
    if source.get("quote"):
        part += f"“{source['quote']}”"
    parts = [part]
    for law in basis.get("law", []):
        text = instrument_name(str(law["instrument"]))
        if law.get("article"):
            text += law["article"]
        notes = []
        if law.get("version"):
            notes.append(str(law["version"]))
        if law.get("later_law"):
            notes.append("晚于2020年专项行动，仅供参考")
        if law.get("confidence") == "MEM":
            notes.append("条款未核实")
        if notes:
            text += f"（{'，'.join(notes)}）"
        parts.append(text)
    return "；".join(parts)


_DOC_NUMBER = re.compile(r"^[^（(《]*〔\d{4}〕\d+号$")


def instrument_name(instrument: str) -> str:
    """A law's name in 《》, as Chinese documents cite laws; standard codes (``GB 35181-2017 …``)
    and bare document numbers (``建办质〔2018〕31号``) are left as they are."""
    if instrument.startswith("《") or instrument[:1].isascii() or _DOC_NUMBER.match(instrument):
        return instrument
    return f"《{instrument}》"


def consequences_text(data: Mapping[str, Any]) -> str:
    """The consequences in the documents' wording: ``立即停止使用；撤出人员``."""
    return "；".join(str(c.get("zh", c.get("code", ""))) for c in data.get("consequences", []))


def local_date(iso: str) -> dt.date:
    """The date of an ISO time as written (its own offset: the device's, China time)."""
    return dt.datetime.fromisoformat(iso).date()


def zh_date(day: dt.date) -> str:
    """``2020年9月1日``: how dates are written on a notice."""
    return f"{day.year}年{day.month}月{day.day}日"
