"""Response metrics of the board (issue 5), worked by hand on tests/fixtures/board.sql.

First response hours of the March posts ("now" 2026-03-31 12:00; see the fixture's comments):
  field: 1 north competitor 2.5 (due 4 h: within) · 2 north shelf 30 (due 24 h: late)
         3 east customer_feedback 6 (within) · 4 east competitor none, past due (a miss)
         5 south competitor none, due 13:00 (not judged yet) · 6 east competitor 2 (within, a close)
  plan:  7 north+east promotion_plan 6 (within) · 8 south event_schedule 10 (due 4 h: late)
         9 east targets none, past due (a miss)
Quantiles interpolate (quantile_cont): the 90th percentile of sorted x_0..x_{n-1} is at
position 0.9 (n - 1).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
import pytest
from pytest import approx

from mktsales import board, kpis
from mktsales.db import Database
from mktsales.scope import Scope
from tests.conftest import MARCH
from tests.test_board import NOW, load_board


@pytest.fixture
def db(tiny: Database) -> Database:
    load_board(tiny)
    return tiny


def march(**kwargs: Any) -> Scope:
    return Scope(*MARCH, **kwargs)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts, NaN as None, so hand values compare with ==/approx."""
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def test_response_summary_by_direction(db: Database) -> None:
    rows = records(board.response_summary(db, march(), now=NOW))
    assert rows == [
        {
            "direction": "field",
            "posts": 6,
            "answered": 4,  # 1, 2, 3, 6
            "median_hours": approx(4.25),  # sorted 2, 2.5, 6, 30: (2.5 + 6) / 2
            "p90_hours": approx(22.8),  # position 2.7: 6 + 0.7 * (30 - 6)
            "within_target": approx(0.6),  # 1, 3, 6 of the judged 1, 2, 3, 4, 6
            "overdue_now": 1,  # 4
        },
        {
            "direction": "plan",
            "posts": 3,
            "answered": 2,  # 7, 8
            "median_hours": approx(8.0),  # (6 + 10) / 2
            "p90_hours": approx(9.6),  # 6 + 0.9 * 4
            "within_target": approx(1 / 3),  # 7 of 7, 8, 9
            "overdue_now": 1,  # 9
        },
    ]


def test_a_later_now_judges_the_open_post_too(db: Database) -> None:
    later = dt.datetime(2026, 3, 31, 14, 0)  # post 5 was due at 13:00
    field = records(board.response_summary(db, march(), now=later))[0]
    assert (field["within_target"], field["overdue_now"]) == (approx(3 / 6), 2)


def test_an_empty_period_has_both_directions_and_no_times(db: Database) -> None:
    rows = records(board.response_summary(db, Scope(dt.date(2026, 1, 1), dt.date(2026, 2, 1)), now=NOW))
    assert rows == [
        {"direction": d, "posts": 0, "answered": 0, "median_hours": None, "p90_hours": None,
         "within_target": None, "overdue_now": 0}
        for d in ("field", "plan")
    ]  # fmt: skip


def test_response_by_region(db: Database) -> None:
    rows = records(board.response_by(db, march(), "region", now=NOW))
    assert rows == [
        # field north: 2.5, 30 -> median 16.25, p90 2.5 + 0.9 * 27.5; post 1 within, post 2 late
        {"direction": "field", "key": 1, "name_zh": "华北", "name_en": "North China", "posts": 2,
         "median_hours": approx(16.25), "p90_hours": approx(27.25), "within_target": approx(0.5)},
        # field east: 6, -, 2 -> median 4, p90 2 + 0.9 * 4; 3 and 6 within, 4 a miss
        {"direction": "field", "key": 2, "name_zh": "华东", "name_en": "East China", "posts": 3,
         "median_hours": approx(4.0), "p90_hours": approx(5.6), "within_target": approx(2 / 3)},
        # field south: post 5, unanswered and not yet due
        {"direction": "field", "key": 3, "name_zh": "华南", "name_en": "South China", "posts": 1,
         "median_hours": None, "p90_hours": None, "within_target": None},
        # plan 7 counts in north and in east, with its first response (north's acknowledgement)
        {"direction": "plan", "key": 1, "name_zh": "华北", "name_en": "North China", "posts": 1,
         "median_hours": approx(6.0), "p90_hours": approx(6.0), "within_target": approx(1.0)},
        {"direction": "plan", "key": 2, "name_zh": "华东", "name_en": "East China", "posts": 2,
         "median_hours": approx(6.0), "p90_hours": approx(6.0), "within_target": approx(0.5)},
        {"direction": "plan", "key": 3, "name_zh": "华南", "name_en": "South China", "posts": 1,
         "median_hours": approx(10.0), "p90_hours": approx(10.0), "within_target": approx(0.0)},
    ]  # fmt: skip


def test_response_by_region_stays_in_the_scopes_regions(db: Database) -> None:
    # plan 7 addresses north and east: a north scope shows its north row only
    rows = records(board.response_by(db, march(regions=(1,)), "region", now=NOW))
    assert [(r["direction"], r["key"], r["posts"]) for r in rows] == [("field", 1, 2), ("plan", 1, 1)]


def test_response_by_category_in_the_briefs_order(db: Database) -> None:
    rows = records(board.response_by(db, march(), "category", now=NOW))
    assert [(r["direction"], r["key"], r["posts"], r["median_hours"], r["p90_hours"], r["within_target"])
            for r in rows] == [
        ("field", "shelf_display", 1, approx(30.0), approx(30.0), approx(0.0)),
        # 2.5, -, -, 2 -> median 2.25, p90 2 + 0.9 * 0.5; 1 and 6 within, 4 a miss, 5 not judged
        ("field", "competitor", 4, approx(2.25), approx(2.45), approx(2 / 3)),
        ("field", "customer_feedback", 1, approx(6.0), approx(6.0), approx(1.0)),
        ("plan", "promotion_plan", 1, approx(6.0), approx(6.0), approx(1.0)),
        ("plan", "event_schedule", 1, approx(10.0), approx(10.0), approx(0.0)),
        ("plan", "targets", 1, None, None, approx(0.0)),
    ]  # fmt: skip
    with pytest.raises(ValueError):
        board.response_by(db, march(), "author", now=NOW)


def test_response_trend_by_month(db: Database) -> None:
    trend = records(board.response_trend(db, march(), now=NOW))
    # the trend window: the 12 months April 2025 - March 2026, both directions each
    assert len(trend) == 24
    assert (trend[0]["month"], trend[0]["direction"], trend[0]["posts"]) == (
        pd.Timestamp("2025-04-01"),
        "field",
        0,
    )
    february = [r for r in trend if r["month"] == pd.Timestamp("2026-02-01")]
    # post 10: acknowledged after 4 h, within its 24 h
    assert [(r["direction"], r["posts"], r["median_hours"], r["within_target"]) for r in february] == [
        ("field", 1, approx(4.0), approx(1.0)),
        ("plan", 0, None, None),
    ]
    assert [(r["posts"], r["median_hours"], r["within_target"]) for r in trend[-2:]] == [
        (6, approx(4.25), approx(0.6)),
        (3, approx(8.0), approx(1 / 3)),
    ]


def test_field_volume_has_every_region_and_category_with_zeros(db: Database) -> None:
    volume = board.field_volume(db, march())
    assert len(volume) == 3 * 9 and list(volume["category"][:9]) == list(board.FIELD_CATEGORIES)
    counted = {
        (r, c): n for r, c, n in volume[["region_id", "category", "reports"]].itertuples(index=False) if n
    }
    assert counted == {
        (1, "shelf_display"): 1,  # post 2 (post 10 is February)
        (1, "competitor"): 1,  # post 1
        (2, "customer_feedback"): 1,  # post 3
        (2, "competitor"): 2,  # posts 4, 6
        (3, "competitor"): 1,  # post 5
    }
    south = board.field_volume(db, march(regions=(3,)))
    assert list(south["region_id"].unique()) == [3] and south["reports"].tolist() == [0] * 7 + [1, 0]
    # beverages only: post 3 names a snacks product and drops out; posts naming no product stay
    beverages = board.field_volume(db, march(categories=(1,)))
    assert int(beverages["reports"].sum()) == 5


def test_silent_regions(db: Database) -> None:
    # north's last field report is post 2 (03-05 08:00): 26 days 4 hours before now, after reports
    # in the 90 days before the 14 quiet ones; east (03-25) and south (03-31) still report
    silent = records(board.silent_regions(db, march(), now=NOW))
    assert silent == [
        {"region_id": 1, "name_zh": "华北", "name_en": "North China",
         "last_report_at": pd.Timestamp("2026-03-05 08:00"), "days_silent": 26},
    ]  # fmt: skip
    # five quiet days: east too, silent since post 6 (03-25 10:00): 6 days 2 hours
    five = board.silent_regions(db, march(), days=5, now=NOW)
    assert list(zip(five["region_id"], five["days_silent"], strict=True)) == [(1, 26), (2, 6)]
    assert board.silent_regions(db, march(regions=(2, 3)), now=NOW).empty
    # by August north's last report (post 11, 1 April) is old news: nothing in the 90 days before
    assert board.silent_regions(db, march(), now=dt.datetime(2026, 8, 1)).empty


def test_competitor_intel_groups_names_trimmed_and_in_any_case(db: Database) -> None:
    intel = records(board.competitor_intel(db, march()))
    assert intel == [
        {"competitor": "康师傅", "posts": 2, "last_at": pd.Timestamp("2026-03-31 09:00"),
         "regions": "华北, 华南", "regions_en": "North China, South China",
         "latest_title": "康师傅华南新品上市", "latest_post_id": 5},
        # "Uni-President" (post 4) and "uni-president " (post 6, the latest) are one competitor
        {"competitor": "uni-president", "posts": 2, "last_at": pd.Timestamp("2026-03-25 10:00"),
         "regions": "华东", "regions_en": "East China",
         "latest_title": "统一促销（重复）", "latest_post_id": 6},
    ]  # fmt: skip
    south = records(board.competitor_intel(db, march(regions=(3,))))
    assert [(r["competitor"], r["posts"], r["regions"]) for r in south] == [("康师傅", 1, "华南")]


def test_collaboration_for_kpis(db: Database) -> None:
    # both directions: 2, 2.5, 6, 6, 10, 30 -> median 6; within 1, 3, 6, 7 of 1, 2, 3, 4, 6, 7, 8, 9
    assert board.collaboration(db, march(), now=NOW) == {
        "response_hours": approx(6.0),
        "response_within_target": approx(0.5),
        "overdue_answers": 2,  # 4, 9
        "unacknowledged_plans": 1,  # 9
    }
    empty = board.collaboration(db, Scope(dt.date(2026, 1, 1), dt.date(2026, 2, 1)), now=NOW)
    assert empty == {
        "response_hours": None,
        "response_within_target": None,
        "overdue_answers": 0,
        "unacknowledged_plans": 0,
    }


def test_kpis_report_carries_collaboration(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # with today fixed at 31 March, now is the end of that day: post 5 (due 13:00) is overdue too
    monkeypatch.setenv("MKTSALES_TODAY", "2026-03-31")
    assert kpis.report(db, march())["collaboration"] == {
        "response_hours": approx(6.0),
        "response_within_target": approx(4 / 9),
        "overdue_answers": 3,  # 4, 5, 9
        "unacknowledged_plans": 1,
    }
