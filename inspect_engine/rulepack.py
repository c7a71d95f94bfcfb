"""The rule-pack format: one strict declaration of every file a pack is made of.

A pack is a folder ``checklists/<pack-id>/`` holding ``pack.yaml`` (:class:`PackManifest`:
provenance, campaign window and phases, reporting rhythm, site types, derived facts, extra
consequence codes, and the ordered list of section files) and one file per section of the source
document (:class:`SectionFile`: its items and its rules, each rule with its pass and fail cases).
The shared consequence vocabulary is ``checklists/consequences.yaml`` (:class:`ConsequenceCatalog`).

Every model is frozen and forbids unknown keys, so a typo in a pack is an error, never a silently
ignored field. Cross-references (an item a rule names, a consequence code, a phase, a cycle in skip
logic) are checked by :mod:`inspect_engine.packs`, which assembles the files into a
:class:`RulePack`. The JSON Schema in ``checklists/schema/`` is generated from these models.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from inspect_engine.conditions import Condition

PACK_FORMAT = 1
"""The format version this code reads (``format:`` in ``pack.yaml``)."""

ItemId = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*(\.[A-Z0-9_]+)+$", max_length=64)]
"""An item's stable id, e.g. ``BS.LAND.01``: never reused for a different question."""
RuleId = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*(\.[A-Z0-9_]+)+$", max_length=64)]
"""A rule's stable id, e.g. ``BS.R.STOP_USE``."""
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
"""A lower-case machine name: site types, facts, phases, consequence codes, choice values."""
PackId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]
Version = Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")]
NonEmpty = Annotated[str, Field(min_length=1, max_length=4000)]

Confidence = Literal["V-law", "V-gov", "V-2", "S-1", "MEM", "DESIGN"]
"""Confidence tags of ``shared/reference/domain-standards.md``. ``MEM`` means unverified."""
HazardLevel = Literal["一般", "重大"]
Party = Literal["approver", "supervisor", "owner", "user"]
"""谁审批 / 谁主管 / 谁拥有 / 谁使用 谁负责: whose record on the site answers for a finding."""
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class Strict(BaseModel):
    """Base of every pack model: frozen, unknown keys forbidden."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Text(Strict):
    """A text in Chinese (shown to users) with its English translation (``--lang en``)."""

    zh: NonEmpty
    en: NonEmpty


# --- basis -------------------------------------------------------------------------------------


class SourceRef(Strict):
    """Where in the pack's source document an item or rule comes from."""

    section: NonEmpty
    """The document's own numbering, e.g. ``二(一)`` or ``五(二)``."""
    quote: str | None = None
    """The document's words this rests on, verbatim, when short enough to quote."""


class LegalRef(Strict):
    """A national law, regulation or standard article behind an item or rule."""

    instrument: NonEmpty
    """The instrument's name, e.g. ``城乡规划法`` or ``建办质〔2018〕31号``."""
    article: str | None = None
    """The article or clause, e.g. ``第六十四条`` or ``附件1 一``."""
    version: str | None = None
    """The version in force, e.g. ``2019`` (see the effective-date caveats of the reference)."""
    confidence: Confidence
    """How the fact was established; ``MEM`` is unverified and shown as such to users."""
    later_law: bool = False
    """True when the instrument post-dates the 2020 campaign: supplementary, not its basis."""
    note: str | None = None

    @property
    def unverified(self) -> bool:
        """Whether users must be told this reference is not confirmed."""
        return self.confidence == "MEM"


class Basis(Strict):
    """The clause of the source document, plus any law or standard article."""

    source: SourceRef
    law: list[LegalRef] = Field(default_factory=list)


# --- answers -----------------------------------------------------------------------------------


class YesNoAnswer(Strict):
    """Answered ``yes``, ``no`` or (when allowed) ``na`` for not applicable."""

    type: Literal["yes_no"]
    allow_na: bool = True


class NumberAnswer(Strict):
    """A measured number with its unit and the range an answer must fall in (inclusive)."""

    type: Literal["number"]
    unit: NonEmpty
    """The unit as shown, e.g. ``m``, ``kN/m²``, ``%``, ``元``."""
    min: float
    max: float
    integer: bool = False

    @model_validator(mode="after")
    def _range(self) -> NumberAnswer:
        if self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        return self


class ChoiceOption(Strict):
    """One option of a choice: a stable value and its label."""

    value: Slug
    label: Text


class ChoiceAnswer(Strict):
    """Exactly one of the options."""

    type: Literal["choice"]
    options: list[ChoiceOption] = Field(min_length=2)


class MultiChoiceAnswer(Strict):
    """Any number of the options (possibly none)."""

    type: Literal["multi_choice"]
    options: list[ChoiceOption] = Field(min_length=2)


class TextAnswer(Strict):
    """Free text, e.g. a name or a description."""

    type: Literal["text"]
    max_length: int = Field(default=2000, ge=1, le=20000)


AnswerSpec = Annotated[
    YesNoAnswer | NumberAnswer | ChoiceAnswer | MultiChoiceAnswer | TextAnswer,
    Field(discriminator="type"),
]


class Evidence(Strict):
    """What evidence the inspector must attach to an answer."""

    kinds: list[Literal["photo", "document", "video"]] = Field(min_length=1)
    when: Literal["always", "on_finding"] = "on_finding"
    """``on_finding``: required only when a rule on this item raises a finding."""


class Item(Strict):
    """One inspection point (检查项): a question the inspector answers at a site."""

    id: ItemId
    question: Text
    answer: AnswerSpec
    applies_to: list[Slug] = Field(min_length=1)
    """Site types this item is asked at (ids from the manifest's ``site_types``)."""
    relevant: Condition | None = None
    """Skip logic: asked only when this holds over the answers given so far."""
    evidence: Evidence | None = None
    basis: Basis
    hint: Text | None = None
    """How to check or measure, shown one key away."""


# --- rules -------------------------------------------------------------------------------------


class Immediately(Strict):
    """Rectify at once: the deadline is the inspection date."""

    kind: Literal["immediately"]


class CalendarDays(Strict):
    """N calendar days after the inspection date."""

    kind: Literal["calendar_days"]
    days: int = Field(ge=1, le=366)


class WorkingDays(Strict):
    """N working days after the inspection date, on the official calendar with make-up workdays."""

    kind: Literal["working_days"]
    days: int = Field(ge=1, le=250)


class PhaseEnd(Strict):
    """The last day of a named campaign phase (from the manifest)."""

    kind: Literal["phase_end"]
    phase: Slug


DeadlineRule = Annotated[
    Immediately | CalendarDays | WorkingDays | PhaseEnd, Field(discriminator="kind")
]


class FindingSpec(Strict):
    """What a rule raises when its condition holds."""

    title: Text
    level: HazardLevel
    consequences: list[Slug] = Field(min_length=1)
    """Consequence codes, in the order they are to be carried out."""
    rectification: Text
    """The rectification requirement (整改要求) handed to the responsible party."""
    deadline: DeadlineRule
    responsible: list[Party] = Field(min_length=1)
    """Who answers for it, first one primary (谁审批/主管/拥有/使用谁负责)."""
    hazard: bool = True
    """Whether the finding is a hazard (隐患) that counts for ``any_hazard`` and the tallies."""


class RuleCase(Strict):
    """A worked example beside its rule: a site and answers, and whether the rule fires.

    ``outcome: fail`` means the site fails this rule (the rule fires: a finding is raised or its
    facts are derived); ``pass`` means it does not fire.
    """

    name: NonEmpty
    outcome: Literal["pass", "fail"]
    site_types: list[Slug] = Field(min_length=1)
    site: dict[Slug, bool | float | str] = Field(default_factory=dict)
    """Site attributes (declared in the manifest's ``site_attributes``)."""
    answers: dict[ItemId, bool | float | str | list[str]] = Field(default_factory=dict)


class Rule(Strict):
    """A condition over a site and its answers that raises a finding and/or derives facts."""

    id: RuleId
    when: Condition
    finding: FindingSpec | None = None
    derive: list[Slug] = Field(default_factory=list)
    """Boolean facts (declared in the manifest) set when the rule fires; later rules read them."""
    supersedes: list[RuleId] = Field(default_factory=list)
    """Rules whose findings this one replaces when both fire (e.g. a 重大 over its 一般 variant)."""
    basis: Basis
    cases: list[RuleCase]

    @model_validator(mode="after")
    def _does_something(self) -> Rule:
        if self.finding is None and not self.derive:
            raise ValueError("a rule needs a 'finding' or 'derive' (or both)")
        outcomes = {case.outcome for case in self.cases}
        if outcomes != {"pass", "fail"}:
            missing = sorted({"pass", "fail"} - outcomes)
            raise ValueError(f"a rule needs at least one pass and one fail case; missing {missing}")
        return self


# --- files -------------------------------------------------------------------------------------


class SectionFile(Strict):
    """One section of the source document: the items it names and the rules on them."""

    id: Slug
    ref: NonEmpty
    """The document's numbering of this section, e.g. ``二(一)``."""
    title: Text
    summary: Text | None = None
    items: list[Item] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)


class Provenance(Strict):
    """Where the pack comes from."""

    doc_number: NonEmpty
    """文号, e.g. ``阳政办发〔2020〕99号``."""
    title: Text
    issuer: NonEmpty
    issued: dt.date
    source_file: NonEmpty
    """The verbatim text in ``shared/sources/``."""


class Phase(Strict):
    """A step of the campaign with its dates (inclusive)."""

    id: Slug
    name: Text
    start: dt.date
    end: dt.date
    source_section: NonEmpty

    @model_validator(mode="after")
    def _ordered(self) -> Phase:
        if self.end < self.start:
            raise ValueError(f"phase ends ({self.end}) before it starts ({self.start})")
        return self


class Milestone(Strict):
    """A dated obligation of the campaign (plans due, summary due...)."""

    id: Slug
    name: Text
    due: dt.date
    source_section: NonEmpty


class Campaign(Strict):
    """The campaign window, its phases and milestones."""

    start: dt.date
    end: dt.date
    phases: list[Phase] = Field(default_factory=list)
    milestones: list[Milestone] = Field(default_factory=list)


class Reporting(Strict):
    """The reporting rhythm: who reports what to whom, and when."""

    weekday: Weekday
    due_time: dt.time
    reporter: Text
    recipient: Text
    per: Literal["county"] = "county"
    focus: Text
    source_section: NonEmpty


class SiteType(Strict):
    """A kind of site the pack inspects."""

    id: Slug
    label: Text


class SiteAttribute(Strict):
    """A fact about a site recorded in its register (not asked at inspection)."""

    id: Slug
    label: Text
    type: Literal["bool", "number", "text"]


class FactDef(Strict):
    """A boolean fact derived by rules (危大, 超危大, 重大火灾隐患...), read by later rules."""

    id: Slug
    label: Text


class ConsequenceDef(Strict):
    """A consequence code with the documents' wording."""

    code: Slug
    zh: NonEmpty
    en: NonEmpty
    source: str | None = None
    """Where the wording comes from."""


class ConsequenceCatalog(Strict):
    """The shared consequence vocabulary (``checklists/consequences.yaml``)."""

    format: Literal[1]
    consequences: list[ConsequenceDef] = Field(min_length=1)


class PackManifest(Strict):
    """``pack.yaml``: the pack's identity and the ordered list of its section files."""

    format: Literal[1]
    id: PackId
    version: Version
    title: Text
    provenance: Provenance
    campaign: Campaign
    reporting: Reporting
    site_types: list[SiteType] = Field(min_length=1)
    site_attributes: list[SiteAttribute] = Field(default_factory=list)
    facts: list[FactDef] = Field(default_factory=list)
    consequences: list[ConsequenceDef] = Field(default_factory=list)
    """Codes this pack adds to the shared vocabulary."""
    sections: list[NonEmpty] = Field(min_length=1)
    """Section files, relative to the pack folder, in the document's order."""


class RulePack(Strict):
    """A loaded, cross-checked pack: what the engine, ledger and app work with."""

    manifest: PackManifest
    sections: list[SectionFile]
    consequences: dict[str, ConsequenceDef]
    """Every code the pack may use: the shared vocabulary plus the pack's own."""
    path: str
    """The folder it was loaded from."""

    @property
    def id(self) -> str:
        """The pack id, e.g. ``building-safety``."""
        return self.manifest.id

    @property
    def version(self) -> str:
        """The pack's own version; findings pin it."""
        return self.manifest.version

    @property
    def items(self) -> list[Item]:
        """All items, in document order."""
        return [item for section in self.sections for item in section.items]

    @property
    def rules(self) -> list[Rule]:
        """All rules, in document order (which is also the order findings are listed in)."""
        return [rule for section in self.sections for rule in section.rules]

    def item(self, item_id: str) -> Item:
        """The item with this id (KeyError if none)."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id (KeyError if none)."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def phase(self, phase_id: str) -> Phase:
        """The campaign phase with this id (KeyError if none)."""
        for phase in self.manifest.campaign.phases:
            if phase.id == phase_id:
                return phase
        raise KeyError(phase_id)
