"""A deterministic, seeded Yangquan campaign at city scale, written through the real ledger.

Run: ``python -m benchmarks.citygen --scale 1.0 --seed 2020 --out DIR`` (``DIR`` becomes the
city's data directory; ``--cache`` instead keeps it under ``.bench-cache/``).

What it makes (scale 1.0; every count scales linearly, ``--scale 0.1`` is a field laptop's
2,000 sites, ``--scale 5`` five times the city):

* **Sites**: 20,000 over the city's counties and townships (:data:`inspect_engine.demo.COUNTIES`,
  one supervision group per county), of the two packs' site types weighted as the campaigns
  met them (:data:`TYPE_WEIGHTS`: about four in five are buildings, rural self-built houses
  first). Ids ``YQ-000001…``; the office (the hub device) registers them in one write.
* **Devices**: 40 inspectors' laptops (fewer below scale 0.25: ``160 × scale``, at least 2).
  Each township belongs to one device; a device inspects only its own sites.
* **Inspections**: 25,000 between 2020-09-01 and 2020-11-30, working hours, September (摸排)
  weighted ×2.5, weekends ×0.4, the National Day week ×0.2. 90 % of the sites get a first
  inspection; the rest are re-inspections (复查) a week or more after a first one.
* **Answers**: every item that applies to the site type, in walk order with skip logic
  (``relevant``), one ``inspection.answered`` event each. Each item's compliant value is read
  off the pack's rules (:class:`AnswerModel`); an inspection is non-compliant with probability
  :data:`P_BAD` = 0.36, and then 1–3 items get a violating value, more until the rules say a
  finding stands; :data:`P_MAJOR` = 0.2 of the non-compliant ones are made to raise a 重大.
  Intended rates (measured by :func:`campaign_stats`, checked by the smoke test): **30–40 %**
  of inspections raise at least one hazard, **5–10 %** a 重大 one.
* **Findings** come from the real engine (:func:`inspect_engine.evaluation.evaluate`, durable-
  rules), are submitted with the inspection, and the orders they carry are recorded
  (:meth:`Ledger.order_for_findings`).
* **Rectification**, each step on the day it happens, up to 2020-11-30:
  一般: 55 % rectified on the spot or within the deadline straight from 待整改, 25 % through
  整改中 within the deadline, 12 % late (overdue, then rectified), 8 % never within the campaign;
  重大: 五落实 plan 1–5 days after the finding (时限 30–75 days), 整改中, 60 % reported within the
  plan's 时限, 20 % late, 20 % still in 整改中 at the end. Every report is verified 2–14 days
  later: 销号, or (8 %) reopened as 复查不合格 and reported again.

Measured at scale 1.0, seed 2020: 33.0 % of inspections with a hazard, 5.8 % with a 重大; 17.2
answers per inspection; 8,936 hazards (65 % 销号, 18 % overdue at the end, 5.5 % reopened once
or more); 3,162 enforcement orders; **522,292 events, 307 MB** of ledger files; 2 min 6 s to
generate on 2 cores (format-2 ledger; 5 min 10 s and a 3.5 GB peak with format 1). The digest
(``c5142439…``) is the same in both file formats: the events are the same.

How it is written (truthfully, and in minutes rather than hours): the office ledger registers the
sites; each device is a real data directory that imports the office's chain, then makes its own
events in one :meth:`Ledger.batch` (every check, hash and chain link the app would make); the
office imports every device's chain with :meth:`Ledger.import_events`, the path sync's import
ends in. Devices run in parallel processes. The ids the ledger draws (uuid4) come from a seeded
generator while this runs, so the same scale and seed give the same events, byte for byte, and
the same :meth:`Ledger.digest`.
"""

from __future__ import annotations

import argparse
import bisect
import concurrent.futures
import contextlib
import datetime as dt
import hashlib
import heapq
import json
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspect_engine.answers import applicable_items, check_answer
from inspect_engine.clock import CHINA, FixedClock
from inspect_engine.conditions import AnswerValue, Condition, Context, Scalar, holds
from inspect_engine.demo import COUNTIES, GROUPS
from inspect_engine.evaluation import evaluate, site_attributes
from inspect_engine.ledger import Ledger
from inspect_engine.packs import checklists_root, load_pack
from inspect_engine.projection import FindingState
from inspect_engine.rectification import FiveImplementations
from inspect_engine.reference_eval import reference_outcome
from inspect_engine.rulepack import (
    ChoiceAnswer,
    Item,
    MultiChoiceAnswer,
    NumberAnswer,
    RulePack,
    YesNoAnswer,
)
from inspect_engine.site import Parties, PartyRecord, Site
from inspect_engine.storage import FORMAT_VERSION

GENERATOR_VERSION = "1"
"""Part of the cache key: bump it whenever a change here changes the events made."""

BASE_SITES = 20_000
BASE_INSPECTIONS = 25_000
MAX_DEVICES = 40
P_BAD = 0.36
"""Probability that an inspection finds something wrong (then 1–3 items are violated)."""
P_MAJOR = 0.2
"""Probability that a non-compliant inspection is one with a 重大 hazard."""
MAX_VIOLATIONS = 8
FIRST_SHARE = 0.9
"""Share of the sites that get a first inspection."""
CAMPAIGN_START = dt.date(2020, 9, 1)
CAMPAIGN_END = dt.date(2020, 11, 30)
END_AT = dt.datetime(2020, 11, 30, 18, 0, tzinfo=CHINA)
OFFICE = "阳泉市安全隐患排查办公室"
CACHE_ROOT = Path(__file__).resolve().parent.parent / ".bench-cache"

TYPE_WEIGHTS: dict[str, float] = {
    # building-safety (阳政办发〔2020〕99号)
    "rural_self_built_house": 44,
    "urban_fringe_building": 8,
    "community_building": 10,
    "crowded_place": 6,
    "renovation_work": 3,
    "construction_site": 3,
    "existing_public_building": 4,
    "gathering_event": 1,
    # eleven-prohibitions (阳政办发〔2020〕109号)
    "river_section": 3,
    "spring_area": 1,
    "wetland": 0.5,
    "mine_site": 1.5,
    "abandoned_mine": 1,
    "concealed_premises": 3,
    "water_well": 2,
    "discharge_enterprise": 2,
    "grazing_area": 1,
    "land_parcel": 1.5,
    "forest_plot": 1.5,
    "retail_market": 2,
    "plastics_maker": 0.3,
    "wildlife_habitat": 0.4,
    "game_trader": 0.3,
    "breeding_farm": 0.3,
}
"""Relative frequency of each site type in the register (types a pack adds later get 1)."""

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐韩冯"
_GIVEN = "建国志强秀英丽华伟明海燕军红文杰桂兰晓东永刚玉梅"
_VILLAGES = ["东村", "西村", "南庄", "北坡", "新村", "河湾", "上庄", "下庄", "后沟", "前岭"]
_METHODS = ["open", "open", "open", "unannounced", "surprise", "random"]


# --------------------------------------------------------------------------- sizes


@dataclass(frozen=True)
class CityPlan:
    """The sizes of one generated campaign."""

    scale: float
    seed: int
    sites: int
    inspections: int
    devices: int

    @classmethod
    def of(cls, scale: float, seed: int) -> CityPlan:
        """The plan at ``scale`` (1.0: the city) with ``seed``."""
        if scale <= 0:
            raise ValueError("scale must be positive")
        devices = MAX_DEVICES if scale >= 0.25 else max(2, round(160 * scale))
        return cls(
            scale=scale,
            seed=seed,
            sites=max(20, round(BASE_SITES * scale)),
            inspections=max(25, round(BASE_INSPECTIONS * scale)),
            devices=devices,
        )

    @property
    def key(self) -> str:
        """The cache key: sizes, seed, generator version and the ledger's file format version."""
        return f"city-s{self.scale:g}-seed{self.seed}-v{GENERATOR_VERSION}-f{FORMAT_VERSION}"


# --------------------------------------------------------------------------- seeded ids


@contextlib.contextmanager
def seeded_ids(seed: str) -> Iterator[None]:
    """Make ``uuid.uuid4`` draw from a generator seeded by ``seed`` inside the block.

    The ledger names devices, events, inspections, findings and orders with uuid4
    (:func:`inspect_engine.events.new_id`); replaying a campaign byte for byte needs those
    drawn from the seed. Only this generator's processes do this, never the product.
    """
    rng = random.Random(seed)
    original = uuid.uuid4

    def fake() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    uuid.uuid4 = fake
    try:
        yield
    finally:
        uuid.uuid4 = original


# --------------------------------------------------------------------------- answers


def _leaves(cond: Condition, positive: bool = True) -> Iterator[tuple[Condition, bool]]:
    """Leaf tests of ``cond`` with their polarity (``False`` under an odd number of ``not``)."""
    if cond.all_ is not None or cond.any_ is not None:
        for child in cond.all_ or cond.any_ or []:
            yield from _leaves(child, positive)
    elif cond.not_ is not None:
        yield from _leaves(cond.not_, not positive)
    else:
        yield cond, positive


@dataclass(frozen=True)
class ItemModel:
    """How one item is answered: its compliant value and the values that violate a rule."""

    compliant: AnswerValue
    minor: tuple[AnswerValue, ...]
    """Values pushing only 一般 rules towards firing."""
    major: tuple[AnswerValue, ...]
    """Values pushing a 重大 rule (or a fact a 重大 rule reads) towards firing."""


def _candidates(item: Item, thresholds: Sequence[float]) -> list[AnswerValue]:
    spec = item.answer
    raw: list[Any]
    if isinstance(spec, YesNoAnswer):
        raw = ["yes", "no", "na"] if spec.allow_na else ["yes", "no"]
    elif isinstance(spec, ChoiceAnswer):
        raw = [o.value for o in spec.options]
    elif isinstance(spec, MultiChoiceAnswer):
        raw = [[], *([o.value] for o in spec.options)]
    elif isinstance(spec, NumberAnswer):
        raw = [spec.min, spec.max]
        for t in thresholds:
            raw += [t - 1, t, t + 1, t - 0.5, t + 0.5]
        raw = [min(max(float(v), spec.min), spec.max) for v in raw]
        raw = [float(round(v)) if spec.integer else v for v in raw]
    else:
        raw = ["现场核查记录"]
    out: list[AnswerValue] = []
    for value in raw:
        try:
            typed = check_answer(item, value)
        except Exception:  # noqa: BLE001 - an invalid candidate is simply not offered
            continue
        if typed not in out:
            out.append(typed)
    return out


class AnswerModel:
    """Per item of a pack: the compliant answer and the violating ones, read off its rules.

    Each rule's condition is split into leaf tests with their polarity; a value *pushes* a rule
    when it makes a positive leaf true or a negated leaf false. The compliant value pushes the
    fewest (ties: the first candidate); values pushing a 重大 rule (or a fact that a 重大 rule
    reads) are *major*, the others that push something are *minor*. This is a heuristic:
    :func:`campaign_stats` measures what the engine really raised.
    """

    def __init__(self, pack: RulePack) -> None:
        self.pack = pack
        readers: dict[str, set[str]] = {}
        for rule in pack.rules:
            level = rule.finding.level if rule.finding is not None else ""
            for fact in rule.when.facts():
                readers.setdefault(fact, set()).add(level)
        leaves: dict[str, list[tuple[Condition, bool, bool]]] = {}
        for rule in pack.rules:
            if rule.finding is not None:
                major = rule.finding.level == "重大"
            else:
                major = any("重大" in readers.get(f, set()) for f in rule.derive)
            for leaf, positive in _leaves(rule.when):
                if leaf.answer is not None and leaf.test[0] != "answered":
                    leaves.setdefault(leaf.answer, []).append((leaf, positive, major))
        self.items: dict[str, ItemModel] = {}
        for item in pack.items:
            mine = leaves.get(item.id, [])
            thresholds = [
                float(v)
                for leaf, _, _ in mine
                for v in (leaf.test[1] if leaf.test[0] == "in" else [leaf.test[1]])
                if isinstance(v, int | float) and not isinstance(v, bool)
            ]
            scored: list[tuple[int, int, AnswerValue]] = []
            for value in _candidates(item, thresholds):
                ctx = Context(answers={item.id: value}, site_types=frozenset())
                pushes_minor = pushes_major = 0
                for leaf, positive, is_major in mine:
                    if holds(leaf, ctx) == positive:
                        pushes_major += is_major
                        pushes_minor += not is_major
                scored.append((pushes_major, pushes_minor, value))
            best = min(scored, key=lambda s: s[0] + s[1])
            base = best[0] + best[1]
            self.items[item.id] = ItemModel(
                compliant=best[2],
                minor=tuple(v for ma, mi, v in scored if ma <= best[0] and ma + mi > base),
                major=tuple(v for ma, mi, v in scored if ma > best[0]),
            )

    def walk(
        self,
        types: frozenset[str],
        attrs: Mapping[str, Scalar],
        overrides: Mapping[str, AnswerValue],
    ) -> dict[str, AnswerValue]:
        """Answers in walk order: each applicable item, its override or its compliant value."""
        answers: dict[str, AnswerValue] = {}
        while True:
            todo = [
                i for i in applicable_items(self.pack, types, answers, attrs) if i.id not in answers
            ]
            if not todo:
                break
            item = todo[0]
            answers[item.id] = overrides.get(item.id, self.items[item.id].compliant)
        applicable = {i.id for i in applicable_items(self.pack, types, answers, attrs)}
        return {k: v for k, v in answers.items() if k in applicable}

    def _raised(
        self, types: frozenset[str], attrs: Mapping[str, Scalar], answers: dict[str, AnswerValue]
    ) -> set[str]:
        """Levels of the hazard findings these answers raise (the plain reading: fast)."""
        outcome = reference_outcome(self.pack, types, answers, attrs)
        levels: set[str] = set()
        for rule_id in outcome.findings:
            spec = self.pack.rule(rule_id).finding
            if spec is not None and spec.hazard:
                levels.add(spec.level)
        return levels

    def inspection(
        self, types: frozenset[str], attrs: Mapping[str, Scalar], rng: random.Random
    ) -> dict[str, AnswerValue]:
        """One inspection's answers: compliant, or (:data:`P_BAD`) with violations.

        A non-compliant inspection is meant to raise a finding, and (:data:`P_MAJOR`) a 重大
        one: violations (1–3 to begin with) are added, one more at a time (at most
        :data:`MAX_VIOLATIONS`), until the plain reading of the rules says it does.
        """
        clean = self.walk(types, attrs, {})
        if rng.random() >= P_BAD:
            return clean
        want_major = rng.random() < P_MAJOR
        overrides: dict[str, AnswerValue] = {}

        def add(major: bool) -> None:
            asked = list(self.walk(types, attrs, overrides))
            pool = [
                i
                for i in asked
                if i not in overrides and (self.items[i].major if major else self.items[i].minor)
            ]
            if pool:
                item_id = rng.choice(pool)
                model = self.items[item_id]
                overrides[item_id] = rng.choice(model.major if major else model.minor)

        kinds = [want_major] + [False] * ((rng.random() < 0.35) + (rng.random() < 0.1))
        for major in kinds:
            add(major)
        answers = self.walk(types, attrs, overrides)
        for _ in range(MAX_VIOLATIONS - len(kinds)):
            levels = self._raised(types, attrs, answers)
            if levels and (not want_major or "重大" in levels):
                break
            add(want_major and "重大" not in levels)
            answers = self.walk(types, attrs, overrides)
        return answers


# --------------------------------------------------------------------------- sites


def load_campaign_packs() -> list[RulePack]:
    """The two campaign packs, as shipped in ``checklists/``."""
    root = checklists_root()
    return [load_pack(root / "building-safety"), load_pack(root / "eleven-prohibitions")]


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))


def _phone(rng: random.Random) -> str:
    return f"13{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}"


def inspector_name(device: int) -> str:
    """The inspector who carries device ``device`` (0-based)."""
    return f"排查员{device + 1:02d}"


def city_sites(plan: CityPlan, packs: Sequence[RulePack]) -> list[Site]:
    """The register: ``plan.sites`` sites, townships dealt round-robin to the devices."""
    rng = random.Random(f"{plan.seed}/sites")
    types = [(t.id, t.label.zh) for p in packs for t in p.manifest.site_types]
    weights = [TYPE_WEIGHTS.get(t, 1.0) for t, _ in types]
    townships = [(c, t) for c in COUNTIES for t in COUNTIES[c]]
    device_of = {tw: n % plan.devices for n, tw in enumerate(townships)}
    # townships weighted by rough population: counties' real shares, streets denser
    tw_weights = [(3.0 if t.endswith("街道") else 1.0) for _, t in townships]
    attrs_of = {"spring_area": "spring_key_zone", "forest_plot": "public_welfare_forest"}
    sites: list[Site] = []
    for n in range(1, plan.sites + 1):
        county, township = rng.choices(townships, tw_weights)[0]
        type_id, type_label = rng.choices(types, weights)[0]
        owner = _person(rng)
        village = "社区" if township.endswith("街道") else rng.choice(_VILLAGES)
        attrs: dict[str, bool | float | str] = {}
        if type_id in attrs_of:
            attrs[attrs_of[type_id]] = rng.random() < 0.3
        sites.append(
            Site(
                id=f"YQ-{n:06d}",
                name=f"{township}{village}{owner}{type_label.split('（')[0]}",
                county=county,
                township=township,
                village=village,
                address=f"阳泉市{county}{township}{village}{rng.randint(1, 300)}号",
                site_types=[type_id],
                parties=Parties(
                    supervisor=PartyRecord(unit=f"{township}人民政府", contact=_phone(rng)),
                    owner=PartyRecord(unit=owner, contact=_phone(rng)),
                    user=PartyRecord(unit=_person(rng), contact=_phone(rng)),
                ),
                group=GROUPS[county],
                inspector=inspector_name(device_of[(county, township)]),
                attributes=attrs,
            )
        )
    return sites


# --------------------------------------------------------------------------- the calendar


def _day_weights() -> tuple[list[dt.date], list[float]]:
    days, weights = [], []
    day = CAMPAIGN_START
    while day <= CAMPAIGN_END:
        w = 2.5 if day.month == 9 else 1.0
        if day.weekday() >= 5:
            w *= 0.4
        if dt.date(2020, 10, 1) <= day <= dt.date(2020, 10, 8):
            w *= 0.2
        days.append(day)
        weights.append(w)
        day += dt.timedelta(days=1)
    return days, weights


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    minute = rng.randint(8 * 60 + 30, 17 * 60)
    return dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=CHINA)


def schedule(plan: CityPlan, sites: Sequence[Site]) -> dict[int, list[tuple[dt.datetime, str]]]:
    """Per device: (start time, site id) of every inspection, in time order."""
    rng = random.Random(f"{plan.seed}/schedule")
    days, weights = _day_weights()
    cum = [sum(weights[: i + 1]) for i in range(len(weights))]
    first_n = min(plan.inspections, round(len(sites) * FIRST_SHARE))
    firsts = rng.sample(range(len(sites)), first_n)
    plan_of: list[tuple[dt.datetime, str]] = []
    first_day: dict[str, dt.date] = {}
    for index in firsts:
        day = days[bisect.bisect_left(cum, rng.random() * cum[-1])]
        plan_of.append((_at(day, rng), sites[index].id))
        first_day[sites[index].id] = day
    visited = sorted(first_day)
    for _ in range(max(0, plan.inspections - first_n)):
        site_id = rng.choice(visited)
        earliest = first_day[site_id] + dt.timedelta(days=7)
        if earliest > CAMPAIGN_END:
            earliest = CAMPAIGN_END
        span = (CAMPAIGN_END - earliest).days
        day = earliest + dt.timedelta(days=rng.randint(0, span))
        plan_of.append((_at(day, rng), site_id))
    devices = {inspector_name(d): d for d in range(plan.devices)}
    device = {s.id: devices[str(s.inspector)] for s in sites}
    out: dict[int, list[tuple[dt.datetime, str]]] = {d: [] for d in range(plan.devices)}
    for at, site_id in plan_of:
        out[device[site_id]].append((at, site_id))
    for work in out.values():
        work.sort()
    return out


# --------------------------------------------------------------------------- one device


@dataclass
class DeviceJob:
    """What one device process needs: where the office's chain is, its work, its seed."""

    device: int
    seed: int
    hub_events: Path
    out: Path
    work: list[tuple[dt.datetime, str]]


@dataclass
class DeviceResult:
    """What one device made."""

    device: int
    events_file: Path
    events: int
    inspections: int
    answers: int
    findings: int
    seconds: float


_Action = tuple[dt.datetime, int, str, tuple[Any, ...]]


class _Device:
    """One laptop's campaign: inspections and the follow-up of what they found, in time order."""

    def __init__(self, ledger: Ledger, clock: FixedClock, seed: int, device: int) -> None:
        self.ledger = ledger
        self.clock = clock
        self.rng = random.Random(f"{seed}/device/{device}")
        self.packs = load_campaign_packs()
        self.models = {p.id: AnswerModel(p) for p in self.packs}
        self.heap: list[_Action] = []
        self.n = 0
        self.now = dt.datetime.combine(CAMPAIGN_START, dt.time(8, 0), tzinfo=CHINA)
        self.inspections = self.answers = self.findings = 0

    def push(self, at: dt.datetime, kind: str, args: tuple[Any, ...]) -> None:
        if at <= END_AT:
            self.n += 1
            heapq.heappush(self.heap, (at, self.n, kind, args))

    def tick(self, at: dt.datetime) -> None:
        """Move the clock to ``at`` (never backwards: a device's events are in time order)."""
        self.now = max(self.now, at)
        self.clock.set(self.now)

    def run(self, work: Sequence[tuple[dt.datetime, str]]) -> None:
        for at, site_id in work:
            self.push(at, "inspect", (site_id,))
        while self.heap:
            at, _, kind, args = heapq.heappop(self.heap)
            self.tick(at)
            if kind == "inspect":
                self.inspect(args[0])
            else:
                self.step(kind, *args)

    def later(self, days_lo: int, days_hi: int, base: dt.datetime | None = None) -> dt.datetime:
        day = (base or self.now).date() + dt.timedelta(days=self.rng.randint(days_lo, days_hi))
        return _at(day, self.rng)

    def inspect(self, site_id: str) -> None:
        led, rng = self.ledger, self.rng
        site = led.projection.sites[site_id].site
        pack = next(
            p for p in self.packs if {t.id for t in p.manifest.site_types} & set(site.site_types)
        )
        attrs = site_attributes(pack, site)
        answers = self.models[pack.id].inspection(frozenset(site.site_types), attrs, rng)
        insp = led.start_inspection(
            site_id,
            pack_id=pack.id,
            pack_version=pack.version,
            method=rng.choice(_METHODS),
            inspectors=[led.actor],
        )
        for item_id, value in answers.items():
            self.tick(self.now + dt.timedelta(seconds=rng.randint(20, 150)))
            led.record_answer(insp.id, item_id, value)
        self.tick(self.now + dt.timedelta(minutes=rng.randint(2, 10)))
        found = evaluate(pack, site, answers, self.now.date())
        states = led.submit_inspection(insp.id, found)
        led.order_for_findings(site_id, states, ordered_on=self.now.date(), issued_by=OFFICE)
        self.inspections += 1
        self.answers += len(answers)
        self.findings += len(states)
        for state in states:
            if state.status is not None:
                self.follow(state)

    def follow(self, f: FindingState) -> None:
        """Decide the finding's fate (see the module docstring) and schedule its first step."""
        u = self.rng.random()
        if f.level == "重大":
            plan_day = self.later(1, 5)
            deadline = plan_day.date() + dt.timedelta(days=self.rng.randint(30, 75))
            if u < 0.6:
                fate = ("on_time", deadline)
            elif u < 0.8:
                fate = ("late", deadline)
            else:
                fate = ("stuck", deadline)
            self.push(plan_day, "plan", (f.id, fate))
            return
        deadline = f.rule_deadline
        if u < 0.55:
            self.push(self.report_time(deadline, on_time=True), "report", (f.id,))
        elif u < 0.80:
            self.push(self.later(0, 3), "start", (f.id, ("on_time", deadline)))
        elif u < 0.92:
            self.push(self.report_time(deadline, on_time=False), "report", (f.id,))

    def report_time(self, deadline: dt.date, *, on_time: bool) -> dt.datetime:
        today = self.now.date()
        if on_time:
            day = today + dt.timedelta(days=self.rng.randint(0, max(0, (deadline - today).days)))
            return max(_at(day, self.rng), self.now + dt.timedelta(hours=1))
        return _at(deadline + dt.timedelta(days=self.rng.randint(3, 25)), self.rng)

    def step(self, kind: str, finding_id: str, *rest: Any) -> None:
        led, rng = self.ledger, self.rng
        if kind == "plan":
            fate, deadline = rest[0]
            led.set_plan(
                finding_id,
                FiveImplementations(
                    responsible_person=_person(rng) + "（产权人）",
                    measures="立即停止使用，疏散人员，委托有资质单位鉴定后加固",
                    funds=rng.randint(1, 80) / 2,
                    deadline=deadline,
                    contingency_plan="设置警戒区，专人看护，每日巡查",
                ),
            )
            led.start_rectification(finding_id, note="五落实已明确")
            if fate == "stuck":
                return
            self.push(
                self.report_time(deadline, on_time=fate == "on_time"), "report", (finding_id,)
            )
        elif kind == "start":
            led.start_rectification(finding_id, note="已下达整改通知书")
            _, deadline = rest[0]
            self.push(self.report_time(deadline, on_time=True), "report", (finding_id,))
        elif kind == "report":
            led.report_rectified(finding_id, note="已按要求整改完毕")
            self.push(self.later(2, 14), "verify", (finding_id,))
        elif kind == "verify":
            if rng.random() < 0.08:
                led.reopen_finding(finding_id, reason="复查不合格：整改不到位")
                self.push(self.later(5, 20), "report", (finding_id,))
            else:
                led.close_finding(finding_id, verifier=f"复查组{rng.randint(1, 5)}")


def run_device(job: DeviceJob) -> DeviceResult:
    """One device's whole campaign in a fresh data directory; its chain written as JSON lines."""
    t0 = time.perf_counter()
    start = dt.datetime.combine(CAMPAIGN_START, dt.time(8, 0), tzinfo=CHINA)
    clock = FixedClock(start)
    hub = [json.loads(line) for line in job.hub_events.read_bytes().splitlines()]
    with (
        seeded_ids(f"{job.seed}/ids/{job.device}"),
        tempfile.TemporaryDirectory(prefix=f"citygen-dev{job.device}-") as tmp,
        Ledger.open(Path(tmp), clock=clock, actor=inspector_name(job.device)) as ledger,
    ):
        ledger.import_events(hub)
        device = _Device(ledger, clock, job.seed, job.device)
        with ledger.batch():
            device.run(job.work)
        assert ledger.device_id is not None
        mine = ledger.events_since(ledger.device_id, 0)
        path = job.out / f"device-{job.device:02d}.jsonl"
        path.write_bytes(b"".join(_jsonl(e.to_doc()) for e in mine))
    return DeviceResult(
        device=job.device,
        events_file=path,
        events=len(mine),
        inspections=device.inspections,
        answers=device.answers,
        findings=device.findings,
        seconds=time.perf_counter() - t0,
    )


def _read_events(files: Sequence[Path]) -> Iterator[dict[str, Any]]:
    """The event documents of ``files`` one at a time (never every device's at once: at scale 5
    they would be millions of dicts beside the ledger's own copy)."""
    for path in files:
        with path.open("rb") as fh:
            for line in fh:
                yield json.loads(line)


def _jsonl(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


# --------------------------------------------------------------------------- the city


@dataclass
class CityReport:
    """What :func:`generate` made and how long it took."""

    plan: CityPlan
    data_dir: Path
    events: int = 0
    ledger_mb: float = 0.0
    digest: str = ""
    seconds: float = 0.0
    inspections: int = 0
    answers: int = 0
    findings: int = 0
    cached: bool = False
    stats: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "scale": self.plan.scale,
            "seed": self.plan.seed,
            "sites": self.plan.sites,
            "devices": self.plan.devices,
            "data_dir": str(self.data_dir),
            "events": self.events,
            "ledger_mb": round(self.ledger_mb, 1),
            "digest": self.digest,
            "generate_s": round(self.seconds, 1),
            "inspections": self.inspections,
            "answers": self.answers,
            "findings": self.findings,
            "cached": self.cached,
            "stats": self.stats,
        }


def generate(
    out: Path, scale: float, seed: int, *, workers: int | None = None, log: bool = True
) -> CityReport:
    """Generate the campaign into the empty data directory ``out`` (see the module docstring)."""
    t0 = time.perf_counter()
    plan = CityPlan.of(scale, seed)
    packs = load_campaign_packs()
    sites = city_sites(plan, packs)
    work = schedule(plan, sites)
    clock = FixedClock(dt.datetime(2020, 8, 28, 9, 0, tzinfo=CHINA))
    report = CityReport(plan=plan, data_dir=out)
    with tempfile.TemporaryDirectory(prefix="citygen-") as tmp:
        staging = Path(tmp)
        with seeded_ids(f"{seed}/ids/office"):
            with Ledger.open(out, clock=clock, actor=OFFICE) as office:
                office.register_sites(sites)
                hub_events = staging / "office.jsonl"
                hub_events.write_bytes(b"".join(_jsonl(e.to_doc()) for e in office.events()))
        jobs = [DeviceJob(d, seed, hub_events, staging, work[d]) for d in range(plan.devices)]
        if workers is None:  # a tiny campaign is quicker here than in fresh processes
            workers = 1 if plan.inspections < 1000 else (os.cpu_count() or 1)
        results: list[DeviceResult] = []
        with contextlib.ExitStack() as stack:
            if workers > 1:
                ctx = multiprocessing.get_context("spawn")  # durable-rules runs threads: no fork
                pool = stack.enter_context(
                    concurrent.futures.ProcessPoolExecutor(min(workers, len(jobs)), mp_context=ctx)
                )
                done: Iterator[DeviceResult] = pool.map(run_device, jobs)
            else:
                done = map(run_device, jobs)
            for result in done:
                results.append(result)
                if log:
                    print(
                        f"  device {result.device + 1:2d}: {result.inspections} inspections, "
                        f"{result.events} events, {result.seconds:.1f} s",
                        file=sys.stderr,
                    )
        with Ledger.open(out, clock=clock, actor=OFFICE) as office:
            office.import_events(_read_events([r.events_file for r in results]))
            report.events = len(office.events())
            report.digest = office.digest()
            report.stats = campaign_stats(office)
    report.inspections = sum(r.inspections for r in results)
    report.answers = sum(r.answers for r in results)
    report.findings = sum(r.findings for r in results)
    report.ledger_mb = data_mb(out)
    report.seconds = time.perf_counter() - t0
    return report


def data_mb(data_dir: Path) -> float:
    """Megabytes of a data directory's files (``ledger.db``, its sealed segments, the rest)."""
    return sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file()) / 1e6


def campaign_stats(ledger: Ledger) -> dict[str, float]:
    """The rates the campaign came out with (for the docstring's promises and the smoke test)."""
    proj = ledger.projection
    submitted = [i for i in proj.inspections.values() if i.status == "submitted"]
    findings = proj.findings
    with_any = with_major = 0
    for insp in submitted:
        levels = {findings[f].level for f in insp.finding_ids if findings[f].hazard}
        with_any += bool(levels)
        with_major += "重大" in levels
    hazards = [f for f in findings.values() if f.status is not None]
    today = END_AT.date()
    n = max(1, len(submitted))
    h = max(1, len(hazards))

    def due(f: FindingState) -> dt.date:
        return f.plan.deadline if f.plan is not None else f.rule_deadline

    return {
        "inspections": float(len(submitted)),
        "with_finding": with_any / n,
        "with_major": with_major / n,
        "answers_per_inspection": sum(len(i.answers) for i in submitted) / n,
        "hazards": float(len(hazards)),
        "closed": sum(f.status == "closed" for f in hazards) / h,
        "overdue_at_end": sum(f.status != "closed" and due(f) < today for f in hazards) / h,
        "reopened": sum(any(s.action == "reopen" for s in f.history) for f in hazards) / h,
        "orders": float(len(proj.orders)),
    }


def event_digest(data_dir: Path) -> str:
    """SHA-256 of the ledger's events in stored order (the determinism check's figure)."""
    with Ledger.open(data_dir, readonly=True) as ledger:
        h = hashlib.sha256()
        for event in ledger.events():
            h.update(event.hash.encode())
        return h.hexdigest()


def cached_city(
    scale: float,
    seed: int,
    *,
    cache: Path = CACHE_ROOT,
    log: bool = True,
    workers: int | None = None,
) -> CityReport:
    """The city ledger for (scale, seed, generator version), generated once into ``cache``.

    A finished generation leaves ``report.json`` beside the data directory; anything else
    found there (a generation killed halfway) is thrown away and made again.
    """
    plan = CityPlan.of(scale, seed)
    home = cache / plan.key
    data = home / "data"
    marker = home / "report.json"
    if marker.is_file():
        saved = json.loads(marker.read_text(encoding="utf-8"))
        rep = CityReport(plan=plan, data_dir=data, cached=True)
        rep.events, rep.ledger_mb, rep.digest = saved["events"], saved["ledger_mb"], saved["digest"]
        rep.seconds, rep.stats = saved["generate_s"], saved["stats"]
        rep.inspections, rep.answers = saved["inspections"], saved["answers"]
        rep.findings = saved["findings"]
        return rep
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    if log:
        print(f"generating {plan.key} (once; cached in {home})", file=sys.stderr)
    rep = generate(data, scale, seed, log=log, workers=workers)
    marker.write_text(json.dumps(rep.as_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    return rep


def main(argv: list[str] | None = None) -> None:
    """Generate (``--out``) or fetch from the cache (``--cache``) and print the totals."""
    parser = argparse.ArgumentParser(prog="benchmarks.citygen", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--workers", type=int, default=None, help="device processes at once")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="an empty or new directory for the ledger")
    where.add_argument("--cache", action="store_true", help="use .bench-cache/ (reuse if there)")
    args = parser.parse_args(argv)
    if args.out is not None:
        if args.out.exists() and any(args.out.iterdir()):
            parser.error(f"{args.out} is not empty")
        rep = generate(args.out, args.scale, args.seed, workers=args.workers)
    else:
        rep = cached_city(args.scale, args.seed, workers=args.workers)
    d = rep.as_dict()
    print(json.dumps(d, ensure_ascii=False, indent=1))
    print(
        f"{d['sites']} sites, {d['inspections']} inspections, {d['events']} events "
        f"({d['ledger_mb']} MB) in {d['generate_s']} s; digest {d['digest'][:16]}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
