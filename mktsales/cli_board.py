"""The board on the command line: ``python -m mktsales board --db PATH [filters] [--json]``.

The posts of the period with their timings (as board.posts returns them, status at now), then a
summary: first-response times per direction and the board's counts. Filters, the period and
--as-user work as for ``kpis``; --status and --direction narrow the posts listed.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from mktsales import board, cli, config
from mktsales.db import Database
from mktsales.scope import Scope

PERMISSION = "page.board"
POST_FIELDS = (
    "post_id",
    "direction",
    "category",
    "priority",
    "title",
    "regions",
    "author",
    "created_at",
    "due_at",
    "first_response_at",
    "response_hours",
    "status",
    "closed_at",
    "outcome",
)


def register(commands: Any) -> None:
    """Add the ``board`` command to the CLI's subparsers."""
    parser = commands.add_parser(
        "board", help="the shared-information board: posts with their response timings, and a summary"
    )
    cli._reporting_arguments(parser)
    parser.add_argument(
        "--status", metavar="STATUS", help=f"only posts that are: {', '.join(board.STATUSES)}"
    )
    parser.add_argument("--direction", metavar="DIRECTION", help="only field reports (field) or plans (plan)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def report(db: Database, scope: Scope, *, user: Any = None, status: str | None = None,
           direction: str | None = None, now: Any = None) -> dict[str, Any]:  # fmt: skip
    """The command's JSON object: period, posts (newest first) and summary."""
    now = now or config.now()
    codes = dict(db.rows("SELECT region_id, code FROM regions"))
    frame = board.posts(db, user, scope, status=status, direction=direction, limit=None, now=now)
    posts = [_post(row, codes) for row in frame.to_dict("records")]
    summary = board.response_summary(db, scope, now=now)
    return {
        "period": {"from": scope.start.isoformat(), "to": scope.end.isoformat(), "days": scope.days},
        "now": now.isoformat(sep=" ", timespec="seconds"),
        "posts": posts,
        "summary": {
            "response": [
                {name: cli._plain(value) for name, value in row.items()} for row in summary.to_dict("records")
            ],
            "counts": board.counts(db, user, scope, now=now),
        },
    }


def _post(row: dict[str, Any], codes: dict[int, str]) -> dict[str, Any]:
    """One board.posts row as the command prints it: plain values, region codes, the author's name."""
    plain = {name: cli._plain(row[name]) for name in POST_FIELDS if name in row}
    plain.update(regions=[codes[r] for r in row["region_ids"]], author=row["author_name"])
    return {name: plain[name] for name in POST_FIELDS}


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} h"


def _cell(text: str, width: int) -> str:
    """``text`` cut or padded to ``width`` terminal columns (Chinese characters take two)."""
    out = ""
    for char in text:
        if cli._width(out + char) > width:
            break
        out += char
    return out + " " * (width - cli._width(out))


def print_table(found: dict[str, Any]) -> None:
    """The report for a terminal: summary first, then one line per post."""
    cli.print_heading(found, f", status as of {found['now']}")
    print("\nfirst response")
    columns = (("posts", 7), ("answered", 9), ("median", 9), ("p90", 9), ("in target", 10), ("overdue", 8))
    print(f"  {'direction':<10}" + "".join(f" {name:>{width}}" for name, width in columns))
    for row in found["summary"]["response"]:
        print(
            f"  {row['direction']:<10} {row['posts']:>7,} {row['answered']:>9,}"
            f" {_hours(row['median_hours']):>9} {_hours(row['p90_hours']):>9}"
            f" {cli._share(row['within_target']):>10} {row['overdue_now']:>8,}"
        )
    print("\ncounts")
    for name, value in found["summary"]["counts"].items():
        print(f"  {name:<22} {value:>8,}")
    print(f"\nposts ({len(found['posts']):,})")
    header = (
        f"  {'id':>6}  {'dir':<5} {'category':<18} {'prio':<6} {'status':<8} {'created':<16} {'answer':>8}"
    )
    print(header + "  regions / title")
    for post in found["posts"]:
        created = (post["created_at"] or "")[:16]
        print(
            f"  {post['post_id']:>6}  {post['direction']:<5} {post['category']:<18} {post['priority']:<6}"
            f" {post['status']:<8} {created:<16} {_hours(post['response_hours']):>8}"
            f"  {','.join(post['regions'])}  {_cell(post['title'], 40)}".rstrip()
        )


def run(args: argparse.Namespace) -> int:
    """Print the board report for the period and filters, as --as-user sees it."""
    if args.status is not None and args.status not in board.STATUSES:
        raise cli.CliError(f"--status {args.status!r}: choose one of {', '.join(board.STATUSES)}")
    if args.direction is not None and args.direction not in board.DIRECTIONS:
        raise cli.CliError(f"--direction {args.direction!r}: choose one of {', '.join(board.DIRECTIONS)}")
    with cli._open_existing(args.db) as db:
        scope, user = cli._reporting_scope(db, args, PERMISSION)
        found = report(db, scope, user=user, status=args.status, direction=args.direction)
        if user is not None:
            found["as_user"] = cli._viewer_summary(db, user)
    if args.json:
        print(json.dumps(found, ensure_ascii=False, indent=2))
    else:
        print_table(found)
    return 0
