"""The small fixed ledger the tally and Friday-report tests count by hand.

Times are China Standard Time. Report weeks (cut-off Friday 00:00 = Thursday 24:00):
W1 (08-28, 09-04], W2 (09-04, 09-11], W3 (09-11, 09-18], W4 (09-18, 09-25], W5 (09-25, 10-02].

Sites (registered 09-01):

* S1 平定县 冠山镇, 第四帮扶督导组, types 农村自建房 + 人员密集场所 (two types);
* S2 平定县 娘子关镇, 第四帮扶督导组, 在建工程;
* S3 城区 上站街道, 第一帮扶督导组, 人员密集场所;
* S4 盂县 秀水镇, 第五帮扶督导组, 河段 (the eleven-prohibitions pack);
* S5 城区 义井街道, 第一帮扶督导组, 城市社区房屋 — never inspected.

Findings (F7 is not a hazard and never counts):

==== ==== ======= ======================= ======== =========================================
id   site level   section                 deadline history
==== ==== ======= ======================= ======== =========================================
F1   S1   重大    二(四) existing_building 09-10→  raised 09-02 10:00; 五落实 09-10 (时限 09-30);
                                          09-30    start 09-10; report 09-17; 销号 09-22
F2   S1   一般    二(四)                   09-05    raised 09-02; report 09-03; 销号 09-08
F3   S2   重大    二(二) conversion        09-20    raised 09-09; 五落实 + start 09-25 00:00:01
                                                   (one second after W4's cut-off)
F4   S2   一般    二(二)                   09-12    raised 09-09; report **09-11 00:00:00**
                                                   (exactly W2's cut-off: in W2); reopened
                                                   09-15; report again 09-24
F5   S3   一般    二(四)                   09-18    raised **09-18 00:00:00** (W3's cut-off:
                                                   in W3); report 09-24 23:59
F6   S4   重大    三 groundwater (env)     10-10    raised 09-23
F7   S4   一般    一 (not a hazard)        —        raised 09-23
==== ==== ======= ======================= ======== =========================================

Orders: F1 责令停止使用 + 撤离人员 (ordered 09-02; 停止使用 lifted 09-22), F3 责令停业
(ordered 09-09), F6 责令停止违法行为 (ordered 09-23).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from inspect_engine.clock import CHINA, FixedClock
from inspect_engine.findings import ConsequenceOut, Finding, Responsible
from inspect_engine.ledger import Ledger
from inspect_engine.packs import checklists_root, load_pack
from inspect_engine.rectification import FiveImplementations
from inspect_engine.rulepack import Basis, RulePack, SourceRef, Text
from inspect_engine.site import Parties, PartyRecord, Site

BS = ("building-safety", "1.0.0")
ENV = ("eleven-prohibitions", "1.0.0")


def at(month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0) -> dt.datetime:
    """A time in 2020, China Standard Time."""
    return dt.datetime(2020, month, day, hour, minute, second, tzinfo=CHINA)


def cutoff(month: int, day: int) -> dt.datetime:
    """A Friday report's cut-off: that day 00:00 China time."""
    return at(month, day, 0)


def bundled_packs() -> list[RulePack]:
    """The two campaign packs shipped with the program."""
    root = checklists_root()
    return [load_pack(root / "building-safety"), load_pack(root / "eleven-prohibitions")]


def _site(n: int, county: str, township: str, group: str, types: list[str]) -> Site:
    return Site(
        id=f"S{n}",
        name=f"{township}{n}号",
        county=county,
        township=township,
        site_types=types,
        parties=Parties(owner=PartyRecord(unit=f"业主{n}")),
        group=group,
    )


SITES = [
    _site(1, "平定县", "冠山镇", "第四帮扶督导组", ["rural_self_built_house", "crowded_place"]),
    _site(2, "平定县", "娘子关镇", "第四帮扶督导组", ["construction_site"]),
    _site(3, "城区", "上站街道", "第一帮扶督导组", ["crowded_place"]),
    _site(4, "盂县", "秀水镇", "第五帮扶督导组", ["river_section"]),
    _site(5, "城区", "义井街道", "第一帮扶督导组", ["community_building"]),
]


def _finding(
    pack: tuple[str, str],
    rule_id: str,
    title: str,
    level: str,
    deadline: dt.date,
    consequences: Sequence[tuple[str, str]] = (),
    *,
    hazard: bool = True,
) -> Finding:
    return Finding(
        rule_id=rule_id,
        pack_id=pack[0],
        pack_version=pack[1],
        title=Text(zh=title, en=rule_id),
        level=level,
        hazard=hazard,
        consequences=[ConsequenceOut(code=c, zh=zh, en=c) for c, zh in consequences],
        rectification=Text(zh="限期整改", en="rectify"),
        deadline=deadline,
        deadline_rule="15 calendar days",
        responsible=[Responsible(role="owner", label="产权人", unit="业主")],
        basis=Basis(source=SourceRef(section="二(四)")),
        triggers=[],
        facts=[],
        site_level=False,
    )


def _plan(deadline: dt.date) -> FiveImplementations:
    return FiveImplementations(
        responsible_person="业主1",
        measures="停止使用，加固",
        funds=5,
        deadline=deadline,
        contingency_plan="撤离人员",
    )


def build_ledger(data_dir: Path) -> dict[str, str]:
    """Write the ledger above into ``data_dir``; return ``{"F1": finding id, ...}``."""
    clock = FixedClock(at(9, 1, 9))
    ids: dict[str, str] = {}
    with Ledger.open(data_dir, clock=clock, actor="测试") as led:
        led.register_sites(SITES)

        def inspect(
            site: str, pack: tuple[str, str], when: dt.datetime, *found: Finding
        ) -> list[str]:
            clock.set(when - dt.timedelta(hours=1))
            insp = led.start_inspection(
                site, pack_id=pack[0], pack_version=pack[1], method="open", inspectors=["张三"]
            )
            clock.set(when)
            return [f.id for f in led.submit_inspection(insp.id, list(found))]

        ids["F1"], ids["F2"] = inspect(
            "S1",
            BS,
            at(9, 2),
            _finding(BS, "BS.R.TILT", "房屋倾斜", "重大", dt.date(2020, 9, 10),
                     [("stop_use", "立即停止使用"), ("evacuate", "撤离人员"),
                      ("appraisal", "鉴定")]),
            _finding(BS, "BS.R.AGED_ANOMALY", "老旧房屋异常", "一般", dt.date(2020, 9, 5)),
        )  # fmt: skip
        led.order_for_findings("S1", [led.finding(ids["F1"])], ordered_on=dt.date(2020, 9, 2))
        clock.set(at(9, 3, 15))
        led.report_rectified(ids["F2"], note="已整改")
        clock.set(at(9, 8))
        led.close_finding(ids["F2"], verifier="复查组")

        ids["F3"], ids["F4"] = inspect(
            "S2",
            BS,
            at(9, 9, 11),
            _finding(BS, "BS.R.FIRE_PERMIT", "未取得消防许可擅自营业", "重大", dt.date(2020, 9, 20),
                     [("suspend_business", "责令停业"), ("penalty", "罚款")]),
            _finding(BS, "BS.R.USE_CHANGE_NO_APPRAISAL", "改变用途未鉴定", "一般",
                     dt.date(2020, 9, 12)),
        )  # fmt: skip
        led.order_for_findings("S2", [led.finding(ids["F3"])], ordered_on=dt.date(2020, 9, 9))
        clock.set(at(9, 10))
        led.set_plan(ids["F1"], _plan(dt.date(2020, 9, 30)))
        led.start_rectification(ids["F1"])
        clock.set(cutoff(9, 11))  # exactly Thursday 24:00: W2
        led.report_rectified(ids["F4"])
        clock.set(at(9, 15))
        led.reopen_finding(ids["F4"], reason="复查不合格")
        clock.set(at(9, 17))
        led.report_rectified(ids["F1"])

        (ids["F5"],) = inspect(
            "S3",
            BS,
            cutoff(9, 18),  # raised exactly Thursday 24:00: W3
            _finding(BS, "BS.R.AGED_ANOMALY", "老旧房屋异常", "一般", dt.date(2020, 9, 18)),
        )
        clock.set(at(9, 22))
        led.close_finding(ids["F1"], verifier="复查组")
        stop_use = next(o for o in led.projection.orders.values() if o.kind == "stop_use")
        led.lift_enforcement(stop_use.id, lifted_on=dt.date(2020, 9, 22), basis="复查合格")

        ids["F6"], ids["F7"] = inspect(
            "S4",
            ENV,
            at(9, 23),
            _finding(ENV, "ENV.R.GW_UNLICENSED", "无证取水", "重大", dt.date(2020, 10, 10),
                     [("stop_violation", "责令停止违法行为"), ("penalty", "罚款")]),
            _finding(ENV, "ENV.R.RIVER_BLUE_LINE", "未划定蓝线", "一般", dt.date(2020, 10, 10),
                     hazard=False),
        )  # fmt: skip
        led.order_for_findings("S4", [led.finding(ids["F6"])], ordered_on=dt.date(2020, 9, 23))
        clock.set(at(9, 24))
        led.report_rectified(ids["F4"])
        clock.set(at(9, 24, 23, 59))
        led.report_rectified(ids["F5"])
        clock.set(at(9, 25, 0, 0, 1))  # one second after W4's cut-off
        led.set_plan(ids["F3"], _plan(dt.date(2020, 10, 15)))
        led.start_rectification(ids["F3"])
    return ids
