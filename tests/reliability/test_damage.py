"""T5: damaged and foreign ledger files are detected and located, never repaired or overwritten.

From one valid data directory (a ``ledger.db`` referencing two sealed segments that hold sites, a
submitted inspection and findings in the loop, plus two more sites of its own; a ``journal.db``
holding an open inspection's answers) the test makes every variant below of each file (both
segments included), and for each one checks that opening (writable and read-only) raises
:class:`LedgerDamaged`, that ``verify`` reports the damage with a line, and that not one byte of
either file changed.

Variants: truncation at every byte offset of the last three lines and at 40 other offsets; one
byte flipped at three places in every line; every line duplicated; adjacent lines swapped;
every middle line deleted; a newer and an older format version (checksums recomputed, so only
the version is wrong); another kind of file; a stock TinyDB JSON file; an empty file; random
bytes.
"""

from __future__ import annotations

import json
import random
import shutil
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from inspect_engine import ledger as ledger_module
from inspect_engine.ledger import Ledger
from inspect_engine.ledger_repair import verify_data_dir
from inspect_engine.storage import FORMAT_VERSION, SEGMENT_DIR, LedgerDamaged
from tests.reliability import kit


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid data directory: ledger.db with two sealed segments and records of its own, and
    a journal."""
    base = tmp_path_factory.mktemp("damage") / "template"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ledger_module, "SEAL_AT", 4)
        _fill(base)
    assert verify_data_dir(base).ok
    assert len(_segments(base)) == 2
    return base


def _segments(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / SEGMENT_DIR).glob("*.db"))


def _fill(base: Path) -> None:
    with Ledger.open(base, clock=kit.clock(), actor="张三") as led:
        led.register_sites([kit.site(i) for i in range(3)])
        done = led.start_inspection(
            "S0001",
            pack_id="building-safety",
            pack_version="1.0.0",
            method="明查",
            inspectors=["张三"],
        )
        led.record_answer(done.id, "q1", "no")
        found = led.submit_inspection(done.id, [kit.finding("R1"), kit.finding("R2")])
        led.start_rectification(found[0].id)
        led.register_sites([kit.site(i) for i in range(3, 5)])  # stays in ledger.db
        insp = led.start_inspection(
            "S0002",
            pack_id="building-safety",
            pack_version="1.0.0",
            method="暗访",
            inspectors=["张三"],
        )
        for i in range(3):
            led.record_answer(insp.id, f"q{i}", "yes")


def _relined(lines: list[bytes]) -> bytes:
    return b"".join(lines)


def _with_crc(obj: dict[str, object]) -> bytes:
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
    return b"%08x %s\n" % (zlib.crc32(body), body)


def variants(data: bytes, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    """Every damaged form of one file's bytes."""
    lines = data.splitlines(keepends=True)
    tail = len(b"".join(lines[-3:]))
    offsets = set(range(len(data) - tail, len(data)))
    offsets |= {0, 1, 8, 9} | {rng.randrange(len(data)) for _ in range(40)}
    for cut in sorted(offsets):
        yield f"truncated at byte {cut}", data[:cut]
    start = 0
    for number, line in enumerate(lines, start=1):
        for pos in rng.sample(range(len(line)), min(3, len(line))):
            flipped = bytearray(data)
            flipped[start + pos] ^= 1 << rng.randrange(8)
            yield f"line {number} byte {pos} flipped", bytes(flipped)
        start += len(line)
    for i, line in enumerate(lines):
        if line[:8] != line[:8].upper():
            # regression: int(x, 16) read an upper-cased checksum as the same number, so a
            # flipped case bit in the end marker's checksum went unnoticed (seen once in CI)
            upper = lines[:i] + [line[:8].upper() + line[8:]] + lines[i + 1 :]
            yield f"line {i + 1} checksum upper-cased", _relined(upper)
    for i in range(len(lines)):
        yield f"line {i + 1} duplicated", _relined(lines[: i + 1] + lines[i:])
    for i in range(1, len(lines) - 1):
        swapped = lines[:]
        swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
        yield f"lines {i + 1} and {i + 2} swapped", _relined(swapped)
    for i in range(1, len(lines) - 1):
        yield f"line {i + 1} deleted", _relined(lines[:i] + lines[i + 1 :])
    header = json.loads(lines[0][9:])
    for version in (FORMAT_VERSION + 1, 0):
        bumped = [_with_crc({**header, "version": version}), *lines[1:]]
        yield f"format version {version}", _relined(bumped)
    other = "journal" if header["kind"] == "main" else "main"
    yield "another kind of file", _relined([_with_crc({**header, "kind": other}), *lines[1:]])
    yield "stock TinyDB JSON", b'{"_default": {"1": {"a": 1}}}'
    yield "empty file", b""
    yield "random bytes", bytes(rng.randrange(256) for _ in range(300))


def _cases() -> list[str]:
    return ["ledger.db", "journal.db", "segment 1", "segment 2"]


@pytest.mark.parametrize("case", _cases())
def test_every_damage_is_detected_located_and_left_alone(
    template: Path, tmp_path: Path, case: str
) -> None:
    """Open refuses (both modes) naming file and line; verify agrees; 0 bytes changed."""
    rng = random.Random(zlib.crc32(case.encode()))  # not hash(): salted per process
    if case.startswith("segment"):
        name = f"{SEGMENT_DIR}/{_segments(template)[int(case.split()[1]) - 1]}"
    else:
        name = case
    original = (template / name).read_bytes()
    count = 0
    for label, damaged in variants(original, rng):
        work = tmp_path / "work"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(template, work)
        (work / name).write_bytes(damaged)
        before = kit.files_digest(work)
        for readonly in (False, True):
            try:
                Ledger.open(work, clock=kit.clock(), readonly=readonly).close()
            except LedgerDamaged as err:
                first = err.problems[0]
            else:
                pytest.fail(f"{label}: opened (readonly={readonly}) without noticing the damage")
            assert first.file.endswith(name.split("/")[-1]), (label, first.render())
            assert first.line is not None or first.key, (label, first.render())
        report = verify_data_dir(work)
        assert not report.ok, label
        assert any(p.file.endswith(name.split("/")[-1]) and p.line for p in report.problems), (
            label,
            [p.render() for p in report.problems],
        )
        assert kit.files_digest(work) == before, f"{label}: a file was changed"
        assert not list(work.glob("damaged-*")), "nothing is moved without being asked"
        count += 1
    print(f"\nT5 {name}: {count} damaged variants, {count} detected and located, 0 changed")
    assert count > 100


def test_a_missing_or_replaced_segment_is_damage(template: Path, tmp_path: Path) -> None:
    """A sealed segment deleted, or replaced by another valid segment (here: its neighbour's
    content under its name), is refused by both opens and named by verify; nothing changes."""
    first, second = _segments(template)
    for label in ("deleted", "replaced"):
        work = tmp_path / label
        shutil.copytree(template, work)
        folder = work / SEGMENT_DIR
        if label == "deleted":
            (folder / first).unlink()
        else:
            (folder / first).write_bytes((folder / second).read_bytes())
        before = kit.files_digest(work)
        for readonly in (False, True):
            with pytest.raises(LedgerDamaged) as err:
                Ledger.open(work, clock=kit.clock(), readonly=readonly).close()
            assert err.value.problems[0].file.endswith(first), label
        report = verify_data_dir(work)
        assert any(p.file.endswith(first) for p in report.problems), label
        assert kit.files_digest(work) == before, label


def test_tampering_with_valid_checksums_is_caught_by_verify(template: Path, tmp_path: Path) -> None:
    """An event edited and re-checksummed (line CRC and end marker redone) fails its hash."""
    work = tmp_path / "work"
    shutil.copytree(template, work)
    lines = (work / "ledger.db").read_bytes().splitlines(keepends=True)
    target = next(i for i, ln in enumerate(lines) if b'"site.registered"' in ln)
    record = json.loads(lines[target][9:])
    record["doc"]["payload"]["site"]["name"] = "改过的名字"
    lines[target] = _with_crc(record)
    body = b"".join(lines[:-1])
    import hashlib

    end = json.loads(lines[-1][9:])
    end["end"]["sha256"] = hashlib.sha256(body).hexdigest()
    (work / "ledger.db").write_bytes(body + _with_crc(end))
    report = verify_data_dir(work)
    assert not report.ok
    assert any("hash does not match" in p.message and p.line == target + 1 for p in report.problems)


def test_salvage_keeps_the_damaged_files_and_the_valid_events(
    template: Path, tmp_path: Path
) -> None:
    """``rebuild --salvage``: explicit; copies the damaged files aside; keeps what verifies."""
    work = tmp_path / "work"
    shutil.copytree(template, work)
    with Ledger.open(work, readonly=True) as led:
        total = len(led.events())
    lines = (work / "ledger.db").read_bytes().splitlines(keepends=True)
    damaged = b"".join(lines[:6]) + b"garbage\n" + b"".join(lines[7:])
    (work / "ledger.db").write_bytes(damaged)
    from inspect_engine.ledger_repair import salvage

    result = salvage(work, clock=kit.clock())
    assert result.needed and result.moved_to is not None
    assert (result.moved_to / "ledger.db").read_bytes() == damaged
    assert verify_data_dir(work).ok
    with Ledger.open(work) as led:
        assert 0 < len(led.events()) < total
    assert result.dropped
    again = salvage(work, clock=kit.clock())
    assert not again.needed
