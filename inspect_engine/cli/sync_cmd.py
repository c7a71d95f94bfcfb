"""``inspect-engine sync enroll|export|import|run|conflicts|status``: moving events between ledgers.

The protocol, the bundle format, the winner rule and the refusal codes are in docs/sync.md.
A refused bundle exits 5 with ``refused [code] ...`` on stderr; nothing of it was imported.
Progress goes to stderr, the summary to stdout (``--format json`` for machines).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from inspect_engine.cli.ledger_args import clock_from, common_parser, default_actor
from inspect_engine.cli.output import Progress, emit_json, table
from inspect_engine.datadir import resolve_data_dir
from inspect_engine.errors import ExitCode, InputError
from inspect_engine.ledger import Ledger
from inspect_engine.sync import keys
from inspect_engine.sync.bundle import write_bundle
from inspect_engine.sync.conflicts import Change, list_conflicts
from inspect_engine.sync.devices import enroll_laptop, init_hub, registry, role_of
from inspect_engine.sync.protocol import (
    Endpoint,
    Summary,
    export_bundle,
    import_bundle,
    open_endpoint,
    refusal_summary,
    run_direct,
)
from inspect_engine.sync.reasons import Refused
from inspect_engine.sync.state import load_state

DEFAULT_WAIT = 60.0
"""Seconds a sync command waits for another writer (an importer, the app) to finish."""


def register(sub: Any) -> None:
    """Add the ``sync`` command group."""
    common = common_parser()
    common.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT,
        help=f"seconds to wait for the ledger's writer lock (default {DEFAULT_WAIT:g})",
    )
    common.add_argument("--format", choices=["table", "json"], default="table")
    common.add_argument("--quiet", action="store_true", help="no progress on stderr")
    sync = sub.add_parser("sync", help="enroll devices; exchange events by bundle or directly")
    ssub = sync.add_subparsers(dest="sync_command", metavar="ACTION")
    ssub.required = True

    p = ssub.add_parser(
        "enroll",
        parents=[common],
        help="make this ledger the hub (--as-hub), or enroll this laptop with a hub (--hub)",
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--as-hub", action="store_true", help="make this data directory the hub")
    who.add_argument("--hub", type=Path, metavar="HUB_DIR", help="the hub's data directory")
    p.add_argument("--inspector", help="the laptop's inspector (required with --hub)")
    p.add_argument("--office", default="帮扶督导组办公室", help="the hub's name (with --as-hub)")
    p.add_argument("--actor", help="who enrolls (default: the login name)")
    p.set_defaults(handler=cmd_enroll)

    p = ssub.add_parser("export", parents=[common], help="write a signed bundle for the peer")
    p.add_argument("--out", "-o", type=Path, required=True, help="bundle file or folder")
    p.add_argument("--for", dest="recipient", metavar="DEVICE", help="the laptop (hub only)")
    p.add_argument(
        "--full", action="store_true", help="send everything, not only what the peer lacks"
    )
    p.set_defaults(handler=cmd_export)

    p = ssub.add_parser("import", parents=[common], help="verify and import bundles, in order")
    p.add_argument("bundles", nargs="+", type=Path, metavar="BUNDLE")
    p.set_defaults(handler=cmd_import)

    p = ssub.add_parser(
        "run", parents=[common], help="sync this laptop with its hub directly (both as paths)"
    )
    p.add_argument("--hub", type=Path, required=True, metavar="HUB_DIR")
    p.set_defaults(handler=cmd_run)

    p = ssub.add_parser("conflicts", parents=[common], help="concurrent changes, and the winner")
    p.set_defaults(handler=cmd_conflicts)

    p = ssub.add_parser("status", parents=[common], help="role, keys, devices, checkpoints")
    p.set_defaults(handler=cmd_status)


# --------------------------------------------------------------------------- helpers


@contextmanager
def _endpoint(
    args: argparse.Namespace, data_dir: Path | str | None = None, *, readonly: bool = False
) -> Iterator[Endpoint]:
    with open_endpoint(
        data_dir if data_dir is not None else args.data_dir,
        clock=clock_from(args),
        actor=getattr(args, "actor", None) or default_actor(),
        wait=args.wait,
        readonly=readonly,
    ) as ep:
        yield ep


def _short(device: str) -> str:
    return device[:8]


_COLUMNS = ["action", "bundle", "from", "to", "events", "new", "present", "evidence", "conflicts"]


def _print_summaries(args: argparse.Namespace, summaries: list[Summary]) -> None:
    if args.format == "json":
        emit_json([s.as_dict() for s in summaries])
        return
    rows = []
    for s in summaries:
        if s.refused:
            name = Path(s.detail.split(": ", 1)[0]).name
            rows.append([s.action, name, "-", "-", "-", "-", "-", "-", f"refused [{s.refused}]"])
            continue
        rows.append(
            [
                s.action,
                s.bundle_id[:8],
                _short(s.signer),
                _short(s.recipient),
                str(s.events),
                str(s.new) if s.action != "export" else "-",
                str(s.already_present) if s.action != "export" else "-",
                str(s.evidence),
                str(s.conflicts) if s.action != "export" else "-",
            ]
        )
    print(table(_COLUMNS, rows))
    sent = sum(s.events for s in summaries if s.action in ("export", "push"))
    received = sum(s.events for s in summaries if s.action in ("import", "pull"))
    new = sum(s.new for s in summaries)
    present = sum(s.already_present for s in summaries)
    conflicts = sum(s.conflicts for s in summaries)
    refused = sum(1 for s in summaries if s.refused)
    print(
        f"发送 sent {sent} · 接收 received {received} (新 new {new}, 已有 already present "
        f"{present}) · 冲突 conflicts {conflicts} · 拒绝 refused {refused}"
    )
    installed = [p for s in summaries for p in s.packs_installed]
    if installed:
        print(f"规则包已安装 rule packs installed: {', '.join(installed)}")
    for s in summaries:
        for why in s.packs_skipped:
            print(f"warning: rule pack not sent (it does not load here): {why}", file=sys.stderr)


# --------------------------------------------------------------------------- commands


def cmd_enroll(args: argparse.Namespace) -> int:
    """Make the hub, or enroll a laptop with it and pull the hub's events."""
    progress = Progress(args.quiet, "enroll", every_stage=False)
    if args.as_hub:
        with _endpoint(args) as ep:
            device = init_hub(ep.ledger, office=args.office)
        if args.format == "json":
            emit_json({"role": "hub", "device_id": device.device_id, "key_id": device.key_id})
        else:
            print(f"hub {device.device_id}  key {device.key_id}  ({device.inspector})")
        return int(ExitCode.OK)
    if not args.inspector:
        raise InputError("--inspector is required to enroll a laptop (检查人员姓名)")
    with _endpoint(args, args.hub) as hub, _endpoint(args) as laptop:
        device = enroll_laptop(hub.ledger, laptop.ledger, inspector=args.inspector)
        hub.state, laptop.state = load_state(hub.data_dir), load_state(laptop.data_dir)
        result = run_direct(laptop, hub, progress=progress)
    if args.format == "json":
        emit_json(
            {
                "role": "laptop",
                "device_id": device.device_id,
                "key_id": device.key_id,
                "inspector": device.inspector,
                "sync": [result.push.as_dict(), result.pull.as_dict()],
            }
        )
    else:
        print(f"laptop {device.device_id}  key {device.key_id}  inspector {device.inspector}")
        _print_summaries(args, [result.push, result.pull])
    return int(ExitCode.OK)


def cmd_export(args: argparse.Namespace) -> int:
    """Write a bundle of what the peer lacks."""
    progress = Progress(args.quiet, "export", every_stage=False)
    with _endpoint(args, readonly=True) as ep:
        since: dict[str, int] | None = {} if args.full else None
        data, summary = export_bundle(ep, recipient=args.recipient, since=since, progress=progress)
        out: Path = args.out
        if out.is_dir():
            stamp = ep.ledger.clock.now().strftime("%Y%m%d-%H%M%S")
            out = (
                out
                / f"inspect-{_short(summary.signer)}-to-{_short(summary.recipient)}-{stamp}.bundle"
            )
        write_bundle(out, data)
    if not args.quiet:
        print(f"[export] wrote {out} ({len(data)} bytes)", file=sys.stderr)
    _print_summaries(args, [summary])
    return int(ExitCode.OK)


def cmd_import(args: argparse.Namespace) -> int:
    """Import each bundle in turn; a refused one imports nothing and does not stop the rest."""
    summaries: list[Summary] = []
    with _endpoint(args) as ep:
        for path in args.bundles:
            progress = Progress(args.quiet, f"import {path.name}", every_stage=False)
            try:
                summaries.append(import_bundle(ep, path, progress=progress))
            except Refused as err:
                print(f"error: {path}: {err.message}", file=sys.stderr)
                summaries.append(refusal_summary(err, str(path)))
    _print_summaries(args, summaries)
    return int(ExitCode.REFUSED if any(s.refused for s in summaries) else ExitCode.OK)


def cmd_run(args: argparse.Namespace) -> int:
    """Push this laptop's events to the hub, then pull the hub's."""
    progress = Progress(args.quiet, "run", every_stage=False)
    with _endpoint(args, args.hub) as hub, _endpoint(args) as laptop:
        result = run_direct(laptop, hub, progress=progress)
    _print_summaries(args, [result.push, result.pull])
    return int(ExitCode.OK)


def _side(c: Change) -> str:
    mark = "" if c.applied else "（未应用 not applied）"
    return f"{c.label}{mark} @{_short(c.device_id)} {c.actor} {c.time}"


def cmd_conflicts(args: argparse.Namespace) -> int:
    """List every conflict with the change in force; read-only."""
    with Ledger.open(args.data_dir, clock=clock_from(args), readonly=True) as ledger:
        conflicts = list_conflicts(ledger)
    if args.format == "json":
        emit_json(
            [
                {
                    "entity": c.entity,
                    "id": c.entity_id,
                    "site_id": c.site_id,
                    "title": c.title,
                    "in_force": c.in_force,
                    "winner": vars(c.winner),
                    "losers": [vars(x) for x in c.losers],
                    "reason": c.reason,
                }
                for c in conflicts
            ]
        )
        return int(ExitCode.OK)
    if not conflicts:
        print("没有冲突 / no conflicts")
        return int(ExitCode.OK)
    print(
        table(
            ["site", "what", "in force 现状", "winner 生效", "kept 保留"],
            [
                [
                    c.site_id,
                    f"{c.entity} {c.entity_id[:8]} {c.title}",
                    c.in_force if c.entity == "finding" else c.in_force[:8],
                    _side(c.winner),
                    "; ".join(_side(x) for x in c.losers),
                ]
                for c in conflicts
            ],
        )
    )
    print(f"{len(conflicts)} conflict(s); every change is kept in the ledger (docs/sync.md)")
    return int(ExitCode.OK)


def cmd_status(args: argparse.Namespace) -> int:
    """This ledger's role, key, hub, enrolled devices and checkpoints; read-only."""
    data_dir = resolve_data_dir(args.data_dir)
    with Ledger.open(data_dir, clock=clock_from(args), readonly=True) as ledger:
        state = load_state(data_dir)
        role = role_of(ledger, state) if ledger.device_id else None
        hub = state.hub.device_id if state.hub else None
        devices = registry(ledger, hub)
        heads = ledger.heads()
        digest = ledger.digest()
        n_conflicts = len(list_conflicts(ledger))
        me = ledger.device_id
    key = keys.load_key(data_dir).key_id if keys.has_key(data_dir) else None
    rows: list[dict[str, Any]] = []
    for d in sorted(set(devices) | set(heads) | set(state.checkpoints)):
        dev = devices.get(d)
        cp = state.checkpoints.get(d)
        head = heads.get(d)
        rows.append(
            {
                "device_id": d,
                "role": dev.role if dev else None,
                "inspector": dev.inspector if dev else None,
                "key_id": dev.key_id if dev else None,
                "held_seq": head.seq if head else 0,
                "checkpoint_seq": cp.seq if cp else None,
                "checkpoint_at": cp.at if cp else None,
                "this": d == me,
            }
        )
    report = {
        "data_dir": str(data_dir),
        "device_id": me,
        "role": role,
        "key_id": key,
        "hub": hub,
        "digest": digest,
        "conflicts": n_conflicts,
        "devices": rows,
    }
    if args.format == "json":
        emit_json(report)
        return int(ExitCode.OK)
    print(f"数据目录 data dir: {data_dir}")
    print(f"本机 device:       {me or '-'}  role {role or 'not enrolled 未登记'}  key {key or '-'}")
    print(f"hub:               {hub or '-'}")
    print(f"digest:            {digest}")
    print(f"冲突 conflicts:    {n_conflicts}")
    print(
        table(
            ["device", "role", "inspector", "key", "held seq", "checkpoint"],
            [
                [
                    _short(r["device_id"]) + (" *" if r["this"] else ""),
                    r["role"] or "-",
                    r["inspector"] or "-",
                    (r["key_id"] or "-")[:12],
                    str(r["held_seq"]),
                    "-" if r["checkpoint_seq"] is None else str(r["checkpoint_seq"]),
                ]
                for r in rows
            ],
        )
    )
    return int(ExitCode.OK)
