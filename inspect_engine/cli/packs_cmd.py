"""``inspect-engine packs list|show|validate|install|schema``: the installed rule packs.

Packs come with the program (``checklists/``) or were received by a data directory
(``<data dir>/packs/<id>/<version>/``, from the hub by sync or by ``packs install``); for each pack
id the highest version is in force (docs/rule-packs.md, "Where packs live"). ``list``, ``show`` and
``validate`` take ``--data-dir`` (default ``$INSPECT_ENGINE_DATA_DIR``, else the user data
directory), the same data directory the app and ``evaluate`` use.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from inspect_engine.cli.ledger_args import default_actor
from inspect_engine.cli.output import emit_json, table
from inspect_engine.datadir import ENV_VAR, resolve_data_dir
from inspect_engine.errors import ExitCode, InputError, PackError, Problem
from inspect_engine.ledger import Ledger
from inspect_engine.packs import (
    checklists_root,
    data_packs_dir,
    load_pack,
    pack_sources,
    resolve_pack,
    validate_pack,
)
from inspect_engine.packstore import PackRejected, check_pack, install_pack, read_pack_files
from inspect_engine.rulepack import LegalRef, RulePack
from inspect_engine.schema import SCHEMAS, render, write_all


def register(sub: Any) -> None:
    """Add the ``packs`` command group."""
    packs = sub.add_parser("packs", help="list, show, validate rule packs; print their schema")
    psub = packs.add_subparsers(dest="packs_command", metavar="ACTION")
    psub.required = True

    data_dir = argparse.ArgumentParser(add_help=False)
    data_dir.add_argument(
        "--data-dir",
        metavar="DIR",
        help=f"the data directory whose received packs count too (default: ${ENV_VAR}, else the "
        "user data directory)",
    )

    p = psub.add_parser(
        "list", parents=[data_dir], help="the installed packs, every version, and where from"
    )
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(handler=cmd_list)

    p = psub.add_parser(
        "show", parents=[data_dir], help="a pack's sections, items, rules and consequences"
    )
    p.add_argument("pack", help="an installed pack id (the version in force) or a pack folder")
    p.add_argument(
        "--pack-version", metavar="VERSION", help="that installed version of the pack id"
    )
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(handler=cmd_show)

    p = psub.add_parser(
        "validate", parents=[data_dir], help="check packs and report every problem at once"
    )
    p.add_argument("paths", nargs="*", help="pack folders (default: every installed pack)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(handler=cmd_validate)

    p = psub.add_parser(
        "install",
        parents=[data_dir],
        help="install a pack folder into the data directory (the hub sends it on with sync)",
    )
    p.add_argument("folder", type=Path, help="the pack folder (its pack.yaml and sections)")
    p.add_argument("--wait", type=float, default=0.0, help="seconds to wait for the writer lock")
    p.set_defaults(handler=cmd_install)

    p = psub.add_parser("schema", help="the JSON Schema of the pack files")
    p.add_argument("--write", action="store_true", help="rewrite checklists/schema/ in place")
    p.add_argument("--kind", choices=sorted(SCHEMAS), help="print one schema only")
    p.set_defaults(handler=cmd_schema)


def _laws(refs: list[LegalRef]) -> str:
    parts = []
    for ref in refs:
        text = ref.instrument + (ref.article or "")
        if ref.unverified:
            text += "（未核实）"
        if ref.later_law:
            text += "（2020年后施行）"
        parts.append(text)
    return "；".join(parts)


SOURCE_LABELS = {"bundled": "程序自带 bundled", "data-dir": "数据目录 data dir"}


def cmd_list(args: argparse.Namespace) -> int:
    """Print every installed pack version (id, version, where from, in force, 文号, counts)."""
    data_dir = resolve_data_dir(args.data_dir)
    in_force = {s.folder for s in pack_sources(data_dir)}
    rows: list[dict[str, Any]] = []
    broken: list[str] = []
    for source in pack_sources(data_dir, every_version=True):
        try:
            pack = load_pack(source.folder)
        except PackError as err:
            broken.append(f"{source.folder}: {err.message}")
            continue
        rows.append(
            {
                "id": pack.id,
                "version": pack.version,
                "source": source.origin,
                "in_force": source.folder in in_force,
                "doc_number": pack.manifest.provenance.doc_number,
                "title": pack.manifest.title.zh,
                "sections": len(pack.sections),
                "items": len(pack.items),
                "rules": len(pack.rules),
                "path": pack.path,
            }
        )
    if args.format == "json":
        emit_json(rows)
    else:
        print(f"规则包 rule packs in {checklists_root()} and {data_packs_dir(data_dir)}")
        print(
            table(
                ["id", "version", "在用 in force", "来源 source", "文号", "title"]
                + ["items", "rules"],
                [
                    [
                        r["id"],
                        r["version"],
                        "*" if r["in_force"] else "",
                        SOURCE_LABELS[r["source"]],
                        r["doc_number"],
                        r["title"],
                        str(r["items"]),
                        str(r["rules"]),
                    ]
                    for r in rows
                ],
            )
        )
    for line in broken:
        print(f"warning: broken pack {line} (run 'inspect-engine packs validate')", file=sys.stderr)
    return int(ExitCode.PROBLEMS if broken else ExitCode.OK)


def pack_summary(pack: RulePack) -> dict[str, Any]:
    """Everything ``packs show --format json`` prints: a stable, documented shape."""
    m = pack.manifest
    return {
        "id": pack.id,
        "version": pack.version,
        "title": m.title.model_dump(),
        "provenance": m.provenance.model_dump(mode="json"),
        "campaign": m.campaign.model_dump(mode="json"),
        "reporting": m.reporting.model_dump(mode="json"),
        "site_types": [t.model_dump() for t in m.site_types],
        "facts": [f.model_dump() for f in m.facts],
        "sections": [
            {
                "id": s.id,
                "ref": s.ref,
                "title": s.title.model_dump(),
                "items": [
                    i.model_dump(mode="json", by_alias=True, exclude_none=True) for i in s.items
                ],
                "rules": [
                    r.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"cases"})
                    | {"cases": len(r.cases)}
                    for r in s.rules
                ],
            }
            for s in pack.sections
        ],
        "consequences": [c.model_dump() for c in pack.consequences.values()],
    }


def cmd_show(args: argparse.Namespace) -> int:
    """Print one pack: sections with their items and rules, then the consequence catalogue."""
    pack = load_pack(args.pack, data_dir=resolve_data_dir(args.data_dir), version=args.pack_version)
    if args.format == "json":
        emit_json(pack_summary(pack))
        return int(ExitCode.OK)
    m = pack.manifest
    print(f"{m.title.zh}  ({pack.id} {pack.version})")
    print(f"{m.provenance.doc_number}  {m.provenance.issuer}  {m.provenance.issued}")
    camp = m.campaign
    print(f"campaign {camp.start} – {camp.end}")
    for ph in camp.phases:
        print(f"  {ph.id}: {ph.name.zh} {ph.start} – {ph.end}  [{ph.source_section}]")
    r = m.reporting
    print(f"reporting: every {r.weekday} by {r.due_time:%H:%M}, {r.reporter.zh} → {r.recipient.zh}")
    print("site types: " + ", ".join(f"{t.id} {t.label.zh}" for t in m.site_types))
    used: set[str] = set()
    for section in pack.sections:
        print(f"\n{section.ref} {section.title.zh}")
        if section.items:
            print(
                table(
                    ["item", "question", "answer", "basis"],
                    [
                        [i.id, i.question.zh, _answer_label(i.answer), _laws(i.basis.law)]
                        for i in section.items
                    ],
                )
            )
        if section.rules:
            print()
            rows = []
            for rule in section.rules:
                f = rule.finding
                if f is not None:
                    used.update(f.consequences)
                    then = f"{f.level} " + "、".join(
                        pack.consequences[c].zh for c in f.consequences
                    )
                else:
                    then = "→ " + ", ".join(rule.derive)
                rows.append([rule.id, then, rule.basis.source.section, _laws(rule.basis.law)])
            print(table(["rule", "consequence", "clause", "law"], rows))
    print("\n处置措施 consequences")
    print(
        table(
            ["code", "中文", "English", "used"],
            [
                [c.code, c.zh, c.en, "yes" if c.code in used else ""]
                for c in pack.consequences.values()
            ],
        )
    )
    return int(ExitCode.OK)


def _answer_label(spec: Any) -> str:
    if spec.type == "number":
        return f"number {spec.min:g}–{spec.max:g} {spec.unit}"
    if spec.type in ("choice", "multi_choice"):
        return f"{spec.type}({len(spec.options)})"
    return str(spec.type)


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate packs; print every problem (file:line: key: message); exit 1 if any."""
    data_dir = resolve_data_dir(args.data_dir)
    folders = (
        [resolve_pack(p, data_dir=data_dir) for p in args.paths]
        if args.paths
        else [s.folder for s in pack_sources(data_dir, every_version=True)]
    )
    if not folders:
        raise InputError(f"no packs to validate in {checklists_root()}")
    results: list[tuple[Path, list[Problem]]] = []
    for folder in folders:
        root = folder.parent if (folder.parent / "consequences.yaml").is_file() else None
        results.append((folder, validate_pack(folder, root)))
    if args.format == "json":
        emit_json(
            [
                {
                    "pack": str(folder),
                    "ok": not problems,
                    "problems": [
                        {"file": p.file, "key": p.key, "line": p.line, "message": p.message}
                        for p in problems
                    ],
                }
                for folder, problems in results
            ]
        )
    else:
        for folder, problems in results:
            status = "ok" if not problems else f"{len(problems)} problem(s)"
            print(f"{folder}: {status}")
            for p in problems:
                print(f"  {p.render()}")
    bad = sum(1 for _, problems in results if problems)
    return int(ExitCode.PROBLEMS if bad else ExitCode.OK)


def cmd_install(args: argparse.Namespace) -> int:
    """Check a pack folder as a laptop checks a pack from its hub, then install it."""
    try:
        shipped = read_pack_files(args.folder)
    except PackRejected as err:
        if err.problems:
            raise PackError(err.problems) from None
        raise
    with Ledger.open(args.data_dir, actor=default_actor(), wait=args.wait) as ledger:
        verdict = check_pack(shipped, ledger.data_dir, display=str(args.folder))
        if verdict.action == "install":
            folder = install_pack(ledger.data_dir, shipped, ledger.ops)
            print(f"installed {shipped.label} in {folder}")
        elif verdict.action == "installed":
            print(f"{shipped.label} is installed already; nothing changed")
        else:
            print(f"{shipped.label} comes with the program; nothing to install")
    return int(ExitCode.OK)


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the schemas, or rewrite ``checklists/schema/`` with ``--write``."""
    if args.write:
        for path in write_all(checklists_root() / "schema"):
            print(f"wrote {path}", file=sys.stderr)
        return int(ExitCode.OK)
    if args.kind:
        sys.stdout.write(render(SCHEMAS[args.kind]))
        return int(ExitCode.OK)
    emit_json({name: __import__("json").loads(render(model)) for name, model in SCHEMAS.items()})
    return int(ExitCode.OK)
