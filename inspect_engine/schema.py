"""The JSON Schema of the pack files, generated from the models and checked in.

``checklists/schema/`` holds one schema per file kind. A test regenerates them and fails on any
difference, printing the command that rewrites them (``make schema``).
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from inspect_engine.rulepack import ConsequenceCatalog, PackManifest, SectionFile

SCHEMAS: dict[str, type[BaseModel]] = {
    "pack-manifest-v1.schema.json": PackManifest,
    "pack-section-v1.schema.json": SectionFile,
    "consequences-v1.schema.json": ConsequenceCatalog,
}


def render(model: type[BaseModel]) -> str:
    """The schema text for one model: stable key order, trailing newline."""
    schema = model.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_all(folder: Path) -> list[Path]:
    """Write every schema into ``folder``; return the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in SCHEMAS.items():
        path = folder / name
        path.write_text(render(model), encoding="utf-8")
        written.append(path)
    return written
