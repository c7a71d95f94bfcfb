"""Site lists from CSV and Excel: every row good, or nothing imported, problems by row/column."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from inspect_engine.cli.main import main
from inspect_engine.ledger import Ledger
from inspect_engine.site_import import YANGQUAN_COUNTIES, SiteImportError, parse_sites
from tests.reliability import kit

TYPES = {"river_section": "河道、湖泊管理范围（河段）", "spring_area": "泉域地块（娘子关泉域）"}
HEADER = "编号,名称,县区,乡镇/街道,村/社区,地址,场所类型,产权人,产权人联系方式,督导组,排查人员"


def _csv(tmp_path: Path, rows: list[str], header: str = HEADER, encoding: str = "utf-8") -> Path:
    path = tmp_path / "sites.csv"
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return path


GOOD = [
    "P001,娘子关某地块,平定县,娘子关镇,娘子关村,娘子关镇1号,spring_area,某公司,0353-1,第一组,张三",
    "P002,秀水河某段,盂县,秀水镇,,秀水河,河道、湖泊管理范围（河段）,,,第二组,李四",
    "P003,某地块,平定县,冠山镇,,,泉域地块、river_section,某人,,第一组,张三",
]


def test_good_csv(tmp_path: Path) -> None:
    """Chinese headers, type labels or ids, several types in one cell, parties."""
    sites = parse_sites(_csv(tmp_path, GOOD), site_types=TYPES, counties=YANGQUAN_COUNTIES)
    assert [s.id for s in sites] == ["P001", "P002", "P003"]
    assert sites[1].site_types == ["river_section"]
    assert sites[2].site_types == ["spring_area", "river_section"]
    assert sites[0].parties.owner is not None and sites[0].parties.owner.contact == "0353-1"
    assert sites[0].inspector == "张三" and sites[0].group == "第一组"


def test_gbk_csv_and_english_headers(tmp_path: Path) -> None:
    """A CSV saved by Excel on a Chinese Windows (GB18030); English aliases with attributes."""
    path = _csv(tmp_path, GOOD[:1], encoding="gb18030")
    assert parse_sites(path, site_types=TYPES)[0].county == "平定县"
    english = "ID,Name,County,Township,Site_Types,Owner,attr:floors,属性:rented"
    path = _csv(tmp_path, ["A1,甲,盂县,秀水镇,spring_area,乙,3,是"], header=english)
    (site,) = parse_sites(path, site_types=TYPES)
    assert site.attributes == {"floors": 3.0, "rented": True}


def test_excel(tmp_path: Path) -> None:
    """An .xlsx first sheet; numbers and blank rows as Excel gives them."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER.split(","))
    sheet.append([1001, "甲", "郊区", "荫营镇", None, None, "spring_area", None, None, None, None])
    sheet.append([None] * 11)
    sheet.append(["1002", "乙", "郊区", "河底镇", None, None, "spring_area", "丙", 13800000000])
    path = tmp_path / "sites.xlsx"
    book.save(path)
    sites = parse_sites(path, site_types=TYPES)
    assert [s.id for s in sites] == ["1001", "1002"]
    assert sites[1].parties.owner is not None
    assert sites[1].parties.owner.contact == "13800000000"


def test_every_problem_with_row_and_column(tmp_path: Path) -> None:
    """Bad rows are all reported, by spreadsheet row and column; nothing is returned."""
    rows = [
        "P001,甲,平定,冠山镇,,,spring_area,,123,,",  # county not in the list; contact w/o unit
        ",乙,盂县,秀水镇,,,unknown_type,,,,",  # id missing; unknown type
        "P001,丙,盂县,,,,spring_area,,,,",  # duplicate id; township missing
        "bad id!,丁,盂县,秀水镇,,,spring_area,,,,",  # id pattern
    ]
    with pytest.raises(SiteImportError) as caught:
        parse_sites(_csv(tmp_path, rows), site_types=TYPES, counties=YANGQUAN_COUNTIES)
    got = {(p.line, p.key.split()[0]) for p in caught.value.problems}
    assert got == {(2, "C"), (2, "I"), (3, "A"), (3, "G"), (4, "A"), (4, "D"), (5, "A")}
    assert "sites.csv:2: C 县区" in caught.value.problems[0].render()


def test_header_problems(tmp_path: Path) -> None:
    """An unknown column or a missing required one stops the import at the header."""
    with pytest.raises(SiteImportError, match="unknown column"):
        parse_sites(_csv(tmp_path, GOOD, header=HEADER + ",颜色"))
    with pytest.raises(SiteImportError, match="missing column"):
        parse_sites(_csv(tmp_path, [], header="编号,名称,县区"))
    other = tmp_path / "sites.txt"
    other.write_text("x")
    with pytest.raises(Exception, match="only .csv and .xlsx"):
        parse_sites(other)


def test_cli_import_is_all_or_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad list imports nothing (exit 3, problems on stderr); a good one in one write."""
    data = tmp_path / "data"
    bad = _csv(tmp_path, [*GOOD, "P009,坏,平定县,冠山镇,,,nowhere,,,,"])
    code = main(["sites", "import", str(bad), "--data-dir", str(data), "--any-type"])
    assert code == 0  # --any-type accepts the unknown type
    good_dir = tmp_path / "second"
    code = main(["sites", "import", str(bad), "--data-dir", str(good_dir)])
    err = capsys.readouterr().err
    assert code in (0, 3)
    if code == 3:  # installed packs know the site types: the bad type is reported
        assert "nowhere" in err and not (good_dir / "ledger.db").exists()
    county = _csv(tmp_path, ["P1,甲,太原,小店,,,spring_area,,,,"])
    assert main(["sites", "import", str(county), "--data-dir", str(good_dir), "--any-type"]) == 3
    with Ledger.open(data, readonly=True, clock=kit.clock()) as led:
        assert len(led.sites()) == 4
