"""``python -m mktsales board``: the posts of tests/fixtures/board.sql with their timings, equal to
board.posts, a summary worked out by hand, --as-user, filters and clear errors.

"Today" is fixed at 31 March 2026, so now is 1 April 00:00: post 5 (due 31 March 13:00) is then
overdue too, and judged as a miss (see tests/test_board_metrics.py for the March numbers at noon).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from pathlib import Path

import pytest
from pytest import approx

from mktsales import board
from mktsales.cli import main
from mktsales.cli_board import POST_FIELDS
from mktsales.db import Database
from mktsales.scope import Scope
from tests.conftest import MARCH
from tests.test_board import load_board

MARCH_ARGS = ("--from", "2026-03-01", "--to", "2026-04-01")
NOW = dt.datetime(2026, 4, 1)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.setenv("MKTSALES_TODAY", "2026-03-31")


@pytest.fixture
def path(tiny_file: Path) -> Path:
    with Database(tiny_file) as db:
        load_board(db)
    return tiny_file


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def board_json(capsys: pytest.CaptureFixture[str], path: Path, *argv: str) -> dict:
    code, out, err = run(capsys, "board", "--db", str(path), *MARCH_ARGS, *argv, "--json")
    assert (code, err) == (0, "")
    return json.loads(out)


def test_json_lists_the_posts_with_their_timings(path: Path, capsys) -> None:
    report = board_json(capsys, path)
    assert (report["period"], report["now"]) == (
        {"from": "2026-03-01", "to": "2026-04-01", "days": 31},
        "2026-04-01 00:00:00",
    )
    # newest first; post 11 (created at now, 1 April 00:00) is still waiting, so it is listed too
    assert [p["post_id"] for p in report["posts"]] == [11, 5, 9, 6, 4, 8, 3, 2, 7, 1]
    assert report["posts"][-1] == {
        "post_id": 1,
        "direction": "field",
        "category": "competitor",
        "priority": "urgent",
        "title": "康师傅冰红茶华北降价10%",
        "regions": ["north"],
        "author": "李强",
        "created_at": "2026-03-02 09:00:00",
        "due_at": "2026-03-02 13:00:00",
        "first_response_at": "2026-03-02 11:30:00",
        "response_hours": 2.5,
        "status": "closed",
        "closed_at": "2026-03-03 10:00:00",
        "outcome": "acted",
    }
    plan = report["posts"][8]
    assert (plan["post_id"], plan["regions"], plan["response_hours"], plan["status"]) == (
        7, ["north", "east"], 6.0, "answered"
    )  # fmt: skip
    # 11 was posted at now, so it is open; 5 is past due by now
    assert [p["status"] for p in report["posts"][:3]] == ["open", "overdue", "overdue"]


def test_json_posts_equal_board_posts(path: Path, capsys) -> None:
    report = board_json(capsys, path)
    with Database(path) as db:
        frame = board.posts(db, None, Scope(*MARCH), limit=None, now=NOW)
    codes = {1: "north", 2: "east", 3: "south"}
    expected = []
    for row in frame.to_dict("records"):
        plain = {
            name: (None if value is None or value != value else value)
            for name, value in row.items()
            if not isinstance(value, list)
        }
        expected.append(
            {
                **{name: plain.get(name) for name in POST_FIELDS},
                "regions": [codes[r] for r in row["region_ids"]],
                "author": row["author_name"],
            }
        )
    for mine, theirs in zip(report["posts"], expected, strict=True):
        for name in POST_FIELDS:
            value = theirs[name]
            if hasattr(value, "isoformat"):
                value = value.isoformat(sep=" ", timespec="seconds")
            assert mine[name] == value, (mine["post_id"], name)


def test_the_summary(path: Path, capsys) -> None:
    summary = board_json(capsys, path)["summary"]
    fields = ("direction", "posts", "answered", "median_hours", "p90_hours", "within_target", "overdue_now")
    assert [tuple(row[f] for f in fields) for row in summary["response"]] == [
        # field: 2, 2.5, 6, 30 answered; 1, 3, 6 within of the judged 1, 2, 3, 4, 5, 6
        ("field", 6, 4, approx(4.25), approx(22.8), approx(0.5), 2),
        ("plan", 3, 2, approx(8.0), approx(9.6), approx(1 / 3), 1),
    ]
    assert summary["counts"] == {  # the board's counts: what was posted in March, and 11, still waiting
        "open": 1,  # 11
        "overdue": 3,  # 4, 5, 9
        "answered": 4,  # 2, 3, 7, 8
        "closed": 2,  # 1, 6
        "unread": 0,  # nobody is reading
        "owed_by_me": 0,
        "unacknowledged_plans": 1,
        "overdue_answers": 3,
    }


def test_as_user_sees_their_regions_and_what_is_theirs(path: Path, capsys) -> None:
    report = board_json(capsys, path, "--as-user", "east.rep")
    assert report["as_user"] == {
        "username": "east.rep",
        "role": "sales_rep",
        "all_regions": False,
        "regions": ["east"],
    }
    assert [p["post_id"] for p in report["posts"]] == [9, 6, 4, 3, 7]
    counts = report["summary"]["counts"]
    # unread: 3, 6, 7, 9 were last touched by others (4 is his own); owed: plan 9
    assert (counts["unread"], counts["owed_by_me"], counts["overdue"]) == (4, 1, 2)
    assert [r["posts"] for r in report["summary"]["response"]] == [3, 2]


def test_status_and_direction_filters(path: Path, capsys) -> None:
    found = board_json(capsys, path, "--status", "overdue", "--direction", "field")
    assert [p["post_id"] for p in found["posts"]] == [5, 4]
    assert [p["post_id"] for p in board_json(capsys, path, "--direction", "plan")["posts"]] == [9, 8, 7]
    assert [p["post_id"] for p in board_json(capsys, path, "--region", "south")["posts"]] == [5, 8]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--status", "late"), "error: --status 'late': choose one of open, overdue, answered, closed"),
        (("--direction", "up"), "error: --direction 'up': choose one of field, plan"),
        (("--as-user", "nobody"), "error: no active account called nobody"),
        (
            ("--as-user", "rep", "--region", "east"),
            "error: --region east is outside rep's regions (north); choose among those or leave --region out",
        ),
    ],
)
def test_bad_input_is_one_clear_line(path: Path, capsys, argv: tuple[str, ...], message: str) -> None:
    code, out, err = run(capsys, "board", "--db", str(path), *MARCH_ARGS, *argv)
    assert (code, out, err.strip()) == (2, "", message)


def test_a_missing_file_is_a_clear_error(tmp_path: Path, capsys) -> None:
    code, _, err = run(capsys, "board", "--db", str(tmp_path / "none.duckdb"))
    assert code == 2 and err.startswith("error: no database at")


def test_the_table_for_a_terminal(path: Path, capsys) -> None:
    code, out, err = run(capsys, "board", "--db", str(path), *MARCH_ARGS, "--as-user", "head.east")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "as head.east (sales_head): regions east"
    assert lines[1] == "period [2026-03-01, 2026-04-01)  (31 days), status as of 2026-04-01 00:00:00"
    assert "  field            3         2     4.0 h     5.6 h      66.7%        1" in lines
    assert "posts (5)" in lines
    row = next(line for line in lines if line.lstrip().startswith("9 "))
    assert row.split()[:5] == ["9", "plan", "targets", "normal", "overdue"] and row.endswith(
        "华东四月销售目标"
    )
