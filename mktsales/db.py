"""The database: one DuckDB connection per process, migrations, and the one write path.

DuckDB connection objects must not be shared across threads (measured: lost rows and silent
None results), so every operation opens its own cursor. Writes are serialised behind one lock,
run in one transaction, and bump the data version that cached reads take as an argument.

Group commit: a write waits in a queue; whoever holds the lock runs every write queued by then in
one transaction (one BEGIN, one version bump, one COMMIT, one INSERT per table for their audit and
appended rows), so twenty writers do not pay twenty commits. If any of them fails, the batch is
rolled back and each write is run again in a transaction of its own, so one bad write never
takes the others down and each caller gets its own result or error.

Derived tables stay current in the same transaction through hooks this module knows only as
functions (the summary tables, mktsales/summaries.py, register theirs in mktsales/__init__.py):
an open hook runs once the file is migrated, and a commit hook runs before each COMMIT with the
tables written by the batch's writes that did not keep the derived tables current themselves (a
write that does says so: ``maintained=True``).
"""

from __future__ import annotations

import errno
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from mktsales.audit import Actor, AuditMissing, Pending, Tx
from mktsales.i18n import t

T = TypeVar("T")
log = logging.getLogger(__name__)
Params = Sequence[Any] | dict[str, Any] | None


class DatabaseError(Exception):
    """A database problem a person can act on; the message says what happened."""


class DatabaseLocked(DatabaseError):
    """Another process holds the database file."""


class DatabaseDamaged(DatabaseError):
    """The file is damaged or cut short: DuckDB cannot read it (issue 23)."""


# What DuckDB 2.0 says about a file it cannot read (measured on a file cut in half, one with a block
# overwritten, one that is not a DuckDB file); after a fatal error it refuses every query.
_DAMAGE = ("could not read enough bytes", "corrupt database file", "not a valid duckdb database file",
           "database has been invalidated")  # fmt: skip


def is_damage(exc: BaseException) -> bool:
    """True for DuckDB's errors about an unreadable file, not for a mistake in a query."""
    return isinstance(exc, duckdb.FatalException) or (
        isinstance(exc, duckdb.Error) and any(s in str(exc).lower() for s in _DAMAGE)
    )


def damaged(path: str | Path, exc: BaseException) -> DatabaseDamaged:
    """The one-line refusal for a damaged file, naming the file and DuckDB's reason."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DatabaseDamaged(
        f"{path} cannot be read: the file is damaged or cut short ({reason}). "
        "Restore it from a backup (python -m mktsales restore)."
    )


class WriteFailed(DatabaseError):
    """The database file could not be written: the write was rolled back, nothing of it saved
    (but see DatabaseStopped).

    Not a conflict: trying again at once cannot help, so it is never retried like one. ``key``
    names the translated message for a person; ``str()`` is that message in English, for the CLI.
    """

    key = "db.error.write_failed"

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"{t(self.key, 'en')} ({path}: {' '.join(detail.split())})")
        self.path, self.detail = path, detail

    def message(self, lang: str) -> str:
        """What a person is told, in their language."""
        return t(self.key, lang)


class DiskFull(WriteFailed):
    """The disk (or the user's quota) holding the database is full."""

    key = "db.error.disk_full"


class DatabaseStopped(WriteFailed):
    """DuckDB gave up on the file after a failed write (a checkpoint on a full disk, say): this
    process can neither read nor write it until it is restarted, and the last write may or may
    not be in the file's .wal."""

    key = "db.error.stopped"


# How DuckDB words a full disk: 'Could not write file "x.duckdb.wal": No space left on device'
# (the OS's strerror; the C library's English, as Python leaves LC_MESSAGES alone).
_FULL = ("no space left on device", "disk quota exceeded")
_UNWRITABLE = ("could not write file", "read-only file system", "input/output error")


def write_failure(exc: BaseException, path: str) -> WriteFailed | None:
    """``exc`` as DiskFull or WriteFailed when it says the file could not be written, else None."""
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, duckdb.FatalException):  # "database has been invalidated": restart
        return DatabaseStopped(path, text)
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(path, text)
    if isinstance(exc, duckdb.Error) and any(words in lowered for words in _FULL):
        return DiskFull(path, text)
    if isinstance(exc, duckdb.IOException) or (
        isinstance(exc, duckdb.Error) and any(words in lowered for words in _UNWRITABLE)
    ):
        return WriteFailed(path, text)
    return None


def migrations() -> list[tuple[int, str, str]]:
    """The packaged migrations as (version, name, sql), in order."""
    found = []
    for entry in resources.files("mktsales.migrations").iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def _roll_back(cur: duckdb.DuckDBPyConnection, exc: BaseException, path: str) -> None:
    """Roll back after ``exc``; raise WriteFailed (or DiskFull) instead when ``exc`` says the file
    could not be written, and otherwise return so the caller re-raises ``exc`` itself.

    A COMMIT that fails (a full disk) ends the transaction, so the ROLLBACK then fails with "no
    transaction is active": that error must not replace the COMMIT's, which made a full disk look
    like a write conflict, retried and reported as one (issue 23).
    """
    try:
        cur.execute("ROLLBACK")
    except duckdb.Error as rollback:
        log.info("rollback after %s failed: %s", type(exc).__name__, rollback)
    failure = write_failure(exc, path)
    if failure is not None:
        raise failure from exc


MAX_BATCH = 64  # writes committed together at most
SYSTEM = Actor("system")

# Hooks of tables derived from others (see the module's docstring), process-wide: every Database
# runs them, whoever opened it. An open hook gets the migrated Database; a commit hook gets the
# Database, the batch's Tx and the (non-empty) set of tables its unmaintained writes touched.
OpenHook = Callable[["Database"], None]
CommitHook = Callable[["Database", Tx, frozenset[str]], None]
_open_hooks: list[OpenHook] = []
_commit_hooks: list[CommitHook] = []


def add_hooks(*, opened: OpenHook | None = None, before_commit: CommitHook | None = None) -> None:
    """Register hooks for every Database (once each: registering the same function again is a no-op)."""
    if opened is not None and opened not in _open_hooks:
        _open_hooks.append(opened)
    if before_commit is not None and before_commit not in _commit_hooks:
        _commit_hooks.append(before_commit)


class _Job:
    """One queued write and, once run, its result or error."""

    __slots__ = ("by", "data", "done", "error", "maintained", "result", "work")

    def __init__(self, work: Callable[[Tx], Any], by: Actor, data: bool, maintained: bool) -> None:
        self.work, self.by, self.data, self.maintained = work, by, data, maintained
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None


class Database:
    """One open DuckDB file (or ``:memory:``), migrated to the latest schema."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = duckdb.connect(self.path)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise DatabaseLocked(
                    f"{self.path} is in use by another process (is the app running?). "
                    "Stop it, or work on a copy of the file."
                ) from exc
            if is_damage(exc):
                raise damaged(self.path, exc) from exc
            raise DatabaseError(f"cannot open {self.path}: {exc}") from exc
        self._lock = threading.Lock()
        self._queue: deque[_Job] = deque()
        try:
            self._prepare()
        except duckdb.Error as exc:
            self._conn.close()
            if is_damage(exc):
                raise damaged(self.path, exc) from exc
            raise

    def _prepare(self) -> None:
        self.migrate()
        for hook in _open_hooks:
            hook(self)

    # -- reading -----------------------------------------------------------------------------
    def query(self, sql: str, params: Params = None) -> pd.DataFrame:
        """Run one read query with bound parameters and return a small frame."""
        cur = self._conn.cursor()
        try:
            return cur.execute(sql, params).df()
        finally:
            cur.close()

    def rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        """Run one read query and return its rows as tuples."""
        cur = self._conn.cursor()
        try:
            return cur.execute(sql, params).fetchall()
        finally:
            cur.close()

    def scalar(self, sql: str, params: Params = None) -> Any:
        """Run one read query and return the first column of its first row."""
        found = self.rows(sql, params)
        return found[0][0] if found else None

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own, for a reader that needs several statements in one transaction (an
        import's dry run with its temporary tables, a backup's snapshot). Never for writing: every
        change goes through write(). The caller closes it."""
        return self._conn.cursor()

    def version(self) -> int:
        """The data version: bumped by every write, so caches keyed on it stay correct."""
        return int(self.scalar("SELECT value FROM meta WHERE key = 'data_version'") or 0)

    # -- writing -----------------------------------------------------------------------------
    def write(self, work: Callable[[Tx], T], *, by: Actor, data: bool = True, maintained: bool = False) -> T:
        """The one write path: serialised, one transaction, audited, and the data version bumped.

        ``work`` gets a Tx (the cursor plus ``audit()``) and must record at least one audit
        entry, or everything it did is rolled back (AuditMissing). ``data=False`` marks a write
        that changes no reported number (accounts, sessions), so cached pages stay valid.
        ``maintained=True``: the work keeps the derived tables current itself (summaries.changed,
        or a rebuild of its own); otherwise the commit hooks get every table it wrote to.
        ``work`` may be run twice (see group commit above): it must not count on running once.
        """
        job = _Job(work, by, data, maintained)
        self._queue.append(job)  # deque.append is atomic
        while not job.done:
            with self._lock:
                if job.done:  # run by the writer that held the lock before us
                    break
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), MAX_BATCH))]
                self._run(batch)
        if job.error is not None:
            raise job.error
        return job.result

    def _run(self, batch: list[_Job]) -> None:
        """Commit ``batch`` together; when that fails, each job in a transaction of its own."""
        if len(batch) > 1:
            try:
                self._commit(batch)
                return
            except Exception:  # one of them failed: find out which, alone
                pass
        for job in batch:
            try:
                self._commit([job])
            except BaseException as exc:
                job.error, job.done = exc, True
                if not isinstance(exc, Exception):
                    for rest in batch:  # an interrupt: tell everyone still waiting
                        if not rest.done:
                            rest.error, rest.done = exc, True
                    raise

    def _commit(self, jobs: list[_Job]) -> None:
        cur = self._conn.cursor()
        try:
            cur.execute("BEGIN TRANSACTION")
            pending = Pending()
            results = []
            written: set[str] = set()
            for job in jobs:
                tx = Tx(cur, job.by, pending)
                results.append(job.work(tx))
                if not tx.entries:
                    raise AuditMissing(f"a write by {job.by.name} recorded no audit entry")
                if not job.maintained:
                    written |= tx.written
            if written:
                for hook in _commit_hooks:
                    hook(self, Tx(cur, jobs[-1].by, pending), frozenset(written))
            pending.flush(cur)
            bumps = sum(job.data for job in jobs)
            if bumps:  # a plain UPDATE: an upsert cost 1.3-1.9 ms of a 5.6 ms entry (issue 6)
                bumped = cur.execute(
                    "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + ? AS VARCHAR)"
                    " WHERE key = 'data_version' RETURNING value",
                    [bumps],
                ).fetchall()
                if not bumped:
                    cur.execute("INSERT INTO meta VALUES ('data_version', ?)", [str(bumps)])
            cur.execute("COMMIT")
            for job, result in zip(jobs, results, strict=True):
                job.result, job.done = result, True
        except BaseException as exc:
            _roll_back(cur, exc, self.path)
            raise
        finally:
            cur.close()

    def migrate(self) -> list[str]:
        """Apply every migration newer than the file's schema; return the names applied."""
        with self._lock:
            cur = self._conn.cursor()
            try:
                cur.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
                    " applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
                )
                done = {v for (v,) in cur.execute("SELECT version FROM schema_migrations").fetchall()}
                applied = []
                for version, name, sql in migrations():
                    if version in done:
                        continue
                    cur.execute("BEGIN TRANSACTION")
                    try:
                        cur.execute(sql)
                        cur.execute(
                            "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name]
                        )
                        cur.execute("COMMIT")
                    except BaseException as exc:
                        _roll_back(cur, exc, self.path)
                        raise
                    applied.append(name)
                return applied
            finally:
                cur.close()

    def is_empty(self) -> bool:
        """True when the file has a schema but no data yet."""
        return not self.scalar("SELECT count(*) FROM regions")

    def close(self) -> None:
        """Release the file (and its lock)."""
        self._conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
