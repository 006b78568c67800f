"""``python -m mktsales promotions`` and ``promotion-effect``: the JSON is what promotions.report and
effect.effect return, filters and --as-user narrow it, and mistakes are one clear line."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from pathlib import Path

import pytest

from mktsales import accounts, effect, promotions
from mktsales.cli import main
from mktsales.db import Database
from mktsales.scope import Scope
from tests.conftest import FIXTURES, MARCH, TESTER, load_tiny, write_sql

MARCH_ARGS = ("--from", "2026-03-01", "--to", "2026-04-01")


@pytest.fixture(autouse=True)
def fixed_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """Today is 30 March 2026, so "now" is 31 March 00:00; targets at their defaults."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.setenv("MKTSALES_TODAY", "2026-03-30")
    monkeypatch.delenv("MKTSALES_PROMOTION_DECISION_HOURS", raising=False)
    monkeypatch.delenv("MKTSALES_CONSULTATION_HOURS", raising=False)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """A file with the tiny and promotions fixtures and two accounts: a north rep, a south head."""
    file = tmp_path / "promotions.duckdb"
    with Database(file) as db:
        load_tiny(db)
        write_sql(db, (FIXTURES / "promotions.sql").read_text(encoding="utf-8"))
        accounts.create_user(db, TESTER, "rep", "Rep", "sales_rep", regions=["north"], person_id=2)
        accounts.create_user(db, TESTER, "south", "South", "sales_head", regions=["south"], person_id=8)
    return file


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def as_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    code, out, err = run(capsys, *argv, "--json")
    assert (code, err) == (0, "")
    return json.loads(out)


def test_the_json_is_promotions_report(path: Path, capsys) -> None:
    printed = as_json(capsys, "promotions", "--db", str(path), *MARCH_ARGS)
    with Database(path) as db:
        assert printed == promotions.report(db, Scope(*MARCH))
    assert printed["as_of"] == "2026-03-31T00:00:00"
    assert [p["promotion_id"] for p in printed["promotions"]] == [14, 3, 1, 2, 10, 12, 13, 11, 4]
    assert printed["turnaround"]["median_hours"] == 24.0


def test_status_and_as_user_narrow_the_list(path: Path, capsys) -> None:
    requested = as_json(capsys, "promotions", "--db", str(path), *MARCH_ARGS, "--status", "requested")
    assert [p["promotion_id"] for p in requested["promotions"]] == [12, 13]
    assert requested["status"] == "requested"
    # at 31 March 00:00, request 12 (29 March 08:00) has waited 40 h: not yet overdue
    assert [p["overdue"] for p in requested["promotions"]] == [False, False]
    north = as_json(capsys, "promotions", "--db", str(path), *MARCH_ARGS, "--as-user", "rep")
    assert [p["promotion_id"] for p in north["promotions"]] == [14, 1, 10, 13, 4]
    assert north["as_user"] == {
        "username": "rep",
        "role": "sales_rep",
        "all_regions": False,
        "regions": ["north"],
    }


def test_the_table_names_status_owner_and_what_is_missing(path: Path, capsys) -> None:
    code, out, err = run(capsys, "promotions", "--db", str(path), *MARCH_ARGS)
    assert (code, err) == (0, "")
    assert (
        "promotions: 2 requested, 1 drafting, 1 consulting, 1 approved, 2 live, 1 finished, 1 rejected" in out
    )
    assert "request turnaround (target 48 h): 3 decided, median 24 h, p90 120 h, within target 66.7%" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("11 "))
    assert "consulting" in line and "missing consulted, owners" in line and "OVERDUE (consultation)" in line


def test_promotion_effect_json_is_effect_effect(path: Path, capsys) -> None:
    printed = as_json(capsys, "promotion-effect", "--db", str(path), "--id", "14", "--as-of", "2026-03-31")
    with Database(path) as db:
        expected = effect.effect(db, 14, as_of=dt.date(2026, 3, 31))
    expected.pop("series")
    assert printed == {
        "title_zh": "华北华南零食特价", "title_en": "North & South snacks price-off", "status": "finished",
        "as_of": "2026-03-31", **json.loads(json.dumps(expected)),
    }  # fmt: skip
    with_series = as_json(capsys, "promotion-effect", "--db", str(path), "--id", "14", "--series")
    assert {row["group"] for row in with_series["series"]} == {
        "treated"
    }  # east sold no snacks in the baseline: no comparable region
    code, out, _ = run(capsys, "promotion-effect", "--db", str(path), "--id", "14", "--as-of", "2026-03-31")
    assert code == 0 and "method" in out and "note: No comparable regions" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("promotions", *MARCH_ARGS, "--status", "open"), "--status 'open': choose one of requested"),
        (("promotion-effect", "--id", "99"), "no promotion 99"),
        (
            ("promotion-effect", "--id", "10", "--as-user", "south"),
            "promotion 10 does not touch south's regions",
        ),
        (("promotion-effect", "--id", "10", "--as-user", "nobody"), "no active account called nobody"),
        (("promotions", *MARCH_ARGS, "--as-user", "rep", "--region", "south"), "outside rep's regions"),
    ],
)
def test_mistakes_are_one_line(path: Path, capsys, argv: tuple[str, ...], message: str) -> None:
    code, out, err = run(capsys, argv[0], "--db", str(path), *argv[1:])
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
