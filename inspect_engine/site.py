"""A site as the engine, the ledger and the app see it: where it is, what it is, who answers.

The register (``sites import``) fills these from CSV or Excel; the engine reads ``site_types``
and ``attributes`` for rules, and ``parties`` to name the responsible party of each finding
(谁审批谁负责、谁主管谁负责、谁拥有谁负责、谁使用谁负责).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

PARTY_LABELS: dict[str, str] = {
    "approver": "审批单位",
    "supervisor": "主管单位",
    "owner": "产权人",
    "user": "使用人",
}
"""Chinese labels of the four responsible parties."""


class Strict(BaseModel):
    """Frozen, unknown keys forbidden."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PartyRecord(Strict):
    """One responsible party of a site: the unit (or person) and how to reach them."""

    unit: Annotated[str, Field(min_length=1, max_length=200)]
    contact: Annotated[str, Field(max_length=200)] = ""


class Parties(Strict):
    """The four responsible parties; any may be unknown at registration."""

    approver: PartyRecord | None = None
    """审批单位: the body that approved (or should have approved) the land use or building."""
    supervisor: PartyRecord | None = None
    """主管单位: the competent department."""
    owner: PartyRecord | None = None
    """产权人/产权单位: the owner."""
    user: PartyRecord | None = None
    """使用人/经营者: the user or operator."""


class Site(Strict):
    """A registered site."""

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    county: Annotated[str, Field(min_length=1, max_length=50)]
    """县区, e.g. ``平定县``."""
    township: Annotated[str, Field(min_length=1, max_length=50)]
    """乡镇/街道."""
    village: Annotated[str, Field(max_length=100)] = ""
    """村/社区."""
    address: Annotated[str, Field(max_length=300)] = ""
    site_types: Annotated[list[str], Field(min_length=1)]
    """Site type ids of the packs (``construction_site``, ``river_section``...)."""
    parties: Parties = Parties()
    attributes: dict[str, bool | float | str] = Field(default_factory=dict)
    """Pack-declared site attributes (``site_attributes`` in pack.yaml)."""
    group: Annotated[str, Field(max_length=50)] = ""
    """帮扶督导组: the supervision group responsible for the site's county."""
    inspector: Annotated[str, Field(max_length=50)] = ""
    """The inspector the site is assigned to."""
