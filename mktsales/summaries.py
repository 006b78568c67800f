"""Summary tables (migration 007): what the period numbers read, kept current inside every write.

The overview and the funnel's period view read per-day summaries instead of the base tables:
activities per day x region x category, lead stage events per day x region x category x source x
campaign, orders and payments per day x region x category, and one row per order of a won lead
with what has been paid on it (``lead_orders``: when it became fully paid, i.e. "collected").

They are kept current in the same transaction as the write that changes a base row, in one of two
ways, so a committed write is in the next page's numbers:

- incrementally: a write path that changes base rows calls ``changed(tx, table, before, after)``
  for each row it inserts, deletes or updates; the differences are added to the summary rows they
  touch (merged per row, and with Database.write's group commit, per batch). The entries (quick
  entry: submit, undo, correct) do this, and pass ``maintained=True`` to Database.write;
- set-based: ``rebuild(tx, tables)`` recomputes the summaries of the given base tables from
  scratch. The database's commit hook (``before_commit``) does this after any write that touched
  a base table without maintaining the summaries (a bulk load, a test fixture, a one-off script),
  so no write can leave them stale; the demo build loads in bulk and rebuilds once at its end.

The database knows nothing of this module: mktsales/__init__.py registers ``opened`` and
``before_commit`` as its hooks (db.add_hooks), so every Database in the process runs them.

``differences(db)`` compares every summary with a recomputation from the base tables (empty when
they agree); the tests and ``python -m mktsales summaries --check`` use it.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import weakref
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from mktsales.audit import Tx
from mktsales.db import SYSTEM, Database

log = logging.getLogger(__name__)

NO_CAMPAIGN = -1  # campaign_id of "no campaign" in the summaries (a key cannot be NULL)
NO_SOURCE = ""  # source of an order's lead that is not in leads

# summary table -> the base tables it is computed from
DEPENDS: dict[str, tuple[str, ...]] = {
    "daily_activities": ("activities",),
    "daily_leads": ("leads",),
    "daily_orders": ("orders",),
    "daily_payments": ("payments", "orders"),
    "lead_orders": ("orders", "payments", "leads"),
}
BASE_TABLES = frozenset(table for tables in DEPENDS.values() for table in tables)
KEYS: dict[str, tuple[str, ...]] = {
    "daily_activities": ("day", "region_id", "category_id"),
    "daily_leads": ("day", "region_id", "category_id", "source", "campaign_id"),
    "daily_orders": ("day", "region_id", "category_id"),
    "daily_payments": ("day", "region_id", "category_id"),
    "lead_orders": ("order_id",),
}

# Each summary from scratch, as a SELECT in the table's column order. rebuild() stores the rows in
# key order (by day first), so that a period's rows lie together and DuckDB skips the rest.
_SELECT: dict[str, str] = {
    "daily_activities": """
        SELECT activity_date, region_id, category_id, count(*), count(advisor_id),
               count(*) FILTER (WHERE track = 'marketing'),
               coalesce(sum(reach) FILTER (WHERE track = 'marketing'), 0),
               coalesce(sum(engaged) FILTER (WHERE track = 'marketing'), 0),
               coalesce(sum(cost) FILTER (WHERE track = 'marketing'), 0)
        FROM activities
        GROUP BY ALL
    """,
    "daily_leads": """
        WITH events AS (
            SELECT region_id, category_id, source, campaign_id, value, 'lead' AS stage, created_at AS happened
            FROM leads
            UNION ALL SELECT region_id, category_id, source, campaign_id, value, 'mql', mql_at
            FROM leads WHERE mql_at IS NOT NULL
            UNION ALL SELECT region_id, category_id, source, campaign_id, value, 'sal', sal_at
            FROM leads WHERE sal_at IS NOT NULL
            UNION ALL SELECT region_id, category_id, source, campaign_id, value, 'rejected', rejected_at
            FROM leads WHERE rejected_at IS NOT NULL
            UNION ALL SELECT region_id, category_id, source, campaign_id, value, 'opportunity', opportunity_at
            FROM leads WHERE opportunity_at IS NOT NULL
            UNION ALL SELECT region_id, category_id, source, campaign_id, value, outcome, closed_at
            FROM leads WHERE closed_at IS NOT NULL
        )
        SELECT CAST(happened AS DATE), region_id, category_id, source, coalesce(campaign_id, -1),
               count(*) FILTER (WHERE stage = 'lead'),
               count(*) FILTER (WHERE stage = 'mql'),
               count(*) FILTER (WHERE stage = 'sal'),
               count(*) FILTER (WHERE stage = 'rejected'),
               count(*) FILTER (WHERE stage = 'opportunity'),
               count(*) FILTER (WHERE stage = 'won'),
               count(*) FILTER (WHERE stage = 'lost'),
               coalesce(sum(value) FILTER (WHERE stage = 'opportunity'), 0),
               coalesce(sum(value) FILTER (WHERE stage IN ('won', 'lost')), 0)
        FROM events
        GROUP BY ALL
    """,
    "daily_orders": """
        SELECT order_date, region_id, category_id, count(*), sum(amount)
        FROM orders
        GROUP BY ALL
    """,
    "daily_payments": """
        SELECT p.paid_on, o.region_id, o.category_id, count(*), sum(p.amount)
        FROM payments p JOIN orders o USING (order_id)
        GROUP BY ALL
    """,
    # $order: one order (NULL = every order of a won lead)
    "lead_orders": """
        SELECT o.order_id, o.lead_id, o.region_id, o.category_id, coalesce(l.source, ''),
               coalesce(l.campaign_id, -1), o.amount, count(p.payment_id), coalesce(sum(p.amount), 0),
               max(p.paid_on),
               CASE WHEN count(p.payment_id) > 0 AND sum(p.amount) >= o.amount THEN max(p.paid_on) END
        FROM orders o
        LEFT JOIN payments p ON p.order_id = o.order_id
        LEFT JOIN leads l ON l.lead_id = o.lead_id
        WHERE o.lead_id IS NOT NULL AND ($order::BIGINT IS NULL OR o.order_id = $order)
        GROUP BY o.order_id, o.lead_id, o.region_id, o.category_id, l.source, l.campaign_id, o.amount
    """,
}


def affected(tables: set[str] | frozenset[str] | None) -> list[str]:
    """The summaries computed from any of ``tables`` (None: every summary)."""
    return [s for s, base in DEPENDS.items() if tables is None or set(base) & set(tables)]


def rebuild(tx: Tx, tables: set[str] | frozenset[str] | None = None) -> dict[str, int]:
    """Recompute the summaries of base ``tables`` (None: all) from scratch, set-based; audited."""
    counts = {}
    for summary in affected(tables):
        tx.execute(f"DELETE FROM {summary}")
        params = {"order": None} if summary == "lead_orders" else None
        counts[summary] = tx.execute(
            f"INSERT INTO {summary} {_SELECT[summary]} ORDER BY ALL", params
        ).fetchone()[0]
    tx.execute("DELETE FROM meta WHERE key = 'summaries_stale'")
    if counts:
        tx.audit("summaries", None, "rebuild", after=counts)
    return counts


# Whether a Database has the summary tables: False only for a schema older than migration 007 (a
# test that stops the migrations there). Known from its opening on.
_SUMMARISED: weakref.WeakKeyDictionary[Database, bool] = weakref.WeakKeyDictionary()


def _summarised(db: Database) -> bool:
    found = _SUMMARISED.get(db)
    if found is None:
        found = _SUMMARISED[db] = bool(
            db.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'lead_orders'")
        )
    return found


def opened(db: Database) -> None:
    """The database's open hook: a file upgraded by migration 007 gets its summaries filled, once."""
    if _summarised(db) and is_stale(db):
        db.write(lambda tx: rebuild(tx), by=SYSTEM, data=False, maintained=True)


def before_commit(db: Database, tx: Tx, written: frozenset[str]) -> None:
    """The database's commit hook: rebuild the summaries of the base tables a write touched without
    keeping them current itself (``maintained=False``), in its transaction, before the COMMIT."""
    stale = written & BASE_TABLES
    if not stale or not _summarised(db):
        return
    started = time.perf_counter()
    rebuild(tx, stale)
    log.info(  # seconds at ten million activities: call changed() instead
        "summaries of %s rebuilt in %.2f s after a write by %s that did not keep them",
        ", ".join(sorted(stale)),
        time.perf_counter() - started,
        tx.actor.name,
    )


def is_stale(db: Any) -> bool:
    """True when the summaries still need their first fill (a database upgraded by migration 007)."""
    return bool(db.scalar("SELECT count(*) FROM meta WHERE key = 'summaries_stale'"))


def differences(db: Any) -> dict[str, int]:
    """Rows that differ between each summary and a recomputation from the base tables (0 = equal).

    Rows whose counters are all zero (left behind when an undo takes back the last event of a
    day) count as absent."""
    out = {}
    for summary, select in _SELECT.items():
        keys = KEYS[summary]
        columns = [
            c
            for (c,) in db.rows(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index",
                [summary],
            )
        ]
        values = [c for c in columns if c not in keys]
        nonzero = " OR ".join(f"{c} IS DISTINCT FROM 0" for c in values)
        kept = f"SELECT * FROM {summary} WHERE {nonzero}"
        fresh = f"SELECT * FROM ({select})"
        params = {"order": None} if summary == "lead_orders" else None
        both_ways = f"(({kept}) EXCEPT ALL ({fresh})) UNION ALL (({fresh}) EXCEPT ALL ({kept}))"
        out[summary] = int(db.scalar(f"SELECT count(*) FROM ({both_ways})", params))
    return out


# -- incremental maintenance -------------------------------------------------------------------------
Row = Mapping[str, Any]


def changed(tx: Tx, table: str, before: Row | None, after: Row | None) -> None:
    """Keep the summaries current for one base row: inserted (``before`` None), deleted (``after``
    None) or updated. Rows are dicts of the table's columns (an insert's values are enough: a
    column left out holds its default)."""
    if table == "activities":
        for row, sign in ((before, -1), (after, 1)):
            if row is not None:
                _activity(tx, row, sign)
    elif table == "leads":
        for row, sign in ((before, -1), (after, 1)):
            if row is not None:
                _lead(tx, row, sign)
    elif table == "orders":
        for row, sign in ((before, -1), (after, 1)):
            if row is not None:
                tx.increment(
                    "daily_orders",
                    _day_key(row["order_date"], row),
                    {"orders": sign, "amount": sign * _money(row["amount"])},
                )
        _payments_moved(tx, before, after)
        _order_of_lead(tx, before, after)
    elif table == "payments":
        _payment(tx, before, after)
    elif table not in BASE_TABLES:
        raise ValueError(f"{table} has no summaries")


def _money(value: Any) -> Decimal:
    return Decimal(0) if value is None else Decimal(str(value))


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _day_key(day: Any, row: Row) -> dict[str, Any]:
    return {"day": _date(day), "region_id": row["region_id"], "category_id": row["category_id"]}


def _activity(tx: Tx, row: Row, sign: int) -> None:
    marketing = sign if row.get("track") == "marketing" else 0
    tx.increment(
        "daily_activities",
        _day_key(row["activity_date"], row),
        {
            "activities": sign,
            "with_advisor": sign if row.get("advisor_id") is not None else 0,
            "marketing": marketing,
            "reach": marketing * int(row.get("reach") or 0),
            "engaged": marketing * int(row.get("engaged") or 0),
            "spend": marketing * _money(row.get("cost")),
        },
    )


_LEAD_STAGES = (
    ("created_at", "leads"),
    ("mql_at", "mql"),
    ("sal_at", "sal"),
    ("rejected_at", "rejected"),
    ("opportunity_at", "opportunities"),
)


def _lead(tx: Tx, row: Row, sign: int) -> None:
    dims = {
        "region_id": row["region_id"],
        "category_id": row["category_id"],
        "source": row["source"],
        "campaign_id": NO_CAMPAIGN if row.get("campaign_id") is None else row["campaign_id"],
    }
    value = _money(row.get("value"))
    events: list[tuple[Any, dict[str, Any]]] = [
        (row.get(column), {counter: sign}) for column, counter in _LEAD_STAGES
    ]
    events.append((row.get("opportunity_at"), {"pipeline_opened": sign * value}))
    if row.get("closed_at") is not None:
        events.append((row["closed_at"], {str(row["outcome"]): sign, "pipeline_closed": sign * value}))
    for at, amounts in events:
        if at is not None:
            tx.increment("daily_leads", {"day": _date(at), **dims}, amounts)


def _payments_moved(tx: Tx, before: Row | None, after: Row | None) -> None:
    """An order that changed region or category takes its payments along (daily_payments)."""
    if before is None or after is None:
        return  # an order is inserted before its payments and deleted after them
    if (before["region_id"], before["category_id"]) == (after["region_id"], after["category_id"]):
        return
    paid = tx.execute(
        "SELECT paid_on, count(*), sum(amount) FROM payments WHERE order_id = ? GROUP BY paid_on",
        [after["order_id"]],
    ).fetchall()
    for day, n, amount in paid:
        for row, sign in ((before, -1), (after, 1)):
            tx.increment(
                "daily_payments", _day_key(day, row), {"payments": sign * n, "amount": sign * amount}
            )


def _order_of_lead(tx: Tx, before: Row | None, after: Row | None) -> None:
    """lead_orders for an order inserted, deleted or changed (only orders that close a won lead)."""
    ids = {row["order_id"] for row in (before, after) if row is not None and row.get("lead_id") is not None}
    for order_id in ids:
        _refresh_lead_order(tx, order_id)


def _refresh_lead_order(tx: Tx, order_id: int) -> None:
    """Recompute one order's lead_orders row from its payments (gone if it no longer closes a lead)."""
    tx.execute("DELETE FROM lead_orders WHERE order_id = ?", [order_id])
    tx.execute(f"INSERT INTO lead_orders {_SELECT['lead_orders']}", {"order": order_id})


def _payment(tx: Tx, before: Row | None, after: Row | None) -> None:
    orders: dict[int, tuple[Any, ...]] = {}
    for row, sign in ((before, -1), (after, 1)):
        if row is None:
            continue
        order_id = row["order_id"]
        if order_id not in orders:
            orders[order_id] = tx.execute(
                "SELECT region_id, category_id, lead_id FROM orders WHERE order_id = ?", [order_id]
            ).fetchone()
        region_id, category_id, _ = orders[order_id]
        key = {"day": _date(row["paid_on"]), "region_id": region_id, "category_id": category_id}
        tx.increment("daily_payments", key, {"payments": sign, "amount": sign * _money(row["amount"])})
    lead_orders = [order_id for order_id, found in orders.items() if found[2] is not None]
    if before is None and after is not None and lead_orders:
        # a new payment: add it up (the common case; a scan of payments is not needed)
        amount, day = _money(after["amount"]), _date(after["paid_on"])
        tx.execute(
            "UPDATE lead_orders SET payments = payments + 1, paid = paid + $amount,"
            " last_paid = greatest(last_paid, $day),"
            " settled_on = CASE WHEN paid + $amount >= lead_orders.amount"
            "                   THEN greatest(last_paid, $day) END"
            " WHERE order_id = $order",
            {"amount": amount, "day": day, "order": after["order_id"]},
        )
    else:  # a payment taken back or changed: what is left is worked out again
        for order_id in lead_orders:
            _refresh_lead_order(tx, order_id)
