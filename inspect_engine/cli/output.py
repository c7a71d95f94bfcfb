"""Small helpers shared by command modules: JSON on stdout, tables, the language switch."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from inspect_engine.errors import UsageError
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


SUFFIX_FORMATS: dict[str, str] = {
    ".txt": "text",
    ".md": "md",
    ".markdown": "md",
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".docx": "docx",
}
"""File name suffixes and the output format each names (``--out`` picks the format)."""

FILE_ONLY = frozenset(("xlsx", "docx"))
"""Formats that are files, never written to the terminal."""


def output_format(fmt: str | None, out: Path | None, allowed: Sequence[str], default: str) -> str:
    """``--format`` if given, else the format ``--out``'s suffix names, else ``default``.

    A ``--format`` that contradicts a known suffix (``--format md --out x.docx``) is refused: a
    file whose name lies about its content is worse than a usage error. A suffix naming no
    format in ``allowed`` is refused too, and so is a workbook or document without ``--out``.
    """
    named = SUFFIX_FORMATS.get(out.suffix.lower()) if out is not None else None
    if fmt:
        if named is not None and named != fmt:
            raise UsageError(
                f"--format {fmt} contradicts --out {out} (a {named} file name); change one of them"
            )
        chosen = fmt
    elif out is not None:
        if named is None or named not in allowed:
            known = ", ".join(s for s, f in SUFFIX_FORMATS.items() if f in allowed)
            raise UsageError(
                f"--out {out}: cannot tell the format from {out.suffix or 'no suffix'!r}"
                f" (known: {known}); give --format"
            )
        chosen = named
    else:
        chosen = default
    if chosen in FILE_ONLY and out is None:
        raise UsageError(f"--format {chosen} needs --out FILE (it is not written to the terminal)")
    return chosen
