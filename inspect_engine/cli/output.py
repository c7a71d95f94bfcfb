"""Small helpers shared by command modules: JSON on stdout, tables, the language switch."""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any


def emit_json(data: Any) -> None:
    """Write ``data`` as UTF-8 JSON (Chinese kept readable) to stdout."""
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def cell_width(text: str) -> int:
    """Terminal cells ``text`` takes: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` terminal cells."""
    return text + " " * max(0, width - cell_width(text))


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
