"""Group commit (issue 9): writes queued while another commits are committed together, each gets
its own result, and a failing write fails alone."""

from __future__ import annotations

import threading
import time
from typing import Any

import duckdb
import pytest

from mktsales import db as db_module
from mktsales.audit import AuditMissing, Tx
from mktsales.db import Database
from tests.conftest import TESTER, write_sql


@pytest.fixture
def db() -> Database:
    with Database(":memory:") as db:
        write_sql(db, "INSERT INTO regions VALUES (1, 'north', '华北', 'North China')")
        yield db


def _queued_together(db: Database, works: list[Any], monkeypatch: pytest.MonkeyPatch) -> tuple[list, list]:
    """Run ``works`` from one thread each, all queued before any runs; returns their outcomes
    (result or exception, in order) and the sizes of the transactions committed."""
    sizes: list[int] = []
    real = Database._commit

    def commit(self: Database, jobs: list) -> None:
        sizes.append(len(jobs))
        real(self, jobs)

    monkeypatch.setattr(Database, "_commit", commit)
    outcomes: list[Any] = [None] * len(works)

    def run(i: int) -> None:
        try:
            outcomes[i] = db.write(works[i], by=TESTER)
        except Exception as exc:
            outcomes[i] = exc

    with db._lock:  # hold the writers back until every one has queued its work
        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while len(db._queue) < len(works) and time.monotonic() < deadline:
            time.sleep(0.01)
    for thread in threads:
        thread.join()
    return outcomes, sizes


def _category(n: int):
    def work(tx: Tx) -> int:
        tx.execute("INSERT INTO categories VALUES (?, ?, ?, ?)", [n, f"c{n}", f"类{n}", f"C{n}"])
        tx.audit("categories", n, "create")
        return n * 10

    return work


def test_writes_queued_together_commit_in_one_transaction_each_with_its_result(db, monkeypatch) -> None:
    before = db.version()
    outcomes, sizes = _queued_together(db, [_category(n) for n in range(1, 6)], monkeypatch)
    assert outcomes == [10, 20, 30, 40, 50]
    assert sizes == [5]  # one transaction for all five
    assert db.version() == before + 5  # every write still moves the version once
    assert db.scalar("SELECT count(*) FROM categories") == 5
    assert db.scalar("SELECT count(*) FROM audit_log WHERE entity = 'categories'") == 5


def test_a_failing_write_fails_alone_and_the_others_are_saved(db, monkeypatch) -> None:
    def duplicate(tx: Tx) -> None:
        tx.audit("regions", 1, "create")
        tx.execute("INSERT INTO regions VALUES (1, 'north', '华北', 'North China')")  # exists

    def silent(tx: Tx) -> None:
        tx.execute("INSERT INTO categories VALUES (9, 'c9', '类9', 'C9')")  # and no audit entry

    before = db.version()
    works = [_category(1), duplicate, _category(2), silent, _category(3)]
    outcomes, sizes = _queued_together(db, works, monkeypatch)
    assert outcomes[0::2] == [10, 20, 30]
    assert isinstance(outcomes[1], duckdb.ConstraintException)
    assert isinstance(outcomes[3], AuditMissing)
    assert sizes == [5, 1, 1, 1, 1, 1]  # the batch failed: each write again, alone
    assert db.version() == before + 3
    assert [c for (c,) in db.rows("SELECT category_id FROM categories ORDER BY 1")] == [1, 2, 3]
    assert db.scalar("SELECT count(*) FROM audit_log WHERE entity = 'regions'") == 0


def test_a_batch_is_at_most_max_batch_writes(db, monkeypatch) -> None:
    monkeypatch.setattr(db_module, "MAX_BATCH", 3)
    outcomes, sizes = _queued_together(db, [_category(n) for n in range(1, 8)], monkeypatch)
    assert sorted(outcomes) == [10, 20, 30, 40, 50, 60, 70]
    assert sizes == [3, 3, 1]


def test_appended_rows_and_audit_rows_wait_for_the_commit(db, monkeypatch) -> None:
    statements: list[str] = []
    real = Tx.execute

    def spy(self: Tx, sql: str, params: Any = None):
        statements.append(sql)
        return real(self, sql, params)

    monkeypatch.setattr(Tx, "execute", spy)

    def work(n: int):
        def append(tx: Tx) -> None:
            tx.append(
                "categories", {"category_id": n, "code": f"c{n}", "name_zh": f"类{n}", "name_en": f"C{n}"}
            )
            tx.audit("categories", n, "create")

        return append

    _, sizes = _queued_together(db, [work(n) for n in range(1, 5)], monkeypatch)
    assert sizes == [4] and statements == []  # nothing went through execute: all pending until the commit
    assert db.rows("SELECT category_id FROM categories ORDER BY 1") == [(1,), (2,), (3,), (4,)]
    assert db.scalar("SELECT count(*) FROM audit_log WHERE entity = 'categories'") == 4
