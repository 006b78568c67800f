"""The overview in both languages: tiles show the hand-worked numbers of the tiny fixture."""

import datetime as dt
import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from mktsales import board
from mktsales.accounts import find_user
from tests.app.conftest import app_db, open_app


def tiles(at: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def test_overview_in_chinese_shows_march_tiles_and_changes(app: AppTest) -> None:
    assert not app.exception
    shown = tiles(app)
    assert shown["销售收入"] == ("¥1.02万", "+137.2%")  # 10,200 vs 4,300 in the previous period
    assert shown["回款"] == ("¥1.17万", "")  # nothing was collected in the previous period
    assert shown["触达"] == ("1,500", "+200.0%")  # 1,500 vs 500
    assert shown["线索数"] == ("7", "+250.0%")
    assert shown["单条线索成本"] == ("¥286", "-42.9%")  # 2000/7 vs 1000/2
    assert shown["品牌知名度"] == ("38.0%", "+3.5 个百分点")  # 38.0 vs 34.5
    assert shown["赢单率"] == ("66.7%", "-33.3 个百分点")
    assert shown["目标达成率"] == ("63.7%", "-89.8 个百分点")  # 10200/16000 vs 4300/2800
    assert shown["在途商机金额"] == ("¥8,000", "")
    assert shown["逾期未答复"] == ("0", "") and shown["计划未确认"] == ("0", "")  # no posts yet
    assert len(shown) == 13


def test_overview_counts_overdue_answers_and_unacknowledged_plans(app_env: Path) -> None:
    db = app_db()
    # a field report of 30 March 09:00 is due 24 h later and still unanswered at now (1 April 00:00)
    rep, head = find_user(db, "rep"), find_user(db, "mkthead")
    board.post(
        db,
        rep,
        key="field",
        direction="field",
        category="stocking",
        title="缺货",
        body="华北缺货。",
        now=dt.datetime(2026, 3, 30, 9),
    )
    # a plan of 31 March to the east needs the east's sales head to acknowledge it
    board.post(
        db,
        head,
        key="plan",
        direction="plan",
        category="targets",
        title="四月目标",
        body="四月目标。",
        regions=[2],
        needs_ack=True,
        now=dt.datetime(2026, 3, 31, 10),
    )
    shown = tiles(open_app("boss"))
    assert shown["逾期未答复"] == ("1", "") and shown["计划未确认"] == ("1", "")


def test_overview_in_english(app: AppTest) -> None:
    app.segmented_control(key="lang").set_value("en").run()
    assert not app.exception
    shown = tiles(app)
    assert shown["Revenue"] == ("¥10.2K", "+137.2%")
    assert shown["Brand awareness"] == ("38.0%", "+3.5 pts")
    assert shown["MQLs"] == ("5", "+150.0%")
    assert app.title[0].value == "Executive overview"
    assert "1 Mar 2026 to 31 Mar 2026 (31 days)" in app.caption[0].value


def test_funnel_chart_shows_both_tracks_and_the_handoff(app: AppTest) -> None:
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    marketing, sales = spec["data"]
    assert marketing["y"] == ["触达", "互动", "线索", "市场合格线索 MQL"]
    assert marketing["x"] == [1500, 210, 7, 5]
    assert sales["x"] == [4, 4, 2, 2]
    assert marketing["marker"]["color"] != sales["marker"]["color"]
    assert any("交接" in a["text"] for a in spec["layout"]["annotations"])
    assert "↓ 80.0%" in sales["text"][0]  # 4 SALs of 5 MQLs


def test_region_filter_narrows_every_tile(app: AppTest) -> None:
    app.multiselect(key="region.zh").set_value(["north", "east"]).run()
    assert not app.exception
    shown = tiles(app)
    assert shown["销售收入"][0] == "¥7,000"  # North 6,000 + East 1,000
    assert shown["回款"][0] == "¥1.07万"  # 6,000 + 4,700
    table = app.dataframe[0].value
    assert list(table.iloc[:, 0]) == ["华北", "华东", "合计"]


def test_category_filter_and_a_year_period(app: AppTest) -> None:
    app.multiselect(key="category.zh").set_value(["snacks"]).run()
    app.selectbox(key="period.zh").set_value("year").run()
    assert not app.exception
    assert tiles(app)["销售收入"][0] == "¥3,200"  # snacks in 2026: orders 2, 3 and 6


def test_an_empty_period_says_so_instead_of_failing(app: AppTest) -> None:
    app.selectbox(key="period.zh").set_value("custom").run()
    app.date_input(key="range").set_value(
        (__import__("datetime").date(2020, 1, 1), __import__("datetime").date(2020, 1, 31))
    ).run()
    assert not app.exception
    assert app.info and "没有数据" in app.info[0].value
    assert tiles(app)["销售收入"] == ("¥0", "")
    assert tiles(app)["赢单率"][0] == "—"


def test_region_table_totals_and_colours_attainment(app: AppTest) -> None:
    table = app.dataframe[0].value
    assert list(table.iloc[:, 0]) == ["华北", "华东", "华南", "合计"]
    assert list(table["达成率"]) == [0.75, 0.25, 0.8, 0.6375]


def test_switching_language_keeps_the_filters_and_translates_their_labels(app: AppTest) -> None:
    app.multiselect(key="region.zh").set_value(["north", "east"]).run()
    app.selectbox(key="period.zh").set_value("year").run()
    app.segmented_control(key="lang").set_value("en").run()
    assert not app.exception
    assert app.multiselect(key="region.en").value == ["north", "east"]
    assert app.selectbox(key="period.en").value == "year"
    assert tiles(app)["Revenue"][0] == "¥11.3K"  # 2026 to date, North and East: 7,000 + 300 + 4,000


def test_filters_are_kept_while_moving_between_pages(app: AppTest) -> None:
    from tests.app.conftest import page_path

    app.multiselect(key="region.zh").set_value(["east"]).run()
    app.switch_page(page_path("app_pages/definitions.py")).run()
    assert app.multiselect(key="region.zh").value == ["east"]
    app.switch_page(page_path("app_pages/overview.py")).run()
    assert not app.exception
    assert tiles(app)["销售收入"][0] == "¥1,000"  # East's order 2 only
