"""The shared-information board (issue 5): posting, answering, acknowledging, closing, unread
markers, permissions, bad photos, idempotency and many writers, worked by hand on
tests/fixtures/board.sql (on top of tiny.sql). "Now" is Tuesday 31 March 2026 12:00.

Response hours by post (fixture comments): 1 -> 2.5 h, 2 -> 30 h, 3 -> 6 h, 4 none, 5 none,
6 -> 2 h (a close), 7 -> 6 h (an acknowledgement), 8 -> 10 h, 9 none.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Callable
from typing import Any

import duckdb
import pandas as pd
import pytest
from PIL import Image

from mktsales import accounts, board
from mktsales.access import AccessDenied, User
from mktsales.board import BoardFailed, BoardInvalid, Photo
from mktsales.db import Database
from mktsales.i18n import t
from mktsales.scope import Scope
from tests.conftest import FIXTURES, MARCH, TESTER, write_sql

NOW = dt.datetime(2026, 3, 31, 12, 0)


def load_board(db: Database) -> None:
    """tiny.sql is loaded; add tests/fixtures/board.sql."""
    write_sql(db, (FIXTURES / "board.sql").read_text(encoding="utf-8"))


@pytest.fixture
def db(tiny: Database) -> Database:
    load_board(tiny)
    return tiny


def user(db: Database, name: str) -> User:
    found = accounts.find_user(db, name)
    assert found is not None
    return found


def march(**kwargs: Any) -> Scope:
    return Scope(*MARCH, **kwargs)


def column(db: Database, who: str | None, name: str, now: dt.datetime = NOW, **filters: Any) -> dict:
    """post_id -> one column of board.posts for ``who`` (None: no account) in March."""
    viewer = None if who is None else user(db, who)
    frame = board.posts(db, viewer, march(), now=now, **filters)
    return dict(zip(frame["post_id"], frame[name], strict=True))


def problems(call: Callable[[], Any]) -> list[tuple[str, str]]:
    with pytest.raises(BoardInvalid) as caught:
        call()
    return [(p.field, p.key) for p in caught.value.problems]


def field_report(db: Database, who: str = "rep", key: str = "k1", **fields: Any) -> board.Posted:
    values = {"direction": "field", "category": "stocking", "title": "理货", "body": "货架缺货", "now": NOW}
    return board.post(db, user(db, who), key=key, **{**values, **fields})


def jpeg(size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def count(db: Database, table: str) -> int:
    return int(db.scalar(f"SELECT count(*) FROM {table}"))


# -- timings and status -------------------------------------------------------------------------
def missing(value: Any) -> bool:
    return value is None or pd.isna(value)


def test_response_hours_are_the_other_sides_first_answer(db: Database) -> None:
    hours = column(db, None, "response_hours")
    assert {k: (None if missing(v) else v) for k, v in hours.items()} == {
        1: 2.5,  # 09:00 -> 王芳's reply 11:30
        2: 30.0,  # 03-05 08:00 -> 王芳's acknowledgement 03-06 14:00
        3: 6.0,  # 10:00 -> 张敏 16:00 (刘洋's own reply at 12:00 is the author's side)
        4: None,
        5: None,
        6: 2.0,  # 10:00 -> 张敏 closes as a duplicate 12:00
        7: 6.0,  # 09:00 -> 赵磊 acknowledges north 15:00
        8: 10.0,  # 10:00 -> 陈静 20:00
        9: None,
    }
    # posts 10 (February) and 11 (April) are outside March
    assert column(db, None, "first_responder")[3] == "张敏"


def test_status_and_overdue_at_now(db: Database) -> None:
    assert column(db, None, "status") == {
        1: "closed", 2: "answered", 3: "answered", 4: "overdue", 5: "open",
        6: "closed", 7: "answered", 8: "answered", 9: "overdue",
    }  # fmt: skip
    assert [k for k, v in column(db, None, "overdue").items() if v] == [9, 4]  # newest first


@pytest.mark.parametrize(
    ("post_id", "now", "status"),
    [
        (1, dt.datetime(2026, 3, 2, 10, 0), "open"),  # due 13:00, no answer yet
        (1, dt.datetime(2026, 3, 2, 12, 0), "answered"),  # answered 11:30
        (1, dt.datetime(2026, 3, 3, 11, 0), "closed"),  # closed 03-03 10:00
        (5, dt.datetime(2026, 3, 31, 13, 0), "open"),  # exactly due: not yet overdue
        (5, dt.datetime(2026, 3, 31, 14, 0), "overdue"),
        (7, dt.datetime(2026, 3, 4, 12, 0), "open"),
        (7, dt.datetime(2026, 3, 4, 16, 0), "open"),  # north acknowledged, east not, due 03-05 09:00
        (7, dt.datetime(2026, 3, 5, 12, 0), "overdue"),  # answered, but east still owes its acknowledgement
        (7, dt.datetime(2026, 3, 6, 10, 0), "answered"),  # east acknowledged 09:00
    ],
)
def test_status_at_several_nows(db: Database, post_id: int, now: dt.datetime, status: str) -> None:
    assert column(db, None, "status", now=now)[post_id] == status


def test_acks_missing_by_time(db: Database) -> None:
    assert column(db, None, "acks_missing", now=dt.datetime(2026, 3, 4, 16, 0))[7] == 1
    assert column(db, None, "acks_missing", now=NOW) == {k: (1 if k == 9 else 0) for k in range(9, 0, -1)}


# -- posting ------------------------------------------------------------------------------------
def test_a_rep_posts_a_competitors_price_cut_with_a_photo(db: Database) -> None:
    posted = field_report(
        db,
        category="competitor",
        priority="urgent",
        title="  今麦郎华北降价  ",
        body="今麦郎冰红茶降价 8%",
        competitor="  今麦郎 ",
        customer_id=1,
        photos=[Photo("shelf.jpg", jpeg((2000, 1500)))],
    )
    # the migration's urgent target is 4 h; the sequence continues after the fixture's 11 posts
    assert posted == board.Posted(12, False, dt.datetime(2026, 3, 31, 16, 0))
    row = db.rows(
        "SELECT direction, category, priority, title, competitor, customer_id, author_user_id,"
        " author_person_id, author_name, target_hours, created_at FROM posts WHERE post_id = 12"
    )[0]
    assert row == ("field", "competitor", "urgent", "今麦郎华北降价", "今麦郎", 1, 101, 2, "李强", 4.0, NOW)
    assert db.rows("SELECT region_id FROM post_regions WHERE post_id = 12") == [(1,)]  # 李强's region
    # stored re-encoded: 2000 x 1500 -> 1600 x 1200
    assert db.rows("SELECT mime, width, height, original_name FROM post_photos WHERE post_id = 12") == [
        ("image/jpeg", 1600, 1200, "shelf.jpg")
    ]
    marketing = user(db, "mkt.north")
    shown = board.posts(db, marketing, march(), now=NOW).set_index("post_id").loc[12]
    assert (shown["unread"], shown["owed_by_me"], shown["photos"], shown["status"]) == (True, True, 1, "open")
    detail = board.post_detail(db, marketing, 12, now=NOW)
    mime, data = board.photo(db, marketing, detail["photo_ids"][0])
    assert mime == "image/jpeg" and Image.open(io.BytesIO(data)).size == (1600, 1200)
    actor, entity = db.rows(
        "SELECT actor, entity FROM audit_log WHERE entity = 'posts' AND entity_id = '12'"
    )[0]
    assert (actor, entity) == ("rep", "posts")


def test_a_resubmitted_post_is_saved_once(db: Database) -> None:
    first = field_report(db, key="same")
    again = field_report(db, key="same", title="changed meanwhile")
    assert (first.post_id, first.duplicate) == (12, False)
    assert (again.post_id, again.duplicate, again.due_at) == (12, True, first.due_at)
    assert count(db, "posts") == 12
    # the same key from another account is a stale form, not this post
    assert problems(lambda: field_report(db, who="east.rep", key="same")) == [
        ("key", "board.error.key_reused")
    ]


def test_a_plan_addresses_several_regions_and_defaults_to_the_authors(db: Database) -> None:
    hq = user(db, "mkt.hq")
    plan = board.post(db, hq, key="p", direction="plan", category="brand_plan", title="品牌月", body="...",
                      regions=[2, 1, 2], now=NOW)  # fmt: skip
    assert db.rows("SELECT region_id FROM post_regions WHERE post_id = ? ORDER BY 1", [plan.post_id]) == [
        (1,),
        (2,),
    ]
    mine = board.post(db, user(db, "mkt.east"), key="q", direction="plan", category="targets", title="目标",
                      body="...", now=NOW)  # fmt: skip
    assert db.rows("SELECT region_id FROM post_regions WHERE post_id = ?", [mine.post_id]) == [(2,)]


def test_every_problem_of_a_post_comes_back_at_once(db: Database) -> None:
    accounts.create_user(db, TESTER, "two", "两区代表", "sales_rep", regions=["north", "east"])
    found = problems(
        lambda: field_report(
            db,
            who="two",
            category="competitor",
            title="x" * 121,
            body="",
            regions=[1, 2],
            customer_id=3,  # a south customer
            product_id=99,
            promotion_id=99,
            needs_ack=True,
        )
    )
    assert found == [
        ("title", "board.error.too_long"),
        ("body", "board.error.required"),
        ("regions", "board.error.one_region"),
        ("customer_id", "board.error.customer_region"),
        ("product_id", "board.error.unknown_product"),
        ("promotion_id", "board.error.unknown_promotion"),
        ("competitor", "board.error.competitor_required"),
        ("needs_ack", "board.error.ack_only_plans"),
    ]
    assert count(db, "posts") == 11


def test_form_problems_name_their_fields_in_both_languages(db: Database) -> None:
    with pytest.raises(BoardInvalid) as caught:
        field_report(db, category="no_such", priority="soon", title="", customer_id=2, regions=[1])
    by_field = caught.value.fields()
    assert sorted(by_field) == ["category", "customer_id", "priority", "title"]
    assert by_field["customer_id"][0].message("en") == "This customer is not in the region(s) chosen."
    assert by_field["customer_id"][0].message("zh") == "该客户不在所选区域内。"
    assert by_field["title"][0].message("zh") == "请填写此项。"
    assert problems(lambda: field_report(db, customer_id="abc", product_id=1.5, promotion_id=True)) == [
        ("customer_id", "board.error.unknown_customer"),
        ("product_id", "board.error.unknown_product"),
        ("promotion_id", "board.error.unknown_promotion"),
    ]
    assert problems(lambda: board.reply(db, user(db, "rep"), 999, "?", key="r", now=NOW)) == [
        ("post", "board.error.unknown_post")
    ]
    with pytest.raises(BoardInvalid) as long:
        field_report(db, body="长" * 4001)
    assert long.value.problems[0].message("en") == "This is too long: at most 4000 characters."


# -- bad photos ---------------------------------------------------------------------------------
def test_a_text_file_renamed_jpg_is_refused_and_nothing_is_saved(db: Database) -> None:
    fake = Photo("price.jpg", "康师傅 3.5元 not a picture".encode())
    with pytest.raises(BoardInvalid) as caught:
        field_report(db, photos=[Photo("ok.jpg", jpeg()), fake])
    [problem] = caught.value.problems
    assert (problem.field, problem.key) == ("photos", "board.error.photo_type")
    assert problem.values["name"] == "price.jpg"
    assert problem.message("en") == "price.jpg is not a photo: choose a JPEG, PNG or WebP picture."
    assert problem.message("zh") == "price.jpg 不是照片：请选择 JPEG、PNG 或 WebP 格式的图片。"
    assert (count(db, "posts"), count(db, "post_photos"), count(db, "post_regions")) == (11, 0, 12)
    # the text was not lost: the same form (same key) with a good photo saves
    assert field_report(db, photos=[Photo("ok.jpg", jpeg())]).duplicate is False
    assert count(db, "post_photos") == 1


def test_a_6_mb_png_is_refused_as_too_large(db: Database) -> None:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "PNG")
    big = out.getvalue() + b"\0" * (6 * 1024 * 1024 - len(out.getvalue()))  # 6,291,456 bytes
    with pytest.raises(BoardInvalid) as caught:
        field_report(db, photos=[Photo("shelf.png", big)])
    [problem] = caught.value.problems
    assert (problem.key, problem.values) == (
        "board.error.photo_size",
        {"name": "shelf.png", "mb": 6.0, "max_mb": 5.0},
    )
    assert problem.message("en") == "shelf.png is 6.0 MB; a photo may be at most 5.0 MB."
    assert count(db, "posts") == 11


def test_four_photos_are_refused(db: Database) -> None:
    four = [Photo(f"p{i}.jpg", jpeg((20, 20))) for i in range(1, 5)]
    with pytest.raises(BoardInvalid) as caught:
        field_report(db, photos=four)
    [problem] = caught.value.problems
    assert (problem.field, problem.key, problem.values["name"], problem.values["n"]) == (
        "photos", "board.error.photo_count", "p4.jpg", 3
    )  # fmt: skip
    assert problem.message("en") == "At most 3 photos can be attached (p4.jpg is one too many)."
    assert problem.message("zh") == "最多只能附 3 张照片（p4.jpg 超出）。"
    assert (count(db, "posts"), count(db, "post_photos")) == (11, 0)
    assert field_report(db, photos=four[:3]).post_id == 12 and count(db, "post_photos") == 3


# -- permissions ----------------------------------------------------------------------------------
def test_who_may_post_what(db: Database) -> None:
    assert board.can_post(user(db, "rep"), "field") and not board.can_post(user(db, "rep"), "plan")
    assert board.can_post(user(db, "mkt.east"), "plan") and not board.can_post(user(db, "mkt.east"), "field")
    assert not board.can_post(user(db, "boss"), "field") and not board.can_post(user(db, "admin"), "plan")
    with pytest.raises(AccessDenied):  # a rep may not post a plan
        board.post(
            db, user(db, "rep"), key="a", direction="plan", category="targets", title="t", body="b", now=NOW
        )
    with pytest.raises(AccessDenied):  # nor a field report outside their region
        field_report(db, regions=[2])
    with pytest.raises(AccessDenied):  # an executive reads everything but posts nothing
        field_report(db, who="boss", regions=[1])
    with pytest.raises(AccessDenied):
        board.post(db, user(db, "mkt.east"), key="b", direction="plan", category="targets", title="t",
                   body="b", regions=[1], now=NOW)  # fmt: skip
    assert count(db, "posts") == 11


def test_a_post_outside_the_users_regions_cannot_be_read(db: Database) -> None:
    east = user(db, "east.rep")
    with pytest.raises(AccessDenied):
        board.post_detail(db, east, 1, now=NOW)
    with pytest.raises(AccessDenied):
        board.mark_read(db, east, 1, now=NOW)
    with pytest.raises(AccessDenied):
        board.reply(db, east, 1, "?", key="r", now=NOW)
    with pytest.raises(board.PostNotFound):
        board.post_detail(db, east, 999, now=NOW)
    # the board itself shows the east rep east posts only (7 addresses north and east)
    assert sorted(column(db, "east.rep", "post_id")) == [3, 4, 6, 7, 9]
    # a scope wider than the user's regions is narrowed to them
    assert sorted(board.posts(db, east, march(), now=NOW)["post_id"]) == [3, 4, 6, 7, 9]
    assert sorted(column(db, "boss", "post_id")) == list(range(1, 10))


def test_a_photo_outside_the_users_regions_is_refused(db: Database) -> None:
    field_report(db, photos=[Photo("a.jpg", jpeg((30, 20)))])
    photo_id = db.scalar("SELECT photo_id FROM post_photos")
    assert board.photo(db, user(db, "mkt.north"), photo_id)[0] == "image/jpeg"
    with pytest.raises(AccessDenied):
        board.photo(db, user(db, "mkt.east"), photo_id)


# -- answering ----------------------------------------------------------------------------------
def test_a_reply_by_the_other_side_is_the_first_response_and_the_authors_is_not(db: Database) -> None:
    later = NOW + dt.timedelta(hours=2)
    board.reply(db, user(db, "east.rep"), 4, "还在继续", key="own", now=NOW)  # the author's side
    assert missing(column(db, None, "first_response_at", now=later)[4])
    reply_id = board.reply(db, user(db, "mkt.east"), 4, "收到，跟进", key="answer", now=later)
    assert board.reply(db, user(db, "mkt.east"), 4, "收到，跟进", key="answer", now=later) == reply_id
    # created 03-20 09:00, answered 03-31 14:00: 11 days 5 hours = 269 h, after due 03-21 09:00
    assert column(db, None, "response_hours", now=later)[4] == 269.0
    assert column(db, None, "status", now=later)[4] == "answered"
    assert column(db, None, "replies", now=later)[4] == 2
    thread = board.post_detail(db, user(db, "mkt.east"), 4, now=later)["thread"]
    assert [(i["kind"], i["name"], i["side"], i["at"], i["body"]) for i in thread] == [
        ("reply", "刘洋", "sales", NOW, "还在继续"),
        ("reply", "张敏", "marketing", later, "收到，跟进"),
    ]


def test_a_blank_reply_is_refused(db: Database) -> None:
    assert problems(lambda: board.reply(db, user(db, "mkt.east"), 4, "   ", key="r", now=NOW)) == [
        ("body", "board.error.required")
    ]
    with pytest.raises(AccessDenied):  # an executive answers nothing
        board.reply(db, user(db, "boss"), 4, "ok", key="r", now=NOW)


def test_a_plan_to_two_regions_needs_an_acknowledgement_from_each(db: Database) -> None:
    hq = user(db, "mkt.hq")
    plan = board.post(db, hq, key="p", direction="plan", category="gift_material", title="五一赠品",
                      body="赠品4月25日到仓", regions=[1, 2], needs_ack=True, now=NOW)  # fmt: skip
    pid = plan.post_id
    assert board.counts(db, None, march(), now=NOW)["unacknowledged_plans"] == 2  # plan 9 and this one

    north_at = NOW + dt.timedelta(hours=1)
    assert board.acknowledge(db, user(db, "head.north"), pid, now=north_at) == [1]
    assert board.acknowledge(db, user(db, "head.north"), pid, now=north_at) == []  # a second tap
    at = NOW + dt.timedelta(hours=2)
    row = board.posts(db, None, march(), now=at).set_index("post_id").loc[pid]
    # answered by north's acknowledgement (1 h), but east's is missing: still open, still owed
    assert (row["acks_missing"], row["status"], row["response_hours"]) == (1, "open", 1.0)
    assert board.counts(db, None, march(), now=at)["unacknowledged_plans"] == 2
    assert column(db, "head.east", "owed_by_me", now=at)[pid]
    assert not column(db, "head.north", "owed_by_me", now=at)[pid]

    assert board.acknowledge(db, user(db, "head.east"), pid, now=at) == [2]
    row = board.posts(db, None, march(), now=at).set_index("post_id").loc[pid]
    assert (row["acks_missing"], row["status"], row["response_hours"]) == (0, "answered", 1.0)
    assert board.counts(db, None, march(), now=at)["unacknowledged_plans"] == 1
    acks = board.post_detail(db, hq, pid, now=at)["acks"]
    assert [(a["region_id"], a["region_zh"], a["acked_by"], a["acked_at"]) for a in acks] == [
        (1, "华北", "赵磊", north_at),
        (2, "华东", "孙丽", at),
    ]
    assert (
        db.rows("SELECT entity, action FROM audit_log WHERE entity = 'post_acks'")
        == [("post_acks", "create")] * 2
    )


def test_a_head_of_two_regions_acknowledges_both_at_once(db: Database) -> None:
    accounts.create_user(db, TESTER, "duo", "双区", "sales_head", regions=["north", "east"])
    plan = board.post(db, user(db, "mkt.hq"), key="p", direction="plan", category="targets", title="目标",
                      body="...", regions=[1, 2, 3], needs_ack=True, now=NOW)  # fmt: skip
    assert board.acknowledge(db, user(db, "duo"), plan.post_id, now=NOW) == [1, 2]
    assert column(db, None, "acks_missing")[plan.post_id] == 1  # south
    with pytest.raises(AccessDenied):  # a rep does not acknowledge plans
        board.acknowledge(db, user(db, "south.rep"), plan.post_id, now=NOW)
    with pytest.raises(AccessDenied):  # nor does marketing
        board.acknowledge(db, user(db, "mkt.north"), plan.post_id, now=NOW)


def test_who_owes_an_answer(db: Database) -> None:
    def owed(who: str, now: dt.datetime = NOW) -> list[int]:
        return sorted(board.posts(db, user(db, who), march(), owed_by_me=True, now=now)["post_id"])

    assert owed("mkt.east") == [4]  # east field report without an answer
    assert owed("mkt.north") == []
    assert owed("mkt.hq") == [4, 5]  # marketing of every region owes every region's field reports
    assert owed("head.east") == owed("east.rep") == [9]  # the east plan
    assert owed("rep") == []
    board.reply(db, user(db, "east.rep"), 9, "收到", key="r", now=NOW)
    # the rep's reply is the first response; the head still owes the acknowledgement
    assert (owed("east.rep"), owed("head.east")) == ([], [9])
    board.acknowledge(db, user(db, "head.east"), 9, now=NOW)
    assert owed("head.east") == []


def test_closing_needs_a_reason_for_no_action_and_belongs_to_the_other_side(db: Database) -> None:
    mkt = user(db, "mkt.east")
    assert problems(lambda: board.close(db, mkt, 4, "no_action", "  ", now=NOW)) == [
        ("note", "board.error.note_required")
    ]
    assert problems(lambda: board.close(db, mkt, 4, "ignored", now=NOW)) == [
        ("outcome", "board.error.unknown_outcome")
    ]
    with pytest.raises(AccessDenied):  # the author's side does not close its own report
        board.close(db, user(db, "east.rep"), 4, "acted", now=NOW)
    board.close(db, mkt, 4, "no_action", "统一的活动只到月底，不跟进", now=NOW)
    board.close(db, mkt, 4, "no_action", "统一的活动只到月底，不跟进", now=NOW)  # a second tap
    assert problems(lambda: board.close(db, mkt, 4, "acted", now=NOW)) == [
        ("post", "board.error.already_closed")
    ]
    row = board.post_detail(db, mkt, 4, now=NOW)
    assert (row["status"], row["outcome"], row["close_note"], row["closed_by"]) == (
        "closed", "no_action", "统一的活动只到月底，不跟进", "张敏"
    )  # fmt: skip
    assert row["response_hours"] == 267.0  # the close answered it: 03-20 09:00 -> 03-31 12:00
    assert (row["can_reply"], row["can_close"], row["can_reopen"]) == (False, False, True)
    assert problems(lambda: board.reply(db, mkt, 4, "again", key="x", now=NOW)) == [
        ("body", "board.error.closed")
    ]
    assert db.scalar("SELECT count(*) FROM post_replies WHERE post_id = 4 AND kind = 'close'") == 1

    board.reopen(db, mkt, 4, now=NOW + dt.timedelta(hours=1))
    row = board.post_detail(db, mkt, 4, now=NOW + dt.timedelta(hours=1))
    assert (row["status"], row["outcome"], row["closed_at"]) == ("answered", None, None)
    assert [i["kind"] for i in row["thread"]] == ["close", "reopen"]


def test_an_admin_may_close_and_the_close_is_no_response(db: Database) -> None:
    board.close(db, user(db, "admin"), 5, "duplicate", now=NOW)
    row = board.posts(db, None, march(), now=NOW).set_index("post_id").loc[5]
    assert row["status"] == "closed" and missing(row["first_response_at"])
    with pytest.raises(AccessDenied):  # the south rep is on the author's side
        board.reopen(db, user(db, "south.rep"), 5, now=NOW)


def test_post_detail_holds_the_thread_links_and_what_the_user_may_do(db: Database) -> None:
    detail = board.post_detail(db, user(db, "mkt.east"), 3, now=NOW)
    links = ("body", "customer_name", "product_name_zh", "product_name_en")
    assert [detail[name] for name in links] == [
        "客户反馈新批次薯片偏咸，退货增加。",
        "联华超市(上海)",
        "薯片",
        "Potato chips",
    ]
    assert [(i["kind"], i["name"], i["side"]) for i in detail["thread"]] == [
        ("reply", "刘洋", "sales"),
        ("reply", "张敏", "marketing"),
    ]
    flags = ("can_reply", "can_ack", "can_close", "can_reopen")
    # 张敏 has answered post 3: a field report needs no acknowledgement once it is answered
    assert [detail[f] for f in flags] == [True, False, True, False]
    assert [board.post_detail(db, user(db, "east.rep"), 3, now=NOW)[f] for f in flags] == [
        True,
        False,
        False,
        False,
    ]
    plan = board.post_detail(db, user(db, "head.east"), 9, now=NOW)
    assert [plan[f] for f in flags] == [True, True, True, False]
    promo = board.post_detail(db, user(db, "boss"), 7, now=NOW)
    assert (promo["promotion_title_zh"], promo["promotion_title_en"]) == (
        "华北饮料买赠",
        "North beverages gift",
    )
    assert [(i["kind"], i["name"], i["side"], i["region_ids"]) for i in promo["thread"]] == [
        ("ack", "赵磊", "sales", [1]),
        ("ack", "孙丽", "sales", [2]),
    ]
    assert [promo[f] for f in flags] == [False, False, False, False]  # an executive reads only
    assert promo["region_ids"] == [1, 2] and promo["region_names_en"] == "North China, East China"


# -- unread markers -----------------------------------------------------------------------------
def unread(db: Database, who: str) -> list[int]:
    return sorted(k for k, v in column(db, who, "unread").items() if v)


def test_unread_markers(db: Database) -> None:
    # 李强: post 1 was closed after he read it; post 2 read after its last activity; plan 7 never opened
    assert unread(db, "rep") == [1, 7]
    # 王芳: posts 1 and 2 last touched by her; plan 7 acknowledged by east after she read it
    assert unread(db, "mkt.north") == [7]
    version = db.version()
    board.mark_read(db, user(db, "rep"), 1, now=NOW)
    assert unread(db, "rep") == [7]
    assert db.version() == version  # reading changes no reported number
    board.mark_read(db, user(db, "rep"), 1, now=NOW + dt.timedelta(hours=1))  # nothing new: nothing written
    assert db.scalar("SELECT count(*) FROM audit_log WHERE entity = 'post_reads'") == 1
    # a reply by marketing makes post 2 unread again; the rep's own reply does not
    board.reply(db, user(db, "mkt.north"), 2, "补充陈列费用已批", key="m", now=NOW)
    assert unread(db, "rep") == [2, 7]
    board.mark_read(db, user(db, "rep"), 2, now=NOW)
    board.reply(db, user(db, "rep"), 2, "谢谢", key="r", now=NOW + dt.timedelta(minutes=5))
    assert unread(db, "rep") == [7]
    assert board.posts(db, user(db, "rep"), march(), unread_only=True, now=NOW)["post_id"].tolist() == [7]


def test_counts_for_the_east_sales_head(db: Database) -> None:
    # east posts in March: 3 answered, 4 overdue, 6 closed, 7 answered, 9 overdue
    assert board.counts(db, user(db, "head.east"), march(), now=NOW) == {
        "open": 0,
        "overdue": 2,
        "answered": 2,
        "closed": 1,
        "unread": 4,  # 3, 4, 6, 9: plan 7's last activity is her own acknowledgement
        "owed_by_me": 1,  # plan 9
        "overdue_answers": 2,
        "unacknowledged_plans": 1,  # plan 9
    }


# -- filters --------------------------------------------------------------------------------------
def test_filters_narrow_the_board(db: Database) -> None:
    def ids(**filters: Any) -> list[int]:
        return sorted(column(db, "boss", "post_id", **filters))

    assert ids(direction="plan") == [7, 8, 9]
    assert ids(category="competitor") == [1, 4, 5, 6]
    assert ids(status="overdue") == [4, 9]
    assert ids(author="李") == [1, 2]
    assert ids(text="uni-PRESIDENT") == [4, 6]  # in body and competitor, any case
    assert ids(text="10%") == [1]  # % is literal, not "anything"
    assert ids(text="_") == []
    assert ids(text="  ") == list(range(1, 10))
    assert len(board.posts(db, None, march(), limit=3, now=NOW)) == 3
    assert board.posts(db, None, march(), now=NOW)["post_id"].tolist()[:3] == [5, 9, 6]  # newest first


def test_the_scope_picks_regions_and_product_categories(db: Database) -> None:
    south = board.posts(db, None, march(regions=(3,)), now=NOW)
    assert sorted(south["post_id"]) == [5, 8]
    # snacks: post 3 names a snacks product; plan 7 names a beverage and is dropped; the rest name none
    snacks = board.posts(db, None, march(categories=(2,)), now=NOW)
    assert sorted(snacks["post_id"]) == [1, 2, 3, 4, 5, 6, 8, 9]


# -- targets ----------------------------------------------------------------------------------------
def test_targets_are_set_by_heads_and_apply_to_new_posts_only(db: Database) -> None:
    targets = board.targets(db)
    assert len(targets) == 30  # 15 categories x 2 priorities
    assert targets.iloc[0].tolist() == ["field", "shelf_display", "normal", 24.0]
    assert targets.iloc[1].tolist() == ["field", "shelf_display", "urgent", 4.0]
    with pytest.raises(AccessDenied):
        board.set_target(db, user(db, "rep"), "field", "competitor", "urgent", 2)
    for hours in (0, -1, 721, float("nan"), "soon"):
        assert problems(
            lambda h=hours: board.set_target(db, user(db, "mkt.north"), "field", "competitor", "urgent", h)
        ) == [("hours", "board.error.hours_range")]
    assert problems(lambda: board.set_target(db, user(db, "admin"), "plan", "competitor", "urgent", 2)) == [
        ("category", "board.error.unknown_category")
    ]
    board.set_target(db, user(db, "head.north"), "field", "competitor", "urgent", 2)
    board.set_target(db, user(db, "mkt.north"), "field", "competitor", "normal", 720)
    posted = field_report(db, category="competitor", priority="urgent", competitor="康师傅")
    assert posted.due_at == NOW + dt.timedelta(hours=2)
    assert column(db, None, "due_at")[1] == dt.datetime(2026, 3, 2, 13, 0)  # post 1 keeps its 4 h
    assert db.rows("SELECT entity_id, before, after FROM audit_log WHERE entity = 'response_targets'")[0] == (
        "field/competitor/urgent", '{"hours": 4.0}', '{"hours": 2.0}'
    )  # fmt: skip


# -- failures and many writers ----------------------------------------------------------------------
def test_a_database_failure_is_board_failed_and_saves_nothing(db: Database, monkeypatch) -> None:
    def broken(work, *, by, data=True):
        raise duckdb.IOException("disk full")

    monkeypatch.setattr(db, "write", broken)
    with pytest.raises(BoardFailed) as caught:
        field_report(db)
    assert caught.value.message("en") == t("board.error.failed", "en")
    monkeypatch.undo()
    assert count(db, "posts") == 11


def test_eight_threads_replying_at_once_store_every_reply_once(db: Database) -> None:
    mkt = user(db, "mkt.east")
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def answer(i: int) -> None:
        try:
            start.wait()
            at = NOW + dt.timedelta(minutes=10 * (8 - i))  # thread 7 answers earliest: 12:10
            for _ in range(2):  # each form submitted twice
                board.reply(db, mkt, 4, f"回复 {i}", key=f"key-{i}", now=at)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=answer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert db.scalar("SELECT count(*) FROM post_replies WHERE post_id = 4") == 8
    assert db.scalar("SELECT count(DISTINCT body) FROM post_replies WHERE post_id = 4") == 8
    first, who = db.rows("SELECT first_response_at, first_responder FROM posts WHERE post_id = 4")[0]
    assert (first, who) == (dt.datetime(2026, 3, 31, 12, 10), "张敏")


def test_what_is_still_owed_from_before_the_period_stays_on_the_board(db: Database) -> None:
    # a field report of 20 February, never answered: still owed in March, so March's board lists it
    old = field_report(db, key="feb", now=dt.datetime(2026, 2, 20, 9)).post_id
    statuses = column(db, None, "status")
    assert statuses[old] == "overdue"
    assert 10 not in statuses  # post 10 of February was answered: it belongs to February only
    before = board.counts(db, None, march(), now=NOW)
    assert before["overdue"] == 3  # 4 and 9 of March, and the February report
    # a view of January does not show it: it was posted after January ended
    january = board.posts(db, None, Scope(dt.date(2026, 1, 1), dt.date(2026, 2, 1)), now=NOW)
    assert old not in set(january["post_id"])
    # the metrics stay strictly on the period's posts: March's field median is unchanged by it
    summary = board.response_summary(db, march(), now=NOW).set_index("direction")
    assert int(summary.loc["field", "posts"]) == 6
