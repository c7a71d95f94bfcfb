"""``inspect-engine evaluate``: the JSON contract, the table for people, one clear error with
exit code 3 for every kind of bad input, and the same output from any process."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from inspect_engine.cli.main import main
from inspect_engine.errors import ExitCode
from tests.conftest import GOOD_PACKS
from tests.engine_helpers import item, make_pack, rule

MINI = str(GOOD_PACKS / "mini")
SITE: dict[str, Any] = {
    "id": "S-001",
    "name": "城东旅馆",
    "county": "平定县",
    "township": "冠山镇",
    "site_types": ["building"],
    "parties": {"owner": {"unit": "张三", "contact": "13900000000"}},
    "attributes": {"crowded": True},
}
GOOD: dict[str, Any] = {
    "site": SITE,
    "answers": {"T.LAND.01": "no", "T.HAZ.01": "yes", "T.USE.01": "hotel"},
    "date": "2020-09-25",
}


def _write(tmp_path: Path, data: Any, name: str = "input.json") -> str:
    path = tmp_path / name
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return str(path)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["evaluate", "--pack", MINI, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_is_the_documented_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--format json: format, pack, site, date, findings (each a Finding), fired rules, derived
    facts, superseded findings and items still to answer."""
    code, out, err = _run(capsys, _write(tmp_path, GOOD), "--format", "json")
    assert (code, err) == (ExitCode.OK, "")
    doc = json.loads(out)
    assert list(doc) == [
        "format",
        "pack",
        "site",
        "date",
        "findings",
        "fired_rules",
        "derived_facts",
        "superseded",
        "still_to_answer",
    ]
    assert doc["format"] == 1
    assert doc["pack"] == {"id": "mini", "version": "1.0.0"}
    assert doc["site"] == {"id": "S-001", "name": "城东旅馆", "county": "平定县"}
    assert doc["date"] == "2020-09-25"
    assert [f["rule_id"] for f in doc["findings"]] == ["T.R.LAND", "T.R.STOP_USE", "T.R.HOTEL"]
    first = doc["findings"][0]
    assert list(first) == [
        "rule_id",
        "pack_id",
        "pack_version",
        "title",
        "level",
        "hazard",
        "consequences",
        "rectification",
        "deadline",
        "deadline_rule",
        "responsible",
        "basis",
        "triggers",
        "facts",
        "site_level",
    ]
    assert first["deadline"] == "2020-09-25" and first["level"] == "重大"
    assert first["triggers"] == [
        {
            "item_id": "T.LAND.01",
            "question": {"zh": "是否取得合法用地手续？", "en": "Is the land use approved?"},
            "value": "no",
        }
    ]
    assert doc["fired_rules"] == ["T.R.LAND", "T.R.STOP_USE", "T.R.HOTEL"]
    assert doc["derived_facts"] == [] and doc["superseded"] == []
    assert doc["still_to_answer"] == []


def test_table_output_is_for_people_in_chinese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The default format lists each finding with its trigger, consequences, requirement,
    deadline, responsible parties and basis, in Chinese, and the items left to answer."""
    data = {**GOOD, "answers": {"T.LAND.01": "no", "T.HAZ.01": "yes"}}
    code, out, _ = _run(capsys, _write(tmp_path, data))
    assert code == ExitCode.OK
    for words in (
        "发现问题 2 项（其中重大 2 项）",
        "1. 【重大】违法占地  (T.R.LAND)",
        "触发：T.LAND.01 是否取得合法用地手续？ → 否",
        "处置：责令停止建设、依法查处/处置",
        "整改期限：2020-09-25（立即）",
        "整改期限：2020-10-31（「立即整改」阶段结束）",
        "责任单位：审批单位 （未登记）；产权人 张三 13900000000",
        "依据：测试〔2020〕1号 五(二)",
        "范围：本场所存在隐患（场所级规则）",
        "尚未回答的检查项 1 项：",
        "T.USE.01 现用途",
    ):
        assert words in out, words


def test_an_all_compliant_site_has_no_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Everything answered and compliant: 未发现隐患, exit 0."""
    data = {**GOOD, "answers": {"T.LAND.01": "yes", "T.HAZ.01": "no", "T.USE.01": "home"}}
    code, out, _ = _run(capsys, _write(tmp_path, data))
    assert code == ExitCode.OK and "未发现隐患。" in out


def test_input_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """INPUT '-' reads the same document from stdin."""

    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(GOOD)))
    code, out, _ = _run(capsys, "-", "--format", "json")
    assert code == ExitCode.OK and len(json.loads(out)["findings"]) == 3


def _with(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(GOOD))
    return {**data, **changes}


BAD_INPUTS: list[tuple[str, Any, str]] = [
    ("not json", '{"site": ', "input.json:1:10: not valid JSON"),
    ("not an object", "[1, 2]", "top level must be an object"),
    ("unknown key", _with(notes="x"), "notes: unknown key"),
    ("missing date", {"site": SITE, "answers": {}}, "date: required key is missing"),
    ("duplicate key", '{"site": {}, "site": {}, "date": "2020-09-25"}', "duplicate key 'site'"),
    ("NaN", '{"site": {}, "answers": {"T.LAND.01": NaN}, "date": "x"}', "NaN is not a number"),
    ("bad date", _with(date="2020-02-30"), "date: expected a date YYYY-MM-DD; got '2020-02-30'"),
    ("site field", _with(site={**SITE, "county": ""}), "site.county: String should have at least"),
    ("answers not object", _with(answers=["T.LAND.01"]), "answers: must be an object"),
    ("unknown item", _with(answers={"T.NOPE.01": "yes"}), "answers.T.NOPE.01: no such item"),
    (
        "out of range",
        _with(site={**SITE, "site_types": ["site"]}, answers={"T.PIT.01": 60}),
        "answers.T.PIT.01: 60 m is outside the range 0–50 m",
    ),
    (
        "choice not offered",
        _with(answers={"T.USE.01": "castle"}),
        "answers.T.USE.01: 'castle' is not an offered choice",
    ),
    (
        "item does not apply",
        _with(answers={"T.PIT.01": 4}),
        "answers.T.PIT.01: answered, but the item does not apply here",
    ),
    (
        "string for a number",
        _with(site={**SITE, "site_types": ["site"]}, answers={"T.PIT.01": "0.9"}),
        "answers.T.PIT.01: answer must be a number in m",
    ),
    (
        "site attribute type",
        _with(site={**SITE, "attributes": {"crowded": "yes"}}),
        "attribute 'crowded' (人员密集场所) must be true or false",
    ),
    (
        "date outside the calendar",
        _with(
            site={**SITE, "site_types": ["site"]},
            answers={"T.PIT.01": 4, "T.PIT.02": "no"},
            date="2099-09-25",
        ),
        "no official working-day calendar for 2099-09-26",
    ),
]


@pytest.mark.parametrize(("case", "data", "words"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_one_clear_error_with_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, data: Any, words: str
) -> None:
    """Nothing on stdout; on stderr an 'error:' line naming the file and what is wrong (and at
    most a hint); never a traceback."""
    path = _write(tmp_path, data)
    code, out, err = _run(capsys, path, "--format", "json")
    assert code == ExitCode.BAD_INPUT
    assert out == ""
    lines = err.strip().splitlines()
    assert lines[0].startswith(f"error: {path}") or lines[0].startswith(f"error: {path}:"), err
    assert words in lines[0], err
    assert all(line.startswith(("error:", "hint:")) for line in lines)
    assert "Traceback" not in err


def test_missing_input_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A file that is not there: exit 3, named."""
    code, _, err = _run(capsys, str(tmp_path / "nope.json"))
    assert code == ExitCode.BAD_INPUT and "nope.json: no such file" in err


def test_same_output_from_any_process(tmp_path: Path) -> None:
    """Two fresh processes with different hash seeds print byte-identical JSON."""
    path = _write(tmp_path, GOOD)
    outputs = []
    for seed in ("1", "2771"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "inspect_engine.cli.main",
                "evaluate",
                "--pack",
                MINI,
                path,
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert [f["rule_id"] for f in json.loads(outputs[0])["findings"]] == [
        "T.R.LAND",
        "T.R.STOP_USE",
        "T.R.HOTEL",
    ]


def _chain_pack(tmp_path: Path, length: int) -> Path:
    """A pack folder whose rules derive a chain of ``length`` facts, one from the next."""
    facts = [f"c{i}" for i in range(length)]
    number = {"type": "number", "unit": "m", "min": 0, "max": 9}
    rules = [rule("C.R.0", {"answer": "C.N.01", "ge": 1}, derive=[facts[0]], with_finding=False)]
    rules += [
        rule(f"C.R.{i}", {"fact": facts[i - 1], "eq": True}, derive=[facts[i]], with_finding=False)
        for i in range(1, length)
    ]
    pack = make_pack([item("C.N.01", number)], rules, facts=facts, pack_id="chain")
    root = tmp_path / "packs"
    folder = root / "chain"
    (folder / "sections").mkdir(parents=True)
    shutil.copy(GOOD_PACKS / "consequences.yaml", root / "consequences.yaml")
    manifest = pack.manifest.model_dump(mode="json", by_alias=True, exclude_none=True)
    manifest["sections"] = ["sections/s.yaml"]
    section = pack.sections[0].model_dump(mode="json", by_alias=True, exclude_none=True)
    # JSON is YAML without anchors or aliases, which the loader refuses
    (folder / "pack.yaml").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    (folder / "sections" / "s.yaml").write_text(
        json.dumps(section, ensure_ascii=False), encoding="utf-8"
    )
    return folder


def test_a_pack_beyond_the_engines_limits_is_refused_before_reading_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pack that would need more context facts than the engine allows is refused when it is
    loaded: exit 3 and one error naming the pack file and the limit; a chain within the limit
    evaluates."""
    site = {**SITE, "site_types": ["a"], "attributes": {}}
    data = _write(tmp_path, {"site": site, "answers": {"C.N.01": 2}, "date": "2020-09-25"})
    code = main(["evaluate", "--pack", str(_chain_pack(tmp_path / "long", 401)), data])
    out, err = capsys.readouterr()
    assert (code, out) == (ExitCode.BAD_INPUT, "")
    assert err.startswith("error: chain/pack.yaml:1: sections: pack chain needs 401 context")
    assert "at most 400 (split the pack)" in err
    code = main(
        ["evaluate", "--pack", str(_chain_pack(tmp_path / "short", 30)), data, "--format", "json"]
    )
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert json.loads(out)["derived_facts"] == [f"c{i}" for i in range(30)]
