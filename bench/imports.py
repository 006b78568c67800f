"""A million-row import (issue 8): a year of orders in a CSV, checked, imported, then imported again.

The file is written by DuckDB from the size's own demo database: 1,000,000 orders of its customers
and products (referred to by their ids, as an export of mktsales writes them), dates in 2025, half
of the amounts written as a person would ("1,234.50") so the slow path of the cell reader is in
the measurement too. Then: the dry run alone, the import (check again + write + summaries), and
the same file again (every row an update). The database is the size's working copy, after every
other measurement but the browser's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from mktsales import importer
from mktsales.audit import Actor
from mktsales.db import Database

ROWS = 1_000_000
BENCH = Actor("bench:import")


def write_csv(db: Database, path: Path, rows: int = ROWS) -> None:
    """``rows`` orders of the database's own customers and products as a CSV with English headers."""
    customers = int(db.scalar("SELECT count(*) FROM customers"))
    products = int(db.scalar("SELECT count(*) FROM products"))
    cur = db.cursor()
    try:
        cur.execute(
            f"""
            COPY (
                WITH c AS (SELECT customer_id, row_number() OVER (ORDER BY customer_id) - 1 AS n
                           FROM customers),
                     p AS (SELECT product_id, unit_price, row_number() OVER (ORDER BY product_id) - 1 AS n
                           FROM products)
                SELECT 'BENCH-' || i AS id,
                       DATE '2025-01-01' + CAST(i % 365 AS INTEGER) AS order_date,
                       c.customer_id AS customer,
                       p.product_id AS product,
                       1 + i % 24 AS quantity,
                       CASE WHEN i % 2 = 0
                            THEN CAST(CAST(p.unit_price * (1 + i % 24) AS DECIMAL(18, 2)) AS VARCHAR)
                            ELSE format('{{:,.2f}}', CAST(p.unit_price * (1 + i % 24) AS DOUBLE))
                       END AS amount
                FROM range({int(rows)}) r(i)
                JOIN c ON c.n = (i * 7919) % {customers}
                JOIN p ON p.n = (i * 31) % {products}
                ORDER BY i
            ) TO '{path}' (HEADER, DELIMITER ',')
            """
        )
    finally:
        cur.close()


def measure(db: Database, folder: Path, rows: int = ROWS) -> dict[str, Any]:
    """Seconds for the dry run, the import and the re-import of ``rows`` orders."""
    path = folder / f"bench-orders-{rows}.csv"
    started = time.perf_counter()
    write_csv(db, path, rows)
    written = time.perf_counter() - started

    started = time.perf_counter()
    table = importer.read(path, path.name)
    mapping = importer.suggest_mapping(db, "orders", table.headers)
    read_s = time.perf_counter() - started

    started = time.perf_counter()
    plan = importer.check(db, "orders", table, mapping)
    check_s = time.perf_counter() - started

    started = time.perf_counter()
    first = importer.run(db, "orders", table, mapping, by=BENCH)
    import_s = time.perf_counter() - started

    started = time.perf_counter()
    again = importer.run(db, "orders", table, mapping, by=BENCH)
    reimport_s = time.perf_counter() - started
    size = path.stat().st_size
    path.unlink(missing_ok=True)
    return {
        "rows": rows,
        "file_mb": size / 2**20,
        "write_csv_s": written,
        "read_s": read_s,
        "check_s": check_s,
        "import_s": import_s,
        "reimport_s": reimport_s,
        "bad_rows": plan.bad_rows,
        "inserted": first.inserted,
        "updated_again": again.updated,
        "inserted_again": again.inserted,
    }
