"""Options shared by the commands that use a ledger: ``--data-dir``, ``--now``, ``--actor``."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass

from inspect_engine.clock import Clock, FixedClock, SystemClock
from inspect_engine.datadir import ENV_VAR
from inspect_engine.errors import UsageError
from inspect_engine.ledger import Ledger


def common_parser() -> argparse.ArgumentParser:
    """A parent parser with ``--data-dir`` and ``--now`` (add it to every ledger command)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        metavar="DIR",
        help=f"the data directory (default: ${ENV_VAR}, else the user data directory)",
    )
    common.add_argument(
        "--now",
        metavar="TIME",
        help="judge dates as of this ISO time, e.g. 2020-09-30T18:00+08:00 (default: the clock)",
    )
    return common


def clock_from(args: argparse.Namespace) -> Clock:
    """The clock the command runs on: ``--now`` fixed, else the system clock."""
    if not getattr(args, "now", None):
        return SystemClock()
    try:
        at = dt.datetime.fromisoformat(args.now)
    except ValueError:
        raise UsageError(f"--now: not an ISO time: {args.now!r}") from None
    if at.tzinfo is None:
        at = at.astimezone()
    return FixedClock(at)


def default_actor() -> str:
    """The login name, used as the actor of events the CLI makes."""
    try:
        return getpass.getuser()[:100]
    except (OSError, KeyError):  # no login name (some containers)
        return ""


def open_ledger(args: argparse.Namespace, *, readonly: bool) -> Ledger:
    """Open the ledger named by the command line."""
    return Ledger.open(
        args.data_dir,
        clock=clock_from(args),
        actor=getattr(args, "actor", None) or default_actor(),
        readonly=readonly,
        wait=getattr(args, "wait", 0.0) or 0.0,
    )
