"""The Friday report's baseline: the same rows in a SQLite file (stdlib), aggregated by SQL.

Scenario 1 compares the ledger's Friday report and unresolved-hazards list, end to end (open,
aggregate, write), with what a plain relational store would take for the same work. This module
makes that store once per generated city (:func:`ensure_db`: one row per site, inspection and
hazard finding, and one per step of each hazard's rectification, copied from the ledger's
projection) and runs the baseline (:func:`friday_sql`): open the file, aggregate per county as
of a cutoff (inspections, hazards found, rectified, open, overdue, the week's figures), list
every hazard not closed at the cutoff with its site, and write both as CSV.

The SQL sees the state *as of the cutoff* the way the ledger's ``projection_as_of`` does: each
hazard's last step at or before the cutoff gives its status and deadline (a window query). It
is a fair opponent, not a straw man: indexes on what it groups and filters by, one connection,
one transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from inspect_engine.ledger import Ledger

SCHEMA = """
CREATE TABLE sites (
    id TEXT PRIMARY KEY, name TEXT, county TEXT, township TEXT, grp TEXT, site_type TEXT,
    inspector TEXT
);
CREATE TABLE inspections (
    id TEXT PRIMARY KEY, site_id TEXT, pack_id TEXT, started_at TEXT, submitted_at TEXT
);
CREATE TABLE findings (
    id TEXT PRIMARY KEY, inspection_id TEXT, site_id TEXT, rule_id TEXT, level TEXT,
    title TEXT, raised_at TEXT
);
CREATE TABLE steps (
    seq INTEGER PRIMARY KEY, finding_id TEXT, time TEXT, status TEXT, deadline TEXT
);
CREATE INDEX steps_by_finding ON steps (finding_id, time);
CREATE INDEX findings_by_site ON findings (site_id);
CREATE INDEX inspections_by_site ON inspections (site_id);
"""


def ensure_db(city: Path, db: Path) -> Path:
    """``db`` holding the rows of the city ledger in ``city``; made once (atomically)."""
    if db.is_file():
        return db
    tmp = db.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    with Ledger.open(city, readonly=True) as ledger:
        proj = ledger.projection
        con = sqlite3.connect(tmp)
        con.executescript(SCHEMA)
        con.executemany(
            "INSERT INTO sites VALUES (?,?,?,?,?,?,?)",
            [
                (
                    s.site.id,
                    s.site.name,
                    s.site.county,
                    s.site.township,
                    s.site.group,
                    s.site.site_types[0],
                    s.site.inspector,
                )
                for s in proj.sites.values()
            ],
        )
        con.executemany(
            "INSERT INTO inspections VALUES (?,?,?,?,?)",
            [
                (i.id, i.site_id, i.pack_id, i.started_at, i.submitted_at)
                for i in proj.inspections.values()
                if i.status == "submitted"
            ],
        )
        hazards = [f for f in proj.findings.values() if f.status is not None]
        con.executemany(
            "INSERT INTO findings VALUES (?,?,?,?,?,?,?)",
            [
                (f.id, f.inspection_id, f.site_id, f.rule_id, f.level, f.title, f.raised_at)
                for f in hazards
            ],
        )
        steps: list[tuple[str, str, str, str]] = []
        for f in hazards:
            deadline = f.rule_deadline
            for step in f.history:  # "raised" (待整改) first, then every move
                if step.action == "plan" and f.plan is not None:
                    deadline = f.plan.deadline
                if step.status is not None:
                    steps.append((f.id, step.time, str(step.status), deadline.isoformat()))
        con.executemany(
            "INSERT INTO steps (finding_id, time, status, deadline) VALUES (?,?,?,?)", steps
        )
        con.commit()
        con.close()
    tmp.replace(db)
    return db


@dataclass(frozen=True)
class SqlFriday:
    """What the baseline produced (for a sanity check against the ledger's report)."""

    counties: int
    hazards_open: int
    unresolved_rows: int


STATE_CTE = """
WITH state AS (
    SELECT finding_id, status, deadline FROM (
        SELECT finding_id, status, deadline,
               ROW_NUMBER() OVER (PARTITION BY finding_id ORDER BY time DESC, seq DESC) AS rn
        FROM steps WHERE time <= :cutoff
    ) WHERE rn = 1
)"""
"""Each finding's latest step at or before the cut-off: its status and deadline then."""

COUNTY_SQL = (
    STATE_CTE
    + """,
f AS (
    SELECT findings.*, sites.county, state.status, state.deadline
    FROM findings JOIN sites ON sites.id = findings.site_id
    JOIN state ON state.finding_id = findings.id
),
i AS (
    SELECT inspections.*, sites.county FROM inspections JOIN sites ON sites.id = inspections.site_id
    WHERE submitted_at <= :cutoff
)
SELECT c.county,
    (SELECT COUNT(*) FROM sites WHERE county = c.county) AS sites,
    (SELECT COUNT(DISTINCT site_id) FROM i WHERE county = c.county) AS sites_inspected,
    (SELECT COUNT(*) FROM i WHERE county = c.county AND submitted_at > :week_start)
        AS inspections_week,
    (SELECT COUNT(*) FROM f WHERE county = c.county) AS hazards,
    (SELECT COUNT(*) FROM f WHERE county = c.county AND level = '重大') AS major,
    (SELECT COUNT(*) FROM f WHERE county = c.county AND raised_at > :week_start) AS hazards_week,
    (SELECT COUNT(*) FROM f WHERE county = c.county AND status = 'closed') AS closed,
    (SELECT COUNT(*) FROM f WHERE county = c.county AND status != 'closed') AS open,
    (SELECT COUNT(*) FROM f WHERE county = c.county AND status != 'closed'
        AND deadline < :today) AS overdue,
    (SELECT COUNT(*) FROM f WHERE county = c.county AND status != 'closed'
        AND level = '重大') AS major_open
FROM (SELECT DISTINCT county FROM sites) AS c ORDER BY c.county
"""
)

UNRESOLVED_SQL = (
    STATE_CTE
    + """
SELECT sites.county, sites.township, sites.id, sites.name, findings.level, findings.title,
       state.status, state.deadline, findings.raised_at,
       CAST(julianday(:today) - julianday(state.deadline) AS INTEGER) AS days_over
FROM findings JOIN state ON state.finding_id = findings.id
JOIN sites ON sites.id = findings.site_id
WHERE state.status != 'closed'
ORDER BY sites.county, findings.level DESC, state.deadline, sites.id
"""
)


def friday_sql(db: Path, cutoff: dt.datetime, out_dir: Path) -> SqlFriday:
    """Open ``db``, aggregate the week ending at ``cutoff``, write two CSV files."""
    params = {
        "cutoff": cutoff.isoformat(),
        "week_start": (cutoff - dt.timedelta(days=7)).isoformat(),
        "today": cutoff.date().isoformat(),
    }
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        cur = con.execute(COUNTY_SQL, params)
        counties = cur.fetchall()
        names = [d[0] for d in cur.description]
        unresolved = con.execute(UNRESOLVED_SQL, params).fetchall()
    finally:
        con.close()
    with (out_dir / "friday.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        w.writerows(counties)
    with (out_dir / "unresolved.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["county", "township", "site", "name", "level", "title", "status", "deadline"])
        w.writerows(unresolved)
    return SqlFriday(
        counties=len(counties),
        hazards_open=sum(int(r[8]) for r in counties),
        unresolved_rows=len(unresolved),
    )
