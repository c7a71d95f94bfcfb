"""Human numbers for hazards (隐患编号) and rectification notices (整改通知书编号).

Finding and inspection ids are random 32-hex strings: right for machines, useless on paper or on
the phone. The reports print a number derived from the ledger instead, the same every time the
same ledger is read:

* **隐患编号** ``YH-YYYYMMDD-NNN``: the date the inspection was submitted (the finding entered the
  ledger; the date as written by the inspecting device, China time), and the finding's rank among
  every *hazard* finding submitted that day — closed ones included, so closing one never
  renumbers the others — ordered by submission time, site id, inspection id, then the finding's
  place in its inspection (the rules' document order).
* **通知书编号** ``ZG-YYYYMMDD-NNN``: the submission date and the inspection's rank among the
  inspections submitted that day, ordered by submission time, site id and inspection id.

Numbers only change when an inspection submitted *earlier the same day* arrives later by sync
(it then takes its place in the order). Reports therefore print the finding id (or inspection id)
beside the number; the id is the identity, the number is for reading aloud.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from inspect_engine.projection import Projection
from inspect_engine.reports.labels import local_date


def hazard_numbers(proj: Projection) -> dict[str, str]:
    """Finding id → ``YH-YYYYMMDD-NNN`` for every hazard finding (open or closed)."""
    keyed = []
    for f in proj.findings.values():
        if f.status is None:
            continue
        insp = proj.inspections.get(f.inspection_id)
        place = insp.finding_ids.index(f.id) if insp and f.id in insp.finding_ids else 0
        keyed.append((f.raised_at, f.site_id, f.inspection_id, place, f.id))
    return _number("YH", keyed)


def notice_numbers(proj: Projection) -> dict[str, str]:
    """Inspection id → ``ZG-YYYYMMDD-NNN`` for every submitted inspection."""
    keyed = [
        (i.submitted_at, i.site_id, i.id, 0, i.id)
        for i in proj.inspections.values()
        if i.status == "submitted" and i.submitted_at
    ]
    return _number("ZG", keyed)


def _order(key: tuple[str, str, str, int, str]) -> tuple[dt.datetime, str, str, int, str]:
    """Times compared as instants (two devices may write different offsets), then the rest."""
    return (dt.datetime.fromisoformat(key[0]), *key[1:])


def _number(prefix: str, keyed: list[tuple[str, str, str, int, str]]) -> dict[str, str]:
    by_day: dict[str, list[tuple[str, str, str, int, str]]] = defaultdict(list)
    for key in keyed:
        by_day[local_date(key[0]).strftime("%Y%m%d")].append(key)
    out = {}
    for day, keys in by_day.items():
        for n, key in enumerate(sorted(keys, key=_order), start=1):
            out[key[4]] = f"{prefix}-{day}-{n:03d}"
    return out
