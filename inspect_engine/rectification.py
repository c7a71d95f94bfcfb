"""The rectification loop (整改闭环): statuses, allowed moves, 五落实, overdue, enforcement orders.

::

    待整改 open ─start─► 整改中 in_rectification ─report─► 已整改待复查 reported ─close─► 销号
      └─report (一般 only, 立行立改)──────────────────────────►┘
    已整改待复查 ─reopen (复查不合格, with a reason)─► 整改中
    销号 ─reopen (found not rectified after all, with a reason)─► 整改中

* A **重大** finding needs its 五落实 (责任、措施、资金、时限、预案) recorded before it may move to
  整改中; it therefore always passes through 整改中. A **一般** finding may go straight from 待整改
  to 已整改待复查 (立行立改: fixed on the spot, reported at once).
* **Overdue** (逾期) is not a status: it is derived. A finding that is not 销号 is overdue when the
  clock's date is after its deadline; the deadline is the 五落实 时限 when one is recorded, the
  rule's deadline otherwise.
* Enforcement orders (责令停止使用、停止建设…) are recorded with the date ordered and, after a
  re-inspection, the date lifted with its basis (复查合格 / 审查同意).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from inspect_engine.errors import InputError


class Status(StrEnum):
    """Where a hazard finding is in the loop."""

    OPEN = "open"
    IN_RECTIFICATION = "in_rectification"
    REPORTED = "reported"
    CLOSED = "closed"


STATUS_LABELS: dict[Status, str] = {
    Status.OPEN: "待整改",
    Status.IN_RECTIFICATION: "整改中",
    Status.REPORTED: "已整改待复查",
    Status.CLOSED: "销号",
}
"""Chinese labels of the statuses (the ledger's 整改情况 column)."""

OVERDUE_LABEL = "逾期"
"""Shown beside the status of an overdue finding."""


class Action(StrEnum):
    """A move in the loop (each is one kind of ledger event)."""

    START = "start"
    REPORT = "report"
    CLOSE = "close"
    REOPEN = "reopen"


ACTION_LABELS: dict[Action, str] = {
    Action.START: "开始整改",
    Action.REPORT: "报告已整改",
    Action.CLOSE: "复查合格销号",
    Action.REOPEN: "重新整改",
}

_MOVES: dict[tuple[Status, Action], Status] = {
    (Status.OPEN, Action.START): Status.IN_RECTIFICATION,
    (Status.OPEN, Action.REPORT): Status.REPORTED,
    (Status.IN_RECTIFICATION, Action.REPORT): Status.REPORTED,
    (Status.REPORTED, Action.CLOSE): Status.CLOSED,
    (Status.REPORTED, Action.REOPEN): Status.IN_RECTIFICATION,
    (Status.CLOSED, Action.REOPEN): Status.IN_RECTIFICATION,
}


class TransitionError(InputError):
    """A move the loop does not allow from the finding's current status."""


Text200 = Annotated[str, Field(min_length=1, max_length=200)]
Text2000 = Annotated[str, Field(min_length=1, max_length=2000)]


class FiveImplementations(BaseModel):
    """五落实 of a 重大 hazard: 责任、措施、资金、时限、预案 (domain-standards.md §4.2)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    responsible_person: Text200
    """整改责任人 (and unit): who answers for the rectification."""
    measures: Text2000
    """整改措施, including interim control measures."""
    funds: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    """整改资金 in 万元 (ten thousand yuan)."""
    deadline: dt.date
    """整改时限; once recorded it is the deadline that decides overdue."""
    contingency_plan: Text2000
    """应急预案 / 管控措施 in force until the hazard is removed."""


FIVE_LABELS: dict[str, str] = {
    "responsible_person": "责任人",
    "measures": "措施",
    "funds": "资金（万元）",
    "deadline": "时限",
    "contingency_plan": "预案",
}


def next_status(status: Status, action: Action, *, level: str, has_plan: bool) -> Status:
    """The status after ``action``; :class:`TransitionError` (in Chinese) when not allowed."""
    target = _MOVES.get((status, action))
    if target is None:
        raise TransitionError(
            f"当前状态为“{STATUS_LABELS[status]}”，不能{ACTION_LABELS[action]} "
            f"/ cannot {action.value} a finding that is {status.value}"
        )
    if level == "重大" and target in (Status.IN_RECTIFICATION, Status.REPORTED) and not has_plan:
        raise TransitionError(
            "重大隐患须先落实“五落实”（责任、措施、资金、时限、预案）才能整改 "
            "/ a 重大 hazard needs its five implementations recorded first"
        )
    if level == "重大" and status == Status.OPEN and action == Action.REPORT:
        raise TransitionError(
            "重大隐患须经“整改中”，不能直接报告已整改 / a 重大 hazard must go through rectification"
        )
    return target


def effective_deadline(rule_deadline: dt.date, plan: FiveImplementations | None) -> dt.date:
    """The deadline that decides overdue: the 五落实 时限 if recorded, else the rule's."""
    return plan.deadline if plan is not None else rule_deadline


def is_overdue(status: Status, deadline: dt.date, today: dt.date) -> bool:
    """Not 销号 and past its deadline (the deadline day itself is not overdue)."""
    return status != Status.CLOSED and today > deadline


def status_label(status: Status, overdue: bool) -> str:
    """``整改中`` or ``整改中（逾期）``."""
    label = STATUS_LABELS[status]
    return f"{label}（{OVERDUE_LABEL}）" if overdue else label


ORDER_KINDS: dict[str, str] = {
    "stop_use": "责令停止使用",
    "stop_construction": "责令停止建设",
    "stop_work": "责令停止施工",
    "suspend_business": "责令停业（不得营业）",
    "halt_event": "叫停",
    "evacuate": "撤离人员",
    "seal": "查封",
    # codes of the eleven-prohibitions pack that order an activity to stop
    "stop_violation": "责令停止违法行为",
    "stop_mining": "责令停止开采",
    "suspend_production": "责令限制生产、停产整治",
}
"""Enforcement orders and their Chinese wording (codes shared with the consequence catalogue)."""
