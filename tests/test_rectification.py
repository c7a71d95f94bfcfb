"""The rectification loop: moves, 五落实 for 重大, overdue, and its labels."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from inspect_engine.errors import InputError
from inspect_engine.ledger import Ledger
from inspect_engine.rectification import (
    Action,
    FiveImplementations,
    Status,
    TransitionError,
    effective_deadline,
    is_overdue,
    next_status,
    status_label,
)
from tests.reliability import kit

S, A = Status, Action
PLAN = FiveImplementations(
    responsible_person="产权人王五",
    measures="停止使用，加固梁柱",
    funds=12.5,
    deadline=dt.date(2020, 10, 15),
    contingency_plan="撤离人员，设置警戒",
)


@pytest.mark.parametrize(
    ("status", "action", "level", "plan", "expected"),
    [
        (S.OPEN, A.START, "一般", False, S.IN_RECTIFICATION),
        (S.OPEN, A.REPORT, "一般", False, S.REPORTED),  # 立行立改
        (S.IN_RECTIFICATION, A.REPORT, "一般", False, S.REPORTED),
        (S.REPORTED, A.CLOSE, "一般", False, S.CLOSED),
        (S.REPORTED, A.REOPEN, "一般", False, S.IN_RECTIFICATION),
        (S.CLOSED, A.REOPEN, "一般", False, S.IN_RECTIFICATION),
        (S.OPEN, A.START, "重大", True, S.IN_RECTIFICATION),
        (S.IN_RECTIFICATION, A.REPORT, "重大", True, S.REPORTED),
        (S.REPORTED, A.CLOSE, "重大", True, S.CLOSED),
    ],
)
def test_allowed_moves(
    status: Status, action: Action, level: str, plan: bool, expected: Status
) -> None:
    """Every allowed move lands where the loop says."""
    assert next_status(status, action, level=level, has_plan=plan) == expected


@pytest.mark.parametrize(
    ("status", "action", "level", "plan", "words"),
    [
        (S.OPEN, A.CLOSE, "一般", False, "不能复查合格销号"),
        (S.OPEN, A.REOPEN, "一般", False, "不能重新整改"),
        (S.IN_RECTIFICATION, A.CLOSE, "一般", False, "整改中"),
        (S.CLOSED, A.CLOSE, "一般", False, "销号"),
        (S.CLOSED, A.START, "一般", False, "销号"),
        (S.OPEN, A.START, "重大", False, "五落实"),
        (S.OPEN, A.REPORT, "重大", True, "必须经|须经"),
        (S.REPORTED, A.REOPEN, "重大", False, "五落实"),
    ],
)
def test_refused_moves(status: Status, action: Action, level: str, plan: bool, words: str) -> None:
    """Refused moves say why, in Chinese."""
    with pytest.raises(TransitionError, match=words):
        next_status(status, action, level=level, has_plan=plan)


def test_overdue_is_derived() -> None:
    """Overdue after the deadline day, never once 销号; the 五落实 时限 replaces the rule's."""
    day = dt.date(2020, 9, 15)
    assert not is_overdue(S.OPEN, day, day)
    assert is_overdue(S.OPEN, day, day + dt.timedelta(days=1))
    assert is_overdue(S.REPORTED, day, day + dt.timedelta(days=1))
    assert not is_overdue(S.CLOSED, day, day + dt.timedelta(days=99))
    assert effective_deadline(day, None) == day
    assert effective_deadline(day, PLAN) == dt.date(2020, 10, 15)
    assert status_label(S.IN_RECTIFICATION, True) == "整改中（逾期）"
    assert status_label(S.REPORTED, False) == "已整改待复查"


def test_five_implementations_are_all_required() -> None:
    """责任、措施、资金、时限、预案: none may be empty; funds are not negative."""
    good = PLAN.model_dump()
    for field in ("responsible_person", "measures", "contingency_plan"):
        with pytest.raises(ValueError):
            FiveImplementations.model_validate({**good, field: ""})
    with pytest.raises(ValueError):
        FiveImplementations.model_validate({**good, "funds": -1})
    with pytest.raises(ValueError):
        FiveImplementations.model_validate({k: v for k, v in good.items() if k != "deadline"})


def test_the_loop_through_the_ledger(tmp_path: Path) -> None:
    """A 重大 finding: refused without 五落实; then 整改中 → 已整改待复查 → reopened → 销号."""
    with Ledger.open(tmp_path, clock=kit.clock(), actor="张三") as led:
        led.register_sites([kit.site(1)])
        insp = led.start_inspection(
            "S0001",
            pack_id="building-safety",
            pack_version="1.0.0",
            method="明查",
            inspectors=["张三"],
        ).id
        major, minor = led.submit_inspection(
            insp, [kit.finding("R1", level="重大"), kit.finding("R2")]
        )
        with pytest.raises(InputError, match="五落实"):
            led.start_rectification(major.id)
        led.set_plan(major.id, PLAN)
        led.start_rectification(major.id)
        led.report_rectified(major.id, note="已加固")
        led.reopen_finding(major.id, reason="复查发现梁柱仍有裂缝")
        led.report_rectified(major.id, note="再次加固")
        f = led.close_finding(major.id, verifier="专家组")
        assert f.status == S.CLOSED and f.closed_at is not None
        steps = [s.action for s in f.history]
        assert steps == ["raised", "plan", "start", "report", "reopen", "report", "close"]
        assert f.history[4].note == "复查发现梁柱仍有裂缝"
        led.report_rectified(minor.id, note="立行立改")
        with pytest.raises(InputError):
            led.reopen_finding(minor.id, reason="")
        with pytest.raises(InputError, match="closed|销号"):
            led.set_plan(major.id, PLAN)
        reopened = led.reopen_finding(major.id, reason="销号后发现未整改")
        assert reopened.status == S.IN_RECTIFICATION and reopened.closed_at is None


def test_findings_carry_their_enforcement_orders(tmp_path: Path) -> None:
    """Order codes among a finding's consequences become dated orders linked to it; others don't."""
    from inspect_engine.findings import ConsequenceOut

    def with_codes(rule: str, *codes: str) -> object:
        base = kit.finding(rule, level="重大")
        outs = [ConsequenceOut(code=c, zh=c, en=c) for c in codes]
        return base.model_copy(update={"consequences": outs})

    with Ledger.open(tmp_path, clock=kit.clock(), actor="张三") as led:
        led.register_sites([kit.site(1)])
        insp = led.start_inspection(
            "S0001", pack_id="building-safety", pack_version="1.0.0", method="明查",
            inspectors=["张三"],
        ).id  # fmt: skip
        states = led.submit_inspection(
            insp,
            [with_codes("R1", "stop_use", "rectify"), with_codes("R2", "legal_disposal")],  # type: ignore[list-item]
        )
        orders = led.order_for_findings("S0001", states, ordered_on=dt.date(2020, 9, 1))
        assert [(o.kind, o.finding_id) for o in orders] == [("stop_use", states[0].id)]
        assert orders[0].ordered_on == dt.date(2020, 9, 1) and orders[0].lifted_on is None
        assert [o.kind for o in led.site("S0001").orders] == ["stop_use"]
