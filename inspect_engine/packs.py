"""Finding, loading and validating rule packs.

One set of checks serves two modes (style.md lesson 4): :func:`validate_pack` collects every
problem in a pack folder (``packs validate``), and :func:`load_pack` raises a
:class:`~inspect_engine.errors.PackError` carrying them when there is any (work never starts on a
bad pack). Each problem names the file, the dotted key path and, when known, the line.

Checks beyond the models' own: unique ids; every reference resolves (items, site types, site
attributes, facts, consequence codes, phases, superseded rules); every test fits the item it
tests (a threshold inside the item's range, a choice that is offered, no ordering test on text);
no cycle in skip logic or among derived facts; every fact read is derived somewhere; each rule's
cases use only what the pack declares; and the pack stays within the engine's limits.

Where packs live (docs/rule-packs.md, "Where packs live"): the packs that come with the program
(:func:`checklists_root`, one folder per pack id) and the packs a data directory received from its
hub (``<data dir>/packs/<pack id>/<version>/``, every version kept; each version folder carries the
``consequences.yaml`` it was validated with). :func:`pack_sources` lists both; for each pack id the
highest version is in force, the program's copy winning a tie. :func:`load_pack` with
``data_dir`` (and ``version``, for an inspection pinned to one) resolves the same way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from inspect_engine.answers import AnswerError, check_answers
from inspect_engine.conditions import Condition
from inspect_engine.errors import InputError, PackError, Problem
from inspect_engine.rulepack import (
    ChoiceAnswer,
    ConsequenceCatalog,
    ConsequenceDef,
    Item,
    MultiChoiceAnswer,
    NumberAnswer,
    PackManifest,
    RulePack,
    SectionFile,
    TextAnswer,
    YesNoAnswer,
)
from inspect_engine.yamlio import Document, KeyPath, YamlProblem, dotted, read_yaml

MAX_ITEMS = 480
"""Most items one pack may hold. The engine's encoding (one attribute per item) keeps clear of the
durable-rules hang at ~512 constants on one attribute (libraries.md D8); this bound keeps packs to
a size an inspector can walk and the engine's per-session memory small (D9). The engine's own
limits are checked too (:func:`inspect_engine.engine_compile.limit_problems`)."""
MAX_RULES = 480
"""Most rules one pack may hold (per-session engine memory grows ~12 kB per rule, D9)."""
MANIFEST = "pack.yaml"
CATALOG = "consequences.yaml"
CHECKLISTS_ENV = "INSPECT_ENGINE_CHECKLISTS"
PACKS_DIR = "packs"
"""The folder of a data directory holding the packs it received: ``packs/<id>/<version>/``."""

Origin = Literal["bundled", "data-dir"]
"""Where a pack was found: with the program (``checklists/``) or in a data directory."""

PACK_ID_RE = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
"""A pack id as a folder name (ASCII; the manifest's own pattern, bounded)."""
VERSION_RE = re.compile(r"^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$")
"""A pack version as a folder name: ``MAJOR.MINOR.PATCH`` in ASCII digits, no leading zeros."""

M = TypeVar("M", bound=BaseModel)


def checklists_root() -> Path:
    """Where the installed packs live.

    ``$INSPECT_ENGINE_CHECKLISTS`` if set; else ``checklists/`` of a source checkout (editable
    install); else the copy bundled into the wheel.
    """
    env = os.environ.get(CHECKLISTS_ENV)
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    source = here.parent / "checklists"
    if (source / CATALOG).is_file():
        return source
    return here / "_bundled_checklists"


def pack_dirs(root: Path | None = None, data_dir: Path | None = None) -> list[Path]:
    """Folders holding a ``pack.yaml`` under ``root``, sorted by name.

    With ``data_dir``: the folder in force for each pack id over ``root`` and the data
    directory's packs (:func:`pack_sources`), sorted by pack id.
    """
    if data_dir is not None:
        return [s.folder for s in pack_sources(data_dir, root)]
    base = root or checklists_root()
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if (p / MANIFEST).is_file())


def version_key(version: str) -> tuple[int, int, int] | None:
    """``(major, minor, patch)`` of a version such as ``1.0.1``; ``None`` if it is not one."""
    m = VERSION_RE.match(version)
    if m is None:
        return None
    return int(m[1]), int(m[2]), int(m[3])


@dataclass(frozen=True)
class PackSource:
    """One installed pack version: its id and version (as its folder says), folder and origin."""

    id: str
    version: str
    """``""`` when a program pack's ``pack.yaml`` cannot be read (it is reported when loaded)."""
    folder: Path
    origin: Origin

    @property
    def key(self) -> tuple[int, ...]:
        """The sort key of the version (an unreadable one sorts below every real version)."""
        return version_key(self.version) or (-1,)

    @property
    def catalog_root(self) -> Path:
        """The folder whose ``consequences.yaml`` the pack uses (:func:`catalog_dir`)."""
        return catalog_dir(self.folder)


def catalog_dir(folder: Path) -> Path:
    """Where a pack's shared vocabulary is: the pack folder itself when it carries a
    ``consequences.yaml`` (a data directory's packs always do), else its parent when that has
    one (``checklists/``), else the program's (:func:`checklists_root`)."""
    if (folder / CATALOG).is_file():
        return folder
    if (folder.parent / CATALOG).is_file():
        return folder.parent
    return checklists_root()


def data_packs_dir(data_dir: Path) -> Path:
    """``<data dir>/packs``: where a data directory keeps the packs it received."""
    return Path(data_dir) / PACKS_DIR


def same_version(a: str, b: str) -> bool:
    """Whether two version strings name one version (``1.0.1`` and ``1.0.01`` do)."""
    return a == b or (version_key(a) is not None and version_key(a) == version_key(b))


def read_identity(folder: Path) -> tuple[str, str] | None:
    """``(id, version)`` from a folder's ``pack.yaml`` without validating the rest."""
    try:
        data = read_yaml(folder / MANIFEST).data
    except YamlProblem:
        return None
    if not isinstance(data, dict):
        return None
    ident, version = data.get("id"), data.get("version")
    if not isinstance(ident, str) or not isinstance(version, str):
        return None
    return ident, version


def bundled_sources(root: Path | None = None) -> list[PackSource]:
    """The packs that come with the program (``root``, default :func:`checklists_root`)."""
    out = []
    for folder in pack_dirs(root):
        found = read_identity(folder)
        ident, version = found if found is not None else (folder.name, "")
        out.append(PackSource(ident, version, folder, "bundled"))
    return out


def data_dir_sources(data_dir: Path, pack_id: str | None = None) -> list[PackSource]:
    """Every pack version a data directory holds (``packs/<id>/<version>/pack.yaml``).

    Names that are not a pack id or a version (such as an install's staging folder) are skipped.
    """
    base = data_packs_dir(data_dir)
    out: list[PackSource] = []
    try:
        ids = sorted(os.listdir(base)) if pack_id is None else [pack_id]
    except (FileNotFoundError, NotADirectoryError):
        return []
    for ident in ids:
        if not PACK_ID_RE.match(ident):
            continue
        try:
            versions = os.listdir(base / ident)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for version in versions:
            folder = base / ident / version
            if version_key(version) is not None and (folder / MANIFEST).is_file():
                out.append(PackSource(ident, version, folder, "data-dir"))
    return sorted(out, key=lambda s: s.key)


def pack_sources(
    data_dir: Path | None = None, root: Path | None = None, *, every_version: bool = False
) -> list[PackSource]:
    """The installed packs, sorted by id: for each id the version in force (the highest over
    the program's packs and the data directory's; the program's copy wins a tie), or with
    ``every_version`` every version found, lowest first."""
    found = bundled_sources(root)
    if data_dir is not None:
        found += data_dir_sources(data_dir)
    found.sort(key=lambda s: (s.id, s.key, s.origin == "bundled"))
    if every_version:
        return found
    best: dict[str, PackSource] = {}
    for source in found:  # ascending: the last of each id is the one in force
        best[source.id] = source
    return [best[i] for i in sorted(best)]


def resolve_pack(
    name_or_path: str,
    root: Path | None = None,
    data_dir: Path | None = None,
    version: str | None = None,
) -> Path:
    """A pack folder from an installed pack id or a path (to the folder or its ``pack.yaml``).

    ``data_dir`` adds the data directory's packs (the highest version of the id is in force);
    ``version`` asks for that exact version of the id.
    """
    candidate = Path(name_or_path)
    if candidate.name == MANIFEST and candidate.is_file():
        return candidate.parent
    if (candidate / MANIFEST).is_file():
        return candidate
    base = root or checklists_root()
    if data_dir is not None or version is not None:
        sources = pack_sources(data_dir, root, every_version=True)
        same_id = [s for s in sources if s.id == name_or_path]
        if version is not None:
            exact = [s for s in same_id if same_version(s.version, version)]
            if exact:
                return exact[-1].folder
            if same_id:
                have = ", ".join(dict.fromkeys(s.version or "?" for s in same_id))
                raise InputError(
                    f"rule pack {name_or_path} {version} is not installed (installed: {have})",
                    hint="the pack version an inspection started with must stay installed "
                    "to continue or evaluate it (docs/rule-packs.md, 'Where packs live')",
                )
        elif same_id:
            return same_id[-1].folder
        installed = ", ".join(sorted({s.id for s in sources})) or "none"
    elif (base / name_or_path / MANIFEST).is_file():
        return base / name_or_path
    else:
        installed = ", ".join(p.name for p in pack_dirs(base)) or "none"
    raise InputError(
        f"no rule pack named {name_or_path!r} (installed: {installed})",
        hint="give an installed pack id or the path of a pack folder",
    )


def load_pack(
    name_or_path: str | Path,
    root: Path | None = None,
    *,
    data_dir: Path | None = None,
    version: str | None = None,
) -> RulePack:
    """Load and cross-check a pack; :class:`PackError` with every problem if it has any.

    ``data_dir`` and ``version`` resolve a pack id as :func:`resolve_pack` does; a pack found so
    uses its own vocabulary (:func:`catalog_dir`), and must be the version asked for.
    """
    folder = resolve_pack(str(name_or_path), root, data_dir, version)
    resolved = data_dir is not None or version is not None
    pack, problems = _assemble(folder, None if resolved else root)
    if problems or pack is None:
        raise PackError(problems or [Problem(str(folder), "", "pack could not be assembled")])
    if version is not None and not same_version(pack.version, version):
        raise PackError(
            [Problem(str(folder / MANIFEST), "version", f"is {pack.version}, not {version}")]
        )
    if data_dir is not None and folder.parent.parent == data_packs_dir(data_dir):
        # a data directory's pack must be what its folder names say (the installer ensures it)
        if (pack.id, pack.version) != (folder.parent.name, folder.name):
            raise PackError(
                [
                    Problem(
                        str(folder / MANIFEST),
                        "id",
                        f"is {pack.id} {pack.version}, but the folder is "
                        f"{folder.parent.name}/{folder.name}",
                    )
                ]
            )
    return pack


def validate_pack(folder: Path, root: Path | None = None) -> list[Problem]:
    """Every problem in the pack at ``folder`` (empty when it is clean)."""
    return _assemble(folder, root)[1]


def load_catalog(root: Path | None = None) -> tuple[dict[str, ConsequenceDef], list[Problem]]:
    """The shared consequence vocabulary and any problems in its file."""
    path = (root or checklists_root()) / CATALOG
    catalog, problems = _read_model(path, ConsequenceCatalog, str(path))
    if catalog is None:
        return {}, problems
    codes: dict[str, ConsequenceDef] = {}
    for i, c in enumerate(catalog.consequences):
        if c.code in codes:
            problems.append(Problem(str(path), f"consequences.{i}.code", f"duplicate {c.code!r}"))
        codes[c.code] = c
    return codes, problems


# --- assembly ----------------------------------------------------------------------------------


def _read_model(path: Path, model: type[M], display: str) -> tuple[M | None, list[Problem]]:
    try:
        doc = read_yaml(path, display)
    except YamlProblem as err:
        return None, [err.problem]
    return _validate_doc(doc, model)


def _validate_doc(doc: Document, model: type[M]) -> tuple[M | None, list[Problem]]:
    if not isinstance(doc.data, dict):
        return None, [Problem(doc.path, "", "the file must hold a mapping (key: value) at top")]
    try:
        return model.model_validate(doc.data), []
    except ValidationError as err:
        problems = []
        for e in err.errors(include_url=False):
            key = _data_path(doc.data, e["loc"])
            message = _message(e)
            problems.append(Problem(doc.path, dotted(key), message, doc.line_of(key)))
        return None, problems


def _data_path(data: Any, loc: tuple[Any, ...]) -> KeyPath:
    """Map a pydantic error location onto the document's own keys (drops union tags)."""
    out: list[str | int] = []
    cur = data
    for part in loc:
        if isinstance(cur, dict) and part in cur:
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and part < len(cur):
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and isinstance(part, str) and not out[-1:] == [part]:
            # an unknown or missing key: name it, then stop descending
            if part not in _UNION_TAGS:
                out.append(part)
                cur = None
    return tuple(out)


_UNION_TAGS = {
    "yes_no",
    "number",
    "choice",
    "multi_choice",
    "text",
    "immediately",
    "calendar_days",
    "working_days",
    "phase_end",
    "function-after[_one_form(), Condition]",
}


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern", "")
        return f"{error['input']!r} is not a valid id here (must match {pattern})"
    msg = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    if kind.endswith(("_type", "_parsing")) and isinstance(value, str | int | float | bool):
        msg += f" (got {value!r})"
    return msg


def _assemble(folder: Path, root: Path | None) -> tuple[RulePack | None, list[Problem]]:
    shared, problems = load_catalog(root or catalog_dir(folder))
    manifest_path = folder / MANIFEST
    display_root = folder.parent
    manifest, more = _read_model(manifest_path, PackManifest, _rel(manifest_path, display_root))
    problems += more
    if manifest is None:
        return None, problems
    mdoc = read_yaml(manifest_path, _rel(manifest_path, display_root))
    sections: list[tuple[SectionFile, Document]] = []
    for i, ref in enumerate(manifest.sections):
        path = (folder / ref).resolve()
        if folder.resolve() not in path.parents:
            problems.append(_at(mdoc, ("sections", i), f"{ref!r} is outside the pack folder"))
            continue
        if not path.is_file():
            problems.append(_at(mdoc, ("sections", i), f"section file {ref!r} does not exist"))
            continue
        display = _rel(path, display_root)
        try:
            sdoc = read_yaml(path, display)
        except YamlProblem as err:
            problems.append(err.problem)
            continue
        section, more = _validate_doc(sdoc, SectionFile)
        problems += more
        if section is not None:
            sections.append((section, sdoc))
    codes = dict(shared)
    for i, c in enumerate(manifest.consequences):
        if c.code in codes:
            problems.append(
                _at(mdoc, ("consequences", i, "code"), f"{c.code!r} is already a shared code")
            )
        codes[c.code] = c
    if problems:
        return None, problems
    problems += _Checker(manifest, mdoc, sections, codes).run()
    if problems:
        return None, problems
    pack = RulePack(
        manifest=manifest,
        sections=[s for s, _ in sections],
        consequences=codes,
        path=str(folder),
    )
    # Refuse at load what the engine could not compile (its limits, without touching C).
    from inspect_engine.engine_compile import limit_problems  # pure Python; imports no packs

    problems = [_at(mdoc, ("sections",), message) for message in limit_problems(pack)]
    return (None, problems) if problems else (pack, [])


def _rel(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def _at(doc: Document, key: KeyPath, message: str) -> Problem:
    return Problem(doc.path, dotted(key), message, doc.line_of(key))


class _Checker:
    """Cross-reference checks over an assembled pack; collects problems, never stops early."""

    def __init__(
        self,
        manifest: PackManifest,
        mdoc: Document,
        sections: list[tuple[SectionFile, Document]],
        codes: dict[str, ConsequenceDef],
    ) -> None:
        self.m = manifest
        self.mdoc = mdoc
        self.sections = sections
        self.codes = codes
        self.problems: list[Problem] = []
        self.site_types = {t.id for t in manifest.site_types}
        self.site_attrs = {a.id: a for a in manifest.site_attributes}
        self.facts = {f.id for f in manifest.facts}
        self.phases = {p.id for p in manifest.campaign.phases}
        self.items: dict[str, Item] = {}
        self.item_at: dict[str, tuple[Document, KeyPath]] = {}
        self.rule_ids: set[str] = set()

    def run(self) -> list[Problem]:
        self._manifest()
        self._ids()
        for section, doc in self.sections:
            for i, item in enumerate(section.items):
                self._item(item, doc, ("items", i))
        cyclic = self._skip_cycles()
        self._rules(check_cases=not cyclic)
        total_items = len(self.items)
        if total_items > MAX_ITEMS:
            self.problems.append(
                _at(
                    self.mdoc,
                    ("sections",),
                    f"{total_items} items; the engine takes at most "
                    f"{MAX_ITEMS} per pack (split the pack)",
                )
            )
        if len(self.rule_ids) > MAX_RULES:
            self.problems.append(
                _at(
                    self.mdoc,
                    ("sections",),
                    f"{len(self.rule_ids)} rules; the engine takes at "
                    f"most {MAX_RULES} per pack (split the pack)",
                )
            )
        return self.problems

    def _add(self, doc: Document, key: KeyPath, message: str) -> None:
        self.problems.append(_at(doc, key, message))

    def _manifest(self) -> None:
        m, doc = self.m, self.mdoc
        for field in ("site_types", "site_attributes", "facts", "consequences"):
            seen: set[str] = set()
            for i, entry in enumerate(getattr(m, field)):
                ident = str(getattr(entry, "id", None) or getattr(entry, "code", ""))
                if ident in seen:
                    self._add(doc, (field, i), f"duplicate id {ident!r}")
                seen.add(ident)
        camp = m.campaign
        if camp.end < camp.start:
            self._add(doc, ("campaign", "end"), "campaign ends before it starts")
        seen_phase: set[str] = set()
        for i, p in enumerate(camp.phases):
            if p.id in seen_phase:
                self._add(doc, ("campaign", "phases", i, "id"), f"duplicate phase {p.id!r}")
            seen_phase.add(p.id)
            if p.start < camp.start or p.end > camp.end:
                self._add(doc, ("campaign", "phases", i), "phase lies outside the campaign window")
        if len(set(m.sections)) != len(m.sections):
            self._add(doc, ("sections",), "a section file is listed twice")

    def _ids(self) -> None:
        section_ids: set[str] = set()
        for section, doc in self.sections:
            if section.id in section_ids:
                self._add(doc, ("id",), f"duplicate section id {section.id!r}")
            section_ids.add(section.id)
            for i, item in enumerate(section.items):
                if item.id in self.items:
                    self._add(doc, ("items", i, "id"), f"duplicate item id {item.id!r}")
                    continue
                self.items[item.id] = item
                self.item_at[item.id] = (doc, ("items", i))
            for i, rule in enumerate(section.rules):
                if rule.id in self.rule_ids or rule.id in self.items:
                    self._add(doc, ("rules", i, "id"), f"duplicate rule id {rule.id!r}")
                self.rule_ids.add(rule.id)

    def _item(self, item: Item, doc: Document, key: KeyPath) -> None:
        for j, t in enumerate(item.applies_to):
            if t not in self.site_types:
                self._add(doc, (*key, "applies_to", j), f"unknown site type {t!r}")
        if isinstance(item.answer, ChoiceAnswer | MultiChoiceAnswer):
            values = [o.value for o in item.answer.options]
            if len(set(values)) != len(values):
                self._add(doc, (*key, "answer", "options"), "an option value is listed twice")
        if item.relevant is not None:
            self._condition(item.relevant, doc, (*key, "relevant"), allow_facts=False)
            if item.id in item.relevant.items():
                self._add(doc, (*key, "relevant"), f"skip logic of {item.id} reads its own answer")

    def _skip_cycles(self) -> bool:
        graph = {
            i: sorted(item.relevant.items() & self.items.keys()) if item.relevant else []
            for i, item in self.items.items()
        }
        cycles = [c for c in _cycles(graph) if len(c) > 1]  # self-reference: see _item
        for cycle in cycles:
            doc, key = self.item_at[cycle[0]]
            self._add(
                doc,
                (*key, "relevant"),
                "skip logic forms a cycle: " + " → ".join([*cycle, cycle[0]]),
            )
        return bool(cycles)

    def _rules(self, check_cases: bool) -> None:
        """Rule references and facts; cases too unless skip logic is broken (noise)."""
        derived: set[str] = set()
        readers: dict[str, tuple[Document, KeyPath]] = {}
        graph: dict[str, list[str]] = {}  # fact -> facts derived by rules reading it
        for section, doc in self.sections:
            for i, rule in enumerate(section.rules):
                key: KeyPath = ("rules", i)
                self._condition(rule.when, doc, (*key, "when"), allow_facts=True)
                for fact in rule.when.facts():
                    readers.setdefault(fact, (doc, (*key, "when")))
                    graph.setdefault(fact, []).extend(rule.derive)
                for j, fact in enumerate(rule.derive):
                    if fact not in self.facts:
                        self._add(
                            doc,
                            (*key, "derive", j),
                            f"unknown fact {fact!r} (declare it under 'facts' in pack.yaml)",
                        )
                    derived.add(fact)
                for j, other in enumerate(rule.supersedes):
                    if other not in self.rule_ids or other == rule.id:
                        self._add(doc, (*key, "supersedes", j), f"no other rule {other!r}")
                if rule.finding is not None:
                    f = rule.finding
                    for j, code in enumerate(f.consequences):
                        if code not in self.codes:
                            self._add(
                                doc,
                                (*key, "finding", "consequences", j),
                                f"unknown consequence code {code!r}",
                            )
                    if f.deadline.kind == "phase_end" and f.deadline.phase not in self.phases:
                        self._add(
                            doc,
                            (*key, "finding", "deadline", "phase"),
                            f"unknown campaign phase {f.deadline.phase!r}",
                        )
                for j, case in enumerate(rule.cases if check_cases else []):
                    self._case(case, doc, (*key, "cases", j))
        for fact, (doc, key) in readers.items():
            if fact in self.facts and fact not in derived:
                self._add(doc, key, f"fact {fact!r} is read but no rule derives it")
        for cycle in _cycles(graph):
            doc, key = readers[cycle[0]]
            self._add(doc, key, "derived facts form a cycle: " + " → ".join([*cycle, cycle[0]]))

    def _case(self, case: Any, doc: Document, key: KeyPath) -> None:
        for j, t in enumerate(case.site_types):
            if t not in self.site_types:
                self._add(doc, (*key, "site_types", j), f"unknown site type {t!r}")
        for name in case.site:
            if name not in self.site_attrs:
                self._add(doc, (*key, "site", name), f"unknown site attribute {name!r}")
        stub = _StubPack(list(self.items.values()))
        try:
            check_answers(stub, case.site_types, case.answers, case.site)  # type: ignore[arg-type]
        except AnswerError as err:
            self._add(doc, (*key, "answers", err.item_id), err.message)

    def _condition(self, cond: Condition, doc: Document, key: KeyPath, allow_facts: bool) -> None:
        for node, path in _walk(cond, key):
            if node.answer is not None:
                item = self.items.get(node.answer)
                if item is None:
                    self._add(doc, (*path, "answer"), f"unknown item {node.answer!r}")
                else:
                    self._test_fits(item, node, doc, path)
            elif node.site is not None:
                if node.site == "types":
                    if node.contains not in self.site_types:
                        self._add(doc, (*path, "contains"), f"unknown site type {node.contains!r}")
                elif node.site not in self.site_attrs:
                    self._add(doc, (*path, "site"), f"unknown site attribute {node.site!r}")
            elif node.fact is not None:
                if not allow_facts:
                    self._add(doc, (*path, "fact"), "skip logic reads answers, not derived facts")
                elif node.fact not in self.facts:
                    self._add(doc, (*path, "fact"), f"unknown fact {node.fact!r}")
                op, operand = node.test
                if op not in ("eq", "ne") or not isinstance(operand, bool):
                    self._add(doc, path, "a fact is tested with 'eq: true' or 'eq: false'")
            elif node.any_hazard and not allow_facts:
                self._add(doc, (*path, "any_hazard"), "skip logic cannot read 'any_hazard'")

    def _test_fits(self, item: Item, node: Condition, doc: Document, path: KeyPath) -> None:
        op, operand = node.test
        spec = item.answer
        if op == "answered":
            return
        bad = f"'{op}' does not fit {item.id} ({spec.type})"
        operands = operand if op == "in" else [operand]
        if isinstance(spec, NumberAnswer):
            if op == "contains":
                self._add(doc, (*path, op), bad)
            for value in operands:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    self._add(doc, (*path, op), f"{item.id} is a number; {value!r} is not")
                elif not spec.min <= value <= spec.max:
                    self._add(
                        doc,
                        (*path, op),
                        f"threshold {value:g} is outside {item.id}'s "
                        f"range {spec.min:g}–{spec.max:g} {spec.unit}",
                    )
            return
        if op in ("lt", "le", "gt", "ge"):
            self._add(doc, (*path, op), bad)
            return
        if isinstance(spec, YesNoAnswer):
            allowed = {"yes", "no", "na"} if spec.allow_na else {"yes", "no"}
        elif isinstance(spec, ChoiceAnswer | MultiChoiceAnswer):
            allowed = {o.value for o in spec.options}
            if isinstance(spec, MultiChoiceAnswer) and op != "contains":
                self._add(doc, (*path, op), f"{item.id} is multiple choice: use 'contains'")
                return
        else:
            assert isinstance(spec, TextAnswer)
            self._add(doc, (*path, op), f"{item.id} is free text: only 'answered' applies")
            return
        if op == "contains" and not isinstance(spec, MultiChoiceAnswer):
            self._add(doc, (*path, op), bad)
            return
        for value in operands:
            if value not in allowed:
                self._add(
                    doc,
                    (*path, op),
                    f"{value!r} is not a possible answer to {item.id} "
                    f"({', '.join(sorted(allowed))})",
                )


class _StubPack:
    """Just enough of a RulePack for :func:`check_answers` while the pack is being assembled."""

    def __init__(self, items: list[Item]) -> None:
        self.items = items
        self.id = "this pack"
        self.version = "(being validated)"


def _walk(cond: Condition, key: KeyPath) -> Iterator[tuple[Condition, KeyPath]]:
    yield cond, key
    if cond.all_ is not None:
        for i, c in enumerate(cond.all_):
            yield from _walk(c, (*key, "all", i))
    if cond.any_ is not None:
        for i, c in enumerate(cond.any_):
            yield from _walk(c, (*key, "any", i))
    if cond.not_ is not None:
        yield from _walk(cond.not_, (*key, "not"))


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """One representative of every cycle reachable in ``graph`` (deterministic order)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt) :])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found
