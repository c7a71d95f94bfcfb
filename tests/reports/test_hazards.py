"""The unresolved-hazards list: filters, ordering, columns, every format, errors, and goldens.

The ledger is built here, small and fixed (:func:`build_ledger`), with ids made deterministic so
golden files can hold them:

* 平定县 S1 (第四帮扶督导组), inspected 2020-09-01 by 张三、李四: a 重大 违法占地 with its 五落实
  (时限 2020-09-30) in rectification and a stop-construction order in force; a 一般 hazard due
  2020-09-16 left open (overdue on 2020-09-21 by 5 days); a record-only finding (not a hazard).
* 盂县 S2 (第五帮扶督导组), 2020-09-03 by 王五: a 一般 hazard 销号 (must not appear) and one
  销号 then reopened (must appear; due 2020-09-10, overdue by 11 days).
* 平定县 S3 (第四帮扶督导组), 2020-09-05: a 一般 hazard due 2020-09-25 (open, not overdue); its
  owner changed in the register on 2020-09-10 (赵海燕 → 钱小梅); and an inspection of S1 started
  and never submitted.

Golden files live in ``tests/data/reports/hazards/``. To regenerate them after an intended
change, run ``INSPECT_ENGINE_REGEN_GOLDEN=1 .venv/bin/pytest tests/reports/test_hazards.py
tests/reports/test_notice.py`` and review the diff.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from inspect_engine.cli.main import main
from inspect_engine.clock import CHINA, FixedClock
from inspect_engine.findings import ConsequenceOut, Finding, Responsible, Trigger
from inspect_engine.ledger import Ledger
from inspect_engine.rectification import FiveImplementations
from inspect_engine.reports import tabular
from inspect_engine.reports.hazards import (
    COLUMNS,
    TEXT_CLIP,
    TEXT_COLUMNS,
    check_filters,
    hazard_list,
)
from inspect_engine.reports.labels import PackLabels
from inspect_engine.rulepack import Basis, LegalRef, SourceRef, Text
from inspect_engine.site import Parties, PartyRecord, Site
from inspect_engine.textwidth import cell_width

GOLDEN = Path(__file__).parent.parent / "data" / "reports"
REGEN = os.environ.get("INSPECT_ENGINE_REGEN_GOLDEN") == "1"
TODAY = dt.date(2020, 9, 21)
NOW = "2020-09-21T10:00:00+08:00"
PACK = ("building-safety", "1.0.0")


def at(day: int, hour: int = 9) -> dt.datetime:
    """A time in September 2020, China time."""
    return dt.datetime(2020, 9, day, hour, 0, tzinfo=CHINA)


def golden(path: Path, actual: str | bytes) -> None:
    """Compare with the golden file, or write it when regenerating."""
    data = actual.encode("utf-8") if isinstance(actual, str) else actual
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"{path} missing: regenerate with INSPECT_ENGINE_REGEN_GOLDEN=1"
    assert data.decode("utf-8") == path.read_bytes().decode("utf-8"), f"differs from {path}"


def site(n: int, county: str, township: str, group: str, types: list[str], **kw: str) -> Site:
    return Site(
        id=f"S{n}",
        name=kw.get("name", f"{township}{n}号楼"),
        county=county,
        township=township,
        village=kw.get("village", ""),
        address=kw.get("address", f"阳泉市{county}{township}{n}号"),
        site_types=types,
        parties=Parties(
            approver=PartyRecord(unit=f"{county}自然资源局", contact="0353-1000000"),
            owner=PartyRecord(unit=kw.get("owner", f"业主{n}"), contact=f"1380000000{n}"),
            user=PartyRecord(unit=kw["user"], contact=f"1390000000{n}") if "user" in kw else None,
        ),
        group=group,
    )


def finding(
    rule: str,
    title: str,
    *,
    level: str = "一般",
    deadline: dt.date,
    deadline_rule: str,
    hazard: bool = True,
    consequences: tuple[tuple[str, str], ...] = (),
    triggers: tuple[tuple[str, str, object], ...] = (),
    law: tuple[LegalRef, ...] = (),
    section: str = "二(一)",
    quote: str | None = None,
    rectification: str = "限期整改",
) -> Finding:
    """A finding as the engine would produce it, with the fields the reports print."""
    return Finding.model_validate(
        {
            "rule_id": rule,
            "pack_id": PACK[0],
            "pack_version": PACK[1],
            "title": Text(zh=title, en=rule),
            "level": level,
            "hazard": hazard,
            "consequences": [ConsequenceOut(code=c, zh=zh, en=c) for c, zh in consequences],
            "rectification": Text(zh=rectification, en="rectify"),
            "deadline": deadline,
            "deadline_rule": deadline_rule,
            "responsible": [Responsible(role="owner", label="产权人", unit="业主", contact="")],
            "basis": Basis(source=SourceRef(section=section, quote=quote), law=list(law)),
            "triggers": [
                Trigger(item_id=i, question=Text(zh=q, en=i), value=v) for i, q, v in triggers
            ],
            "facts": [],
            "site_level": False,
        }
    )


@pytest.fixture
def fixed_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids made in order from a counter (hex of a hash, so prefixes differ) instead of uuid4."""
    counter = itertools.count(1)

    def new_id() -> str:
        return hashlib.sha256(f"id-{next(counter)}".encode()).hexdigest()[:32]

    monkeypatch.setattr("inspect_engine.ledger.new_id", new_id)
    monkeypatch.setattr("inspect_engine.events.new_id", new_id)


def build_ledger(data_dir: Path) -> dict[str, str]:
    """The fixed ledger of the module docstring; returns names → ids (inspections, findings)."""
    clock = FixedClock(at(1, 8))
    ids: dict[str, str] = {}
    land = LegalRef(
        instrument="土地管理法", article="第七十七条", version="2019", confidence="V-law"
    )
    plan_law = LegalRef(instrument="城乡规划法", article="第六十五条", confidence="MEM")
    with Ledger.open(data_dir, clock=clock, actor="张三") as led:
        led.register_sites(
            [
                site(1, "平定县", "冠山镇", "第四帮扶督导组", ["rural_self_built_house"],
                     name="冠山镇王家自建房", owner="王建国", user="李秀英", village="东村",
                     address="阳泉市平定县冠山镇东村12号"),
                site(2, "盂县", "秀水镇", "第五帮扶督导组", ["construction_site"],
                     name="秀水镇安置房工程", owner="盂县城投公司", user="晋建三公司"),
                site(3, "平定县", "娘子关镇", "第四帮扶督导组", ["crowded_place"],
                     name="娘子关镇泉水饭店", owner="赵海燕"),
            ]
        )  # fmt: skip
        # S1, 2020-09-01: a 重大 with 五落实, a 一般 left open, a record-only finding
        clock.set(at(1))
        a = led.start_inspection(
            "S1", pack_id=PACK[0], pack_version=PACK[1], method="明查", inspectors=["张三", "李四"]
        )
        led.record_answer(a.id, "BS.LAND.02", "no")
        clock.set(at(1, 11))
        fa = led.submit_inspection(
            a.id,
            [
                finding(
                    "BS.R.LAND", "违法占用土地进行建设", level="重大",
                    deadline=dt.date(2020, 9, 1), deadline_rule="immediately",
                    consequences=(("stop_construction", "责令停止建设"),
                                  ("legal_disposal", "依法处置")),
                    triggers=(("BS.LAND.01", "该建筑（工程）目前的建设状态", "extending"),
                              ("BS.LAND.02", "是否取得合法用地手续？", "no")),
                    law=(land,), section="五(二)",
                    quote="对违法占用土地进行建设的，一律责令停止建设",
                    rectification="立即停止建设，依法处置",
                ),
                finding(
                    "BS.R.ADD", "私搭乱建", deadline=dt.date(2020, 9, 16),
                    deadline_rule="15 calendar days",
                    consequences=(("demolish", "限期拆除"),),
                    triggers=(("BS.ADD.01", "是否存在私搭乱建？", "yes"),),
                    rectification="限期拆除私搭部分",
                ),
                finding(
                    "BS.R.ILLEGAL", "涉嫌违法建设", hazard=False,
                    deadline=dt.date(2020, 11, 30), deadline_rule="end of phase rectify",
                    consequences=(("legal_disposal", "依法查处/处置"),),
                    law=(plan_law,),
                    rectification="由当地政府组织有关部门依法依规查处",
                ),
            ],
        )  # fmt: skip
        ids.update(insp_a=a.id, land=fa[0].id, add=fa[1].id, record=fa[2].id)
        led.order_enforcement("S1", "stop_construction", ordered_on=dt.date(2020, 9, 1),
                              finding_id=fa[0].id, issued_by="冠山镇人民政府")  # fmt: skip
        clock.set(at(2))
        led.set_plan(
            fa[0].id,
            FiveImplementations(
                responsible_person="王建国（产权人）",
                measures="停止建设，拆除违法占地部分，恢复土地原状",
                funds=3.5,
                deadline=dt.date(2020, 9, 30),
                contingency_plan="设置围挡和警示标志，专人看守",
            ),
        )
        led.start_rectification(fa[0].id, note="已停工")

        # S2, 2020-09-03: one 一般 销号, one 销号 then reopened
        clock.set(at(3, 10))
        b = led.start_inspection(
            "S2", pack_id=PACK[0], pack_version=PACK[1], method="暗访", inspectors=["王五"]
        )
        fb = led.submit_inspection(
            b.id,
            [
                finding(
                    "BS.R.PIT", "深基坑未编制专项施工方案", deadline=dt.date(2020, 9, 10),
                    deadline_rule="5 working days", consequences=(("stop_work", "责令停止施工"),),
                    triggers=(("BS.SITE.PIT.01", "基坑（槽）最大开挖深度", 4.0),),
                    rectification="编制专项施工方案并组织专家论证",
                ),
                finding(
                    "BS.R.STAFF", "特种作业人员无证上岗", deadline=dt.date(2020, 9, 10),
                    deadline_rule="5 working days",
                    triggers=(("BS.SITE.STAFF.02", "特种作业人员是否持证上岗？", "no"),),
                    rectification="无证人员立即停止作业",
                ),
            ],
        )  # fmt: skip
        ids.update(insp_b=b.id, pit=fb[0].id, staff=fb[1].id)
        clock.set(at(8))
        for f in fb:
            led.report_rectified(f.id, note="已整改")
            led.close_finding(f.id, verifier="王五", note="复查合格")
        clock.set(at(12))
        led.reopen_finding(fb[1].id, reason="复查发现仍有无证人员作业")

        # S3, 2020-09-05: one open, not overdue
        clock.set(at(5, 15))
        c = led.start_inspection(
            "S3", pack_id=PACK[0], pack_version=PACK[1], method="突击检查", inspectors=["李四"]
        )
        fc = led.submit_inspection(
            c.id,
            [
                finding(
                    "BS.R.EXIT", "疏散通道被占用堵塞", deadline=dt.date(2020, 9, 25),
                    deadline_rule="end of phase rectify",
                    consequences=(("rectify", "责令改正"),),
                    triggers=(("BS.FIRE.11", "疏散通道是否被占用？", "yes"),),
                    rectification="清理疏散通道",
                ),
            ],
        )  # fmt: skip
        ids.update(insp_c=c.id, exit=fc[0].id)
        clock.set(at(10))  # the restaurant changed hands after the inspection
        led.register_sites(
            [site(3, "平定县", "娘子关镇", "第四帮扶督导组", ["crowded_place"],
                  name="娘子关镇泉水饭店", owner="钱小梅")]
        )  # fmt: skip

        # S1 again, started and never submitted
        clock.set(at(20))
        d = led.start_inspection(
            "S1", pack_id=PACK[0], pack_version=PACK[1], method="随机抽查", inspectors=["张三"]
        )
        ids.update(insp_open=d.id)
    return ids


@pytest.fixture
def ledger_dir(tmp_path: Path, fixed_ids: None) -> Iterator[tuple[Path, dict[str, str]]]:
    """The fixed ledger's data directory and its ids."""
    data = tmp_path / "data"
    ids = build_ledger(data)
    yield data, ids


def _list(data: Path, **kw: object) -> list[str]:
    with Ledger.open(data, readonly=True) as led:
        report = hazard_list(led.projection, TODAY, PackLabels(), **kw)  # type: ignore[arg-type]
    return [line.row.finding_id for line in report.lines]


def test_order_and_membership(ledger_dir: tuple[Path, dict[str, str]]) -> None:
    """Overdue first (most overdue first), then deadline; closed out; reopened in."""
    data, ids = ledger_dir
    assert _list(data) == [ids["staff"], ids["add"], ids["exit"], ids["land"]]
    assert ids["pit"] not in _list(data) and ids["record"] not in _list(data)


def test_filters(ledger_dir: tuple[Path, dict[str, str]]) -> None:
    """County, level, group, overdue, and the two other orderings."""
    data, ids = ledger_dir
    assert _list(data, county="平定县") == [ids["add"], ids["exit"], ids["land"]]
    assert _list(data, county="盂县") == [ids["staff"]]
    assert _list(data, level="重大") == [ids["land"]]
    assert _list(data, group="第五帮扶督导组") == [ids["staff"]]
    assert _list(data, group="第四帮扶督导组", overdue_only=True) == [ids["add"]]
    assert _list(data, overdue_only=True) == [ids["staff"], ids["add"]]
    assert _list(data, sort="level") == [ids["land"], ids["staff"], ids["add"], ids["exit"]]
    # by county, then township (code-point order: 冠山镇 before 娘子关镇), the core's order within
    assert _list(data, sort="county") == [ids["add"], ids["land"], ids["exit"], ids["staff"]]


def test_columns_carry_the_ledger_values(ledger_dir: tuple[Path, dict[str, str]]) -> None:
    """五落实 values, effective deadline, overdue days, numbers, remarks, labels from the pack."""
    data, ids = ledger_dir
    with Ledger.open(data, readonly=True) as led:
        report = hazard_list(led.projection, TODAY, PackLabels())
    rows = {line.row.finding_id: line.values for line in report.lines}
    land, add, staff = rows[ids["land"]], rows[ids["add"]], rows[ids["staff"]]
    assert land["number"] == "YH-20200901-001" and add["number"] == "YH-20200901-002"
    assert staff["number"] == "YH-20200903-002"  # 销号 hazards keep their numbers counted
    assert land["inspected_on"] == dt.date(2020, 9, 1) and land["inspectors"] == "张三、李四"
    assert land["parties"] == "产权人：王建国；使用人：李秀英"
    assert land["phone"] == "13800000001；13900000001"
    assert land["site_type"] == "农村自建房"
    assert land["content"] == (
        "违法占用土地进行建设。该建筑（工程）目前的建设状态：已建成，正在扩建、加层或改建；"
        "是否取得合法用地手续？：否"
    )
    assert land["measures"] == "停止建设，拆除违法占地部分，恢复土地原状"
    assert land["responsible"] == "王建国（产权人）"
    assert (land["funds"], land["deadline"]) == (3.5, dt.date(2020, 9, 30))
    assert land["contingency"] == "设置围挡和警示标志，专人看守"
    assert land["disposal"] == "责令停止建设；依法处置"
    assert land["status"] == "整改中" and land["days_overdue"] == 0
    assert "规则时限2020-09-01，按五落实时限2020-09-30" in str(land["remarks"])
    assert "已责令停止建设（2020-09-01，未解除）" in str(land["remarks"])
    assert str(land["basis"]).startswith("阳政办发〔2020〕99号 五(二)“对违法占用土地")
    assert "《土地管理法》第七十七条（2019）" in str(land["basis"])
    assert add["measures"] == "限期拆除私搭部分" and add["funds"] is None
    assert add["status"] == "待整改（逾期5天）" and add["days_overdue"] == 5
    assert staff["status"] == "整改中（逾期11天）"
    assert staff["remarks"] == (
        "曾于2020-09-08销号（验收：王五: 复查合格），2020-09-12重新整改：复查发现仍有无证人员作业"
    )
    assert staff["content"] == "特种作业人员无证上岗。特种作业人员是否持证上岗？：否"
    assert (staff["verifier"], staff["verified_on"]) == ("", None)


def test_unknown_filters_and_empty_ledger(tmp_path: Path) -> None:
    """An empty ledger, an unknown county or group: input errors naming what and where."""
    empty = tmp_path / "empty"
    with Ledger.open(empty, readonly=True) as led:
        with pytest.raises(Exception, match="no submitted inspection in the ledger at .*empty"):
            check_filters(led.projection, str(empty))
    out = tmp_path / "x.csv"
    code = main(["hazards", "--data-dir", str(empty), "--now", NOW, "--out", str(out)])
    assert code == 3 and not out.exists()


def test_cli_errors_write_nothing(
    ledger_dir: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """Unknown county and group exit 3 with the known values; --out untouched."""
    data, _ = ledger_dir
    out = data.parent / "list.xlsx"
    out.write_bytes(b"old")
    for flag, value in (("--county", "孟县"), ("--group", "第九帮扶督导组")):
        code = main(
            ["hazards", "--data-dir", str(data), "--now", NOW, flag, value, "--out", str(out)]
        )
        err = capsys.readouterr().err
        assert code == 3, err
        assert value in err and str(data) in err and "known:" in err
        assert out.read_bytes() == b"old"
    assert "平定县、盂县" in main_err(data, "--county", "孟县", capsys)
    code = main(["hazards", "--data-dir", str(data), "--out", str(data.parent / "x.pdf")])
    assert code == 2 and not (data.parent / "x.pdf").exists()


def main_err(data: Path, flag: str, value: str, capsys: pytest.CaptureFixture[str]) -> str:
    main(["hazards", "--data-dir", str(data), "--now", NOW, flag, value])
    return capsys.readouterr().err


def test_goldens_markdown_csv_text(
    ledger_dir: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI's Markdown, CSV and text outputs match the golden files."""
    data, _ = ledger_dir
    base = ["hazards", "--data-dir", str(data), "--now", NOW]
    assert main([*base, "--format", "md"]) == 0
    golden(GOLDEN / "hazards" / "all.md", capsys.readouterr().out)
    out = data.parent / "all.csv"
    assert main([*base, "--out", str(out)]) == 0
    golden(GOLDEN / "hazards" / "all.csv", out.read_bytes())
    assert main([*base, "--county", "平定县", "--overdue"]) == 0
    golden(GOLDEN / "hazards" / "pingding-overdue.txt", capsys.readouterr().out)


def test_csv_reads_back(ledger_dir: tuple[Path, dict[str, str]]) -> None:
    """UTF-8 with a BOM, the Chinese header, one row per hazard in order."""
    data, ids = ledger_dir
    out = data.parent / "h.csv"
    assert main(["hazards", "--data-dir", str(data), "--now", NOW, "--out", str(out)]) == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == [c.label for c in COLUMNS]
    assert [r[2] for r in rows[1:]] == [ids["staff"], ids["add"], ids["exit"], ids["land"]]
    assert rows[1][rows[0].index("整改情况")] == "整改中（逾期11天）"


def test_xlsx_cells(ledger_dir: tuple[Path, dict[str, str]]) -> None:
    """The workbook opens again: title, header, typed cells (dates, numbers), deterministic."""
    data, ids = ledger_dir
    out = data.parent / "h.xlsx"
    args = ["hazards", "--data-dir", str(data), "--today", "2020-09-21", "--out", str(out)]
    assert main(args) == 0
    first = out.read_bytes()
    wb = openpyxl.load_workbook(out)
    ws = wb["未销号隐患"]
    assert ws["A1"].value == "未销号隐患清单（截至2020-09-21）"
    header = [c.value for c in ws[2]]
    assert header == [c.label for c in COLUMNS]
    col = {label: i for i, label in enumerate(header)}
    body = [[c.value for c in row] for row in ws.iter_rows(min_row=3, max_row=6)]
    assert [r[col["隐患ID"]] for r in body] == [ids["staff"], ids["add"], ids["exit"], ids["land"]]
    land = body[3]
    assert land[col["整改资金（万元）"]] == 3.5
    assert land[col["整改时限"]] == dt.datetime(2020, 9, 30)
    assert body[0][col["逾期天数"]] == 11 and body[0][col["序号"]] == 1
    assert str(ws.cell(row=7, column=1).value).startswith("注：筛选：全部。共4项，其中逾期2项。")
    assert wb.properties.created == dt.datetime(2020, 9, 20, 16, 0)  # --today 00:00 China time
    assert main(args) == 0
    assert out.read_bytes() == first


def test_json(ledger_dir: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]) -> None:
    """Versioned JSON with every column by key."""
    data, ids = ledger_dir
    assert main(["hazards", "--data-dir", str(data), "--now", NOW, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["format"], doc["count"], doc["overdue"], doc["today"]) == (1, 4, 2, "2020-09-21")
    assert doc["rows"][0]["finding_id"] == ids["staff"]
    assert set(doc["rows"][0]) == {c.key for c in COLUMNS}


def test_text_is_narrow(ledger_dir: tuple[Path, dict[str, str]]) -> None:
    """The terminal table keeps to the subset named in --help."""
    data, _ = ledger_dir
    with Ledger.open(data, readonly=True) as led:
        report = hazard_list(led.projection, TODAY, PackLabels())
    text = tabular.render_text([report.table(TEXT_COLUMNS, clip=TEXT_CLIP)])
    header = text.splitlines()[1].split()
    assert header == [
        "序号",
        "隐患编号",
        "县区",
        "隐患单位/场所",
        "隐患",
        "等级",
        "整改时限",
        "整改情况",
    ]
    assert "整改中（逾期11天）" in text
    assert max(cell_width(line) for line in text.splitlines()[:7]) <= 120
    clipped = report.table(TEXT_COLUMNS, clip=10).rows[0][3]
    assert clipped == "秀水镇安…" and cell_width(str(clipped)) <= 10


def test_no_match_is_an_empty_list(
    ledger_dir: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """A real question with no answer (no overdue 重大) is a list with no rows, exit 0."""
    data, _ = ledger_dir
    assert _list(data, level="重大", overdue_only=True) == []
    out = data.parent / "none.csv"
    args = ["hazards", "--data-dir", str(data), "--now", NOW, "--level", "重大", "--overdue"]
    assert main([*args, "--out", str(out)]) == 0
    assert out.read_bytes().decode("utf-8-sig").splitlines()[0].startswith("序号,隐患编号")
    assert len(out.read_bytes().decode("utf-8-sig").splitlines()) == 1
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "（无）" in text and "共0项，其中逾期0项" in text
