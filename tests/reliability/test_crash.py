"""T1: SIGKILL at random moments while a child records answers; nothing acknowledged is lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.harness import crash_loop

KILLS = 200


@pytest.mark.slow
def test_sigkill_loses_no_acknowledged_change(tmp_path: Path) -> None:
    """200 kills: 0 acknowledged changes lost, 0 unreadable ledgers, every chain verifies."""
    stats = crash_loop(tmp_path, KILLS, seed=2020, workers=2)
    print(f"\nT1 crash: {stats.line()}")
    assert stats.kills == KILLS
    assert stats.child_errors == 0, stats.details[:3]
    assert stats.lost == 0, stats.details[:3]
    assert stats.unreadable == 0, stats.details[:3]
    assert stats.verify_failures == 0, stats.details[:3]
    assert stats.acked_events > KILLS  # the children did real work between kills
