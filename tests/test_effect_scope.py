"""A promotion's effect as a user limited to some regions sees it (issue 23): only their regions'
own figures, the comparable regions only as a combined ratio of at least two of them, never another
region's series or total; the executive's effect is what it always was.

Five regions, 2025 (away from tiny.sql's 2026 rows); every order is 10 cases of green tea, ¥100.
Baseline 1-28 May, window 29 May - 4 June (7 days). Promotion 50 runs in north and east:

    orders a day     baseline  window
    north (1)              10      15    promoted; the north user's region
    east (2)               20      34    promoted
    south (3)               6       8    comparable
    west (4)               14      17    comparable
    central (5)             4       5    comparable: south + west + central 24 -> 30, x 1.25

The counts are chosen so that no figure of a region north may not see equals one of north's own.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mktsales import accounts, effect
from mktsales.cli import main
from mktsales.db import Database
from mktsales.i18n import t
from mktsales.scope import Scope
from tests.conftest import TESTER, load_tiny, write_sql

NORTH, EAST, SOUTH, WEST, CENTRAL = 1, 2, 3, 4, 5
END_OF_2025 = dt.date(2025, 12, 31)
WINDOW = (dt.date(2025, 5, 29), dt.date(2025, 6, 4))
ORDERS = """
INSERT INTO regions VALUES (4, 'west', '西部', 'West China'), (5, 'central', '华中', 'Central China');
INSERT INTO customers VALUES (4, '西部客户', 'supermarket', 4, 5, 30),
    (5, '华中客户', 'supermarket', 5, 5, 30);
INSERT INTO orders (order_id, order_date, customer_id, product_id, region_id, category_id, quantity, amount)
SELECT 1000 + row_number() OVER (ORDER BY d, c.region_id, j), d, c.customer_id, 1, c.region_id, 1, 10, 100.00
FROM (SELECT DATE '2025-05-01' + CAST(i AS INTEGER) AS d, i FROM range(35) t(i)) days
JOIN (VALUES (1, 10, 15), (2, 20, 34), (3, 6, 8), (4, 14, 17), (5, 4, 5)) n(region_id, before, during) ON true
JOIN customers c ON c.region_id = n.region_id
JOIN range(40) k(j) ON j < CASE WHEN i < 28 THEN before ELSE during END;
INSERT INTO promotions VALUES (50, '华北华东饮料', 'North & East beverages', 'tactical', 'marketing',
    'finished', 1, DATE '2025-05-29', DATE '2025-06-04', 900, 1, NULL, NULL);
INSERT INTO promotion_regions VALUES (50, 1), (50, 2);
"""


@pytest.fixture
def five(tiny: Database) -> Database:
    write_sql(tiny, ORDERS)
    return tiny


def region_sum(db: Database, regions: list[int], first: dt.date, last: dt.date) -> float:
    """Revenue of ``regions`` over [first, last], straight from the orders."""
    return float(
        db.scalar(
            "SELECT coalesce(sum(amount), 0) FROM orders WHERE list_contains(?, region_id)"
            " AND order_date BETWEEN ? AND ?",
            [regions, first, last],
        )
    )


def numbers(value: Any) -> set[float]:
    """Every number anywhere in a result (dicts, lists), rounded to the cent."""
    if isinstance(value, dict):
        return set().union(*(numbers(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(numbers(v) for v in value)) if value else set()
    if isinstance(value, bool) or not isinstance(value, int | float):
        return set()
    return {round(float(value), 2)}


def test_the_executive_measures_both_promoted_regions_against_every_comparable_one(five: Database) -> None:
    found = effect.effect(five, 50, as_of=END_OF_2025)
    assert (found["treated_regions"], found["control_regions"]) == ([NORTH, EAST], [SOUTH, WEST, CENTRAL])
    # north + east 30 -> 49 a day, the comparable regions x 1.25: (49 / 30) / 1.25 - 1
    assert found["uplift"] == pytest.approx(49 / 30 / 1.25 - 1)
    assert found["revenue"] == region_sum(five, [NORTH, EAST], *WINDOW) == 49 * 7 * 100
    assert {row["group"] for row in found["series"]} == {"treated", "control", "expected"}
    assert "partial_scope" not in found["notes"] and "n_control" not in found


def test_a_north_user_sees_north_measured_against_the_regions_they_cannot_see(five: Database) -> None:
    executive = effect.effect(five, 50, as_of=END_OF_2025)
    north = effect.effect(five, 50, as_of=END_OF_2025, allowed_regions=(NORTH,))
    assert north["method"] == "did"
    assert (north["treated_regions"], north["control_regions"], north["n_control"]) == ([NORTH], [], 3)
    assert north["notes"] == ["partial_scope"]
    # north alone: (15 / 10) / 1.25 - 1 = 0.2; ¥100 x (15 - 10 x 1.25) x 7 = ¥1,750 more
    assert north["uplift"] == pytest.approx(0.2)
    assert north["order_uplift"] == pytest.approx(0.2)
    assert north["incremental_revenue"] == pytest.approx(1750)
    assert north["incremental_gross_profit"] == pytest.approx(700)
    # its revenue is north's own, summed independently; north + east's is the executive's
    assert north["revenue"] == region_sum(five, [NORTH], *WINDOW) == 10_500
    assert north["revenue"] + region_sum(five, [EAST], *WINDOW) == executive["revenue"]
    assert north["baseline_daily_revenue"] == 1000
    # no ROI: the ¥900 budget also paid for east, which north cannot see
    assert (north["roi"], north["roi_low"], north["roi_high"], north["cost"]) == (None, None, None, 900)
    # the chart: north's own days only, each the orders' own sum
    series = pd.DataFrame(north["series"])
    assert set(series["group"]) == {"treated"} and len(series) == 35
    daily = dict(
        five.rows(
            "SELECT strftime(order_date, '%Y-%m-%d'), sum(amount) FROM orders WHERE region_id = 1"
            " AND order_date BETWEEN '2025-05-01' AND '2025-06-04' GROUP BY ALL"
        )
    )
    assert {r["day"]: r["revenue"] for r in north["series"]} == {d: float(v) for d, v in daily.items()}
    # the same keys as the executive's plus the count of comparable regions
    assert set(north) == set(executive) | {"n_control"}


def test_nothing_a_north_user_sees_is_another_regions_figure(five: Database) -> None:
    north = effect.effect(five, 50, as_of=END_OF_2025, allowed_regions=(NORTH,))
    seen = numbers(north)
    hidden = set()  # revenue (and, at ¥100 an order, orders) of every group north may not see
    for regions in ([EAST], [NORTH, EAST], [SOUTH, WEST, CENTRAL], [SOUTH], [WEST], [CENTRAL]):
        window = region_sum(five, regions, *WINDOW)
        baseline = region_sum(five, regions, dt.date(2025, 5, 1), dt.date(2025, 5, 28))
        hidden |= {window, baseline, window / 7, baseline / 28}  # totals and daily revenue
    hidden |= {h / 100 for h in hidden}  # the same as orders
    assert hidden >= {3400, 23_800, 49 * 7 * 100, 3000, 2400, 67_200}  # east's, north + east's, control's
    assert not seen & {round(h, 2) for h in hidden}


def test_what_a_north_user_sees_does_not_move_when_the_other_regions_sales_double(five: Database) -> None:
    before = effect.effect(five, 50, as_of=END_OF_2025, allowed_regions=(NORTH,))
    executive = effect.effect(five, 50, as_of=END_OF_2025)
    write_sql(  # every order outside the north twice over
        five,
        "INSERT INTO orders SELECT * REPLACE (order_id + 100000 AS order_id) FROM orders"
        " WHERE region_id <> 1 AND order_date BETWEEN '2025-05-01' AND '2025-06-04'",
    )
    assert effect.effect(five, 50, as_of=END_OF_2025, allowed_regions=(NORTH,)) == before
    assert effect.effect(five, 50, as_of=END_OF_2025)["revenue"] != executive["revenue"]


def test_a_region_the_user_sees_is_left_out_of_the_control_and_one_hidden_region_is_too_few(
    five: Database,
) -> None:
    # north and south: the control is west and central, 18 -> 22 a day
    two = effect.effect(five, 50, as_of=END_OF_2025, allowed_regions=(NORTH, SOUTH))
    assert (two["method"], two["n_control"], two["notes"]) == ("did", 2, ["partial_scope"])
    assert two["uplift"] == pytest.approx(1.5 / (22 / 18) - 1)
    # north, south and west: central alone would be one region's own growth: before/after instead
    one = effect.effect(five, 50, as_of=END_OF_2025, allowed_regions=(NORTH, SOUTH, WEST))
    assert (one["method"], one["n_control"], one["notes"]) == (
        "before_after",
        0,
        ["partial_scope", "few_control"],
    )
    assert one["uplift"] == pytest.approx(0.5)  # 15 / 10 - 1
    assert {row["group"] for row in one["series"]} == {"treated"}


def test_a_promotion_wholly_in_the_users_regions_keeps_its_roi(five: Database) -> None:
    write_sql(five, "DELETE FROM promotion_regions WHERE promotion_id = 50 AND region_id = 2")
    executive = effect.effect(five, 50, as_of=END_OF_2025)
    north = effect.effect(five, 50, as_of=END_OF_2025, allowed_regions=(NORTH,))
    # east is comparable now, and hidden from the north: the same control, the same numbers
    assert executive["control_regions"] == [EAST, SOUTH, WEST, CENTRAL] and north["n_control"] == 4
    for name in ("uplift", "uplift_low", "uplift_high", "incremental_revenue", "roi", "roi_low", "roi_high"):
        assert north[name] == pytest.approx(executive[name])
    assert north["roi"] is not None
    assert north["series"] == [row for row in executive["series"] if row["group"] == "treated"]


def test_a_promotion_outside_the_users_regions_is_not_found(five: Database) -> None:
    with pytest.raises(LookupError, match="no promotion 50"):
        effect.effect(five, 50, as_of=END_OF_2025, allowed_regions=(SOUTH,))


def test_the_effects_list_of_a_limited_user_is_theirs_only(five: Database) -> None:
    may_june = Scope(dt.date(2025, 5, 1), dt.date(2025, 7, 1), allowed_regions=(NORTH,))
    row = effect.effects(five, may_june, as_of=END_OF_2025).set_index("promotion_id").loc[50]
    assert row["revenue"] == 10_500 and row["uplift"] == pytest.approx(0.2)
    assert (row["n_control"], row["notes"], row["roi"]) == (3, ["partial_scope"], None)
    everyone = effect.effects(five, Scope(dt.date(2025, 5, 1), dt.date(2025, 7, 1)), as_of=END_OF_2025)
    assert everyone.set_index("promotion_id").loc[50, "revenue"] == 49 * 7 * 100


def test_the_partial_scope_notes_have_words_in_both_languages() -> None:
    for note in ("partial_scope", "few_control"):
        assert t(f"effect.note.{note}", "zh") and t(f"effect.note.{note}", "en")
        assert t(f"effect.short.{note}", "zh") and t(f"effect.short.{note}", "en")
    assert "您负责的区域" in t("effect.note.partial_scope", "zh")
    assert "your regions" in t("effect.note.partial_scope", "en")


def test_the_cli_as_a_north_user_prints_norths_effect_and_the_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    path = tmp_path / "five.duckdb"
    with Database(path) as db:
        load_tiny(db)
        write_sql(db, ORDERS)
        accounts.create_user(db, TESTER, "rep", "Rep", "sales_rep", regions=["north"])
    argv = ["promotion-effect", "--db", str(path), "--id", "50", "--as-of", "2025-12-31"]
    assert main([*argv, "--as-user", "rep", "--series", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["treated_regions"], printed["control_regions"], printed["n_control"]) == ([1], [], 3)
    assert (printed["revenue"], printed["notes"]) == (10_500, ["partial_scope"])
    assert {row["group"] for row in printed["series"]} == {"treated"}
    assert main([*argv, "--as-user", "rep"]) == 0
    out = capsys.readouterr().out
    assert "treated regions [1], comparable regions 3 outside your regions" in out
    assert f"note: {t('effect.note.partial_scope', 'en')}" in out
    assert main([*argv, "--json"]) == 0  # everything, as before
    assert json.loads(capsys.readouterr().out)["control_regions"] == [3, 4, 5]
