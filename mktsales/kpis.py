"""KPI definitions of docs/kpis.md: named SQL, bound to a Scope, returned as small frames/dicts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from mktsales import board
from mktsales.db import Database
from mktsales.queries import sql
from mktsales.scope import Scope, trend_scope

TOTAL = 0  # region_id of the all-regions row in kpis_by_region

MARKETING_KPIS = (
    "reach",
    "engaged",
    "leads",
    "mql",
    "marketing_spend",
    "cost_per_lead",
    "mql_rate",
    "brand_awareness",
)
SALES_KPIS = (
    "sal",
    "opportunities",
    "won_deals",
    "lost_deals",
    "revenue",
    "collections",
    "receivables",
    "win_rate",
    "target_revenue",
    "attainment",
    "open_pipeline",
)
HANDOFF_KPIS = ("sal_rate", "accept_hours", "approval_hours", "advisor_share")
# KPIs that are shares; their change is a difference in points, not a relative change.
RATIO_KPIS = frozenset({"mql_rate", "win_rate", "attainment", "sal_rate", "advisor_share", "brand_awareness"})

# The dual-track funnel, in stage order: (stage, owning track, column of kpis_by_region).
FUNNEL_STAGES: tuple[tuple[str, str, str], ...] = (
    ("reach", "marketing", "reach"),
    ("engaged", "marketing", "engaged"),
    ("lead", "marketing", "leads"),
    ("mql", "marketing", "mql"),
    ("sal", "sales", "sal"),
    ("opportunity", "sales", "opportunities"),
    ("won", "sales", "won_deals"),
    ("collected", "sales", "collected"),
)
HANDOFF_STAGE = "sal"  # the first sales stage: MQL -> SAL is where the tracks hand over


def _clean(value: Any) -> Any:
    """A JSON-friendly scalar: numpy numbers to Python, NaN to None."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def kpis_by_region(db: Database, scope: Scope) -> pd.DataFrame:
    """Every KPI per region in scope, plus the total row (region_id 0)."""
    return db.query(sql("kpis_by_region"), scope.params())


def approval_hours(db: Database, scope: Scope) -> float | None:
    """Median hours from a sales promotion request to marketing's decision, decided in the period."""
    return _clean(db.scalar(sql("approval_hours"), scope.params()))


def _total(db: Database, scope: Scope, frame: pd.DataFrame) -> dict[str, Any]:
    """The total row of a kpis_by_region frame as a dict, with approval_hours added."""
    row = frame.loc[frame["region_id"] == TOTAL].to_dict("records")[0]
    result = {name: _clean(value) for name, value in row.items() if name != "region_id"}
    result["approval_hours"] = approval_hours(db, scope)
    return result


def totals(db: Database, scope: Scope) -> dict[str, Any]:
    """Every KPI over the whole scope, as one dict keyed by KPI name."""
    return _total(db, scope, kpis_by_region(db, scope))


def funnel(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The dual-track funnel from a totals dict: stage, track, count, conversion from the stage before."""
    stages = []
    previous = None
    for stage, track, column in FUNNEL_STAGES:
        count = int(values[column] or 0)
        conversion = None if not previous else count / previous
        stages.append({"stage": stage, "track": track, "count": count, "conversion": conversion})
        previous = count
    return stages


def change(name: str, current: Any, previous: Any) -> float | None:
    """Change against the previous period: points for shares, relative change for amounts."""
    if current is None or previous is None:
        return None
    if name in RATIO_KPIS:
        return current - previous
    if previous == 0:
        return None
    return (current - previous) / abs(previous)


@dataclass(frozen=True)
class Overview:
    """What the executive overview shows: current and previous totals, regions (total row last,
    region_id 0), monthly trend."""

    scope: Scope
    current: dict[str, Any]
    previous: dict[str, Any]
    regions: pd.DataFrame
    trend: pd.DataFrame

    def delta(self, name: str) -> float | None:
        """Change of KPI ``name`` against the previous period."""
        return change(name, self.current.get(name), self.previous.get(name))


def monthly_trend(db: Database, scope: Scope) -> pd.DataFrame:
    """Revenue vs prorated target, leads and MQLs per month of the trend window."""
    return db.query(sql("monthly_trend"), trend_scope(scope).params())


def overview(db: Database, scope: Scope) -> Overview:
    """Everything the executive overview needs, for one scope."""
    frame = kpis_by_region(db, scope)
    return Overview(
        scope=scope,
        current=_total(db, scope, frame),
        previous=totals(db, scope.previous()),
        regions=frame.sort_values("region_id", key=lambda r: r.eq(TOTAL)).reset_index(drop=True),
        trend=monthly_trend(db, scope),
    )


def report(db: Database, scope: Scope) -> dict[str, Any]:
    """The CLI's ``kpis --json`` object: period, marketing, sales, funnel, handoff, collaboration."""
    values = totals(db, scope)
    return {
        "period": {"from": scope.start.isoformat(), "to": scope.end.isoformat(), "days": scope.days},
        "marketing": {name: values[name] for name in MARKETING_KPIS},
        "sales": {name: values[name] for name in SALES_KPIS},
        "funnel": funnel(values),
        "handoff": {name: values[name] for name in HANDOFF_KPIS},
        "collaboration": board.collaboration(db, scope),
    }
