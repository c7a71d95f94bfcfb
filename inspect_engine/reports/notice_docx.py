"""The rectification notice as a printable Word document (.docx), byte-for-byte reproducible.

Layout: A4 portrait, margins 25 mm left/top and 20 mm right/bottom (binding on the left), the
title centred in bold, the notice number on the right, the addressee, the opening sentence, one
two-column table per finding (label | text; a row never splits across pages), the closing
paragraphs, signature lines and the date. Every run is set in 宋体 through the east-asian font
attribute (``w:eastAsia``) with SimSun as the Latin name, so Chinese prints in 宋体 on any
Windows Word and falls back to a CJK serif elsewhere; the title is 黑体.

Reproducible: the core properties (created, modified, author…) come from the notice — the
inspection's submission time and its inspectors — never from the clock, and the zip members are
rewritten with a fixed timestamp (python-docx stamps them with the current time), so the same
ledger gives the same bytes every time.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_PARAGRAPH_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from inspect_engine.clock import CHINA
from inspect_engine.reports.labels import zh_date
from inspect_engine.reports.notice import (
    TITLE,
    Notice,
    hazard_rows,
    intro,
    other_rows,
    signature_lines,
)

BODY_FONT = ("SimSun", "宋体")
TITLE_FONT = ("SimHei", "黑体")
BODY_SIZE = Pt(12)  # 小四
TITLE_SIZE = Pt(22)  # 二号
LABEL_WIDTH = Mm(28)
TEXT_WIDTH = Mm(137)  # 210 - 25 - 20 - 28


def _font(run: Run, font: tuple[str, str] = BODY_FONT, *, size: Pt = BODY_SIZE) -> Run:
    """Set a run's Latin and east-asian font names and its size."""
    run.font.name = font[0]
    run.font.size = size
    rfonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    rfonts.set(qn("w:eastAsia"), font[1])
    return run


def _para(
    doc: DocxDocument,
    text: str = "",
    *,
    bold: bool = False,
    align: WD_PARAGRAPH_ALIGNMENT | None = None,
    indent: bool = False,
    space_after: float = 6,
) -> Paragraph:
    par = doc.add_paragraph()
    if align is not None:
        par.alignment = align
    fmt = par.paragraph_format
    fmt.space_after = Pt(space_after)
    if indent:
        fmt.first_line_indent = Pt(24)  # two characters
    if text:
        _font(par.add_run(text)).bold = bold
    return par


def _kv_table(doc: DocxDocument, rows: list[tuple[str, str]]) -> Table:
    table: Table = doc.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    # fixed layout: Word and LibreOffice take the grid's widths, the cells' must agree
    table.columns[0].width, table.columns[1].width = LABEL_WIDTH, TEXT_WIDTH
    for row, (label, text) in zip(table.rows, rows, strict=True):
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        left, right = row.cells
        left.width, right.width = LABEL_WIDTH, TEXT_WIDTH
        _font(left.paragraphs[0].add_run(label)).bold = True
        _font(right.paragraphs[0].add_run(text))
    return table


def render_docx(notice: Notice) -> bytes:
    """The notice as .docx bytes (deterministic; see the module docstring)."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin, section.top_margin = Mm(25), Mm(25)
    section.right_margin, section.bottom_margin = Mm(20), Mm(20)
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT[0]
    normal.font.size = BODY_SIZE
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT[1])

    title = _para(doc, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=12)
    _font(title.add_run(TITLE), TITLE_FONT, size=TITLE_SIZE).bold = True
    _para(doc, f"编号：{notice.number}", align=WD_ALIGN_PARAGRAPH.RIGHT, space_after=0)
    _para(doc, f"检查记录：{notice.inspection_id}", align=WD_ALIGN_PARAGRAPH.RIGHT, space_after=12)
    _para(doc, f"{notice.addressee}：", bold=True)
    if notice.contacts:
        _para(doc, f"联系方式：{notice.contacts}")
    _para(doc, intro(notice), indent=True)

    _para(doc, f"一、须整改的隐患（{len(notice.hazards)}项）", bold=True)
    if not notice.hazards:
        _para(doc, "无。", indent=True)
    for item in notice.hazards:
        _para(doc, f"{item.seq}. {item.title}（{item.level}）", bold=True, space_after=3)
        _kv_table(doc, hazard_rows(item))
        _para(doc, space_after=3)
    n = 2
    if notice.others:
        _para(doc, f"二、其他违法违规情况（{len(notice.others)}项，记录在案）", bold=True)
        for item in notice.others:
            _para(doc, f"{item.seq}. {item.title}", bold=True, space_after=3)
            _kv_table(doc, other_rows(item))
            _para(doc, space_after=3)
        n = 3
    _para(doc, f"{'二三'[n - 2]}、整改要求及后果", bold=True)
    for para in notice.closing:
        _para(doc, para, indent=True)

    _para(doc, space_after=12)
    for line in signature_lines(notice):
        _para(doc, line, space_after=12)
    _para(doc, zh_date(notice.issued_on), align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, "（本通知书一式两份，排查单位、被通知单位（人）各执一份。）")
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(footer.add_run(f"{TITLE}　{notice.number}"), size=Pt(9))

    props = doc.core_properties
    made = notice.issued_at.astimezone(dt.UTC).replace(tzinfo=None)
    props.title = f"{TITLE} {notice.number}"
    props.subject = notice.site_name
    props.author = "、".join(notice.inspectors)
    props.last_modified_by = "inspect-engine"
    props.comments = f"inspection {notice.inspection_id}"
    props.keywords = "隐患整改通知书"
    props.category = ""
    props.created = made
    props.modified = made
    props.last_printed = made
    props.revision = 1

    raw = io.BytesIO()
    doc.save(raw)
    return normalise_zip(raw.getvalue(), notice.issued_at)


def normalise_zip(data: bytes, when: dt.datetime) -> bytes:
    """The same zip with every member stamped ``when`` (China Standard Time), in the same order.

    python-docx writes members with the current time; rewriting them with a fixed stamp and
    fixed attributes makes the file a function of its content. ``when`` before 1980 (the zip
    format's epoch) is clamped to 1980-01-01.
    """
    local = when.astimezone(CHINA)
    stamp = max(
        (local.year, local.month, local.day, local.hour, local.minute, local.second),
        (1980, 1, 1, 0, 0, 0),
    )
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=stamp)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            member.create_system = 0
            dst.writestr(member, src.read(info))
    return out.getvalue()
