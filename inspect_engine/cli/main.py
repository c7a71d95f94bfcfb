"""Entry point of ``inspect-engine``.

Contract: stdout carries data only; diagnostics and errors go to stderr; the exit code is one of
:class:`inspect_engine.errors.ExitCode`. Every :class:`InspectError` is rendered here as one clear
message; any other exception is a bug: its traceback goes to a log file, never to the terminal.

Command groups live in sibling modules, each exposing ``register(subparsers)``; a module adds
itself to ``_COMMAND_MODULES``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from typing import NoReturn

from inspect_engine import __version__
from inspect_engine.errors import ExitCode, InspectError, UsageError

_COMMAND_MODULES = [
    # One line per command group; each module exposes register(subparsers).
    "inspect_engine.cli.packs_cmd",
    "inspect_engine.cli.evaluate_cmd",
    "inspect_engine.cli.tui_cmd",
    "inspect_engine.cli.sites_cmd",
    "inspect_engine.cli.ledger_cmd",
    "inspect_engine.cli.sync_cmd",
    "inspect_engine.cli.report_cmd",
    "inspect_engine.cli.notice_cmd",
    "inspect_engine.cli.hazards_cmd",
]

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of printing and exiting itself."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=f"run '{self.prog} --help'")


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every command group registered."""
    parser = _Parser(
        prog="inspect-engine",
        description="Compliance-checklist engine for field inspections (阳泉 2020 campaigns).",
    )
    parser.add_argument("--version", action="version", version=f"inspect-engine {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _report_bug(exc: BaseException) -> str:
    fd, path = tempfile.mkstemp(prefix="inspect-engine-crash-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("".join(traceback.format_exception(exc)))
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (the console script exits with it)."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        handler: Handler = args.handler
        return handler(args)
    except InspectError as err:
        print(f"error: {err.message}", file=sys.stderr)
        if err.hint:
            print(f"hint: {err.hint}", file=sys.stderr)
        return int(err.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return int(ExitCode.OK)
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into a message
        path = _report_bug(exc)
        print(
            f"error: internal error ({type(exc).__name__}); details written to {path}",
            file=sys.stderr,
        )
        return int(ExitCode.INTERNAL)


def run() -> NoReturn:
    """Console-script wrapper: exit with :func:`main`'s code."""
    sys.exit(main())


if __name__ == "__main__":
    run()
