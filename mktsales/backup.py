"""Backups while the app runs, and restoring one (issue 8 part 3).

The process that holds the database file takes the snapshot: the app holds DuckDB's file lock, so
no other process may even read the file, and copying its bytes while it writes can tear. A
snapshot is DuckDB's ``COPY FROM DATABASE`` into a fresh file ATTACHed to the same connection, in
ONE transaction on a cursor of its own: MVCC gives it one consistent state while reps' writes go
on (Database's write lock is not taken). Tables with their constraints, views, indexes and
sequences are copied; a sequence is copied at its value at copy time, which is never behind the
snapshot's rows (sequences only advance), so ids stay unique after a restore.

The file is written inside ``<name>.partial/``, a directory only its owner may enter, fsynced,
then renamed to ``mktsales-YYYYMMDD-HHMMSS.duckdb`` (UTC); its manifest ``<name>.json`` is written
next to it (tmp + rename), so no half-written file ever has a final name. A backup holds
everything, password hashes included: the file and its manifest are 0600 and a directory made for
them 0700, whatever the umask (issue 23).

When the app holds the file, the CLI asks it through the spool directory (mktsales.backup_spool).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from mktsales.db import Database, DatabaseError, DatabaseLocked, migrations

log = logging.getLogger(__name__)

PREFIX = "mktsales-"
SUFFIX = ".duckdb"
# mktsales-20260331-235959.duckdb, or ...-235959-2.duckdb for a second backup in the same second
NAME = re.compile(r"^mktsales-(\d{8}-\d{6})(?:-(\d+))?\.duckdb$")
SPOOL_SUFFIX = ".requests"
POLL_SECONDS = 0.2  # how often the CLI looks for the app's answer
ANSWER_MAX_AGE = 24 * 3600  # answers nobody collected (a killed CLI) are removed after a day
_CHUNK = 1 << 20


class BackupError(DatabaseError):
    """A backup or restore that could not be done; the message says why and what to do."""


@dataclass
class Manifest:
    """What a backup holds: written next to it as ``<file>.json``."""

    path: Path
    created_at: str  # UTC, ISO 8601
    source: str
    schema_version: int
    data_version: int
    tables: dict[str, int] = field(default_factory=dict)  # rows per table
    bytes: int = 0
    sha256: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The manifest as a JSON object (the file name, not the whole path, is stored)."""
        found = asdict(self)
        found["path"] = str(self.path)
        found["file"] = self.path.name
        return found

    @classmethod
    def from_json(cls, data: dict[str, Any], path: Path | None = None) -> Manifest:
        """A manifest read back; ``path`` (the backup file) wins over the stored one."""
        return cls(
            path=Path(path if path is not None else data["path"]),
            created_at=str(data["created_at"]),
            source=str(data["source"]),
            schema_version=int(data["schema_version"]),
            data_version=int(data["data_version"]),
            tables={str(k): int(v) for k, v in data.get("tables", {}).items()},
            bytes=int(data.get("bytes", 0)),
            sha256=str(data.get("sha256", "")),
            seconds=float(data.get("seconds", 0.0)),
        )


def manifest_path(backup: Path) -> Path:
    """Where a backup's manifest lives: ``<file>.json``."""
    return backup.with_name(backup.name + ".json")


def latest_schema() -> int:
    """The newest schema version this code knows."""
    return max(version for version, _, _ in migrations())


# -- small file helpers ------------------------------------------------------------------------------
def _utc(now: dt.datetime | None) -> dt.datetime:
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(dt.UTC) if now.tzinfo else now.replace(tzinfo=dt.UTC)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a directory be fsynced
        _fsync(path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700  # backups and the spool: their owner's alone


def private_file(path: Path, owner: tuple[int, int] | None = None) -> int:
    """Create ``path`` (it must not exist) readable by its owner alone, whatever the umask, and
    return its descriptor open for writing; ``owner`` (uid, gid) hands it to that user (root's CLI
    writing into the app's spool)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)  # the umask could only have taken bits away; this is exact
        if owner is not None:
            os.fchown(fd, *owner)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    return fd


def private_dir(path: Path, *, parents: bool = False) -> bool:
    """Make the directory ``path`` 0700, whatever the umask; an existing one is left as it is.
    True when it was made here."""
    if parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(path, PRIVATE_DIR)
    except FileExistsError:
        if not path.is_dir():
            raise
        return False
    os.chmod(path, PRIVATE_DIR)
    return True


def write_json(path: Path, data: dict[str, Any], owner: tuple[int, int] | None = None) -> None:
    """Write ``data`` to ``path`` atomically (a tmp file, fsync, rename), readable by its owner only."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with os.fdopen(private_file(tmp, owner), "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _is_lock_error(exc: Exception) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _reserve(to_dir: Path, now: dt.datetime) -> tuple[Path, Path]:
    """The final name ``mktsales-YYYYMMDD-HHMMSS.duckdb`` (numbered when that second already has a
    backup) and its work directory ``<name>.partial/``, made here (0700): the name is ours."""
    stamp = now.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        name = f"{PREFIX}{stamp}{'' if n == 0 else f'-{n}'}{SUFFIX}"
        final, work = to_dir / name, to_dir / f"{name}.partial"
        if final.exists():
            continue
        try:
            os.mkdir(work, PRIVATE_DIR)
        except FileExistsError:  # another backup this second, under way
            continue
        os.chmod(work, PRIVATE_DIR)
        return final, work
    raise BackupError(f"too many backups in {to_dir} for {stamp}")


def _settle(path: Path) -> None:
    """Make sure everything of ``path`` is in the file itself, not in a ``.wal`` beside it."""
    wal = Path(f"{path}.wal")
    if wal.exists():  # DETACH checkpoints, so not expected; replayed and checkpointed, never dropped
        with duckdb.connect(str(path)) as conn:
            conn.execute("CHECKPOINT")
    if wal.exists():
        raise BackupError(f"{path} could not be checkpointed (its .wal remains)")


# -- the snapshot ------------------------------------------------------------------------------------
def _copy(conn: duckdb.DuckDBPyConnection, source: str, to_dir: Path, now: dt.datetime | None) -> Manifest:
    """Copy the database ``conn`` is connected to into a new backup file in ``to_dir``."""
    started = time.perf_counter()
    created = _utc(now)
    private_dir(to_dir, parents=True)
    final, work = _reserve(to_dir, created)
    # DuckDB makes the file and its .wal with the umask's mode: inside ``work`` nobody else can
    # open them; the file is 0600 before it leaves.
    partial = work / final.name
    alias = f"mktsales_backup_{uuid.uuid4().hex[:12]}"  # ours: never user input
    cur = conn.cursor()
    attached = False
    try:
        catalog = cur.execute("SELECT current_database()").fetchone()[0]
        cur.execute(f"ATTACH ? AS {alias} (READ_WRITE)", [str(partial)])
        attached = True
        # One transaction: the reads below and the copy see the same state (MVCC), while other
        # cursors keep writing. Its first statement fixes the snapshot.
        cur.execute("BEGIN TRANSACTION")
        try:
            schema = cur.execute(f"SELECT max(version) FROM {_quote(catalog)}.schema_migrations").fetchone()
            version = cur.execute(
                f"SELECT value FROM {_quote(catalog)}.meta WHERE key = 'data_version'"
            ).fetchone()
            cur.execute(f"COPY FROM DATABASE {_quote(catalog)} TO {alias}")
            names = [
                name
                for (name,) in cur.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY table_name",
                    [alias],
                ).fetchall()
            ]
            tables = {
                name: int(cur.execute(f"SELECT count(*) FROM {alias}.{_quote(name)}").fetchone()[0])
                for name in names
            }
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute(f"DETACH {alias}")  # checkpoints the copy into its file
        attached = False
        _settle(partial)
        _fsync(partial)
        size = partial.stat().st_size
        digest = _sha256(partial)
        os.chmod(partial, PRIVATE_FILE)
        os.replace(partial, final)
        _fsync_dir(to_dir)
    except duckdb.Error as exc:
        raise BackupError(f"backup of {source} failed: {exc}") from exc
    finally:
        if attached:
            with contextlib.suppress(duckdb.Error):
                cur.execute(f"DETACH {alias}")
        cur.close()
        _remove(partial, Path(f"{partial}.wal"))
        with contextlib.suppress(OSError):
            work.rmdir()
    manifest = Manifest(
        path=final,
        created_at=created.isoformat(timespec="seconds"),
        source=source,
        schema_version=int(schema[0] or 0) if schema else 0,
        data_version=int(version[0]) if version else 0,
        tables=tables,
        bytes=size,
        sha256=digest,
        seconds=round(time.perf_counter() - started, 3),
    )
    write_json(manifest_path(final), manifest.to_json())
    return manifest


def snapshot(db: Database, to_dir: str | Path, *, now: dt.datetime | None = None) -> Manifest:
    """Back ``db`` up into ``to_dir`` while it stays in use; returns the manifest (also written)."""
    if db.path == ":memory:":
        raise BackupError("an in-memory database has no file to back up")
    # A cursor of the app's connection shares the process's database instance.
    cur = db.cursor()
    try:
        return _copy(cur, str(Path(db.path).resolve()), Path(to_dir), now)
    finally:
        cur.close()


def snapshot_file(db_path: str | Path, to_dir: str | Path, *, now: dt.datetime | None = None) -> Manifest:
    """Back up a file nobody holds, opened read-only (not migrated); DatabaseLocked when held."""
    path = Path(db_path)
    if not path.exists():
        raise BackupError(f"no database at {path}")
    try:
        conn = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        if _is_lock_error(exc):
            raise DatabaseLocked(f"{path} is in use by another process") from exc
        raise BackupError(f"cannot open {path}: {exc}") from exc
    try:
        return _copy(conn, str(path.resolve()), Path(to_dir), now)
    finally:
        conn.close()


# -- checking and restoring --------------------------------------------------------------------------
def _read_manifest(backup: Path) -> Manifest | None:
    stored = manifest_path(backup)
    if not stored.exists():
        return None
    try:
        return Manifest.from_json(json.loads(stored.read_text(encoding="utf-8")), backup)
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"the manifest {stored} cannot be read: {exc}") from exc


def verify(path: str | Path) -> Manifest:
    """Check a backup: its manifest's size and sha256 (when present), and that it opens and reads.

    Returns what the file holds (schema and data version, rows per table). Read-only: the backup
    is never changed.
    """
    backup = Path(path)
    if not backup.is_file():
        raise BackupError(f"no backup file at {backup}")
    stored = _read_manifest(backup)
    size, digest = backup.stat().st_size, _sha256(backup)
    if stored is not None and (stored.bytes != size or stored.sha256 != digest):
        raise BackupError(
            f"{backup} does not match its manifest ({size:,} bytes, sha256 {digest[:12]}…; the manifest "
            f"says {stored.bytes:,} bytes, {stored.sha256[:12]}…): the file is damaged or was replaced"
        )
    try:
        conn = duckdb.connect(str(backup), read_only=True)
    except duckdb.Error as exc:
        raise BackupError(f"{backup} is not a database this version can open: {exc}") from exc
    try:
        names = [
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
                " ORDER BY table_name"
            ).fetchall()
        ]
        if "schema_migrations" not in names or "meta" not in names:
            raise BackupError(f"{backup} is a DuckDB file but not an mktsales database")
        schema = int(conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] or 0)
        found = conn.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
        # rows per table, against the manifest's; the sha256 above already vouches for every byte
        count = "SELECT count(*) FROM {}"
        tables = {name: int(conn.execute(count.format(_quote(name))).fetchone()[0]) for name in names}
    except duckdb.Error as exc:
        raise BackupError(f"{backup} cannot be read: {exc}") from exc
    finally:
        conn.close()
    if schema > latest_schema():
        raise BackupError(
            f"{backup} has schema version {schema}, newer than this program's {latest_schema()}: "
            "restore it with the version of mktsales that wrote it"
        )
    if stored is not None and stored.tables and stored.tables != tables:
        raise BackupError(f"{backup} holds other row counts than its manifest says: the file is damaged")
    return Manifest(
        path=backup,
        created_at=stored.created_at if stored else "",
        source=stored.source if stored else "",
        schema_version=schema,
        data_version=int(found[0]) if found else 0,
        tables=tables,
        bytes=size,
        sha256=digest,
        seconds=stored.seconds if stored else 0.0,
    )


def in_use(db_path: str | Path) -> bool:
    """True when another process holds ``db_path`` (DuckDB's file lock)."""
    path = Path(db_path)
    if not path.exists():
        return False
    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.Error as exc:
        return _is_lock_error(exc)
    return False


def _in_use_message(path: Path) -> str:
    return (
        f"{path} is in use by another process (is the app running?): stop it before restoring; "
        "nothing was changed"
    )


@contextlib.contextmanager
def _held(path: Path) -> Iterator[None]:
    """Hold ``path``'s file lock (so nobody opens it meanwhile); refuse when another process has it.

    A file that exists but does not open (damaged: perhaps why it is being restored) is not held.
    """
    conn = None
    if path.exists():
        try:
            conn = duckdb.connect(str(path))
            conn.execute("CHECKPOINT")  # its .wal, if any, into the file before it is moved aside
        except duckdb.Error as exc:
            if _is_lock_error(exc):
                raise DatabaseLocked(_in_use_message(path)) from exc
            log.warning("restoring over %s, which does not open: %s", path, exc)
            conn = None
    try:
        yield
    finally:
        if conn is not None:
            conn.close()


def restore(backup: str | Path, db_path: str | Path, *, now: dt.datetime | None = None) -> Path | None:
    """Put ``backup`` in place of ``db_path``; the file there before is kept, its path returned.

    Refuses (DatabaseLocked) while another process holds ``db_path``. The backup is verified,
    copied next to ``db_path`` and migrated to the current schema there, then the current file
    (and its .wal) is renamed to ``<db_path>.before-restore-YYYYMMDD-HHMMSS`` and the copy renamed
    into place. None when there was no file to keep.
    """
    source, target = Path(backup), Path(db_path)
    if in_use(target):  # checked again, holding the lock, just before the swap
        raise DatabaseLocked(_in_use_message(target))
    verify(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.restore-{uuid.uuid4().hex[:8]}.partial")
    try:
        os.close(private_file(tmp))  # the restored database is its owner's alone, as a backup is
        shutil.copyfile(source, tmp)
        with Database(tmp):  # migrated to the current schema (its summaries filled if new)
            pass
        _settle(tmp)
        _fsync(tmp)
        stamp = _utc(now).strftime("%Y%m%d-%H%M%S")
        aside = Path(f"{target}.before-restore-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = Path(f"{target}.before-restore-{stamp}-{n}")
        with _held(target):
            kept = None
            if target.exists():
                os.replace(target, aside)
                kept = aside
            wal = Path(f"{target}.wal")
            if wal.exists():  # kept with its file: DuckDB reads <file>.wal beside <file>
                os.replace(wal, Path(f"{aside}.wal"))
                kept = aside
            os.replace(tmp, target)
            _fsync_dir(target.parent)
    finally:
        _remove(tmp, Path(f"{tmp}.wal"))
    return kept


def prune(to_dir: str | Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups (and their manifests) in ``to_dir``.

    Only files named like a backup (``mktsales-YYYYMMDD-HHMMSS[-N].duckdb``) are considered;
    nothing else is ever deleted. Returns the deleted paths.
    """
    if keep < 1:
        raise BackupError("--keep must be at least 1")
    found = []
    for entry in Path(to_dir).iterdir():
        match = NAME.match(entry.name)
        if match and entry.is_file():
            found.append(((match.group(1), int(match.group(2) or 0)), entry))
    found.sort(reverse=True)
    deleted = []
    for _, path in found[keep:]:
        for old in (path, manifest_path(path)):
            if old.exists():
                old.unlink()
                deleted.append(old)
    return deleted
