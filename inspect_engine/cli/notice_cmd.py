"""``inspect-engine notice INSPECTION``: the rectification notice (隐患整改通知书) of an inspection.

Markdown to stdout, or to ``--out`` (Markdown or .docx, the format taken from ``--format`` or the
file's suffix). The document is built in full before anything is written; on any error nothing
is written and the exit code is 3 with a message naming the inspection and the ledger.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from inspect_engine.cli.ledger_args import common_parser, open_ledger
from inspect_engine.cli.output import output_format
from inspect_engine.errors import ExitCode
from inspect_engine.reports.notice import notice_of, render_markdown
from inspect_engine.reports.outfile import write_out

FORMATS = ("md", "docx")


def register(sub: Any) -> None:
    """Add the ``notice`` command."""
    p = sub.add_parser(
        "notice",
        parents=[common_parser()],
        help="the rectification notice (隐患整改通知书) of one submitted inspection",
        description="The rectification notice of one submitted inspection: site, addressee "
        "(产权人/使用人 from the register), each hazard with its content, level, basis, "
        "requirement, deadline and consequences, record-only findings apart, the campaign's "
        "wording on what follows, signature lines. Built from the inspection as submitted, so "
        "it is the same every time it is printed.",
    )
    p.add_argument("inspection", help="the inspection id, or a unique prefix of it")
    p.add_argument(
        "--format",
        choices=FORMATS,
        help="md (default) or docx (A4, printable; needs --out); default from --out's suffix",
    )
    p.add_argument("--out", type=Path, help="write here (atomically) instead of stdout")
    p.set_defaults(handler=cmd_notice)


def cmd_notice(args: argparse.Namespace) -> int:
    """Build the notice; write it to --out or stdout."""
    fmt = output_format(args.format, args.out, FORMATS, "md")
    with open_ledger(args, readonly=True) as ledger:
        notice = notice_of(ledger, args.inspection)
    if fmt == "docx":
        from inspect_engine.reports.notice_docx import render_docx  # python-docx only when asked

        data = render_docx(notice)
    else:
        data = render_markdown(notice).encode("utf-8")
    if args.out is None:
        sys.stdout.write(data.decode("utf-8"))
    else:
        write_out(args.out, data)
        print(f"{notice.number}: {args.out} ({len(notice.hazards)} hazards)", file=sys.stderr)
    return int(ExitCode.OK)
