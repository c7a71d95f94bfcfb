"""Sync between ledgers: device enrollment, signed bundles, direct sync, conflicts.

Modules: :mod:`~inspect_engine.sync.keys` (Ed25519 device keys), :mod:`~.bundle` (the bundle
format, its writer and its paranoid reader), :mod:`~.reasons` (refusal codes). The protocol is
described in docs/sync.md.
"""
