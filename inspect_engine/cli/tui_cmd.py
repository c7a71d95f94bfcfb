"""``inspect-engine tui``: the inspector's terminal app.

The app lives in the ``tui`` package and needs Textual. The core never imports it (the
dependency rule, tests/test_import_hygiene.py): this command loads it by name, inside the
handler, so importing ``inspect_engine`` or running any other command never loads either.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import os
from typing import Any

from inspect_engine.datadir import ENV_VAR

INSPECTOR_ENV = "INSPECT_ENGINE_INSPECTOR"


def register(sub: Any) -> None:
    """Add the ``tui`` command."""
    p = sub.add_parser(
        "tui",
        help="the inspector's terminal app (Chinese; --lang en for English)",
        description="Walk checklists at sites, review findings, follow up rectification.",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="open a generated, clearly marked demo ledger (made on first use)",
    )
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="language (default zh)")
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help=f"the data directory (default: ${ENV_VAR}, else the user data directory; "
        "with --demo: a demo directory of its own)",
    )
    p.add_argument(
        "--inspector",
        metavar="NAME",
        default="",
        help=f"your name as the ledger records it (default: ${INSPECTOR_ENV}, else the login name)",
    )
    p.set_defaults(handler=cmd_tui)


def _inspector(flag: str, demo: bool) -> str:
    if flag:
        return flag
    if os.environ.get(INSPECTOR_ENV):
        return os.environ[INSPECTOR_ENV]
    if demo:
        return ""  # the demo's own inspector
    try:
        return getpass.getuser()[:100]
    except (OSError, KeyError):
        return ""


def cmd_tui(args: argparse.Namespace) -> int:
    """Run the app."""
    # By name, at run time: the core has no import of the app (see the module docstring).
    run_tui = importlib.import_module("tui.main").run_tui
    code: int = run_tui(
        demo=args.demo,
        lang=args.lang,
        data_dir=args.data_dir,
        inspector=_inspector(args.inspector, args.demo),
    )
    return code
