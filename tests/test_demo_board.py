"""The board's demo data (issue 5): volume, who posts and answers, timings that respect the clock,
the patterns it promises (slow regions, overdue and unacknowledged posts, a silent region,
closed posts with outcomes, a dozen small photos), determinism, and back-filling an older demo."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pytest
from PIL import Image

from mktsales import accounts, board, demo_board
from mktsales import demo as demo_module
from mktsales.db import Database
from mktsales.demo import build_demo
from mktsales.scope import Scope

SIZE = 40_000  # 1,000 posts
AS_OF = dt.date(2026, 6, 30)
END = dt.datetime(2026, 7, 1)  # the first moment after AS_OF
YEAR = Scope(dt.date(2025, 7, 1), dt.date(2026, 7, 1))


@pytest.fixture(scope="module")
def db() -> Iterator[Database]:
    with Database(":memory:") as built:
        build_demo(built, activities=SIZE, as_of=AS_OF)
        yield built


def count(db: Database, sql: str) -> int:
    return int(db.scalar(sql))


def test_volume_directions_and_the_tables_filled(db: Database) -> None:
    posts = count(db, "SELECT count(*) FROM posts")
    # 40,000 / 40 = 1,000, less the northeast's field reports of its last 18 silent days
    assert 960 <= posts <= 1_000
    field = count(db, "SELECT count(*) FROM posts WHERE direction = 'field'") / posts
    assert 0.65 <= field <= 0.75
    for table in ("post_regions", "post_replies", "post_acks"):
        assert count(db, f"SELECT count(*) FROM {table}") > 0, table
    # reads are the demo accounts', given after the build (see the last test); not a built table
    assert count(db, "SELECT count(*) FROM post_reads WHERE user_id NOT IN (SELECT user_id FROM users)") == 0
    assert "post_reads" not in demo_board.TABLES
    assert count(db, "SELECT count(*) FROM posts WHERE created_at < TIMESTAMP '2025-07-01'") == 0
    # the largest region (east) posts most
    by_region = db.rows(
        "SELECT region_id FROM post_regions JOIN posts USING (post_id) WHERE direction = 'field'"
        " GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    )
    assert by_region == [(2,)]


def test_the_number_of_posts_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_board, "MAX_POSTS", 30)
    with Database(":memory:") as small:
        counts = build_demo(small, activities=2_000, as_of=AS_OF)  # 2,000 / 40 = 50 > 30
        assert counts["posts"] <= 30 and counts["posts"] == count(small, "SELECT count(*) FROM posts")


def test_authors_and_answers_come_from_the_right_side(db: Database) -> None:
    # field reports: by sales of the post's region; plans: by marketing (regional or national)
    assert not db.rows(
        "SELECT p.post_id FROM posts p JOIN people a ON a.person_id = p.author_person_id"
        " JOIN post_regions r USING (post_id)"
        " WHERE p.direction = 'field' AND (a.department <> 'sales' OR a.region_id <> r.region_id)"
    )
    assert not db.rows(
        "SELECT p.post_id FROM posts p JOIN people a ON a.person_id = p.author_person_id"
        " WHERE p.direction = 'plan' AND a.department <> 'marketing'"
    )
    # the first answer comes from the other department
    assert not db.rows(
        "SELECT p.post_id FROM posts p JOIN people f ON f.person_id = p.first_responder_person_id"
        " WHERE f.department = CASE p.direction WHEN 'field' THEN 'sales' ELSE 'marketing' END"
    )
    # a plan's acknowledgements: the sales head of each acknowledged region
    assert not db.rows(
        "SELECT a.post_id FROM post_acks a JOIN posts p USING (post_id)"
        " JOIN people h ON h.person_id = a.person_id WHERE p.direction = 'plan'"
        " AND (h.department <> 'sales' OR h.title <> 'head' OR h.region_id <> a.region_id)"
    )
    assert count(db, "SELECT count(*) FROM posts WHERE first_responder_person_id IS NOT NULL"
                     " AND first_responder IS NULL") == 0  # fmt: skip
    # a field report addresses one region; a plan one or more, all of them real
    assert not db.rows(
        "SELECT post_id FROM posts JOIN post_regions USING (post_id)"
        " WHERE direction = 'field' GROUP BY post_id HAVING count(*) <> 1"
    )
    assert (
        count(db, "SELECT count(*) FROM posts WHERE post_id NOT IN (SELECT post_id FROM post_regions)") == 0
    )


def test_every_time_respects_the_clock(db: Database) -> None:
    end = END.isoformat(sep=" ")
    for column in ("created_at", "first_response_at", "closed_at", "last_activity_at", "due_at"):
        late = "" if column == "due_at" else f" OR {column} >= TIMESTAMP '{end}'"
        assert count(db, f"SELECT count(*) FROM posts WHERE {column} < created_at{late}") == 0, column
    assert count(db, "SELECT count(*) FROM posts WHERE closed_at < first_response_at OR closed_at IS NOT NULL"
                     " AND first_response_at IS NULL") == 0  # fmt: skip
    assert count(db, "SELECT count(*) FROM posts"
                     " WHERE due_at <> created_at + to_hours(CAST(target_hours AS BIGINT))"
                     " OR target_hours NOT IN (4, 24)") == 0  # fmt: skip
    for table, column in (("post_replies", "created_at"), ("post_acks", "acked_at")):
        assert (
            count(
                db,
                f"SELECT count(*) FROM {table} t JOIN posts p USING (post_id)"
                f" WHERE t.{column} < p.created_at OR t.{column} >= TIMESTAMP '{end}'"
                f" OR t.{column} > p.last_activity_at",
            )
            == 0
        ), table
    # the first answer is the earliest of the other side's acknowledgements and replies
    assert not db.rows(
        "SELECT p.post_id FROM posts p JOIN post_replies r USING (post_id)"
        " WHERE r.kind = 'reply' AND r.side = CASE p.direction WHEN 'field' THEN 'marketing' ELSE 'sales' END"
        " AND (p.first_response_at IS NULL OR r.created_at < p.first_response_at)"
    )
    assert not db.rows(
        "SELECT p.post_id FROM posts p JOIN post_acks a USING (post_id)"
        " WHERE p.first_response_at IS NULL OR a.acked_at < p.first_response_at"
    )


def test_the_patterns_the_demo_promises(db: Database) -> None:
    counts = board.counts(db, None, YEAR, now=END)
    assert counts["overdue"] > 0 and counts["unacknowledged_plans"] > 0
    recent = board.posts(db, None, Scope(dt.date(2026, 6, 1), dt.date(2026, 7, 1)), limit=None, now=END)
    assert 0 < (recent["status"] == "overdue").mean() < 0.1  # a few recent posts are still owed
    # most posts older than 30 days are closed, each with an outcome; "no action" says why
    old = board.posts(db, None, Scope(dt.date(2025, 7, 1), dt.date(2026, 5, 31)), limit=None, now=END)
    assert 0.7 <= (old["status"] == "closed").mean() <= 0.9
    assert count(db, "SELECT count(*) FROM posts WHERE closed_at IS NOT NULL AND outcome IS NULL") == 0
    assert (
        count(db, "SELECT count(*) FROM posts WHERE outcome = 'no_action' AND coalesce(close_note, '') = ''")
        == 0
    )
    assert set(old["outcome"].dropna()) == set(board.OUTCOMES)
    # a thread has up to four replies: the first answer and up to three more
    assert (
        db.scalar(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM post_replies"
            " WHERE kind = 'reply' GROUP BY post_id)"
        )
        <= 4
    )
    # the northwest and northeast answer field reports slower than the east
    by_region = board.response_by(db, YEAR, "region", now=END)
    field = by_region[by_region["direction"] == "field"].set_index("key")["median_hours"]
    assert field[6] > 1.5 * field[2] and field[7] > 1.5 * field[2]
    summary = board.response_summary(db, YEAR, now=END).set_index("direction")
    assert 0.7 <= summary.loc["field", "within_target"] <= 0.9
    # the northeast stopped reporting from the field 18 days before the end
    silent = board.silent_regions(db, YEAR, now=END)
    assert silent["region_id"].tolist() == [7] and silent["days_silent"].iloc[0] >= 18


def test_texts_are_chinese_and_competitor_reports_name_one(db: Database) -> None:
    titles = db.rows("SELECT title, body FROM posts")
    assert all(title and body and "{" not in title + body for title, body in titles)
    names = {name for group in demo_board.COMPETITORS for name in group}
    competitors = db.rows("SELECT DISTINCT competitor FROM posts WHERE category = 'competitor'")
    assert competitors and {c for (c,) in competitors} <= names
    assert (
        count(db, "SELECT count(*) FROM posts WHERE competitor IS NOT NULL AND category <> 'competitor'") == 0
    )
    intel = board.competitor_intel(db, YEAR)
    assert intel["posts"].sum() == count(db, "SELECT count(*) FROM posts WHERE competitor IS NOT NULL")


def test_a_dozen_small_shelf_photos(db: Database) -> None:
    rows = db.rows(
        "SELECT p.category, f.mime, f.width, f.height, f.bytes"
        " FROM post_photos f JOIN posts p USING (post_id)"
    )
    assert len(rows) == demo_board.N_PHOTOS == 12
    for category, mime, width, height, data in rows:
        assert category in ("shelf_display", "competitor", "pop_dm")
        assert (mime, width, height) == ("image/jpeg", 640, 480) and len(data) < 60_000
        assert Image.open(io.BytesIO(data)).size == (640, 480)


def test_the_same_seed_gives_the_same_board() -> None:
    def board_of(seed: int) -> list[tuple]:
        with Database(":memory:") as built:
            build_demo(built, seed=seed, activities=2_000, as_of=AS_OF)
            return built.rows("SELECT * FROM posts ORDER BY post_id") + built.rows(
                "SELECT * FROM post_replies ORDER BY reply_id"
            )

    first = board_of(7)
    assert first == board_of(7)
    assert first != board_of(8)


def test_demo_accounts_post_after_the_demos_ids(db: Database) -> None:
    top = count(db, "SELECT max(post_id) FROM posts")
    rep = accounts.find_user(db, "rep.east")
    assert rep is not None
    posted = board.post(db, rep, key="after-demo", direction="field", category="stocking", title="理货",
                        body="缺货", now=END)  # fmt: skip
    assert posted.post_id == top + 1
    db.write(lambda tx: (tx.execute("DELETE FROM post_regions WHERE post_id = ?", [posted.post_id]),
                         tx.execute("DELETE FROM posts WHERE post_id = ?", [posted.post_id]),
                         tx.audit("posts", posted.post_id, "test_cleanup")), by=demo_module.DEMO)  # fmt: skip


def test_an_older_demo_gets_the_board_and_an_interrupted_build_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch, tiny: Database
) -> None:
    assert not demo_board.missing(tiny)  # not a demo
    with Database(":memory:") as older:
        monkeypatch.setattr(demo_module, "EXTENSIONS", ())
        build_demo(older, activities=2_000, as_of=AS_OF)
        monkeypatch.setattr(demo_module, "EXTENSIONS", ("mktsales.demo_board",))
        assert demo_board.missing(older)
        assert demo_module.add_missing_features(older) == ["mktsales.demo_board"]
        assert not demo_board.missing(older) and count(older, "SELECT count(*) FROM posts") > 0

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(demo_board, "_thread_rows", broken)
    with Database(":memory:") as failed:
        with pytest.raises(RuntimeError):
            build_demo(failed, activities=2_000, as_of=AS_OF)
        for table in (*demo_board.TABLES, "regions", "activities"):
            assert count(failed, f"SELECT count(*) FROM {table}") == 0, table


def test_demo_accounts_have_read_all_but_the_last_two_days(db: Database) -> None:
    ceo = accounts.find_user(db, "ceo")
    assert ceo is not None
    cutoff = dt.datetime.combine(AS_OF - dt.timedelta(days=1), dt.time())  # the day before as-of, 00:00
    recent = int(db.scalar("SELECT count(*) FROM posts WHERE last_activity_at >= ?", [cutoff]))
    assert recent > 0
    scope = Scope(AS_OF - dt.timedelta(days=400), AS_OF + dt.timedelta(days=1))
    now = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time())
    shown = board.posts(db, ceo, scope, limit=None, now=now)
    assert int(shown["unread"].sum()) == recent  # the executive sees every post; the recent ones are news
