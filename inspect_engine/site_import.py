"""Reading a site register (场所台账) from CSV or Excel: all rows good, or nothing imported.

The first row holds the column headers, in Chinese or in the English aliases below (case,
spaces and full-width brackets do not matter). Every later non-blank row is one site.

* ``id`` (required): 编号, 场所编号 | id, site_id
* ``name`` (required): 名称, 场所名称 | name
* ``county`` (required): 县区, 县(区), 区县 | county
* ``township`` (required): 乡镇, 乡镇/街道, 乡镇(街道), 街道 | township
* ``village``: 村/社区, 村(社区), 村, 社区 | village
* ``address``: 地址, 详细地址 | address
* ``site_types`` (required): 场所类型, 对象类型, 类型 | site_types, types
* ``approver``: 审批单位 | approver; its contact: 审批单位联系方式 | approver_contact
* ``supervisor``: 主管单位 | supervisor; contact: 主管单位联系方式 | supervisor_contact
* ``owner``: 产权人, 产权单位 | owner; contact: 产权人联系方式, 产权单位联系方式 | owner_contact
* ``user``: 使用人, 使用单位, 经营者 | user; contact: 使用人联系方式... | user_contact
* ``group``: 督导组, 帮扶督导组 | group
* ``inspector``: 排查人员, 检查人员, 排查人 | inspector
* attributes: 属性:<name> | attr:<name>
* ignored: 序号, 备注 | no, remarks

``site_types`` holds pack site-type ids or their Chinese labels, several separated by ``;`` ``,``
``；`` ``，`` or ``、``. Attribute cells become booleans (是/否/true/false), numbers, or text.
``*_contact`` columns also accept the header with 联系人 or 电话 in place of 联系方式.

Every problem is reported with its row (the spreadsheet's own row number) and column; if there is
any, :class:`SiteImportError` is raised and no site is imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from inspect_engine.errors import InputError, Problem
from inspect_engine.site import Parties, PartyRecord, Site

MAX_ROWS = 100_000

YANGQUAN_COUNTIES = ("城区", "矿区", "郊区", "平定县", "盂县", "高新区")
"""Counties and districts of Yangquan (yangquan.md), plus the high-tech zone."""

_PARTIES = ("approver", "supervisor", "owner", "user")
_CONTACT_WORDS = ("联系方式", "联系人", "联系电话", "电话")

HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("编号", "场所编号", "id", "site_id"),
    "name": ("名称", "场所名称", "name"),
    "county": ("县区", "县(区)", "区县", "county"),
    "township": ("乡镇", "乡镇/街道", "乡镇(街道)", "街道", "township"),
    "village": ("村/社区", "村(社区)", "村", "社区", "village"),
    "address": ("地址", "详细地址", "address"),
    "site_types": ("场所类型", "对象类型", "类型", "site_types", "types"),
    "approver": ("审批单位", "approver"),
    "supervisor": ("主管单位", "supervisor"),
    "owner": ("产权人", "产权单位", "产权人/产权单位", "产权单位/产权人", "owner"),
    "user": ("使用人", "使用单位", "经营者", "使用人/经营者", "user"),
    "group": ("督导组", "帮扶督导组", "group"),
    "inspector": ("排查人员", "检查人员", "排查人", "inspector"),
}
"""Accepted headers of each field (contacts are derived below)."""

IGNORED = ("序号", "备注", "no", "remarks")
ATTR_PREFIXES = ("属性:", "attr:")
REQUIRED = ("id", "name", "county", "township", "site_types")
_LABELS = {
    "id": "编号",
    "name": "名称",
    "county": "县区",
    "township": "乡镇/街道",
    "site_types": "场所类型",
}


class SiteImportError(InputError):
    """The site list has problems; nothing was imported. ``problems`` lists every one."""

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("SiteImportError needs at least one problem")
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(
            f"场所清单有误，未导入 / site list not imported: {problems[0].render()}{more}"
        )


def _norm(header: str) -> str:
    text = header.strip().replace("（", "(").replace("）", ")").replace("：", ":")
    return re.sub(r"\s+", "", text).casefold()


def _header_map() -> dict[str, str]:
    out: dict[str, str] = {}
    for field, names in HEADERS.items():
        for name in names:
            out[_norm(name)] = field
    for party in _PARTIES:
        out[_norm(f"{party}_contact")] = f"{party}_contact"
        for name in HEADERS[party]:
            if name.isascii():
                continue
            for word in _CONTACT_WORDS:
                out[_norm(name + word)] = f"{party}_contact"
    return out


_HEADER_MAP = _header_map()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def read_table(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Headers and (row number, cells) of the first sheet of a .csv or .xlsx file."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("gb18030")  # Excel's CSV on a Chinese Windows
            rows = [[_cell(c) for c in row] for row in csv.reader(io.StringIO(text, newline=""))]
        elif suffix in (".xlsx", ".xlsm"):
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                rows = []
                for row in sheet.iter_rows(values_only=True):
                    rows.append([_cell(c) for c in row])
                    if len(rows) > MAX_ROWS + 1:
                        break
            finally:
                book.close()
        else:
            raise InputError(f"{path.name}: 只支持 .csv 和 .xlsx / only .csv and .xlsx are read")
    except InputError:
        raise
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InputError(f"cannot read {path}: {err}") from err
    except Exception as err:  # openpyxl raises many types on a file that is not a workbook
        raise InputError(f"cannot read {path} as an Excel workbook: {err}") from err
    if not rows:
        raise SiteImportError([Problem(path.name, "", "文件为空 / the file is empty", 1)])
    if len(rows) > MAX_ROWS + 1:
        raise SiteImportError([Problem(path.name, "", f"more than {MAX_ROWS} rows", None)])
    headers = rows[0]
    return headers, [(i, r) for i, r in enumerate(rows[1:], start=2)]


def _site_type_lookup(known: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for type_id, label in known.items():
        out[type_id] = type_id
        out[label] = type_id
        out[re.sub(r"[（(].*?[）)]", "", label)] = type_id
    return out


def _split_types(cell: str, lookup: dict[str, str] | None) -> tuple[list[str], list[str]]:
    """(type ids, unknown parts) of a site-types cell."""
    if lookup is not None and cell in lookup:
        return [lookup[cell]], []
    found: list[str] = []
    unknown: list[str] = []
    for part in (p.strip() for p in re.split(r"[;；,，|\n]+", cell)):
        if not part:
            continue
        candidates = [part] if lookup is None or part in lookup else part.split("、")
        for piece in (c.strip() for c in candidates):
            if not piece:
                continue
            if lookup is None:
                found.append(piece)
            elif piece in lookup:
                found.append(lookup[piece])
            else:
                unknown.append(piece)
    return list(dict.fromkeys(found)), unknown


def _attribute(text: str) -> bool | float | str:
    low = text.casefold()
    if low in ("是", "true", "yes", "有"):
        return True
    if low in ("否", "false", "no", "无"):
        return False
    try:
        return float(text)
    except ValueError:
        return text


def parse_sites(
    path: str | Path,
    *,
    site_types: Mapping[str, str] | None = None,
    counties: Collection[str] | None = None,
) -> list[Site]:
    """Every site in the file, or :class:`SiteImportError` listing every problem.

    ``site_types`` maps the known type ids to their Chinese labels (from the installed packs);
    ``None`` accepts any id. ``counties`` limits the 县区 column (``None``: any).
    """
    path = Path(path)
    file = path.name
    headers, rows = read_table(path)
    problems: list[Problem] = []
    columns: dict[str, int] = {}
    attrs: dict[int, str] = {}
    where: dict[str, str] = {}
    for index, header in enumerate(headers):
        label = f"{_column_letter(index)} {header}".strip()
        norm = _norm(header)
        if not norm or norm in (_norm(n) for n in IGNORED):
            continue
        prefix = next((p for p in ATTR_PREFIXES if norm.startswith(p)), None)
        if prefix is not None:
            name = header.strip()[len(prefix) :].strip()
            if not re.match(r"^[a-z][a-z0-9_]*$", name):
                problems.append(Problem(file, label, f"属性名 {name!r} 无效 / bad attribute", 1))
            attrs[index] = name
            continue
        field = _HEADER_MAP.get(norm)
        if field is None:
            problems.append(Problem(file, label, "未知的列 / unknown column (see docs)", 1))
        elif field in columns:
            problems.append(Problem(file, label, "列重复 / column given twice", 1))
        else:
            columns[field] = index
            where[field] = label
    problems.extend(
        Problem(file, _LABELS[field], f"缺少必填列 / missing column {field}", 1)
        for field in REQUIRED
        if field not in columns
    )
    if problems:
        raise SiteImportError(problems)

    lookup = _site_type_lookup(site_types) if site_types is not None else None
    counties_ok = set(counties) if counties is not None else None
    sites: list[Site] = []
    first_row: dict[str, int] = {}

    for row_no, cells in rows:
        if not any(cells):
            continue

        def get(field: str, row: list[str] = cells) -> str:
            index = columns.get(field)
            return row[index] if index is not None and index < len(row) else ""

        def bad(field: str, message: str, row_no: int = row_no) -> None:
            problems.append(Problem(file, where.get(field, field), message, row_no))

        before = len(problems)
        site_id = get("id")
        if site_id:
            seen = first_row.setdefault(site_id, row_no)
            if seen != row_no:
                bad("id", f"编号重复（第 {seen} 行已有）/ duplicate id, first on row {seen}")
        for field in REQUIRED:
            if not get(field):
                bad(field, "必填 / required")
        types, unknown = _split_types(get("site_types"), lookup)
        if unknown and lookup is not None:
            bad("site_types", f"未知场所类型 / unknown site type: {'、'.join(unknown)}")
        county = get("county")
        if county and counties_ok is not None and county not in counties_ok:
            bad(
                "county",
                f"县区 {county!r} 不在名单中 / not one of {'、'.join(sorted(counties_ok))}",
            )
        parties: dict[str, PartyRecord] = {}
        for party in _PARTIES:
            unit, contact = get(party), get(f"{party}_contact")
            if contact and not unit:
                bad(f"{party}_contact", "有联系方式但没有单位 / contact without a unit")
            elif unit:
                parties[party] = PartyRecord(unit=unit[:200], contact=contact[:200])
        attributes = {
            name: _attribute(cells[i]) for i, name in attrs.items() if i < len(cells) and cells[i]
        }
        if len(problems) > before:
            continue
        raw = {
            "id": get("id"),
            "name": get("name"),
            "county": county,
            "township": get("township"),
            "village": get("village"),
            "address": get("address"),
            "site_types": types,
            "parties": Parties(**parties),
            "attributes": attributes,
            "group": get("group"),
            "inspector": get("inspector"),
        }
        try:
            site = Site.model_validate(raw)
        except ValidationError as err:
            for e in err.errors():
                field = str(e["loc"][0]) if e["loc"] else ""
                bad(field, f"{e['msg']}")
            continue
        sites.append(site)
    if problems:
        raise SiteImportError(problems)
    return sites
