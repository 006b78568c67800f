"""The command line: JSON numbers worked out by hand on the tiny fixture, and clear errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mktsales.cli import main
from mktsales.db import Database

ROOT = Path(__file__).parent.parent
MARCH = ("--from", "2026-03-01", "--to", "2026-04-01")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_kpis_json_for_two_regions_named_in_either_language(tiny_file: Path, capsys) -> None:
    argv = ("kpis", "--db", str(tiny_file), *MARCH, "--region", "华北", "East China", "--json")
    code, out, _ = run(capsys, *argv)
    assert code == 0
    report = json.loads(out)
    assert report["period"] == {"from": "2026-03-01", "to": "2026-04-01", "days": 31}
    assert report["sales"]["revenue"] == pytest.approx(7000.0)  # North 6000 + East 1000
    assert report["sales"]["receivables"] == pytest.approx(600.0)  # East's order 2
    assert report["marketing"]["leads"] == 7  # North 4 + East 3
    assert report["handoff"]["accept_hours"] == pytest.approx(24.0)  # median of 12, 24, 48
    assert [s["count"] for s in report["funnel"]] == [1500, 210, 7, 5, 3, 3, 1, 2]


def test_kpis_category_filter_by_code(tiny_file: Path, capsys) -> None:
    code, out, _ = run(capsys, "kpis", "--db", str(tiny_file), *MARCH, "--category", "snacks", "--json")
    assert code == 0
    assert json.loads(out)["sales"]["revenue"] == pytest.approx(1200.0)  # orders 2 and 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--region", "Mars"], "unknown region 'Mars'"),
        (["--category", "cars"], "unknown category 'cars'"),
        (["--from", "2026-04-01", "--to", "2026-03-01"], "not before"),
    ],
)
def test_kpis_bad_input_exits_2_with_a_clear_message(tiny_file: Path, capsys, argv, message) -> None:
    code, out, err = run(capsys, "kpis", "--db", str(tiny_file), *argv)
    assert code == 2 and out == ""
    assert message in err


def test_kpis_on_a_missing_file_says_how_to_create_one_and_creates_nothing(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "none.duckdb"
    code, _, err = run(capsys, "kpis", "--db", str(missing))
    assert code == 2 and "python -m mktsales demo" in err
    assert not missing.exists()


def test_a_file_held_by_another_process_is_reported_plainly(tiny_file: Path) -> None:
    with Database(tiny_file):  # this process holds the lock, as the running app would
        done = subprocess.run(
            [sys.executable, "-m", "mktsales", "kpis", "--db", str(tiny_file)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
    assert done.returncode == 2
    assert "in use by another process" in done.stderr
    assert "Traceback" not in done.stderr


def test_demo_builds_a_database_and_refuses_to_overwrite_it(tmp_path: Path, capsys) -> None:
    path = tmp_path / "demo.duckdb"
    argv = ["demo", "--db", str(path), "--activities", "5000", "--as-of", "2026-06-30"]
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "5,000 activities" in out
    with Database(path) as db:
        assert db.scalar("SELECT max(activity_date) FROM activities").isoformat() == "2026-06-30"
    code, _, err = run(capsys, *argv)
    assert code == 2 and "--replace" in err
    code, _, _ = run(capsys, *argv, "--replace")
    assert code == 0


def test_demo_refuses_a_size_too_small_to_be_realistic(tmp_path: Path, capsys) -> None:
    code, _, err = run(capsys, "demo", "--db", str(tmp_path / "d.duckdb"), "--activities", "10")
    assert code == 2 and "at least" in err
