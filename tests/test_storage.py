"""The storage layer: file format, cache, atomic writes, the lock, and who imports TinyDB."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspect_engine.fsio import FileOps, atomic_write, cleanup_temp_files
from inspect_engine.storage import (
    LedgerDamaged,
    LedgerLocked,
    LedgerStorage,
    TableFile,
    WriterLock,
    encode_chunks,
    encode_file,
    parse_file,
)

PACKAGE = Path(__file__).resolve().parents[1] / "inspect_engine"


def _tables() -> dict[str, dict[str, dict[str, object]]]:
    return {
        "meta": {"1": {"device_id": "d" * 32}},
        "events": {str(i): {"n": i, "text": "平定县 冠山镇", "x": [1.5, None]} for i in (1, 2, 5)},
    }


def test_round_trip() -> None:
    """Encoding then parsing gives the same tables; ids and order are kept."""
    data = encode_file("main", _tables())
    parsed = parse_file(data, "f", "main")
    assert parsed.problems == []
    assert parsed.tables == _tables()
    assert parsed.lines[("events", "5")] == 5
    assert "平定县".encode() in data  # stored as UTF-8, not \\u escapes


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda d: b"", "empty file"),
        (lambda d: b'{"_default": {}}', "stock TinyDB"),
        (lambda d: d[:-1], "cut short"),
        (lambda d: d[: d.rindex(b"\n", 0, -1) + 1], "no end marker"),
        (lambda d: d.replace(b'"n":2', b'"n":3'), "checksum mismatch"),
        (lambda d: d.replace(b"main", b"journal", 1), "checksum mismatch"),
    ],
)
def test_damage_is_located(damage: object, words: str) -> None:
    """Each kind of damage yields a problem with a line number."""
    data = encode_file("main", _tables())
    parsed = parse_file(damage(data), "f", "main")  # type: ignore[operator]
    assert parsed.problems, words
    assert words in parsed.problems[0].message
    assert parsed.problems[0].line is not None


def test_duplicated_and_swapped_lines() -> None:
    """A duplicated record and two swapped records are named with their lines."""
    lines = encode_file("main", _tables()).splitlines(keepends=True)
    dup = parse_file(b"".join(lines[:4] + lines[3:]), "f", "main").problems
    assert any("duplicate record" in p.message and p.line == 5 for p in dup)
    swapped = lines[:]
    swapped[3], swapped[4] = swapped[4], swapped[3]
    probs = parse_file(b"".join(swapped), "f", "main").problems
    assert any("out of order" in p.message for p in probs)


def test_versions_and_kinds() -> None:
    """A newer version asks for an upgrade; a file of another kind is refused."""
    data = encode_file("main", _tables())
    assert "this is a 'main' file" in parse_file(data, "f", "journal").problems[0].message


def _storage(tmp_path: Path, **kw: object) -> LedgerStorage:
    return LedgerStorage(tmp_path / "x.db", kind="main", **kw)  # type: ignore[arg-type]


def test_cache_avoids_reparsing_until_the_file_changes(tmp_path: Path) -> None:
    """Repeated reads parse once; a replacement by another writer is noticed."""
    st = _storage(tmp_path)
    assert st.read() is None
    st.write(_tables())
    first = st.read()
    assert first == _tables() and st.reads == 0  # our own write filled the cache
    other = _storage(tmp_path)
    for _ in range(5):
        assert other.read() == _tables()
    assert other.reads == 1
    changed = _tables()
    changed["events"]["9"] = {"n": 9}
    st.write(changed)
    assert other.read() == changed
    assert other.reads == 2


def test_failed_write_leaves_the_file_and_drops_the_cache(tmp_path: Path) -> None:
    """A write that fails raises, keeps the old file, and forgets the cache."""

    class Full(FileOps):
        def fsync(self, fd: int) -> None:
            raise OSError(28, "No space left on device")

    st = _storage(tmp_path)
    st.write(_tables())
    before = (tmp_path / "x.db").read_bytes()
    broken = _storage(tmp_path, ops=Full())
    broken.read()
    with pytest.raises(Exception, match="No space left"):
        broken.write({"meta": {}})
    assert (tmp_path / "x.db").read_bytes() == before
    assert [n for n in os.listdir(tmp_path) if ".tmp-" in n] == []
    assert broken.read() == _tables()


def test_read_only_storage_refuses_writes(tmp_path: Path) -> None:
    """``readonly`` storage never writes."""
    with pytest.raises(Exception, match="read-only"):
        _storage(tmp_path, readonly=True).write(_tables())


def test_damaged_file_is_never_rewritten(tmp_path: Path) -> None:
    """Reading a damaged file raises; nothing is written over it."""
    path = tmp_path / "x.db"
    path.write_bytes(b"not a ledger\n")
    table = TableFile(path, kind="main", ops=FileOps())
    with pytest.raises(LedgerDamaged):
        table.records("events")
    with pytest.raises(LedgerDamaged):
        table.append("events", [{"a": 1}])
    assert path.read_bytes() == b"not a ledger\n"


def test_table_file_appends_in_order(tmp_path: Path) -> None:
    """TinyDB under the storage: appends get increasing ids, clear empties a table."""
    table = TableFile(tmp_path / "t.db", kind="journal", ops=FileOps(), immutable=["events"])
    table.append("events", [{"i": 1}, {"i": 2}])
    table.append("events", [{"i": 3}])
    assert [d["i"] for d in table.records("events")] == [1, 2, 3]
    table.clear("events")
    assert table.records("events") == []
    assert table.exists()


def test_atomic_write_keeps_mode_and_cleans_temp_files(tmp_path: Path) -> None:
    """A replaced file keeps its mode; a new one is private; leftovers are removed."""
    path = tmp_path / "f.db"
    atomic_write(path, b"one", FileOps())
    assert path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o640)
    atomic_write(path, b"two", FileOps())
    assert path.read_bytes() == b"two" and path.stat().st_mode & 0o777 == 0o640
    (tmp_path / ".f.db.tmp-abc").write_bytes(b"half")
    (tmp_path / ".other.tmp-abc").write_bytes(b"not ours")
    assert cleanup_temp_files(tmp_path, ["f.db"], FileOps()) == [".f.db.tmp-abc"]
    assert (tmp_path / ".other.tmp-abc").exists()


def test_second_writer_gets_a_clear_error(tmp_path: Path) -> None:
    """The lock names the holder's pid; it is free again once released."""
    first = WriterLock(tmp_path / "ledger.lock")
    first.acquire(0, tmp_path)
    second = WriterLock(tmp_path / "ledger.lock")
    with pytest.raises(LedgerLocked, match=f"pid {os.getpid()}"):
        second.acquire(0, tmp_path)
    first.release()
    second.acquire(0, tmp_path)
    assert second.held
    second.release()


def test_lock_is_released_when_the_holder_is_killed(tmp_path: Path) -> None:
    """A holder killed by SIGKILL leaves no stale lock behind."""
    code = (
        "import sys, time; from pathlib import Path;"
        "from inspect_engine.storage import WriterLock;"
        "held = WriterLock(Path(sys.argv[1])); held.acquire(0, Path('.'));"
        "print('held', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "ledger.lock")], stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"held"
    lock = WriterLock(tmp_path / "ledger.lock")
    with pytest.raises(LedgerLocked, match=f"pid {proc.pid}"):
        lock.acquire(0, tmp_path)
    proc.kill()
    proc.wait()
    proc.stdout.close()
    lock.acquire(5, tmp_path)
    lock.release()


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_storage_module_imports_tinydb() -> None:
    """DESIGN.md: only the storage module imports ``tinydb``."""
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "tinydb" in _imports(p) and p.name != "storage.py"
    ]
    assert offenders == []


def test_the_ledger_does_not_pull_in_the_app() -> None:
    """Importing the ledger and its CLI loads neither textual nor tui."""
    code = (
        "import sys, inspect_engine.ledger, inspect_engine.cli.ledger_cmd,"
        " inspect_engine.cli.sites_cmd;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'tui')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_chunked_encoding_is_the_same_file() -> None:
    """``encode_chunks`` (backups of a city ledger, never whole in memory) gives exactly the
    bytes of ``encode_file`` for tables with ids 1, 2, ..., whatever the chunk size."""
    meta: dict[str, object] = {"device_id": "d" * 32}
    docs: list[dict[str, object]] = [{"n": i, "text": "平定县 冠山镇"} for i in range(7)]
    whole = encode_file(
        "main", {"meta": {"1": meta}, "events": {str(i + 1): d for i, d in enumerate(docs)}}
    )
    for lines in (1, 3, 100):
        chunks = encode_chunks("main", [("meta", [meta]), ("events", docs)], lines=lines)
        assert b"".join(chunks) == whole
    assert parse_file(whole, "f", "main").problems == []


def test_atomic_write_of_chunks_fails_whole(tmp_path: Path) -> None:
    """A chunk iterable that fails midway leaves the old file and no temporary file."""
    target = tmp_path / "f.db"
    atomic_write(target, [b"old\n"], FileOps())

    def chunks() -> Iterator[bytes]:
        yield b"new, part one\n"
        raise ValueError("encoding failed")

    with pytest.raises(ValueError):
        atomic_write(target, chunks(), FileOps())
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["f.db"]
