"""The real app in a real terminal: scripts/tmux_walk.sh drives it in tmux (walk, kill -9,
resume, quit). Skipped only when tmux is not installed (CI installs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "tmux_walk.sh"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_walk_kill_and_resume_in_tmux() -> None:
    """The script's own checks pass (it prints the screen when one fails)."""
    app = Path(sys.executable).parent / "inspect-engine"
    env = {**os.environ, "INSPECT_ENGINE": str(app)}
    env.pop("INSPECT_ENGINE_DATA_DIR", None)
    result = subprocess.run(
        ["bash", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=240
    )
    assert result.returncode == 0, result.stdout + result.stderr
