"""Backups on the command line: ``backup --db PATH [--to DIR]`` and ``restore --db PATH --from FILE``.

``backup`` works while the app runs: when the app holds the file, the request goes to it through
the spool directory next to the database (mktsales.backup_spool.request) and the app takes the
snapshot, into its backup folder only; otherwise the file is opened read-only and copied here,
into any directory the operator names (whoever runs this can read the database file anyway).
Backups are 0600 either way. ``restore`` refuses while anything holds the file, and keeps the
file it replaces.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mktsales import backup, backup_spool, cli, config
from mktsales.db import DatabaseLocked

DEFAULT_WAIT = 120.0  # seconds the CLI waits for the app's answer


def register(commands: Any) -> None:
    """Add the ``backup`` and ``restore`` commands to the CLI's subparsers."""
    taking = commands.add_parser(
        "backup", help="write a consistent snapshot of the database, also while the app runs"
    )
    taking.add_argument("--db", required=True, type=Path, help="database file")
    taking.add_argument(
        "--to",
        dest="to_dir",
        type=Path,
        metavar="DIR",
        help="directory for the backup (default: the app's backup folder, $MKTSALES_BACKUP_DIR or "
        "backups/ beside the database); while the app runs, only that folder or a directory in it",
    )
    taking.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT,
        metavar="SECONDS",
        help=f"when the app holds the file, how long to wait for its backup (default {DEFAULT_WAIT:g})",
    )
    taking.add_argument(
        "--keep", type=int, metavar="N", help="then delete all but the newest N backups in the directory"
    )
    taking.add_argument("--json", action="store_true", help="print the manifest as JSON")
    taking.set_defaults(run=run_backup)

    putting = commands.add_parser(
        "restore", help="replace the database with a backup (the app must be stopped); the old file is kept"
    )
    putting.add_argument("--db", required=True, type=Path, help="database file to replace")
    putting.add_argument(
        "--from", dest="backup", required=True, type=Path, metavar="FILE", help="backup file"
    )
    putting.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    putting.set_defaults(run=run_restore)


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def run_backup(args: argparse.Namespace) -> int:
    """Take a backup, here or by asking the app; print where it went."""
    if args.wait <= 0:
        raise cli.CliError("--wait must be a positive number of seconds")
    if args.keep is not None and args.keep < 1:
        raise cli.CliError("--keep must be at least 1")
    cli._require_file(args.db)
    if args.to_dir is None:
        args.to_dir = config.backup_dir(args.db)
    how = "here"
    try:
        manifest = backup.snapshot_file(args.db, args.to_dir)
    except DatabaseLocked:
        how = "by the app holding the file"
        if not args.json:
            print(f"{args.db} is in use; asking the process holding it to take the backup…", file=sys.stderr)
        manifest = backup_spool.request(args.db, args.to_dir, wait=args.wait)
    deleted = backup.prune(args.to_dir, args.keep) if args.keep is not None else []
    if args.json:
        print(json.dumps(manifest.to_json(), ensure_ascii=False, indent=2))
        return 0
    rows = sum(manifest.tables.values())
    print(
        f"backed up {args.db} to {manifest.path} ({_size(manifest.bytes)}, {rows:,} rows in "
        f"{len(manifest.tables)} tables, schema {manifest.schema_version}, data version "
        f"{manifest.data_version}) in {manifest.seconds:.1f} s, {how}"
    )
    print(f"manifest: {backup.manifest_path(manifest.path)}  sha256 {manifest.sha256}")
    backups = [p for p in deleted if p.suffix == backup.SUFFIX]
    if backups:
        names = ", ".join(p.name for p in backups)
        print(f"deleted {len(backups)} older backup(s), keeping the newest {args.keep}: {names}")
    return 0


def _confirm(args: argparse.Namespace, found: backup.Manifest) -> None:
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise cli.CliError("restore replaces the database: pass --yes to confirm (stdin is not a terminal)")
    when = f" taken {found.created_at}" if found.created_at else ""
    answer = input(
        f"Replace {args.db} with {args.backup}{when} (data version {found.data_version})? "
        f"The current file is kept beside it. [y/N] "
    )
    if answer.strip().lower() not in ("y", "yes"):
        raise cli.CliError("restore cancelled; nothing was changed")


def run_restore(args: argparse.Namespace) -> int:
    """Verify the backup, then put it in place of the database, keeping the old file."""
    if backup.in_use(args.db):
        raise cli.CliError(
            f"{args.db} is in use by another process (is the app running?): stop it before restoring; "
            "nothing was changed"
        )
    found = backup.verify(args.backup)
    _confirm(args, found)
    aside = backup.restore(args.backup, args.db)
    checked = "sha256 matches its manifest" if found.created_at else "no manifest beside it"
    print(
        f"verified {args.backup} ({checked}; schema {found.schema_version}, data version "
        f"{found.data_version}, {sum(found.tables.values()):,} rows)"
    )
    if found.schema_version < backup.latest_schema():
        print(f"migrated the copy from schema {found.schema_version} to {backup.latest_schema()}")
    if aside is not None:
        print(f"kept the previous database as {aside}")
    print(f"restored {args.db} from {args.backup}")
    return 0
