"""``inspect-engine tui``: a locked or damaged ledger is one clear message and exit code 4, never
a traceback; the command is registered and documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspect_engine.cli.main import main
from inspect_engine.clock import FixedClock
from inspect_engine.errors import ExitCode
from inspect_engine.ledger import Ledger


def test_locked_ledger_is_a_message(
    tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another writer holds the ledger: the app does not start, and says who holds it."""
    with Ledger.open(tmp_path, clock=clock, actor="someone"):
        code = main(["tui", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == ExitCode.LEDGER
    assert err.startswith("error: ") and "Traceback" not in err


def test_damaged_ledger_is_a_message(
    tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ledger file that is not one (here: cut short) is refused with where it is damaged."""
    with Ledger.open(tmp_path, clock=clock, actor="someone") as ledger:
        ledger.register_sites([])
        ledger.checkpoint()
    ledger_file = tmp_path / "ledger.db"
    data = ledger_file.read_bytes()
    ledger_file.write_bytes(data[: len(data) // 2] + b"\x00garbage")
    code = main(["tui", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == ExitCode.LEDGER
    assert "ledger.db" in err and "Traceback" not in err


def test_help_names_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    """``tui --help`` lists --demo, --lang, --data-dir and --inspector."""
    with pytest.raises(SystemExit):
        main(["tui", "--help"])
    out = capsys.readouterr().out
    for option in ("--demo", "--lang", "--data-dir", "--inspector"):
        assert option in out
