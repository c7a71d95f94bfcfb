"""Where the ledger lives: ``--data-dir``, else ``$INSPECT_ENGINE_DATA_DIR``, else the platform's
user data directory (``~/.local/share/inspect-engine`` on Linux, ``%LOCALAPPDATA%\\inspect-engine``
on Windows, ``~/Library/Application Support/inspect-engine`` on macOS).

Layout of a data directory (docs/ledger.md)::

    ledger.db        the ledger: every event folded in (TinyDB, our storage format)
    journal.db       events since the last fold: the open inspection's answers
    ledger.lock      the writer lock; holds the writer's pid while held
    evidence/ab/…    evidence files, named by their SHA-256
    backups/         ``inspect-engine ledger backup`` output
    packs/<id>/<v>/  rule packs received from the hub or ``packs install`` (docs/rule-packs.md)
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_VAR = "INSPECT_ENGINE_DATA_DIR"
APP_NAME = "inspect-engine"

LEDGER_FILE = "ledger.db"
JOURNAL_FILE = "journal.db"
LOCK_FILE = "ledger.lock"
EVIDENCE_DIR = "evidence"
BACKUP_DIR = "backups"


def default_data_dir() -> Path:
    """The platform's user data directory for inspect-engine."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def resolve_data_dir(flag: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: the flag if given, else the environment variable, else the default."""
    if flag is not None and str(flag) != "":
        return Path(flag).expanduser()
    env = os.environ.get(ENV_VAR, "")
    if env:
        return Path(env).expanduser()
    return default_data_dir()
