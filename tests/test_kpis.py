"""Every KPI of docs/kpis.md on the tiny fixture; expected numbers worked out by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from mktsales import kpis
from mktsales.db import Database
from mktsales.scope import Scope

approx = pytest.approx


def test_marketing_kpis_for_march(tiny: Database, march: Scope) -> None:
    t = kpis.totals(tiny, march)
    assert t["reach"] == 1500  # activities 1, 2, 4; the sales visit has no reach
    assert t["engaged"] == 210
    assert t["leads"] == 7  # leads 1-5, 8 (23:00 on 31 March), 10; lead 9 is 1 April
    assert t["mql"] == 5  # leads 1, 2, 3, 4, 10
    assert t["marketing_spend"] == approx(2000.0)  # 500 + 1200 + 300; the 1 April ad is out
    assert t["cost_per_lead"] == approx(2000 / 7)
    assert t["mql_rate"] == approx(5 / 7)
    assert t["brand_awareness"] == approx(38.0)  # (50*400 + 30*600) / 1000; April's 90% ignored


def test_sales_kpis_for_march(tiny: Database, march: Scope) -> None:
    t = kpis.totals(tiny, march)
    assert t["sal"] == 4  # leads 1, 2, 4 and lead 6 accepted at 00:00 on 1 March
    assert t["opportunities"] == 4
    assert (t["won_deals"], t["lost_deals"]) == (2, 1)
    assert t["win_rate"] == approx(2 / 3)
    assert t["revenue"] == approx(10200.0)  # orders 1, 2, 3, 11, 12
    assert t["collections"] == approx(11700.0)  # 1000 + 400 + 300 + 5000 + 1000 + 4000
    assert t["receivables"] == approx(4300.0)  # 600 (o2) + 200 (o3) + 1500 (o6) + 2000 (o12)
    assert t["target_revenue"] == approx(16000.0)
    assert t["attainment"] == approx(10200 / 16000)
    assert t["open_pipeline"] == approx(8000.0)  # lead 4 only: the others closed in March


def test_handoff_and_collaboration_kpis(tiny: Database, march: Scope) -> None:
    t = kpis.totals(tiny, march)
    assert t["sal_rate"] == approx(4 / 5)
    assert t["accept_hours"] == approx(36.0)  # median of 12, 24, 48, 96 hours
    assert t["approval_hours"] == approx(24.0)  # median of 24, 6, 144 hours
    assert t["advisor_share"] == approx(0.5)  # activities 1 and 3 of 1-4


def test_funnel_stages_tracks_counts_and_conversion(tiny: Database, march: Scope) -> None:
    stages = kpis.funnel(kpis.totals(tiny, march))
    assert [(s["stage"], s["track"], s["count"]) for s in stages] == [
        ("reach", "marketing", 1500),
        ("engaged", "marketing", 210),
        ("lead", "marketing", 7),
        ("mql", "marketing", 5),
        ("sal", "sales", 4),
        ("opportunity", "sales", 4),
        ("won", "sales", 2),
        ("collected", "sales", 2),  # lead 1 paid 25 March, lead 7 paid 5 March; lead 6 settles in April
    ]
    assert [s["conversion"] for s in stages] == [
        None,
        approx(0.14),
        approx(7 / 210),
        approx(5 / 7),
        approx(0.8),
        approx(1.0),
        approx(0.5),
        approx(1.0),
    ]


def test_region_rows_and_total(tiny: Database, march: Scope) -> None:
    frame = kpis.kpis_by_region(tiny, march).set_index("region_id")
    assert list(frame.index) == [0, 1, 2, 3]
    assert list(frame["revenue"]) == approx([10200.0, 6000.0, 1000.0, 3200.0])
    assert list(frame["collections"]) == approx([11700.0, 6000.0, 4700.0, 1000.0])
    assert list(frame["receivables"]) == approx([4300.0, 0.0, 600.0, 3700.0])
    assert list(frame["attainment"]) == approx([0.6375, 0.75, 0.25, 0.8])
    assert list(frame["leads"]) == [7, 4, 3, 0]
    assert frame.loc[1, "accept_hours"] == approx(30.0)  # median of 12 and 48
    assert frame.loc[3, "accept_hours"] == approx(96.0)
    assert frame.loc[2, "win_rate"] != frame.loc[2, "win_rate"]  # NaN: no deal closed in East
    assert frame.loc[3, "brand_awareness"] != frame.loc[3, "brand_awareness"]  # no survey in South


def test_region_filter_keeps_only_those_regions(tiny: Database) -> None:
    t = kpis.totals(tiny, Scope(dt.date(2026, 3, 1), dt.date(2026, 4, 1), regions=(1, 2)))
    assert t["revenue"] == approx(7000.0)
    assert t["collections"] == approx(10700.0)
    assert t["sal"] == 3
    assert t["accept_hours"] == approx(24.0)  # median of 12, 24, 48 (South's 96 h is out)
    assert t["brand_awareness"] == approx(38.0)
    assert t["approval_hours"] == approx(15.0)  # median of 24 (North) and 6 (East)


def test_category_filter(tiny: Database) -> None:
    t = kpis.totals(tiny, Scope(dt.date(2026, 3, 1), dt.date(2026, 4, 1), categories=(1,)))
    assert t["revenue"] == approx(9000.0)  # orders 1, 11, 12
    assert t["reach"] == 1000
    assert t["marketing_spend"] == approx(500.0)
    assert t["leads"] == 3  # leads 1, 2, 8
    assert t["target_revenue"] == approx(9500.0)  # 5000 + 2000 + 2500
    assert t["advisor_share"] == approx(1.0)  # activities 1 and 3, both with an advisor
    assert t["approval_hours"] == approx(84.0)  # median of 24 and 144


def test_targets_are_prorated_when_the_period_cuts_months(tiny: Database) -> None:
    t = kpis.totals(tiny, Scope(dt.date(2026, 3, 16), dt.date(2026, 4, 16)))
    assert t["target_revenue"] == approx(16000 * 16 / 31 + 3000 * 15 / 30)


def test_previous_period_and_changes(tiny: Database, march: Scope) -> None:
    assert march.previous() == Scope(dt.date(2026, 1, 29), dt.date(2026, 3, 1))
    view = kpis.overview(tiny, march)
    assert view.previous["revenue"] == approx(4300.0)  # orders 5 and 13
    assert view.previous["leads"] == 2
    assert view.previous["brand_awareness"] == approx((40 * 500 + 30 * 600) / 1100)
    assert view.delta("revenue") == approx((10200 - 4300) / 4300)
    assert view.delta("leads") == approx(2.5)
    assert view.delta("mql_rate") == approx(5 / 7 - 1.0)  # a share: change in points
    assert view.delta("win_rate") == approx(2 / 3 - 1.0)  # lead 7 won on 20 Feb: previous rate 1.0
    assert view.delta("accept_hours") == approx((36 - 24) / 24)  # previous: lead 7's 24 h only


def test_empty_period_gives_zeros_and_no_ratios(tiny: Database) -> None:
    t = kpis.totals(tiny, Scope(dt.date(2020, 1, 1), dt.date(2020, 2, 1)))
    assert (t["reach"], t["leads"], t["revenue"], t["collections"], t["won_deals"]) == (0, 0, 0, 0, 0)
    for ratio in (
        "cost_per_lead",
        "mql_rate",
        "win_rate",
        "attainment",
        "sal_rate",
        "accept_hours",
        "approval_hours",
        "advisor_share",
        "brand_awareness",
    ):
        assert t[ratio] is None, ratio
    assert [s["conversion"] for s in kpis.funnel(t)] == [None] * 8


def test_monthly_trend_covers_twelve_months(tiny: Database, march: Scope) -> None:
    trend = kpis.monthly_trend(tiny, march)
    assert len(trend) == 12
    assert str(trend["month"].iloc[0].date()) == "2025-04-01"
    last3 = trend.tail(3)
    assert list(last3["revenue"]) == approx([2000.0, 4300.0, 10200.0])
    assert list(last3["target_revenue"]) == approx([0.0, 2800.0, 16000.0])
    assert list(last3["leads"]) == [1, 1, 7]
    assert list(last3["mql"]) == [0, 2, 5]


def test_report_has_the_documented_shape(tiny: Database, march: Scope) -> None:
    report = kpis.report(tiny, march)
    assert report["period"] == {"from": "2026-03-01", "to": "2026-04-01", "days": 31}
    assert set(report) == {"period", "marketing", "sales", "funnel", "handoff", "collaboration"}
    assert report["collaboration"] == {  # the tiny fixture has no board posts
        "response_hours": None,
        "response_within_target": None,
        "overdue_answers": 0,
        "unacknowledged_plans": 0,
    }
    assert report["marketing"]["leads"] == 7 and isinstance(report["marketing"]["leads"], int)
    assert report["handoff"]["sal_rate"] == approx(0.8)


def test_monthly_trend_says_how_much_of_each_month_the_period_covers(tiny: Database) -> None:
    trend = kpis.monthly_trend(tiny, Scope(dt.date(2026, 3, 1), dt.date(2026, 3, 16)))
    last = trend.iloc[-1]
    assert (str(last["month"].date()), last["days_in_period"], last["days_in_month"]) == (
        "2026-03-01",
        15,
        31,
    )
    assert last["revenue"] == approx(
        5000.0
    )  # orders 1 (3 March, 1000), 2 (12 March, 1000), 12 (15 March, 3000)
    assert (trend.iloc[0]["days_in_period"], trend.iloc[0]["days_in_month"]) == (30, 30)  # April 2025, whole
