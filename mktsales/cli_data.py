"""A company's own data on the command line: ``init``, ``import``, ``export`` and ``template``.

``init`` creates an empty database for a company's own data (the app never fills it with demo
data). ``import`` reads a CSV or Excel file of one kind, checks every row (the dry run) and writes
the good rows in one transaction; ``export`` writes any kind in the same columns, so an export
imports back as it is; ``template`` writes an empty file with every column's header in both
languages.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

from mktsales import cli, demo, importer, safe_cells
from mktsales.db import Database
from mktsales.i18n import t

# The widest period: an export without --from/--to has every row.
EVERYTHING = (dt.date(1900, 1, 1), dt.date(2200, 1, 1))
SHOWN_PROBLEMS = 50  # problems printed without --json; the --problems file has them all
FORMATS = ("csv", "xlsx")  # what export and template write


def register(commands: Any) -> None:
    """Add ``init``, ``import``, ``export`` and ``template`` to the CLI's subparsers."""
    kinds = ", ".join(importer.KINDS)

    init = commands.add_parser("init", help="create an empty database for your own data (no demo data)")
    init.add_argument("--db", required=True, type=Path, help="database file to create")
    init.set_defaults(run=_init)

    load = commands.add_parser(
        "import",
        help="import a CSV or Excel file of one kind: every row checked first, then all good rows at once",
    )
    load.add_argument("--db", required=True, type=Path, help="database file")
    load.add_argument("--kind", required=True, choices=importer.KINDS, metavar="KIND", help=kinds)
    load.add_argument("file", type=Path, help=".csv or .xlsx file; the first row holds the column names")
    load.add_argument(
        "--dry-run", action="store_true", help="only check: list what would be inserted, updated or refused"
    )
    order = load.add_mutually_exclusive_group()
    order.add_argument(
        "--day-first", dest="day_first", action="store_const", const=True, help="read 3/1/2024 as 3 January"
    )
    order.add_argument(
        "--month-first", dest="day_first", action="store_const", const=False, help="read 3/1/2024 as March 1"
    )
    load.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="HEADER=FIELD",
        help='map a column by hand, e.g. --map "客户编码=customer" (FIELD "-" ignores the column)',
    )
    load.add_argument(
        "--all-or-nothing",
        action="store_true",
        help="import nothing when any row has a problem (default: import the good rows, skip the rest)",
    )
    load.add_argument("--problems", type=Path, metavar="CSV", help="write every problem to this CSV file")
    load.add_argument("--json", action="store_true", help="print one JSON object")
    load.set_defaults(run=_import)

    out = commands.add_parser("export", help="export one kind as CSV or Excel, in the columns import reads")
    cli._reporting_arguments(out, all_time=True)
    out.add_argument("--kind", required=True, choices=importer.KINDS, metavar="KIND", help=kinds)
    out.add_argument("--out", required=True, type=Path, help="file to write (.csv or .xlsx)")
    out.add_argument(
        "--format", choices=FORMATS, help="default: from the --out suffix; a .csv or .xlsx name must match it"
    )
    out.add_argument(
        "--lang",
        choices=("en", "zh"),
        help="column headers as labels in this language (default: field names)",
    )
    out.set_defaults(run=_export)

    template = commands.add_parser(
        "template", help="an empty import file for one kind, headers in 中文 / English"
    )
    template.add_argument("--kind", required=True, choices=importer.KINDS, metavar="KIND", help=kinds)
    template.add_argument("--out", required=True, type=Path, help="file to write (.csv or .xlsx)")
    template.add_argument("--lang", choices=("en", "zh"), default="zh", help="language of the guide sheet")
    template.set_defaults(run=_template)


# -- init ---------------------------------------------------------------------------------------------
def _init(args: argparse.Namespace) -> int:
    if args.db.exists():
        with cli._open_existing(args.db) as db:
            if not db.is_empty():
                raise cli.CliError(f"{args.db} already has data; init makes a new, empty database")
            demo.mark_own(db, cli._cli_actor())
    else:
        with Database(args.db) as db:
            demo.mark_own(db, cli._cli_actor())
    print(
        f"created {args.db}: empty, for your own data. Next: add an admin account\n"
        f"  python -m mktsales users add NAME --role admin --db {args.db}\n"
        f"then import regions and categories first, e.g.\n"
        f"  python -m mktsales import --db {args.db} --kind regions regions.xlsx"
    )
    return 0


# -- import -------------------------------------------------------------------------------------------
def _mapping(table: importer.Table, suggested: dict[int, str | None], pairs: list[str], kind: str) -> dict:
    """The suggested mapping with --map HEADER=FIELD applied."""
    mapping = dict(suggested)
    names = {f.name for f in importer.fields(kind)}
    for pair in pairs:
        header, sep, field = pair.rpartition("=")
        if not sep or not header:
            raise cli.CliError(f"--map {pair!r}: write it as HEADER=FIELD")
        columns = [i for i, h in enumerate(table.headers) if h.strip() == header.strip()]
        if not columns:
            raise cli.CliError(f"--map {pair!r}: the file has no column {header!r}")
        if field != "-" and field not in names:
            raise cli.CliError(
                f"--map {pair!r}: {kind} has no field {field!r}; fields: {', '.join(sorted(names))}"
            )
        for column in columns:
            mapping[column] = None if field == "-" else field
    return mapping


def _progress(quiet: bool) -> Any:
    if quiet or not sys.stderr.isatty():
        return None

    def show(fraction: float, step: str) -> None:
        print(f"\r{t(step, 'en')} {fraction:4.0%}", end="", file=sys.stderr, flush=True)

    return show


def _problem_lines(plan: importer.Plan) -> list[str]:
    lines = []
    # plan.message names the field by its label ("Amount"); the text already says the row and column
    for problem in plan.problems.head(SHOWN_PROBLEMS).to_dict("records"):
        lines.append(f"  {plan.message(problem, 'en')}")
    if len(plan.problems) > SHOWN_PROBLEMS:
        lines.append(f"  … and {len(plan.problems) - SHOWN_PROBLEMS:,} more (--problems FILE lists them all)")
    return lines


def _plan_json(plan: importer.Plan) -> dict[str, Any]:
    return {
        "kind": plan.kind,
        "rows": plan.rows,
        "inserts": plan.inserts,
        "updates": plan.updates,
        "bad_rows": plan.bad_rows,
        "missing_fields": plan.missing_fields,
        "problems": [
            {**p, "text": plan.message(p, "en")} for p in plan.problems.head(1000).to_dict("records")
        ],
        "problems_total": len(plan.problems),
        "truncated": plan.truncated,
    }


def _import(args: argparse.Namespace) -> int:
    if not args.file.exists():
        raise cli.CliError(f"no file at {args.file}")
    started = time.perf_counter()
    try:
        table = importer.read(args.file, args.file.name)
    except importer.ImportFileError as exc:
        raise cli.CliError(exc.message("en")) from None
    with cli._open_existing(args.db) as db:
        mapping = _mapping(table, importer.suggest_mapping(db, args.kind, table.headers), args.map, args.kind)
        missing = importer.missing_fields(args.kind, mapping)
        if missing:
            raise cli.CliError(
                f"{args.file.name}: no column for the required field(s) {', '.join(missing)}; "
                f'name the column as the template does, or map it with --map "HEADER=FIELD"'
            )
        progress = _progress(args.json)
        try:
            plan = importer.check(db, args.kind, table, mapping, day_first=args.day_first, progress=progress)
        except importer.ImportFileError as exc:
            raise cli.CliError(exc.message("en")) from None
        if progress:
            print(file=sys.stderr)
        if args.problems is not None:
            problems = plan.problems.assign(text=plan.texts("en"))  # holds the file's own values
            safe_cells.neutral_frame(problems).to_csv(args.problems, index=False, encoding="utf-8-sig")
        refused = args.all_or_nothing and plan.bad_rows > 0
        result = None
        if not args.dry_run and not refused:
            try:
                result = importer.run(
                    db,
                    args.kind,
                    table,
                    mapping,
                    by=cli._cli_actor(),
                    day_first=args.day_first,
                    skip_bad=not args.all_or_nothing,
                    progress=progress,
                )
            except importer.ImportRefused as exc:
                plan, refused = exc.plan, True
            if progress:
                print(file=sys.stderr)
        if result is not None:
            plan = result.plan
        seconds = time.perf_counter() - started
        if args.json:
            print(
                json.dumps(
                    {
                        "file": args.file.name,
                        "dry_run": args.dry_run,
                        "imported": result is not None,
                        "inserted": result.inserted if result else 0,
                        "updated": result.updated if result else 0,
                        "skipped": result.skipped if result else 0,
                        "seconds": round(seconds, 2),
                        "plan": _plan_json(plan),
                    },
                    ensure_ascii=False,
                    default=str,
                    indent=2,
                )
            )
        else:
            print(
                f"{args.file.name}: {plan.rows:,} rows of {args.kind}: {plan.inserts:,} new, "
                f"{plan.updates:,} to update, {plan.bad_rows:,} with problems"
            )
            print("\n".join(_problem_lines(plan)) if plan.bad_rows else "", end="\n" if plan.bad_rows else "")
            if result is not None:
                print(
                    f"imported in {seconds:.1f} s: {result.inserted:,} inserted, {result.updated:,} updated, "
                    f"{result.skipped:,} rows with problems skipped"
                )
            elif refused:
                print(
                    "nothing imported: --all-or-nothing and some rows have problems (fix them and run again)"
                )
            else:
                print("dry run: nothing was changed")
    if refused:
        return 1
    if args.dry_run:
        return 0
    # 1 when nothing was written (every row had a problem), so a script notices
    return 0 if result is not None and (result.inserted or result.updated or not plan.rows) else 1


# -- export and templates -----------------------------------------------------------------------------
def _format(path: Path, given: str | None) -> str:
    """The file format: --format, else the suffix; a .csv or .xlsx name must match --format (an Excel
    file named .csv opens as garbage, issue 23)."""
    suffix = path.suffix.lower().lstrip(".")
    if given is not None and suffix in FORMATS and suffix != given:
        raise cli.CliError(
            f"{path}: --format {given} does not match the file's .{suffix} ending; "
            f"name the file .{given}, or leave --format out to write {suffix}"
        )
    fmt = given or suffix
    if fmt not in FORMATS:
        raise cli.CliError(f"{path}: say --format csv or xlsx (or end the file name in .csv or .xlsx)")
    return fmt


def _export(args: argparse.Namespace) -> int:
    fmt = _format(args.out, args.format)
    if args.start is None and args.end is None:
        args.start, args.end = EVERYTHING
    elif args.start is None:
        args.start = EVERYTHING[0]
    elif args.end is None:
        args.end = EVERYTHING[1]
    with cli._open_existing(args.db) as db:
        scope, _user = cli._reporting_scope(db, args, "data.export")
        started = time.perf_counter()
        try:
            rows = importer.export_file(db, args.kind, args.out, fmt, scope, lang=args.lang)
        except importer.ImportFileError as exc:
            raise cli.CliError(exc.message("en")) from None
    print(f"wrote {rows:,} rows of {args.kind} to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


def _template(args: argparse.Namespace) -> int:
    fmt = _format(args.out, None)
    args.out.write_bytes(importer.template(args.kind, fmt, args.lang))
    print(f"wrote the {args.kind} template to {args.out}")
    return 0
