"""Pack loading and validation: a good pack loads; every bad pack gives one clear problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from inspect_engine.errors import PackError
from inspect_engine.packs import MAX_ITEMS, load_pack, validate_pack
from inspect_engine.rulepack import RulePack
from inspect_engine.yamlio import MAX_FILE_BYTES
from tests.conftest import BAD_PACKS, GOOD_PACKS

# (corpus folder, words the single problem must contain, key path it must name)
BAD_CASES = [
    ("not_yaml", "not valid YAML", ""),
    ("unknown_key", "unknown key", "items.0.colour"),
    ("wrong_type", "valid number", "items.2.answer.min"),
    ("duplicate_item_id", "duplicate item id 'T.LAND.01'", "items.1.id"),
    ("duplicate_key", "duplicate key", "id"),
    ("unknown_item", "unknown item 'T.LAND.99'", "rules.0.when.answer"),
    ("unknown_consequence", "unknown consequence code 'shoot_on_sight'", "rules.0.finding"),
    ("skip_cycle", "skip logic forms a cycle", "items.0.relevant"),
    ("fact_cycle", "derived facts form a cycle", "rules.2.when"),
    ("threshold_out_of_range", "threshold 300 is outside", "rules.1.when.ge"),
    ("alias_bomb", "anchors and aliases", ""),
    ("missing_case", "at least one pass and one fail case", "rules.0"),
    ("unknown_phase", "unknown campaign phase 'harvest'", "rules.3.finding.deadline.phase"),
    ("bad_case_answer", "outside the range", "rules.1.cases.0.answers"),
]


def test_good_pack_loads(mini_pack: RulePack) -> None:
    """The test pack loads with its sections, items and rules in document order."""
    assert mini_pack.id == "mini"
    assert [i.id for i in mini_pack.items] == [
        "T.LAND.01", "T.HAZ.01", "T.PIT.01", "T.PIT.02", "T.USE.01",
    ]  # fmt: skip
    assert [r.id for r in mini_pack.rules][:2] == ["T.R.LAND", "T.R.PIT"]
    assert "stop_use" in mini_pack.consequences


@pytest.mark.parametrize(("name", "words", "key"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_pack_gives_one_clear_problem(name: str, words: str, key: str) -> None:
    """Each malformed pack yields exactly one problem naming the file, key, line and cause."""
    problems = validate_pack(BAD_PACKS / name, root=BAD_PACKS)
    assert len(problems) == 1, [p.render() for p in problems]
    problem = problems[0]
    assert words in problem.message
    assert problem.key.startswith(key)
    assert problem.file.startswith(f"{name}/")
    assert problem.line is not None and problem.line > 0


def test_load_raises_pack_error_with_every_problem() -> None:
    """Loading for work refuses the pack with a PackError carrying the problem list."""
    with pytest.raises(PackError) as info:
        load_pack(BAD_PACKS / "unknown_item", root=BAD_PACKS)
    assert "unknown item 'T.LAND.99'" in str(info.value)
    assert len(info.value.problems) == 1


def _copy_mini(tmp_path: Path) -> Path:
    shutil.copytree(GOOD_PACKS, tmp_path / "packs")
    return tmp_path / "packs" / "mini"


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    """A section file over the size limit is refused with its size, not parsed."""
    folder = _copy_mini(tmp_path)
    section = folder / "sections" / "01-build.yaml"
    section.write_text("# padding\n" * (MAX_FILE_BYTES // 10 + 1), encoding="utf-8")
    problems = validate_pack(folder, root=folder.parent)
    assert len(problems) == 1
    assert "at most 1,000,000 bytes" in problems[0].message


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    """validate collects every independent problem in one run (report-all mode)."""
    folder = _copy_mini(tmp_path)
    section = folder / "sections" / "01-build.yaml"
    text = section.read_text(encoding="utf-8")
    text = text.replace("consequences: [stop_work]", "consequences: [nope]")
    text = text.replace('when: {answer: T.LAND.01, eq: "no"}', "when: {answer: T.X.01, eq: 1}")
    section.write_text(text, encoding="utf-8")
    problems = validate_pack(folder, root=folder.parent)
    messages = " | ".join(p.message for p in problems)
    assert "unknown consequence code 'nope'" in messages
    assert "unknown item 'T.X.01'" in messages


def test_not_utf8_is_refused(tmp_path: Path) -> None:
    """A GBK-encoded file is refused with a message naming the encoding."""
    folder = _copy_mini(tmp_path)
    (folder / "sections" / "01-build.yaml").write_bytes("标题: 建筑".encode("gbk"))
    problems = validate_pack(folder, root=folder.parent)
    assert len(problems) == 1 and "not UTF-8" in problems[0].message


def test_engine_item_limit_is_enforced(tmp_path: Path) -> None:
    """A pack with more items than the engine takes is refused at load (libraries.md D8)."""
    folder = _copy_mini(tmp_path)
    extra = "".join(
        f"  - id: T.GEN.{n:03d}\n"
        f"    question: {{zh: 问题{n}, en: q{n}}}\n"
        "    answer: {type: yes_no}\n"
        "    applies_to: [building]\n"
        "    basis: {source: {section: x}}\n"
        for n in range(MAX_ITEMS)
    )
    section = folder / "sections" / "01-build.yaml"
    text = section.read_text(encoding="utf-8").replace("items:\n", "items:\n" + extra, 1)
    section.write_text(text, encoding="utf-8")
    problems = validate_pack(folder, root=folder.parent)
    assert [p.message for p in problems] == [
        f"{MAX_ITEMS + 5} items; the engine takes at most {MAX_ITEMS} per pack (split the pack)"
    ]
