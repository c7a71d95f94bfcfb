"""`inspect-engine sync ...`: data on stdout, progress and errors on stderr, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspect_engine.cli.main import main
from inspect_engine.errors import ExitCode
from inspect_engine.ledger import Ledger
from tests.reliability import kit

NOW = ["--now", "2020-09-01T09:00:00+08:00"]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def dirs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """An enrolled hub (with two sites) and laptop, through the CLI."""
    hub, lap = tmp_path / "hub", tmp_path / "lap"
    code, out, _ = _run(capsys, "sync", "enroll", "--as-hub", "--data-dir", str(hub), *NOW)
    assert code == 0 and out.startswith("hub ")
    with Ledger.open(hub, clock=kit.clock()) as led:
        led.register_sites([kit.site(1), kit.site(2)])
    code, out, err = _run(
        capsys, "sync", "enroll", "--data-dir", str(lap), "--hub", str(hub),
        "--inspector", "张三", *NOW,
    )  # fmt: skip
    assert code == 0, err
    assert "inspector 张三" in out and "received" in out
    assert "[enroll] verify 5/5" in err
    return hub, lap


def test_status_json(dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """`sync status --format json` names the role, the hub, the devices and the checkpoints."""
    hub, lap = dirs
    code, out, _ = _run(capsys, "sync", "status", "--data-dir", str(lap), "--format", "json")
    assert code == 0
    status = json.loads(out)
    assert status["role"] == "laptop" and status["hub"] is not None
    roles = {d["role"] for d in status["devices"]}
    assert roles == {"hub", "laptop"}
    code, out, _ = _run(capsys, "sync", "status", "--data-dir", str(hub))
    assert code == 0 and "role hub" in out and "张三" in out


def test_export_import_and_again(
    dirs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Export then import twice: the second import reports 0 new, N already present."""
    hub, lap = dirs
    with Ledger.open(lap, clock=kit.clock(), actor="张三") as led:
        insp = led.start_inspection(
            "S0001", pack_id="building-safety", pack_version="1.0.0", method="open",
            inspectors=["张三"],
        )  # fmt: skip
        led.submit_inspection(insp.id, [kit.finding()])
    bundle = tmp_path / "usb" / "a.bundle"
    code, out, err = _run(capsys, "sync", "export", "--data-dir", str(lap), "-o", str(bundle))
    assert code == 0 and bundle.exists() and "wrote" in err
    args = ["sync", "import", "--data-dir", str(hub), "--format", "json", str(bundle)]
    code, out, _ = _run(capsys, *args)
    first = json.loads(out)[0]
    code2, out, _ = _run(capsys, *args)
    second = json.loads(out)[0]
    assert code == code2 == 0
    assert (first["new"], first["already_present"]) == (2, 0)
    assert (second["new"], second["already_present"]) == (0, 2)
    code, out, _ = _run(capsys, "sync", "export", "--data-dir", str(hub), "--for", "张三",
                        "-o", str(tmp_path / "usb"))  # fmt: skip
    assert code == 0
    back = [p for p in (tmp_path / "usb").iterdir() if p.name != "a.bundle"]
    code, out, _ = _run(capsys, "sync", "import", "--data-dir", str(lap), str(back[0]))
    assert code == 0 and "refused 0" in out


def test_refused_bundle_exits_5(
    dirs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A refused bundle: exit 5, the reason code on stderr, the refusal in the summary."""
    hub, lap = dirs
    bundle = tmp_path / "a.bundle"
    assert _run(capsys, "sync", "export", "--data-dir", str(lap), "-o", str(bundle))[0] == 0
    bundle.write_bytes(bundle.read_bytes()[:-10])
    code, out, err = _run(capsys, "sync", "import", "--data-dir", str(hub), str(bundle))
    assert code == ExitCode.REFUSED
    assert "refused [truncated]" in err and "未导入任何内容" in err
    assert "refused [truncated]" in out and "refused 1" in out


def test_run_and_conflicts(dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """`sync run` both ways; `sync conflicts` with none, as table and JSON."""
    hub, lap = dirs
    code, out, _ = _run(capsys, "sync", "run", "--data-dir", str(lap), "--hub", str(hub))
    assert code == 0 and out.splitlines()[2].startswith("push")
    code, out, _ = _run(capsys, "sync", "conflicts", "--data-dir", str(hub))
    assert code == 0 and "no conflicts" in out
    code, out, _ = _run(capsys, "sync", "conflicts", "--data-dir", str(hub), "--format", "json")
    assert json.loads(out) == []


def test_usage_and_input_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Missing choices are usage errors (2); an unenrolled ledger or a missing name is input (3)."""
    assert _run(capsys, "sync", "enroll", "--data-dir", str(tmp_path / "x"))[0] == ExitCode.USAGE
    hub = tmp_path / "hub"
    assert _run(capsys, "sync", "enroll", "--as-hub", "--data-dir", str(hub))[0] == 0
    code, _, err = _run(
        capsys, "sync", "enroll", "--data-dir", str(tmp_path / "l"), "--hub", str(hub)
    )
    assert code == ExitCode.BAD_INPUT and "--inspector" in err
    Ledger.open(tmp_path / "plain", clock=kit.clock()).close()
    code, _, err = _run(
        capsys, "sync", "export", "--data-dir", str(tmp_path / "plain"), "-o", str(tmp_path / "b")
    )
    assert code == ExitCode.BAD_INPUT and "not enrolled" in err
    code, _, err = _run(capsys, "sync", "export", "--data-dir", str(hub), "-o", str(tmp_path))
    assert code == ExitCode.BAD_INPUT and "--for" in err
