"""Demo promotion details (issue 4): every demo promotion gets a life consistent with its status and
dates, built deterministically, and an older demo gets it the next time it is opened."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest

from mktsales import demo, demo_promotions, promotions
from mktsales.db import Database

AS_OF = dt.date(2026, 3, 31)
NOW = dt.datetime(2026, 4, 1)  # the end of as_of
ACTIVITIES = 400_000  # 32 promotions: every status but a few


@pytest.fixture(scope="module")
def db() -> Iterator[Database]:
    with Database(":memory:") as built:
        demo.build_demo(built, seed=11, as_of=AS_OF, activities=ACTIVITIES)
        yield built


def frame(db: Database, sql: str) -> pd.DataFrame:
    return db.query(sql)


def test_every_promotion_has_a_plan_an_overall_owner_and_a_history(db: Database) -> None:
    n = db.scalar("SELECT count(*) FROM promotions")
    assert n == 12 + ACTIVITIES // 20_000
    assert db.scalar("SELECT count(*) FROM promotion_plans") == n
    assert (
        db.scalar(
            "SELECT count(*) FROM promotions p JOIN promotion_owners o ON o.promotion_id = p.promotion_id"
            " AND o.part = 'overall' AND o.person_id = p.owner_id"
        )
        == n
    )
    statuses = set(db.query("SELECT DISTINCT status FROM promotions")["status"])
    assert {"requested", "consulting", "live", "finished", "reviewed", "rejected"} <= statuses


def test_the_history_is_legal_in_order_and_ends_in_the_status(db: Database) -> None:
    events = db.query(
        "SELECT e.promotion_id, e.from_status, e.to_status, e.event_at, p.status, p.origin"
        " FROM promotion_events e JOIN promotions p USING (promotion_id) ORDER BY e.promotion_id, e.event_id"
    )
    for pid, history in events.groupby("promotion_id"):
        first = history.iloc[0]
        assert pd.isna(first["from_status"])
        assert first["to_status"] == ("requested" if first["origin"] == "sales" else "drafting"), pid
        steps = list(zip(history["from_status"].iloc[1:], history["to_status"].iloc[1:], strict=True))
        assert all(step in promotions.TRANSITIONS for step in steps), (pid, steps)
        assert list(history["from_status"].iloc[1:]) == list(history["to_status"].iloc[:-1])
        assert history["event_at"].is_monotonic_increasing
        assert history["to_status"].iloc[-1] == first["status"]
    assert events["event_at"].max() < pd.Timestamp(NOW)


def test_request_and_decision_times_match_the_history(db: Database) -> None:
    timed = db.query(
        "SELECT p.promotion_id, p.requested_at, p.decided_at,"
        " min(e.event_at) FILTER (WHERE e.from_status IS NULL) AS created,"
        " min(e.event_at) FILTER (WHERE e.from_status = 'requested') AS decision,"
        " any_value(e.to_status) FILTER (WHERE e.from_status = 'requested') AS decided_to"
        " FROM promotions p JOIN promotion_events e USING (promotion_id)"
        " WHERE p.origin = 'sales' GROUP BY ALL"
    )
    assert (timed["created"] == timed["requested_at"]).all()
    decided = timed[timed["decided_at"].notna()]
    assert (decided["decision"] == decided["decided_at"]).all()
    undecided = timed[timed["decided_at"].isna()]
    assert set(undecided["decided_to"].dropna()) <= {"cancelled"}  # only a requester's own withdrawal


def test_whatever_went_live_was_ready_and_requests_count_as_consulted(db: Database) -> None:
    ran = db.query(
        "SELECT p.promotion_id, r.missing FROM promotions p JOIN promotion_readiness r USING (promotion_id)"
        " WHERE p.status IN ('live', 'finished', 'reviewed')"
    )
    assert len(ran) > 0 and ran["missing"].map(len).eq(0).all()
    requests = db.query(
        "SELECT c.answered FROM promotion_consultation_status c JOIN promotions p USING (promotion_id)"
        " WHERE p.origin = 'sales'"
    )
    assert requests["answered"].all()


def test_consultation_answers_come_from_the_regions_sales_head_after_the_question(db: Database) -> None:
    answers = db.query(
        "SELECT c.promotion_id, c.region_id, c.answer, c.text, c.answered_at, pe.department, pe.title,"
        " pe.region_id AS person_region, max(a.asked_at) AS asked_at"
        " FROM promotion_consultations c JOIN people pe ON pe.person_id = c.by_person"
        " JOIN promotion_consult_asks a ON a.promotion_id = c.promotion_id AND a.region_id = c.region_id"
        " GROUP BY ALL"
    )
    assert len(answers) > 0
    assert (answers["department"] == "sales").all() and (answers["title"] == "head").all()
    assert (answers["person_region"] == answers["region_id"]).all()
    assert (answers["answered_at"] > answers["asked_at"]).all()
    assert set(answers["answer"]) <= set(promotions.ANSWERS)
    assert (answers.loc[answers["answer"] != "agree", "text"] != "").all()
    touched = db.scalar(
        "SELECT count(*) FROM promotion_consultations c"
        " LEFT JOIN promotion_regions r USING (promotion_id, region_id)"
        " WHERE r.region_id IS NULL"
    )
    assert touched == 0


def test_execution_reports_fit_the_promotions_that_ran(db: Database) -> None:
    reports = db.query(
        "SELECT e.*, p.status, p.start_date, p.end_date, c.region_id AS store_region,"
        " r.region_id AS touched FROM execution_reports e JOIN promotions p USING (promotion_id)"
        " LEFT JOIN customers c ON c.customer_id = e.customer_id"
        " LEFT JOIN promotion_regions r ON r.promotion_id = e.promotion_id AND r.region_id = e.region_id"
    )
    assert set(reports["status"]) <= {"live", "finished", "reviewed"}
    assert reports["touched"].notna().all()
    stores = reports[reports["customer_id"].notna()]
    assert (stores["store_region"] == stores["region_id"]).all()
    status = reports[reports["kind"] == "status"]
    day = status["reported_at"].dt.normalize()
    assert ((day >= status["start_date"]) & (day <= status["end_date"])).all()
    assert 0.70 <= status["as_planned"].mean() <= 0.90
    assert (status.loc[status["as_planned"], "deviations"].map(len) == 0).all()
    assert (status.loc[~status["as_planned"], "deviations"].map(len) > 0).all()
    effect = reports[reports["kind"] == "effect"]
    assert set(effect["status"]) <= {"finished", "reviewed"}
    assert effect["sell_through_pct"].between(0, 100).all()
    assert 0 < reports["photo"].notna().sum() <= demo_promotions.N_PHOTOS
    assert reports["idempotency_key"].is_unique


def test_mechanics_follow_the_title(db: Database) -> None:
    plans = db.query(
        "SELECT p.title_zh, l.mechanics FROM promotions p JOIN promotion_plans l USING (promotion_id)"
    )
    for title, mechanics in zip(plans["title_zh"], plans["mechanics"], strict=True):
        word = next(w for w in demo_promotions.TITLE_MECHANICS if w in title)
        assert set(mechanics) == set(demo_promotions.TITLE_MECHANICS[word])


def test_an_older_demo_gets_the_details_again_identically(db: Database) -> None:
    columns = {
        "promotion_plans": "*", "promotion_owners": "*", "promotion_consult_asks": "*",
        "promotion_consultations": "* EXCLUDE (consultation_id)", "promotion_events": "* EXCLUDE (event_id)",
        "execution_reports": "* EXCLUDE (report_id)",
    }  # fmt: skip
    before = {t: db.query(f"SELECT {c} FROM {t} ORDER BY ALL") for t, c in columns.items()}
    assert not demo_promotions.missing(db)
    for table in reversed(demo_promotions.TABLES):  # as a demo built before issue 4 would be
        db.write(lambda tx, table=table: demo._delete_all(tx, table), by=demo.DEMO)
    assert demo_promotions.missing(db)
    assert demo.add_missing_features(db) == ["mktsales.demo_promotions"]
    assert not demo_promotions.missing(db)
    for table, sql in columns.items():
        pd.testing.assert_frame_equal(db.query(f"SELECT {sql} FROM {table} ORDER BY ALL"), before[table])
    # the app's next rows continue after the demo's ids
    assert db.scalar("SELECT nextval('promotion_event_id_seq')") > db.scalar(
        "SELECT max(event_id) FROM promotion_events"
    )
