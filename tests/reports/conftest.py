"""Fixtures of the report tests: the small fixed ledger of ``friday_ledger`` (built once per
session, read-only afterwards) and the bundled campaign packs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inspect_engine.ledger import Ledger
from inspect_engine.rulepack import RulePack
from tests.reports.friday_ledger import build_ledger, bundled_packs


@pytest.fixture(scope="session")
def friday_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The data directory of the fixed ledger and its finding ids (``{"F1": id, ...}``)."""
    data_dir = tmp_path_factory.mktemp("friday") / "data"
    ids = build_ledger(data_dir)
    return data_dir, ids


@pytest.fixture(scope="session")
def campaign_packs() -> list[RulePack]:
    """building-safety and eleven-prohibitions as shipped."""
    return bundled_packs()


@pytest.fixture
def friday_ledger(friday_dir: tuple[Path, dict[str, str]]) -> Iterator[Ledger]:
    """The fixed ledger, opened read-only."""
    with Ledger.open(friday_dir[0], readonly=True) as led:
        yield led
