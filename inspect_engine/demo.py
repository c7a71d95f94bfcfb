"""Demo and benchmark data: a deterministic register of realistic Yangquan sites.

Every generated site is marked as demo data (its id starts with ``DEMO-`` and its name with
``【演示】``), so it can never be mistaken for a real register. The counties and townships come
from ``shared/reference/yangquan.md``; site types come from the packs given, so the register fits
whatever packs are installed. The same seed always gives the same sites.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from inspect_engine.rulepack import RulePack
from inspect_engine.site import Parties, PartyRecord, Site

DEMO_PREFIX = "DEMO-"
DEMO_MARK = "【演示】"

COUNTIES: dict[str, list[str]] = {
    "城区": ["上站街道", "下站街道", "北大街街道", "南山路街道", "义井街道", "德胜街道"],
    "矿区": ["平潭街街道", "桥头街道", "赛鱼街道", "蔡洼街道", "沙坪街道", "贵石沟街道"],
    "郊区": ["荫营镇", "河底镇", "平坦镇", "旧街乡", "西南舁乡", "李家庄乡"],
    "平定县": [
        "冠山镇", "冶西镇", "锁簧镇", "张庄镇", "东回镇", "柏井镇", "娘子关镇", "巨城镇",
        "石门口乡", "岔口乡",
    ],
    "盂县": [
        "秀水镇", "孙家庄镇", "路家村镇", "南娄镇", "牛村镇", "苌池镇", "上社镇", "西烟镇",
        "仙人乡", "北下庄乡", "梁家寨乡", "西潘乡", "东梁乡",
    ],
    "高新区": ["开发区街道"],
}  # fmt: skip
"""County/district -> townships. Street names of 城区/矿区 are generic demo names."""

GROUPS = {
    "城区": "第一帮扶督导组",
    "矿区": "第二帮扶督导组",
    "郊区": "第三帮扶督导组",
    "平定县": "第四帮扶督导组",
    "盂县": "第五帮扶督导组",
    "高新区": "第一帮扶督导组",
}
"""One supervision group per county (the plan does not say how they were assigned)."""

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐韩冯"
_GIVEN = "建国志强秀英丽华伟明海燕军红文杰桂兰晓东永刚玉梅"
_VILLAGES = ["东村", "西村", "南庄", "北坡", "新村", "河湾", "上庄", "下庄", "后沟", "前岭"]
_ROADS = ["桃北路", "南大街", "德胜街", "义井路", "新华路", "泉中路", "开发路", "矿区路"]
_KIND_NAMES = {
    "house": ["自建房", "农房", "民居"],
    "site": ["项目工地", "安置房工程", "商住楼工程"],
    "shop": ["商店", "超市", "农贸市场"],
    "river": ["河段", "沟道"],
    "default": ["场所", "单位"],
}
INSPECTORS = [f"排查员{n:02d}" for n in range(1, 21)]


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))


def _phone(rng: random.Random) -> str:
    return f"13{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}"


def _kind_word(label: str) -> str:
    for key, words in _KIND_NAMES.items():
        if key in label:
            return words[0]
    return label


def demo_sites(packs: Sequence[RulePack], count: int, seed: int = 2020) -> list[Site]:
    """``count`` demo sites spread over the counties, each of one site type from ``packs``."""
    rng = random.Random(seed)
    types = [(t.id, t.label.zh) for pack in packs for t in pack.manifest.site_types]
    if not types:
        raise ValueError("demo sites need at least one pack with site types")
    counties = list(COUNTIES)
    sites = []
    for n in range(1, count + 1):
        county = counties[(n - 1) % len(counties)] if n <= len(counties) else rng.choice(counties)
        township = rng.choice(COUNTIES[county])
        village = rng.choice(_VILLAGES) if not township.endswith("街道") else "社区"
        type_id, type_label = types[(n - 1) % len(types)]
        owner = _person(rng)
        address = (
            f"阳泉市{county}{township}{rng.choice(_ROADS)}{rng.randint(1, 300)}号"
            if township.endswith("街道")
            else f"阳泉市{county}{township}{village}{rng.randint(1, 120)}号"
        )
        sites.append(
            Site(
                id=f"{DEMO_PREFIX}{n:05d}",
                name=f"{DEMO_MARK}{township}{owner}{_kind_word(type_label)}",
                county=county,
                township=township,
                village=village,
                address=address,
                site_types=[type_id],
                parties=Parties(
                    approver=PartyRecord(unit=f"{county}自然资源局", contact=_phone(rng)),
                    supervisor=PartyRecord(unit=f"{township}人民政府", contact=_phone(rng)),
                    owner=PartyRecord(unit=owner, contact=_phone(rng)),
                    user=PartyRecord(unit=_person(rng), contact=_phone(rng)),
                ),
                group=GROUPS[county],
                inspector=INSPECTORS[(n - 1) % len(INSPECTORS)],
            )
        )
    return sites
