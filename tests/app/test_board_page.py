"""The shared-information board in the running app, in both languages: posting (errors under their
fields, what was typed kept), the other side seeing it unread and owed, answering, acknowledging a
plan and closing with an outcome. Tiny fixture, no posts yet; "now" is the end of 31 March 2026
(MKTSALES_TODAY), so a normal post is due 24 h later, at 2 April 00:00.

Personas (tests/app/conftest.py): rep (sales_rep, north), duo (sales_head, north + east),
mkthead (marketing_head, east), mkt (marketing_staff, south), boss (executive).
"""

import datetime as dt
from pathlib import Path

from streamlit.testing.v1 import AppTest

from mktsales import board
from mktsales.accounts import find_user
from mktsales.ui.text import md
from tests.app.conftest import app_db, open_app, page_path


def board_page(username: str, lang: str = "zh") -> AppTest:
    at = open_app(username)
    if lang == "en":
        at.segmented_control(key="lang").set_value("en").run()
    at.switch_page(page_path("app_pages/board.py")).run()
    assert not at.exception
    return at


def view(at: AppTest, name: str, lang: str = "zh") -> AppTest:
    at.segmented_control(key=f"board.view.{lang}").set_value(name).run()
    assert not at.exception
    return at


def field(at: AppTest, widget: str, name: str, lang: str = "zh"):
    return getattr(at, widget)(key=f"board.post.{name}.{lang}")


def post(at: AppTest, category: str, title: str, body: str, lang: str = "zh", **extra: str) -> AppTest:
    field(at, "selectbox", "category", lang).set_value(category).run()
    field(at, "text_input", "title", lang).input(title)
    field(at, "text_area", "body", lang).input(body)
    for name, value in extra.items():
        field(at, "text_input", name, lang).input(value)
    at.button(key="board.post.submit").click().run()
    assert not at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_a_rep_posts_a_competitor_report_and_finds_it_on_the_board(app_env: Path) -> None:
    at = view(board_page("rep"), "post")
    assert at.title[0].value == "信息共享"
    assert field(at, "selectbox", "region").value == 1  # the rep's own region, 华北
    post(at, "competitor", "康师傅绿茶降价15%", "华润万家(北京)本周起降价。", competitor="康师傅")
    assert at.success and at.success[0].value == "已发布。对方应于 04-02 00:00 前答复。"  # 24 h
    rows = app_db().rows("SELECT direction, category, priority, competitor, created_at, due_at FROM posts")
    assert [r[:4] for r in rows] == [("field", "competitor", "normal", "康师傅")]
    assert str(rows[0][4]) == "2026-04-01 00:00:00" and str(rows[0][5]) == "2026-04-02 00:00:00"
    assert app_db().rows("SELECT region_id FROM post_regions") == [(1,)]

    at.button(key="board.posted.open").click().run()
    assert any(h.value == md("康师傅绿茶降价15%") for h in at.subheader)  # the post, opened
    at.button(key="board.back").click().run()
    cards = [m.value for m in at.markdown if md("康师傅绿茶降价15%") in m.value]
    assert cards  # on the field lane
    assert any("应于 04-02 00:00 前答复" in c.value for c in at.caption)


def test_a_refused_post_says_why_under_the_field_and_keeps_the_text_in_english(app_env: Path) -> None:
    at = view(board_page("rep", "en"), "post", "en")
    post(at, "competitor", "", "Price cut at the Beijing supermarket.", lang="en")
    errors = [e.value for e in at.error]
    assert "Please fill this in." in errors  # the title
    assert "Competitor intelligence needs the competitor's name." in errors
    assert field(at, "text_area", "body", "en").value == "Price cut at the Beijing supermarket."
    assert app_db().scalar("SELECT count(*) FROM posts") == 0
    field(at, "text_input", "title", "en").input("Price cut")
    field(at, "text_input", "competitor", "en").input("Tingyi")
    at.button(key="board.post.submit").click().run()
    assert at.success and at.success[0].value.startswith("Posted. The answer is due by 04-02 00:00")
    assert app_db().scalar("SELECT count(*) FROM posts") == 1


def test_marketing_sees_a_field_report_unread_and_owed_answers_and_closes_it(app_env: Path) -> None:
    sales = view(board_page("duo"), "post")
    field(sales, "selectbox", "region").set_value(2).run()  # east, where mkthead works
    post(sales, "shelf_display", "堆头被撤", "华东门店堆头被撤。")
    post_id = app_db().scalar("SELECT post_id FROM posts")

    at = board_page("mkthead")
    assert metric(at, "未读") == "1" and metric(at, "待我答复") == "1"
    at.button(key=f"board.card.field.{post_id}").click().run()
    assert any(h.value == "堆头被撤" for h in at.subheader)
    reply = next(a for a in at.text_area if a.label == "回复")
    reply.input("已联系门店，周五前恢复。")
    next(b for b in at.button if b.label == "发送回复").click().run()
    assert at.success and at.success[0].value == "回复已发送。"
    first = app_db().rows("SELECT first_response_at FROM posts")[0][0]
    assert str(first) == "2026-04-01 00:00:00"  # answered at once: 0 h
    assert any("已联系门店" in m.value for m in at.text)  # the thread, as typed

    outcome = next(r for r in at.radio if r.label == "处理结果")
    outcome.set_value("no_action")
    next(b for b in at.button if b.label == "结案").click().run()
    assert "选择“不采取行动”时请说明原因。" in [e.value for e in at.error]
    assert app_db().scalar("SELECT closed_at FROM posts") is None
    next(r for r in at.radio if r.label == "处理结果").set_value("acted")
    next(a for a in at.text_area if a.label == "说明").input("堆头已恢复")
    next(b for b in at.button if b.label == "结案").click().run()
    assert at.success and at.success[0].value == "已结案。"
    assert app_db().rows("SELECT outcome FROM posts") == [("acted",)]
    at.button(key="board.back").click().run()
    assert metric(at, "未读") == "0" and metric(at, "待我答复") == "0"


def test_a_plan_waits_for_each_region_to_acknowledge_it(app_env: Path) -> None:
    plan = view(board_page("mkthead"), "post")
    assert field(plan, "checkbox", "needs_ack").value is True
    field(plan, "multiselect", "regions").set_value([2]).run()
    post(plan, "promotion_plan", "五一饮料促销计划", "4月25日起华东超市买二送一。")
    post_id = app_db().scalar("SELECT post_id FROM posts")

    boss = board_page("boss")
    assert metric(boss, "计划未确认") == "1"

    head = board_page("duo")
    assert metric(head, "待我答复") == "1"
    head.button(key=f"board.card.plan.{post_id}").click().run()
    head.button(key=f"board.ack.{post_id}").click().run()
    assert head.success and head.success[0].value == "已确认。"
    assert app_db().rows("SELECT region_id FROM post_acks") == [(2,)]
    head.button(key="board.back").click().run()
    assert metric(head, "待我答复") == "0" and metric(head, "计划未确认") == "0"


def test_the_metrics_and_competitor_views_draw_in_english(app_env: Path) -> None:
    rep = find_user(app_db(), "rep")
    at_nine = dt.datetime(2026, 3, 31, 9)
    board.post(
        app_db(),
        rep,
        key="k1",
        direction="field",
        category="competitor",
        title="Price cut",
        body="At the Beijing store.",
        competitor="Tingyi",
        now=at_nine,
    )
    at = view(board_page("boss", "en"), "metrics", "en")
    assert metric(at, "Overdue now") == "0"
    assert any("1 post, 0 answered" in c.value for c in at.caption)
    view(at, "competitors", "en")
    table = at.dataframe[0].value
    assert list(table["Competitor"]) == ["Tingyi"] and list(table["Posts"]) == [1]


def test_an_executive_reads_but_cannot_post(app_env: Path) -> None:
    at = board_page("boss")
    options = at.segmented_control(key="board.view.zh").options
    assert "发布" not in options and "看板" in options


def test_marketing_answers_and_closes_in_english(app_env: Path) -> None:
    sales = view(board_page("duo"), "post")
    field(sales, "selectbox", "region").set_value(2).run()
    post(sales, "customer_feedback", "Late deliveries", "Three stores complain about late deliveries.")
    post_id = app_db().scalar("SELECT post_id FROM posts")
    at = board_page("mkthead", "en")
    assert metric(at, "Owed by me") == "1"
    at.button(key=f"board.card.field.{post_id}").click().run()
    next(a for a in at.text_area if a.label == "Reply").input("We will check with logistics today.")
    next(b for b in at.button if b.label == "Send reply").click().run()
    assert at.success and at.success[0].value == "Reply sent."
    next(r for r in at.radio if r.label == "Outcome").set_value("no_action")
    next(b for b in at.button if b.label == "Close").click().run()
    assert "Say why when no action is taken." in [e.value for e in at.error]
    next(a for a in at.text_area if a.label == "Note").input("Deliveries are on time since Monday")
    next(b for b in at.button if b.label == "Close").click().run()
    assert at.success and at.success[0].value == "Closed."
    assert app_db().rows("SELECT outcome, close_note FROM posts") == [
        ("no_action", "Deliveries are on time since Monday")
    ]
    assert any("No action" in m.value for m in at.markdown)  # the close, in the thread
