"""A finding: what the rules say about a site, explained, ready for the ledger and the notice.

Produced by :func:`inspect_engine.evaluation.evaluate` (the rules run in
:mod:`inspect_engine.engine`); stored by the ledger as ``model_dump(mode="json")``; shown by the
app and the reports. It pins the pack version it was judged under, names the rule and the answers
that raised it, and carries the consequences in the documents' wording, the rectification
requirement, the deadline date, the responsible party from the site's record, and the basis.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

from inspect_engine.conditions import AnswerValue
from inspect_engine.rulepack import Basis, HazardLevel, Party, Text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConsequenceOut(_Strict):
    """A consequence code with its wording."""

    code: str
    zh: str
    en: str


class Trigger(_Strict):
    """An answer that the rule's condition read, with the question it answered."""

    item_id: str
    question: Text
    value: AnswerValue


class Responsible(_Strict):
    """A responsible party drawn from the site's record (``unit`` empty when not registered)."""

    role: Party
    label: str
    """审批单位 / 主管单位 / 产权人 / 使用人."""
    unit: str = ""
    contact: str = ""


class Finding(_Strict):
    """One finding raised by one rule at one site."""

    rule_id: str
    pack_id: str
    pack_version: str
    title: Text
    level: HazardLevel
    hazard: bool
    consequences: list[ConsequenceOut]
    rectification: Text
    deadline: dt.date
    """The date by which to rectify (the inspection date itself for ``immediately``)."""
    deadline_rule: str
    """How the date was reached: ``immediately``, ``15 calendar days``, ``5 working days``,
    ``end of phase rectify``."""
    responsible: list[Responsible]
    basis: Basis
    triggers: list[Trigger]
    """The answers the rule read, in item order."""
    facts: list[str]
    """Derived facts the rule read (危大, 超危大...)."""
    site_level: bool
    """True when the rule read 'any hazard at this site'."""
