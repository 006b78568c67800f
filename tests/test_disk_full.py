"""A full disk (issue 23, point 12): said as a full disk, never as a write conflict, and not retried.

DuckDB 2.0 on a full file system (measured on a 16-64 MB tmpfs): the COMMIT fails with
``TransactionException: Failed to commit: Could not write file "<db>.wal": No space left on
device`` and ends the transaction, so the ROLLBACK after it fails with "cannot rollback - no
transaction is active"; the connection works again once space is freed. A checkpoint that fails
the same way is a FatalException that invalidates the database until a restart. The tests inject
exactly those errors (a connection whose cursors fail the COMMIT), so they need no full disk.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from mktsales import db as db_module
from mktsales import forms
from mktsales.audit import Actor, Tx
from mktsales.cli import main
from mktsales.db import Database, DatabaseStopped, DiskFull, WriteFailed
from mktsales.entries import EntryFailed
from tests.conftest import ORDERS_FILE, load_tiny

WRITER = Actor("test")
FULL = 'TransactionContext Error: Failed to commit: Could not write file "{}.wal": No space left on device'
EN_FULL = "The disk is full: nothing was saved. Free some disk space, then try again."
ZH_FULL = "磁盘已满，没有保存任何内容。请腾出磁盘空间后再试。"


class _Cursor:
    """A real cursor whose COMMIT fails as DuckDB's does on a full disk while ``disk.error`` is set."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, disk: _Disk) -> None:
        self._cur, self._disk = cur, disk

    def execute(self, sql: str, params: Any = None) -> Any:
        if sql == "COMMIT" and self._disk.error is not None:
            self._disk.commits += 1
            self._cur.execute("ROLLBACK")  # DuckDB ends the transaction: the ROLLBACK after fails
            raise self._disk.error
        return self._cur.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)


class _Disk:
    """A connection (or ``duckdb.connect``) whose cursors are _Cursor."""

    def __init__(self, error: Exception | None) -> None:
        self.error, self.commits = error, 0

    def wrap(self, conn: duckdb.DuckDBPyConnection) -> Any:
        disk = self

        class Conn:
            def cursor(self) -> _Cursor:
                return _Cursor(conn.cursor(), disk)

            def __getattr__(self, name: str) -> Any:
                return getattr(conn, name)

        return Conn()


def _full(db: Database, monkeypatch: pytest.MonkeyPatch, error: Exception | None = None) -> _Disk:
    disk = _Disk(error or duckdb.TransactionException(FULL.format(db.path)))
    monkeypatch.setattr(db, "_conn", disk.wrap(db._conn))
    return disk


def _add_region(code: str) -> Any:
    def work(tx: Tx) -> None:
        tx.execute("INSERT INTO regions VALUES (99, ?, ?, ?)", [code, code, code])
        tx.audit("regions", 99, "create")

    return work


@pytest.fixture
def db(tmp_path: Path) -> Database:
    with Database(tmp_path / "app.duckdb") as opened:
        load_tiny(opened)
        yield opened


def test_a_commit_on_a_full_disk_is_a_full_disk_not_a_conflict_and_leaves_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (db.version(), db.rows("SELECT * FROM regions ORDER BY 1"))
    disk = _full(db, monkeypatch)
    with pytest.raises(DiskFull) as failed:
        db.write(_add_region("west"), by=WRITER)
    assert failed.value.message("en") == EN_FULL and failed.value.message("zh") == ZH_FULL
    assert str(failed.value) == f"{EN_FULL} ({db.path}: {FULL.format(db.path)})"
    assert isinstance(failed.value.__cause__, duckdb.TransactionException)  # the COMMIT's, kept
    assert "cannot rollback" not in str(failed.value)
    assert disk.commits == 1
    assert (db.version(), db.rows("SELECT * FROM regions ORDER BY 1")) == before

    disk.error = None  # space freed: the same connection writes again
    db.write(_add_region("west"), by=WRITER)
    assert db.scalar("SELECT code FROM regions WHERE region_id = 99") == "west"
    assert db.version() == before[0] + 1


def test_a_form_save_on_a_full_disk_is_tried_once_and_says_the_disk_is_full(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = _full(db, monkeypatch)
    with pytest.raises(EntryFailed) as failed:  # a conflict would be tried 5 times
        forms.write(db, _add_region("west"), by=WRITER, failed=EntryFailed, name="entry", attempts=5, pause=0)
    assert disk.commits == 1
    assert failed.value.key == "db.error.disk_full"
    assert failed.value.message("en") == EN_FULL and failed.value.message("zh") == ZH_FULL


def test_a_conflict_is_still_a_conflict(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    disk = _full(
        db, monkeypatch, duckdb.TransactionException("TransactionContext Error: Conflict on update!")
    )
    with pytest.raises(EntryFailed) as failed:
        forms.write(db, _add_region("west"), by=WRITER, failed=EntryFailed, name="entry", attempts=3, pause=0)
    assert disk.commits == 3  # retried
    assert failed.value.key == "entry.error.write_failed"
    assert "Conflict on update" in str(failed.value)  # the COMMIT's error, not the ROLLBACK's


def test_another_io_error_says_the_database_could_not_write(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _full(
        db, monkeypatch, duckdb.IOException('IO Error: Could not write file "x.wal": Read-only file system')
    )
    with pytest.raises(WriteFailed) as failed:
        db.write(_add_region("west"), by=WRITER)
    assert type(failed.value) is WriteFailed
    assert failed.value.message("en") == (
        "The database could not write to its disk: nothing was saved. Try again later; "
        "if it keeps failing, tell an administrator."
    )


def test_a_checkpoint_that_fails_says_the_database_must_be_restarted(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    fatal = duckdb.FatalException(
        'FATAL Error: Failed to create checkpoint because of error: Could not write file "x.duckdb": '
        "No space left on device"
    )
    _full(db, monkeypatch, fatal)
    with pytest.raises(DatabaseStopped) as failed:
        db.write(_add_region("west"), by=WRITER)
    assert failed.value.message("en").startswith(
        "The database stopped after a failed write to its disk (is the disk full?): "
        "nothing can be saved until the app is restarted."
    )


def test_a_full_disk_while_writing_a_file_of_the_work_is_a_full_disk(db: Database) -> None:
    def work(tx: Tx) -> None:
        _add_region("west")(tx)
        raise OSError(28, "No space left on device", "photo.jpg")  # a photo saved with a post

    with pytest.raises(DiskFull):
        db.write(work, by=WRITER)
    assert db.scalar("SELECT count(*) FROM regions WHERE region_id = 99") == 0


def test_the_cli_import_on_a_full_disk_prints_one_line_and_exits_non_zero(
    tiny_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with Database(tiny_file) as before_db:
        before = before_db.rows("SELECT * FROM orders ORDER BY order_id")
    disk = _Disk(duckdb.TransactionException(FULL.format(tiny_file)))
    real = duckdb.connect
    monkeypatch.setattr(db_module.duckdb, "connect", lambda *a, **k: disk.wrap(real(*a, **k)))
    orders = tmp_path / "orders.csv"
    orders.write_text(ORDERS_FILE, encoding="utf-8")
    code = main(["import", "--db", str(tiny_file), "--kind", "orders", str(orders)])
    out, err = capsys.readouterr()
    monkeypatch.undo()
    assert code == 2 and disk.commits == 1
    assert err == f"error: {EN_FULL} ({tiny_file}: {FULL.format(tiny_file)})\n"
    assert out == "" and "Traceback" not in err
    with Database(tiny_file) as after_db:
        assert after_db.rows("SELECT * FROM orders ORDER BY order_id") == before


def test_the_cli_import_says_when_its_problems_file_meets_a_full_disk(
    tiny_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = tmp_path / "problems.csv"

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(problems))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    orders = tmp_path / "orders.csv"
    orders.write_text(ORDERS_FILE, encoding="utf-8")
    code = main(
        ["import", "--db", str(tiny_file), "--kind", "orders", str(orders), "--problems", str(problems)]
    )
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == f"error: {problems}: No space left on device\n"
    with Database(tiny_file) as after:
        assert after.scalar("SELECT count(*) FROM external_keys") == 0  # nothing imported
