"""What a user limited to some regions sees of a promotion that also runs elsewhere (issue 23): their
regions' consultations and execution reports only, in the detail, the board's counts and the CLI;
and a promotion they may not see is answered exactly like one that does not exist.

tests/fixtures/promotions.sql: promotion 10 runs in the north and the east. Its consultation: north
agreed (赵伟), east raised a concern (孙丽, "堆头费用偏高"). Its status reports: north two (李强 as
planned on 21 March, 王芳 not as planned on 28 March), east one (刘洋 as planned on 22 March).
Promotion 14 (north and south, finished): north a status report as planned and an effect report,
south two status reports not as planned. "Now" is 31 March 2026 10:00.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mktsales import accounts, board, promotions
from mktsales.board import BoardInvalid
from mktsales.cli import main
from mktsales.db import Database
from mktsales.promotions import PromotionRefused
from mktsales.scope import Scope
from tests.conftest import MARCH, TESTER, load_tiny
from tests.test_promotions import NOW, load_promotions, ready_promotion, user, with_accounts

NORTH, EAST, SOUTH = 1, 2, 3


@pytest.fixture
def db(tiny: Database) -> Database:
    return with_accounts(tiny)


def reports_of(db: Database, promotion_id: int, regions: list[int]) -> list[tuple]:
    """(region, by, as planned) of the promotion's reports in ``regions``, newest first, from the table."""
    return db.rows(
        "SELECT region_id, by_name, as_planned FROM execution_reports WHERE promotion_id = ?"
        " AND list_contains(?, region_id) ORDER BY reported_at DESC, report_id DESC",
        [promotion_id, regions],
    )


# -- point 2: the detail and the board's counts ------------------------------------------------------------
def test_a_north_user_sees_only_the_norths_consultation_and_reports(db: Database) -> None:
    north = promotions.detail(db, user(db, "rep"), 10, now=NOW)
    assert [c["region_id"] for c in north["consultations"]] == [NORTH]
    assert [(c["answer"], c["by"]) for c in north["consultations"]] == [("agree", "赵伟")]
    assert [entry["region_id"] for c in north["consultations"] for entry in c["log"]] == [NORTH]
    shown = [(r["region_id"], r["by"], r["as_planned"]) for r in north["reports"]]
    assert shown == reports_of(db, 10, [NORTH]) == [(1, "王芳", False), (1, "李强", True)]
    everything = json.dumps(north, ensure_ascii=False)
    assert "刘洋" not in everything and "堆头费用偏高" not in everything  # the east's reporter and concern
    assert north["as_planned_share"] == pytest.approx(1 / 2)  # the row's share: north's 1 of 2


def test_the_marketing_head_still_sees_every_region(db: Database) -> None:
    everyone = promotions.detail(db, user(db, "mh"), 10, now=NOW)
    assert [c["region_id"] for c in everyone["consultations"]] == [NORTH, EAST]
    shown = [(r["region_id"], r["by"], r["as_planned"]) for r in everyone["reports"]]
    assert shown == reports_of(db, 10, [NORTH, EAST])
    assert len(shown) == 3 and everyone["as_planned_share"] == pytest.approx(2 / 3)


def test_the_boards_report_counts_and_share_are_the_users_regions_only(db: Database) -> None:
    north = promotions.listing(db, user(db, "rep"), Scope(*MARCH), now=NOW).set_index("promotion_id")
    everyone = promotions.listing(db, user(db, "mh"), Scope(*MARCH), now=NOW).set_index("promotion_id")
    # promotion 10: north 2 reports, 1 as planned; all: 3, 2 as planned
    assert (north.loc[10, "reports"], north.loc[10, "as_planned_share"]) == (2, pytest.approx(1 / 2))
    assert (everyone.loc[10, "reports"], everyone.loc[10, "as_planned_share"]) == (3, pytest.approx(2 / 3))
    # promotion 14: north a status report as planned and an effect report; all: 4, 1 of 3 as planned
    assert (north.loc[14, "reports"], north.loc[14, "as_planned_share"]) == (2, 1.0)
    assert (everyone.loc[14, "reports"], everyone.loc[14, "as_planned_share"]) == (4, pytest.approx(1 / 3))
    # the feedback clock: the east has been silent since 22 March, the north reported on 28 March
    assert (everyone.loc[10, "overdue_reason"], north.loc[10, "overdue"]) == ("feedback", False)


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    """The same data in a file, for the command line."""
    path = tmp_path / "promotions.duckdb"
    with Database(path) as db:
        load_tiny(db)
        load_promotions(db)
        accounts.create_user(db, TESTER, "rep", "Rep", "sales_rep", regions=["north"], person_id=2)
    return path


def test_the_cli_list_as_a_north_user_counts_the_norths_reports(
    db_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.setenv("MKTSALES_TODAY", "2026-03-30")
    argv = ["promotions", "--db", str(db_file), "--from", "2026-03-01", "--to", "2026-04-01", "--json"]

    def row(*extra: str) -> dict:
        assert main([*argv, *extra]) == 0
        listed = json.loads(capsys.readouterr().out)["promotions"]
        return next(p for p in listed if p["promotion_id"] == 10)

    assert (row()["reports"], row()["as_planned_share"]) == (3, 0.6667)
    assert (row("--as-user", "rep")["reports"], row("--as-user", "rep")["as_planned_share"]) == (2, 0.5)


# -- point 14: a promotion the user may not see is not found ---------------------------------------------
def refusal(call: Callable[[], Any]) -> tuple[str, dict]:
    with pytest.raises(PromotionRefused) as refused:
        call()
    return refused.value.key, refused.value.values


def test_a_step_on_a_promotion_outside_the_users_regions_is_answered_as_for_a_missing_one(
    db: Database,
) -> None:
    rep, ms = user(db, "rep"), user(db, "ms")  # north; east
    missing = refusal(lambda: promotions.transition(db, rep, 999, "live", now=NOW))
    assert missing == ("promotion.error.not_found", {"id": 999})
    # 11 (east and south) is consulting: "cannot move from consulting to live" would tell the north so
    assert refusal(lambda: promotions.transition(db, rep, 11, "live", now=NOW)) == (
        "promotion.error.not_found",
        {"id": 11},
    )
    pid = ready_promotion(db, "approved")  # north only
    assert (
        refusal(lambda: promotions.transition(db, ms, pid, "live", now=NOW))[0] == "promotion.error.not_found"
    )
    assert (
        refusal(lambda: promotions.update_plan(db, ms, pid, budget=1, now=NOW))[0]
        == "promotion.error.not_found"
    )
    # a report on 11 for the north: "this promotion is consulting" would tell its status
    report = dict(key="x", promotion_id=11, region_id=NORTH, kind="status", as_planned=True, now=NOW)
    assert refusal(lambda: promotions.report_execution(db, rep, **report))[0] == "promotion.error.not_found"
    assert refusal(lambda: promotions.consult(db, user(db, "shn"), 11, NORTH, "agree", now=NOW)) == (
        "promotion.error.not_found",
        {"id": 11},
    )
    assert refusal(lambda: promotions.detail(db, rep, 11, now=NOW)) == (
        "promotion.error.not_found",
        {"id": 11},
    )
    assert db.scalar("SELECT status FROM promotions WHERE promotion_id = 11") == "consulting"


def test_a_board_post_may_name_only_a_promotion_the_poster_can_see(db: Database) -> None:
    rep = user(db, "rep")  # north
    post = dict(direction="field", category="stocking", title="理货", body="货架缺货", now=NOW)
    with pytest.raises(BoardInvalid) as refused:  # 11 runs in the east and the south
        board.post(db, rep, key="p1", promotion_id=11, **post)
    assert [(p.field, p.key) for p in refused.value.problems] == [
        ("promotion_id", "board.error.unknown_promotion")
    ]
    assert db.scalar("SELECT count(*) FROM posts WHERE idempotency_key = 'p1'") == 0
    saved = board.post(db, rep, key="p2", promotion_id=10, **post)  # 10 runs in the north too
    assert db.scalar("SELECT promotion_id FROM posts WHERE post_id = ?", [saved.post_id]) == 10
    board.post(
        db,
        user(db, "mh"),
        key="p3",
        promotion_id=11,
        **{**post, "direction": "plan", "category": "promotion_plan"},
    )
