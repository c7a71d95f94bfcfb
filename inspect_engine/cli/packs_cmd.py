"""``inspect-engine packs list|show|validate|schema``: the installed rule packs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from inspect_engine.cli.output import emit_json, table
from inspect_engine.errors import ExitCode, InputError, PackError, Problem
from inspect_engine.packs import (
    checklists_root,
    load_pack,
    pack_dirs,
    resolve_pack,
    validate_pack,
)
from inspect_engine.rulepack import LegalRef, RulePack
from inspect_engine.schema import SCHEMAS, render, write_all


def register(sub: Any) -> None:
    """Add the ``packs`` command group."""
    packs = sub.add_parser("packs", help="list, show, validate rule packs; print their schema")
    psub = packs.add_subparsers(dest="packs_command", metavar="ACTION")
    psub.required = True

    p = psub.add_parser("list", help="the installed packs, one a line")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(handler=cmd_list)

    p = psub.add_parser("show", help="a pack's sections, items, rules and consequences")
    p.add_argument("pack", help="an installed pack id or a pack folder")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(handler=cmd_show)

    p = psub.add_parser("validate", help="check packs and report every problem at once")
    p.add_argument("paths", nargs="*", help="pack folders (default: every installed pack)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(handler=cmd_validate)

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


def cmd_list(args: argparse.Namespace) -> int:
    """Print the installed packs (id, version, 文号, counts)."""
    rows: list[dict[str, Any]] = []
    broken: list[str] = []
    for folder in pack_dirs():
        try:
            pack = load_pack(folder)
        except PackError as err:
            broken.append(f"{folder.name}: {err.message}")
            continue
        rows.append(
            {
                "id": pack.id,
                "version": pack.version,
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
        print(f"规则包 rule packs in {checklists_root()}")
        print(
            table(
                ["id", "version", "文号", "title", "sections", "items", "rules"],
                [
                    [
                        r["id"],
                        r["version"],
                        r["doc_number"],
                        r["title"],
                        str(r["sections"]),
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
    pack = load_pack(args.pack)
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
    folders = [resolve_pack(p) for p in args.paths] if args.paths else pack_dirs()
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
