"""Device signing keys: Ed25519 from ``cryptography``, one per data directory, never overwritten.

The private key lives in ``<data-dir>/keys/device-ed25519.pem`` (PKCS#8, mode 0600, created
atomically and exclusively). The public key travels as 64 hex characters; its *key id* is the
first 32 hex characters of its SHA-256. Signatures are over a domain-separated message so a
signature made for one purpose can never be replayed for another.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from inspect_engine.errors import InputError, LedgerError
from inspect_engine.sync._fsio import create_exclusive

KEY_FILE = Path("keys") / "device-ed25519.pem"


def key_id(public_hex: str) -> str:
    """The short, stable name of a public key: sha256 of its 32 raw bytes, first 32 hex chars."""
    return hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()[:32]


@dataclass(frozen=True)
class DeviceKey:
    """A device's signing key pair."""

    private: Ed25519PrivateKey

    @property
    def public_hex(self) -> str:
        """The raw 32-byte public key as hex."""
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return raw.hex()

    @property
    def key_id(self) -> str:
        """See :func:`key_id`."""
        return key_id(self.public_hex)

    def sign(self, domain: bytes, message: bytes) -> bytes:
        """Ed25519 signature over ``domain || 0x00 || message``."""
        return self.private.sign(domain + b"\x00" + message)


def verify(public_hex: str, signature: bytes, domain: bytes, message: bytes) -> bool:
    """True when ``signature`` is ``public_hex``'s signature over ``domain || 0x00 || message``."""
    try:
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
        public.verify(signature, domain + b"\x00" + message)
    except (InvalidSignature, ValueError):
        return False
    return True


def key_path(data_dir: Path) -> Path:
    """Where a data directory keeps its device's private key."""
    return Path(data_dir) / KEY_FILE


def create_key(data_dir: Path) -> DeviceKey:
    """Make this data directory's key; refuse if one exists (a device is enrolled once)."""
    key = DeviceKey(Ed25519PrivateKey.generate())
    pem = key.private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = key_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not create_exclusive(path, pem, mode=0o600):
        raise LedgerError(
            f"{path} already exists: this device already has a signing key",
            hint="a device is enrolled once; its key is never replaced silently",
        )
    return key


def has_key(data_dir: Path) -> bool:
    """Whether this data directory has a device key."""
    return key_path(data_dir).is_file()


def load_key(data_dir: Path) -> DeviceKey:
    """Read this data directory's key; refuse a key file others can read (like ssh does)."""
    path = key_path(data_dir)
    try:
        st = path.lstat()
    except FileNotFoundError:
        raise LedgerError(
            f"{path}: no device key; this ledger is not enrolled",
            hint="run 'inspect-engine sync enroll' first",
        ) from None
    if not stat.S_ISREG(st.st_mode):
        raise LedgerError(f"{path}: the device key must be a regular file, not a link")
    if os.name == "posix" and st.st_mode & 0o077:
        raise LedgerError(
            f"{path}: permissions {stat.S_IMODE(st.st_mode):04o} are too open",
            hint=f"chmod 600 {path}",
        )
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as err:
        raise InputError(f"{path}: not a readable device key ({err})") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise InputError(f"{path}: not an Ed25519 key")
    return DeviceKey(loaded)
