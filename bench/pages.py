"""Page data: for each page, what the page computes to draw itself, through the app's own cache.

A page is one entry of PAGES: a function that calls what the page calls (mktsales.ui.data's
cached functions, with the data version as their argument, exactly as the page passes it) and the
variants it is measured in. Warm: the same call again with an unchanged data version (a cache
hit; what the page does not cache runs again, as in the app). Cold: right after a write, so the
version moved and everything is computed again.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mktsales import entries, promotions
from mktsales.access import User
from mktsales.db import Database
from mktsales.scope import Scope, period_range


@dataclass
class Ctx:
    """What every page needs: the database (the app's cached one), "today" and the users."""

    path: str
    db: Database
    today: dt.date
    now: dt.datetime
    target_hours: float
    users: dict[str, User]
    region_ids: dict[str, int]
    category_ids: dict[str, int]

    @property
    def as_of(self) -> dt.datetime:
        return self.now.replace(second=0)  # as app_pages/funnel.py: to the minute


def _overview(ctx: Ctx, version: int, scope: Scope, user: User) -> Any:
    from mktsales.ui import data

    data.reference_data(ctx.path, version)
    counts = data.board_counts(ctx.path, version, data.reads_marker(user), user, scope, data.minute(ctx.now))
    return data.overview(ctx.path, version, scope), counts


def _funnel(ctx: Ctx, version: int, scope: Scope, user: User) -> Any:
    from mktsales.ui import data

    data.reference_data(ctx.path, version)
    data.campaigns(ctx.path, version)
    page = data.funnel_page(ctx.path, version, scope, False, ctx.as_of, ctx.target_hours)
    split = data.funnel_breakdown(ctx.path, version, scope, "region", False, ctx.as_of)
    leads = data.stage_leads(ctx.path, version, scope, "mql", False, ctx.as_of)
    return page, split, leads


def _entry(ctx: Ctx, version: int, scope: Scope, user: User) -> Any:
    from mktsales.ui import data, entry_view

    data.reference_data(ctx.path, version)
    customers = data.entry_customers(ctx.path, version, user, ctx.today)
    data.products(ctx.path, version)
    data.marketing_people(
        ctx.path, version, None if user.allowed_regions is None else list(user.allowed_regions)
    )
    leads = data.updatable_leads(ctx.path, version, user)
    mine = entries.my_entries(ctx.db, user, entry_view.since(ctx.today), ctx.now)  # not cached by the page
    return customers, leads, mine


def _board(ctx: Ctx, version: int, scope: Scope, user: User) -> Any:
    """The board's default view: both lanes, unfiltered, and the count strip (cached per data
    version, what the user has read, and the minute)."""
    from mktsales.ui import board_view, data

    data.reference_data(ctx.path, version)
    reads, now = data.reads_marker(user), data.minute(ctx.now)
    no_filters = tuple(sorted(board_view.NO_FILTERS.items()))
    lanes = [
        data.board_lane(ctx.path, version, reads, user, scope, now, d, no_filters) for d in ("field", "plan")
    ]
    return lanes, data.board_counts(ctx.path, version, reads, user, scope, now)


def _promotions(ctx: Ctx, version: int, scope: Scope, user: User) -> Any:
    """The promotions page's default view: the status board (not cached)."""
    from mktsales.ui import data

    data.reference_data(ctx.path, version)
    data.products(ctx.path, version)
    return promotions.listing(ctx.db, user, scope, now=ctx.now)


@dataclass(frozen=True)
class Variant:
    """Who looks, and with which filters."""

    name: str
    user: str  # a demo account
    narrow: bool = False  # one region, one category, one month


DASHBOARD_VARIANTS = (
    Variant("default", "ceo"),
    Variant("two_regions", "sales.north"),
    Variant("narrow", "ceo", narrow=True),
)


@dataclass(frozen=True)
class Page:
    name: str
    load: Callable[[Ctx, int, Scope, User], Any]
    variants: tuple[Variant, ...]


# Adding a page (board, promotions) is one entry here.
PAGES: tuple[Page, ...] = (
    Page("overview", _overview, DASHBOARD_VARIANTS),
    Page("funnel", _funnel, DASHBOARD_VARIANTS),
    Page("entry", _entry, (Variant("default", "rep.east"), Variant("two_regions", "sales.north"))),
    Page("board", _board, DASHBOARD_VARIANTS),
    Page("promotions", _promotions, DASHBOARD_VARIANTS),
)


def scope_for(ctx: Ctx, variant: Variant) -> Scope:
    """The page's default filters (this month) for the variant's user."""
    start, end = period_range("month", ctx.today)
    user = ctx.users[variant.user]
    if variant.narrow:
        return Scope(
            start,
            end,
            regions=(ctx.region_ids["east"],),
            categories=(ctx.category_ids["beverages"],),
            allowed_regions=user.allowed_regions,
        )
    return Scope(start, end, allowed_regions=user.allowed_regions)


def _timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def measure(
    ctx: Ctx, page: Page, variant: Variant, runs: int, invalidate: Callable[[], None]
) -> dict[str, Any]:
    """Median warm and cold seconds of one page variant (and every run, for the JSON).

    Each run reads the data version first, as every page does on every rerun.
    """
    user = ctx.users[variant.user]
    scope = scope_for(ctx, variant)

    def once() -> None:
        page.load(ctx, ctx.db.version(), scope, user)

    cold, warm = [], []
    for _ in range(runs):
        invalidate()
        cold.append(_timed(once))
        warm.append(_timed(once))
    return {
        "page": page.name,
        "variant": variant.name,
        "user": variant.user,
        "scope": {
            "start": scope.start.isoformat(),
            "end": scope.end.isoformat(),
            "regions": scope.region_ids(),
            "categories": list(scope.categories) or None,
        },
        "cold_s": statistics.median(cold),
        "warm_s": statistics.median(warm),
        "cold_runs_s": cold,
        "warm_runs_s": warm,
    }
