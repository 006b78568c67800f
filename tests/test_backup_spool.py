"""Backups hold password hashes (issue 23, point 13): a backup request may name only the app's backup
folder, and every backup, manifest, request and answer is its owner's alone (0600; directories
made for them 0700), whatever the umask.

The request files below are written as anyone able to write into the spool would write them, not
through backup_spool.request (which resolves ``..`` itself): the app's checks are what is tested.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mktsales import backup, backup_spool, cli
from mktsales.db import Database
from tests.conftest import load_tiny


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which a file is made 0644 (readable by everyone) unless asked not to."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The tiny fixture held by this process, serving backup requests into tmp_path/backups."""
    monkeypatch.delenv("MKTSALES_BACKUP_DIR", raising=False)
    with Database(tmp_path / "app.duckdb") as db:
        load_tiny(db)
        stop = backup_spool.serve(db, interval=0.05)
        yield db
        stop()


def _ask(db: Database, to_dir: str) -> dict:
    """Leave a request naming ``to_dir`` in the spool as-is; the app's answer."""
    spool = backup_spool.spool_dir(db.path)
    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)
    (spool / "k.json").write_text(json.dumps({"to_dir": to_dir, "deadline": deadline.isoformat()}))
    answer = spool / "k.done.json"
    waited = time.monotonic() + 60
    while not answer.exists() and time.monotonic() < waited:
        time.sleep(0.05)
    found = json.loads(answer.read_text(encoding="utf-8"))
    answer.unlink()
    return found


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


def test_a_request_for_a_directory_outside_the_backup_folder_is_refused_and_makes_nothing(
    app: Database, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    answer = _ask(app, str(elsewhere))
    assert answer == {
        "error": f"the app writes backups only into {tmp_path / 'backups'} (MKTSALES_BACKUP_DIR) or a "
        f"directory in it; {elsewhere} is outside it: nothing was written"
    }
    assert not elsewhere.exists()
    assert _files(tmp_path / "backups") == []


def test_a_request_for_an_existing_directory_outside_is_refused_and_it_stays_empty(
    app: Database, tmp_path: Path
) -> None:
    outside = tmp_path / "shared"
    outside.mkdir()
    assert "is outside it: nothing was written" in _ask(app, str(outside))["error"]
    assert _files(outside) == []


def test_a_request_that_climbs_out_of_the_folder_with_dotdot_is_refused(
    app: Database, tmp_path: Path
) -> None:
    (tmp_path / "backups").mkdir()
    escape = f"{tmp_path / 'backups'}/../escape"
    assert _ask(app, escape)["error"].endswith(f"{escape} is outside it: nothing was written")
    assert not (tmp_path / "escape").exists()
    assert _files(tmp_path / "backups") == []


def test_a_request_through_a_symlink_in_the_folder_that_points_outside_is_refused(
    app: Database, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "backups").mkdir()
    (tmp_path / "backups" / "link").symlink_to(outside)
    assert "is outside it: nothing was written" in _ask(app, str(tmp_path / "backups" / "link"))["error"]
    assert _files(outside) == []


def test_a_request_for_a_directory_in_the_folder_that_does_not_exist_is_refused_not_made(
    app: Database, tmp_path: Path
) -> None:
    wanted = tmp_path / "backups" / "new" / "deeper"
    answer = _ask(app, str(wanted))
    folder = tmp_path / "backups"
    assert answer == {
        "error": f"{wanted} is not a directory in {folder} (the app makes none): nothing was written"
    }
    assert not (tmp_path / "backups" / "new").exists()


def test_a_relative_directory_is_refused(app: Database, tmp_path: Path) -> None:
    assert _ask(app, "backups")["error"] == "the backup directory must be an absolute path, not 'backups'"


def test_the_folder_and_a_directory_in_it_are_served_with_private_files(
    app: Database, tmp_path: Path, umask_022: None
) -> None:
    folder = tmp_path / "backups"
    first = _ask(app, str(folder))["manifest"]  # the folder itself: made by the app, 0700
    assert Path(first["path"]).parent == folder and _mode(folder) == 0o700
    (folder / "monthly").mkdir()
    second = _ask(app, str(folder / "monthly"))["manifest"]
    assert Path(second["path"]).parent == folder / "monthly"
    for made in (Path(first["path"]), Path(second["path"])):
        assert backup.verify(made).tables["orders"] == 9
        assert _mode(made) == 0o600 and _mode(backup.manifest_path(made)) == 0o600
    names = [Path(first["path"]).name, Path(second["path"]).name]
    assert _files(folder) == sorted(
        [*names, *(n + ".json" for n in names), "monthly"]
    )  # no .partial, no .wal


def test_the_spool_is_made_0700_by_the_app_and_a_loose_one_is_tightened(
    tmp_path: Path, umask_022: None
) -> None:
    with Database(tmp_path / "app.duckdb") as db:
        spool = backup_spool.spool_dir(db.path)
        spool.mkdir(mode=0o777)
        os.chmod(spool, 0o777)  # as an older version or a hand left it
        stop = backup_spool.serve(db, interval=0.05)
        stop()
    assert _mode(spool) == 0o700
    with Database(tmp_path / "other.duckdb") as db:
        stop = backup_spool.serve(db, interval=0.05)
        stop()
        assert _mode(backup_spool.spool_dir(db.path)) == 0o700


def test_requests_and_answers_are_private(app: Database, tmp_path: Path, umask_022: None) -> None:
    spool = backup_spool.spool_dir(app.path)
    backup.write_json(spool / "x.json", {"to_dir": "/nowhere"})  # how the CLI writes its request
    assert _mode(spool / "x.json") == 0o600
    waited = time.monotonic() + 60
    while not (spool / "x.done.json").exists() and time.monotonic() < waited:
        time.sleep(0.05)
    assert _mode(spool / "x.done.json") == 0o600


def test_a_backup_taken_here_and_a_restore_are_private_whatever_the_umask(
    tiny_file: Path, tmp_path: Path, umask_022: None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "mine"
    code = cli.main(["backup", "--db", str(tiny_file), "--to", str(folder), "--json"])
    made = Path(json.loads(capsys.readouterr().out)["path"])
    assert code == 0 and made.parent == folder  # the operator's own directory: allowed
    assert _mode(folder) == 0o700 and _mode(made) == 0o600 and _mode(backup.manifest_path(made)) == 0o600
    restored = tmp_path / "restored.duckdb"
    backup.restore(made, restored)
    assert _mode(restored) == 0o600


def test_backup_without_to_writes_into_the_backup_folder(
    tiny_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MKTSALES_BACKUP_DIR", str(tmp_path / "kept"))
    code = cli.main(["backup", "--db", str(tiny_file), "--json"])
    assert code == 0
    assert Path(json.loads(capsys.readouterr().out)["path"]).parent == tmp_path / "kept"
