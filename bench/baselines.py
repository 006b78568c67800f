"""The two ways the overview's KPIs are often computed instead, timed in the same run.

- pandas: what a typical dashboard script does: load the tables it needs (only the needed
  columns, through DuckDB's .df()) and filter and group in pandas;
- plain SQL: one straightforward query per KPI over the base tables, no precomputation.

Both compute the KPI totals the overview shows, for the period and the period before it (the
tiles' change), over all regions and categories, and are checked against kpis.overview.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any

import pandas as pd

from mktsales.db import Database

# The KPIs both baselines compute (the overview's tiles, funnel and handoff line).
KPIS = (
    "reach",
    "engaged",
    "leads",
    "mql",
    "sal",
    "opportunities",
    "won_deals",
    "lost_deals",
    "collected",
    "marketing_spend",
    "cost_per_lead",
    "mql_rate",
    "brand_awareness",
    "revenue",
    "collections",
    "receivables",
    "win_rate",
    "target_revenue",
    "attainment",
    "open_pipeline",
    "sal_rate",
    "accept_hours",
    "advisor_share",
    "approval_hours",
)


def _ratio(a: Any, b: Any) -> float | None:
    return None if a is None or b is None or b == 0 else float(a) / float(b)


def _derived(v: dict[str, Any]) -> dict[str, Any]:
    v["cost_per_lead"] = _ratio(v["marketing_spend"], v["leads"])  # None without a marketing activity
    v["marketing_spend"] = v["marketing_spend"] or 0.0
    v["mql_rate"] = _ratio(v["mql"], v["leads"])
    v["win_rate"] = _ratio(v["won_deals"], v["won_deals"] + v["lost_deals"])
    v["attainment"] = _ratio(v["revenue"], v["target_revenue"])
    v["sal_rate"] = _ratio(v["sal"], v["mql"])
    return v


# -- plain SQL: one query per KPI ---------------------------------------------------------------
PLAIN_SQL: dict[str, str] = {
    "reach": "SELECT coalesce(sum(reach), 0) FROM activities"
    " WHERE track = 'marketing' AND activity_date >= $start AND activity_date < $end",
    "engaged": "SELECT coalesce(sum(engaged), 0) FROM activities"
    " WHERE track = 'marketing' AND activity_date >= $start AND activity_date < $end",
    "marketing_spend": "SELECT sum(cost) FROM activities"  # NULL without marketing: no cost per lead
    " WHERE track = 'marketing' AND activity_date >= $start AND activity_date < $end",
    "advisor_share": "SELECT count(advisor_id) / nullif(count(*), 0) FROM activities"
    " WHERE activity_date >= $start AND activity_date < $end",
    "leads": "SELECT count(*) FROM leads WHERE created_at >= $start AND created_at < $end",
    "mql": "SELECT count(*) FROM leads WHERE mql_at >= $start AND mql_at < $end",
    "sal": "SELECT count(*) FROM leads WHERE sal_at >= $start AND sal_at < $end",
    "opportunities": "SELECT count(*) FROM leads WHERE opportunity_at >= $start AND opportunity_at < $end",
    "won_deals": "SELECT count(*) FROM leads"
    " WHERE closed_at >= $start AND closed_at < $end AND outcome = 'won'",
    "lost_deals": "SELECT count(*) FROM leads"
    " WHERE closed_at >= $start AND closed_at < $end AND outcome = 'lost'",
    "accept_hours": "SELECT median(date_diff('second', mql_at, sal_at) / 3600.0) FROM leads"
    " WHERE sal_at >= $start AND sal_at < $end",
    "open_pipeline": "SELECT coalesce(sum(value), 0) FROM leads"
    " WHERE opportunity_at < $end AND (closed_at IS NULL OR closed_at >= $end)",
    "revenue": "SELECT coalesce(sum(amount), 0) FROM orders WHERE order_date >= $start AND order_date < $end",
    "collections": "SELECT coalesce(sum(amount), 0) FROM payments WHERE paid_on >= $start AND paid_on < $end",
    "receivables": "SELECT (SELECT coalesce(sum(amount), 0) FROM orders WHERE order_date < $end)"
    " - (SELECT coalesce(sum(amount), 0) FROM payments WHERE paid_on < $end)",
    "collected": "SELECT count(*) FROM (SELECT o.order_id FROM orders o JOIN payments p USING (order_id)"
    " WHERE o.lead_id IS NOT NULL GROUP BY o.order_id, o.amount"
    " HAVING sum(p.amount) >= o.amount AND max(p.paid_on) >= $start AND max(p.paid_on) < $end)",
    "target_revenue": "SELECT coalesce(sum(revenue_target"
    " * date_diff('day', greatest(month, $start), least(month + INTERVAL 1 MONTH, $end))"
    " / date_diff('day', month, month + INTERVAL 1 MONTH)), 0) FROM targets"
    " WHERE month < $end AND month + INTERVAL 1 MONTH > $start",
    "brand_awareness": "SELECT sum(pct * n) / sum(n) FROM (SELECT arg_max(awareness_pct, survey_date) AS pct,"
    " arg_max(sample_size, survey_date) AS n FROM brand_surveys WHERE survey_date < $end GROUP BY region_id)",
    "approval_hours": "SELECT median(date_diff('second', requested_at, decided_at) / 3600.0) FROM promotions"
    " WHERE origin = 'sales' AND decided_at >= $start AND decided_at < $end",
}


def plain_sql(db: Database, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Every KPI of the period by its own straightforward query; the shares from those."""
    params = {"start": start, "end": end}
    values = {}
    for name, sql in PLAIN_SQL.items():
        found = db.scalar(sql, {k: v for k, v in params.items() if f"${k}" in sql})
        values[name] = float(found) if hasattr(found, "as_tuple") else found  # Decimal -> float
    return _derived(values)


# -- pandas ---------------------------------------------------------------------------------------
PANDAS_COLUMNS = {
    "activities": "activity_date, track, reach, engaged, cost, advisor_id",
    "leads": "created_at, mql_at, sal_at, opportunity_at, closed_at, outcome, value",
    "orders": "order_id, order_date, amount, lead_id",
    "payments": "order_id, paid_on, amount",
    "targets": "month, revenue_target",
    "brand_surveys": "survey_date, region_id, awareness_pct, sample_size",
    "promotions": "origin, requested_at, decided_at",
}


def pandas_load(db: Database) -> dict[str, pd.DataFrame]:
    """The needed columns of every table the KPIs read, as pandas frames (money as float)."""
    frames = {}
    for table, columns in PANDAS_COLUMNS.items():
        cur = db.cursor()
        try:
            frames[table] = cur.execute(f"SELECT {columns} FROM {table}").df()
        finally:
            cur.close()
    for table, column in (
        ("activities", "cost"),
        ("leads", "value"),
        ("orders", "amount"),
        ("payments", "amount"),
        ("targets", "revenue_target"),
    ):
        frames[table][column] = frames[table][column].astype("float64")
    return frames


def _day(value: dt.date) -> pd.Timestamp:
    return pd.Timestamp(value)


def pandas_kpis(f: dict[str, pd.DataFrame], start: dt.date, end: dt.date) -> dict[str, Any]:
    """The KPIs of [start, end) from the loaded frames, filtered and grouped in pandas."""
    s, e = _day(start), _day(end)
    a = f["activities"]
    in_period = (a["activity_date"] >= s) & (a["activity_date"] < e)
    marketing = a[in_period & (a["track"] == "marketing")]
    v: dict[str, Any] = {
        "reach": int(marketing["reach"].sum()),
        "engaged": int(marketing["engaged"].sum()),
        "marketing_spend": float(marketing["cost"].sum()) if len(marketing) else None,
    }
    period = a[in_period]
    v["advisor_share"] = _ratio(period["advisor_id"].notna().sum(), len(period))
    ld = f["leads"]

    def between(column: str) -> pd.Series:
        return (ld[column] >= s) & (ld[column] < e)

    v["leads"] = int(between("created_at").sum())
    v["mql"] = int(between("mql_at").sum())
    sal = between("sal_at")
    v["sal"] = int(sal.sum())
    v["opportunities"] = int(between("opportunity_at").sum())
    closed = between("closed_at")
    v["won_deals"] = int((closed & (ld["outcome"] == "won")).sum())
    v["lost_deals"] = int((closed & (ld["outcome"] == "lost")).sum())
    hours = (ld.loc[sal, "sal_at"] - ld.loc[sal, "mql_at"]).dt.total_seconds() / 3600.0
    v["accept_hours"] = float(hours.median()) if len(hours) else None
    open_ = (ld["opportunity_at"] < e) & (ld["closed_at"].isna() | (ld["closed_at"] >= e))
    v["open_pipeline"] = float(ld.loc[open_, "value"].sum())
    o, p = f["orders"], f["payments"]
    v["revenue"] = float(o.loc[(o["order_date"] >= s) & (o["order_date"] < e), "amount"].sum())
    v["collections"] = float(p.loc[(p["paid_on"] >= s) & (p["paid_on"] < e), "amount"].sum())
    v["receivables"] = float(
        o.loc[o["order_date"] < e, "amount"].sum() - p.loc[p["paid_on"] < e, "amount"].sum()
    )
    lead_orders = o.loc[o["lead_id"].notna(), ["order_id", "amount"]]
    paid = (
        p[p["order_id"].isin(lead_orders["order_id"])]
        .groupby("order_id")
        .agg(paid=("amount", "sum"), last=("paid_on", "max"))
    )
    settled = lead_orders.join(paid, on="order_id", how="inner")
    settled = settled[
        (settled["paid"] >= settled["amount"] - 1e-6) & (settled["last"] >= s) & (settled["last"] < e)
    ]
    v["collected"] = len(settled)
    t = f["targets"]
    t = t[(t["month"] < e) & (t["month"] + pd.DateOffset(months=1) > s)]
    month_end = t["month"] + pd.DateOffset(months=1)
    inside = (month_end.where(month_end < e, e) - t["month"].where(t["month"] > s, s)).dt.days
    v["target_revenue"] = float((t["revenue_target"] * inside / (month_end - t["month"]).dt.days).sum())
    b = f["brand_surveys"]
    b = b[b["survey_date"] < e].sort_values("survey_date").groupby("region_id").last()
    v["brand_awareness"] = _ratio((b["awareness_pct"] * b["sample_size"]).sum(), b["sample_size"].sum())
    pr = f["promotions"]
    decided = pr[(pr["origin"] == "sales") & (pr["decided_at"] >= s) & (pr["decided_at"] < e)]
    waits = (decided["decided_at"] - decided["requested_at"]).dt.total_seconds() / 3600.0
    v["approval_hours"] = float(waits.median()) if len(waits) else None
    return _derived(v)


# -- checking ---------------------------------------------------------------------------------------
def disagreements(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The KPIs whose values differ (money to the cent, shares and hours to 1e-9 relative)."""
    out = {}
    for name in KPIS:
        a, b = ours.get(name), theirs.get(name)
        if a is None or b is None:
            if a is not None or b is not None:
                out[name] = (a, b)
            continue
        if not math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=0.005):
            out[name] = (a, b)
    return out


def timed(call: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result
