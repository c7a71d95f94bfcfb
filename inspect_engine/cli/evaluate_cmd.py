"""``inspect-engine evaluate --pack PACK INPUT.json``: the findings for one site's answers.

INPUT.json (``-`` for stdin) holds ``{"site": {...}, "answers": {...}, "date": "YYYY-MM-DD"}``;
``--format json`` prints the findings with their explanation (the contract, documented in
``docs/engine.md``), ``--format table`` prints them for people, in Chinese. Any problem with the
input is one error on stderr naming the file and the key, with exit code 3.

A pack id resolves as in the app: over the program's packs and the data directory's
(``--data-dir``, default ``$INSPECT_ENGINE_DATA_DIR``, else the user data directory), the highest
version in force; ``--pack-version`` asks for an installed version (an inspection pinned to it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from inspect_engine.answers import AnswerError
from inspect_engine.cli.output import emit_json
from inspect_engine.datadir import ENV_VAR, resolve_data_dir
from inspect_engine.deadlines import describe_zh
from inspect_engine.engine import compile_pack
from inspect_engine.errors import ExitCode, InputError
from inspect_engine.evaluation import Evaluation, evaluate_full
from inspect_engine.findings import Finding
from inspect_engine.packs import load_pack
from inspect_engine.rulepack import (
    ChoiceAnswer,
    Item,
    MultiChoiceAnswer,
    NumberAnswer,
    RulePack,
    YesNoAnswer,
)
from inspect_engine.site import Site

OUTPUT_FORMAT = 1
"""Version of the ``--format json`` output (``format`` in it)."""
_KEYS = ("site", "answers", "date")


def register(sub: Any) -> None:
    """Add the ``evaluate`` command."""
    p = sub.add_parser(
        "evaluate",
        help="the findings for one site's answers on an inspection date",
        description="Evaluate one site's answers against a rule pack and print the findings.",
    )
    p.add_argument("--pack", required=True, help="an installed pack id or a pack folder")
    p.add_argument(
        "--pack-version", metavar="VERSION", help="that installed version of the pack id"
    )
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help=f"the data directory whose received packs count too (default: ${ENV_VAR}, else the "
        "user data directory)",
    )
    p.add_argument("input", metavar="INPUT.json", help='{"site", "answers", "date"}; - for stdin')
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(handler=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Evaluate INPUT.json against the pack; print the findings."""
    pack = load_pack(args.pack, data_dir=resolve_data_dir(args.data_dir), version=args.pack_version)
    compile_pack(pack)  # a pack beyond the engine's limits is refused here, before any input
    name = "<stdin>" if args.input == "-" else args.input
    site, answers, on = read_input(name, _read_text(args.input))
    declared = {a.id for a in pack.manifest.site_attributes}
    for attr in site.attributes:
        if attr not in declared:
            print(
                f"note: {name}: site.attributes.{attr} is not used by pack {pack.id}",
                file=sys.stderr,
            )
    try:
        result = evaluate_full(pack, site, answers, on)
    except AnswerError as err:
        raise InputError(f"{name}: answers.{err.message}") from None
    except InputError as err:
        raise InputError(f"{name}: {err.message}", hint=err.hint) from None
    if args.format == "json":
        emit_json(to_json(pack, site, on, result))
    else:
        print(render_table(pack, site, on, result))
    return int(ExitCode.OK)


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror}") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InputError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise InputError(f"{name} is not a number JSON allows")


def read_input(name: str, text: str) -> tuple[Site, dict[str, Any], dt.date]:
    """Parse INPUT.json; every problem is an :class:`InputError` naming ``name`` and the key."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as err:
        raise InputError(
            f"{name}:{err.lineno}:{err.colno}: not valid JSON: {err.msg}",
            hint='INPUT.json holds {"site": {...}, "answers": {...}, "date": "YYYY-MM-DD"}',
        ) from None
    except InputError as err:
        raise InputError(f"{name}: {err.message}") from None
    if not isinstance(data, dict):
        raise InputError(f"{name}: the top level must be an object with site, answers, date")
    unknown = [k for k in data if k not in _KEYS]
    if unknown:
        raise InputError(f"{name}: {unknown[0]}: unknown key (expected site, answers, date)")
    for key in ("site", "date"):
        if key not in data:
            raise InputError(f"{name}: {key}: required key is missing")
    try:
        site = Site.model_validate(data["site"])
    except ValidationError as err:
        errors = err.errors(include_url=False)
        first = errors[0]
        where = ".".join(str(part) for part in ("site", *first["loc"]))
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InputError(f"{name}: {where}: {first['msg']}{more}") from None
    answers = data.get("answers", {})
    if not isinstance(answers, dict):
        raise InputError(f"{name}: answers: must be an object of item id -> answer")
    raw_date = data["date"]
    try:
        if not isinstance(raw_date, str):
            raise ValueError
        on = dt.date.fromisoformat(raw_date)
    except ValueError:
        raise InputError(f"{name}: date: expected a date YYYY-MM-DD; got {raw_date!r}") from None
    return site, answers, on


def to_json(pack: RulePack, site: Site, on: dt.date, result: Evaluation) -> dict[str, Any]:
    """The ``--format json`` document (see docs/engine.md, "Output")."""
    return {
        "format": OUTPUT_FORMAT,
        "pack": {"id": pack.id, "version": pack.version},
        "site": {"id": site.id, "name": site.name, "county": site.county},
        "date": on.isoformat(),
        "findings": [f.model_dump(mode="json") for f in result.findings],
        "fired_rules": list(result.outcome.fired),
        "derived_facts": [f.id for f in pack.manifest.facts if f.id in result.outcome.facts],
        "superseded": [{"rule_id": r, "by": by} for r, by in result.superseded.items()],
        "still_to_answer": [
            {"item_id": i.id, "question": i.question.model_dump()} for i in result.still_to_answer
        ],
    }


def render_value(item: Item, value: Any) -> str:
    """An answer as a person reads it (Chinese labels, number with its unit)."""
    spec = item.answer
    if isinstance(spec, YesNoAnswer):
        return {"yes": "是", "no": "否", "na": "不适用"}.get(value, str(value))
    if isinstance(spec, NumberAnswer):
        return f"{value:g} {spec.unit}"
    if isinstance(spec, ChoiceAnswer | MultiChoiceAnswer):
        labels = {o.value: o.label.zh for o in spec.options}
        values = value if isinstance(value, list) else [value]
        return "、".join(labels.get(str(v), str(v)) for v in values) or "（无）"
    return str(value)


def _finding_lines(pack: RulePack, index: int, f: Finding) -> list[str]:
    rule = pack.rule(f.rule_id)
    assert rule.finding is not None
    lines = [f"{index}. 【{f.level}】{f.title.zh}  ({f.rule_id})"]
    lines += [
        f"   触发：{t.item_id} {t.question.zh} → {render_value(pack.item(t.item_id), t.value)}"
        for t in f.triggers
    ]
    if f.facts:
        labels = {d.id: d.label.zh for d in pack.manifest.facts}
        lines.append("   认定：" + "、".join(labels.get(x, x) for x in f.facts))
    if f.site_level:
        lines.append("   范围：本场所存在隐患（场所级规则）")
    lines.append("   处置：" + "、".join(c.zh for c in f.consequences))
    lines.append(f"   整改要求：{f.rectification.zh}")
    how = describe_zh(rule.finding.deadline, pack)
    lines.append(f"   整改期限：{f.deadline.isoformat()}（{how}）")
    parties = [
        f"{r.label} {r.unit or '（未登记）'}" + (f" {r.contact}" if r.contact else "")
        for r in f.responsible
    ]
    lines.append("   责任单位：" + "；".join(parties))
    basis = f"{pack.manifest.provenance.doc_number} {f.basis.source.section}"
    for law in f.basis.law:
        basis += f"；{law.instrument}{law.article or ''}" + ("（未核实）" if law.unverified else "")
    lines.append(f"   依据：{basis}")
    return lines


def render_table(pack: RulePack, site: Site, on: dt.date, result: Evaluation) -> str:
    """The findings for people, in Chinese."""
    lines = [
        f"场所：{site.name}（{site.id}） {site.county}{site.township}{site.village}",
        f"规则包：{pack.manifest.title.zh} {pack.id} {pack.version}  检查日期：{on.isoformat()}",
        "",
    ]
    if not result.findings:
        lines.append("未发现隐患。")
    else:
        major = sum(1 for f in result.findings if f.level == "重大")
        lines.append(f"发现问题 {len(result.findings)} 项（其中重大 {major} 项）：")
        for i, finding in enumerate(result.findings, start=1):
            lines.append("")
            lines += _finding_lines(pack, i, finding)
    if result.superseded:
        lines.append("")
        for rule_id, by in result.superseded.items():
            lines.append(f"（{rule_id} 已被 {'、'.join(by)} 取代）")
    if result.still_to_answer:
        lines.append("")
        lines.append(f"尚未回答的检查项 {len(result.still_to_answer)} 项：")
        lines += [f"  {i.id} {i.question.zh}" for i in result.still_to_answer]
    return "\n".join(lines)
