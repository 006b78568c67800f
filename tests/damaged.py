"""Damaged copies of a database file (issue 23): cut short, or with a run of blocks zeroed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def cut_short(source: Path, target: Path, kept: float = 0.5) -> Path:
    """``source`` copied with only its first ``kept`` share left (a copy or a disk that stopped part
    way): at a tenth the schema cannot be read; at half the file opens and a later read fails."""
    shutil.copy(source, target)
    os.truncate(target, int(target.stat().st_size * kept))
    return target


def zero_middle(source: Path, target: Path) -> Path:
    """``source`` copied with its middle third overwritten by zeros (bad sectors): the file opens,
    and a later read fails DuckDB's block checksum."""
    shutil.copy(source, target)
    size = target.stat().st_size
    with target.open("r+b") as f:
        f.seek(size // 3)
        f.write(bytes(size // 3))
    return target
