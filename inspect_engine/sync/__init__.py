"""Sync between ledgers: device enrollment, signed bundles, direct sync, conflicts.

* :mod:`~inspect_engine.sync.keys`: Ed25519 device keys (``cryptography``), 0600 key files.
* :mod:`~inspect_engine.sync.devices`: the hub, laptop enrollment, the trusted registry.
* :mod:`~inspect_engine.sync.bundle`: bundle format v1, its writer and its paranoid reader.
* :mod:`~inspect_engine.sync.protocol`: export, verify-then-import, direct sync, summaries.
* :mod:`~inspect_engine.sync.state`: checkpoints and peers' holdings (``sync/state.json``).
* :mod:`~inspect_engine.sync.conflicts`: concurrent changes and the winner rule.
* :mod:`~inspect_engine.sync.reasons`: refusal reason codes.

The protocol, the format, the winner rule and the refusal codes are described in docs/sync.md.
"""
