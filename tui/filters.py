"""Filtering the site list: county, township, site type, status and a search over name and address.

Plain Python so the screen, the tests and the benchmark share it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tui.backend import SiteRow

STATUS_FILTERS: tuple[str, ...] = ("new", "open", "overdue")
"""not yet inspected; with open findings (overdue included); with overdue findings."""


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
        if self.status == "new" and row.status != "new":
            return False
        if self.status == "open" and row.status not in ("open", "overdue"):
            return False
        if self.status == "overdue" and row.status != "overdue":
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
