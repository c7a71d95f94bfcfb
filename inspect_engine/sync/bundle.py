"""Sync bundles, format v1: a zip with ``events.jsonl``, evidence blobs, and ``manifest.json`` last.

Layout (nothing else is allowed in the archive)::

    events.jsonl             one event per line, ordered by (device, seq); may be empty
    evidence/<sha256>        an evidence blob, named by the SHA-256 of its bytes (optional)
    packs/<id>/<version>/<path>
                             a rule pack's file (hub to laptop only, optional): pack.yaml,
                             its section files, and the consequences.yaml it was checked with
    manifest.json            written last: format, version, signer, recipient, every member's
                             sha256 and size, each chain's seq range and head, the signer's
                             "have" vector, and an Ed25519 signature over the canonical manifest

The writer builds the archive in a temp file next to the target, fsyncs it and renames it into
place, so a half-written bundle never carries the final name; and since the manifest is the last
member and the zip directory follows it, a cut file has no readable manifest at all.

The reader (:func:`open_bundle`) is paranoid and never extracts anything to disk: it takes the
file into memory (up to a size cap) and, before decompressing a byte, checks every entry's name
(no absolute path, no ``..``, no backslash, only the four allowed shapes), type (regular files
only: no symlink, device, directory or encrypted entry), uniqueness, declared sizes, compression
ratio and layout (no overlapping entries). Then it parses the manifest strictly (duplicate JSON
keys refused) and checks its format version. :meth:`Bundle.verify_contents` hashes each member
against the manifest with bounded reads. Signature checks need the signer's registered key and
live in :mod:`inspect_engine.sync.protocol`, which calls these in the order documented in
docs/sync.md.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import stat
import uuid
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inspect_engine.fsio import FileOps, atomic_write
from inspect_engine.sync.keys import DeviceKey
from inspect_engine.sync.reasons import Reason, Refused
from inspect_engine.yamlio import MAX_FILE_BYTES

FORMAT = "inspect-engine-bundle"
VERSION = 1
MANIFEST = "manifest.json"
EVENTS = "events.jsonl"
EVIDENCE_DIR = "evidence/"
PACKS_DIR = "packs/"
SIGN_DOMAIN = b"inspect-engine/bundle-manifest/v1"
"""Prefix of every manifest signature (domain separation)."""

_EVIDENCE_NAME = re.compile(r"evidence/[0-9a-f]{64}")
_PART = r"[A-Za-z0-9_][A-Za-z0-9._-]{0,99}"
PACK_NAME = re.compile(
    r"packs/(?P<id>[a-z][a-z0-9-]{0,63})"
    r"/(?P<version>(?:0|[1-9][0-9]{0,8})\.(?:0|[1-9][0-9]{0,8})\.(?:0|[1-9][0-9]{0,8}))"
    rf"/(?P<path>(?:{_PART}/){{0,7}}{_PART}\.ya?ml)"
)
"""A rule-pack member: ``packs/<pack id>/<version>/<path in the pack folder>`` (YAML files only,
no component starting with a dot)."""
_HEX64 = r"^[0-9a-f]{64}$"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
"""Fixed entry timestamps: the same content gives the same archive bytes."""


@dataclass(frozen=True)
class Limits:
    """Caps the reader enforces before decompressing anything. Tests shrink them."""

    max_bundle_bytes: int = 1024 * 1024 * 1024
    max_manifest_bytes: int = 4 * 1024 * 1024
    max_events_bytes: int = 512 * 1024 * 1024
    max_evidence_bytes: int = 200 * 1024 * 1024
    """The ledger's own cap on one evidence file (``ledger.MAX_EVIDENCE_BYTES``, checked by a
    test): whatever it stores can travel."""
    max_pack_file_bytes: int = MAX_FILE_BYTES
    """The pack loader's own cap on one pack file."""
    max_total_bytes: int = 2 * 1024 * 1024 * 1024
    max_members: int = 100_000
    max_ratio: int = 200
    """Largest uncompressed/compressed ratio; event JSON compresses about 5-15x."""
    ratio_floor: int = 1024 * 1024
    """Members smaller than this are not ratio-checked (a tiny file can compress very well)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Member(_Strict):
    """One archive member as the manifest lists it."""

    sha256: Annotated[str, Field(pattern=_HEX64)]
    size: Annotated[int, Field(ge=0)]


class ChainRange(_Strict):
    """The events of one device's chain that the bundle carries: seq ``first``..``last``."""

    device: Annotated[str, Field(min_length=1, max_length=128)]
    first: Annotated[int, Field(ge=1)]
    last: Annotated[int, Field(ge=1)]
    prev: str | None
    """The hash the first event links to (None when ``first`` is 1)."""
    head: Annotated[str, Field(min_length=1)]
    """The hash of event ``last``: the chain head after this bundle."""


class Have(_Strict):
    """How far the signer holds one device's chain: contiguous seq and its head hash."""

    seq: Annotated[int, Field(ge=0)]
    head: str | None


class Manifest(_Strict):
    """``manifest.json``. The signature covers the canonical JSON of every other field."""

    format: Literal["inspect-engine-bundle"]
    version: Literal[1]
    bundle_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    created: Annotated[str, Field(min_length=1, max_length=64)]
    device: Annotated[str, Field(min_length=1, max_length=128)]
    """The exporting (signing) device."""
    key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    recipient: Annotated[str, Field(min_length=1, max_length=128)]
    """The device whose ledger this bundle is for."""
    members: dict[str, Member]
    chains: list[ChainRange]
    have: dict[str, Have]
    """The signer's ledger state (its acknowledgement of what it holds, per device)."""
    event_count: Annotated[int, Field(ge=0)]
    signature: Annotated[str, Field(pattern=r"^[0-9a-f]{128}$")]

    def signed_bytes(self) -> bytes:
        """The canonical bytes the signature covers."""
        return canonical(self.model_dump(mode="json", exclude={"signature"}))


def canonical(data: Any) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data`` as hex."""
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- writing


@dataclass
class BundleDraft:
    """Everything to put in a bundle except what the writer computes (hashes, signature)."""

    device: str
    recipient: str
    events_jsonl: bytes
    event_count: int
    chains: list[ChainRange]
    have: dict[str, Have]
    evidence: dict[str, bytes] = field(default_factory=dict)
    """sha256 hex -> blob bytes."""
    packs: dict[str, bytes] = field(default_factory=dict)
    """Rule-pack members: ``packs/<id>/<version>/<path>`` -> file bytes (hub to laptop)."""
    created: str = ""
    bundle_id: str = field(default_factory=lambda: uuid.uuid4().hex)


def build(draft: BundleDraft, key: DeviceKey) -> bytes:
    """The archive bytes of ``draft`` signed with ``key``: contents first, manifest last."""
    members: dict[str, bytes] = {EVENTS: draft.events_jsonl}
    for digest, blob in sorted(draft.evidence.items()):
        if sha256_hex(blob) != digest:
            raise ValueError(f"evidence blob does not hash to its name {digest}")
        members[EVIDENCE_DIR + digest] = blob
    for name, data in sorted(draft.packs.items()):
        if not PACK_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a rule-pack member name")
        members[name] = data
    body: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "bundle_id": draft.bundle_id,
        "created": draft.created,
        "device": draft.device,
        "key_id": key.key_id,
        "recipient": draft.recipient,
        "members": {
            name: {"sha256": sha256_hex(data), "size": len(data)} for name, data in members.items()
        },
        "chains": [c.model_dump(mode="json") for c in draft.chains],
        "have": {d: h.model_dump(mode="json") for d, h in sorted(draft.have.items())},
        "event_count": draft.event_count,
    }
    signature = key.sign(SIGN_DOMAIN, canonical(body)).hex()
    manifest = canonical(body | {"signature": signature})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            stored = name.startswith(EVIDENCE_DIR)  # photos and videos are compressed already
            method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            _write_member(zf, name, data, method)
        _write_member(zf, MANIFEST, manifest, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _write_member(zf: zipfile.ZipFile, name: str, data: bytes, method: int) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = method
    info.create_system = 3
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    zf.writestr(info, data)


def write_bundle(path: Path, data: bytes) -> None:
    """Put finished bundle bytes at ``path`` durably (temp, fsync, rename, fsync dir)."""
    path = Path(path)
    ops = FileOps()
    ops.makedirs(path.parent)
    atomic_write(path, data, ops)


# --------------------------------------------------------------------------- reading


@dataclass
class Bundle:
    """An archive that passed the entry and manifest checks; its members still in the zip."""

    manifest: Manifest
    _zip: zipfile.ZipFile
    _limits: Limits
    _names: list[str]

    @property
    def member_names(self) -> list[str]:
        """The names in the archive except the manifest."""
        return [n for n in self._names if n != MANIFEST]

    def verify_contents(self) -> None:
        """Every member listed, every listed member present, each one's size and SHA-256 exact."""
        listed = set(self.manifest.members)
        present = set(self.member_names)
        if EVENTS not in listed:
            raise Refused(Reason.MISSING_MEMBER, f"the manifest does not list {EVENTS}")
        if missing := sorted(listed - present):
            raise Refused(Reason.MISSING_MEMBER, f"listed but absent: {', '.join(missing[:5])}")
        if extra := sorted(present - listed):
            raise Refused(Reason.UNLISTED_MEMBER, f"present but not listed: {', '.join(extra[:5])}")
        for name in sorted(present):
            self.read(name)

    def read(self, name: str) -> bytes:
        """A member's bytes, checked against its manifest size and SHA-256 (bounded read)."""
        entry = self.manifest.members[name]
        data = _read_bounded(self._zip, name, entry.size)
        if len(data) != entry.size or sha256_hex(data) != entry.sha256:
            raise Refused(Reason.HASH_MISMATCH, f"{name} does not match its manifest hash")
        if name.startswith(EVIDENCE_DIR) and sha256_hex(data) != name[len(EVIDENCE_DIR) :]:
            raise Refused(Reason.HASH_MISMATCH, f"{name} does not hash to its own name")
        return data

    @property
    def pack_members(self) -> list[str]:
        """The rule-pack members' names (``packs/...``), sorted."""
        return sorted(n for n in self.member_names if n.startswith(PACKS_DIR))

    def evidence(self) -> Iterator[tuple[str, bytes]]:
        """(sha256, blob) for each evidence member, verified again as it is read."""
        for name in sorted(self.member_names):
            if name.startswith(EVIDENCE_DIR):
                yield name[len(EVIDENCE_DIR) :], self.read(name)


def open_bundle(source: Path | bytes, limits: Limits | None = None) -> Bundle:
    """Read a bundle into memory and check its entries and manifest; never extracts to disk.

    Raises :class:`Refused` with the first failing check's reason.
    """
    limits = limits or Limits()
    data = _read_source(source, limits)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, OSError):
        if data[:4] == b"PK\x03\x04":
            raise Refused(
                Reason.TRUNCATED, "the archive's directory is missing or damaged"
            ) from None
        raise Refused(Reason.NOT_A_BUNDLE, "not a zip archive") from None
    infos = zf.infolist()
    _check_entries(infos, len(data), limits)
    names = [i.filename for i in infos]
    if MANIFEST not in names:
        raise Refused(Reason.MANIFEST_MISSING, f"no {MANIFEST} in the archive (incomplete bundle)")
    if names[-1] != MANIFEST:
        raise Refused(Reason.MANIFEST_INVALID, f"{MANIFEST} is not the last member")
    raw = _read_bounded(zf, MANIFEST, zf.getinfo(MANIFEST).file_size)
    manifest = parse_manifest(raw)
    return Bundle(manifest, zf, limits, names)


def _read_source(source: Path | bytes, limits: Limits) -> bytes:
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        try:
            st = path.stat()
            if not stat.S_ISREG(st.st_mode):
                raise Refused(Reason.NOT_A_BUNDLE, f"{path} is not a regular file")
            if st.st_size > limits.max_bundle_bytes:
                raise Refused(
                    Reason.OVERSIZED,
                    f"{path} is {st.st_size} bytes; the limit is {limits.max_bundle_bytes}",
                )
            with path.open("rb") as fh:
                data = fh.read(limits.max_bundle_bytes + 1)
        except FileNotFoundError:
            raise Refused(Reason.NOT_A_BUNDLE, f"{path} does not exist") from None
        except IsADirectoryError:
            raise Refused(Reason.NOT_A_BUNDLE, f"{path} is a directory") from None
    if len(data) > limits.max_bundle_bytes:
        raise Refused(
            Reason.OVERSIZED, f"the bundle exceeds the limit of {limits.max_bundle_bytes} bytes"
        )
    return data


def _check_name(info: zipfile.ZipInfo) -> None:
    for name in {info.filename, info.orig_filename}:
        parts = name.split("/")
        if (
            name.startswith(("/", "\\"))
            or "\\" in name
            or "\x00" in name
            or re.match(r"^[A-Za-z]:", name)
            or any(p in ("..", ".") for p in parts)
        ):
            raise Refused(Reason.PATH_TRAVERSAL, f"entry {name!r} points outside the bundle")


def _check_type(info: zipfile.ZipInfo) -> None:
    mode = info.external_attr >> 16
    if info.is_dir() or (info.create_system == 3 and mode and not stat.S_ISREG(mode)):
        kind = "a directory" if info.is_dir() else "a symlink or special file"
        if stat.S_ISLNK(mode):
            kind = "a symlink"
        raise Refused(Reason.BAD_ENTRY_TYPE, f"entry {info.filename!r} is {kind}")
    if info.flag_bits & 0x1:
        raise Refused(Reason.BAD_ENTRY_TYPE, f"entry {info.filename!r} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise Refused(
            Reason.BAD_ENTRY_TYPE,
            f"entry {info.filename!r} uses compression method {info.compress_type}",
        )


def _member_cap(name: str, limits: Limits) -> int:
    if name == MANIFEST:
        return limits.max_manifest_bytes
    if name == EVENTS:
        return limits.max_events_bytes
    if name.startswith(PACKS_DIR):
        return limits.max_pack_file_bytes
    return limits.max_evidence_bytes


def _check_entries(infos: list[zipfile.ZipInfo], archive_size: int, limits: Limits) -> None:
    if len(infos) > limits.max_members:
        raise Refused(Reason.OVERSIZED, f"{len(infos)} entries; the limit is {limits.max_members}")
    for info in infos:
        _check_name(info)
    for info in infos:
        _check_type(info)
    seen: set[str] = set()
    for info in infos:
        if (
            info.filename not in (MANIFEST, EVENTS)
            and not _EVIDENCE_NAME.fullmatch(info.filename)
            and not PACK_NAME.fullmatch(info.filename)
        ):
            raise Refused(Reason.UNEXPECTED_MEMBER, f"entry {info.filename!r} is not allowed")
        if info.filename in seen:
            raise Refused(Reason.DUPLICATE_MEMBER, f"entry {info.filename!r} appears twice")
        seen.add(info.filename)
    total = 0
    for info in infos:
        cap = _member_cap(info.filename, limits)
        if info.file_size > cap:
            raise Refused(
                Reason.OVERSIZED, f"{info.filename} is {info.file_size} bytes; the limit is {cap}"
            )
        total += info.file_size
        if info.file_size > limits.ratio_floor and (
            info.compress_size == 0 or info.file_size / info.compress_size > limits.max_ratio
        ):
            raise Refused(
                Reason.ZIP_BOMB,
                f"{info.filename} expands {info.file_size} bytes from {info.compress_size}",
            )
    if total > limits.max_total_bytes:
        raise Refused(
            Reason.OVERSIZED, f"contents total {total} bytes; the limit is {limits.max_total_bytes}"
        )
    if infos and min(i.header_offset for i in infos) != 0:
        raise Refused(Reason.NOT_A_BUNDLE, "there is data before the first entry")
    # A local header is at least 30 bytes plus the name: a lower bound on each entry's extent.
    spans = sorted(
        (i.header_offset, i.header_offset + 30 + len(i.orig_filename.encode()) + i.compress_size)
        for i in infos
    )
    for (start, end), (nxt, _) in zip(spans, spans[1:], strict=False):
        if nxt < end or nxt == start:
            raise Refused(Reason.ZIP_BOMB, "entries overlap in the archive")
    if spans and spans[-1][1] > archive_size:
        raise Refused(Reason.TRUNCATED, "an entry runs past the end of the archive")


def _read_bounded(zf: zipfile.ZipFile, name: str, declared: int) -> bytes:
    """Read at most ``declared`` + 1 bytes of a member; a damaged one is a truncation."""
    out = bytearray()
    try:
        with zf.open(name) as fh:
            while chunk := fh.read(min(1 << 20, declared + 1 - len(out))):
                out += chunk
                if len(out) > declared:
                    raise Refused(Reason.ZIP_BOMB, f"{name} expands past its declared size")
    except Refused:
        raise
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError, NotImplementedError, ValueError):
        raise Refused(Reason.TRUNCATED, f"{name} is damaged or cut short") from None
    return bytes(out)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constants(token: str) -> Any:
    raise ValueError(f"{token} is not JSON")


def parse_manifest(raw: bytes) -> Manifest:
    """Parse ``manifest.json`` strictly: JSON object, no duplicate keys, known format, version 1."""
    try:
        data = json.loads(
            raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constants
        )
    except (UnicodeDecodeError, ValueError) as err:
        raise Refused(Reason.MANIFEST_INVALID, f"{MANIFEST} is not valid JSON ({err})") from None
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise Refused(Reason.MANIFEST_INVALID, f"{MANIFEST} is not an {FORMAT} manifest")
    if data.get("version") != VERSION:
        raise Refused(
            Reason.UNKNOWN_VERSION,
            f"format version {data.get('version')!r}; this inspect-engine reads version {VERSION}",
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Refused(Reason.MANIFEST_INVALID, f"{MANIFEST}: {where}: {first['msg']}") from None
