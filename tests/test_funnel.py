"""The funnel page's numbers on the tiny fixture; every expected number worked out by hand.

The leads of tests/fixtures/tiny.sql, for reference (r = region 1 north, 2 east, 3 south;
c = category 1 beverages, 2 snacks; camp = campaign):

    lead r c source     camp created      mql          sal / rejected     opportunity  closed
    1    1 1 ad         1    03-02 09:00  03-03 09:00  sal 03-03 21:00    03-10 10:00  03-20 10:00 won
    2    1 1 ad         1    03-05 10:00  03-06 10:00  sal 03-08 10:00    03-12 10:00  03-28 10:00 lost
    3    2 2 event      2    03-07 10:00  03-08 00:00  rej 03-09 00:00
    4    2 2 event      2    03-10 10:00  03-11 00:00  sal 03-12 00:00    03-20 00:00  (open)
    5    1 2 website    -    03-15 10:00
    6    3 1 referral   -    02-20 10:00  02-25 00:00  sal 03-01 00:00    03-05 00:00  03-15 00:00 won
    7    2 1 trade_show -    01-30 10:00  02-01 00:00  sal 02-02 00:00    02-10 00:00  02-20 00:00 won
    8    1 1 website    -    03-31 23:00
    9    1 1 website    -    04-01 00:00
    10   2 2 event      2    03-20 10:00  03-21 00:00  (waiting)

Won orders: 11 (lead 1, 5000, paid in full 25 March), 12 (lead 6, 3000: 1000 on 30 March and
2000 on 10 April, so settled 10 April), 13 (lead 7, 4000, paid in full 5 March).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest

from mktsales import funnel, kpis
from mktsales.db import Database
from mktsales.scope import Scope
from tests.conftest import MARCH

approx = pytest.approx
APRIL_1 = dt.datetime(2026, 4, 1)
NORTH_EAST = Scope(*MARCH, allowed_regions=(1, 2))  # what a user limited to north and east sees
EMPTY = Scope(dt.date(2020, 1, 1), dt.date(2020, 2, 1))
COUNTS = ("lead", "mql", "sal", "rejected", "opportunity", "won", "lost", "collected")


def stages(frame: pd.DataFrame) -> list[tuple]:
    return list(frame[["stage", "track", "count"]].itertuples(index=False, name=None))


def counts(frame: pd.DataFrame) -> dict:
    """Breakdown rows as {key: (lead, mql, sal, rejected, opportunity, won, lost, collected)};
    the total row under "total"."""
    return {
        "total" if row["is_total"] else row["key"]: tuple(int(row[c]) for c in COUNTS)
        for _, row in frame.iterrows()
    }


def row(frame: pd.DataFrame, key: object) -> pd.Series:
    if key == "total":
        return frame.loc[frame["is_total"]].iloc[0]
    found = frame.loc[~frame["is_total"] & frame["key"].map(lambda k: k == key)]
    assert len(found) == 1, key
    return found.iloc[0]


def is_none(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)


# -- stages and who owns each leak ---------------------------------------------------------------------
def test_stages_are_the_overview_stages_with_their_tracks() -> None:
    assert funnel.STAGES == (
        ("reach", "marketing"),
        ("engaged", "marketing"),
        ("lead", "marketing"),
        ("mql", "marketing"),
        ("sal", "sales"),
        ("opportunity", "sales"),
        ("won", "sales"),
        ("collected", "sales"),
    )
    assert funnel.LEAD_STAGES == ("lead", "mql", "sal", "opportunity", "won", "collected")
    assert funnel.BREAKDOWNS == ("region", "category", "source", "campaign")


def test_leak_owner_is_marketing_the_handoff_or_sales() -> None:
    assert funnel.leak_owner("reach", "engaged") == "marketing"
    assert funnel.leak_owner("lead", "mql") == "marketing"
    assert funnel.leak_owner("mql", "sal") == "handoff"
    assert funnel.leak_owner("lead", "won") == "handoff"  # a span across the tracks
    assert funnel.leak_owner("sal", "opportunity") == "sales"
    assert funnel.leak_owner("won", "collected") == "sales"
    with pytest.raises(ValueError, match="unknown funnel stage"):
        funnel.leak_owner("mql", "signed")
    with pytest.raises(ValueError, match="does not come before"):
        funnel.leak_owner("sal", "mql")


# -- the two views of the funnel -----------------------------------------------------------------------
def test_period_funnel_is_the_overview_funnel_with_drop_and_leak_owner(tiny: Database, march: Scope) -> None:
    frame = funnel.period_funnel(tiny, march)
    assert list(frame.columns) == ["stage", "track", "count", "conversion", "drop", "leak_owner"]
    assert stages(frame) == [
        ("reach", "marketing", 1500),  # activities 1, 2, 4
        ("engaged", "marketing", 210),
        ("lead", "marketing", 7),  # leads 1-5, 8, 10
        ("mql", "marketing", 5),  # 1, 2, 3, 4, 10
        ("sal", "sales", 4),  # 1, 2, 4 and 6 (accepted 1 March 00:00)
        ("opportunity", "sales", 4),  # 1, 2, 4, 6
        ("won", "sales", 2),  # 1 and 6
        ("collected", "sales", 2),  # orders 11 (25 March) and 13 (5 March); 12 settles in April
    ]
    assert stages(frame) == [
        (s["stage"], s["track"], s["count"]) for s in kpis.funnel(kpis.totals(tiny, march))
    ]
    assert list(frame["conversion"]) == [
        None,
        approx(210 / 1500),
        approx(7 / 210),
        approx(5 / 7),
        approx(4 / 5),
        approx(4 / 4),
        approx(2 / 4),
        approx(2 / 2),
    ]
    # 1500-210, 210-7, 7-5, 5-4, 4-4, 4-2, 2-2
    assert list(frame["drop"]) == [None, 1290, 203, 2, 1, 0, 2, 0]
    assert list(frame["leak_owner"]) == [
        None,
        "marketing",
        "marketing",
        "marketing",
        "handoff",
        "sales",
        "sales",
        "sales",
    ]


def test_cohort_funnel_follows_the_leads_created_in_march(tiny: Database, march: Scope) -> None:
    frame = funnel.cohort_funnel(tiny, march, APRIL_1)
    # Cohort: leads 1, 2, 3, 4, 5, 8, 10 (6 and 7 were created before March, 9 on 1 April).
    assert stages(frame) == [
        ("lead", "marketing", 7),
        ("mql", "marketing", 5),  # 1, 2, 3, 4, 10
        ("sal", "sales", 3),  # 1, 2, 4 (3 was rejected, 10 is waiting)
        ("opportunity", "sales", 3),  # 1, 2, 4
        ("won", "sales", 1),  # 1 (2 was lost, 4 is open)
        ("collected", "sales", 1),  # 1: order 11 paid in full on 25 March
    ]
    assert list(frame["conversion"]) == [
        None,
        approx(5 / 7),
        approx(3 / 5),
        approx(1.0),
        approx(1 / 3),
        approx(1.0),
    ]
    assert list(frame["drop"]) == [None, 2, 2, 0, 2, 0]
    assert list(frame["leak_owner"]) == [None, "marketing", "handoff", "sales", "sales", "sales"]
    assert funnel.cohort_outcomes(tiny, march, APRIL_1) == {"rejected": 1, "lost": 1}  # lead 3; lead 2


def test_cohort_counts_only_what_happened_before_as_of(tiny: Database, march: Scope) -> None:
    frame = funnel.cohort_funnel(tiny, march, dt.datetime(2026, 3, 15))
    # Created before 15 March 00:00: 1, 2, 3, 4 (5 came at 10:00 that day).
    # MQL: all four; SAL: 1 (3rd), 2 (8th), 4 (12th); opportunity: 1 (10th), 2 (12th), not 4 (20th);
    # won: none yet (lead 1 closed on the 20th).
    assert list(frame["count"]) == [4, 4, 3, 2, 0, 0]
    assert funnel.cohort_outcomes(tiny, march, dt.datetime(2026, 3, 15)) == {"rejected": 1, "lost": 0}


def test_cohort_collected_needs_the_order_paid_in_full_before_as_of(tiny: Database) -> None:
    february = Scope(dt.date(2026, 2, 1), dt.date(2026, 3, 1))  # cohort: lead 6 only
    # Lead 6 was won on 15 March; order 12 (3000) had 1000 by 1 April, all 3000 on 10 April.
    by_april = funnel.cohort_funnel(tiny, february, APRIL_1)
    assert list(by_april["count"]) == [1, 1, 1, 1, 1, 0]
    # A payment counts from the start of its day: at 10 April 00:00 that day's payment is not in yet.
    on_the_day = funnel.cohort_funnel(tiny, february, dt.datetime(2026, 4, 10))
    assert list(on_the_day["count"]) == [1, 1, 1, 1, 1, 0]
    after = funnel.cohort_funnel(tiny, february, dt.datetime(2026, 4, 11))
    assert list(after["count"]) == [1, 1, 1, 1, 1, 1]


# -- breakdowns ----------------------------------------------------------------------------------------
# Each tuple: (lead, mql, sal, rejected, opportunity, won, lost, collected) of the leads listed.
PERIOD_TOTAL = (7, 5, 4, 1, 4, 2, 1, 2)  # the period funnel above, plus rejected lead 3 and lost lead 2
COHORT_TOTAL = (7, 5, 3, 1, 3, 1, 1, 1)  # the cohort funnel above, same


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        (
            "region",
            {
                # created 1, 2, 5, 8; MQL 1, 2; SAL 1, 2; opened 1, 2; won 1; lost 2; order 11 settled
                1: (4, 2, 2, 0, 2, 1, 1, 1),
                # created 3, 4, 10; MQL 3, 4, 10; SAL 4; rejected 3; opened 4; order 13 settled 5 March
                2: (3, 3, 1, 1, 1, 0, 0, 1),
                # lead 6 only: accepted, opened and won in March; its order 12 settles in April
                3: (0, 0, 1, 0, 1, 1, 0, 0),
                "total": PERIOD_TOTAL,
            },
        ),
        (
            "category",
            {
                1: (3, 2, 3, 0, 3, 2, 1, 2),  # leads 1, 2, 6, 8; orders 11 and 13 are beverages
                2: (4, 3, 1, 1, 1, 0, 0, 0),  # leads 3, 4, 5, 10
                "total": PERIOD_TOTAL,
            },
        ),
        (
            "source",
            {
                "ad": (2, 2, 2, 0, 2, 1, 1, 1),  # leads 1, 2
                "event": (3, 3, 1, 1, 1, 0, 0, 0),  # leads 3, 4, 10
                "referral": (0, 0, 1, 0, 1, 1, 0, 0),  # lead 6
                "trade_show": (0, 0, 0, 0, 0, 0, 0, 1),  # lead 7: only its order 13, settled in March
                "website": (2, 0, 0, 0, 0, 0, 0, 0),  # leads 5, 8
                "total": PERIOD_TOTAL,
            },
        ),
        (
            "campaign",
            {
                1: (2, 2, 2, 0, 2, 1, 1, 1),  # leads 1, 2
                2: (3, 3, 1, 1, 1, 0, 0, 0),  # leads 3, 4, 10
                None: (2, 0, 1, 0, 1, 1, 0, 1),  # no campaign: created 5, 8; lead 6; lead 7's order 13
                "total": PERIOD_TOTAL,
            },
        ),
    ],
)
def test_period_breakdown_counts_the_events_of_each_group(tiny: Database, march: Scope, by, expected) -> None:
    frame = funnel.breakdown(tiny, march, by)
    assert counts(frame) == expected
    assert list(frame["is_total"]) == [False] * (len(expected) - 1) + [
        True
    ]  # groups in key order, total last


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        (
            "region",
            {
                1: (4, 2, 2, 0, 2, 1, 1, 1),  # cohort leads 1, 2, 5, 8
                2: (3, 3, 1, 1, 1, 0, 0, 0),  # cohort leads 3, 4, 10
                3: (0, 0, 0, 0, 0, 0, 0, 0),  # no March lead in the south, listed all the same
                "total": COHORT_TOTAL,
            },
        ),
        ("category", {1: (3, 2, 2, 0, 2, 1, 1, 1), 2: (4, 3, 1, 1, 1, 0, 0, 0), "total": COHORT_TOTAL}),
        (
            "source",
            {
                "ad": (2, 2, 2, 0, 2, 1, 1, 1),
                "event": (3, 3, 1, 1, 1, 0, 0, 0),
                "website": (2, 0, 0, 0, 0, 0, 0, 0),
                "total": COHORT_TOTAL,
            },
        ),
        (
            "campaign",
            {
                1: (2, 2, 2, 0, 2, 1, 1, 1),
                2: (3, 3, 1, 1, 1, 0, 0, 0),
                None: (2, 0, 0, 0, 0, 0, 0, 0),  # leads 5 and 8
                "total": COHORT_TOTAL,
            },
        ),
    ],
)
def test_cohort_breakdown_follows_each_groups_leads(tiny: Database, march: Scope, by, expected) -> None:
    assert counts(funnel.breakdown(tiny, march, by, True, APRIL_1)) == expected


def test_breakdown_names_and_conversions(tiny: Database, march: Scope) -> None:
    regions = funnel.breakdown(tiny, march, "region")
    north, east, south, total = (row(regions, k) for k in (1, 2, 3, "total"))
    assert (north["name_zh"], north["name_en"]) == ("华北", "North China")
    assert is_none(total["name_zh"]) and is_none(total["key"])
    # mql_rate = mql/lead, sal_rate = sal/mql, opportunity_rate = opportunity/sal, win_rate =
    # won/opportunity, lead_to_won = won/lead; closed_win_rate = won/(won + lost), the KPI's win rate
    assert [
        north[c] for c in ("mql_rate", "sal_rate", "opportunity_rate", "win_rate", "lead_to_won")
    ] == approx([2 / 4, 2 / 2, 2 / 2, 1 / 2, 1 / 4])
    assert [
        east[c] for c in ("mql_rate", "sal_rate", "opportunity_rate", "win_rate", "lead_to_won")
    ] == approx([3 / 3, 1 / 3, 1 / 1, 0 / 1, 0 / 3])
    assert is_none(east["closed_win_rate"])  # nothing closed in the east
    assert is_none(south["mql_rate"]) and is_none(south["sal_rate"]) and is_none(south["lead_to_won"])
    assert (south["opportunity_rate"], south["win_rate"]) == (1.0, 1.0)
    assert [
        total[c] for c in ("mql_rate", "sal_rate", "opportunity_rate", "win_rate", "lead_to_won")
    ] == approx([5 / 7, 4 / 5, 4 / 4, 2 / 4, 2 / 7])
    assert total["closed_win_rate"] == approx(2 / 3)  # the overview's win rate

    sources = funnel.breakdown(tiny, march, "source")
    assert (row(sources, "ad")["name_zh"], row(sources, "ad")["name_en"]) == ("ad", "ad")  # codes

    campaigns = funnel.breakdown(tiny, march, "campaign")
    assert row(campaigns, 1)["name_en"] == "Spring beverages ads"
    assert row(campaigns, 2)["name_zh"] == "华东零食品鉴会"
    assert is_none(row(campaigns, None)["name_en"])  # "no campaign": the page names it


def test_campaign_breakdown_lists_campaigns_running_without_leads(tiny: Database) -> None:
    april = Scope(dt.date(2026, 4, 1), dt.date(2026, 5, 1))
    # Campaign 1 runs to 31 May but brought no lead in April; campaign 2 ended on 31 March. The only
    # April events: lead 9 created (no campaign) and lead 6's order 12 settled on 10 April.
    assert counts(funnel.breakdown(tiny, april, "campaign")) == {
        1: (0, 0, 0, 0, 0, 0, 0, 0),
        None: (1, 0, 0, 0, 0, 0, 0, 1),
        "total": (1, 0, 0, 0, 0, 0, 0, 1),
    }


# -- the handoff ---------------------------------------------------------------------------------------
def test_handoff_by_region_and_total(tiny: Database, march: Scope) -> None:
    frame = funnel.handoff(tiny, march, APRIL_1, 48).set_index("region_id")
    assert list(frame.index) == [1, 2, 3, 0]  # total last
    total = frame.loc[0]
    # Accepted in March after 12 h (lead 1), 48 h (2), 24 h (4), 96 h (6); rejected after 24 h (3).
    assert (total["accepted"], total["rejected"]) == (4, 1)
    assert total["accept_rate"] == approx(4 / 5)
    assert total["median_hours"] == approx(36.0)  # (24 + 48) / 2
    assert total["median_hours"] == approx(kpis.totals(tiny, march)["accept_hours"])
    assert total["p90_hours"] == approx(81.6)  # 12, 24, 48, 96: position 0.9 * 3 = 2.7 -> 48 + 0.7 * 48
    assert total["decided_within_target"] == approx(4 / 5)  # 12, 48, 24 and the 24 h rejection; not 96
    # Waiting at 1 April 00:00: lead 10 only, MQL since 21 March 00:00 -> 11 days = 264 h > 48 h.
    assert (total["waiting"], total["waiting_overdue"], total["oldest_waiting_hours"]) == (
        1,
        1,
        approx(264.0),
    )

    north, east, south = frame.loc[1], frame.loc[2], frame.loc[3]
    assert (north["accepted"], north["rejected"], north["accept_rate"]) == (2, 0, 1.0)
    assert north["median_hours"] == approx(30.0)  # 12 and 48
    assert north["p90_hours"] == approx(44.4)  # 12 + 0.9 * 36
    assert north["decided_within_target"] == approx(1.0)
    assert (north["waiting"], north["waiting_overdue"]) == (0, 0) and is_none(north["oldest_waiting_hours"])
    assert (east["accepted"], east["rejected"], east["accept_rate"]) == (1, 1, 0.5)
    assert (east["median_hours"], east["p90_hours"]) == (approx(24.0), approx(24.0))
    assert east["decided_within_target"] == approx(1.0)  # 24 h and 24 h
    assert (east["waiting"], east["waiting_overdue"], east["oldest_waiting_hours"]) == (1, 1, approx(264.0))
    assert (south["accepted"], south["median_hours"], south["p90_hours"]) == (1, approx(96.0), approx(96.0))
    assert south["decided_within_target"] == approx(0.0)  # 96 h > 48 h
    assert south["name_en"] == "South China"


def test_handoff_target_decides_within_target_and_overdue(tiny: Database, march: Scope) -> None:
    tight = funnel.handoff(tiny, march, APRIL_1, 24).set_index("region_id").loc[0]
    assert tight["decided_within_target"] == approx(3 / 5)  # 12, 24 and the 24 h rejection (24 <= 24)
    assert tight["waiting_overdue"] == 1
    loose = funnel.handoff(tiny, march, APRIL_1, 300).set_index("region_id").loc[0]
    assert loose["decided_within_target"] == approx(1.0)
    assert (loose["waiting"], loose["waiting_overdue"]) == (1, 0)  # 264 h < 300 h


def test_waiting_mqls_oldest_first(tiny: Database, march: Scope) -> None:
    frame = funnel.waiting_mqls(tiny, march, APRIL_1, 48)
    assert list(frame.columns) == [
        "lead_id",
        "region_id",
        "category_id",
        "source",
        "campaign_id",
        "mql_at",
        "age_hours",
        "overdue",
    ]
    assert frame.to_dict("records") == [
        {
            "lead_id": 10,
            "region_id": 2,
            "category_id": 2,
            "source": "event",
            "campaign_id": 2,
            "mql_at": pd.Timestamp("2026-03-21 00:00"),
            "age_hours": approx(264.0),
            "overdue": True,
        }
    ]
    # At 8 March 05:00, lead 2 (MQL 6 March 10:00, accepted 8 March 10:00) has waited 43 h and lead 3
    # (MQL 8 March 00:00, rejected 9 March) 5 h; with a 24 h target only lead 2 is overdue.
    early = funnel.waiting_mqls(tiny, march, dt.datetime(2026, 3, 8, 5), 24)
    assert list(early["lead_id"]) == [2, 3]
    assert list(early["age_hours"]) == approx([43.0, 5.0])
    assert list(early["overdue"]) == [True, False]
    assert list(funnel.waiting_mqls(tiny, march, dt.datetime(2026, 3, 8, 5), 24, limit=1)["lead_id"]) == [2]
    handoff = funnel.handoff(tiny, march, dt.datetime(2026, 3, 8, 5), 24).set_index("region_id")
    assert (handoff.loc[0, "waiting"], handoff.loc[0, "waiting_overdue"]) == (2, 1)
    assert handoff.loc[0, "oldest_waiting_hours"] == approx(43.0)
    assert (handoff.loc[1, "waiting"], handoff.loc[2, "waiting"], handoff.loc[3, "waiting"]) == (1, 1, 0)


def test_rejections_by_region_and_reason(tiny: Database, march: Scope) -> None:
    frame = funnel.rejections(tiny, march)
    assert frame.to_dict("records") == [{"region_id": 2, "reject_reason": "not_a_fit", "count": 1}]  # lead 3


# -- time in stage and the trend -----------------------------------------------------------------------
def test_time_in_stage_medians_in_days(tiny: Database, march: Scope) -> None:
    frame = funnel.time_in_stage(tiny, march).set_index("region_id")
    assert list(frame.index) == [1, 2, 3, 0]
    steps = ["lead_to_mql", "mql_to_decision", "sal_to_opportunity", "opportunity_to_close", "lead_to_won"]
    # lead -> MQL, qualified in March: 1 and 2 after 24 h; 3, 4 and 10 after 14 h (10:00 to midnight).
    # MQL -> decision, decided in March: 12 h (1), 48 h (2), 24 h (4), 96 h (6), 24 h rejection (3).
    # SAL -> opportunity, opened in March: 6 d 13 h (1), 4 d (2), 8 d (4), 4 d (6).
    # opportunity -> close, closed in March: 10 d (1, won), 16 d (2, lost), 10 d (6, won).
    # lead -> won, won in March: 18 d 1 h (1: 2 March 09:00 to 20 March 10:00) and 22 d 14 h
    # (6: 20 February 10:00 to 15 March 00:00; February 2026 has 28 days).
    one_13h, one_1h, six_14h = 6 + 13 / 24, 18 + 1 / 24, 22 + 14 / 24
    assert list(frame.loc[0, steps]) == approx(
        [14 / 24, 1.0, (4 + one_13h) / 2, 10.0, (one_1h + six_14h) / 2]
    )
    assert list(frame.loc[1, steps]) == approx([1.0, (0.5 + 2) / 2, (4 + one_13h) / 2, (10 + 16) / 2, one_1h])
    east = frame.loc[2]
    assert list(east[steps[:3]]) == approx([14 / 24, 1.0, 8.0])
    assert is_none(east["opportunity_to_close"]) and is_none(east["lead_to_won"])
    south = frame.loc[3]
    assert is_none(south["lead_to_mql"])  # lead 6 qualified in February
    assert list(south[steps[1:]]) == approx([4.0, 4.0, 10.0, six_14h])


def test_conversion_trend_by_month(tiny: Database, march: Scope) -> None:
    frame = funnel.conversion_trend(tiny, march)
    assert len(frame) == 12  # April 2025 to March 2026
    assert str(frame["month"].iloc[0].date()) == "2025-04-01"
    months = frame.set_index(frame["month"].dt.strftime("%Y-%m"))
    counted = ["leads", "mql", "sal", "rejected", "opportunity", "won", "lost"]
    rates = ["mql_rate", "sal_rate", "opportunity_rate", "win_rate"]
    march_row = months.loc["2026-03"]
    assert list(march_row[counted]) == [7, 5, 4, 1, 4, 2, 1]
    assert list(march_row[rates]) == approx([5 / 7, 4 / 5, 4 / 4, 2 / 3])  # win rate: won / (won + lost)
    # February: lead 6 created; MQLs 6 (25th) and 7 (1st); lead 7 accepted, opened and won.
    february = months.loc["2026-02"]
    assert list(february[counted]) == [1, 2, 1, 0, 1, 1, 0]
    assert list(february[rates]) == approx([2 / 1, 1 / 2, 1 / 1, 1 / 1])
    june = months.loc["2025-06"]  # a month without any event
    assert list(june[counted]) == [0] * 7
    assert all(is_none(june[r]) for r in rates)


# -- the leads behind a stage --------------------------------------------------------------------------
def test_stage_leads_in_both_views(tiny: Database, march: Scope) -> None:
    frame = funnel.stage_leads(tiny, march, "sal", False, APRIL_1)
    assert list(frame.columns) == [
        "lead_id",
        "region_id",
        "category_id",
        "source",
        "campaign_id",
        "created_at",
        "mql_at",
        "sal_at",
        "rejected_at",
        "reject_reason",
        "opportunity_at",
        "closed_at",
        "outcome",
        "lost_reason",
        "value",
    ]
    assert list(frame["lead_id"]) == [1, 2, 4, 6]  # accepted in March
    assert list(funnel.stage_leads(tiny, march, "sal", True, APRIL_1)["lead_id"]) == [
        1,
        2,
        4,
    ]  # of the cohort
    leads = {
        # stage: (period view, cohort view)
        "lead": ([1, 2, 3, 4, 5, 8, 10], [1, 2, 3, 4, 5, 8, 10]),
        "mql": ([1, 2, 3, 4, 10], [1, 2, 3, 4, 10]),
        "opportunity": ([1, 2, 4, 6], [1, 2, 4]),
        "won": ([1, 6], [1]),
        "collected": ([1, 7], [1]),  # orders 11 and 13 settled in March; of the cohort only lead 1
        "rejected": ([3], [3]),
        "lost": ([2], [2]),
    }
    for stage, (period, cohort) in leads.items():
        assert list(funnel.stage_leads(tiny, march, stage, False, APRIL_1)["lead_id"]) == period, stage
        assert list(funnel.stage_leads(tiny, march, stage, True, APRIL_1)["lead_id"]) == cohort, stage
    assert list(funnel.stage_leads(tiny, march, "lead", False, APRIL_1, limit=2)["lead_id"]) == [1, 2]
    lost = funnel.stage_leads(tiny, march, "lost", False, APRIL_1).iloc[0]
    assert (lost["outcome"], lost["lost_reason"], float(lost["value"])) == ("lost", "price", 7000.0)


# -- empty scopes, restricted scopes, refusals ---------------------------------------------------------
def test_an_empty_period_gives_zeros_and_no_ratios(tiny: Database) -> None:
    as_of = dt.datetime(2020, 2, 1)
    period = funnel.period_funnel(tiny, EMPTY)
    assert list(period["count"]) == [0] * 8
    assert list(period["conversion"]) == [None] * 8
    assert list(period["drop"]) == [None] + [0] * 7
    cohort = funnel.cohort_funnel(tiny, EMPTY, as_of)
    assert list(cohort["count"]) == [0] * 6 and list(cohort["conversion"]) == [None] * 6
    for by in funnel.BREAKDOWNS:
        for view in (False, True):
            total = row(funnel.breakdown(tiny, EMPTY, by, view, as_of), "total")
            assert [total[c] for c in COUNTS] == [0] * 8
            assert all(is_none(total[r]) for r in ("mql_rate", "sal_rate", "win_rate", "lead_to_won"))
    handoff = funnel.handoff(tiny, EMPTY, as_of, 48).set_index("region_id").loc[0]
    assert (handoff["accepted"], handoff["rejected"], handoff["waiting"]) == (0, 0, 0)
    for name in ("accept_rate", "median_hours", "p90_hours", "decided_within_target", "oldest_waiting_hours"):
        assert is_none(handoff[name]), name
    assert funnel.waiting_mqls(tiny, EMPTY, as_of, 48).empty
    assert funnel.rejections(tiny, EMPTY).empty
    times = funnel.time_in_stage(tiny, EMPTY)
    assert times.drop(columns=["region_id", "name_zh", "name_en"]).isna().all().all()
    trend = funnel.conversion_trend(tiny, EMPTY)
    assert len(trend) == 12 and trend["leads"].sum() == 0 and trend["win_rate"].isna().all()
    assert funnel.stage_leads(tiny, EMPTY, "won", True, as_of).empty
    report = funnel.report(tiny, EMPTY, by="campaign", cohort=True, as_of=as_of, target_hours=48)
    assert report["handoff"]["median_hours"] is None and report["funnel"][1]["conversion"] is None


def test_a_category_filter_with_nothing_in_it(tiny: Database) -> None:
    snacks_in_april = Scope(dt.date(2026, 4, 1), dt.date(2026, 5, 1), categories=(2,))
    # April's only events are beverages (ad 5, lead 9, order 12); campaign 1 is a beverages campaign.
    assert list(funnel.period_funnel(tiny, snacks_in_april)["count"]) == [0] * 8
    assert counts(funnel.breakdown(tiny, snacks_in_april, "campaign")) == {"total": (0,) * 8}


def test_a_user_limited_to_north_and_east(tiny: Database, march: Scope) -> None:
    # Everything of the south (region 3) drops out: lead 6's acceptance, opportunity and win.
    period = funnel.period_funnel(tiny, NORTH_EAST)
    assert list(period["count"]) == [1500, 210, 7, 5, 3, 3, 1, 2]  # SAL 1, 2, 4; won 1; orders 11, 13
    assert list(period["count"]) != list(funnel.period_funnel(tiny, march)["count"])
    assert list(period["conversion"])[4:] == approx([3 / 5, 3 / 3, 1 / 3, 2 / 1])
    # The cohort has no southern lead, so it is the same as for every region.
    assert list(funnel.cohort_funnel(tiny, NORTH_EAST, APRIL_1)["count"]) == [7, 5, 3, 3, 1, 1]

    handoff = funnel.handoff(tiny, NORTH_EAST, APRIL_1, 48).set_index("region_id")
    assert list(handoff.index) == [1, 2, 0]  # no row for the south
    total = handoff.loc[0]
    assert (total["accepted"], total["rejected"], total["accept_rate"]) == (3, 1, approx(3 / 4))
    assert total["median_hours"] == approx(24.0)  # 12, 24, 48 (South's 96 h is out); all regions: 36
    assert total["p90_hours"] == approx(43.2)  # position 0.9 * 2 = 1.8 -> 24 + 0.8 * 24
    assert total["decided_within_target"] == approx(1.0)  # 12, 48, 24, 24; all regions: 4/5
    assert total["waiting"] == 1

    times = funnel.time_in_stage(tiny, NORTH_EAST).set_index("region_id").loc[0]
    assert times["sal_to_opportunity"] == approx(6 + 13 / 24)  # median of 4, 6 d 13 h, 8; all: 5.27
    assert times["opportunity_to_close"] == approx(13.0)  # 10 and 16; all regions: 10
    assert times["lead_to_won"] == approx(18 + 1 / 24)  # lead 1 only

    assert counts(funnel.breakdown(tiny, NORTH_EAST, "source")) == {
        "ad": (2, 2, 2, 0, 2, 1, 1, 1),
        "event": (3, 3, 1, 1, 1, 0, 0, 0),
        "trade_show": (0, 0, 0, 0, 0, 0, 0, 1),  # lead 7 is in the east
        "website": (2, 0, 0, 0, 0, 0, 0, 0),
        "total": (7, 5, 3, 1, 3, 1, 1, 2),  # no referral: lead 6 is in the south
    }
    trend = funnel.conversion_trend(tiny, NORTH_EAST).set_index("month")
    march_row = trend.loc[pd.Timestamp("2026-03-01")]
    assert list(march_row[["sal", "won", "lost"]]) == [3, 1, 1]
    assert march_row["win_rate"] == approx(1 / 2)  # all regions: 2/3
    assert list(funnel.stage_leads(tiny, NORTH_EAST, "sal", False, APRIL_1)["lead_id"]) == [1, 2, 4]
    assert list(funnel.waiting_mqls(tiny, NORTH_EAST, APRIL_1, 48)["lead_id"]) == [10]
    assert funnel.rejections(tiny, NORTH_EAST)["count"].tolist() == [1]


def test_a_region_choice_within_the_users_regions(tiny: Database) -> None:
    south = Scope(*MARCH, regions=(3,))
    assert list(funnel.period_funnel(tiny, south)["count"])[2:] == [0, 0, 1, 1, 1, 0]  # lead 6
    assert list(funnel.cohort_funnel(tiny, south, APRIL_1)["count"]) == [0] * 6


@pytest.mark.parametrize("by", ["person", "Region", "region_id", "region; DROP TABLE leads", ""])
def test_an_unknown_breakdown_is_refused(tiny: Database, march: Scope, by: str) -> None:
    with pytest.raises(ValueError, match="cannot break the funnel down"):
        funnel.breakdown(tiny, march, by)
    with pytest.raises(ValueError, match="cannot break the funnel down"):
        funnel.report(tiny, march, by=by, as_of=APRIL_1, target_hours=48)


@pytest.mark.parametrize("stage", ["reach", "engaged", "signed", "sal' OR 1=1 --"])
def test_an_unknown_stage_is_refused(tiny: Database, march: Scope, stage: str) -> None:
    with pytest.raises(ValueError, match="no lead list for stage"):
        funnel.stage_leads(tiny, march, stage, False, APRIL_1)


def test_the_cohort_view_needs_as_of(tiny: Database, march: Scope) -> None:
    with pytest.raises(ValueError, match="as_of"):
        funnel.breakdown(tiny, march, "region", True)
    with pytest.raises(ValueError, match="as_of"):
        funnel.stage_leads(tiny, march, "won", True)


def test_report_has_the_documented_shape(tiny: Database, march: Scope) -> None:
    report = funnel.report(tiny, march, as_of=APRIL_1, target_hours=48)
    assert set(report) == {"period", "view", "as_of", "funnel", "handoff", "time_in_stage"}
    assert report["period"] == {"from": "2026-03-01", "to": "2026-04-01", "days": 31}
    assert (report["view"], report["as_of"]) == ("period", "2026-04-01T00:00:00")
    assert report["funnel"][4] == {
        "stage": "sal",
        "track": "sales",
        "count": 4,
        "conversion": approx(0.8),
        "drop": 1,
        "leak_owner": "handoff",
    }
    assert isinstance(report["funnel"][4]["count"], int) and isinstance(report["funnel"][4]["drop"], int)
    assert report["handoff"]["target_hours"] == 48.0
    assert report["handoff"]["median_hours"] == approx(36.0)
    assert isinstance(report["handoff"]["accepted"], int)
    assert report["time_in_stage"]["opportunity_to_close"] == approx(10.0)
    cohort = funnel.report(tiny, march, by="region", cohort=True, as_of=APRIL_1, target_hours=48)
    assert set(cohort) == {
        "period",
        "view",
        "as_of",
        "funnel",
        "outcomes",
        "breakdown",
        "handoff",
        "time_in_stage",
    }
    assert cohort["outcomes"] == {"rejected": 1, "lost": 1}
    assert cohort["breakdown"]["by"] == "region"
    assert [r["key"] for r in cohort["breakdown"]["rows"]] == [1, 2, 3, None]
    assert cohort["breakdown"]["rows"][2]["mql_rate"] is None  # NaN becomes null


# -- the views agree with each other on demo data ------------------------------------------------------
@pytest.fixture(scope="module")
def demo_db() -> Iterator[Database]:
    """A small demo database: not hand-checked, so only for checks of one number against another."""
    from mktsales import demo

    with Database(":memory:") as db:
        demo.build_demo(db, seed=7, as_of=dt.date(2026, 6, 30), activities=5_000)
        yield db


@pytest.mark.parametrize(
    "scope",
    [
        Scope(dt.date(2025, 7, 1), dt.date(2026, 7, 1)),
        Scope(dt.date(2026, 2, 1), dt.date(2026, 5, 1), categories=(2, 3), allowed_regions=(1, 2)),
    ],
)
def test_breakdowns_lists_and_the_overview_agree(demo_db: Database, scope: Scope) -> None:
    as_of = dt.datetime(2026, 7, 1)
    overview = kpis.totals(demo_db, scope)
    period_funnel = funnel.period_funnel(demo_db, scope).set_index("stage")["count"]
    totals: dict[bool, dict[str, int]] = {}
    for cohort in (False, True):
        seen = set()
        for by in funnel.BREAKDOWNS:
            frame = funnel.breakdown(demo_db, scope, by, cohort, as_of)
            groups, total = frame.loc[~frame["is_total"]], row(frame, "total")
            assert [int(groups[c].sum()) for c in COUNTS] == [int(total[c]) for c in COUNTS], (by, cohort)
            seen.add(tuple(int(total[c]) for c in COUNTS))
        assert len(seen) == 1, seen  # every dimension adds up to the same total
        totals[cohort] = dict(zip(COUNTS, seen.pop(), strict=True))
        for stage, count in totals[cohort].items():
            assert len(funnel.stage_leads(demo_db, scope, stage, cohort, as_of)) == count, (stage, cohort)
    period, cohort = totals[False], totals[True]
    assert [period[s] for s in funnel.LEAD_STAGES] == [int(period_funnel[s]) for s in funnel.LEAD_STAGES]
    assert period["lost"] == overview["lost_deals"]
    assert cohort["lead"] == period["lead"] and cohort["sal"] > 0  # enough data to mean something
    handoff = funnel.handoff(demo_db, scope, as_of, 48).set_index("region_id").loc[0]
    assert handoff["median_hours"] == approx(overview["accept_hours"])
    assert (handoff["accepted"], handoff["rejected"]) == (overview["sal"], period["rejected"])
    assert handoff["waiting"] == len(funnel.waiting_mqls(demo_db, scope, as_of, 48, limit=None))
