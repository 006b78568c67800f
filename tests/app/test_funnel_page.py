"""The funnel page in both languages, on the tiny fixture (March 2026, "now" = 1 April 00:00).

Every expected number is worked out by hand from tests/fixtures/tiny.sql; the comments show how.
"""

import datetime as dt
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mktsales.ui import widgets
from tests.app.conftest import app_db, open_app, page_path


def funnel_page(username: str = "boss", lang: str = "zh") -> AppTest:
    at = open_app(username)
    if lang == "en":
        at.segmented_control(key="lang").set_value("en").run()
    at.switch_page(page_path("app_pages/funnel.py")).run()
    assert not at.exception
    return at


def tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def table(at: AppTest, first: str, *others: str) -> pd.DataFrame:
    """The one table on the page whose first column is ``first`` and that has the ``others``."""
    found = [
        d.value for d in at.dataframe if d.value.columns[0] == first and set(others) <= set(d.value.columns)
    ]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def funnel_counts(at: AppTest) -> list[int]:
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return [x or 0 for trace in spec["data"] for x in trace["x"]]


def test_the_handoff_answers_what_share_we_accept_and_how_fast(app_env: Path) -> None:
    at = funnel_page()
    assert at.title[0].value == "漏斗分析：线索在哪里流失"
    # March decisions: accepted 1 (12 h), 2 (48 h), 4 (24 h), 6 (96 h); rejected 3 (24 h)
    assert tiles(at) == {
        "接受率": "80.0%",  # 4 ÷ (4 + 1)
        "接受用时中位数": "36 小时",  # median of 12, 24, 48, 96
        "接受用时 90 分位": "82 小时",  # 48 + 0.7 × (96 − 48) = 81.6
        "按时响应率": "80.0%",  # within 48 h: 12, 48, 24, 24 of 5; lead 6 took 96 h
        "等待接受": "1",  # lead 10, MQL since 21 March: 264 h at 1 April, past the 48 h target
    }
    assert [m.delta for m in at.metric if m.label == "等待接受"] == ["超时 1"]
    waiting = table(at, "线索编号", "已等待")
    assert list(waiting["线索编号"]) == [10] and list(waiting["已等待"]) == ["264 小时"]
    rejected = table(at, "原因", "合计")
    assert list(rejected["原因"]) == ["不匹配"] and list(rejected["合计"]) == [1]


def test_period_and_cohort_views_of_the_funnel(app_env: Path) -> None:
    at = funnel_page()
    assert funnel_counts(at) == [1500, 210, 7, 5, 4, 4, 2, 2]  # the overview's funnel
    # from lead on, the largest drop is opportunity → won: 2 of 4 (leads 1 and 6 won; 2 lost, 4 open)
    assert "商机 → 赢单，流失 50.0%（销售部）" in at.warning[0].value

    at.segmented_control(key="funnel_view.zh").set_value("cohort").run()
    assert not at.exception
    # leads created in March: 1, 2, 3, 4, 5, 8, 10. MQL: 1, 2, 3, 4, 10. Accepted: 1, 2, 4 (3 was
    # rejected, 10 waits). Opportunities: 1, 2, 4. Won: 1 (2 lost, 4 open). Collected: 1 (paid 25 March).
    assert funnel_counts(at) == [7, 5, 3, 3, 1, 1]
    assert "商机 → 赢单，流失 66.7%（销售部）" in at.warning[0].value
    steps = table(at, "环节", "流失归属")
    assert list(steps["流失归属"]) == ["市场部", "交接（双方）", "销售部", "销售部", "销售部"]
    assert list(steps["流失"]) == [2, 2, 0, 2, 0]


def test_breakdown_by_region_marks_the_best_and_the_worst(app_env: Path) -> None:
    at = funnel_page()
    split = table(at, "区域", "线索→赢单")
    # March events by region. North: leads 1, 2, 5, 8; MQL, SAL and opportunity 1, 2; won 1,
    # collected 1. East: leads 3, 4, 10; MQL 3, 4, 10; SAL and opportunity 4; collected lead 7
    # (order 13 paid 5 March). South: lead 6 accepted 1 March, opportunity 5 March, won 15 March.
    assert list(split["区域"]) == ["华北", "华东", "华南", "合计"]
    assert list(split["线索"]) == [4, 3, 0, 7]
    assert list(split["MQL"]) == [2, 3, 0, 5]
    assert list(split["SAL"]) == [2, 1, 1, 4]
    assert list(split["赢单"]) == [1, 0, 1, 2]
    assert list(split["已回款"]) == [1, 1, 0, 2]
    rates = split["线索→赢单"].tolist()
    assert (
        rates[:2] == [0.25, 0.0] and pd.isna(rates[2]) and rates[3] == pytest.approx(2 / 7)
    )  # south: no leads
    chart = json.loads(at.get("plotly_chart")[1].proto.spec)["data"][0]
    assert chart["y"][:2] == ["华北", "华东"]  # highest first
    assert chart["customdata"][:2] == ["north", "east"]  # what a click narrows the page to


def test_breakdown_by_source_and_campaign_in_english(app_env: Path) -> None:
    at = funnel_page(lang="en")
    at.selectbox(key="funnel_by.en").set_value("source").run()
    split = table(at, "Lead source").set_index("Lead source")
    # ad: leads 1, 2 (both MQL, accepted, opportunity; 1 won). event: 3, 4, 10. website: 5, 8.
    # referral: lead 6 (accepted, opportunity and won in March). trade_show: lead 7 (collected).
    assert split.loc["Advertising", ["Leads", "MQLs", "SALs", "Won"]].tolist() == [2, 2, 2, 1]
    assert split.loc["Event", ["Leads", "MQLs", "SALs", "Won"]].tolist() == [3, 3, 1, 0]
    assert split.loc["Website", ["Leads", "MQLs"]].tolist() == [2, 0]
    assert split.loc["Total", "Leads"] == 7

    at.selectbox(key="funnel_by.en").set_value("campaign").run()
    split = table(at, "Campaign").set_index("Campaign")
    assert split.loc["Spring beverages ads", "Leads"] == 2  # leads 1, 2
    assert split.loc["East snacks tastings", "Leads"] == 3  # leads 3, 4, 10
    assert split.loc["(no campaign)", "Leads"] == 2  # leads 5, 8 (website)
    assert not at.exception


def test_the_leads_behind_a_stage_and_their_downloads(app_env: Path) -> None:
    at = funnel_page(lang="en")
    at.selectbox(key="funnel_stage.en").set_value("mql").run()
    leads = table(at, "Lead", "Campaign")
    assert list(leads["Lead"]) == [1, 2, 3, 4, 10]  # MQLs of March
    assert list(leads["Source"]) == ["Advertising", "Advertising", "Event", "Event", "Event"]
    assert list(leads["Reject reason"])[2] == "Not a fit"
    assert "5 leads" in " ".join(c.value for c in at.caption)
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels[-2:] == ["Download CSV", "Download Excel"]  # the stage leads: the last table


def test_the_excel_download_holds_the_table() -> None:
    frame = pd.DataFrame({"线索编号": [1, 2], "区域": ["华北", "华东"], "Value": [5000.0, None]})
    back = pd.read_excel(io.BytesIO(widgets.excel_bytes(frame)))
    assert back["区域"].tolist() == ["华北", "华东"] and back["Value"].tolist()[0] == 5000.0


def test_an_empty_period_shows_no_data_instead_of_an_error(app_env: Path) -> None:
    at = funnel_page()
    at.selectbox(key="period.zh").set_value("custom").run()
    at.date_input(key="range").set_value((dt.date(2020, 1, 1), dt.date(2020, 1, 31))).run()
    assert not at.exception
    assert at.info and "没有线索" in at.info[0].value
    assert not at.metric


def test_a_two_region_head_sees_only_their_regions_on_the_funnel(app_env: Path) -> None:
    at = funnel_page("duo")
    mine = app_db().scalar(  # independent: March acceptances and rejections in north and east
        "SELECT count(sal_at) FILTER (WHERE sal_at >= DATE '2026-03-01' AND sal_at < DATE '2026-04-01')"
        " / count(*) FROM leads WHERE region_id IN (1, 2) AND coalesce(sal_at, rejected_at)"
        " >= DATE '2026-03-01' AND coalesce(sal_at, rejected_at) < DATE '2026-04-01'"
    )
    assert mine == pytest.approx(0.75)  # leads 1, 2, 4 accepted, lead 3 rejected; south's lead 6 left out
    assert tiles(at)["接受率"] == "75.0%"
    assert tiles(at)["接受用时中位数"] == "24 小时"  # median of 12, 48, 24
    # March reach and leads are all north and east; south's lead 6 (accepted, opportunity, won) is gone
    assert funnel_counts(at) == [1500, 210, 7, 5, 3, 3, 1, 2]
    split = table(at, "区域", "线索→赢单")
    assert list(split["区域"]) == ["华北", "华东", "合计"]


def test_a_rep_is_refused_the_funnel(app_env: Path) -> None:
    at = open_app("rep")
    with pytest.raises(ValueError):  # not registered for a rep: the file cannot even be chosen
        at.switch_page(page_path("app_pages/funnel.py"))


def test_the_cli_json_matches_the_page(app_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`funnel --json` on the same file and filters prints the numbers the page shows."""
    from mktsales import cli, i18n

    argv = ["funnel", "--db", str(app_env), "--from", "2026-03-01", "--to", "2026-04-01"]
    assert (
        cli.main([*argv, "--as-of", "2026-03-31", "--by", "region", "--json"]) == 0
    )  # before the app opens it
    report = json.loads(capsys.readouterr().out)

    at = funnel_page(lang="en")
    assert funnel_counts(at) == [stage["count"] for stage in report["funnel"]]
    handoff = report["handoff"]
    shown = tiles(at)
    assert shown["Accept rate"] == i18n.percent(handoff["accept_rate"], "en")
    assert shown["Median time to accept"] == i18n.hours(handoff["median_hours"], "en")
    assert shown["90th percentile to accept"] == i18n.hours(handoff["p90_hours"], "en")
    assert shown["Answered on time"] == i18n.percent(handoff["decided_within_target"], "en")
    assert shown["Waiting now"] == i18n.count(handoff["waiting"], "en")
    split = table(at, "Region", "Lead → won")
    for column, header in (("lead", "Leads"), ("mql", "MQLs"), ("won", "Won"), ("collected", "Collected")):
        assert list(split[header]) == [row[column] for row in report["breakdown"]["rows"]], column
