"""The command line: build demo data and print KPIs, for scripts and for testing outside the UI."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from mktsales import display, kpis, reference
from mktsales.db import Database, DatabaseError
from mktsales.scope import Scope, ScopeError, period_range


class CliError(Exception):
    """Bad input: printed as one line to stderr, exit status 2."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


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
    report.add_argument("--db", required=True, type=Path, help="database file")
    report.add_argument("--from", dest="start", type=_date, help="first day (default: first of this month)")
    report.add_argument(
        "--to",
        dest="end",
        type=_date,
        help="day after the last day: the period is [from, to) (default: tomorrow)",
    )
    report.add_argument("--region", nargs="+", default=[], help="regions by Chinese or English name or code")
    report.add_argument("--category", nargs="+", default=[], help="product categories, same")
    report.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _open_existing(path: Path) -> Database:
    if not path.exists():
        raise CliError(f"no database at {path}; create one with: python -m mktsales demo --db {path}")
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


def _scope(db: Database, args: argparse.Namespace) -> Scope:
    default_start, default_end = period_range("month", dt.date.today())
    try:
        return Scope(
            start=args.start or default_start,
            end=args.end or default_end,
            regions=reference.resolve(reference.regions(db), "region_id", args.region, "region"),
            categories=reference.resolve(reference.categories(db), "category_id", args.category, "category"),
        )
    except (ScopeError, reference.UnknownName) as exc:
        raise CliError(str(exc)) from None


def _print_table(report: dict) -> None:
    period = report["period"]
    print(f"period [{period['from']}, {period['to']})  ({period['days']} days)")
    for section in ("marketing", "sales", "handoff"):
        print(f"\n{section}")
        for name, value in report[section].items():
            print(f"  {name:<18} {display.value(name, value, 'en'):>14}")
    print("\nfunnel")
    for stage in report["funnel"]:
        conversion = "" if stage["conversion"] is None else f"{stage['conversion']:8.1%}"
        print(f"  {stage['stage']:<12} {stage['track']:<10} {stage['count']:>12,} {conversion}")


def _kpis(args: argparse.Namespace) -> int:
    with _open_existing(args.db) as db:
        report = kpis.report(db, _scope(db, args))
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_table(report)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; bad input prints a clear message and returns 2."""
    args = _parser().parse_args(argv)
    try:
        return {"demo": _demo, "kpis": _kpis}[args.command](args)
    except (CliError, DatabaseError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
