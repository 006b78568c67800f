"""Shared fixtures: the hand-checkable tiny database, and March 2026 as the period under test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from mktsales import ratelimit
from mktsales.audit import Actor
from mktsales.db import Database
from mktsales.scope import Scope

FIXTURES = Path(__file__).parent / "fixtures"
MARCH = (dt.date(2026, 3, 1), dt.date(2026, 4, 1))


def load_tiny(db: Database) -> None:
    """Fill a migrated database with tests/fixtures/tiny.sql."""
    script = (FIXTURES / "tiny.sql").read_text(encoding="utf-8")
    write_sql(db, script)


TESTER = Actor("system:test")  # an operator (Actor.operator): may administer accounts


def write_sql(db: Database, sql: str, params: list | None = None) -> None:
    """Run a statement through the write path, as the test suite."""
    db.write(lambda tx: (tx.execute(sql, params), tx.audit("test", None, "fixture")), by=TESTER)


@pytest.fixture(autouse=True)
def _fresh_sign_in_limits() -> Iterator[None]:
    """Each test starts with empty sign-in windows and a hashing gate sized from its settings
    (they are process-wide, and one test's failed sign-ins must not refuse another's)."""
    ratelimit.reset()
    yield
    ratelimit.reset()


@pytest.fixture
def tiny() -> Iterator[Database]:
    """An in-memory database holding the tiny fixture."""
    with Database(":memory:") as db:
        load_tiny(db)
        yield db


@pytest.fixture
def tiny_file(tmp_path: Path) -> Path:
    """A database file holding the tiny fixture, closed so another process may open it."""
    path = tmp_path / "tiny.duckdb"
    with Database(path) as db:
        load_tiny(db)
    return path


@pytest.fixture
def march() -> Scope:
    """March 2026, all regions and categories."""
    return Scope(*MARCH)


# An orders file for the import tests (page and CLI), against tiny.sql.
ORDERS_HEADER = "订单编号,订单日期,客户,产品,数量,金额\n"
# The header is row 1, so the data rows are rows 2, 3 and 4:
# row 2 updates order 1 (amount 1000 -> 1500), row 3 is new (customer 2 and product 1 named in
# Chinese), row 4 names a customer that does not exist.
ORDERS_FILE = (
    ORDERS_HEADER
    + "1,2026-03-03,1,1,100,1500\n"
    + "N1,2026-03-25,联华超市(上海),绿茶,5,50\n"
    + "N2,2026-03-26,不存在,1,1,10\n"
)
ALL_ORDERS = "SELECT * FROM orders ORDER BY order_id"
