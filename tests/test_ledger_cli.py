"""``inspect-engine sites …`` and ``inspect-engine ledger …``; ``--data-dir`` and the env var."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspect_engine.cli.main import main
from inspect_engine.datadir import ENV_VAR, default_data_dir, resolve_data_dir
from inspect_engine.ledger import Ledger
from tests.reliability import kit

LIST = (
    "编号,名称,县区,乡镇/街道,场所类型,排查人员\n"
    "P001,娘子关某地块,平定县,娘子关镇,spring_area,张三\n"
    "P002,秀水河某段,盂县,秀水镇,river_section,李四\n"
)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A data directory with two imported sites."""
    path = tmp_path / "sites.csv"
    path.write_text(LIST, encoding="utf-8")
    code, out, _ = _run(capsys, "sites", "import", str(path), "--data-dir", str(tmp_path / "d"))
    assert code == 0 and "新增 added 2" in out
    return tmp_path / "d"


def test_data_dir_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Flag, then environment variable, then the platform's user data directory."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_data_dir(None) == default_data_dir()
    assert "inspect-engine" in str(default_data_dir())
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env"))
    assert resolve_data_dir(None) == tmp_path / "env"
    assert resolve_data_dir(str(tmp_path / "flag")) == tmp_path / "flag"


def test_env_var_is_used_by_commands(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --data-dir the commands use $INSPECT_ENGINE_DATA_DIR."""
    monkeypatch.setenv(ENV_VAR, str(data))
    code, out, _ = _run(capsys, "sites", "list", "--format", "json")
    assert code == 0 and [s["id"] for s in json.loads(out)] == ["P001", "P002"]


def test_sites_list_and_show(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Filters and the site record, as table and JSON."""
    code, out, _ = _run(capsys, "sites", "list", "--data-dir", str(data), "--county", "盂县")
    assert code == 0 and "P002" in out and "P001" not in out
    code, out, _ = _run(
        capsys,
        "sites",
        "list",
        "--data-dir",
        str(data),
        "--status",
        "not_inspected",
        "--format",
        "json",
    )
    assert len(json.loads(out)) == 2
    code, out, _ = _run(capsys, "sites", "show", "P001", "--data-dir", str(data))
    assert code == 0 and "娘子关某地块" in out and "未检查" in out
    code, out, _ = _run(
        capsys, "sites", "show", "P001", "--data-dir", str(data), "--format", "json"
    )
    assert json.loads(out)["site"]["county"] == "平定县"
    code, _, err = _run(capsys, "sites", "show", "NOPE", "--data-dir", str(data))
    assert code == 3 and "unknown site" in err


def test_ledger_info_verify_rebuild_backup(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The four ledger commands on a healthy ledger."""
    code, out, _ = _run(capsys, "ledger", "info", "--data-dir", str(data), "--format", "json")
    info = json.loads(out)
    assert code == 0 and info["sites"] == 2 and info["events"] == 2 and len(info["device_id"]) == 32
    code, out, _ = _run(capsys, "ledger", "verify", "--data-dir", str(data))
    assert code == 0 and "OK" in out
    code, out, _ = _run(capsys, "ledger", "rebuild", "--data-dir", str(data), "--format", "json")
    assert code == 0 and json.loads(out)["sites"] == 2
    code, out, _ = _run(capsys, "ledger", "backup", "--data-dir", str(data))
    assert code == 0 and Path(out.strip()).is_file()


def test_verify_reports_damage_and_open_refuses(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A flipped byte: verify exits 1 naming file and line; commands refuse with exit 4."""
    path = data / "ledger.db"
    raw = bytearray(path.read_bytes())
    raw[raw.index(b"P002")] = ord("Q")
    path.write_bytes(bytes(raw))
    code, out, _ = _run(capsys, "ledger", "verify", "--data-dir", str(data))
    assert code == 1 and "ledger.db:4: checksum mismatch" in out
    code, _, err = _run(capsys, "sites", "list", "--data-dir", str(data))
    assert code == 4 and "damaged ledger" in err and "ledger.db:4" in err
    code, out, _ = _run(capsys, "ledger", "rebuild", "--salvage", "--data-dir", str(data))
    assert code == 0 and "kept 1 events" in out
    assert _run(capsys, "ledger", "verify", "--data-dir", str(data))[0] == 0


def test_locked_ledger_is_a_clear_error(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Importing while another process holds the ledger: exit 4, the holder named."""
    with Ledger.open(data, clock=kit.clock()):
        path = data.parent / "sites.csv"
        code, _, err = _run(capsys, "sites", "import", str(path), "--data-dir", str(data))
    assert code == 4 and "in use by another inspect-engine process (pid" in err


def test_empty_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Read-only commands on a fresh directory create nothing."""
    code, out, _ = _run(capsys, "ledger", "info", "--data-dir", str(tmp_path / "x"))
    assert code == 0 and "no ledger yet" in out
    assert _run(capsys, "ledger", "verify", "--data-dir", str(tmp_path / "x"))[0] == 0
    assert not (tmp_path / "x").exists()
