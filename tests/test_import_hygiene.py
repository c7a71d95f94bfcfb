"""The dependency rule (DESIGN.md): the core never reaches the app; one module owns each library."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import inspect_engine

CORE = Path(inspect_engine.__file__).parent
MODULES = sorted(m.name for m in pkgutil.walk_packages([str(CORE)], prefix="inspect_engine."))
OWNERS = {
    "durable_rules": {"inspect_engine.engine"},
    "durable": {"inspect_engine.engine"},
    "durable_rules_engine": {"inspect_engine.engine"},
    "tinydb": {"inspect_engine.storage"},
    "chinese_calendar": {"inspect_engine.deadlines"},
}


@pytest.mark.parametrize("module", MODULES)
def test_core_module_does_not_load_textual_or_tui(module: str) -> None:
    """Importing any inspect_engine module in a fresh interpreter loads neither textual nor tui."""
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'tui')); "
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "", f"{module} loaded {out.stdout.strip()}"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_each_library_has_one_owner_module() -> None:
    """Only the engine imports durable_rules; only the storage imports tinydb; none imports tui."""
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        module = "inspect_engine." + ".".join(path.relative_to(CORE).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        imported = _imports(path)
        for lib, owners in OWNERS.items():
            if lib in imported and module not in owners:
                offenders.append(f"{module} imports {lib}")
        offenders += [f"{module} imports {lib}" for lib in ("textual", "tui") if lib in imported]
    assert offenders == []
