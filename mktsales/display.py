"""How each KPI is shown: its formatter, and whether a rise is good news. No Streamlit here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from mktsales import i18n
from mktsales.i18n import t
from mktsales.kpis import RATIO_KPIS
from mktsales.scope import Scope

# Which formatter each KPI uses; brand_awareness is already a percentage (0-100).
KIND: dict[str, str] = {
    "reach": "count",
    "engaged": "count",
    "leads": "count",
    "mql": "count",
    "sal": "count",
    "opportunities": "count",
    "won_deals": "count",
    "lost_deals": "count",
    "collected": "count",
    "marketing_spend": "money",
    "cost_per_lead": "money",
    "revenue": "money",
    "collections": "money",
    "receivables": "money",
    "target_revenue": "money",
    "open_pipeline": "money",
    "mql_rate": "share",
    "win_rate": "share",
    "attainment": "share",
    "sal_rate": "share",
    "advisor_share": "share",
    "brand_awareness": "percent",
    "accept_hours": "hours",
    "approval_hours": "hours",
}
# A rise in these is bad news: their change is coloured the other way round.
LOWER_IS_BETTER = frozenset({"cost_per_lead", "receivables", "accept_hours", "approval_hours"})

_FORMATTERS: dict[str, Callable[[Any, str], str]] = {
    "count": i18n.count,
    "money": i18n.money,
    "share": i18n.percent,
    "percent": lambda v, lang: i18n.percent(None if v is None else v / 100, lang),
    "hours": i18n.hours,
}


def value(name: str, number: Any, lang: str) -> str:
    """KPI ``name``'s value as a person reads it in ``lang``."""
    return _FORMATTERS[KIND[name]](number, lang)


def delta(name: str, change: float | None, lang: str) -> str | None:
    """A change against the previous period: points for shares, a signed percentage otherwise."""
    if name == "brand_awareness":
        return i18n.signed_points(None if change is None else change / 100, lang)
    if name in RATIO_KPIS:
        return i18n.signed_points(change, lang)
    return i18n.signed_percent(change, lang)


def period_caption(scope: Scope, lang: str) -> str:
    """'1 Mar 2026 to 31 Mar 2026 (31 days) · compared with …': the period as people say it."""
    last, previous = dt.timedelta(days=1), scope.previous()
    return t(
        "overview.period",
        lang,
        start=i18n.day(scope.start, lang),
        end=i18n.day(scope.end - last, lang),
        n=scope.days,
        prev_start=i18n.day(previous.start, lang),
        prev_end=i18n.day(previous.end - last, lang),
    )


def handoff_caption(values: dict[str, Any], lang: str) -> str:
    """The handoff in one sentence: accept rate and median time to accept."""
    return t(
        "overview.handoff_caption",
        lang,
        rate=i18n.percent(values["sal_rate"], lang),
        hours=i18n.hours(values["accept_hours"], lang),
    )
