"""Sync bookkeeping of one data directory: the trusted hub, checkpoints, what each peer holds.

Kept in ``<data-dir>/sync/state.json``, outside the event log, because it is local: it differs
between replicas and must not change the ledger's digest. It is written with the ledger's writer
lock held (every sync command opens the ledger for writing first), by an atomic replace, and only
*after* the events it describes are durable (the CouchDB rule): a crash in between leaves an
older checkpoint, and the re-run finds the events already present and records it then.

* ``hub``: the hub this ledger trusts (its device id and public key), pinned at enrollment. A
  device's registry is the set of ``device.enrolled`` events written by that hub.
* ``checkpoints[device]``: the seq and head of ``device``'s chain recorded after the last import
  that carried it. A bundle signed by ``device`` that was made before that point is a replay.
* ``peers[device]``: the ``have`` vector ``device`` reported in its last imported bundle, i.e.
  what it already holds; the next export to it starts there.

A damaged state file is reported, never silently reset (re-pinning the hub is
``inspect-engine sync enroll``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inspect_engine.errors import LedgerError
from inspect_engine.fsio import FileOps, atomic_write

STATE_FILE = Path("sync") / "state.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HubPin(_Strict):
    """The hub this ledger trusts."""

    device_id: str
    public_key: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Checkpoint(_Strict):
    """How far one device's chain was durably imported here."""

    seq: Annotated[int, Field(ge=0)]
    head: str | None
    bundle_id: str
    at: str


class Position(_Strict):
    """One entry of a ``have`` vector: contiguous seq and head hash."""

    seq: Annotated[int, Field(ge=0)]
    head: str | None


class Peer(_Strict):
    """What a peer reported holding in its last bundle imported here."""

    have: dict[str, Position]
    bundle_id: str
    at: str


class SyncState(_Strict):
    """The whole ``sync/state.json``."""

    version: int = 1
    hub: HubPin | None = None
    checkpoints: dict[str, Checkpoint] = Field(default_factory=dict)
    peers: dict[str, Peer] = Field(default_factory=dict)


def state_path(data_dir: Path) -> Path:
    """Where the sync state of ``data_dir`` lives."""
    return Path(data_dir) / STATE_FILE


def load_state(data_dir: Path, ops: FileOps | None = None) -> SyncState:
    """The sync state (empty when the file does not exist); a damaged file is an error."""
    path = state_path(data_dir)
    got = (ops or FileOps()).read(path)
    if got is None:
        return SyncState()
    try:
        state = SyncState.model_validate(json.loads(got[0].decode("utf-8")))
    except (UnicodeDecodeError, ValueError, ValidationError) as err:
        raise LedgerError(
            f"同步状态文件损坏 / the sync state {path} is damaged ({type(err).__name__})",
            hint="nothing was changed; move the file aside and run 'inspect-engine sync enroll' "
            "again to re-pin the hub (checkpoints are rebuilt by the next sync)",
        ) from None
    if state.version != 1:
        raise LedgerError(f"{path}: unknown sync state version {state.version}")
    return state


def save_state(data_dir: Path, state: SyncState, ops: FileOps | None = None) -> None:
    """Replace the sync state durably (call with the ledger's writer lock held)."""
    ops = ops or FileOps()
    path = state_path(data_dir)
    data = json.dumps(state.model_dump(mode="json"), ensure_ascii=False, indent=1, sort_keys=True)
    try:
        ops.makedirs(path.parent)
        atomic_write(path, data.encode("utf-8") + b"\n", ops)
    except OSError as err:
        raise LedgerError(f"could not write the sync state {path}: {err}") from err
