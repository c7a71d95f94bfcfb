"""``inspect-engine hazards``: the unresolved-hazards list (未销号隐患清单).

Formats: ``text`` (the terminal; a narrower set of columns), ``md``, ``csv`` (UTF-8 with a BOM,
for Excel), ``xlsx`` and ``json`` (``"format": 1``). ``--out FILE`` writes the file atomically,
the format taken from its suffix unless ``--format`` says otherwise; nothing is written when the
command fails. An empty ledger and a county, township or group no site has are input errors
(exit 3); an empty list for a real question is a list with no rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from inspect_engine.cli.ledger_args import clock_from, common_parser, open_ledger
from inspect_engine.cli.output import emit_json, output_format
from inspect_engine.clock import CHINA
from inspect_engine.errors import ExitCode
from inspect_engine.reports import tabular
from inspect_engine.reports.hazards import (
    COLUMNS,
    SORTS,
    TEXT_CLIP,
    TEXT_COLUMN_HELP,
    TEXT_COLUMNS,
    check_filters,
    hazard_list,
)
from inspect_engine.reports.labels import PackLabels
from inspect_engine.reports.outfile import write_out

FORMATS = ("text", "md", "csv", "xlsx", "json")


def register(sub: Any) -> None:
    """Add the ``hazards`` command."""
    p = sub.add_parser(
        "hazards",
        parents=[common_parser()],
        help="the unresolved-hazards list (未销号隐患清单): text, md, csv, xlsx, json",
        description="Hazards not yet 销号, overdue first (most overdue first), then by deadline, "
        "with the ledger columns of 隐患整改台账. The text format shows only "
        f"{TEXT_COLUMN_HELP}; md, csv, xlsx and json carry every column.",
    )
    p.add_argument("--county", help="县区, e.g. 平定县")
    p.add_argument("--township", help="乡镇/街道")
    p.add_argument("--level", choices=["一般", "重大"], help="隐患等级")
    p.add_argument("--group", help="帮扶督导组, as in the site register")
    p.add_argument("--overdue", action="store_true", help="only hazards past their deadline")
    p.add_argument(
        "--sort",
        choices=SORTS,
        default="deadline",
        help="deadline (default): overdue first, then by deadline; county; level (重大 first)",
    )
    p.add_argument(
        "--today",
        metavar="DATE",
        type=dt.date.fromisoformat,
        help="judge overdue on this date, e.g. 2020-09-30 (default: the date of --now, else "
        "the clock)",
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        help="text (default on stdout; columns: " + TEXT_COLUMN_HELP + "), md, csv, xlsx, json; "
        "default from --out's suffix",
    )
    p.add_argument("--out", type=Path, help="write here (atomically) instead of stdout")
    p.set_defaults(handler=cmd_hazards)


def cmd_hazards(args: argparse.Namespace) -> int:
    """Build the list; render it in the format asked; write it to --out or stdout."""
    fmt = output_format(args.format, args.out, FORMATS, "text")
    now = clock_from(args).now()
    today: dt.date = args.today or now.date()
    created = now if args.today is None else dt.datetime.combine(today, dt.time(), CHINA)
    with open_ledger(args, readonly=True) as ledger:
        proj = ledger.projection
        where = str(ledger.data_dir)
        check_filters(proj, where, county=args.county, township=args.township, group=args.group)
        report = hazard_list(
            proj,
            today,
            PackLabels(ledger.data_dir),
            county=args.county,
            township=args.township,
            level=args.level,
            group=args.group,
            overdue_only=args.overdue,
            sort=args.sort,
        )
    if fmt == "json":
        data = {
            "format": 1,
            "report": "hazards",
            "today": today.isoformat(),
            "filters": report.filters,
            "sort": report.sort,
            "count": len(report.lines),
            "overdue": sum(1 for line in report.lines if line.row.overdue),
            "columns": [{"key": c.key, "label": c.label} for c in COLUMNS],
            "rows": report.records(),
        }
        if args.out is None:
            emit_json(data)
            return int(ExitCode.OK)
        body = json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"
        write_out(args.out, body.encode("utf-8"))
    elif fmt == "xlsx":
        sheet = tabular.Sheet("未销号隐患", (report.table(),))
        wb = tabular.build_workbook([sheet], created=created)
        write_out(args.out, tabular.xlsx_bytes(wb, created=created))
    else:
        if fmt == "text":
            out = tabular.render_text([report.table(TEXT_COLUMNS, clip=TEXT_CLIP)]).encode("utf-8")
        elif fmt == "md":
            out = tabular.render_markdown([report.table()], heading_level=1).encode("utf-8")
        else:
            out = tabular.render_csv(report.table())
        if args.out is None:
            sys.stdout.flush()
            sys.stdout.buffer.write(out)
            sys.stdout.flush()
            return int(ExitCode.OK)
        write_out(args.out, out)
    late = sum(1 for line in report.lines if line.row.overdue)
    print(f"{args.out}: {len(report.lines)} hazards, {late} overdue", file=sys.stderr)
    return int(ExitCode.OK)
