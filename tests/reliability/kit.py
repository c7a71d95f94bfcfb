"""Shared test material for the ledger tests: sites, findings, a clock, state snapshots.

Also imported by the crash-test child (``child_writer.py``) and ``scripts/crash_loop.py``, so it
depends on nothing but ``inspect_engine``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from inspect_engine.clock import CHINA, FixedClock
from inspect_engine.findings import Finding, Responsible
from inspect_engine.ledger import Ledger
from inspect_engine.rulepack import Basis, SourceRef, Text
from inspect_engine.site import Parties, PartyRecord, Site

__all__ = [
    "CHINA",
    "COUNTIES",
    "T0",
    "FixedClock",
    "Ledger",
    "clock",
    "files_digest",
    "finding",
    "logical_state",
    "site",
]

T0 = dt.datetime(2020, 9, 1, 9, 0, tzinfo=CHINA)
"""A morning inside the 2020 campaign."""

COUNTIES = [
    ("平定县", "冠山镇"),
    ("盂县", "秀水镇"),
    ("郊区", "荫营镇"),
    ("城区", "北大街街道"),
    ("矿区", "沙坪街道"),
]


def clock(at: dt.datetime = T0) -> FixedClock:
    """A fixed clock at ``at`` (default :data:`T0`)."""
    return FixedClock(at)


def site(n: int, *, county: int | None = None, types: tuple[str, ...] = ("self_built",)) -> Site:
    """Site ``S<n>`` in one of the Yangquan counties."""
    c, t = COUNTIES[(n if county is None else county) % len(COUNTIES)]
    return Site(
        id=f"S{n:04d}",
        name=f"第{n}号自建房",
        county=c,
        township=t,
        village=f"{n % 7}村",
        address=f"{c}{t}{n}号",
        site_types=list(types),
        parties=Parties(owner=PartyRecord(unit=f"业主{n}", contact="13800000000")),
        group=f"第{(n % 5) + 1}督导组",
        inspector="张三" if n % 2 else "李四",
    )


def finding(
    rule: str = "R1",
    *,
    level: str = "一般",
    deadline: dt.date = dt.date(2020, 9, 15),
    hazard: bool = True,
    pack: tuple[str, str] = ("building-safety", "1.0.0"),
) -> Finding:
    """A fixed finding as the engine would produce it."""
    return Finding(
        rule_id=rule,
        pack_id=pack[0],
        pack_version=pack[1],
        title=Text(zh=f"隐患{rule}", en=f"hazard {rule}"),
        level=level,
        hazard=hazard,
        consequences=[],
        rectification=Text(zh="限期整改", en="rectify"),
        deadline=deadline,
        deadline_rule="15 calendar days",
        responsible=[Responsible(role="owner", label="产权人", unit="业主", contact="")],
        basis=Basis(source=SourceRef(section="五(二)")),
        triggers=[],
        facts=[],
        site_level=False,
    )


def files_digest(data_dir: Path) -> dict[str, str]:
    """SHA-256 of each ledger file present, sealed segments included (to prove nothing was
    changed)."""
    out = {}
    names = ["ledger.db", "journal.db"]
    names += sorted(f"segments/{p.name}" for p in (data_dir / "segments").glob("*"))
    for name in names:
        path = data_dir / name
        if path.exists():
            out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def logical_state(ledger: Ledger) -> tuple[tuple[str, ...], str]:
    """The set of events (ids, in stored order) and the projection digest."""
    return tuple(e.event_id for e in ledger.events()), ledger.projection.digest()
