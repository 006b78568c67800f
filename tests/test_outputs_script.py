"""The restructuring's comparison script works (issue 15): two runs on the same small demo database
write byte-identical files, an edited or missing file is reported and fails the check, and running
a command in-process prints the same bytes as ``python -m mktsales`` does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import outputs

ROOT = Path(__file__).parent.parent
# A few cases of every command: an executive's and a rep's (refused for kpis and funnel), and one
# promotion's effect for both.
CASES = ["kpis/ceo.month", "funnel/ceo.cohort", "promotions/ceo.month", "board/ceo.month", "*/rep.east.month",
         "promotion-effect/001.ceo", "promotion-effect/001.rep.east"]  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The database (built by the first run) and two output folders from it."""
    root = tmp_path_factory.mktemp("outputs")
    db = root / "demo.duckdb"
    for name in ("a", "b"):
        argv = ["--db", str(db), "--activities", "2000", "--out", str(root / name), "--cases", *CASES]
        assert outputs.main(argv) == 0
    return db, root / "a", root / "b"


def test_two_runs_on_the_same_database_are_byte_identical(
    runs: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, a, b = runs
    written = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    assert written == [
        "board/ceo.month.json", "board/rep.east.month.json", "funnel/ceo.cohort.json",
        "funnel/rep.east.month.refused", "kpis/ceo.month.json", "kpis/rep.east.month.refused",
        "manifest.json", "promotion-effect/001.ceo.json", "promotion-effect/001.rep.east.refused",
        "promotions/ceo.month.json", "promotions/rep.east.month.json",
    ]  # fmt: skip
    assert '"as_of": "2026-03-31T' not in (a / "promotions/ceo.month.json").read_text(encoding="utf-8")
    assert '"as_of": "2026-04-01T00:00:00"' in (a / "promotions/ceo.month.json").read_text(encoding="utf-8")
    assert "may not see the dashboard" in (a / "kpis/rep.east.month.refused").read_text(encoding="utf-8")
    assert outputs.compare(a, b) == []
    capsys.readouterr()
    assert outputs.main(["--compare", str(a), str(b)]) == 0
    assert "all 11 files are byte-identical" in capsys.readouterr().out


def test_an_edited_or_missing_file_is_reported_with_its_first_differing_line(
    runs: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, a, b = runs
    changed = tmp_path / "changed"
    changed.mkdir()
    for path in b.rglob("*"):
        if path.is_file():
            target = changed / path.relative_to(b)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    kpis = changed / "kpis/ceo.month.json"
    lines = kpis.read_text(encoding="utf-8").splitlines(keepends=True)
    number = len(lines) // 2
    lines[number] = lines[number].rstrip("\n") + " \n"  # one space more: not byte-identical
    kpis.write_text("".join(lines), encoding="utf-8")
    (changed / "board/rep.east.month.json").unlink()
    problems = outputs.compare(a, changed)
    assert problems[0] == f"board/rep.east.month.json: only in {a}"
    assert problems[1].startswith(f"kpis/ceo.month.json: differs at line {number + 1}:")
    assert len(problems) == 2
    # a partial run (--check with --cases) is compared on its own cases only
    assert outputs.compare(a, changed, partial=True) == problems[1:]
    capsys.readouterr()
    assert outputs.main(["--compare", str(a), str(changed)]) == 1
    assert "2 of 11 files differ" in capsys.readouterr().out


def test_in_process_prints_what_the_command_prints(runs: tuple[Path, Path, Path]) -> None:
    db, a, _ = runs
    argv = ["promotions", "--db", str(db), "--from", "2026-03-01", "--to", "2026-04-01", "--as-user", "ceo",
            "--json"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("MKTSALES_")} | outputs.FIXED_ENV
    done = subprocess.run(
        [sys.executable, "-m", "mktsales", *argv], cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (a / "promotions/ceo.month.json").read_bytes()
