"""The write path: orders through entries.submit_order from 1 and from 20 threads, each with its own
idempotency key and checked stored exactly once; and the delay until the overview shows a write."""

from __future__ import annotations

import datetime as dt
import statistics
import threading
import time
import uuid
from decimal import Decimal
from typing import Any

from mktsales import entries, kpis
from mktsales.access import User
from mktsales.db import Database
from mktsales.scope import Scope


def _customers(db: Database, user: User) -> list[int]:
    return [
        c
        for (c,) in db.rows(
            "SELECT customer_id FROM customers WHERE list_contains(?, region_id)"
            " ORDER BY customer_id LIMIT 50",
            [list(user.allowed_regions or [])],
        )
    ]


def submit(
    db: Database,
    user: User,
    key: str,
    customer: int,
    today: dt.date,
    now: dt.datetime,
    amount: Decimal | None = None,
) -> entries.Saved:
    """One order line of one case of product 1 (its list price unless ``amount``)."""
    return entries.submit_order(
        db,
        user,
        key,
        customer_id=customer,
        product_id=1,
        quantity=1,
        amount=amount,
        order_date=today,
        today=today,
        now=now,
    )


def throughput(
    db: Database, user: User, threads: int, each: int, today: dt.date, now: dt.datetime
) -> dict[str, Any]:
    """``threads`` writers submit ``each`` orders at once; entries per second, and the check that
    every key was stored exactly once (one entry, one order, no more)."""
    run = uuid.uuid4().hex[:8]
    customers = _customers(db, user)
    start = threading.Barrier(threads + 1)
    failures: list[BaseException] = []
    latencies: list[float] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        start.wait()
        mine = []
        try:
            for i in range(each):
                began = time.perf_counter()
                submit(db, user, f"bench-{run}-{n}-{i}", customers[(n + i) % len(customers)], today, now)
                mine.append(time.perf_counter() - began)
        except BaseException as exc:  # reported below, never swallowed
            failures.append(exc)
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    start.wait()
    began = time.perf_counter()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - began
    total = threads * each
    stored = db.rows(
        "SELECT count(*), count(DISTINCT e.idempotency_key), count(o.order_id), count(DISTINCT o.order_id)"
        " FROM entries e LEFT JOIN orders o ON o.order_id = e.target_id"
        " WHERE e.idempotency_key LIKE ? AND e.kind = 'order'",
        [f"bench-{run}-%"],
    )[0]
    return {
        "threads": threads,
        "entries": total,
        "seconds": seconds,
        "per_second": total / seconds,
        "median_latency_ms": statistics.median(latencies) * 1000 if latencies else None,
        "p95_latency_ms": statistics.quantiles(latencies, n=20)[-1] * 1000 if len(latencies) > 1 else None,
        "stored": {
            "entries": stored[0],
            "keys": stored[1],
            "orders": stored[2],
            "distinct_orders": stored[3],
        },
        "exactly_once": not failures and tuple(stored) == (total, total, total, total),
        "errors": [repr(f) for f in failures[:3]],
    }


def visibility_delay(
    db: Database, path: str, user: User, scope: Scope, today: dt.date, now: dt.datetime, runs: int
) -> dict[str, Any]:
    """Seconds from a committed order until the overview's revenue includes it, as the page gets it
    (mktsales.ui.data.overview with the version read after the commit); median of ``runs``."""
    from mktsales.ui import data

    customer = _customers(db, user)[0]
    delays = []
    for i in range(runs):
        before = kpis.totals(db, scope)["revenue"]
        amount = Decimal("1234.56") + i
        submit(db, user, f"bench-delay-{uuid.uuid4().hex}", customer, today, now, amount)
        committed = time.perf_counter()
        deadline = committed + 30
        while True:
            revenue = data.overview(path, db.version(), scope).current["revenue"]
            if abs(revenue - (before + float(amount))) < 0.005:
                break
            if time.perf_counter() > deadline:
                raise RuntimeError(f"the overview did not show a committed order within 30 s ({revenue})")
        delays.append(time.perf_counter() - committed)
    return {"median_s": statistics.median(delays), "runs_s": delays}
