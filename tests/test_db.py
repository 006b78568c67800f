"""The database layer: migrations upgrade in place, the one write path is atomic and serialised."""

import threading
from pathlib import Path

import duckdb
import pytest

from mktsales import db as db_module
from mktsales.audit import Tx
from mktsales.db import Database
from tests.conftest import TESTER, write_sql


def test_a_new_file_gets_every_migration_once(tmp_path: Path) -> None:
    path = tmp_path / "m.duckdb"
    with Database(path) as db:
        assert db.rows("SELECT version, name FROM schema_migrations") == [
            (1, "001_init.sql"),
            (2, "002_accounts.sql"),
            (3, "003_campaigns.sql"),
            (4, "004_entries.sql"),
            (5, "005_board.sql"),
            (6, "006_promotions.sql"),
            (7, "007_summaries.sql"),
            (8, "008_imports.sql"),
            (9, "009_audit_client.sql"),
            (10, "010_scope_macro.sql"),
        ]
        write_sql(db, "INSERT INTO regions VALUES (1, 'north', '华北', 'North China')")
    with Database(path) as db:  # reopening applies nothing and keeps the data
        assert db.migrate() == []
        assert db.scalar("SELECT count(*) FROM regions") == 1


def test_an_existing_file_is_upgraded_not_recreated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.duckdb"
    with Database(path) as db:
        write_sql(db, "INSERT INTO regions VALUES (1, 'north', '华北', 'North China')")
    shipped = db_module.migrations()
    upgrade = (99, "099_region_manager.sql", "ALTER TABLE regions ADD COLUMN manager VARCHAR;")
    monkeypatch.setattr(db_module, "migrations", lambda: [*shipped, upgrade])
    with Database(path) as db:
        assert db.scalar("SELECT count(*) FROM regions") == 1  # the data survived the upgrade
        assert db.rows("SELECT region_id, manager FROM regions") == [(1, None)]
        versions = [v for (v,) in db.rows("SELECT version FROM schema_migrations ORDER BY 1")]
        assert versions == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 99]


def test_a_failed_migration_leaves_the_file_at_the_previous_version(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "m.duckdb"
    Database(path).close()
    shipped = db_module.migrations()
    broken = (99, "099_broken.sql", "ALTER TABLE regions ADD COLUMN x INTEGER; SELECT * FROM no_such_table;")
    monkeypatch.setattr(db_module, "migrations", lambda: [*shipped, broken])
    with pytest.raises(duckdb.CatalogException):
        Database(path)
    monkeypatch.setattr(db_module, "migrations", lambda: shipped)
    with Database(path) as db:
        versions = [v for (v,) in db.rows("SELECT version FROM schema_migrations ORDER BY 1")]
        assert versions == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        assert "x" not in set(db.query("SELECT * FROM regions").columns)


def test_every_write_bumps_the_version_and_a_failed_write_changes_nothing() -> None:
    with Database(":memory:") as db:
        assert db.version() == 0
        write_sql(db, "INSERT INTO regions VALUES (1, 'north', '华北', 'North China')")
        assert db.version() == 1

        def half_then_fail(tx: Tx) -> None:
            tx.execute("INSERT INTO regions VALUES (2, 'east', '华东', 'East China')")
            tx.audit("regions", 2, "create")
            tx.execute("INSERT INTO regions VALUES (1, 'north', '华北', 'North China')")  # duplicate key

        with pytest.raises(duckdb.ConstraintException):
            db.write(half_then_fail, by=TESTER)
        assert db.version() == 1
        assert db.scalar("SELECT count(*) FROM regions") == 1  # the first half was rolled back


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    with Database(tmp_path / "c.duckdb") as db:
        write_sql(db, "INSERT INTO regions VALUES (1, 'north', '华北', 'North China')")
        write_sql(db, "INSERT INTO categories VALUES (1, 'tea', '茶', 'Tea')")
        write_sql(db, "INSERT INTO meta VALUES ('hits', '0')")
        threads, each = 8, 100

        def writer(n: int) -> None:
            for i in range(each):
                activity_id = n * each + i
                db.write(
                    lambda tx, a=activity_id: (
                        tx.execute(
                            "INSERT INTO activities (activity_id, activity_date, track, kind, region_id,"
                            " category_id) VALUES (?, DATE '2026-03-01', 'sales', 'visit', 1, 1)",
                            [a],
                        ),
                        # the same row updated by every writer: conflicts unless writes are serialised
                        tx.execute(
                            "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS VARCHAR)"
                            " WHERE key = 'hits'"
                        ),
                        tx.audit("activities", a, "create"),
                    ),
                    by=TESTER,
                )

        workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert db.scalar("SELECT count(DISTINCT activity_id) FROM activities") == threads * each
        assert db.scalar("SELECT value FROM meta WHERE key = 'hits'") == str(threads * each)
        assert db.version() == 3 + threads * each


def test_hooks_run_on_open_and_before_each_commit_with_the_tables_unmaintained_writes_touched(
    monkeypatch,
) -> None:
    from mktsales import summaries

    # the package registers the summaries' hooks: every Database runs them, whoever opened it
    assert summaries.opened in db_module._open_hooks
    assert summaries.before_commit in db_module._commit_hooks
    opened: list[Database] = []
    seen: list[tuple[frozenset[str], int]] = []

    def before_commit(db: Database, tx: Tx, written: frozenset[str]) -> None:
        # inside the transaction: the write's row is there, and a change here is committed with it
        seen.append((written, tx.execute("SELECT count(*) FROM meta WHERE key = 'hooked'").fetchone()[0]))

    monkeypatch.setattr(db_module, "_open_hooks", [])
    monkeypatch.setattr(db_module, "_commit_hooks", [])
    db_module.add_hooks(opened=opened.append, before_commit=before_commit)
    db_module.add_hooks(opened=opened.append, before_commit=before_commit)  # once each
    with Database(":memory:") as db:
        assert opened == [db]
        write_sql(db, "INSERT INTO meta VALUES ('hooked', '1')")
        assert seen == [(frozenset({"meta"}), 1)]
        db.write(
            lambda tx: (
                tx.execute("UPDATE meta SET value = '2' WHERE key = 'hooked'"),
                tx.audit("t", None, "x"),
            ),
            by=TESTER,
            maintained=True,  # keeps the derived tables itself: the hooks are not asked
        )
        assert len(seen) == 1
