"""Shared fixtures: the test-data folders and the small pack that exercises the whole format."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspect_engine.packs import load_pack
from inspect_engine.rulepack import RulePack

DATA = Path(__file__).parent / "data"
GOOD_PACKS = DATA / "packs" / "good"
BAD_PACKS = DATA / "packs" / "bad"


@pytest.fixture(scope="session")
def mini_pack() -> RulePack:
    """The test pack: every feature of the format on five items and five rules."""
    return load_pack(GOOD_PACKS / "mini", root=GOOD_PACKS)
