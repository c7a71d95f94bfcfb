"""Rule packs a data directory received: the files that travel, checks, and the atomic install.

A pack travels as its files (:class:`PackFiles`): ``pack.yaml``, the section files its manifest
lists (by their path relative to the pack folder), and the ``consequences.yaml`` it was validated
with, so that a pack is checked on arrival against exactly the vocabulary it was made for.

:func:`check_pack` decides what to do with a pack that arrived, writing nothing to the data
directory: the files are put in a temporary folder outside it (never at a path taken from the
sender: names are checked first) and must pass :func:`~inspect_engine.packs.validate_pack`; the
manifest must be the id and version the files were sent as, and the files exactly the pack's;
then, against what is installed:

* a version lower than the highest the data directory holds for the id is a **downgrade**;
* a version the data directory (or the program) already has must be the very same pack — same
  ``pack.yaml`` and section files (:meth:`PackFiles.fingerprint`; the vocabulary does not count,
  since a newer program may add codes to it) — or it is a **conflict**: two packs under one
  version would make findings, which pin id and version, ambiguous;
* otherwise it is to be installed.

:func:`install_pack` writes it to ``<data dir>/packs/<id>/<version>/``: into a staging folder
next to it (``.incoming-…``, which discovery never reads), every file fsynced, the staging
folder renamed into place and the parent fsynced. Installed versions are never changed or
removed, so an inspection pinned to one can still be evaluated under it. Call it only while
holding the ledger's writer lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from inspect_engine.errors import InputError, Problem
from inspect_engine.fsio import FileOps, atomic_write
from inspect_engine.packs import (
    CATALOG,
    MANIFEST,
    PACK_ID_RE,
    PackSource,
    bundled_sources,
    catalog_dir,
    data_dir_sources,
    data_packs_dir,
    load_pack,
    read_identity,
    validate_pack,
    version_key,
)
from inspect_engine.yamlio import MAX_FILE_BYTES, YamlProblem, read_yaml

STAGING = ".incoming-"
"""Prefix of an install's staging folder in ``packs/<id>/``."""

PATH_PART_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$")
"""One component of a pack file's relative path (no leading dot: no ``..``, nothing hidden)."""
MAX_DEPTH = 8
MAX_FILES = 500

Action = Literal["install", "installed", "bundled"]
"""What arriving at a data directory means for a pack: install it; it is installed there
already; the program carries the very same pack (nothing to install)."""


class PackRejected(InputError):
    """A pack that must not be installed; ``kind`` is ``invalid``, ``downgrade`` or ``conflict``.

    Nothing was written. ``problems`` lists a pack's validation problems (``invalid``).
    """

    def __init__(
        self,
        kind: Literal["invalid", "downgrade", "conflict"],
        message: str,
        problems: list[Problem] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.problems = problems or []


@dataclass(frozen=True)
class PackFiles:
    """A pack as it travels: id, version and its files (relative POSIX path -> bytes)."""

    id: str
    version: str
    files: dict[str, bytes] = field(repr=False)

    @property
    def label(self) -> str:
        """``id version`` for messages."""
        return f"{self.id} {self.version}"

    def fingerprint(self) -> str:
        """The pack's identity: SHA-256 over its ``pack.yaml`` and section files (not the
        vocabulary), by relative path."""
        return fingerprint_of(self.files)


def fingerprint_of(files: dict[str, bytes]) -> str:
    """:meth:`PackFiles.fingerprint` of a file mapping."""
    digests = {
        rel: hashlib.sha256(data).hexdigest() for rel, data in files.items() if rel != CATALOG
    }
    blob = json.dumps(digests, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def safe_relpath(rel: str) -> bool:
    """Whether ``rel`` is a relative path a pack file may have: short, plain components."""
    parts = rel.split("/")
    return 0 < len(parts) <= MAX_DEPTH and all(PATH_PART_RE.match(p) for p in parts)


def section_paths(folder: Path) -> list[str] | None:
    """The manifest's section files as paths relative to ``folder`` (``None`` if the manifest
    cannot be read or a section lies outside the folder)."""
    try:
        data = read_yaml(folder / MANIFEST).data
    except YamlProblem:
        return None
    sections = data.get("sections") if isinstance(data, dict) else None
    if not isinstance(sections, list):
        return None
    base = folder.resolve()
    out: list[str] = []
    for ref in sections:
        if not isinstance(ref, str):
            return None
        path = (folder / ref).resolve()
        if base not in path.parents:
            return None
        out.append(path.relative_to(base).as_posix())
    return out


def folder_fingerprint(folder: Path) -> str | None:
    """The fingerprint of an installed pack folder; ``None`` if its files cannot be read."""
    sections = section_paths(folder)
    if sections is None:
        return None
    files: dict[str, bytes] = {}
    for rel in [MANIFEST, *sections]:
        try:
            files[rel] = (folder / rel).read_bytes()
        except OSError:
            return None
    return fingerprint_of(files)


def read_pack_files(folder: Path) -> PackFiles:
    """The files that travel of the pack at ``folder``, read once and validated as read.

    Raises :class:`~inspect_engine.errors.PackError` or :class:`PackRejected` if it is broken.
    """
    sections = section_paths(folder)
    identity = read_identity(folder)
    if sections is None or identity is None:
        load_pack(folder)  # raises with the manifest's problems
        raise PackRejected("invalid", f"{folder}: {MANIFEST} cannot be read")
    files: dict[str, bytes] = {}
    try:
        for rel in [MANIFEST, *sections]:
            if not safe_relpath(rel):
                raise PackRejected("invalid", f"{folder}: the file name {rel!r} cannot travel")
            files[rel] = (folder / rel).read_bytes()
        files[CATALOG] = (catalog_dir(folder) / CATALOG).read_bytes()
    except OSError as err:
        raise PackRejected("invalid", f"{folder}: cannot read {err.filename}") from None
    pack = PackFiles(identity[0], identity[1], files)
    _validate(pack, str(folder))
    return pack


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class Verdict:
    """What :func:`check_pack` decided for one pack."""

    pack: PackFiles
    action: Action


def check_pack(
    shipped: PackFiles, data_dir: Path, *, root: Path | None = None, display: str = ""
) -> Verdict:
    """Decide whether ``shipped`` may be installed in ``data_dir`` (see the module docstring).

    Writes nothing to ``data_dir``. ``root`` is the program's packs folder (default
    :func:`~inspect_engine.packs.checklists_root`); ``display`` names the pack's folder in
    problems (a bundle's member prefix, or the source folder). Raises :class:`PackRejected`.
    """
    label = shipped.label
    display = display or f"{shipped.id}/{shipped.version}"
    key = version_key(shipped.version)
    if not PACK_ID_RE.match(shipped.id) or key is None:
        raise PackRejected("invalid", f"{label}: not a pack id and version")
    bad = [rel for rel in shipped.files if not safe_relpath(rel)]
    if bad:
        raise PackRejected("invalid", f"{label}: file name {bad[0]!r} is not allowed")
    if len(shipped.files) > MAX_FILES:
        raise PackRejected("invalid", f"{label}: {len(shipped.files)} files, at most {MAX_FILES}")
    too_big = [rel for rel, data in shipped.files.items() if len(data) > MAX_FILE_BYTES]
    if too_big:
        raise PackRejected("invalid", f"{label}: {too_big[0]} is over {MAX_FILE_BYTES:,} bytes")
    for needed in (MANIFEST, CATALOG):
        if needed not in shipped.files:
            raise PackRejected("invalid", f"{label}: {needed} is missing")
    _validate(shipped, display)
    return Verdict(shipped, _against_installed(shipped, data_dir, root))


_CLEAN: dict[str, None] = {}
"""Content digests of packs that passed :func:`_validate` in this process (insertion-ordered,
bounded): validation is a pure function of the bytes, so the same bytes are checked once."""
_CLEAN_MAX = 64
_CLEAN_LOCK = threading.Lock()


def content_digest(pack: PackFiles) -> str:
    """SHA-256 over a pack's id, version and every file, vocabulary included."""
    h = hashlib.sha256(f"{pack.id}\0{pack.version}\0".encode())
    for rel, data in sorted(pack.files.items()):
        h.update(f"{rel}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def _validate(shipped: PackFiles, display: str) -> None:
    digest = content_digest(shipped)
    with _CLEAN_LOCK:
        if digest in _CLEAN:
            return
    _validate_in_temp(shipped, display)
    with _CLEAN_LOCK:
        _CLEAN[digest] = None
        while len(_CLEAN) > _CLEAN_MAX:
            del _CLEAN[next(iter(_CLEAN))]


def _validate_in_temp(shipped: PackFiles, display: str) -> None:
    label = shipped.label
    with tempfile.TemporaryDirectory(prefix="inspect-engine-pack-") as tmp:
        folder = Path(tmp) / shipped.id / shipped.version
        for rel, data in sorted(shipped.files.items()):
            target = folder / rel
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with target.open("xb") as fh:  # names were checked: each lands inside the folder
                    fh.write(data)
            except OSError as err:  # "a" and "a/b", or two names one file system folds together
                raise PackRejected("invalid", f"{label}: cannot lay out {rel}: {err}") from None
        problems = validate_pack(folder, root=folder)
        if problems:
            shown = [_shown(p, folder, display) for p in problems]
            more = f" (and {len(shown) - 1} more)" if len(shown) > 1 else ""
            raise PackRejected(
                "invalid", f"{label} fails validation: {shown[0].render()}{more}", shown
            )
        manifest = read_yaml(folder / MANIFEST).data
        if (manifest.get("id"), manifest.get("version")) != (shipped.id, shipped.version):
            raise PackRejected(
                "invalid",
                f"{display}/{MANIFEST} is {manifest.get('id')} {manifest.get('version')}, "
                f"sent as {label}",
            )
        sections = section_paths(folder)
        assert sections is not None  # it validated
        expected = {MANIFEST, CATALOG, *sections}
        extra = sorted(set(shipped.files) - expected)
        if extra:
            raise PackRejected("invalid", f"{label}: {extra[0]} is not one of the pack's files")


def _shown(problem: Problem, folder: Path, display: str) -> Problem:
    """A validation problem with the temporary folder replaced by ``display``."""
    name = problem.file
    for prefix in (str(folder) + "/", f"{folder.name}/"):
        if name.startswith(prefix):
            name = f"{display}/{name.removeprefix(prefix)}"
            break
    return Problem(name, problem.key, problem.message, problem.line)


def _against_installed(shipped: PackFiles, data_dir: Path, root: Path | None) -> Action:
    label = shipped.label
    key = version_key(shipped.version)
    assert key is not None  # checked first
    held = data_dir_sources(data_dir, shipped.id)
    if held and held[-1].key > key:
        raise PackRejected(
            "downgrade",
            f"{label} is older than {held[-1].version}, installed here "
            f"({data_packs_dir(data_dir) / shipped.id})",
        )
    folder = data_packs_dir(data_dir) / shipped.id / shipped.version
    if folder.exists() and not any(s.folder == folder for s in held):
        raise PackRejected("conflict", f"{folder} exists but holds no pack (damaged?)")
    fingerprint = shipped.fingerprint()
    same: list[PackSource] = [s for s in held if s.key == key]
    same += [s for s in bundled_sources(root) if s.id == shipped.id and s.key == key]
    for source in same:
        if folder_fingerprint(source.folder) != fingerprint:
            where = "installed here" if source.origin == "data-dir" else "the program's"
            raise PackRejected(
                "conflict",
                f"{label} differs from the {shipped.version} {where} ({source.folder}); a "
                "changed pack needs a new version",
            )
    if any(s.origin == "data-dir" for s in same):
        return "installed"
    return "bundled" if same else "install"


# --------------------------------------------------------------------------- installing


def install_pack(data_dir: Path, shipped: PackFiles, ops: FileOps | None = None) -> Path:
    """Install a checked pack at ``<data dir>/packs/<id>/<version>/`` atomically; its folder.

    Idempotent: an existing version folder is left as it is. Hold the writer lock.
    """
    ops = ops or FileOps()
    if not (PACK_ID_RE.match(shipped.id) and version_key(shipped.version)):
        raise ValueError(f"{shipped.label} is not a pack id and version")
    if not all(safe_relpath(rel) for rel in shipped.files):
        raise ValueError(f"{shipped.label}: a file name that is not allowed (check_pack first)")
    packs = data_packs_dir(data_dir)
    base = packs / shipped.id
    final = base / shipped.version
    if final.is_dir():
        return final
    for parent, child in ((Path(data_dir), packs), (packs, base)):
        if not child.is_dir():
            ops.makedirs(child)
            ops.fsync_dir(parent)
    for name in ops.listdir(base):  # staging left by a killed install (we hold the lock)
        if name.startswith(STAGING):
            with contextlib.suppress(OSError):
                shutil.rmtree(base / name)
    staging = base / f"{STAGING}{shipped.version}-{uuid.uuid4().hex[:12]}"
    ops.makedirs(staging)
    folders = {staging}
    for rel, data in sorted(shipped.files.items()):
        target = staging / rel
        if target.parent not in folders:
            ops.makedirs(target.parent)
            folders.update([target.parent, *target.parent.parents])
        atomic_write(target, data, ops)
    for folder in sorted((f for f in folders if staging in (f, *f.parents)), reverse=True):
        ops.fsync_dir(folder)  # deepest first: every entry durable before the rename
    ops.replace(str(staging), final)
    ops.fsync_dir(base)
    return final
