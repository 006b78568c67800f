"""The command line: demo data, KPIs and the funnel (also as an account sees them), user accounts."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import importlib
import json
import math
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from mktsales import accounts, config, display, funnel, i18n, kpis, reference
from mktsales.access import ALL_REGION_ROLES, ROLES, User, visible
from mktsales.audit import Actor
from mktsales.db import Database, DatabaseError, damaged, is_damage
from mktsales.scope import Scope, ScopeError, period_range

# Feature modules with their own commands. Each has register(commands): it adds its subparsers to
# the argparse subparsers ``commands`` and sets ``run`` on each (parser.set_defaults(run=handler)),
# a handler taking the parsed args and returning the exit status. Helpers such as
# _reporting_arguments, _reporting_scope, _report and CliError are theirs to use.
EXTENSIONS: tuple[str, ...] = (
    "mktsales.cli_board",
    "mktsales.cli_promotions",
    "mktsales.cli_backup",
    "mktsales.cli_data",
)


class CliError(Exception):
    """Bad input: printed as one line to stderr, exit status 2."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _reporting_arguments(parser: argparse.ArgumentParser, *, all_time: bool = False) -> None:
    """The arguments every reporting command takes: file, period, filters and --as-user; with
    ``all_time`` a period left out means everything (export), else this month so far."""
    parser.add_argument("--db", required=True, type=Path, help="database file")
    first, last = ("the earliest", "after the latest") if all_time else ("first of this month", "tomorrow")
    parser.add_argument("--from", dest="start", type=_date, help=f"first day (default: {first})")
    parser.add_argument(
        "--to",
        dest="end",
        type=_date,
        help=f"day after the last day: the period is [from, to) (default: {last})",
    )
    parser.add_argument("--region", nargs="+", default=[], help="regions by Chinese or English name or code")
    parser.add_argument("--category", nargs="+", default=[], help="product categories, same")
    parser.add_argument(
        "--as-user",
        metavar="USERNAME",
        help="report as this active account sees it: only its regions; refused if its role may not",
    )


def _users_parser(commands: Any) -> None:
    users = commands.add_parser("users", help="manage user accounts (an admin's job, from the shell)")
    actions = users.add_subparsers(dest="users_command", required=True, metavar="SUBCOMMAND")
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db", required=True, type=Path, help="database file")
    stdin = argparse.ArgumentParser(add_help=False)
    stdin.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin (else: prompt twice in a terminal)",
    )
    regions_help = "region codes (repeatable); needed unless the role sees every region"

    add = actions.add_parser("add", parents=[db, stdin], help="create an account")
    add.add_argument("username")
    add.add_argument("--role", required=True, help=f"one of: {', '.join(ROLES)}")
    add.add_argument("--region", nargs="+", action="extend", default=[], metavar="CODE", help=regions_help)
    add.add_argument("--all-regions", action="store_true", help="every region, present and future")
    add.add_argument("--name", help="the person's name (default: the username)")
    add.add_argument("--email", help="e-mail address, used to match a single sign-on identity")
    add.add_argument("--person-id", type=int, help="the person in the people table (reps and heads)")

    listing = actions.add_parser("list", parents=[db], help="every account (never a password hash)")
    listing.add_argument("--json", action="store_true", help="print one JSON list")

    change = actions.add_parser("set", parents=[db], help="change an account's role, regions, name or e-mail")
    change.add_argument("username")
    change.add_argument("--role", help=f"one of: {', '.join(ROLES)}")
    change.add_argument(
        "--region", nargs="+", action="extend", default=None, metavar="CODE", help="replace the regions"
    )
    every = change.add_mutually_exclusive_group()
    every.add_argument("--all-regions", dest="all_regions", action="store_const", const=True, default=None)
    every.add_argument("--no-all-regions", dest="all_regions", action="store_const", const=False)
    change.add_argument("--name", help="the person's name")
    change.add_argument("--email", help='e-mail address ("" removes it)')
    change.add_argument("--activate", action="store_true", help="reactivate a deactivated account")

    password = actions.add_parser(
        "set-password", parents=[db, stdin], help="set a new password (also lifts a lockout)"
    )
    password.add_argument("username")
    deactivate = actions.add_parser(
        "deactivate", parents=[db], help="deactivate an account and end its open sessions"
    )
    deactivate.add_argument("username")
    unlock = actions.add_parser("unlock", parents=[db], help="lift a sign-in lockout before it expires")
    unlock.add_argument("username")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mktsales", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="build a demo database")
    demo.add_argument("--db", required=True, type=Path, help="database file to create")
    demo.add_argument("--activities", type=int, default=None, help="number of activities (default 200,000)")
    demo.add_argument("--seed", type=int, default=7, help="random seed (same seed, same data)")
    demo.add_argument("--as-of", type=_date, default=None, help="last day of the history (default today)")
    demo.add_argument("--replace", action="store_true", help="delete an existing file first")

    report = commands.add_parser("kpis", help="print every KPI for a period and filters")
    _reporting_arguments(report)
    report.add_argument("--json", action="store_true", help="print one JSON object")

    _funnel_parser(commands)
    _users_parser(commands)
    for name in EXTENSIONS:
        importlib.import_module(name).register(commands)
    return parser


def _funnel_parser(commands: Any) -> None:
    report = commands.add_parser(
        "funnel",
        help="the dual-track funnel for a period or its lead cohort: breakdown, handoff, time in stage",
    )
    _reporting_arguments(report)
    # --by, --as-of and --handoff-target are checked by _funnel, so a mistake is one "error:" line.
    report.add_argument(
        "--by", metavar="DIMENSION", help=f"break the funnel down by: {', '.join(funnel.BREAKDOWNS)}"
    )
    report.add_argument(
        "--cohort",
        action="store_true",
        help="the leads created in the period and the stages they reached by --as-of "
        "(default: the stage events of the period)",
    )
    report.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="count the cohort and the waiting MQLs up to the end of this day, or up to a moment given "
        "as YYYY-MM-DDTHH:MM (default: now)",
    )
    report.add_argument(
        "--handoff-target",
        metavar="HOURS",
        help="sales' target for deciding on an MQL (default: $MKTSALES_HANDOFF_TARGET_HOURS, else 48)",
    )
    report.add_argument("--json", action="store_true", help="print one JSON object")


def _require_file(path: Path) -> None:
    if not path.exists():
        raise CliError(f"no database at {path}; create one with: python -m mktsales demo --db {path}")


def _open_existing(path: Path) -> Database:
    _require_file(path)
    return Database(path)


def _demo(args: argparse.Namespace) -> int:
    from mktsales import demo  # numpy and the generator load only for this command

    if args.activities is not None and args.activities < 1:
        raise CliError("--activities must be at least 1")
    if args.db.exists():
        if not args.replace:
            raise CliError(f"{args.db} already exists; pass --replace to rebuild it")
        args.db.unlink()
        Path(f"{args.db}.wal").unlink(missing_ok=True)
    started = time.perf_counter()
    with Database(args.db) as db:
        counts = demo.build_demo(
            db, seed=args.seed, as_of=args.as_of, activities=args.activities or demo.DEFAULT_ACTIVITIES
        )
    seconds = time.perf_counter() - started
    print(
        f"built {args.db} in {seconds:.1f} s: " + ", ".join(f"{n:,} {table}" for table, n in counts.items())
    )
    return 0


# -- reporting, optionally as an account sees it ------------------------------------------------------
# What a reporting command's permission means, for the refusal message.
_PERMISSION_NAMES = {"page.overview": "the dashboard", "page.funnel": "the funnel page"}


def _region_codes(db: Database, region_ids: Sequence[int]) -> list[str]:
    codes = dict(reference.regions(db)[["region_id", "code"]].itertuples(index=False))
    return [str(codes.get(r, r)) for r in sorted(region_ids)]


def _viewer(db: Database, args: argparse.Namespace, permission: str) -> User | None:
    """The active account named by --as-user, if its role has ``permission``; None without it."""
    if args.as_user is None:
        return None
    user = accounts.find_user(db, args.as_user)
    if user is None:
        raise CliError(f"no active account called {args.as_user}")
    if not user.can(permission):
        what = _PERMISSION_NAMES.get(permission, permission)
        raise CliError(
            f"{user.username} is a {user.role}; that role may not see {what}, so {args.command} is refused"
        )
    return user


def _reporting_scope(db: Database, args: argparse.Namespace, permission: str) -> tuple[Scope, User | None]:
    """The Scope of a reporting command, and the --as-user account it was built for (or None).

    With --as-user the scope is limited to the account's regions, and a --region outside them is
    refused, never silently widened or narrowed. Every reporting command goes through here.
    """
    user = _viewer(db, args, permission)
    default_start, default_end = period_range("month", dt.date.today())
    try:
        regions = reference.resolve(reference.regions(db), "region_id", args.region, "region")
        categories = reference.resolve(reference.categories(db), "category_id", args.category, "category")
        outside = [] if user is None else sorted(r for r in set(regions) if not visible(user, r))
        if user is not None and outside:
            allowed = user.allowed_regions or ()
            codes = ", ".join(_region_codes(db, outside))
            own = ", ".join(_region_codes(db, allowed)) or "none"
            verb = "is" if len(outside) == 1 else "are"
            raise CliError(
                f"--region {codes} {verb} outside {user.username}'s regions ({own}); "
                "choose among those or leave --region out"
            )
        scope = Scope.for_user(
            user, args.start or default_start, args.end or default_end, regions, categories
        )
    except (ScopeError, reference.UnknownName) as exc:
        raise CliError(str(exc)) from None
    return scope, user


def _viewer_summary(db: Database, user: User) -> dict[str, Any]:
    allowed = user.allowed_regions
    return {
        "username": user.username,
        "role": user.role,
        "all_regions": allowed is None,
        "regions": [] if allowed is None else _region_codes(db, allowed),
    }


def print_heading(report: dict[str, Any], after_period: str = "") -> None:
    """The first lines of every report table: whose view (--as-user) and the period."""
    viewer = report.get("as_user")
    if viewer:
        regions = "all regions" if viewer["all_regions"] else "regions " + ", ".join(viewer["regions"])
        print(f"as {viewer['username']} ({viewer['role']}): {regions}")
    period = report["period"]
    print(f"period [{period['from']}, {period['to']})  ({period['days']} days){after_period}")


def _print_table(report: dict) -> None:
    print_heading(report)
    for section in ("marketing", "sales", "handoff"):
        print(f"\n{section}")
        for name, value in report[section].items():
            print(f"  {name:<18} {display.value(name, value, 'en'):>14}")
    print("\nfunnel")
    for stage in report["funnel"]:
        conversion = "" if stage["conversion"] is None else f"{stage['conversion']:8.1%}"
        print(f"  {stage['stage']:<12} {stage['track']:<10} {stage['count']:>12,} {conversion}")


def _report(
    args: argparse.Namespace,
    permission: str,
    build: Callable[[Database, Scope], dict[str, Any]],
    print_table: Callable[[dict[str, Any]], None],
) -> int:
    """A reporting command: the scope (as --as-user sees it), the report, as JSON or a table."""
    with _open_existing(args.db) as db:
        scope, user = _reporting_scope(db, args, permission)
        report = build(db, scope)
        if user is not None:
            report["as_user"] = _viewer_summary(db, user)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print_table(report)
    return 0


def _kpis(args: argparse.Namespace) -> int:
    return _report(args, "page.overview", kpis.report, _print_table)


# -- the funnel -------------------------------------------------------------------------------------
def _as_of(text: str | None) -> dt.datetime:
    """--as-of: a day means the end of that day (midnight after it); a date and time, that moment."""
    if text is None:
        return config.now()
    try:
        return dt.datetime.combine(dt.date.fromisoformat(text) + dt.timedelta(days=1), dt.time())
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        raise CliError(f"--as-of: not a date (YYYY-MM-DD): {text!r}") from None


def _target_hours(text: str | None) -> float:
    if text is None:
        return config.handoff_target_hours()
    try:
        hours = float(text)
    except ValueError:
        hours = math.nan
    if not (math.isfinite(hours) and hours > 0):
        raise CliError(f"--handoff-target: not a positive number of hours: {text!r}")
    return hours


def _share(value: float | None) -> str:
    return i18n.percent(value, "en")


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} d"


def _print_funnel(report: dict[str, Any]) -> None:
    print_heading(report)
    as_of = report["as_of"].replace("T", " ")
    if report["view"] == "cohort":
        print(f"view cohort: the leads created in the period, and the stages they reached by {as_of}")
    else:
        print(f"view period: the stage events of the period (MQLs waiting as of {as_of})")

    print("\nfunnel")
    print(f"  {'stage':<12} {'track':<10} {'count':>12} {'conversion':>10} {'drop':>10}  leak owner")
    for stage in report["funnel"]:
        conversion = "" if stage["conversion"] is None else _share(stage["conversion"])
        drop = "" if stage["drop"] is None else f"{stage['drop']:,}"
        print(
            f"  {stage['stage']:<12} {stage['track']:<10} {stage['count']:>12,} {conversion:>10} {drop:>10}"
            f"  {stage['leak_owner'] or ''}".rstrip()
        )
    for name, count in report.get("outcomes", {}).items():
        print(f"  {name:<12} {'':<10} {count:>12,}")

    breakdown = report.get("breakdown")
    if breakdown:
        print(f"\nby {breakdown['by']}")
        counts = ("lead", "mql", "sal", "opportunity", "won", "collected")
        print(f"  {'':<24}" + "".join(f"{c:>12}" for c in counts) + f"{'lead→won':>10}")
        for row in breakdown["rows"]:
            if row["is_total"]:
                label = "total"
            elif row["key"] is None:
                label = "(no campaign)"
            else:
                label = str(row["name_en"] if row["name_en"] is not None else row["key"])
            cells = "".join(f"{row[c]:>12,}" for c in counts)
            print(f"  {label[:24]:<24}{cells}{_share(row['lead_to_won']):>10}")

    handoff = report["handoff"]
    print(f"\nhandoff (target {handoff['target_hours']:g} h)")
    lines = {
        "accepted": f"{handoff['accepted']:,}",
        "rejected": f"{handoff['rejected']:,}",
        "accept_rate": _share(handoff["accept_rate"]),
        "median_hours": i18n.hours(handoff["median_hours"], "en"),
        "p90_hours": i18n.hours(handoff["p90_hours"], "en"),
        "within_target": _share(handoff["decided_within_target"]),
        "waiting": f"{handoff['waiting']:,}",
        "waiting_overdue": f"{handoff['waiting_overdue']:,}",
        "oldest_waiting": i18n.hours(handoff["oldest_waiting_hours"], "en"),
    }
    for name, text in lines.items():
        print(f"  {name:<18} {text:>14}")

    print("\ntime in stage (median days)")
    for name, days in report["time_in_stage"].items():
        print(f"  {name:<20} {_days(days):>12}")


def _funnel(args: argparse.Namespace) -> int:
    if args.by is not None and args.by not in funnel.BREAKDOWNS:
        raise CliError(f"--by {args.by!r}: choose one of {', '.join(funnel.BREAKDOWNS)}")
    as_of, target_hours = _as_of(args.as_of), _target_hours(args.handoff_target)
    return _report(
        args,
        "page.funnel",
        lambda db, scope: funnel.report(
            db, scope, by=args.by, cohort=args.cohort, as_of=as_of, target_hours=target_hours
        ),
        _print_funnel,
    )


# -- user accounts ----------------------------------------------------------------------------------
def _cli_actor() -> Actor:
    """Who the audit trail says made a command-line change: the operating-system user."""
    try:
        who = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name and no passwd entry (some containers)
        who = "unknown"
    return Actor(f"cli:{who}")


def _password(args: argparse.Namespace, *, required: bool) -> str | None:
    """The new password: one line of stdin, or typed twice at a terminal; never from argv.

    None when neither is available and a password is not ``required`` (single sign-on only).
    """
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise CliError("--password-stdin: nothing to read on stdin")
        return line.removesuffix("\n").removesuffix("\r")
    if sys.stdin is not None and sys.stdin.isatty():
        try:
            first = getpass.getpass("New password: ")
            second = getpass.getpass("Repeat the password: ")
        except EOFError:
            raise CliError("no password entered") from None
        if first != second:
            raise CliError("the two passwords do not match; nothing was changed")
        return first
    if required:
        raise CliError("no password given: pipe it in with --password-stdin, or run in a terminal to type it")
    return None


def _regions_arg(db: Database, names: Sequence[str] | None) -> list[str] | None:
    """Region codes for names given by code, Chinese or English name (None stays None)."""
    if names is None:
        return None
    try:
        ids = reference.resolve(reference.regions(db), "region_id", names, "region")
    except reference.UnknownName as exc:
        raise CliError(str(exc)) from None
    return _region_codes(db, ids)


def _account_rows(db: Database) -> list[dict[str, Any]]:
    """list_users as plain JSON-friendly dicts; only these fields, so no secret can slip through."""
    frame = accounts.list_users(db)
    rows = []
    for record in frame.to_dict("records"):
        regions = record["regions"]
        rows.append(
            {
                "user_id": _plain(record["user_id"]),
                "username": record["username"],
                "display_name": record["display_name"],
                "email": _plain(record["email"]),
                "role": record["role"],
                "all_regions": bool(record["all_regions"]) or record["role"] in ALL_REGION_ROLES,
                "regions": [] if regions is None else [str(r) for r in regions],
                "person_id": _plain(record["person_id"]),
                "active": bool(record["active"]),
                "locked_until": _plain(record["locked_until"]),
                "failed_attempts": _plain(record["failed_attempts"]),
                "demo": bool(record["demo"]),
                "created_at": _plain(record["created_at"]),
            }
        )
    return rows


def _plain(value: Any) -> Any:
    """A JSON-friendly scalar: NaT/NA to None, timestamps to ISO text, numpy numbers to Python."""
    if value is None or pd.isna(value):
        return None
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.isoformat(sep=" ", timespec="seconds")
    return value.item() if hasattr(value, "item") else value


def _locked(row: dict[str, Any], now: dt.datetime) -> str:
    until = row["locked_until"]
    return until[:16] if until is not None and dt.datetime.fromisoformat(until) > now else "-"


def _regions_text(row: dict[str, Any]) -> str:
    return "all" if row["all_regions"] else ", ".join(row["regions"]) or "none"


def _account(db: Database, username: str) -> str:
    """One line describing an account as stored: name, role, regions, active."""
    name = username.strip().lower()
    row = next(r for r in _account_rows(db) if r["username"] == name)
    regions = "all regions" if row["all_regions"] else "regions " + _regions_text(row)
    inactive = "" if row["active"] else ", inactive"
    return f"{name} ({row['display_name']}): {row['role']}, {regions}{inactive}"


def _width(text: str) -> int:
    """Terminal columns: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _print_accounts(rows: list[dict[str, Any]]) -> None:
    if not rows:
        print("no accounts yet; create one with: python -m mktsales users add USERNAME --role admin --db ...")
        return
    now = dt.datetime.now()
    header = ("username", "name", "role", "regions", "active", "locked until")
    lines = [header] + [
        (
            r["username"],
            r["display_name"],
            r["role"],
            _regions_text(r),
            "yes" if r["active"] else "no",
            _locked(r, now),
        )
        for r in rows
    ]
    widths = [max(_width(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        cells = [cell + " " * (width - _width(cell)) for cell, width in zip(line, widths, strict=True)]
        print("  ".join(cells).rstrip())


def _users_add(db: Database, args: argparse.Namespace) -> str:
    password = args.new_password
    accounts.create_user(
        db,
        _cli_actor(),
        args.username,
        args.name if args.name is not None else args.username,
        args.role,
        regions=_regions_arg(db, args.region) or [],
        all_regions=args.all_regions,
        password=password,
        email=args.email,
        person_id=args.person_id,
    )
    how = (
        "password set"
        if password is not None
        else "no password: single sign-on only (give one with users set-password)"
    )
    return f"created {_account(db, args.username)}; {how}"


def _users_list(db: Database, args: argparse.Namespace) -> str | None:
    rows = _account_rows(db)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        _print_accounts(rows)
    return None


def _users_set(db: Database, args: argparse.Namespace) -> str:
    given = (args.role, args.region, args.all_regions, args.name, args.email)
    if all(value is None for value in given) and not args.activate:
        raise CliError(
            "nothing to change: give --role, --region, --all-regions/--no-all-regions, --name, --email "
            "or --activate"
        )
    accounts.update_user(
        db,
        _cli_actor(),
        args.username,
        role=args.role,
        regions=_regions_arg(db, args.region),
        all_regions=args.all_regions,
        display_name=args.name,
        email=args.email,
        active=True if args.activate else None,
    )
    return f"updated {_account(db, args.username)}"


def _users_set_password(db: Database, args: argparse.Namespace) -> str:
    accounts.set_password(db, _cli_actor(), args.username, args.new_password)
    return f"password set for {args.username.strip().lower()}; any lockout is lifted"


def _users_deactivate(db: Database, args: argparse.Namespace) -> str:
    accounts.update_user(db, _cli_actor(), args.username, active=False)
    return f"deactivated {args.username.strip().lower()}; its open sessions are ended"


def _users_unlock(db: Database, args: argparse.Namespace) -> str:
    accounts.unlock(db, _cli_actor(), args.username)
    return f"unlocked {args.username.strip().lower()}"


_USER_COMMANDS = {
    "add": _users_add,
    "list": _users_list,
    "set": _users_set,
    "set-password": _users_set_password,
    "deactivate": _users_deactivate,
    "unlock": _users_unlock,
}


def _users(args: argparse.Namespace) -> int:
    _require_file(args.db)
    # The password is read before the file is opened, so nobody holds the database while typing.
    if args.users_command in ("add", "set-password"):
        args.new_password = _password(args, required=args.users_command == "set-password")
    with Database(args.db) as db:
        confirmation = _USER_COMMANDS[args.users_command](db, args)
    if confirmation:
        print(confirmation)
    return 0


def _message(exc: Exception) -> str:
    """The one line shown for a refusal; an AccountError whose text is missing shows its key."""
    try:
        return str(exc)
    except KeyError:
        return getattr(exc, "key", type(exc).__name__)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; bad input prints a clear message and returns 2."""
    args = _parser().parse_args(argv)
    try:
        commands = {"demo": _demo, "kpis": _kpis, "funnel": _funnel, "users": _users}
        run = getattr(args, "run", None) or commands[args.command]
        return run(args)
    except (CliError, accounts.AccountError, DatabaseError, ValueError) as exc:
        print(f"error: {_message(exc)}", file=sys.stderr)
        return 2
    except duckdb.Error as exc:  # a file that opened but fails half way through a read (issue 23)
        if not is_damage(exc):
            raise
        print(f"error: {damaged(getattr(args, 'db', ''), exc)}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file that cannot be written (a full disk): one line, no traceback (issue 23)
        print(f"error: {exc.filename}: {exc.strerror}" if exc.filename else f"error: {exc}", file=sys.stderr)
        return 2
