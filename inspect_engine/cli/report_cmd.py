"""``inspect-engine report friday|tallies``: the Friday progress report and the campaign tallies.

Both read the ledger read-only, as of a cut-off (default: the latest Friday report's, Thursday
24:00 China time, on the clock or ``--now``), so the same ledger and cut-off give the same bytes.
``--out FILE`` writes atomically (temp file beside it, ``fsync``, rename), the format taken from
its suffix unless ``--format`` says otherwise; nothing is written when the command fails. An empty
ledger, an unknown county, group or pack, and a week outside the campaign are input errors
(exit 3). Progress goes to stderr (``--quiet`` silences it). Contract: docs/reports.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, cast

from inspect_engine.cli.ledger_args import clock_from, common_parser, open_ledger
from inspect_engine.cli.output import Progress, output_format
from inspect_engine.clock import CHINA
from inspect_engine.datadir import resolve_data_dir
from inspect_engine.errors import ExitCode, PackError, UsageError
from inspect_engine.packs import load_pack, pack_sources
from inspect_engine.reports.friday import FORMATS, Format, build_friday, write_friday
from inspect_engine.reports.outfile import write_out
from inspect_engine.reports.tabular import (
    Sheet,
    render_csv,
    render_markdown,
    render_text,
    write_xlsx,
)
from inspect_engine.reports.tallies import (
    DIMENSIONS,
    PackIndex,
    Scope,
    check_scope,
    projection_at,
    tally,
)
from inspect_engine.reports.week import latest_report, week_containing
from inspect_engine.rulepack import RulePack


def register(sub: Any) -> None:
    """Add the ``report`` command group."""
    group = sub.add_parser(
        "report",
        help="the Friday progress report and the campaign tallies (docs/reports.md)",
        description="Reports computed from the ledger as of a cut-off time.",
    )
    reports = group.add_subparsers(dest="report", metavar="REPORT", parser_class=type(group))
    reports.required = True

    def scope_args(p: argparse.ArgumentParser) -> None:
        when = p.add_mutually_exclusive_group()
        when.add_argument(
            "--week",
            metavar="DATE",
            help="the report of the week (Monday to Sunday) holding DATE, e.g. 2020-09-21: "
            "cut-off that week's Thursday 24:00 China time (default: the latest report whose "
            "cut-off has passed)",
        )
        when.add_argument(
            "--cutoff",
            metavar="TIME",
            help="count events at or before this ISO time, e.g. 2020-09-25T00:00+08:00 "
            "(a time without offset is China time)",
        )
        p.add_argument("--group", help="帮扶督导组, as in the site register")
        p.add_argument("--county", help="县区, e.g. 平定县")
        p.add_argument("--pack", help="only this rule pack's inspections and findings")
        p.add_argument(
            "--out", type=Path, metavar="FILE", help="write here (atomically) instead of stdout"
        )
        p.add_argument("--quiet", action="store_true", help="no progress on stderr")

    friday = reports.add_parser(
        "friday",
        parents=[common_parser()],
        help="the Friday progress report (周五进展情况): text, md, csv, xlsx",
        description="Per county this week and cumulative, totals, week-on-week change, the 重大 "
        "hazards with their status, enforcement orders, the campaign phases and the weekly "
        "trend; .xlsx with a chart of found vs rectified by week.",
    )
    scope_args(friday)
    friday.add_argument(
        "--format", choices=FORMATS, help="text (default), md, csv, xlsx; default from --out"
    )
    friday.set_defaults(handler=cmd_friday)

    tallies = reports.add_parser(
        "tallies",
        parents=[common_parser()],
        help="the campaign figures grouped by a dimension: text, md, csv, xlsx, json",
        description="Sites inspected, hazards found (重大), rectified, 销号, rates, overdue, 重大 "
        "still open, enforcement orders by kind, as of the cut-off.",
    )
    scope_args(tallies)
    tallies.add_argument(
        "--by", choices=list(DIMENSIONS), default="county", help="group by (default: county)"
    )
    tallies.add_argument(
        "--format",
        choices=(*FORMATS, "json"),
        help="text (default), md, csv, xlsx, json; default from --out",
    )
    tallies.set_defaults(handler=cmd_tallies)


def _week(args: argparse.Namespace) -> dt.date | None:
    if not args.week:
        return None
    try:
        return dt.date.fromisoformat(args.week)
    except ValueError:
        raise UsageError(f"--week: not a date (YYYY-MM-DD): {args.week!r}") from None


def _cutoff(args: argparse.Namespace) -> dt.datetime | None:
    if not args.cutoff:
        return None
    try:
        at = dt.datetime.fromisoformat(args.cutoff)
    except ValueError:
        raise UsageError(f"--cutoff: not an ISO time: {args.cutoff!r}") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=CHINA)


def load_packs(data_dir: Path) -> list[RulePack]:
    """Every installed pack version (program and data directory); broken ones are skipped with a
    warning on stderr (a report must not fail for an old pack it may not need)."""
    packs = []
    for source in pack_sources(data_dir, every_version=True):
        try:
            packs.append(load_pack(source.folder))
        except PackError as err:
            print(f"warning: rule pack {source.folder} skipped: {err.message}", file=sys.stderr)
    return packs


def cmd_friday(args: argparse.Namespace) -> int:
    """Build the Friday report and write it."""
    fmt = output_format(args.format, args.out, FORMATS, "text")
    week, cutoff = _week(args), _cutoff(args)
    progress = Progress(args.quiet, "friday")
    packs = load_packs(resolve_data_dir(args.data_dir))
    with open_ledger(args, readonly=True) as ledger:
        report = build_friday(
            ledger,
            packs,
            week=week,
            cutoff=cutoff,
            group=args.group,
            county=args.county,
            pack=args.pack,
            progress=progress,
        )
    write_friday(report, cast(Format, fmt), args.out, progress=progress)
    if args.out is not None and not args.quiet:
        print(f"wrote {args.out}", file=sys.stderr)
    return int(ExitCode.OK)


def cmd_tallies(args: argparse.Namespace) -> int:
    """Tally the ledger as of the cut-off, grouped by one dimension."""
    fmt = output_format(args.format, args.out, (*FORMATS, "json"), "text")
    week, cutoff = _week(args), _cutoff(args)
    progress = Progress(args.quiet, "tallies")
    index = PackIndex(load_packs(resolve_data_dir(args.data_dir)))
    scope = Scope(county=args.county, group=args.group, pack=args.pack)
    with open_ledger(args, readonly=True) as ledger:
        if cutoff is None:
            cutoff = (
                week_containing(week) if week else latest_report(clock_from(args).now())
            ).cutoff
        current = ledger.projection
        check_scope(current, index, scope)
        proj = projection_at(ledger, cutoff)
        progress("截止时台账", 1, 2)
        result = tally(proj, index, cutoff, args.by, scope=scope)
    progress("统计", 2, 2)
    if fmt == "json":
        data = (json.dumps(result.as_json(), ensure_ascii=False, indent=2) + "\n").encode()
    elif fmt == "xlsx":
        assert args.out is not None
        write_xlsx(args.out, [Sheet("统计", (result.table(),))], created=cutoff)
        return int(ExitCode.OK)
    elif fmt == "md":
        data = render_markdown([result.table()]).encode("utf-8")
    elif fmt == "csv":
        data = render_csv(result.table())
    else:
        data = render_text([result.table()]).encode("utf-8")
    if args.out is None:
        sys.stdout.write(data.decode("utf-8"))
    else:
        write_out(args.out, data)
    return int(ExitCode.OK)
