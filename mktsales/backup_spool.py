"""Asking the app for a backup: the spool directory ``<db path>.requests/`` (issue 8 part 3).

The CLI cannot open a file the app holds, so it leaves a request file in the spool and the app
(``serve``, one thread) takes the snapshot and writes its answer beside it.

Anyone who can write into the spool can make the app, running as its own user, write a full copy
of the database, password hashes included (issue 23). So: the app makes the spool itself, 0700,
and serves only a spool it owns; the CLI never makes it (no spool: the holder serves no backups).
A request may name only the app's backup folder (``config.backup_dir``, $MKTSALES_BACKUP_DIR) or a
directory already inside it, symlinks and ``..`` resolved; the app makes no directory but that
folder. Requests, answers and backups are 0600.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import stat
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from mktsales import config
from mktsales.backup import BackupError, Manifest, private_dir, snapshot, write_json
from mktsales.db import Database

log = logging.getLogger(__name__)

SPOOL_SUFFIX = ".requests"
POLL_SECONDS = 0.2  # how often the CLI looks for the app's answer
ANSWER_MAX_AGE = 24 * 3600  # answers nobody collected (a killed CLI) are removed after a day


def spool_dir(db_path: str | Path) -> Path:
    """Where backup requests for ``db_path`` are left for the process holding it."""
    return Path(f"{Path(db_path).resolve()}{SPOOL_SUFFIX}")


def _not_serving(db_path: str | Path, wait: float | None = None) -> BackupError:
    waited = "" if wait is None else f" and nobody answered within {wait:g} s"
    return BackupError(
        f"{db_path} is in use by a process that does not serve backups (another CLI command?){waited}; "
        "try again when it has finished"
    )


# -- the CLI's side ----------------------------------------------------------------------------------
def request(db_path: str | Path, to_dir: str | Path, *, wait: float = 120.0) -> Manifest:
    """Ask the process holding ``db_path`` for a backup into ``to_dir``, and wait for its answer."""
    spool = spool_dir(db_path)
    if not spool.is_dir():  # made by the app when it serves: without it nobody will answer
        raise _not_serving(db_path)
    key = uuid.uuid4().hex
    asked, answer = spool / f"{key}.json", spool / f"{key}.done.json"
    requested = dt.datetime.now(dt.UTC)
    found = spool.stat()
    root_for_another = os.geteuid() == 0 and found.st_uid != 0  # the file must be the app's to read
    owner = (found.st_uid, found.st_gid) if root_for_another else None
    write_json(
        asked,
        {
            "to_dir": str(Path(to_dir).resolve()),
            "requested_at": requested.isoformat(),
            "deadline": (requested + dt.timedelta(seconds=wait)).isoformat(),
        },
        owner,
    )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if answer.exists():
            return _collect(answer)
        time.sleep(POLL_SECONDS)
    if answer.exists():
        return _collect(answer)
    try:
        asked.unlink()  # nobody took it: withdraw it, so it is not served later
    except FileNotFoundError:
        raise BackupError(
            f"the process holding {db_path} took the backup request but did not answer within "
            f"{wait:g} s; the backup may still appear in {to_dir} (try a longer --wait)"
        ) from None
    raise _not_serving(db_path, wait)


def _collect(answer: Path) -> Manifest:
    data = json.loads(answer.read_text(encoding="utf-8"))
    answer.unlink(missing_ok=True)
    if "error" in data:
        raise BackupError(f"the app could not take the backup: {data['error']}")
    return Manifest.from_json(data["manifest"])


# -- the app's side ----------------------------------------------------------------------------------
def allowed_target(wanted: str | Path, folder: Path) -> Path:
    """``wanted`` resolved, when it is ``folder`` or a directory already inside it; else BackupError.

    Symlinks and ``..`` are resolved before the check. ``folder`` itself is made (0700) when
    missing; nothing else is: a request cannot make the app create a directory.
    """
    root = folder.resolve()
    target = Path(wanted)
    if not target.is_absolute():
        raise BackupError(f"the backup directory must be an absolute path, not {str(wanted)!r}")
    resolved = target.resolve()
    if resolved != root and root not in resolved.parents:
        raise BackupError(
            f"the app writes backups only into {root} (MKTSALES_BACKUP_DIR) or a directory in it; "
            f"{wanted} is outside it: nothing was written"
        )
    if resolved == root:
        private_dir(root, parents=True)
    elif not resolved.is_dir():
        raise BackupError(f"{wanted} is not a directory in {root} (the app makes none): nothing was written")
    return resolved


_serving: dict[int, Callable[[], None]] = {}
_serving_lock = threading.Lock()


def serve(db: Database, *, interval: float = 1.0, folder: Path | None = None) -> Callable[[], None]:
    """Answer backup requests for ``db`` from one daemon thread; returns the function that stops it.

    Every ``interval`` seconds the thread lists the spool directory (one directory read when
    empty), takes each request (a rename, so no request runs twice), runs ``snapshot`` into the
    target if it is in ``folder`` (default: config.backup_dir for this database) and writes the
    answer atomically. Calling it again for the same Database returns the same stop.
    """
    if db.path == ":memory:":
        return lambda: None
    with _serving_lock:
        if id(db) in _serving:
            return _serving[id(db)]
        stopped = threading.Event()
        spool = spool_dir(db.path)
        backups = folder if folder is not None else config.backup_dir(db.path)
        if not _own_spool(spool):  # made now, so a CLI run right after the start finds it
            return lambda: None

        def loop() -> None:
            while not stopped.wait(interval):
                try:
                    if not _serve_once(db, spool, backups):
                        break  # the database was closed
                except Exception:  # keep serving: one bad request must not end the thread
                    log.exception("serving backup requests for %s", db.path)
            with _serving_lock:
                _serving.pop(id(db), None)

        thread = threading.Thread(target=loop, name=f"mktsales-backup-{Path(db.path).name}", daemon=True)

        def stop() -> None:
            stopped.set()
            if thread is not threading.current_thread():
                thread.join(timeout=interval + 5)
            with _serving_lock:
                _serving.pop(id(db), None)

        _serving[id(db)] = stop
        thread.start()
        return stop


def _own_spool(spool: Path) -> bool:
    """Make the spool (0700) if missing and tighten one of ours that is looser; False (and a log
    line) when it is not a directory this user owns, so it is not served."""
    try:
        private_dir(spool)
        found = os.lstat(spool)
    except OSError as exc:
        log.error("backup requests are not served: the spool %s cannot be made: %s", spool, exc)
        return False
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.geteuid():
        log.error("backup requests are not served: %s is not a directory of this user", spool)
        return False
    if stat.S_IMODE(found.st_mode) != 0o700:  # made by an older version, or by hand
        os.chmod(spool, 0o700)
    return True


def _serve_once(db: Database, spool: Path, folder: Path) -> bool:
    """Run every request waiting in ``spool``; False when ``db`` is closed (stop serving)."""
    try:  # a cursor and SELECT 1: well under a millisecond, so the thread ends soon after a close
        db.scalar("SELECT 1")
    except duckdb.Error:
        return False
    try:
        entries = list(os.scandir(spool))
    except FileNotFoundError:  # removed by hand: made again for the next request
        _own_spool(spool)
        return True
    for entry in entries:
        name = entry.name
        if name.endswith(".done.json"):
            with contextlib.suppress(OSError):
                if time.time() - entry.stat().st_mtime > ANSWER_MAX_AGE:
                    os.unlink(entry.path)
            continue
        if name.startswith(".") or not name.endswith(".json"):
            continue
        key = name.removesuffix(".json")
        taken = spool / f"{key}.taken"
        try:
            os.replace(entry.path, taken)  # claim it
        except FileNotFoundError:
            continue  # withdrawn by the CLI meanwhile
        _answer(db, spool, key, taken, folder)
    return True


def _answer(db: Database, spool: Path, key: str, taken: Path, folder: Path) -> None:
    try:
        asked = json.loads(taken.read_text(encoding="utf-8"))
        deadline = dt.datetime.fromisoformat(asked["deadline"]) if "deadline" in asked else None
        if deadline is not None and dt.datetime.now(dt.UTC) > deadline:
            log.warning("skipped backup request %s: its caller stopped waiting at %s", key, deadline)
            return
        target = allowed_target(asked["to_dir"], folder)
        manifest = snapshot(db, target)
        reply: dict[str, Any] = {"manifest": manifest.to_json()}
        log.info("backup %s written on request (%.1f s)", manifest.path, manifest.seconds)
    except BackupError as exc:
        log.warning("backup request %s refused or failed: %s", key, exc)
        reply = {"error": str(exc)}
    except Exception as exc:
        log.exception("backup request %s failed", key)
        reply = {"error": str(exc) or type(exc).__name__}
    finally:
        taken.unlink(missing_ok=True)
    write_json(spool / f"{key}.done.json", reply)
