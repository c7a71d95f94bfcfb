"""``inspect-engine tui``: open the ledger, build the app with :func:`tui.app.make_app`, run it.

Called by ``inspect_engine.cli.tui_cmd`` (which imports this module only inside its handler, so
the core never loads Textual). Errors before the app starts (a locked or damaged ledger, no rule
pack) are :class:`~inspect_engine.errors.InspectError`: the CLI prints their message and exits
with the documented code. Inside the app every error is a dialog.
"""

from __future__ import annotations

import sys
from pathlib import Path

from inspect_engine.clock import Clock, SystemClock
from inspect_engine.datadir import resolve_data_dir
from inspect_engine.errors import InputError, PackError
from inspect_engine.ledger import Ledger
from inspect_engine.packs import load_pack, pack_dirs
from inspect_engine.rulepack import RulePack
from tui.app import make_app
from tui.demo import DEMO_INSPECTOR, DemoClock, demo_data_dir, ensure_demo, is_demo
from tui.i18n import Lang
from tui.ledger_backend import LedgerBackend


def installed_packs(data_dir: Path | None = None) -> list[RulePack]:
    """The pack in force for each id (the program's and ``data_dir``'s, the highest version)
    that loads; a broken one is reported on stderr and skipped."""
    packs = []
    for folder in pack_dirs(data_dir=data_dir):
        try:
            packs.append(load_pack(folder))
        except PackError as err:
            print(f"warning: skipping broken pack {folder.name}: {err.message}", file=sys.stderr)
    if not packs:
        raise InputError(
            "没有可用的检查表 / no usable rule pack is installed",
            hint="run 'inspect-engine packs validate'",
        )
    return packs


def run_tui(
    *,
    demo: bool,
    lang: Lang,
    data_dir: str | None,
    inspector: str,
    clock: Clock | None = None,
) -> int:
    """Run the app until the inspector quits; the exit code."""
    if demo:
        folder = Path(data_dir).expanduser() if data_dir else demo_data_dir()
        packs = installed_packs(folder)
        if not is_demo(folder):
            print("正在生成演示数据… / generating the demo ledger…", file=sys.stderr)
        ensure_demo(folder, packs)
        inspector = inspector or DEMO_INSPECTOR
        clock = clock or DemoClock()
        target: str | Path | None = folder
    else:
        target = resolve_data_dir(data_dir)
        packs = installed_packs(target)
    ledger = Ledger.open(target, clock=clock or SystemClock(), actor=inspector)
    try:
        backend = LedgerBackend(
            ledger,
            packs,
            demo=is_demo(ledger.data_dir),
            reload_packs=lambda: installed_packs(ledger.data_dir),
        )
        app = make_app(backend, lang=lang)
        app.run()
        return app.return_code or 0
    finally:
        ledger.close()
