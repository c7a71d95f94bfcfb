"""Clocks: every "now" in the ledger, the projection and the queries comes from one of these.

Tests and demos pass a :class:`FixedClock` set inside the 2020 campaign; the CLI and the app use
:class:`SystemClock`. Times are always timezone-aware.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    """Anything with ``now()`` returning an aware datetime."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    """The machine's clock, in the machine's local timezone."""

    def now(self) -> dt.datetime:
        """``datetime.now()`` with the local UTC offset attached."""
        return dt.datetime.now().astimezone()


CHINA = dt.timezone(dt.timedelta(hours=8), "CST")
"""China Standard Time (UTC+8), the campaigns' timezone."""


class FixedClock:
    """A clock that stands still until moved: ``set()`` or ``advance()``."""

    def __init__(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at

    def now(self) -> dt.datetime:
        """The time the clock was set to."""
        return self._at

    def set(self, at: dt.datetime) -> None:
        """Move the clock to ``at`` (aware)."""
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at

    def advance(self, **delta: float) -> None:
        """Move the clock forward by ``timedelta(**delta)``."""
        self._at += dt.timedelta(**delta)
