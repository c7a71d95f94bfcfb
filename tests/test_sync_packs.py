"""Rule packs travel hub → laptop in bundles: checked before anything is written, installed
atomically after the events, found by discovery, and never replacing a version an inspection
pinned.

The hub gets a new pack version with ``packs install`` (or :func:`install_pack`); every bundle it
makes for a laptop carries the packs in force on it. Forged bundles (a buggy or compromised hub,
a laptop sending packs) are re-signed with the real keys so that they reach the pack checks.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from inspect_engine.cli.main import main
from inspect_engine.conditions import AnswerValue
from inspect_engine.errors import ExitCode, InputError, PackError
from inspect_engine.fsio import FileOps
from inspect_engine.ledger import Ledger
from inspect_engine.packs import (
    CATALOG,
    checklists_root,
    data_dir_sources,
    load_pack,
    pack_dirs,
    pack_sources,
)
from inspect_engine.packstore import (
    STAGING,
    PackRejected,
    check_pack,
    folder_fingerprint,
    install_pack,
    read_pack_files,
)
from inspect_engine.sync import keys
from inspect_engine.sync.bundle import EVENTS, MANIFEST, BundleDraft, Limits, build, open_bundle
from inspect_engine.sync.protocol import export_bundle, import_bundle, open_endpoint
from inspect_engine.sync.reasons import Reason, Refused
from tests.reliability import kit
from tests.reliability.sync_kit import (
    NEW_Q,
    OLD_Q,
    PACK,
    SECTION,
    World,
    digest,
    install_into,
    make_world,
    pack_version,
)

A = "张三"
PREFIX = f"packs/{PACK}/1.0.1/"


# --------------------------------------------------------------------------- helpers


def tree(path: Path) -> dict[str, str]:
    """SHA-256 of every file under ``path`` except the lock (to prove nothing was written)."""
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file() and p.name != "ledger.lock"
    }


def reforge(data: bytes, key_dir: Path, change: Callable[[dict[str, bytes]], None]) -> bytes:
    """The bundle rebuilt with its pack members changed by ``change``, signed with the key of
    ``key_dir``'s device (its real key: a buggy or compromised signer)."""
    bundle = open_bundle(data)
    m = bundle.manifest
    packs = {name: bundle.read(name) for name in bundle.pack_members}
    change(packs)
    draft = BundleDraft(
        device=m.device,
        recipient=m.recipient,
        events_jsonl=bundle.read(EVENTS),
        event_count=m.event_count,
        chains=list(m.chains),
        have=dict(m.have),
        evidence=dict(bundle.evidence()),
        packs=packs,
        created=m.created,
    )
    return build(draft, keys.load_key(key_dir))


def refused(world: World, data: bytes, who: str | None = A) -> Refused:
    """Import ``data`` into the laptop (or the hub, ``who`` None): it must be refused with
    every file of that data directory unchanged; the refusal."""
    target = world.hub if who is None else world.laptops[who]
    before = tree(target)
    with open_endpoint(target, clock=kit.clock()) as ep, pytest.raises(Refused) as caught:
        import_bundle(ep, data)
    assert tree(target) == before
    return caught.value


@pytest.fixture
def world(tmp_path: Path) -> World:
    """A hub and one laptop, synced; the hub holds building-safety 1.0.1 in its data dir."""
    w = make_world(tmp_path / "w", [A], sites=2)
    assert install_into(w.hub, pack_version(tmp_path, "1.0.1")) == "install"
    return w


# --------------------------------------------------------------------------- delivery


def test_hub_bundle_carries_packs_hashed_and_signed(world: World) -> None:
    """A hub's bundle carries each pack in force (pack.yaml, sections, vocabulary), one
    version per id, every file listed with its hash in the signed manifest."""
    bundle = open_bundle(world.export(to=A))
    names = bundle.pack_members
    assert PREFIX + "pack.yaml" in names and PREFIX + SECTION in names
    assert PREFIX + CATALOG in names
    assert "packs/eleven-prohibitions/1.0.0/pack.yaml" in names  # the program's, in force
    assert not any(n.startswith(f"packs/{PACK}/1.0.0/") for n in names)
    assert set(names) <= set(bundle.manifest.members)
    bundle.verify_contents()
    assert NEW_Q.encode() in bundle.read(PREFIX + SECTION)


def test_laptop_bundle_carries_no_packs(world: World) -> None:
    """Laptop → hub: events only."""
    assert open_bundle(world.export(A)).pack_members == []


def test_bundle_import_installs_the_new_version(world: World) -> None:
    """The laptop installs 1.0.1 in its data directory (same files as the hub's), after which
    discovery resolves building-safety to it; the program's own packs are not copied."""
    lap = world.laptops[A]
    with open_endpoint(lap, clock=kit.clock()) as ep:
        summary = import_bundle(ep, world.export(to=A))
    assert summary.packs == [f"{PACK} 1.0.1", "eleven-prohibitions 1.0.0"]
    assert summary.packs_installed == [f"{PACK} 1.0.1"]
    installed = [(s.id, s.version) for s in data_dir_sources(lap)]
    assert installed == [(PACK, "1.0.1")]
    folder = lap / "packs" / PACK / "1.0.1"
    assert folder_fingerprint(folder) == folder_fingerprint(world.hub / "packs" / PACK / "1.0.1")
    assert (folder / CATALOG).is_file()
    assert not [p for p in (lap / "packs" / PACK).iterdir() if p.name.startswith(STAGING)]
    pack = load_pack(PACK, data_dir=lap)
    assert pack.version == "1.0.1" and pack.item("BS.LAND.01").question.zh == NEW_Q


def test_reimport_changes_nothing(world: World) -> None:
    """The same bundle twice: the second import installs nothing and leaves every pack file
    and the ledger as they were."""
    lap = world.laptops[A]
    data = world.export(to=A)
    with open_endpoint(lap, clock=kit.clock()) as ep:
        import_bundle(ep, data)
    packs_before, ledger_before = tree(lap / "packs"), digest(lap)
    with open_endpoint(lap, clock=kit.clock()) as ep:
        again = import_bundle(ep, data)
    assert again.packs_installed == [] and again.new == 0
    assert tree(lap / "packs") == packs_before and digest(lap) == ledger_before


def test_sync_run_delivers_the_pack(world: World) -> None:
    """A direct sync pulls the pack too; running it again installs nothing."""
    push, pull = world.run(A)
    assert push.packs == [] and pull.packs_installed == [f"{PACK} 1.0.1"]
    before = tree(world.laptops[A] / "packs")
    assert world.run(A)[1].packs_installed == []
    assert tree(world.laptops[A] / "packs") == before


def test_sync_cli_reports_installed_packs(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """`sync run` names the packs it installed, in the table and in JSON."""
    lap = str(world.laptops[A])
    assert main(["sync", "run", "--quiet", "--data-dir", lap, "--hub", str(world.hub)]) == 0
    assert f"{PACK} 1.0.1" in capsys.readouterr().out
    args = ["sync", "run", "--quiet", "--data-dir", lap, "--hub", str(world.hub)]
    assert main([*args, "--format", "json"]) == 0
    pull = json.loads(capsys.readouterr().out)[1]
    assert pull["packs_installed"] == [] and f"{PACK} 1.0.1" in pull["packs"]


def test_upgrade_keeps_the_older_installed_version(world: World, tmp_path: Path) -> None:
    """1.0.1 then 1.0.2: both version folders stay; 1.0.2 is in force."""
    world.run(A)
    assert install_into(world.hub, pack_version(tmp_path / "v2", "1.0.2")) == "install"
    assert world.run(A)[1].packs_installed == [f"{PACK} 1.0.2"]
    lap = world.laptops[A]
    assert [s.version for s in data_dir_sources(lap)] == ["1.0.1", "1.0.2"]
    assert load_pack(PACK, data_dir=lap).version == "1.0.2"


# --------------------------------------------------------------------------- refusals


def test_tampered_pack_member_is_refused(world: World) -> None:
    """A pack file changed after signing (manifest untouched): hash-mismatch, nothing written."""
    data = world.export(to=A)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == PREFIX + SECTION:
                body = body.replace(NEW_Q.encode(), "该建筑目前的建设状态（篡改）".encode())
            zout.writestr(info, body)
    err = refused(world, out.getvalue())
    assert err.reason is Reason.HASH_MISMATCH and SECTION in err.detail


def _edit(name: str, old: str, new: str) -> Callable[[dict[str, bytes]], None]:
    def change(packs: dict[str, bytes]) -> None:
        text = packs[name].decode("utf-8")
        assert old in text
        packs[name] = text.replace(old, new, 1).encode("utf-8")

    return change


def _drop(name: str) -> Callable[[dict[str, bytes]], None]:
    def change(packs: dict[str, bytes]) -> None:
        del packs[name]

    return change


def _add(name: str, body: bytes) -> Callable[[dict[str, bytes]], None]:
    return lambda packs: packs.update({name: body})


INVALID: dict[str, tuple[Callable[[dict[str, bytes]], None], list[str]]] = {
    "unknown key": (
        _edit(PREFIX + "pack.yaml", "format: 1\n", "format: 1\ncolour: red\n"),
        [f"{PREFIX}pack.yaml:", "colour: unknown key"],
    ),
    "schema error in a section": (
        _edit(PREFIX + SECTION, "answer: {type: yes_no, allow_na: false}", "answer: {type: maybe}"),
        [f"{PREFIX}{SECTION}:", "answer"],
    ),
    "section missing": (_drop(PREFIX + SECTION), ["does not exist"]),
    "vocabulary missing": (_drop(PREFIX + CATALOG), [f"{CATALOG} is missing"]),
    "file not in the pack": (_add(PREFIX + "notes.yaml", b"a: 1\n"), ["notes.yaml is not one"]),
    "manifest names another version": (
        _edit(PREFIX + "pack.yaml", "version: 1.0.1", "version: 1.0.3"),
        ["is building-safety 1.0.3, sent as building-safety 1.0.1"],
    ),
    "two versions of one pack": (
        lambda p: p.update({k.replace("/1.0.1/", "/1.0.2/"): v for k, v in list(p.items())}),
        ["two versions of rule pack building-safety"],
    ),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_pack_is_refused_naming_the_problem(world: World, case: str) -> None:
    """A hub bundle whose pack fails validation (checked in a temporary folder): pack-invalid,
    the detail naming the pack and its problem; nothing of the bundle imported."""
    change, words = INVALID[case]
    hub_site = kit.site(9)
    with world.ledger() as hub:
        hub.register_sites([hub_site])  # new events travel in the same bundle
    data = reforge(world.export(to=A), world.hub, change)
    err = refused(world, data)
    assert err.reason is Reason.PACK_INVALID, err
    assert "building-safety" in err.detail
    for word in words:
        assert word in err.detail, err.detail
    with Ledger.open(world.laptops[A], readonly=True) as lap:
        assert hub_site.id not in lap.projection.sites


def test_downgrade_is_refused(world: World) -> None:
    """The laptop holds 1.0.1; a hub whose data directory lost it sends the program's 1.0.0:
    pack-downgrade, and the new events of that bundle are not imported either."""
    world.run(A)
    shutil.rmtree(world.hub / "packs")  # a hub restored from an old backup, say
    with world.ledger() as hub:
        hub.register_sites([kit.site(9)])
    err = refused(world, world.export(to=A))
    assert err.reason is Reason.PACK_DOWNGRADE
    assert "building-safety 1.0.0 is older than 1.0.1" in err.detail
    assert "pack-downgrade" in str(err) and "规则包版本低于本机已安装的版本" in str(err)


def test_changed_copy_of_an_installed_version_is_refused(world: World) -> None:
    """1.0.1 is installed on the laptop; a 1.0.1 with other content: pack-conflict."""
    world.run(A)
    changed = reforge(
        world.export(to=A), world.hub, _edit(PREFIX + SECTION, NEW_Q, NEW_Q + "（又改）")
    )
    err = refused(world, changed)
    assert err.reason is Reason.PACK_CONFLICT
    assert "differs from the 1.0.1 installed here" in err.detail


def test_changed_copy_of_the_programs_version_is_refused(world: World, tmp_path: Path) -> None:
    """A building-safety 1.0.0 that is not the program's 1.0.0: pack-conflict (findings pin
    id and version, so one version must mean one pack everywhere)."""
    files = read_pack_files(pack_version(tmp_path / "c", "1.0.1")).files
    files["pack.yaml"] = files["pack.yaml"].replace(b"version: 1.0.1", b"version: 1.0.0")

    def as_changed_100(packs: dict[str, bytes]) -> None:
        for name in [n for n in packs if n.startswith(f"packs/{PACK}/")]:
            del packs[name]
        packs.update({f"packs/{PACK}/1.0.0/{rel}": body for rel, body in files.items()})

    err = refused(world, reforge(world.export(to=A), world.hub, as_changed_100))
    assert err.reason is Reason.PACK_CONFLICT and "the program's" in err.detail


def test_laptop_bundle_with_packs_is_refused_at_the_hub(world: World) -> None:
    """Packs flow from the hub only: a laptop's bundle carrying one is refused
    (pack-from-laptop), nothing imported at the hub."""
    hub_bundle = open_bundle(world.export(to=A))
    stolen = {n: hub_bundle.read(n) for n in hub_bundle.pack_members if n.startswith(PREFIX)}
    data = reforge(world.export(A), world.laptops[A], lambda packs: packs.update(stolen))
    err = refused(world, data, who=None)
    assert err.reason is Reason.PACK_FROM_LAPTOP


@pytest.mark.parametrize(
    "name",
    [
        "packs/building-safety/1.0/pack.yaml",  # not MAJOR.MINOR.PATCH
        "packs/building-safety/01.0.0/pack.yaml",  # leading zero
        "packs/Building/1.0.0/pack.yaml",  # not a pack id
        "packs/building-safety/1.0.0/.hidden.yaml",
        "packs/building-safety/1.0.0/notes.txt",  # YAML only
        "packs/building-safety/pack.yaml",
    ],
)
def test_reader_refuses_odd_pack_member_names(world: World, name: str) -> None:
    """The paranoid reader admits only ``packs/<id>/<version>/<path>.yaml``."""
    data = world.export(to=A)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        odd = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        odd.create_system, odd.external_attr = 3, (stat.S_IFREG | 0o644) << 16
        zout.writestr(odd, b"x: 1\n")
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
    with pytest.raises(Refused) as caught:
        open_bundle(out.getvalue())
    assert caught.value.reason is Reason.UNEXPECTED_MEMBER


def test_pack_file_over_the_loader_cap_is_oversized(world: World) -> None:
    """A pack member larger than a pack file may be is refused before it is decompressed."""
    data = world.export(to=A)
    assert open_bundle(data, Limits(max_pack_file_bytes=1_000_000)).pack_members
    with pytest.raises(Refused) as caught:
        open_bundle(data, Limits(max_pack_file_bytes=100))
    assert caught.value.reason is Reason.OVERSIZED


def test_hub_skips_a_pack_that_does_not_load(world: World, tmp_path: Path) -> None:
    """A broken pack in force on the hub is never sent (it would block every laptop); the
    export names it."""
    section = world.hub / "packs" / PACK / "1.0.1" / SECTION
    section.write_text("id: [unclosed\n", encoding="utf-8")
    with open_endpoint(world.hub, clock=kit.clock()) as ep:
        data, summary = export_bundle(ep, recipient=world.device(A))
    assert summary.packs == ["eleven-prohibitions 1.0.0"]
    assert summary.packs_skipped and summary.packs_skipped[0].startswith(f"{PACK}: ")
    assert not any(n.startswith(f"packs/{PACK}/") for n in open_bundle(data).pack_members)


# --------------------------------------------------------------------------- install


def test_install_is_atomic_under_faults(tmp_path: Path) -> None:
    """A failure at any file-system call of an install leaves no pack (or the whole pack) in
    discovery; installing again then completes it with the same files."""
    shipped = read_pack_files(pack_version(tmp_path, "1.0.1"))

    class Failing(FileOps):
        def __init__(self, at: int) -> None:
            self.at, self.calls = at, 0

        def _tick(self) -> None:
            self.calls += 1
            if self.calls == self.at:
                raise OSError(28, "No space left on device")

    for name in ("makedirs", "write", "fsync", "replace", "fsync_dir"):
        original = getattr(FileOps, name)

        def wrapped(self: Failing, *args: object, _original: object = original) -> object:
            self._tick()
            return _original(self, *args)  # type: ignore[operator]

        setattr(Failing, name, wrapped)

    points = 0
    while True:
        points += 1
        data_dir = tmp_path / f"d{points}"
        data_dir.mkdir()
        try:
            install_pack(data_dir, shipped, Failing(points))
        except OSError:
            found = data_dir_sources(data_dir)
            assert found == [] or folder_fingerprint(found[0].folder) == shipped.fingerprint()
            install_pack(data_dir, shipped)
            assert folder_fingerprint(data_dir / "packs" / PACK / "1.0.1") == shipped.fingerprint()
            continue
        break
    assert points > 20  # every file's writes and syncs were a failure point


def test_packs_install_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`packs install`: installs once, then says it is there; a lower version, a changed copy
    of the program's version and a broken pack are refused with exit 3 and the reason."""
    data = str(tmp_path / "office")
    v101 = str(pack_version(tmp_path, "1.0.1"))
    assert main(["packs", "install", v101, "--data-dir", data]) == 0
    assert "installed building-safety 1.0.1" in capsys.readouterr().out
    assert main(["packs", "install", v101, "--data-dir", data]) == 0
    assert "installed already" in capsys.readouterr().out
    v100 = pack_version(tmp_path / "old", "1.0.0")
    assert main(["packs", "install", str(v100), "--data-dir", data]) == ExitCode.BAD_INPUT
    assert "older than 1.0.1" in capsys.readouterr().err
    fresh = str(tmp_path / "other")
    assert main(["packs", "install", str(v100), "--data-dir", fresh]) == ExitCode.BAD_INPUT
    assert "differs from the 1.0.0 the program's" in capsys.readouterr().err
    same = str(checklists_root() / PACK)
    assert main(["packs", "install", same, "--data-dir", fresh]) == 0
    assert "comes with the program" in capsys.readouterr().out
    broken = pack_version(tmp_path / "broken", "1.0.5")
    (broken / SECTION).write_text("items: 7\n", encoding="utf-8")
    assert main(["packs", "install", str(broken), "--data-dir", fresh]) == ExitCode.BAD_INPUT
    assert SECTION in capsys.readouterr().err
    assert data_dir_sources(Path(fresh)) == []


def test_check_pack_writes_nothing_when_refused(tmp_path: Path) -> None:
    """check_pack decides without touching the data directory."""
    data_dir = tmp_path / "d"
    install_into(data_dir, pack_version(tmp_path, "1.0.2"))
    before = tree(data_dir)
    with pytest.raises(PackRejected) as caught:
        check_pack(read_pack_files(pack_version(tmp_path / "o", "1.0.1")), data_dir)
    assert caught.value.kind == "downgrade" and tree(data_dir) == before


# --------------------------------------------------------------------------- discovery


def test_discovery_takes_the_higher_version(tmp_path: Path) -> None:
    """Over the program's packs and a data directory's: the higher version of an id is in
    force; the program's copy wins a tie; a lower data-dir version is listed but not used."""
    data_dir = tmp_path / "d"
    bundled = checklists_root() / PACK
    assert pack_dirs(data_dir=data_dir) == pack_dirs()  # nothing received yet
    install_into(data_dir, pack_version(tmp_path, "1.0.1"))
    in_force = {s.id: s for s in pack_sources(data_dir)}
    assert (in_force[PACK].version, in_force[PACK].origin) == ("1.0.1", "data-dir")
    assert in_force["eleven-prohibitions"].origin == "bundled"
    assert data_dir / "packs" / PACK / "1.0.1" in pack_dirs(data_dir=data_dir)
    assert pack_dirs() == sorted(
        p for p in checklists_root().iterdir() if (p / "pack.yaml").exists()
    )
    assert load_pack(PACK, data_dir=data_dir).version == "1.0.1"
    assert load_pack(PACK).version == "1.0.0"  # without a data directory: as before
    assert load_pack(PACK, data_dir=data_dir, version="1.0.0").path == str(bundled)
    with pytest.raises(InputError, match=r"building-safety 0\.9\.0 is not installed"):
        load_pack(PACK, data_dir=data_dir, version="0.9.0")

    lower = tmp_path / "lower"
    old = pack_version(tmp_path / "o", "0.9.0")
    shipped = read_pack_files(old)
    install_pack(lower, shipped)
    assert {s.id: s.origin for s in pack_sources(lower)}[PACK] == "bundled"
    every = [(s.version, s.origin) for s in pack_sources(lower, every_version=True) if s.id == PACK]
    assert every == [("0.9.0", "data-dir"), ("1.0.0", "bundled")]


def test_a_data_dir_pack_must_match_its_folder(tmp_path: Path) -> None:
    """A pack folder whose manifest is another version than its folder name is not loaded."""
    data_dir = tmp_path / "d"
    install_into(data_dir, pack_version(tmp_path, "1.0.1"))
    wrong = data_dir / "packs" / PACK / "1.0.7"
    shutil.copytree(data_dir / "packs" / PACK / "1.0.1", wrong)
    with pytest.raises(PackError, match="but the folder is building-safety/1.0.7"):
        load_pack(PACK, data_dir=data_dir)


def test_packs_list_shows_where_each_comes_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`packs list --data-dir` (or $INSPECT_ENGINE_DATA_DIR) lists every version with its
    source and which one is in force."""
    data_dir = tmp_path / "d"
    install_into(data_dir, pack_version(tmp_path, "1.0.1"))
    assert main(["packs", "list", "--data-dir", str(data_dir), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    mine = [(r["version"], r["source"], r["in_force"]) for r in rows if r["id"] == PACK]
    assert mine == [("1.0.0", "bundled", False), ("1.0.1", "data-dir", True)]
    monkeypatch.setenv("INSPECT_ENGINE_DATA_DIR", str(data_dir))
    assert main(["packs", "list"]) == 0
    out = capsys.readouterr().out
    assert "数据目录 data dir" in out and "程序自带 bundled" in out
    assert main(["packs", "show", PACK, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == "1.0.1"
    assert main(["packs", "show", PACK, "--pack-version", "1.0.0", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == "1.0.0"


# --------------------------------------------------------------------------- pinned versions


def test_inspection_pinned_to_the_old_version_still_evaluates(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An inspection started under 1.0.0 before 1.0.1 arrived is evaluated under 1.0.0, in
    the app and by `evaluate --pack-version`; new inspections start under 1.0.1."""
    from tui.ledger_backend import LedgerBackend
    from tui.main import installed_packs

    lap = world.laptops[A]
    house = kit.site(20, types=("rural_self_built_house",))
    with world.ledger(A) as led:
        led.register_sites([house])
        insp = led.start_inspection(
            house.id, pack_id=PACK, pack_version="1.0.0", method="open", inspectors=[A]
        )
    assert world.run(A)[1].packs_installed == [f"{PACK} 1.0.1"]
    with world.ledger(A) as led:
        backend = LedgerBackend(led, installed_packs(lap))
        assert {p.id: p.version for p in backend.packs()}[PACK] == "1.0.1"
        info = next(i for i in backend.inspections(house.id) if i.id == insp.id)
        pinned = backend.inspection_pack(info)
        assert pinned.version == "1.0.0" and pinned.item("BS.LAND.01").question.zh == OLD_Q
        answers: dict[str, AnswerValue] = {"BS.LAND.01": "completed", "BS.LAND.02": "no"}
        for item, value in answers.items():
            backend.record_answer(insp.id, item, value)
        backend.submit(insp.id, answers)
        sealed = led.inspection(insp.id)
        assert sealed.status == "submitted" and sealed.finding_ids
        found = [led.finding(f).finding() for f in sealed.finding_ids]
        assert {(f.rule_id, f.pack_version) for f in found} == {("BS.R.ILLEGAL_LAND", "1.0.0")}
        fresh = backend.start_inspection("S0002", PACK, "open", [A])
        assert fresh.info.pack_version == "1.0.1"
    site = house.model_dump(mode="json")
    request = tmp_path / "in.json"
    request.write_text(
        json.dumps({"site": site, "answers": answers, "date": "2020-09-20"}), encoding="utf-8"
    )
    base = ["evaluate", "--pack", PACK, "--data-dir", str(lap), str(request), "--format", "json"]
    assert main([*base, "--pack-version", "1.0.0"]) == 0
    assert json.loads(capsys.readouterr().out)["pack"]["version"] == "1.0.0"
    assert main(base) == 0
    assert json.loads(capsys.readouterr().out)["pack"]["version"] == "1.0.1"


def test_a_pinned_version_no_longer_installed_is_said_clearly(world: World) -> None:
    """An inspection pinned to a version that is nowhere here: the app says which version it
    needs and which is in force, instead of evaluating under another one."""
    from tui.ledger_backend import LedgerBackend
    from tui.main import installed_packs

    with world.ledger(A) as led:
        insp = led.start_inspection(
            "S0001", pack_id=PACK, pack_version="0.9.0", method="open", inspectors=[A]
        )
        backend = LedgerBackend(led, installed_packs(world.laptops[A]))
        info = next(i for i in backend.inspections("S0001") if i.id == insp.id)
        with pytest.raises(InputError) as caught:
            backend.inspection_pack(info)
        assert "0.9.0" in caught.value.message and "1.0.0" in caught.value.message
        assert "no longer installed" in caught.value.message
        with pytest.raises(InputError, match="0.9.0"):
            backend.submit(insp.id, {})


def test_app_reloads_packs_after_a_sync_installs_some(world: World) -> None:
    """The app's sync installs 1.0.1 and new inspections use it without a restart."""
    from tui.ledger_backend import LedgerBackend
    from tui.main import installed_packs

    lap = world.laptops[A]
    with world.ledger(A) as led:
        backend = LedgerBackend(
            led, installed_packs(lap), reload_packs=lambda: installed_packs(lap)
        )
        assert {p.id: p.version for p in backend.packs()}[PACK] == "1.0.0"
        outcomes = backend.sync_run(world.hub, lambda *_: None)
        assert outcomes[1].packs == (f"{PACK} 1.0.1",)
        assert {p.id: p.version for p in backend.packs()}[PACK] == "1.0.1"


def test_manifest_lists_pack_members_with_hashes(world: World) -> None:
    """Each pack member's manifest entry is its exact size and SHA-256."""
    data = world.export(to=A)
    bundle = open_bundle(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        manifest = json.loads(zf.read(MANIFEST))
        for name in bundle.pack_members:
            body = zf.read(name)
            entry = manifest["members"][name]
            assert entry == {"sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
