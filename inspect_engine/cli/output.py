"""Small helpers shared by command modules: JSON on stdout, tables, the language switch."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from inspect_engine.textwidth import cell_width, pad


def emit_json(data: Any) -> None:
    """Write ``data`` as UTF-8 JSON (Chinese kept readable) to stdout."""
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain aligned text table (CJK-width aware), one row a line."""
    widths = [cell_width(h) for h in headers]
    for row in rows:
        widths = [max(w, cell_width(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(pad(h, w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines)
