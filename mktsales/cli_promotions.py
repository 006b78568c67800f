"""Command-line promotions (issue 4): the list with status, owners, readiness and turnaround, and one
promotion's measured effect.

    python -m mktsales promotions --db PATH [--from --to --region --category --as-user] [--status S] [--json]
    python -m mktsales promotion-effect --db PATH --id ID [--as-of YYYY-MM-DD] [--as-user U] [--json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from mktsales import access, accounts, cli, config, effect, i18n, promotions

PERMISSION = "page.promotions"


def register(commands: Any) -> None:
    """Add the promotions and promotion-effect commands."""
    listing = commands.add_parser(
        "promotions", help="promotions in a period: status, owners, readiness, overdue, request turnaround"
    )
    cli._reporting_arguments(listing)
    listing.add_argument("--status", help=f"only this status: {', '.join(promotions.STATUSES)}")
    listing.add_argument("--json", action="store_true", help="print one JSON object")
    listing.set_defaults(run=_promotions)

    measured = commands.add_parser(
        "promotion-effect", help="one promotion's effect: uplift, incremental revenue and profit, ROI, notes"
    )
    measured.add_argument("--db", required=True, type=Path, help="database file")
    measured.add_argument("--id", required=True, type=int, help="the promotion's number")
    measured.add_argument("--as-of", type=cli._date, help="measure up to this day (default today)")
    measured.add_argument(
        "--as-user", metavar="USERNAME", help="as this active account: refused outside its regions"
    )
    measured.add_argument("--series", action="store_true", help="with --json, include the chart's series")
    measured.add_argument("--json", action="store_true", help="print one JSON object")
    measured.set_defaults(run=_effect)


def _promotions(args: argparse.Namespace) -> int:
    if args.status is not None and args.status not in promotions.STATUSES:
        raise cli.CliError(f"--status {args.status!r}: choose one of {', '.join(promotions.STATUSES)}")
    return cli._report(
        args, PERMISSION, lambda db, scope: promotions.report(db, scope, status=args.status), _print_list
    )


def _hours(value: float | None) -> str:
    return i18n.hours(value, "en")


def _print_list(report: dict[str, Any]) -> None:
    cli.print_heading(report)
    counts = ", ".join(f"{n} {s}" for s, n in report["counts"].items() if n)
    print(f"promotions: {counts or 'none'}")
    turnaround = report["turnaround"]
    print(
        f"request turnaround (target {turnaround['target_hours']:g} h): {turnaround['n']} decided, median "
        f"{_hours(turnaround['median_hours'])}, p90 {_hours(turnaround['p90_hours'])}, within target "
        f"{i18n.percent(turnaround['within_target'], 'en')}"
    )
    if not report["promotions"]:
        return
    print(f"\n  {'id':>4}  {'status':<10} {'dates':<23} {'regions':<28} {'owner':<8} ready / missing")
    for p in report["promotions"]:
        dates = f"{p['start_date']}..{p['end_date'][5:]}"
        ready = "ready" if p["ready"] else "missing " + ", ".join(p["missing"])
        overdue = f"  OVERDUE ({p['overdue_reason']})" if p["overdue"] else ""
        print(
            f"  {p['promotion_id']:>4}  {p['status']:<10} {dates:<23} {','.join(p['regions'])[:28]:<28} "
            f"{(p['owner'] or '-'):<8} {ready}{overdue}"
        )
        print(f"        {p['title_en']}")


def _effect(args: argparse.Namespace) -> int:
    as_of = args.as_of or config.today()
    with cli._open_existing(args.db) as db:
        user = None
        if args.as_user is not None:
            user = accounts.find_user(db, args.as_user)
            if user is None:
                raise cli.CliError(f"no active account called {args.as_user}")
            if not user.can(PERMISSION):
                raise cli.CliError(f"{user.username} is a {user.role}; that role may not see promotions")
        found = db.rows("SELECT title_zh, title_en, status FROM promotions WHERE promotion_id = ?", [args.id])
        if not found:
            raise cli.CliError(f"no promotion {args.id}")
        if user is not None:
            regions = [
                r
                for (r,) in db.rows(
                    "SELECT region_id FROM promotion_regions WHERE promotion_id = ?", [args.id]
                )
            ]
            if not access.visible_any(user, regions):
                raise cli.CliError(f"promotion {args.id} does not touch {user.username}'s regions")
        result = effect.effect(db, args.id, as_of=as_of, allowed_regions=access.visible_regions(user))
    title_zh, title_en, status = found[0]
    result = {
        "title_zh": title_zh,
        "title_en": title_en,
        "status": status,
        "as_of": as_of.isoformat(),
        **result,
    }
    if not args.series:
        result.pop("series")
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        _print_effect(result)
    return 0


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1%}"


def _money(value: float | None) -> str:
    return "—" if value is None else f"¥{value:,.0f}"


def _print_effect(r: dict[str, Any]) -> None:
    print(f"promotion {r['promotion_id']}: {r['title_en']} ({r['status']}), as of {r['as_of']}")
    window = r["window"]
    print(f"window {window['start']}..{window['end']} ({window['days']} days)", end="")
    if r["baseline"]:
        b = r["baseline"]
        print(f", baseline {b['start']}..{b['end']} ({b['usable_days']} of {b['days']} days usable)")
    else:
        print()
    # a user limited to some regions is told how many comparable regions there are, not which (issue 23)
    control = r["control_regions"] if "n_control" not in r else f"{r['n_control']} outside your regions"
    print(f"method {r['method']}; treated regions {r['treated_regions']}, comparable regions {control}")
    rows = (
        ("uplift (revenue)", _share(r["uplift"]), _share(r["uplift_low"]), _share(r["uplift_high"])),
        ("uplift (orders)", _share(r["order_uplift"]), _share(r["order_uplift_low"]),
         _share(r["order_uplift_high"])),
        ("incremental revenue", _money(r["incremental_revenue"]), _money(r["incremental_revenue_low"]),
         _money(r["incremental_revenue_high"])),
        ("incremental profit", _money(r["incremental_gross_profit"]), "", ""),
        ("cost", _money(r["cost"]), "", ""),
        ("ROI", _share(r["roi"]), _share(r["roi_low"]), _share(r["roi_high"])),
    )  # fmt: skip
    print(f"\n  {'':<22}{'estimate':>14}{'90% low':>14}{'90% high':>14}")
    for name, value, low, high in rows:
        print(f"  {name:<22}{value:>14}{low:>14}{high:>14}")
    print(f"\n  orders in the window: {r['orders']:,}; revenue {_money(r['revenue'])}")
    for note in r["notes"]:
        print(f"  note: {i18n.t('effect.note.' + note, 'en')}")
