"""`inspect-engine packs ...`: data on stdout, diagnostics on stderr, documented exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from inspect_engine.cli.main import main
from inspect_engine.errors import ExitCode
from tests.conftest import BAD_PACKS, GOOD_PACKS


def test_validate_good_pack(capsys: pytest.CaptureFixture[str]) -> None:
    """A clean pack validates with exit 0 and says ok."""
    assert main(["packs", "validate", str(GOOD_PACKS / "mini")]) == ExitCode.OK
    assert "mini: ok" in capsys.readouterr().out


def test_validate_reports_problems_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    """Problems come out with file, key, line and message; exit 1."""
    code = main(
        ["packs", "validate", "--format", "json", str(BAD_PACKS / "unknown_item"),
         str(GOOD_PACKS / "mini")]
    )  # fmt: skip
    assert code == ExitCode.PROBLEMS
    report = json.loads(capsys.readouterr().out)
    assert [r["ok"] for r in report] == [False, True]
    problem = report[0]["problems"][0]
    assert problem["key"] == "rules.0.when.answer"
    assert problem["line"] == 40
    assert problem["file"] == "unknown_item/sections/01-build.yaml"


def test_show_json_lists_sections_items_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """`packs show --format json` gives the pack's structure and its consequence catalogue."""
    assert main(["packs", "show", str(GOOD_PACKS / "mini"), "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == "mini"
    section = shown["sections"][0]
    assert [i["id"] for i in section["items"]][0] == "T.LAND.01"
    assert section["rules"][0]["finding"]["consequences"] == [
        "stop_construction",
        "legal_disposal",
    ]
    assert {"code": "stop_use", "zh": "立即停止使用"}.items() <= {
        c["code"]: c for c in shown["consequences"]
    }["stop_use"].items()


def test_show_table_marks_unverified_law(capsys: pytest.CaptureFixture[str]) -> None:
    """A [MEM] reference is shown as 未核实."""
    assert main(["packs", "show", str(GOOD_PACKS / "mini")]) == 0
    assert "住建部令第37号第十条（未核实）" in capsys.readouterr().out


def test_unknown_pack_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown pack name gives one line on stderr, nothing on stdout, exit 3."""
    assert main(["packs", "show", "no-such-pack"]) == ExitCode.BAD_INPUT
    out = capsys.readouterr()
    assert out.out == ""
    assert "no rule pack named 'no-such-pack'" in out.err


def test_broken_pack_show_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Showing a malformed pack names the problem; no traceback."""
    assert main(["packs", "show", str(BAD_PACKS / "alias_bomb")]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert "anchors and aliases" in err and "Traceback" not in err


def test_usage_error_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong command line exits 2 with a hint."""
    assert main(["packs", "frobnicate"]) == ExitCode.USAGE
    assert "hint:" in capsys.readouterr().err


def test_schema_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    """`packs schema` prints the three schemas as JSON."""
    assert main(["packs", "schema"]) == 0
    schemas = json.loads(capsys.readouterr().out)
    assert set(schemas) == {
        "pack-manifest-v1.schema.json",
        "pack-section-v1.schema.json",
        "consequences-v1.schema.json",
    }


def test_console_script_runs(tmp_path: Path) -> None:
    """The installed `inspect-engine` command runs in a fresh process."""
    exe = Path(sys.executable).parent / "inspect-engine"
    out = subprocess.run(
        [str(exe), "packs", "validate", str(GOOD_PACKS / "mini")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "ok" in out.stdout


def test_bug_is_reported_without_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected exception exits 70; the traceback goes to a log file, not the terminal."""
    import inspect_engine.cli.packs_cmd as packs_cmd

    def boom(_: object) -> int:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(packs_cmd, "cmd_list", boom)
    assert main(["packs", "list"]) == ExitCode.INTERNAL
    err = capsys.readouterr().err
    assert "internal error (RuntimeError)" in err and "Traceback" not in err
    log = Path(err.rsplit("details written to ", 1)[1].strip())
    assert "simulated bug" in log.read_text(encoding="utf-8")
    log.unlink()


def test_show_marks_later_law(capsys: pytest.CaptureFixture[str]) -> None:
    """A basis that post-dates the 2020 campaign is labelled as such in the table view."""
    assert main(["packs", "show", "building-safety"]) == 0
    assert "（2020年后施行）" in capsys.readouterr().out
