"""The reliability suite runs with the saved state on from the first event.

``state.db`` is saved only for ledgers of ``STATE_FROM`` (2,000) events or more; these tests'
ledgers are small, so without this their kills, injected errors and damage would never meet a
state save or an open from a saved state (docs/ledger.md, "The saved state"). Child processes
(the crash tests' writers) read the environment variable.
"""

from __future__ import annotations

import pytest

from inspect_engine import ledger as ledger_module


@pytest.fixture(autouse=True)
def state_from_the_first_event(monkeypatch: pytest.MonkeyPatch) -> None:
    """Save the projection at every chance, here and in child processes."""
    monkeypatch.setattr(ledger_module, "STATE_FROM", 1)
    monkeypatch.setenv("INSPECT_ENGINE_STATE_FROM", "1")
