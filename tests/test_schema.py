"""The checked-in JSON Schemas match the models; regenerate with `make schema`."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspect_engine.packs import checklists_root
from inspect_engine.schema import SCHEMAS, render


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_is_current(name: str) -> None:
    """A model change without a schema update fails here, with the command that fixes it."""
    path: Path = checklists_root() / "schema" / name
    assert path.is_file(), f"{path} is missing: run 'make schema'"
    assert path.read_text(encoding="utf-8") == render(SCHEMAS[name]), (
        f"{path} is out of date with inspect_engine/rulepack.py: run 'make schema' and commit it"
    )
