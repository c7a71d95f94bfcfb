"""``inspect-engine sites import|list|show``: the site register in the ledger."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from inspect_engine.cli.ledger_args import common_parser, open_ledger
from inspect_engine.cli.output import emit_json, table
from inspect_engine.datadir import resolve_data_dir
from inspect_engine.errors import ExitCode, PackError
from inspect_engine.events import METHOD_LABELS
from inspect_engine.packs import load_pack, pack_dirs
from inspect_engine.projection import INSPECTION_STATUS_LABELS
from inspect_engine.queries import SITE_STATUS_LABELS, FindingRow, SiteRow
from inspect_engine.rectification import ORDER_KINDS
from inspect_engine.site import PARTY_LABELS
from inspect_engine.site_import import YANGQUAN_COUNTIES, SiteImportError, parse_sites


def register(sub: Any) -> None:
    """Add the ``sites`` command group."""
    common = common_parser()
    sites = sub.add_parser("sites", help="the site register: import a list, list, show one")
    ssub = sites.add_subparsers(dest="sites_command", metavar="ACTION")
    ssub.required = True

    p = ssub.add_parser(
        "import",
        parents=[common],
        help="import a site list (.csv or .xlsx): every row good, or nothing imported",
    )
    p.add_argument("file", type=Path, help="the site list; headers in docs/ledger.md")
    p.add_argument("--dry-run", action="store_true", help="check the file, import nothing")
    p.add_argument(
        "--any-county", action="store_true", help="accept counties outside Yangquan's list"
    )
    p.add_argument(
        "--any-type", action="store_true", help="accept site types no installed pack declares"
    )
    p.add_argument("--actor", help="who imports (default: the login name)")
    p.add_argument("--wait", type=float, default=0.0, help="seconds to wait for the writer lock")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(handler=cmd_import)

    p = ssub.add_parser("list", parents=[common], help="registered sites, filtered")
    p.add_argument("--county", help="县区")
    p.add_argument("--township", help="乡镇/街道")
    p.add_argument("--type", dest="site_type", help="a site type id")
    p.add_argument("--status", choices=sorted(SITE_STATUS_LABELS), help="inspection status")
    p.add_argument("--inspector", help="assigned inspector")
    p.add_argument("--search", help="text in the id, name, village or address")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(handler=cmd_list)

    p = ssub.add_parser("show", parents=[common], help="one site: record, inspections, findings")
    p.add_argument("site_id")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(handler=cmd_show)


def known_site_types(data_dir: Path | None = None) -> dict[str, str] | None:
    """Site type id → Chinese label over every pack in force that loads (the program's and
    ``data_dir``'s); None if none do."""
    known: dict[str, str] = {}
    loaded = False
    for folder in pack_dirs(data_dir=data_dir):
        try:
            pack = load_pack(folder)
        except PackError:
            continue
        loaded = True
        for t in pack.manifest.site_types:
            known.setdefault(t.id, t.label.zh)
    return known if loaded else None


def cmd_import(args: argparse.Namespace) -> int:
    """Check the list; import it in one write if every row is good."""
    types = None if args.any_type else known_site_types(resolve_data_dir(args.data_dir))
    counties = None if args.any_county else YANGQUAN_COUNTIES
    try:
        sites = parse_sites(args.file, site_types=types, counties=counties)
    except SiteImportError as err:
        if args.format == "json":
            emit_json(
                {
                    "imported": False,
                    "problems": [
                        {"row": p.line, "column": p.key, "message": p.message} for p in err.problems
                    ],
                }
            )
        else:
            print(f"{args.file}: {len(err.problems)} 个问题，未导入 / problems, nothing imported")
            for p in err.problems:
                print(f"  {p.render()}", file=sys.stderr)
        return int(ExitCode.BAD_INPUT)
    if args.dry_run:
        result: dict[str, Any] = {"imported": False, "dry_run": True, "sites": len(sites)}
    else:
        with open_ledger(args, readonly=False) as ledger:
            done = ledger.register_sites(sites)
            result = {
                "imported": True,
                "sites": len(sites),
                "added": done.added,
                "updated": done.updated,
                "unchanged": done.unchanged,
                "data_dir": str(ledger.data_dir),
            }
    if args.format == "json":
        emit_json(result)
    elif args.dry_run:
        print(f"{args.file}: {len(sites)} 个场所，检查通过（未导入）/ sites OK (dry run)")
    else:
        print(
            f"{args.file}: 导入 {len(sites)} 个场所 / imported: 新增 added {result['added']}, "
            f"更新 updated {result['updated']}, 未变 unchanged {result['unchanged']}"
        )
    return int(ExitCode.OK)


def _site_json(row: SiteRow) -> dict[str, Any]:
    return {
        **row.site.model_dump(mode="json"),
        "status": row.status,
        "status_label": row.status_label,
        "inspections": row.inspections,
        "last_inspected": row.last_inspected,
        "open_findings": row.open_findings,
        "overdue_findings": row.overdue_findings,
        "open_inspection": row.open_inspection,
    }


def cmd_list(args: argparse.Namespace) -> int:
    """Print the sites matching the filters."""
    with open_ledger(args, readonly=True) as ledger:
        if not ledger.exists:
            print(f"no ledger at {ledger.data_dir} yet", file=sys.stderr)
        rows = ledger.sites(
            county=args.county,
            township=args.township,
            site_type=args.site_type,
            status=args.status,
            search=args.search,
            inspector=args.inspector,
        )
    if args.format == "json":
        emit_json([_site_json(r) for r in rows])
        return int(ExitCode.OK)
    print(
        table(
            [
                "编号",
                "名称",
                "县区",
                "乡镇/街道",
                "村/社区",
                "类型",
                "状态",
                "未销号",
                "逾期",
                "排查人员",
            ],
            [
                [
                    r.site.id,
                    r.site.name,
                    r.site.county,
                    r.site.township,
                    r.site.village,
                    ",".join(r.site.site_types),
                    r.status_label,
                    str(r.open_findings),
                    str(r.overdue_findings),
                    r.site.inspector,
                ]
                for r in rows
            ],
        )
    )
    print(f"{len(rows)} 个场所 / sites", file=sys.stderr)
    return int(ExitCode.OK)


def _finding_json(r: FindingRow) -> dict[str, Any]:
    return {
        "finding_id": r.finding_id,
        "rule_id": r.rule_id,
        "title": r.title,
        "level": r.level,
        "status": r.status.value,
        "status_label": r.status_label,
        "deadline": r.deadline.isoformat(),
        "overdue": r.overdue,
        "days_overdue": r.days_overdue,
        "raised_at": r.raised_at,
        "plan": r.plan.model_dump(mode="json") if r.plan else None,
    }


def cmd_show(args: argparse.Namespace) -> int:
    """Print one site's record (一户一档)."""
    with open_ledger(args, readonly=True) as ledger:
        record = ledger.site(args.site_id)
    s = record.site
    if args.format == "json":
        emit_json(
            {
                "site": _site_json(record.row),
                "inspections": [
                    {
                        "id": i.id,
                        "pack": f"{i.pack_id} {i.pack_version}",
                        "method": i.method,
                        "inspectors": i.inspectors,
                        "started_at": i.started_at,
                        "status": i.status,
                        "submitted_at": i.submitted_at,
                        "answers": len(i.answers),
                        "findings": i.finding_ids,
                    }
                    for i in record.inspections
                ],
                "open_findings": [_finding_json(r) for r in record.open_findings],
                "closed_findings": [f.id for f in record.closed_findings],
                "orders": [
                    {
                        "id": o.id,
                        "kind": o.kind,
                        "ordered_on": o.ordered_on.isoformat(),
                        "finding_id": o.finding_id,
                        "lifted_on": o.lifted_on.isoformat() if o.lifted_on else None,
                        "basis": o.lift_basis,
                    }
                    for o in record.orders
                ],
            }
        )
        return int(ExitCode.OK)
    print(f"{s.name}  ({s.id})  {record.row.status_label}")
    print(f"{s.county} {s.township} {s.village} {s.address}".rstrip())
    print(f"类型 types: {', '.join(s.site_types)}   督导组: {s.group}   排查人员: {s.inspector}")
    for role, label in PARTY_LABELS.items():
        rec = getattr(s.parties, role)
        if rec is not None:
            print(f"{label}: {rec.unit} {rec.contact}".rstrip())
    print("\n检查 inspections")
    print(
        table(
            ["开始", "方式", "规则包", "检查人员", "状态", "隐患", "编号"],
            [
                [
                    i.started_at[:16],
                    METHOD_LABELS.get(i.method, i.method),
                    f"{i.pack_id} {i.pack_version}",
                    "、".join(i.inspectors),
                    INSPECTION_STATUS_LABELS[i.status],
                    str(len(i.finding_ids)),
                    i.id[:8],  # enough for `inspect-engine notice` (a unique prefix)
                ]
                for i in record.inspections
            ],
        )
    )
    print("\n未销号隐患 open findings")
    print(
        table(
            ["等级", "隐患", "状态", "整改期限", "编号"],
            [
                [r.level, r.title, r.status_label, r.deadline.isoformat(), r.finding_id[:8]]
                for r in record.open_findings
            ],
        )
    )
    if record.orders:
        print("\n处置措施 enforcement orders")
        print(
            table(
                ["措施", "下达", "解除", "依据"],
                [
                    [
                        ORDER_KINDS.get(o.kind, o.kind),
                        o.ordered_on.isoformat(),
                        o.lifted_on.isoformat() if o.lifted_on else "",
                        o.lift_basis,
                    ]
                    for o in record.orders
                ],
            )
        )
    return int(ExitCode.OK)
