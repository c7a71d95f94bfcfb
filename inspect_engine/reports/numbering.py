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

from inspect_engine.asof import CHINA_TIME_TEXT, all_in_devices_shape
from inspect_engine.projection import Projection
from inspect_engine.reports.labels import local_date


def hazard_numbers(proj: Projection) -> dict[str, str]:
    """Finding id → ``YH-YYYYMMDD-NNN`` for every hazard finding (open or closed)."""
    inspections = proj.inspections
    keyed = []
    for f in proj.findings.values():
        if f.status is None:
            continue
        fid = f.id
        insp = inspections.get(f.inspection_id)
        place = 0
        if insp is not None:
            ids = insp.finding_ids
            if ids and ids[0] != fid and fid in ids:  # most are their inspection's first
                place = ids.index(fid)
        keyed.append((f.raised_at, f.site_id, f.inspection_id, place, fid))
    return _number("YH", keyed)


def notice_numbers(proj: Projection) -> dict[str, str]:
    """Inspection id → ``ZG-YYYYMMDD-NNN`` for every submitted inspection."""
    keyed = [
        (i.submitted_at, i.site_id, i.id, 0, i.id)
        for i in proj.inspections.values()
        if i.status == "submitted" and i.submitted_at
    ]
    return _number("ZG", keyed)


_Key = tuple[str, str, str, int, str]
"""(time as written, site id, inspection id, place in the inspection, id numbered)."""


def _number(prefix: str, keyed: list[_Key]) -> dict[str, str]:
    """Number each key within its day (the date of its time as written), in the order of its
    time compared as an instant (two devices may write different offsets), then the rest."""
    if _all_shaped(keyed):
        return _number_shaped(prefix, keyed)
    by_day: dict[str, list[_Key]] = {}
    plain: dict[str, bool] = {}  # day → every time of it in the devices' shape
    for key in keyed:
        time = key[0]
        # the devices' shape carries its date as written; strftime would not pad a year < 1000
        shaped = CHINA_TIME_TEXT.fullmatch(time) is not None and time[0] != "0"
        if shaped:
            day = time[0:4] + time[5:7] + time[8:10]
        else:
            day = local_date(time).strftime("%Y%m%d")
        keys = by_day.get(day)
        if keys is None:
            by_day[day], plain[day] = [key], shaped
        else:
            keys.append(key)
            plain[day] = plain[day] and shaped
    out = {}
    for day, keys in by_day.items():
        # texts all in the devices' shape sort as their times do: compared as they are
        ordered = sorted(keys) if plain[day] else sorted(keys, key=_instant_first)
        for n, key in enumerate(ordered, start=1):
            out[key[4]] = f"{prefix}-{day}-{n:03d}"
    return out


def _all_shaped(keyed: list[_Key]) -> bool:
    """Whether every key's time is in the devices' shape, a year ≥ 1000 (one match of them all,
    as every time of a city ledger is)."""
    times = [key[0] for key in keyed]
    return bool(times) and all_in_devices_shape(times) and not any(time[0] == "0" for time in times)


_SEQ = [f"{n:03d}" for n in range(1000)]
"""``NNN`` of the numbers up to 999 (a day's count; more are formatted when met)."""


def _number_shaped(prefix: str, keyed: list[_Key]) -> dict[str, str]:
    """:func:`_number` when every time is in the devices' shape: the day is the date as written
    (its first ten characters) and the keys of a day sort as they are."""
    by_day: dict[str, list[_Key]] = {}
    for key in keyed:
        day = key[0][:10]
        keys = by_day.get(day)
        if keys is None:
            by_day[day] = [key]
        else:
            keys.append(key)
    out = {}
    seq = _SEQ
    for day, keys in by_day.items():
        keys.sort()
        head = f"{prefix}-{day[0:4]}{day[5:7]}{day[8:10]}-"
        for n, key in enumerate(keys, start=1):
            out[key[4]] = head + (seq[n] if n < 1000 else str(n))
    return out


def _instant_first(key: _Key) -> tuple[dt.datetime, str, str, int, str]:
    """The key with its time as an instant."""
    return (dt.datetime.fromisoformat(key[0]), *key[1:])
