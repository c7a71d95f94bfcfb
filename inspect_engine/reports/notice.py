"""The rectification notice (隐患整改通知书) of one inspection: the model and its Markdown.

A notice is the document handed to the party responsible for a site after an inspection: what was
found, on what basis, what to do, by when, and what follows if it is not done. It is built from
the inspection **as submitted** — the findings exactly as the engine produced them, the rule's
deadline, the site's register entry as it stood then — and never from what happened later (a
五落实 plan, a closure, a register edit), so printing it again a month later gives the same
document. The date on it is the submission date.

Only hazard findings (``hazard: true``) call for rectification; findings that record an
illegality without a hazard appear in a separate section, for the record.

:func:`resolve_inspection` finds the inspection from an id or a unique prefix and refuses, with a
message naming the ledger, an empty ledger, an unknown or ambiguous id, and an inspection not yet
submitted. :func:`render_markdown` is the Markdown form; :mod:`inspect_engine.reports.notice_docx`
renders the same :class:`Notice` as a printable .docx.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from inspect_engine.asof import as_of
from inspect_engine.errors import InputError
from inspect_engine.events import METHOD_LABELS, parse_time
from inspect_engine.ledger import Ledger
from inspect_engine.projection import FindingState, InspectionState, Projection
from inspect_engine.reports.labels import (
    PackLabels,
    basis_text,
    consequences_text,
    local_date,
    triggers_text,
    zh_date,
)
from inspect_engine.reports.numbering import hazard_numbers, notice_numbers
from inspect_engine.site import PARTY_LABELS

TITLE = "隐患整改通知书"

GENERAL_CLOSING = (
    "请你单位（人）接到本通知后，按上列整改要求在整改期限内完成整改，整改期间落实临时管控措施，"
    "确保安全；整改完成后书面报告排查单位，经复查合格后予以销号。"
)
"""Procedure, not law: what the campaign's closed loop (排查—整改—复查—销号) asks of the party."""

CAMPAIGN_CLOSING: dict[str, tuple[str, str]] = {
    "阳政办发〔2020〕99号": (
        "五(二)",
        "对违法占用土地进行建设的，一律责令停止建设，并依法处置；对违法建筑且存在隐患的，"
        "一律立即停止使用；对人员聚集场所存在建筑安全和消防安全隐患的，责令建筑产权人或使用人"
        "采取加固和改进措施，不能保证安全的，一律不得进行营业活动；对大型集会、庆典、比赛、展览、"
        "展销等人员聚集活动未经审批的，一律叫停；对导致发生事故的，一律依法严肃追究有关责任单位"
        "和责任人员的责任。",
    ),
}
"""What the campaign document itself says follows a hazard left in place, quoted (punctuation in
full-width form) with its section. 109号 states no such general sentence, so its notices carry
the general paragraph and the reminder that violations are dealt with under the laws cited."""

OTHER_CLOSING = "上列违法违规情况已记录在案，由有关主管部门依照所列法律法规依法处理。"


@dataclass(frozen=True)
class NoticeItem:
    """One finding on the notice."""

    seq: int
    number: str
    """隐患编号 (``YH-…``) for a hazard; empty for a record-only finding."""
    finding_id: str
    title: str
    level: str
    content: str
    """The answers that raised it (问题：回答；…)."""
    basis: str
    requirement: str
    deadline: dt.date
    deadline_how: str
    consequences: str
    responsible: str


@dataclass(frozen=True)
class Notice:
    """Everything printed on one rectification notice."""

    number: str
    inspection_id: str
    site_id: str
    site_name: str
    address: str
    site_types: str
    addressee: str
    """The responsible party from the site record: ``罗刚（产权人）、张华丽（使用人）``."""
    contacts: str
    inspected_on: dt.date
    issued_at: dt.datetime
    """Submission time: the notice's date and the .docx's fixed creation time."""
    method: str
    inspectors: tuple[str, ...]
    document: str
    """The campaign document: ``《…》（阳政办发〔2020〕99号）``; empty when the pack the
    inspection pinned is not installed here (the notice then names no document)."""
    hazards: tuple[NoticeItem, ...]
    others: tuple[NoticeItem, ...]
    closing: tuple[str, ...]

    @property
    def issued_on(self) -> dt.date:
        """The date printed on the notice."""
        return self.issued_at.date()


def resolve_inspection(proj: Projection, ref: str, where: str) -> InspectionState:
    """The submitted inspection ``ref`` names (an id or a unique prefix of one).

    ``where`` names the ledger in messages. :class:`InputError` for an empty ledger, no match,
    an ambiguous prefix (the candidates listed), or an inspection not submitted.
    """
    if not proj.inspections:
        raise InputError(
            f"台账中没有任何检查记录 / no inspections in the ledger at {where}",
            hint="check --data-dir (or $INSPECT_ENGINE_DATA_DIR)",
        )
    ref = ref.strip().lower()
    insp = proj.inspections.get(ref)
    if insp is None:
        matches = sorted(
            (i for i in proj.inspections.values() if ref and i.id.startswith(ref)),
            key=lambda i: (i.started_at, i.id),
        )
        if not matches:
            raise InputError(
                f"没有检查 {ref} / no inspection {ref!r} in the ledger at {where}",
                hint="'inspect-engine sites show SITE' lists a site's inspections",
            )
        if len(matches) > 1:
            listed = "; ".join(
                f"{i.id} ({_site_name(proj, i)}, {i.started_at[:10]})" for i in matches
            )
            raise InputError(
                f"检查编号前缀 {ref} 不唯一 / inspection prefix {ref!r} matches "
                f"{len(matches)} inspections in {where}: {listed}",
                hint="give more characters of the id",
            )
        insp = matches[0]
    if insp.status != "submitted":
        state = "尚未提交" if insp.status == "open" else "已取消"
        raise InputError(
            f"检查 {insp.id} {state}，不能出具整改通知书 / inspection {insp.id} at "
            f"{_site_name(proj, insp)} is {insp.status}, not submitted (ledger at {where})",
            hint="a notice is issued for a submitted inspection",
        )
    return insp


def notice_of(ledger: Ledger, ref: str) -> Notice:
    """The notice of one submitted inspection (its id or a unique prefix) as it was submitted.

    The site's register entry is read as of the submission (:func:`~inspect_engine.asof.as_of`
    at the submission's time: a later change of owner does not rewrite a notice already handed
    over); :class:`InputError` for an unknown, ambiguous, open or cancelled inspection. Shared by
    ``inspect-engine notice`` and the app.
    """
    proj = ledger.projection
    insp = resolve_inspection(proj, ref, str(ledger.data_dir))
    assert insp.submitted_at is not None  # resolve_inspection refuses the others
    then = as_of(proj, parse_time(insp.submitted_at))
    return build_notice(proj, insp, PackLabels(ledger.data_dir), as_submitted=then)


def _site_name(proj: Projection, insp: InspectionState) -> str:
    state = proj.sites.get(insp.site_id)
    return state.site.name if state else insp.site_id


def build_notice(
    proj: Projection,
    insp: InspectionState,
    labels: PackLabels,
    *,
    as_submitted: Projection | None = None,
) -> Notice:
    """The notice of a submitted inspection (see the module docstring for what it rests on).

    ``as_submitted``: the state as of the submission (:func:`~inspect_engine.asof.as_of`); the
    site's register entry — addressee, address, telephone — is read from it, so a register edited
    since does not rewrite a notice already handed over. Without it the current entry is used.
    Numbers always come from ``proj`` (the whole ledger), so they match the hazard list.
    """
    if insp.submitted_at is None:
        raise InputError(f"inspection {insp.id} is not submitted")
    findings = [proj.findings[fid] for fid in insp.finding_ids if fid in proj.findings]
    if not findings:
        raise InputError(
            f"检查 {insp.id}（{_site_name(proj, insp)}）未发现隐患，无需出具整改通知书 "
            f"/ inspection {insp.id} raised no findings: there is nothing to rectify"
        )
    numbers = hazard_numbers(proj)
    state = (as_submitted or proj).sites.get(insp.site_id) or proj.sites.get(insp.site_id)
    site = state.site if state else None
    hazards = [f for f in findings if f.status is not None]
    others = [f for f in findings if f.status is None]

    addressee, contacts = [], []
    if site is not None:
        for role in ("owner", "user"):
            rec = getattr(site.parties, role)
            if rec is not None:
                addressee.append(f"{rec.unit}（{PARTY_LABELS[role]}）")
                if rec.contact:
                    contacts.append(f"{rec.unit} {rec.contact}")
    if not addressee:  # the register names neither: fall back to the findings' parties
        for f in findings:
            for resp in f.data.get("responsible", []):
                if resp.get("unit"):
                    who = f"{resp['unit']}（{resp.get('label', '')}）"
                    if who not in addressee:
                        addressee.append(who)
    address = ""
    if site is not None:
        address = site.address or f"{site.county}{site.township}{site.village}"

    doc_number, doc_title = labels.document(insp.pack_id, insp.pack_version)
    document = f"《{doc_title}》（{doc_number}）" if doc_number else ""  # pack not installed
    closing = [GENERAL_CLOSING]
    if hazards and doc_number in CAMPAIGN_CLOSING:
        section, words = CAMPAIGN_CLOSING[doc_number]
        closing.append(f"根据{document}{section}：“{words}”")
    if others:
        closing.append(OTHER_CLOSING)

    return Notice(
        number=notice_numbers(proj)[insp.id],
        inspection_id=insp.id,
        site_id=insp.site_id,
        site_name=site.name if site else insp.site_id,
        address=address,
        site_types=labels.site_types(site.site_types) if site else "",
        addressee="、".join(addressee) or "（未登记产权人、使用人）",
        contacts="；".join(contacts),
        inspected_on=local_date(insp.started_at),
        issued_at=dt.datetime.fromisoformat(insp.submitted_at),
        method=METHOD_LABELS.get(insp.method, insp.method),
        inspectors=tuple(insp.inspectors),
        document=document,
        hazards=tuple(_item(n, f, numbers.get(f.id, ""), labels) for n, f in enumerate(hazards, 1)),
        others=tuple(_item(n, f, "", labels) for n, f in enumerate(others, 1)),
        closing=tuple(closing),
    )


def _item(seq: int, f: FindingState, number: str, labels: PackLabels) -> NoticeItem:
    data = f.data
    responsible = "；".join(
        f"{r.get('label', '')}：{r['unit']}" + (f" {r['contact']}" if r.get("contact") else "")
        for r in data.get("responsible", [])
        if r.get("unit")
    )
    return NoticeItem(
        seq=seq,
        number=number,
        finding_id=f.id,
        title=f.title,
        level=f.level,
        content=triggers_text(labels, data),
        basis=basis_text(labels, data),
        requirement=str(data.get("rectification", {}).get("zh", "")),
        deadline=f.rule_deadline,
        deadline_how=labels.deadline_rule(data),
        consequences=consequences_text(data),
        responsible=responsible,
    )


def hazard_rows(item: NoticeItem) -> list[tuple[str, str]]:
    """The label/value rows printed for a hazard (Markdown and .docx share them)."""
    return [
        ("隐患编号", item.number),
        ("隐患内容", f"{item.title}。{item.content}" if item.content else item.title),
        ("隐患等级", f"{item.level}隐患"),
        ("判定依据", item.basis),
        ("整改要求", item.requirement),
        ("整改期限", f"{zh_date(item.deadline)}前（{item.deadline_how}）"),
        ("处置措施", item.consequences or "—"),
        ("整改责任", item.responsible or "—"),
    ]


def other_rows(item: NoticeItem) -> list[tuple[str, str]]:
    """The label/value rows printed for a record-only finding."""
    return [
        ("情况", f"{item.title}。{item.content}" if item.content else item.title),
        ("依据", item.basis),
        ("要求", item.requirement),
        ("处置措施", item.consequences or "—"),
        ("责任方", item.responsible or "—"),
    ]


def intro(notice: Notice) -> str:
    """The opening sentence: who inspected what, when, how."""
    where = f"{notice.site_name}（{notice.address}，场所编号 {notice.site_id}"
    where += f"，{notice.site_types}）" if notice.site_types else "）"
    found = (
        f"发现下列隐患{len(notice.hazards)}项，现通知你单位（人）限期整改"
        if notice.hazards
        else "未发现须整改的隐患，发现下列违法违规情况，现告知如下"
    )
    return (
        f"{zh_date(notice.inspected_on)}，{'、'.join(notice.inspectors)}"
        f"{f'依据{notice.document}，' if notice.document else ''}"
        f"以{notice.method}方式对你单位（人）的{where}"
        f"进行了安全隐患排查，{found}："
    )


def signature_lines(notice: Notice) -> list[str]:
    """The lines printed for signatures and dates."""
    blank = "________________"
    return [
        f"排查人员（签字）：{'　'.join(blank for _ in notice.inspectors) or blank}",
        f"排查日期：{zh_date(notice.inspected_on)}",
        f"被通知单位（人）签收：{blank}　　签收日期：　　　　年　　月　　日",
    ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def render_markdown(notice: Notice) -> str:
    """The notice as Markdown (UTF-8 text ending in one newline)."""
    out = [
        f"# {TITLE}",
        "",
        f"编号：{notice.number}　（检查 {notice.inspection_id}）",
        "",
        f"**{notice.addressee}**：",
        "",
    ]
    if notice.contacts:
        out += [f"联系方式：{notice.contacts}", ""]
    out += [intro(notice), ""]
    out += [f"## 一、须整改的隐患（{len(notice.hazards)}项）", ""]
    if not notice.hazards:
        out += ["无。", ""]
    for item in notice.hazards:
        out += [f"### {item.seq}. {item.title}（{item.level}）", "", "| 项目 | 内容 |", "|---|---|"]
        out += [f"| {k} | {_cell(v)} |" for k, v in hazard_rows(item)]
        out.append("")
    n = 2
    if notice.others:
        out += [f"## 二、其他违法违规情况（{len(notice.others)}项，记录在案）", ""]
        for item in notice.others:
            out += [f"### {item.seq}. {item.title}", "", "| 项目 | 内容 |", "|---|---|"]
            out += [f"| {k} | {_cell(v)} |" for k, v in other_rows(item)]
            out.append("")
        n = 3
    out += [f"## {'二三'[n - 2]}、整改要求及后果", ""]
    for para in notice.closing:
        out += [para, ""]
    out += ["## 签收", ""]
    out += [line + "  " for line in signature_lines(notice)[:-1]]
    out += [signature_lines(notice)[-1], ""]
    out += [f"{zh_date(notice.issued_on)}", ""]
    out += ["（本通知书一式两份，排查单位、被通知单位（人）各执一份。）", ""]
    return "\n".join(out).rstrip("\n") + "\n"
