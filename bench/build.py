"""The demo database a run measures: built once per size, seed and code version, then copied.

The pristine build is kept under data/bench/ (gitignored) with a sidecar JSON holding its build
time, so a rerun reuses it; every run works on a fresh copy, so the writes it makes never pile up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "bench"


def code_version() -> str:
    """A hash of the code that decides what a demo database holds (schema, generator, accounts,
    summaries and the demo's feature modules), so a changed generator is never measured stale."""
    from mktsales import demo

    files = sorted((ROOT / "mktsales" / "migrations").glob("*.sql"))
    files += [ROOT / "mktsales" / name for name in ("demo.py", "accounts.py", "db.py", "audit.py")]
    files += [ROOT / "mktsales" / "summaries.py"]
    files += [ROOT / (module.replace(".", "/") + ".py") for module in demo.EXTENSIONS]
    digest = hashlib.sha256()
    for path in files:
        if path.exists():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class Built:
    """A pristine demo database and how it was made."""

    path: Path
    activities: int
    seed: int
    as_of: dt.date
    seconds: float  # wall time of the build (the demo command, in its own process)
    peak_rss_mb: float | None  # the build process's peak RSS (None when reused from an older run)
    built_at: str
    reused: bool


def pristine(
    activities: int, seed: int, as_of: dt.date, data_dir: Path = DATA, rebuild: bool = False
) -> Built:
    """The pristine demo database for this size and seed, built now unless a current one exists."""
    data_dir.mkdir(parents=True, exist_ok=True)
    stem = f"demo-{activities}-s{seed}-{as_of.isoformat()}-{code_version()}"
    path, info = data_dir / f"{stem}.duckdb", data_dir / f"{stem}.json"
    if path.exists() and info.exists() and not rebuild:
        meta = json.loads(info.read_text())
        return Built(
            path,
            activities,
            seed,
            as_of,
            meta["seconds"],
            meta.get("peak_rss_mb"),
            meta["built_at"],
            reused=True,
        )
    for stale in data_dir.glob(f"demo-{activities}-s{seed}-*"):
        stale.unlink()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mktsales",
            "demo",
            "--db",
            str(path),
            "--activities",
            str(activities),
            "--seed",
            str(seed),
            "--as-of",
            as_of.isoformat(),
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest child so far: exact when this build is the largest
    peak = after / 1024 if after > before else None
    built_at = dt.datetime.now().isoformat(timespec="seconds")
    info.write_text(json.dumps({"seconds": seconds, "peak_rss_mb": peak, "built_at": built_at}))
    return Built(path, activities, seed, as_of, seconds, peak, built_at, reused=False)


def working_copy(built: Built, data_dir: Path = DATA) -> Path:
    """A fresh copy of the pristine file for one run (its writes must not leak into the next)."""
    target = data_dir / f"work-{built.activities}.duckdb"
    for old in (target, target.with_suffix(".duckdb.wal")):
        old.unlink(missing_ok=True)
    shutil.copyfile(built.path, target)
    return target
