"""The rectification notice (隐患整改通知书): Markdown golden, the .docx read back, errors.

Uses the fixed ledger of :mod:`tests.reports.test_hazards`. Regenerate the golden file in
``tests/data/reports/notice/`` with ``INSPECT_ENGINE_REGEN_GOLDEN=1`` (see that module).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from inspect_engine.cli.main import main
from inspect_engine.clock import CHINA
from inspect_engine.errors import InputError
from inspect_engine.ledger import Ledger
from inspect_engine.projection import InspectionState, Projection
from inspect_engine.reports.labels import PackLabels, basis_text
from inspect_engine.reports.notice import (
    build_notice,
    notice_of,
    render_markdown,
    resolve_inspection,
)
from inspect_engine.reports.notice_docx import render_docx
from tests.reports.test_hazards import GOLDEN, build_ledger, golden
from tests.reports.test_hazards import fixed_ids as fixed_ids  # the fixture, with its ledger

LedgerDir = tuple[Path, dict[str, str]]


@pytest.fixture
def ledger_dir(tmp_path: Path, fixed_ids: None) -> LedgerDir:
    """The fixed ledger's data directory and its ids."""
    data = tmp_path / "data"
    return data, build_ledger(data)


def _notice(data: Path, inspection: str) -> str:
    with Ledger.open(data, readonly=True) as led:
        return render_markdown(notice_of(led, inspection))


def test_sites_show_names_each_inspection_for_the_notice(
    ledger_dir: LedgerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    """``sites show`` prints each inspection's 8-character 编号, which ``notice`` takes."""
    data, ids = ledger_dir
    with Ledger.open(data, readonly=True) as led:
        site_id = led.inspection(ids["insp_a"]).site_id
    assert main(["sites", "show", site_id, "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "编号" in out and ids["insp_a"][:8] in out
    assert main(["notice", ids["insp_a"][:8], "--data-dir", str(data)]) == 0
    assert capsys.readouterr().out == _notice(data, ids["insp_a"])


def test_register_edits_do_not_rewrite_a_notice(
    ledger_dir: LedgerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    """S3's owner changed after the inspection: the notice keeps the one it was addressed to."""
    data, ids = ledger_dir
    assert main(["notice", ids["insp_c"], "--data-dir", str(data)]) == 0
    text = capsys.readouterr().out
    assert "**赵海燕（产权人）**：" in text and "钱小梅" not in text
    with Ledger.open(data, readonly=True) as led:
        insp = led.inspection(ids["insp_c"])
        current = render_markdown(build_notice(led.projection, insp, PackLabels(data)))
    assert "**钱小梅（产权人）**：" in current  # without the as-of state: today's register


def test_markdown_golden_by_prefix(
    ledger_dir: LedgerDir, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI's Markdown for S1's inspection, named by a prefix, matches the golden file."""
    data, ids = ledger_dir
    assert main(["notice", ids["insp_a"][:6], "--data-dir", str(data)]) == 0
    text = capsys.readouterr().out
    golden(GOLDEN / "notice" / "inspection-a.md", text)
    assert text == _notice(data, ids["insp_a"])


def test_markdown_content(ledger_dir: LedgerDir) -> None:
    """Addressee, site, inspectors, hazards apart from the record, deadlines, campaign wording."""
    data, ids = ledger_dir
    text = _notice(data, ids["insp_a"])
    assert text.startswith("# 隐患整改通知书\n\n编号：ZG-20200901-001")
    assert "**王建国（产权人）、李秀英（使用人）**：" in text
    assert "2020年9月1日，张三、李四依据《阳泉市城乡建筑领域安全隐患专项排查整治工作方案》" in text
    assert "冠山镇王家自建房（阳泉市平定县冠山镇东村12号，场所编号 S1，农村自建房）" in text
    hazards, rest = text.split("## 二、其他违法违规情况（1项，记录在案）")
    assert "## 一、须整改的隐患（2项）" in hazards
    assert "### 1. 违法占用土地进行建设（重大）" in hazards and "### 2. 私搭乱建（一般）" in hazards
    assert "| 整改期限 | 2020年9月1日前（立即整改） |" in hazards  # as issued, not the 五落实 date
    assert "| 整改期限 | 2020年9月16日前（排查之日起15个自然日） |" in hazards
    assert "| 处置措施 | 责令停止建设；依法处置 |" in hazards
    assert "| 隐患编号 | YH-20200901-001 |" in hazards
    assert "涉嫌违法建设" not in hazards and "### 1. 涉嫌违法建设" in rest
    assert "《城乡规划法》第六十五条（条款未核实）" in rest
    assert "一律依法严肃追究有关责任单位和责任人员的责任。”" in rest
    assert "排查人员（签字）：________________　________________" in rest
    assert rest.rstrip().endswith("各执一份。）")


def test_notice_is_as_issued(ledger_dir: LedgerDir) -> None:
    """Findings closed or reopened since still appear as submitted; the date is the submission's."""
    data, ids = ledger_dir
    text = _notice(data, ids["insp_b"])
    assert "ZG-20200903-001" in text and "## 一、须整改的隐患（2项）" in text
    assert "深基坑未编制专项施工方案" in text and "特种作业人员无证上岗" in text
    assert "排查之日起5个工作日" in text and "以暗访方式" in text
    assert "晋建三公司（使用人）" in text


def test_docx_reads_back(ledger_dir: LedgerDir) -> None:
    """A4 with margins, title, a table per finding, 宋体 east-asian font, fixed properties."""
    data, ids = ledger_dir
    out = data.parent / "a.docx"
    assert main(["notice", ids["insp_a"], "--data-dir", str(data), "--out", str(out)]) == 0
    doc = docx.Document(str(out))
    section = doc.sections[0]
    width, height = section.page_width, section.page_height
    assert width is not None and height is not None
    assert (round(width.mm), round(height.mm)) == (210, 297)
    margins = (section.left_margin, section.top_margin, section.right_margin, section.bottom_margin)
    assert [round(m.mm) if m is not None else None for m in margins] == [25, 25, 20, 20]
    texts = [p.text for p in doc.paragraphs]
    assert texts[:4] == [
        "隐患整改通知书",
        "编号：ZG-20200901-001",
        f"检查记录：{ids['insp_a']}",
        "王建国（产权人）、李秀英（使用人）：",
    ]
    assert "一、须整改的隐患（2项）" in texts and "二、其他违法违规情况（1项，记录在案）" in texts
    assert "三、整改要求及后果" in texts and "2020年9月1日" in texts
    assert any(t.startswith("被通知单位（人）签收：") for t in texts)
    assert len(doc.tables) == 3
    grid = [col.width for col in doc.tables[0].columns]
    assert [round(w.mm) for w in grid if w is not None] == [28, 137]  # 165 mm: the text width
    first = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows}
    assert first["隐患编号"] == "YH-20200901-001"
    assert first["隐患等级"] == "重大隐患"
    assert first["处置措施"] == "责令停止建设；依法处置"
    assert first["整改期限"] == "2020年9月1日前（立即整改）"
    assert first["判定依据"].startswith("阳政办发〔2020〕99号 五(二)")
    record = {row.cells[0].text: row.cells[1].text for row in doc.tables[2].rows}
    assert record["情况"] == "涉嫌违法建设"
    normal = doc.styles["Normal"].element.rPr
    assert normal is not None and normal.rFonts is not None
    assert normal.rFonts.get(qn("w:eastAsia")) == "宋体"
    title_run = doc.paragraphs[0].runs[0]
    title_fonts = title_run._element.rPr.rFonts if title_run._element.rPr is not None else None
    assert title_run.bold and title_fonts is not None
    assert title_fonts.get(qn("w:eastAsia")) == "黑体"
    props = doc.core_properties
    submitted = dt.datetime(2020, 9, 1, 11, 0, tzinfo=CHINA)
    assert props.created == submitted and props.modified == submitted  # not the clock
    assert props.author == "张三、李四" and props.title == "隐患整改通知书 ZG-20200901-001"


def test_docx_is_deterministic(ledger_dir: LedgerDir) -> None:
    """Every zip member is stamped with the submission time; two renders are byte-identical."""
    data, ids = ledger_dir
    with Ledger.open(data, readonly=True) as led:
        insp = resolve_inspection(led.projection, ids["insp_a"], str(data))
        notice = build_notice(led.projection, insp, PackLabels(data))
    first = render_docx(notice)
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        assert {i.date_time for i in z.infolist()} == {(2020, 9, 1, 11, 0, 0)}
        assert "word/document.xml" in z.namelist()
    assert render_docx(notice) == first
    out = data.parent / "b.docx"
    assert main(["notice", ids["insp_a"], "--data-dir", str(data), "--out", str(out)]) == 0
    assert out.read_bytes() == first


def test_errors_name_what_and_where(
    ledger_dir: LedgerDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unknown, open, empty ledger: exit 3, the id and the ledger named, nothing written."""
    data, ids = ledger_dir
    out = tmp_path / "n.docx"
    cases = [
        (data, "ffffffffffff", "no inspection 'ffffffffffff'"),
        (data, ids["insp_open"], "is open, not submitted"),
        (tmp_path / "empty", "abc", "no inspections in the ledger at"),
    ]
    for where, ref, message in cases:
        code = main(["notice", ref, "--data-dir", str(where), "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 3, err
        assert message in err and str(where) in err
        assert not out.exists()
    assert main(["notice", ids["insp_a"], "--data-dir", str(data), "--format", "docx"]) == 2
    assert main(["notice", ids["insp_a"], "--data-dir", str(data), "--out", str(out) + ".pdf"]) == 2
    assert (
        "nowhere"
        in (
            main(["notice", ids["insp_a"], "--data-dir", str(data), "--out", "/nowhere/x.md"]),
            capsys.readouterr().err,
        )[1]
    )


def _insp(
    iid: str, status: str = "submitted", findings: list[str] | None = None
) -> InspectionState:
    return InspectionState(
        id=iid,
        site_id="S1",
        pack_id="building-safety",
        pack_version="1.0.0",
        method="open",
        inspectors=["张三"],
        started_at="2020-09-01T09:00:00+08:00",
        device_id="d" * 32,
        actor="张三",
        status=status,  # type: ignore[arg-type]
        submitted_at="2020-09-01T10:00:00+08:00",
        finding_ids=findings or [],
    )


def test_prefixes_and_empty_inspections() -> None:
    """An ambiguous prefix lists its candidates; an exact id wins; no findings → no notice."""
    proj = Projection()
    for iid in ("abc1" + "0" * 28, "abc2" + "0" * 28, "abd3" + "0" * 28):
        proj.inspections[iid] = _insp(iid)
    with pytest.raises(InputError, match="matches 2 inspections") as err:
        resolve_inspection(proj, "abc", "/data")
    assert "abc1" in err.value.message and "abc2" in err.value.message
    assert resolve_inspection(proj, "ABD", "/data").id.startswith("abd3")
    with pytest.raises(InputError, match="cancelled"):
        proj.inspections["abd3" + "0" * 28].status = "cancelled"
        resolve_inspection(proj, "abd", "/data")
    with pytest.raises(InputError, match="raised no findings"):
        build_notice(proj, proj.inspections["abc1" + "0" * 28], PackLabels(packs=()))


def test_labels_fall_back_without_the_pack() -> None:
    """A finding of a pack not installed still prints: stored values, the pack id, plain rules."""
    labels = PackLabels()
    data = {
        "pack_id": "gone",
        "pack_version": "9.9.9",
        "deadline_rule": "end of phase rectify",
        "basis": {"source": {"section": "三(二)"}, "law": []},
    }
    assert labels.answer(data, "X.1", "yes") == "是"
    assert labels.answer(data, "X.2", ["a", "b"]) == "a、b"
    assert labels.answer(data, "X.3", 4.0) == "4"
    assert labels.deadline_rule(data) == "至「rectify」阶段结束"
    assert basis_text(labels, data) == "gone 三(二)"
    assert labels.site_type("no_such_type") == "no_such_type"


def test_format_and_suffix_must_agree(ledger_dir: LedgerDir) -> None:
    """--format md with a .docx name is a usage error; nothing is written."""
    data, ids = ledger_dir
    out = data.parent / "x.docx"
    args = ["notice", ids["insp_a"], "--data-dir", str(data), "--format", "md", "--out", str(out)]
    assert main(args) == 2 and not out.exists()


def test_notice_without_the_pack(ledger_dir: LedgerDir, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a machine without the inspection's pack the notice still prints, naming no document."""
    data, ids = ledger_dir
    with Ledger.open(data, readonly=True) as led:
        insp = led.inspection(ids["insp_a"])
        monkeypatch.setattr(PackLabels, "pack", lambda self, pack_id, version: None)
        text = render_markdown(build_notice(led.projection, insp, PackLabels(data)))
    assert "2020年9月1日，张三、李四以明查方式对你单位（人）的冠山镇王家自建房" in text
    assert "阳政办发" not in text and "| 判定依据 | building-safety 五(二)" in text
    assert "该建筑（工程）目前的建设状态：extending" in text  # the stored value, unlabelled
