"""Backups while the app runs, and restoring them (issue 8 part 3).

The tiny fixture (tests/fixtures/tiny.sql) holds 9 orders worth 16,600 (1000 + 1000 + 200 + 100
+ 300 + 2000 + 5000 + 3000 + 4000) and 9 payments worth 14,800 (1000 + 400 + 600 + 300 + 500
+ 5000 + 1000 + 2000 + 4000); loading it is one write, so its data version is 1. March 2026's
revenue is 10,200 and its collections 11,700 (tests/test_kpis.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from pytest import approx

from mktsales import backup, backup_spool, cli, kpis
from mktsales import db as db_module
from mktsales.audit import Actor, Tx
from mktsales.db import Database, DatabaseLocked
from mktsales.scope import Scope
from tests.conftest import MARCH, load_tiny, write_sql

ROOT = Path(__file__).parent.parent
NOON = dt.datetime(2026, 4, 1, 12, 30, 5, tzinfo=dt.UTC)
TINY_ROWS = {
    "regions": 3,
    "categories": 2,
    "products": 2,
    "people": 5,
    "customers": 3,
    "orders": 9,
    "payments": 9,
}
WRITER = Actor("writer")
FIRST_THREAD_ORDER = 1000  # the writer threads' order (and payment) ids start here


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Database]:
    """A database file holding the tiny fixture, open in this process as the app holds it."""
    with Database(tmp_path / "live.duckdb") as db:
        load_tiny(db)
        yield db


def _cli(*argv: str, wait: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mktsales", *argv], capture_output=True, text=True, cwd=ROOT, timeout=wait
    )


class Holder:
    """Another process holding a database file open, as a CLI command or a second app would."""

    def __init__(self, path: Path) -> None:
        code = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True)"
        code += "; sys.stdin.read()"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def __enter__(self) -> Holder:
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()  # it exits, releasing the file
        self.proc.wait(timeout=30)


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


def _one(conn: duckdb.DuckDBPyConnection, sql: str) -> object:
    return conn.execute(sql).fetchone()[0]


# -- the snapshot ------------------------------------------------------------------------------------
def test_snapshot_of_the_tiny_fixture_holds_the_same_data_and_a_correct_manifest(
    live: Database, tmp_path: Path
) -> None:
    manifest = backup.snapshot(live, tmp_path / "backups", now=NOON)

    assert manifest.path == tmp_path / "backups" / "mktsales-20260401-123005.duckdb"
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == [
        "mktsales-20260401-123005.duckdb",
        "mktsales-20260401-123005.duckdb.json",
    ]  # no .partial, no .wal left behind
    assert manifest.created_at == "2026-04-01T12:30:05+00:00"
    assert manifest.source == str((tmp_path / "live.duckdb").resolve())
    assert manifest.schema_version == max(v for v, _, _ in backup.migrations())
    assert manifest.data_version == 1
    assert {t: manifest.tables[t] for t in TINY_ROWS} == TINY_ROWS
    assert manifest.bytes == manifest.path.stat().st_size
    stored = json.loads(backup.manifest_path(manifest.path).read_text(encoding="utf-8"))
    assert stored["sha256"] == manifest.sha256 and len(stored["sha256"]) == 64
    assert stored["tables"]["orders"] == 9 and stored["data_version"] == 1

    # every table of the live file, with its rows, is in the backup
    names = live.rows("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()")
    live_tables = {name: live.scalar(f'SELECT count(*) FROM "{name}"') for (name,) in names}
    assert manifest.tables == live_tables

    copy = tmp_path / "opened.duckdb"  # opened through Database (it migrates), so a copy
    copy.write_bytes(manifest.path.read_bytes())
    with Database(copy) as restored:
        got = kpis.report(restored, Scope(*MARCH))
        assert got == kpis.report(live, Scope(*MARCH))
        assert got["sales"]["revenue"] == approx(10200.0)
        assert got["sales"]["collections"] == approx(11700.0)
        # sequences come back at their values: the next audit id follows the copied ones
        assert restored.scalar("SELECT nextval('audit_id_seq')") == manifest.tables["audit_log"] + 1


def test_snapshot_copies_constraints_views_indexes_and_sequences(live: Database, tmp_path: Path) -> None:
    manifest = backup.snapshot(live, tmp_path, now=NOON)
    catalog = (
        "SELECT 'table', table_name, sql FROM duckdb_tables() UNION ALL "
        "SELECT 'view', view_name, sql FROM duckdb_views() WHERE NOT internal UNION ALL "
        "SELECT 'index', index_name, sql FROM duckdb_indexes() UNION ALL "
        "SELECT 'sequence', sequence_name, CAST(last_value AS VARCHAR) FROM duckdb_sequences()"
    )
    with _open(manifest.path) as copy:
        assert sorted(copy.execute(catalog).fetchall()) == sorted(live.rows(catalog))
        views = _one(copy, "SELECT count(*) FROM duckdb_views() WHERE NOT internal")
        assert views >= 3  # the promotions views of migration 006, at least
    copy_rw = tmp_path / "rw.duckdb"
    copy_rw.write_bytes(manifest.path.read_bytes())
    with duckdb.connect(str(copy_rw)) as conn, pytest.raises(duckdb.ConstraintException):
        conn.execute("INSERT INTO payments VALUES (99, 424242, DATE '2026-03-01', 1, 'transfer')")  # no order


def test_a_second_backup_in_the_same_second_gets_its_own_name(live: Database, tmp_path: Path) -> None:
    first = backup.snapshot(live, tmp_path, now=NOON)
    second = backup.snapshot(live, tmp_path, now=NOON)
    assert (first.path.name, second.path.name) == (
        "mktsales-20260401-123005.duckdb",
        "mktsales-20260401-123005-1.duckdb",
    )


def _order_and_payment(order_id: int) -> object:
    """One write: an order of 10.00 and its payment of the same amount, audited."""

    def work(tx: Tx) -> None:
        tx.execute(
            "INSERT INTO orders (order_id, order_date, customer_id, product_id, region_id, category_id,"
            " quantity, amount) VALUES (?, DATE '2026-03-15', 1, 1, 1, 1, 1, 10.00)",
            [order_id],
        )
        tx.execute(
            "INSERT INTO payments (payment_id, order_id, paid_on, amount)"
            " VALUES (?, ?, DATE '2026-03-16', 10.00)",
            [order_id, order_id],
        )
        tx.audit("order", order_id, "create", after={"amount": 10})

    return work


def _check_consistent(path: Path, manifest_version: int) -> int:
    """Assert a backup holds whole writes only; return how many thread writes it holds (k)."""
    with _open(path) as conn:
        k = _one(conn, f"SELECT count(*) FROM orders WHERE order_id >= {FIRST_THREAD_ORDER}")
        # every order has its payment of the same amount, and no payment lacks its order
        assert _one(conn, f"SELECT count(*) FROM payments WHERE payment_id >= {FIRST_THREAD_ORDER}") == k
        unpaid = (
            "SELECT count(*) FROM orders o LEFT JOIN payments p ON p.payment_id = o.order_id"
            f" WHERE o.order_id >= {FIRST_THREAD_ORDER} AND (p.amount IS NULL OR p.amount <> o.amount)"
        )
        assert _one(conn, unpaid) == 0
        # the writers' audit entries (their summary rebuilds audit themselves, as entity 'summaries')
        assert _one(conn, "SELECT count(*) FROM audit_log WHERE actor = 'writer' AND entity = 'order'") == k
        # one version bump per write on top of the fixture's 1
        assert (
            int(_one(conn, "SELECT value FROM meta WHERE key = 'data_version'")) == 1 + k == manifest_version
        )
        # the summaries were committed with their writes: 9 + k orders worth 16,600 + 10 k
        assert conn.execute("SELECT sum(orders), sum(amount) FROM daily_orders").fetchone() == (
            9 + k,
            approx(16600 + 10 * k),
        )
        assert _one(conn, "SELECT sum(amount) FROM daily_payments") == approx(14800 + 10 * k)
    return k


def test_backups_taken_during_concurrent_writes_hold_whole_writes_only(
    live: Database, tmp_path: Path
) -> None:
    threads, stop = 6, threading.Event()
    written = [0] * threads
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            while not stop.is_set():
                live.write(_order_and_payment(FIRST_THREAD_ORDER + t * 100_000 + written[t]), by=WRITER)
                written[t] += 1
        except BaseException as exc:  # reported below
            errors.append(exc)

    pool = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    try:
        while sum(written) < 30:
            time.sleep(0.01)
        manifests = [backup.snapshot(live, tmp_path / "backups") for _ in range(5)]
    finally:
        stop.set()
        for thread in pool:
            thread.join()
    assert errors == []

    ks = []
    for manifest in manifests:
        k = _check_consistent(manifest.path, manifest.data_version)
        assert manifest.tables["orders"] == 9 + k and manifest.tables["payments"] == 9 + k
        assert backup.verify(manifest.path).data_version == 1 + k
        ks.append(k)
    assert ks == sorted(ks) and ks[0] < ks[-1]  # the writes went on while the backups were taken

    # nothing was lost in the live database
    total = sum(written)
    assert total >= ks[-1]
    assert live.scalar(f"SELECT count(*) FROM orders WHERE order_id >= {FIRST_THREAD_ORDER}") == total
    assert live.scalar(f"SELECT count(*) FROM payments WHERE payment_id >= {FIRST_THREAD_ORDER}") == total
    assert live.scalar("SELECT count(*) FROM audit_log WHERE actor = 'writer' AND entity = 'order'") == total
    assert live.version() == 1 + total

    # and a backup restores to its consistent state
    restored = tmp_path / "restored.duckdb"
    assert backup.restore(manifests[2].path, restored) is None  # nothing was there to keep
    assert _check_consistent(restored, 1 + ks[2]) == ks[2]


# -- verify and restore ------------------------------------------------------------------------------
def test_verify_refuses_a_backup_that_does_not_match_its_manifest(live: Database, tmp_path: Path) -> None:
    manifest = backup.snapshot(live, tmp_path, now=NOON)
    data = bytearray(manifest.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    manifest.path.write_bytes(bytes(data))
    with pytest.raises(backup.BackupError, match="does not match its manifest"):
        backup.verify(manifest.path)
    with pytest.raises(backup.BackupError, match="no backup file"):
        backup.verify(tmp_path / "missing.duckdb")


def test_restore_brings_back_the_backup_and_keeps_the_previous_file(tmp_path: Path, capsys) -> None:
    path = tmp_path / "live.duckdb"
    with Database(path) as db:
        load_tiny(db)
        taken = backup.snapshot(db, tmp_path / "backups", now=NOON)
        write_sql(
            db, "INSERT INTO orders VALUES (500, DATE '2026-03-10', 1, 1, 1, 1, 1, 999.00, NULL, NULL, 2)"
        )

    aside = backup.restore(taken.path, path, now=dt.datetime(2026, 4, 2, 8, 0, 0, tzinfo=dt.UTC))

    assert aside == tmp_path / "live.duckdb.before-restore-20260402-080000"
    with Database(path) as db:
        assert db.scalar("SELECT count(*) FROM orders") == 9  # order 500 came after the backup
        assert db.version() == 1
        assert kpis.totals(db, Scope(*MARCH))["revenue"] == approx(10200.0)
    with _open(aside) as before:  # nothing is lost: the replaced file still has order 500
        assert _one(before, "SELECT count(*) FROM orders") == 10
        assert _one(before, "SELECT value FROM meta WHERE key = 'data_version'") == "2"
    assert backup.verify(taken.path).sha256 == taken.sha256  # the backup itself was not changed

    # through the CLI: --yes is needed when stdin is not a terminal
    code = cli.main(["restore", "--db", str(path), "--from", str(taken.path)])
    out, err = capsys.readouterr()
    assert code == 2 and "pass --yes" in err and out == ""
    assert cli.main(["restore", "--db", str(path), "--from", str(taken.path), "--yes"]) == 0
    out, _ = capsys.readouterr()
    assert "sha256 matches its manifest" in out and "kept the previous database as" in out
    assert len(list(tmp_path.glob("live.duckdb.before-restore-*"))) == 2


def test_restore_keeps_changes_still_in_the_wal_with_the_file_it_replaces(tmp_path: Path) -> None:
    path = tmp_path / "live.duckdb"
    with Database(path) as db:
        load_tiny(db)
        taken = backup.snapshot(db, tmp_path / "backups", now=NOON)
    crash = (  # a process that saves order 500 and dies before any checkpoint: it stays in the .wal
        "import os, sys; from mktsales.db import Database; from tests.conftest import write_sql; "
        'db = Database(sys.argv[1]); write_sql(db, "INSERT INTO orders VALUES '
        "(500, DATE '2026-03-10', 1, 1, 1, 1, 1, 999.00, NULL, NULL, 2)\"); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", crash, str(path)], cwd=ROOT, check=True, timeout=60)
    assert Path(f"{path}.wal").exists()

    aside = backup.restore(taken.path, path)

    assert aside is not None and not Path(f"{path}.wal").exists()  # no stale .wal beside the restored file
    with Database(path) as db:
        assert db.scalar("SELECT count(*) FROM orders") == 9
    with _open(aside) as before:
        assert _one(before, "SELECT count(*) FROM orders WHERE order_id = 500") == 1


def test_restore_migrates_a_backup_of_an_older_schema_and_leaves_the_backup_as_it_was(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    shipped = db_module.migrations()
    monkeypatch.setattr(db_module, "migrations", lambda: [m for m in shipped if m[0] < 7])
    with Database(tmp_path / "old.duckdb") as db:  # before migration 007 (summary tables)
        load_tiny(db)
        taken = backup.snapshot(db, tmp_path / "backups", now=NOON)
    monkeypatch.setattr(db_module, "migrations", lambda: shipped)
    assert taken.schema_version == 6 and "daily_orders" not in taken.tables

    target = tmp_path / "app.duckdb"
    assert cli.main(["restore", "--db", str(target), "--from", str(taken.path), "--yes"]) == 0
    out, _ = capsys.readouterr()
    assert f"migrated the copy from schema 6 to {shipped[-1][0]}" in out
    with Database(target) as db:
        assert db.scalar("SELECT max(version) FROM schema_migrations") == shipped[-1][0]
        assert db.scalar("SELECT count(*) FROM daily_orders") == 9  # tiny.sql's 9 orders, one per day
        assert kpis.totals(db, Scope(*MARCH))["revenue"] == approx(10200.0)
    assert backup.verify(taken.path).schema_version == 6  # the backup file itself is untouched


def test_restore_refuses_while_another_process_holds_the_file(tiny_file: Path, tmp_path: Path) -> None:
    with Database(tiny_file) as db:
        taken = backup.snapshot(db, tmp_path / "backups")
    before = tiny_file.read_bytes()
    with Holder(tiny_file):
        with pytest.raises(DatabaseLocked, match="stop it before restoring"):
            backup.restore(taken.path, tiny_file)
        done = _cli("restore", "--db", str(tiny_file), "--from", str(taken.path), "--yes")
    assert done.returncode == 2 and "stop it before restoring" in done.stderr
    assert "Traceback" not in done.stderr
    assert tiny_file.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backups", "tiny.duckdb"]


# -- the CLI, with the app holding the file ----------------------------------------------------------
def test_the_cli_asks_the_app_holding_the_file_and_gets_a_consistent_backup(
    live: Database, tmp_path: Path
) -> None:
    live.write(_order_and_payment(FIRST_THREAD_ORDER), by=WRITER)  # data version 2
    stop = backup_spool.serve(live, interval=0.2)
    assert backup_spool.serve(live) is stop  # one thread per Database
    try:
        done = _cli(
            "backup", "--db", str(live.path), "--to", str(tmp_path / "backups"), "--json", "--wait", "60"
        )
    finally:
        stop()
    assert done.returncode == 0, done.stderr
    manifest = json.loads(done.stdout)
    assert manifest["data_version"] == 2 and manifest["tables"]["orders"] == 10
    assert manifest["source"] == str(Path(live.path).resolve())
    path = Path(manifest["path"])
    assert path.parent == tmp_path / "backups" and backup.NAME.match(path.name)
    assert backup.verify(path).sha256 == manifest["sha256"]
    assert list(backup_spool.spool_dir(live.path).iterdir()) == []  # request and answer both gone

    restored = tmp_path / "restored.duckdb"
    backup.restore(path, restored)
    assert _check_consistent(restored, 2) == 1


def test_serving_ends_when_the_database_is_closed_and_leaves_requests_for_the_next(tmp_path: Path) -> None:
    db = Database(tmp_path / "app.duckdb")
    backup_spool.serve(db, interval=0.05)
    assert id(db) in backup_spool._serving
    db.close()  # as Streamlit's cache releases it
    deadline = time.monotonic() + 10
    while id(db) in backup_spool._serving and time.monotonic() < deadline:
        time.sleep(0.05)
    assert id(db) not in backup_spool._serving
    spool = backup_spool.spool_dir(db.path)
    assert spool.is_dir()  # made by serve, and left for the next
    asked = _touch(spool / "late.json")
    time.sleep(0.3)
    assert asked.exists()  # not taken by the stopped thread


def test_the_cli_gives_up_at_once_when_the_holder_has_never_served_backups(
    tiny_file: Path, tmp_path: Path
) -> None:
    with Holder(tiny_file):
        done = _cli("backup", "--db", str(tiny_file), "--to", str(tmp_path / "backups"), "--wait", "60")
    assert done.returncode == 2
    assert done.stderr.endswith(
        f"error: {tiny_file} is in use by a process that does not serve backups (another CLI command?); "
        "try again when it has finished\n"
    )
    assert not backup_spool.spool_dir(tiny_file).exists()  # the CLI makes no spool: the app does
    assert not (tmp_path / "backups").exists()


def test_the_cli_gives_up_plainly_when_the_holder_does_not_serve_backups(
    tiny_file: Path, tmp_path: Path
) -> None:
    backup.private_dir(backup_spool.spool_dir(tiny_file))  # left by an app that served before
    with Holder(tiny_file):
        started = time.monotonic()
        done = _cli("backup", "--db", str(tiny_file), "--to", str(tmp_path / "backups"), "--wait", "2")
        seconds = time.monotonic() - started
    assert done.returncode == 2
    assert "does not serve backups (another CLI command?)" in done.stderr and "try again" in done.stderr
    assert "Traceback" not in done.stderr
    assert 2 <= seconds < 30
    assert list(backup_spool.spool_dir(tiny_file).iterdir()) == []  # the request was withdrawn
    assert not (tmp_path / "backups").exists() or list((tmp_path / "backups").iterdir()) == []


def test_the_cli_backs_up_a_file_nobody_holds_directly(tiny_file: Path, tmp_path: Path, capsys) -> None:
    before = tiny_file.read_bytes()
    code = cli.main(["backup", "--db", str(tiny_file), "--to", str(tmp_path / "backups")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "data version 1" in out and ", here" in out
    assert tiny_file.read_bytes() == before  # opened read-only
    assert not backup_spool.spool_dir(tiny_file).exists()


# -- keeping N ---------------------------------------------------------------------------------------
def _touch(path: Path) -> Path:
    path.write_text("x", encoding="utf-8")
    return path


def test_prune_deletes_only_the_oldest_backups_and_their_manifests(tmp_path: Path) -> None:
    names = [
        "mktsales-20260101-000000.duckdb",
        "mktsales-20260102-000000.duckdb",
        "mktsales-20260102-000000-1.duckdb",  # a second backup in the same second: newer
        "mktsales-20260103-000000.duckdb",
    ]
    for name in names:
        _touch(tmp_path / name)
        _touch(tmp_path / f"{name}.json")
    others = [
        "notes.txt",
        "mktsales-latest.duckdb",
        "other.duckdb",
        "mktsales-20251231-000000.duckdb.partial",
        "mktsales-20251231-000000.duckdb.wal",
        "mktsales-20251230-000000.duckdb.json",  # a manifest without its backup
    ]
    for name in others:
        _touch(tmp_path / name)
    os.utime(tmp_path / names[0], (0, 0))  # the age of a file does not matter, its name does

    deleted = backup.prune(tmp_path, keep=2)

    assert sorted(p.name for p in deleted) == sorted(
        [names[0], f"{names[0]}.json", names[1], f"{names[1]}.json"]
    )
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == sorted([names[2], f"{names[2]}.json", names[3], f"{names[3]}.json", *others])
    with pytest.raises(backup.BackupError):
        backup.prune(tmp_path, keep=0)


def test_backup_keep_prunes_after_a_successful_backup(tiny_file: Path, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    old = [
        _touch(folder / "mktsales-20200101-000000.duckdb"),
        _touch(folder / "mktsales-20200102-000000.duckdb"),
    ]
    notes = _touch(folder / "README.txt")

    code = cli.main(["backup", "--db", str(tiny_file), "--to", str(folder), "--keep", "2", "--json"])
    out, err = capsys.readouterr()

    assert code == 0, err
    newest = Path(json.loads(out)["path"])
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [old[1].name, newest.name, f"{newest.name}.json", notes.name]
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--keep", "0"], "--keep must be at least 1"), (["--wait", "0"], "--wait must be a positive")],
)
def test_backup_bad_arguments_exit_2(tiny_file: Path, tmp_path: Path, capsys, argv, message) -> None:
    code = cli.main(["backup", "--db", str(tiny_file), "--to", str(tmp_path / "b"), *argv])
    _, err = capsys.readouterr()
    assert code == 2 and message in err
    assert not (tmp_path / "b").exists()
