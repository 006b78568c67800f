"""``python -m mktsales funnel``: JSON numbers worked out by hand on the tiny fixture (see the lead
table in tests/test_funnel.py), the views and options, --as-user, and clear errors."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from mktsales.cli import main

MARCH = ("--from", "2026-03-01", "--to", "2026-04-01")
APRIL_1 = ("--as-of", "2026-03-31")  # a day means its end: 1 April 00:00


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdin is empty and not a terminal, as in a script (accounts are made without passwords)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.delenv("MKTSALES_HANDOFF_TARGET_HOURS", raising=False)
    monkeypatch.delenv("MKTSALES_TODAY", raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def funnel_json(capsys: pytest.CaptureFixture[str], path: Path, *argv: str) -> dict:
    code, out, err = run(capsys, "funnel", "--db", str(path), *argv, "--json")
    assert (code, err) == (0, "")
    return json.loads(out)


def counts(report: dict) -> list[int]:
    return [stage["count"] for stage in report["funnel"]]


@pytest.fixture
def staffed(tiny_file: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The tiny file with accounts (no passwords): a two-region head, a rep, an executive."""
    for argv in (
        ("add", "nora", "--role", "sales_head", "--region", "north", "east"),
        ("add", "rep", "--role", "sales_rep", "--region", "east"),
        ("add", "mia", "--role", "marketing_staff", "--region", "south"),
        ("add", "boss", "--role", "executive"),
    ):
        assert run(capsys, "users", *argv, "--db", str(tiny_file))[0] == 0
    return tiny_file


def test_period_json_for_march(tiny_file: Path, capsys) -> None:
    report = funnel_json(capsys, tiny_file, *MARCH, *APRIL_1)
    assert report["period"] == {"from": "2026-03-01", "to": "2026-04-01", "days": 31}
    assert (report["view"], report["as_of"]) == ("period", "2026-04-01T00:00:00")
    assert "breakdown" not in report and "outcomes" not in report
    # reach 1500 (activities 1, 2, 4), engaged 210, leads 1-5, 8, 10; MQL 1-4, 10; SAL 1, 2, 4, 6;
    # opened 1, 2, 4, 6; won 1, 6; collected: orders 11 and 13
    assert counts(report) == [1500, 210, 7, 5, 4, 4, 2, 2]
    assert [s["conversion"] for s in report["funnel"]] == [
        None,
        pytest.approx(210 / 1500),
        pytest.approx(7 / 210),
        pytest.approx(5 / 7),
        pytest.approx(4 / 5),
        pytest.approx(1.0),
        pytest.approx(2 / 4),
        pytest.approx(1.0),
    ]
    assert [s["drop"] for s in report["funnel"]] == [None, 1290, 203, 2, 1, 0, 2, 0]
    assert [s["leak_owner"] for s in report["funnel"]] == [None] + ["marketing"] * 3 + ["handoff"] + [
        "sales"
    ] * 3
    assert report["handoff"] == {
        "accepted": 4,  # 12 h (1), 48 h (2), 24 h (4), 96 h (6)
        "rejected": 1,  # lead 3 after 24 h
        "accept_rate": pytest.approx(0.8),
        "median_hours": pytest.approx(36.0),
        "p90_hours": pytest.approx(81.6),  # 48 + 0.7 * 48
        "decided_within_target": pytest.approx(0.8),  # all but the 96 h acceptance
        "waiting": 1,  # lead 10, MQL since 21 March 00:00
        "waiting_overdue": 1,
        "oldest_waiting_hours": pytest.approx(264.0),
        "target_hours": 48.0,
    }
    assert report["time_in_stage"] == {
        "lead_to_mql": pytest.approx(14 / 24),  # median of 24 h, 24 h, 14 h, 14 h, 14 h
        "mql_to_decision": pytest.approx(1.0),  # median of 0.5, 2, 1, 4 and the rejection's 1 day
        "sal_to_opportunity": pytest.approx((4 + 6 + 13 / 24) / 2),  # 4, 4, 6 d 13 h, 8
        "opportunity_to_close": pytest.approx(10.0),  # 10, 16, 10
        "lead_to_won": pytest.approx((18 + 1 / 24 + 22 + 14 / 24) / 2),  # lead 1: 18 d 1 h; lead 6: 22 d 14 h
    }


def test_by_source(tiny_file: Path, capsys) -> None:
    report = funnel_json(capsys, tiny_file, *MARCH, *APRIL_1, "--by", "source")
    assert report["breakdown"]["by"] == "source"
    rows = {r["key"] if not r["is_total"] else "total": r for r in report["breakdown"]["rows"]}
    assert list(rows) == ["ad", "event", "referral", "trade_show", "website", "total"]
    stages = ("lead", "mql", "sal", "opportunity", "won", "collected")
    assert {key: [r[s] for s in stages] for key, r in rows.items()} == {
        "ad": [2, 2, 2, 2, 1, 1],  # leads 1, 2; order 11
        "event": [3, 3, 1, 1, 0, 0],  # leads 3, 4, 10
        "referral": [0, 0, 1, 1, 1, 0],  # lead 6 (created in February, order 12 settles in April)
        "trade_show": [0, 0, 0, 0, 0, 1],  # lead 7's order 13, settled 5 March
        "website": [2, 0, 0, 0, 0, 0],  # leads 5, 8
        "total": [7, 5, 4, 4, 2, 2],
    }
    assert rows["event"]["sal_rate"] == pytest.approx(1 / 3)
    assert rows["website"]["sal_rate"] is None
    assert rows["total"]["lead_to_won"] == pytest.approx(2 / 7)


def test_cohort(tiny_file: Path, capsys) -> None:
    report = funnel_json(capsys, tiny_file, *MARCH, *APRIL_1, "--cohort", "--by", "campaign")
    assert report["view"] == "cohort"
    assert [s["stage"] for s in report["funnel"]] == ["lead", "mql", "sal", "opportunity", "won", "collected"]
    assert counts(report) == [7, 5, 3, 3, 1, 1]  # leads 1-5, 8, 10; MQL 1-4, 10; SAL 1, 2, 4; won/paid 1
    assert [s["conversion"] for s in report["funnel"]][1:] == pytest.approx([5 / 7, 3 / 5, 1.0, 1 / 3, 1.0])
    assert report["outcomes"] == {"rejected": 1, "lost": 1}  # lead 3 rejected, lead 2 lost
    rows = report["breakdown"]["rows"]
    assert [(r["key"], r["is_total"], r["lead"], r["won"]) for r in rows] == [
        (1, False, 2, 1),  # leads 1, 2
        (2, False, 3, 0),  # leads 3, 4, 10
        (None, False, 2, 0),  # no campaign: leads 5, 8
        (None, True, 7, 1),
    ]


@pytest.mark.parametrize(
    ("as_of", "collected"),
    [
        ("2026-04-09", 0),  # order 12 had 1000 of 3000 by then
        ("2026-04-10", 1),  # the end of 10 April: the last 2000 arrived that day
    ],
)
def test_as_of_a_day_counts_that_whole_day(tiny_file: Path, capsys, as_of: str, collected: int) -> None:
    february = ("--from", "2026-02-01", "--to", "2026-03-01")  # cohort: lead 6, won 15 March
    report = funnel_json(capsys, tiny_file, *february, "--cohort", "--as-of", as_of)
    assert counts(report) == [1, 1, 1, 1, 1, collected]


def test_as_of_a_moment_and_a_handoff_target(tiny_file: Path, capsys) -> None:
    # At 8 March 05:00 lead 2 has waited 43 h (MQL 6 March 10:00) and lead 3 5 h (MQL 8 March 00:00).
    report = funnel_json(capsys, tiny_file, *MARCH, "--as-of", "2026-03-08T05:00", "--handoff-target", "24")
    handoff = report["handoff"]
    assert (handoff["waiting"], handoff["waiting_overdue"]) == (2, 1)
    assert handoff["oldest_waiting_hours"] == pytest.approx(43.0)
    assert handoff["decided_within_target"] == pytest.approx(3 / 5)  # 12, 24 and 24 h of 12, 48, 24, 96, 24
    assert handoff["target_hours"] == 24.0


def test_defaults_come_from_the_environment(tiny_file: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MKTSALES_TODAY", "2026-03-31")  # now = the end of that day
    monkeypatch.setenv("MKTSALES_HANDOFF_TARGET_HOURS", "300")
    report = funnel_json(capsys, tiny_file, *MARCH)
    assert report["as_of"] == "2026-04-01T00:00:00"
    assert (report["handoff"]["target_hours"], report["handoff"]["waiting_overdue"]) == (
        300.0,
        0,
    )  # 264 h < 300


def test_as_a_user_limited_to_north_and_east(staffed: Path, capsys) -> None:
    report = funnel_json(capsys, staffed, *MARCH, *APRIL_1, "--as-user", "nora")
    assert report["as_user"] == {
        "username": "nora",
        "role": "sales_head",
        "all_regions": False,
        "regions": ["north", "east"],
    }
    # The south's lead 6 drops out: SAL 1, 2, 4; opened 1, 2, 4; won 1; orders 11 and 13 stay.
    assert counts(report) == [1500, 210, 7, 5, 3, 3, 1, 2]
    assert report["handoff"]["median_hours"] == pytest.approx(24.0)  # 12, 24, 48
    assert report["handoff"]["accept_rate"] == pytest.approx(3 / 4)
    everyone = funnel_json(capsys, staffed, *MARCH, *APRIL_1)
    assert counts(report) != counts(everyone)
    assert funnel_json(capsys, staffed, *MARCH, *APRIL_1, "--as-user", "boss")["funnel"] == everyone["funnel"]
    south = funnel_json(capsys, staffed, *MARCH, *APRIL_1, "--as-user", "mia")  # marketing staff, south
    assert counts(south)[2:] == [0, 0, 1, 1, 1, 0]  # only lead 6


def test_as_a_user_table_says_whose_view_it_is(staffed: Path, capsys) -> None:
    code, out, _ = run(
        capsys, "funnel", "--db", str(staffed), *MARCH, *APRIL_1, "--as-user", "nora", "--by", "region"
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "as nora (sales_head): regions north, east"
    assert lines[1] == "period [2026-03-01, 2026-04-01)  (31 days)"
    assert any(line.split()[:3] == ["sal", "sales", "3"] and line.endswith("handoff") for line in lines)
    assert any(line.split()[:3] == ["North", "China", "4"] for line in lines)
    assert not any(line.startswith("  South China") for line in lines)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--as-user", "nora", "--region", "south"],
            "--region south is outside nora's regions (north, east)",
        ),
        (["--as-user", "rep"], "rep is a sales_rep; that role may not see the funnel page"),
        (["--as-user", "ghost"], "no active account called ghost"),
    ],
)
def test_as_a_user_refusals(staffed: Path, capsys, argv: list[str], message: str) -> None:
    code, out, err = run(capsys, "funnel", "--db", str(staffed), *MARCH, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and err.count("\n") == 1
    assert message in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--by", "colour"], "--by 'colour': choose one of region, category, source, campaign"),
        (["--by", "Region"], "--by 'Region'"),
        (["--as-of", "2026-02-30"], "--as-of: not a date"),
        (["--handoff-target", "0"], "--handoff-target: not a positive number"),
        (["--handoff-target", "soon"], "--handoff-target: not a positive number"),
        (["--region", "Mars"], "unknown region 'Mars'"),
        (["--from", "2026-04-01", "--to", "2026-03-01"], "not before"),
    ],
)
def test_bad_input_exits_2_with_one_line(tiny_file: Path, capsys, argv: list[str], message: str) -> None:
    code, out, err = run(capsys, "funnel", "--db", str(tiny_file), *argv)
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and err.count("\n") == 1
    assert message in err


def test_a_missing_file_says_how_to_create_one(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "none.duckdb"
    code, _, err = run(capsys, "funnel", "--db", str(missing))
    assert code == 2 and "python -m mktsales demo" in err
    assert not missing.exists()
