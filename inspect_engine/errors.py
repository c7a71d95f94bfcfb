"""One exception hierarchy and the CLI's exit codes.

Every error a user can cause is an :class:`InspectError` carrying a message that says what went
wrong and where, and the exit code the CLI returns for it. The CLI renders these in one place
(``inspect_engine.cli.main``); anything else that escapes is a bug and is reported as such, with
the traceback written to a log file rather than the terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of ``inspect-engine``: a documented contract (README, "Exit codes")."""

    OK = 0
    """The command did what was asked."""
    PROBLEMS = 1
    """The command ran and found problems in what it checked (pack validation, ledger verify)."""
    USAGE = 2
    """The command line itself is wrong (unknown option, missing argument)."""
    BAD_INPUT = 3
    """An input file cannot be used: malformed pack, answers, site list or bundle contents."""
    LEDGER = 4
    """The ledger cannot be used: locked by another writer, damaged, or of an unknown version."""
    REFUSED = 5
    """A sync bundle or peer was refused (signature, hash, replay, unknown device...)."""
    INTERNAL = 70
    """A bug in inspect-engine. The message says where the details were written."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in an input file: where it is and what is wrong.

    ``key`` is a dotted path into the document (``sections.0.items.3.answer.max``); ``line`` is
    1-based and present only when the parser could tell it.
    """

    file: str
    key: str
    message: str
    line: int | None = None

    def render(self) -> str:
        """``file:line: key: message`` with the parts that are known."""
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class InspectError(Exception):
    """Base of every error a user can cause. ``str(err)`` is the message shown to them."""

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(InspectError):
    """The command line is wrong."""

    exit_code = ExitCode.USAGE


class InputError(InspectError):
    """An input file or value cannot be used."""

    exit_code = ExitCode.BAD_INPUT


class PackError(InputError):
    """A rule pack is malformed. Carries every problem found (at least one)."""

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("PackError needs at least one problem")
        self.problems = problems
        first = problems[0].render()
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(first + more)


class LedgerError(InspectError):
    """The ledger cannot be opened or written."""

    exit_code = ExitCode.LEDGER


class RefusedError(InspectError):
    """A sync bundle or device was refused; nothing was imported."""

    exit_code = ExitCode.REFUSED
