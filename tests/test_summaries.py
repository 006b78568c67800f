"""Summary tables (issue 9): filled from the base tables, kept current by every write, equal to a
recomputation after any sequence of entries, undos and corrections.

Hand numbers from tests/fixtures/tiny.sql (see its comments); "today" is Tuesday 31 March 2026.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import pytest

from bench import baselines
from mktsales import accounts, entries, kpis, summaries
from mktsales import db as db_module
from mktsales.access import User
from mktsales.db import Database
from mktsales.scope import Scope
from mktsales.vocabulary import LOST_REASONS, REJECT_REASONS
from tests.conftest import MARCH, TESTER, load_tiny, write_sql

T = dt.date(2026, 3, 31)
EQUAL = dict.fromkeys(summaries.DEPENDS, 0)


def test_the_tiny_fixture_summarised_by_hand(tiny: Database) -> None:
    assert summaries.differences(tiny) == EQUAL
    # March: leads created 1, 2, 3, 4, 5, 8, 10; MQLs 1, 2, 3, 4, 10; accepted 1, 2, 4, 6;
    # rejected 3; opportunities 1, 2, 4, 6; won 1, 6; lost 2
    assert tiny.rows(
        "SELECT sum(leads), sum(mql), sum(sal), sum(rejected), sum(opportunities), sum(won), sum(lost)"
        " FROM daily_leads WHERE day >= DATE '2026-03-01' AND day < DATE '2026-04-01'"
    ) == [(7, 5, 4, 1, 4, 2, 1)]
    # opportunities opened before April: 1 (5,000) + 2 (7,000) + 4 (8,000) + 6 (3,000) + 7 (4,000)
    # = 27,000; closed before April: 1, 2, 6, 7 = 19,000; open: lead 4's 8,000
    assert tiny.rows(
        "SELECT sum(pipeline_opened), sum(pipeline_closed) FROM daily_leads WHERE day < DATE '2026-04-01'"
    ) == [(Decimal("27000.00"), Decimal("19000.00"))]
    # 5 March, north, beverages: activity 1 only (marketing ad, reach 1,000, engaged 100, ¥500, advisor 2)
    assert tiny.rows(
        "SELECT activities, with_advisor, marketing, reach, engaged, spend FROM daily_activities"
        " WHERE day = DATE '2026-03-05' AND region_id = 1 AND category_id = 1"
    ) == [(1, 1, 1, 1000, 100, Decimal("500.00"))]
    # 15 March, north, beverages: the sales visit (activity 3): counted, with its advisor, no reach
    assert tiny.rows(
        "SELECT activities, with_advisor, marketing, reach, spend FROM daily_activities"
        " WHERE day = DATE '2026-03-15' AND region_id = 1"
    ) == [(1, 1, 0, 0, Decimal("0.00"))]
    # payments by their order's region and category: 2 April-dated, the rest before
    assert tiny.rows("SELECT count(*), sum(payments), sum(amount) FROM daily_payments") == [
        (9, 9, Decimal("14800.00"))  # 1,000 + 400 + 600 + 300 + 500 + 5,000 + 1,000 + 2,000 + 4,000
    ]
    assert tiny.rows(
        "SELECT region_id, category_id, amount FROM daily_payments WHERE day = DATE '2026-03-10'"
    ) == [(2, 1, Decimal("300.00"))]  # payment 4, on order 5 (east, beverages)
    # orders of won leads: 11 paid in full on 25 March; 12 paid 1,000 + 2,000 = 3,000 by 10 April;
    # 13 paid in full on 5 March
    assert tiny.rows(
        "SELECT order_id, lead_id, source, campaign_id, amount, payments, paid, last_paid, settled_on"
        " FROM lead_orders ORDER BY order_id"
    ) == [
        (
            11,
            1,
            "ad",
            1,
            Decimal("5000.00"),
            1,
            Decimal("5000.00"),
            dt.date(2026, 3, 25),
            dt.date(2026, 3, 25),
        ),
        (
            12,
            6,
            "referral",
            -1,
            Decimal("3000.00"),
            2,
            Decimal("3000.00"),
            dt.date(2026, 4, 10),
            dt.date(2026, 4, 10),
        ),
        (
            13,
            7,
            "trade_show",
            -1,
            Decimal("4000.00"),
            1,
            Decimal("4000.00"),
            dt.date(2026, 3, 5),
            dt.date(2026, 3, 5),
        ),
    ]


def test_a_write_that_does_not_keep_the_summaries_gets_them_rebuilt_in_its_transaction(
    tiny: Database,
) -> None:
    before = tiny.version()
    write_sql(tiny, "INSERT INTO orders VALUES (99, DATE '2026-03-10', 1, 1, 1, 1, 50, 500.00, 6, NULL, 2)")
    write_sql(tiny, "INSERT INTO payments VALUES (99, 99, DATE '2026-03-11', 500.00, 'cash')")
    assert tiny.version() == before + 2
    assert tiny.rows(
        "SELECT orders, amount FROM daily_orders WHERE day = DATE '2026-03-10' AND region_id = 1"
    ) == [(1, Decimal("500.00"))]
    # order 99 closes lead 6 (referral), fully paid on 11 March
    assert tiny.rows("SELECT paid, settled_on, source FROM lead_orders WHERE order_id = 99") == [
        (Decimal("500.00"), dt.date(2026, 3, 11), "referral")
    ]
    write_sql(tiny, "UPDATE leads SET campaign_id = 2 WHERE lead_id = 6")
    assert tiny.scalar("SELECT campaign_id FROM lead_orders WHERE order_id = 99") == 2
    assert summaries.differences(tiny) == EQUAL
    # March revenue: 1,000 + 1,000 + 200 + 5,000 + 3,000 (kpis) + order 99's 500
    assert kpis.totals(tiny, Scope(*MARCH))["revenue"] == 10_700.0


def test_rows_a_write_appends_are_seen_by_its_own_later_statements(tiny: Database) -> None:
    def work(tx):
        tx.append(
            "orders",
            {
                "order_id": 98,
                "order_date": T,
                "customer_id": 1,
                "product_id": 1,
                "region_id": 1,
                "category_id": 1,
                "quantity": 1,
                "amount": Decimal("10.00"),
            },
        )
        tx.audit("orders", 98, "create")
        return tx.execute("SELECT count(*) FROM orders WHERE order_id = 98").fetchone()[0]

    assert tiny.write(work, by=TESTER) == 1  # and, not maintained, the summaries rebuilt
    assert summaries.differences(tiny) == EQUAL


def test_an_upgraded_database_gets_its_summaries_filled_when_opened(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "old.duckdb"
    shipped = db_module.migrations()
    monkeypatch.setattr(db_module, "migrations", lambda: [m for m in shipped if m[0] < 7])
    with Database(path) as db:
        load_tiny(db)
        assert not db.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'daily_orders'")
    monkeypatch.setattr(db_module, "migrations", lambda: shipped)
    with Database(path) as db:
        assert not summaries.is_stale(db)
        assert db.scalar("SELECT count(*) FROM daily_orders") == 9  # tiny.sql's 9 orders, one per day
        assert summaries.differences(db) == EQUAL
        assert db.rows("SELECT actor, entity, action FROM audit_log WHERE entity = 'summaries'") == [
            ("system", "summaries", "rebuild")
        ]
        assert kpis.totals(db, Scope(*MARCH))["revenue"] == 10_200.0  # as test_kpis, by hand
    with Database(path) as db:  # filled once
        assert db.scalar("SELECT count(*) FROM audit_log WHERE entity = 'summaries'") == 1


def test_a_new_empty_database_has_nothing_to_fill() -> None:
    with Database(":memory:") as db:
        assert not summaries.is_stale(db)
        assert db.version() == 0
        assert db.scalar("SELECT count(*) FROM audit_log") == 0


# -- random sequences of entries, undos and corrections -------------------------------------------------
# Order 40 (¥1,000 of green tea for customer 1) closes won lead 1, still unpaid: payments on it move
# lead_orders. Leads 20-24 are north and east leads for the reps to move on.
EXTRA = """
INSERT INTO orders VALUES (40, DATE '2026-03-26', 1, 1, 1, 1, 100, 1000.00, 1, NULL, 2);
INSERT INTO leads (lead_id, region_id, category_id, source, owner_id, created_at, mql_at, sal_at,
                   opportunity_at, value, campaign_id) VALUES
    (20, 1, 1, 'website', 1, TIMESTAMP '2026-03-28 09:00', TIMESTAMP '2026-03-30 09:00',
        NULL, NULL, NULL, NULL),
    (21, 1, 2, 'referral', 2, TIMESTAMP '2026-03-20 09:00', TIMESTAMP '2026-03-21 09:00',
        TIMESTAMP '2026-03-22 09:00', NULL, NULL, NULL),
    (22, 1, 1, 'event', 2, TIMESTAMP '2026-03-01 09:00', TIMESTAMP '2026-03-02 09:00',
        TIMESTAMP '2026-03-03 09:00', TIMESTAMP '2026-03-25 09:00', 9000.00, 2),
    (23, 2, 2, 'event', 4, TIMESTAMP '2026-02-27 09:00', TIMESTAMP '2026-02-28 09:00', NULL, NULL, NULL, 2),
    (24, 2, 1, 'ad', 4, TIMESTAMP '2026-03-29 09:00', TIMESTAMP '2026-03-30 12:00', NULL, NULL, NULL, 1);
"""


@pytest.fixture
def busy(tiny: Database) -> Database:
    write_sql(tiny, EXTRA)
    accounts.create_user(tiny, TESTER, "rep", "Rep", "sales_rep", regions=["north"], person_id=2)
    accounts.create_user(tiny, TESTER, "duo", "Duo", "sales_head", regions=["north", "east"], person_id=4)
    return tiny


def _random_step(db: Database, rng: random.Random, who: User, now: dt.datetime) -> str:
    """One random entry, undo or correction by ``who``; returns what it tried."""
    today = now.date()
    customers = [
        c
        for (c,) in db.rows(
            "SELECT customer_id FROM customers WHERE list_contains(?, region_id)",
            [list(who.allowed_regions or [])],
        )
    ]
    action = rng.choice(["visit", "order", "order", "payment", "payment", "lead", "lead", "undo", "correct"])
    day = today - dt.timedelta(days=rng.randrange(0, 8))
    if action == "visit":
        entries.submit_visit(
            db,
            who,
            entries.new_key(),
            customer_id=rng.choice(customers),
            visit_date=day,
            purpose=rng.choice(entries.VISIT_PURPOSES),
            outcome=rng.choice(entries.VISIT_OUTCOMES),
            category_id=rng.choice([None, 1, 2]),
            advisor_id=rng.choice([None, 1, 3]),
            today=today,
            now=now,
        )
    elif action == "order":
        entries.submit_order(
            db,
            who,
            entries.new_key(),
            customer_id=rng.choice(customers),
            product_id=rng.choice([1, 2]),
            quantity=rng.randrange(1, 40),
            order_date=day,
            today=today,
            now=now,
        )
    elif action == "payment":
        owed = entries.open_orders(db, who, rng.choice(customers))
        if owed.empty:
            return "payment: nothing owed"
        row = owed.iloc[rng.randrange(len(owed))]
        amount = min(Decimal(str(row["owed"])), Decimal(rng.randrange(1, 2000)))
        entries.submit_payment(
            db,
            who,
            entries.new_key(),
            order_id=int(row["order_id"]),
            amount=amount,
            paid_on=today,
            method=rng.choice(entries.PAYMENT_METHODS),
            today=today,
            now=now,
        )
    elif action == "lead":
        leads = entries.updatable_leads(db, who)
        if leads.empty:
            return "lead: none to move"
        lead = leads.iloc[rng.randrange(len(leads))]
        choices = {
            "waiting": ["accept", "reject"],
            "accepted": ["open_opportunity"],
            "opportunity": ["won", "lost"],
        }
        move = rng.choice(choices[lead["state"]])
        reason = rng.choice(REJECT_REASONS if move == "reject" else LOST_REASONS)
        value = (
            rng.choice([None, Decimal(rng.randrange(100, 20000))])
            if move == "won"
            else Decimal(rng.randrange(100, 9000))
        )
        entries.submit_lead_update(
            db,
            who,
            entries.new_key(),
            lead_id=int(lead["lead_id"]),
            action=move,
            reason=reason if move in ("reject", "lost") else None,
            value=value if move in ("open_opportunity", "won") else None,
            now=now,
        )
    else:
        mine = entries.my_entries(db, who, today - dt.timedelta(days=1), now)
        mine = mine[mine["can_undo"]] if action == "undo" else mine[mine["can_correct"]]
        if mine.empty:
            return f"{action}: nothing to take"
        entry = mine.iloc[rng.randrange(len(mine))]
        entry_id, kind = int(entry["entry_id"]), entry["kind"]
        if action == "undo":
            entries.undo(db, who, entry_id, now)
        else:
            change = {
                "visit": lambda: {
                    "visit_date": day,
                    "category_id": rng.choice([1, 2]),
                    "advisor_id": rng.choice([None, 1, 3]),
                },
                "order": lambda: {
                    "quantity": rng.randrange(1, 40),
                    "order_date": day,
                    "product_id": rng.choice([1, 2]),
                },
                "payment": lambda: {"amount": Decimal(rng.randrange(1, 500)), "paid_on": today},
                "lead_update": lambda: (
                    {"value": Decimal(rng.randrange(100, 9000))}
                    if entry["summary"].get("action") in ("open_opportunity", "won")
                    else {
                        "reason": rng.choice(
                            LOST_REASONS if entry["summary"].get("action") == "lost" else REJECT_REASONS
                        )
                    }
                ),
            }[kind]()
            entries.correct(db, who, entry_id, today=today, now=now, **change)
    return action


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_entries_undos_and_corrections_keep_every_summary_equal_to_a_recomputation(
    busy: Database, seed: int
) -> None:
    rng = random.Random(seed)
    who = [accounts.find_user(busy, "rep"), accounts.find_user(busy, "duo")]
    now = dt.datetime(2026, 3, 31, 9, 0)
    done = {"saved": 0, "refused": 0}
    for step in range(60):
        now += dt.timedelta(seconds=rng.choice([5, 30, 90]))
        try:
            _random_step(busy, rng, rng.choice(who), now)
            done["saved"] += 1
        except entries.EntryInvalid:  # e.g. undoing an order that has payments: refused, nothing written
            done["refused"] += 1
        assert summaries.differences(busy) == EQUAL, f"seed {seed}, step {step}"
    assert done["saved"] > 30  # the sequence did write
    # and the overview's numbers, read from the summaries, are the straightforward SQL's
    for start, end in ((dt.date(2026, 3, 1), dt.date(2026, 4, 1)), (dt.date(2026, 3, 24), T)):
        ours = kpis.totals(busy, Scope(start, end))
        assert baselines.disagreements(ours, baselines.plain_sql(busy, start, end)) == {}


def test_many_writers_at_once_keep_the_summaries_equal(busy: Database) -> None:
    import threading

    rep = accounts.find_user(busy, "rep")

    def writer(n: int) -> None:
        for i in range(10):
            entries.submit_order(
                busy,
                rep,
                f"w{n}-{i}",
                customer_id=1,
                product_id=1 + i % 2,
                quantity=n + 1,
                order_date=T - dt.timedelta(days=i % 3),
                today=T,
                now=dt.datetime(2026, 3, 31, 10),
            )

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert summaries.differences(busy) == EQUAL
    # 80 orders: writer n orders n + 1 cases, 5 times of green tea (¥10) and 5 of chips (¥20)
    # = (n + 1) × 150 each, 150 × (1 + ... + 8) = ¥5,400 in all
    assert busy.scalar("SELECT sum(amount) FROM orders WHERE order_id > 40") == Decimal("5400.00")
    # from 29 March on: the 80 orders, and fixture orders 3 (¥200 on 31 March) and 4 (¥100, 1 April)
    assert busy.scalar("SELECT sum(amount) FROM daily_orders WHERE day >= DATE '2026-03-29'") == Decimal(
        "5700.00"
    )
