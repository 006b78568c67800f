"""The command line on a damaged database file (issue 23): one line saying so, exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.damaged import cut_short, zero_middle

ROOT = Path(__file__).resolve().parent.parent


def _tenth(source: Path, target: Path) -> Path:
    return cut_short(source, target, 0.1)


@pytest.mark.parametrize("damage", [cut_short, _tenth, zero_middle], ids=["half", "tenth", "zeroed_blocks"])
def test_a_damaged_file_gets_one_line_and_exit_code_2(tiny_file: Path, tmp_path: Path, damage) -> None:
    damaged = damage(tiny_file, tmp_path / "damaged.duckdb")
    done = subprocess.run(
        [sys.executable, "-m", "mktsales", "kpis", "--db", str(damaged)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {damaged} cannot be read: the file is damaged or cut short (")
    assert lines[0].endswith("Restore it from a backup (python -m mktsales restore).")
