"""Filtering the site list: county, township, site type, status and a search over name and address.

The screen fetches the list from the ledger once and filters it here as the inspector types: a
keystroke never waits for the ledger (which a save in progress may hold). Plain Python, so the
screen, the tests and the benchmark share it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tui.backend import SiteRow

STATUS_FILTERS: tuple[str, ...] = ("not_inspected", "in_progress", "open_findings", "overdue")
"""Not yet inspected; being inspected; with open findings (overdue included); with overdue
findings - the ledger's meanings (``inspect_engine.queries.list_sites``)."""


@dataclass(frozen=True)
class SiteFilter:
    """What the inspector narrowed the list to; empty fields match everything."""

    county: str = ""
    township: str = ""
    site_type: str = ""
    status: str = ""
    search: str = ""

    def matches(self, row: SiteRow) -> bool:
        """Whether ``row`` passes every filter."""
        site = row.site
        if self.county and site.county != self.county:
            return False
        if self.township and site.township != self.township:
            return False
        if self.site_type and self.site_type not in site.site_types:
            return False
        if self.status == "open_findings":
            if row.status not in ("open_findings", "overdue"):
                return False
        elif self.status and row.status != self.status:
            return False
        if self.search:
            needle = self.search.casefold()
            hay = f"{site.name}\n{site.address}\n{site.id}".casefold()
            if not all(word in hay for word in needle.split()):
                return False
        return True


def apply(rows: Iterable[SiteRow], flt: SiteFilter) -> list[SiteRow]:
    """The rows that pass ``flt``, in their order."""
    return [r for r in rows if flt.matches(r)]
