"""Every rule's pass and fail cases, in every installed pack and the test pack."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspect_engine.cases import run_cases
from inspect_engine.packs import load_pack, pack_dirs
from inspect_engine.rulepack import RulePack

INSTALLED = pack_dirs()


def test_installed_packs_exist() -> None:
    """The bundled packs are found (an empty list would make the case test vacuous)."""
    assert INSTALLED, "no rule packs found under checklists/"


@pytest.mark.parametrize("folder", INSTALLED, ids=[p.name for p in INSTALLED])
def test_installed_pack_cases(folder: Path) -> None:
    """Each rule fires on its fail cases and stays silent on its pass cases."""
    pack = load_pack(folder)
    results = run_cases(pack)
    assert results, f"{pack.id} has no cases"
    assert {r.rule_id for r in results} == {r.id for r in pack.rules}
    failures = [r.describe() for r in results if not r.ok]
    assert failures == []


def test_mini_pack_cases(mini_pack: RulePack) -> None:
    """The test pack's cases all agree with the reference reading."""
    results = run_cases(mini_pack)
    assert len(results) == 10
    assert all(r.ok for r in results), [r.describe() for r in results if not r.ok]
