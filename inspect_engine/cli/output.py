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


class Progress:
    """Progress of a long command on stderr, one line as each stage completes.

    On a terminal the line is rewritten in place and ends with the last stage. Elsewhere (a log, a
    pipe) every stage gets its own line, or only the last one with ``every_stage=False`` (sync,
    whose stages are many and quick). ``quiet`` prints nothing.
    """

    def __init__(self, quiet: bool, label: str, *, every_stage: bool = True) -> None:
        self.quiet = quiet
        self.label = label
        self.every_stage = every_stage
        self.tty = sys.stderr.isatty()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.quiet:
            return
        line = f"[{self.label}] {stage} {done}/{total}"
        if self.tty:
            end = "\n" if done >= total else ""
            print(f"\r{line}\x1b[K", end=end, file=sys.stderr, flush=True)
        elif self.every_stage or done >= total:
            print(line, file=sys.stderr, flush=True)
