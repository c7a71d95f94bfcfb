"""``inspect-engine ledger info|verify|rebuild|backup``: the ledger itself."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from inspect_engine.cli.ledger_args import clock_from, common_parser, open_ledger
from inspect_engine.cli.output import emit_json, table
from inspect_engine.datadir import resolve_data_dir
from inspect_engine.errors import ExitCode
from inspect_engine.ledger_repair import salvage, verify_data_dir
from inspect_engine.projection import Projection
from inspect_engine.rectification import STATUS_LABELS, Status


def register(sub: Any) -> None:
    """Add the ``ledger`` command group."""
    common = common_parser()
    led = sub.add_parser("ledger", help="the ledger: info, verify, rebuild, backup")
    lsub = led.add_subparsers(dest="ledger_command", metavar="ACTION")
    lsub.required = True

    p = lsub.add_parser("info", parents=[common], help="identity, sizes, counts, digests")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(handler=cmd_info)

    p = lsub.add_parser(
        "verify", parents=[common], help="check every file, hash and chain; exit 1 on damage"
    )
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(handler=cmd_verify)

    p = lsub.add_parser(
        "rebuild",
        parents=[common],
        help="replay every event into a fresh state and report it (--salvage: repair)",
    )
    p.add_argument(
        "--salvage",
        action="store_true",
        help="rewrite a damaged ledger from the events that verify; the damaged files are kept",
    )
    p.add_argument("--wait", type=float, default=0.0, help="seconds to wait for the writer lock")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(handler=cmd_rebuild)

    p = lsub.add_parser("backup", parents=[common], help="write a verified one-file copy")
    p.add_argument("--to", type=Path, help="the backup file (default: DATA_DIR/backups/...)")
    p.set_defaults(handler=cmd_backup)


def cmd_info(args: argparse.Namespace) -> int:
    """Print what the ledger is and holds."""
    with open_ledger(args, readonly=True) as ledger:
        info = ledger.info()
    if args.format == "json":
        data = dataclasses.asdict(info)
        data["data_dir"] = str(info.data_dir)
        emit_json(data)
        return int(ExitCode.OK)
    if not info.exists:
        print(f"数据目录 data dir: {info.data_dir}\n台账尚未建立 / no ledger yet")
        return int(ExitCode.OK)
    print(f"数据目录 data dir:   {info.data_dir}")
    print(f"本机 device:         {info.device_id}   (created {info.created})")
    print(f"格式 format:         {info.format_version}")
    print(f"事件 events:         {info.events} in ledger.db ({info.ledger_bytes} bytes)")
    print(f"                     {info.journal_events} in journal.db ({info.journal_bytes} bytes)")
    print(f"场所 sites:          {info.sites}")
    insp = ", ".join(f"{k} {v}" for k, v in sorted(info.inspections.items())) or "0"
    print(f"检查 inspections:    {insp}")
    found = "，".join(f"{STATUS_LABELS[Status(k)]} {v}" for k, v in sorted(info.findings.items()))
    print(f"隐患 findings:       {found or '0'}；逾期 overdue {info.overdue}")
    print(f"处置措施 orders:     {info.orders_in_force} in force")
    if info.open_inspections:
        print(f"未提交 open:         {', '.join(i[:8] for i in info.open_inspections)}")
    if info.rejected or info.conflicts:
        print(f"未应用 rejected:     {info.rejected}; conflicts {info.conflicts}")
    print(f"digest:              {info.digest}")
    print(f"state digest:        {info.state_digest}")
    print(f"saved state:         {info.saved_state}")
    print(
        table(
            ["device", "seq", "lamport", "head hash"],
            [[d, str(h.seq), str(h.lamport), h.hash[:16]] for d, h in sorted(info.devices.items())],
        )
    )
    return int(ExitCode.OK)


def cmd_verify(args: argparse.Namespace) -> int:
    """Check the files from disk; every problem located; exit 1 on damage."""
    report = verify_data_dir(resolve_data_dir(args.data_dir))
    if args.format == "json":
        emit_json(
            {
                "data_dir": str(report.data_dir),
                "exists": report.exists,
                "ok": report.ok,
                "events": report.events,
                "journal_events": report.journal_events,
                "devices": report.devices,
                "problems": [
                    {"file": p.file, "line": p.line, "where": p.key, "message": p.message}
                    for p in report.problems
                ],
                "rejected": report.rejected,
                "conflicts": report.conflicts,
                "state": report.state,
            }
        )
    elif not report.exists and report.ok:
        print(f"{report.data_dir}: 台账尚未建立 / no ledger yet")
    elif report.ok:
        print(
            f"{report.data_dir}: OK — {report.events} events in ledger.db, "
            f"{report.journal_events} in journal.db, {len(report.devices)} device(s); "
            "every checksum, hash and chain verifies"
        )
        if report.state:
            print(f"  saved state (state.db): {report.state}")
        for line in report.rejected:
            print(f"  note: not applied: {line}")
        for line in report.conflicts:
            print(f"  note: conflict: {line}")
    else:
        print(f"{report.data_dir}: 台账损坏 / DAMAGED — {len(report.problems)} problem(s)")
        for p in report.problems:
            print(f"  {p.render()}")
        print(
            "nothing was changed. Restore from a backup, or run "
            "'inspect-engine ledger rebuild --salvage' (keeps the damaged files)",
            file=sys.stderr,
        )
    return int(ExitCode.OK if report.ok else ExitCode.PROBLEMS)


def cmd_rebuild(args: argparse.Namespace) -> int:
    """Replay every event into a fresh projection (or salvage a damaged ledger)."""
    data_dir = resolve_data_dir(args.data_dir)
    if args.salvage:
        result = salvage(data_dir, clock=clock_from(args), wait=args.wait)
        if args.format == "json":
            emit_json(
                {
                    "needed": result.needed,
                    "kept": result.kept,
                    "dropped": result.dropped,
                    "damaged_files": str(result.moved_to) if result.moved_to else None,
                }
            )
        elif not result.needed:
            print(f"{data_dir}: the ledger verifies; nothing to salvage")
        else:
            print(
                f"{data_dir}: kept {result.kept} events; damaged files copied to {result.moved_to}"
            )
            for line in result.dropped:
                print(f"  dropped: {line}")
        return int(ExitCode.OK)
    report = verify_data_dir(data_dir)
    if not report.ok:
        for p in report.problems:
            print(f"  {p.render()}", file=sys.stderr)
        print("the ledger is damaged; see 'inspect-engine ledger verify'", file=sys.stderr)
        return int(ExitCode.PROBLEMS)
    with open_ledger(args, readonly=True) as ledger:
        proj = Projection.build(ledger.events())
        today = ledger.today()
    counts: dict[str, int] = {}
    for f in proj.findings.values():
        if f.status is not None:
            counts[f.status.value] = counts.get(f.status.value, 0) + 1
    summary = {
        "events_applied": proj.applied,
        "sites": len(proj.sites),
        "inspections": len(proj.inspections),
        "findings": counts,
        "overdue": sum(1 for f in proj.findings.values() if f.overdue(today)),
        "orders": len(proj.orders),
        "rejected": [f"{r.kind} {r.event_id}: {r.reason}" for r in proj.rejected],
        "conflicts": [f"{c.entity}: {c.reason}" for c in proj.conflicts],
        "state_digest": proj.digest(),
    }
    if args.format == "json":
        emit_json(summary)
    else:
        for key, value in summary.items():
            if isinstance(value, list):
                print(f"{key}: {len(value)}")
                for line in value:
                    print(f"  {line}")
            else:
                print(f"{key}: {value}")
    return int(ExitCode.OK)


def cmd_backup(args: argparse.Namespace) -> int:
    """Write the backup; print its path."""
    with open_ledger(args, readonly=True) as ledger:
        dest = ledger.backup(args.to)
    print(dest)
    return int(ExitCode.OK)
