"""The unresolved-hazards list's shortcuts give what the plain computation gives.

``hazard_list`` makes each hazard's row and values in one pass over the open hazards, keeps a
rule's texts (basis, consequences) and a site's columns once, and numbers hazards by day with
the times compared as text. Here a reference written the plain way (every row made, filtered,
sorted, then every text worked out from the finding's document) is compared with it on the
fixed ledger of ``test_hazards`` grown with documents that differ within a rule, at several
dates and with every filter and order; the numbering with its plain form on random keys.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from pathlib import Path
from typing import Any

import pytest

from inspect_engine.clock import FixedClock
from inspect_engine.ledger import Ledger
from inspect_engine.projection import FindingState, OrderState, Projection
from inspect_engine.queries import FindingRow, finding_row, open_findings
from inspect_engine.rectification import ORDER_KINDS, OVERDUE_LABEL, STATUS_LABELS
from inspect_engine.reports.hazards import Sort, hazard_list
from inspect_engine.reports.labels import (
    PackLabels,
    basis_text,
    consequences_text,
    local_date,
    triggers_text,
)
from inspect_engine.reports.numbering import _number, hazard_numbers
from inspect_engine.reports.tabular import Value
from inspect_engine.rulepack import LegalRef
from inspect_engine.site import PARTY_LABELS
from tests.reports.friday_ledger import bundled_packs
from tests.reports.test_fast_paths import _number_plainly
from tests.reports.test_hazards import PACK, at, build_ledger, finding, site


def _plain_numbers(proj: Projection) -> dict[str, str]:
    keyed = []
    for f in proj.findings.values():
        if f.status is None:
            continue
        insp = proj.inspections.get(f.inspection_id)
        place = insp.finding_ids.index(f.id) if insp and f.id in insp.finding_ids else 0
        keyed.append((f.raised_at, f.site_id, f.inspection_id, place, f.id))
    return _number_plainly("YH", keyed)


def _plain_list(
    proj: Projection, today: dt.date, labels: PackLabels, sort: Sort, **kw: Any
) -> list[tuple[FindingRow, dict[str, Value]]]:
    """Every open hazard's row, filtered, sorted, then its values worked out one by one."""
    rows = [finding_row(proj, f, today) for f in proj.findings.values() if f.is_open]
    group = kw.pop("group", None)
    overdue_only = kw.pop("overdue_only", False)
    rows = [
        r
        for r in rows
        if all(getattr(r, k) == v for k, v in kw.items() if v is not None)
        and (not overdue_only or r.overdue)
        and (group is None or _site_of(proj, r.site_id, "group") == group)
    ]
    rows.sort(key=lambda r: (not r.overdue, r.deadline, r.county, r.site_name, r.finding_id))
    if sort == "county":
        rows.sort(key=lambda r: (r.county, r.township))
    elif sort == "level":
        rows.sort(key=lambda r: r.level != "重大")
    numbers = _plain_numbers(proj)
    out = []
    for seq, r in enumerate(rows, 1):
        orders = sorted(
            (o for o in proj.orders.values() if o.finding_id == r.finding_id and o.in_force),
            key=lambda o: (o.ordered_on, o.id),
        )
        out.append((r, _plain_values(proj, r, seq, numbers.get(r.finding_id, ""), labels, orders)))
    return out


def _site_of(proj: Projection, site_id: str, field: str) -> Any:
    state = proj.sites.get(site_id)
    return getattr(state.site, field) if state else ""


def _plain_values(
    proj: Projection,
    row: FindingRow,
    seq: int,
    number: str,
    labels: PackLabels,
    orders: list[OrderState],
) -> dict[str, Value]:
    f = proj.findings[row.finding_id]
    insp = proj.inspections.get(f.inspection_id)
    state = proj.sites.get(f.site_id)
    s = state.site if state else None
    parties, phones = [], []
    for role in ("owner", "user"):
        rec = getattr(s.parties, role) if s else None
        if rec is not None:
            parties.append(f"{PARTY_LABELS[role]}：{rec.unit}")
            if rec.contact:
                phones.append(rec.contact)
    data = f.data
    triggers = triggers_text(labels, data)
    plan = f.plan
    status = STATUS_LABELS[row.status]
    if row.overdue:
        status += f"（{OVERDUE_LABEL}{row.days_overdue}天）"
    named = [
        f"{r.get('label', '')}：{r['unit']}" for r in data.get("responsible", []) if r.get("unit")
    ]
    return {
        "seq": seq,
        "number": number,
        "finding_id": f.id,
        "inspected_on": local_date(insp.started_at) if insp else local_date(f.raised_at),
        "inspectors": "、".join(insp.inspectors) if insp else "",
        "county": row.county,
        "township": row.township,
        "site": row.site_name,
        "address": (s.address or f"{s.county}{s.township}{s.village}") if s else "",
        "parties": "；".join(parties),
        "phone": "；".join(dict.fromkeys(phones)),
        "site_type": labels.site_types(s.site_types) if s else "",
        "title": f.title,
        "content": f"{f.title}。{triggers}" if triggers else f.title,
        "level": f.level,
        "basis": basis_text(labels, data),
        "measures": plan.measures if plan else str(data.get("rectification", {}).get("zh", "")),
        "responsible": plan.responsible_person if plan else "；".join(named or parties),
        "funds": plan.funds if plan else None,
        "deadline": row.deadline,
        "contingency": plan.contingency_plan if plan else "",
        "disposal": consequences_text(data),
        "status": status,
        "days_overdue": row.days_overdue,
        "verifier": "",
        "verified_on": None,
        "group": s.group if s else "",
        "remarks": _plain_remarks(f, orders),
    }


def _plain_remarks(f: FindingState, orders: list[OrderState]) -> str:
    notes = []
    closed: str | None = None
    for step in f.history:
        if step.action == "close":
            closed = f"{step.time[:10]}销号（验收：{step.note}）"
        elif step.action == "reopen":
            before = f"曾于{closed}，" if closed else "复查不合格，"
            notes.append(f"{before}{step.time[:10]}重新整改：{step.note}")
            closed = None
    if f.plan is not None and f.plan.deadline != f.rule_deadline:
        notes.append(
            f"规则时限{f.rule_deadline.isoformat()}，按五落实时限{f.plan.deadline.isoformat()}"
        )
    notes += [f"已{ORDER_KINDS.get(o.kind, o.kind)}（{o.ordered_on}，未解除）" for o in orders]
    return "；".join(notes)


def _grow(data_dir: Path) -> None:
    """More hazards on the fixed ledger: the rule BS.R.ADD again, once as written before and
    once with another basis and other consequence words (a pack changed without a new
    version), several hazards of one inspection, an answer of each kind, a second site."""
    clock = FixedClock(at(14, 9))
    law = LegalRef(instrument="建筑法", article="第七条", version="2019", confidence="MEM")
    with Ledger.open(data_dir, clock=clock, actor="张三") as led:
        led.register_sites(
            [site(4, "盂县", "秀水镇", "第五帮扶督导组", ["rural_self_built_house"], user="租户")]
        )
        for n, site_id in enumerate(("S1", "S4", "S3")):
            clock.set(at(14 + n, 9))
            insp = led.start_inspection(
                site_id, pack_id=PACK[0], pack_version=PACK[1], method="明查", inspectors=["丁一"]
            )
            clock.set(at(14 + n, 10))
            led.submit_inspection(
                insp.id,
                [
                    finding(
                        "BS.R.ADD", "私搭乱建", deadline=dt.date(2020, 9, 16 + 7 * n),
                        deadline_rule="15 calendar days",
                        consequences=(("demolish", "限期拆除" if n != 1 else "拆除"),),
                        triggers=(("BS.ADD.01", "是否存在私搭乱建？", "yes"),),
                        section="二(一)" if n != 1 else "二(二)", law=(law,) if n == 1 else (),
                        rectification="限期拆除私搭部分",
                    ),
                    finding(
                        "BS.R.MIX", "多种回答", level="重大" if n else "一般",
                        deadline=dt.date(2020, 9, 20), deadline_rule="immediately",
                        triggers=(("BS.X.1", "数", 2.0), ("BS.X.2", "多选", ["a", "b"]),
                                  ("BS.X.3", "是否", True), ("BS.X.4", "空", [])),
                    ),
                    finding(
                        "BS.R.NOT", "非隐患", hazard=False, deadline=dt.date(2020, 9, 30),
                        deadline_rule="immediately",
                    ),
                ],
            )  # fmt: skip


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data directory of the grown ledger."""
    data = tmp_path_factory.mktemp("hazards-fast") / "data"
    build_ledger(data)
    _grow(data)
    return data


FILTERS: list[dict[str, Any]] = [
    {},
    {"county": "平定县"},
    {"county": "盂县", "township": "秀水镇"},
    {"township": "冠山镇"},
    {"level": "重大"},
    {"level": "一般", "overdue_only": True},
    {"group": "第五帮扶督导组"},
    {"group": "第四帮扶督导组", "level": "一般"},
    {"overdue_only": True},
    {"county": "无此县"},
]


@pytest.mark.parametrize("when", [at(10, 12), at(15, 12), at(21, 10), at(30, 23)], ids=str)
def test_hazard_list_is_the_plain_list(grown: Path, when: dt.datetime) -> None:
    """Rows and values equal the reference's for every filter and order, as of several dates,
    with the packs' labels and with none (labels fall back to the stored values)."""
    with Ledger.open(grown, readonly=True) as led:
        proj = led.state_at(when)
        assert len({f.rule_id for f in proj.findings.values() if f.is_open}) > 1
        compared = 0
        sorts: tuple[Sort, ...] = ("deadline", "county", "level")
        for labels_of, kw, sort in itertools.product(
            (
                lambda: PackLabels(packs=bundled_packs()),
                lambda: PackLabels(packs=bundled_packs()[1:]),  # building-safety unknown
                lambda: PackLabels(),  # packs loaded when first needed
            ),
            FILTERS,
            sorts,
        ):
            args = {"county": None, "township": None, "level": None, **kw}
            fast = hazard_list(proj, when.date(), labels_of(), sort=sort, **kw)
            plain = _plain_list(proj, when.date(), labels_of(), sort, **args)
            assert [(line.row, line.values) for line in fast.lines] == plain, (kw, sort)
            compared += len(plain)
        assert compared > 0


def test_a_rule_s_texts_follow_each_document(grown: Path) -> None:
    """Two documents of one rule with different bases and consequence words keep their own."""
    with Ledger.open(grown, readonly=True) as led:
        report = hazard_list(led.projection, at(30).date(), PackLabels(packs=bundled_packs()))
    adds = [line.values for line in report.lines if line.row.rule_id == "BS.R.ADD"]
    assert len({str(v["basis"]) for v in adds}) == 2
    assert {v["disposal"] for v in adds} == {"限期拆除", "拆除"}
    assert any("建筑法" in str(v["basis"]) for v in adds)


def test_open_findings_order_is_the_reference_s(grown: Path) -> None:
    """The rows of ``hazard_list`` are those of ``open_findings``, in its order."""
    with Ledger.open(grown, readonly=True) as led:
        proj = led.projection
        today = at(21).date()
        report = hazard_list(proj, today, PackLabels(packs=[]))
        assert [line.row for line in report.lines] == open_findings(proj, today)


def test_hazard_numbers_are_the_plain_ones(grown: Path) -> None:
    """Several hazards of one inspection (a record-only finding among them) rank by place."""
    with Ledger.open(grown, readonly=True) as led:
        proj = led.projection
        numbers = hazard_numbers(proj)
        assert numbers == _plain_numbers(proj)
        assert any(len(i.finding_ids) > 2 for i in proj.inspections.values())


@pytest.mark.parametrize("seed", range(6))
def test_numbers_of_shaped_times_are_the_plain_ones(seed: int) -> None:
    """Every time in the devices' shape: ties on time, site and inspection broken by place,
    a day of more than 999 hazards, and the same with one time in another shape."""
    rng = random.Random(seed)
    keyed = []
    for n in range(rng.choice((5, 200, 1200))):
        day = rng.choice((1, 2, 2, 2, 30))
        time = f"2020-09-{day:02d}T{rng.randrange(24):02d}:{rng.choice((0, 30)):02d}:00+08:00"
        keyed.append((time, rng.choice(("S1", "S2")), rng.choice(("I1", "I2")), n % 3, f"f{n}"))
    assert _number("YH", keyed) == _number_plainly("YH", keyed)
    odd = [("2020-09-02T08:00:00+00:00", "S1", "I9", 0, "odd"), *keyed]
    assert _number("YH", odd) == _number_plainly("YH", odd)
    newline = [("2020-09-02T08:00:00+08:00\n2020-09-02T08:00:00+08:00", "S", "I", 0, "nl")]
    with pytest.raises(ValueError):
        _number("YH", [*keyed, *newline])  # not a time: refused as before, not numbered
    assert _number("YH", []) == {}


def test_shaped_numbers_come_in_the_plain_path_s_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same numbers in the same order (days as first met) as the path for any time."""
    rng = random.Random(1)
    keyed = [
        (f"2020-09-{rng.randrange(1, 29):02d}T10:00:{rng.randrange(60):02d}+08:00", "S", "I", 0,
         f"f{n}")
        for n in range(300)
    ]  # fmt: skip
    fast = list(_number("YH", keyed).items())
    monkeypatch.setattr("inspect_engine.reports.numbering._all_shaped", lambda keyed: False)
    assert fast == list(_number("YH", keyed).items())
