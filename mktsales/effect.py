"""What a promotion earned (issue 4): incremental sales against a baseline and comparable regions.

The method, in plain words (the UI shows ``effect.method``):

* **Treated** cells are the promotion's regions; the measure is its category's orders (only its
  products when it lists products). **Comparable regions** ("control") are the regions that no
  promotion of that category touched from the start of the baseline to the end of the window.
* The **window** is the promotion's days up to ``as_of``; the **baseline** is the
  max(28, window length) days just before it. Baseline days on which a treated region ran another
  promotion of the category, or before the first order on file, are left out of both groups.
* **Before/after**: the treated daily mean in the window against its baseline daily mean.
* **Difference-in-differences** (ratio form): uplift = (T_w / T_b) / (C_w / C_b) - 1, where T and C
  are the daily means of treated and control in window (w) and baseline (b). The control's change
  C_w / C_b stands for the season and the market; without a control the method falls back to
  before/after, which includes the season (note "no_control").
* Incremental revenue = treated window revenue - T_b x (C_w / C_b) x window days; incremental gross
  profit = incremental revenue x the gross margin of the treated window's orders (amount less
  quantity x unit cost); cost = the promotion's budget; ROI = (incremental gross profit - cost) / cost.
  The same uplift is computed on order counts (``order_uplift``), the unit the demo's truth uses.
* Uncertainty: a 90% interval from a day bootstrap with a fixed seed: 1,000 times, the window's
  days and the baseline's days are drawn with replacement, each drawn day taking its treated and
  control values together (they share the day's weather, weekday and market), and the estimates
  recomputed; the 5th and 95th percentiles are the interval.

The orders are aggregated in SQL into one small cube (region x category x day, with revenue,
order count and cost); ``effects`` builds that cube once for every promotion it measures.

A user limited to some regions gets the effect of their part only (mktsales/effect_scope.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mktsales import config
from mktsales.db import Database
from mktsales.effect_scope import MIN_HIDDEN_CONTROL, limited, selling
from mktsales.scope import Scope

MIN_BASELINE_DAYS = 28  # the baseline is at least this long, else as long as the window
SHORT_WINDOW_DAYS = 7
USABLE_BASELINE_DAYS = 14  # fewer clean baseline days than this: "short_baseline"
FEW_ORDERS = 30  # fewer treated orders in the window than this: "few_orders"
DRAWS = 1000
SEED = 20_260_404
INTERVAL = (5.0, 95.0)  # percentiles of the 90% interval
WEEKLY_AFTER_DAYS = 90  # a chart longer than this shows weeks, not days
RAN = ("live", "finished", "reviewed")  # promotions that moved sales (and cancelled ones that went live)
MEASURED = ("live", "finished", "reviewed")  # what ``effects`` lists
NOTES = (
    "no_control", "short_window", "short_baseline", "few_orders", "not_finished", "not_started",
    "partial_scope", "few_control",
)  # fmt: skip
GROUPS = ("treated", "control", "expected")


@dataclasses.dataclass(frozen=True)
class _Promotion:
    promotion_id: int
    category_id: int
    start: dt.date
    end: dt.date
    budget: float
    status: str
    regions: tuple[int, ...]
    products: tuple[int, ...]


def _ran(db: Database) -> pd.DataFrame:
    """Every promotion that ran (live, finished, reviewed, or went live before being cancelled), with
    its category, dates and one row per region: what contaminates a baseline or a control."""
    return db.query(
        """
        SELECT p.promotion_id, p.category_id, p.start_date, p.end_date, r.region_id
        FROM promotions p JOIN promotion_regions r USING (promotion_id)
        WHERE p.status IN ('live', 'finished', 'reviewed')
           OR p.promotion_id IN (SELECT promotion_id FROM promotion_events WHERE to_status = 'live')
        """
    )


def _promotions(db: Database, ids: Sequence[int]) -> list[_Promotion]:
    frame = db.query(
        """
        SELECT p.promotion_id, p.category_id, p.start_date, p.end_date, CAST(p.budget AS DOUBLE) AS budget,
               p.status,
               coalesce((SELECT list(region_id ORDER BY region_id) FROM promotion_regions r
                         WHERE r.promotion_id = p.promotion_id), []::INTEGER[]) AS regions,
               coalesce((SELECT list(product_id ORDER BY product_id) FROM promotion_products x
                         WHERE x.promotion_id = p.promotion_id), []::INTEGER[]) AS products
        FROM promotions p WHERE list_contains($ids::INTEGER[], p.promotion_id) ORDER BY p.promotion_id
        """,
        {"ids": list(ids)},
    )
    return [
        _Promotion(
            int(row.promotion_id),
            int(row.category_id),
            row.start_date.date(),
            row.end_date.date(),
            float(row.budget),
            str(row.status),
            tuple(int(r) for r in row.regions),
            tuple(int(x) for x in row.products),
        )
        for row in frame.itertuples()
    ]


@dataclasses.dataclass
class _Cube:
    """Daily revenue, orders and cost per (region, item, day): item is a category or a product."""

    first: dt.date
    regions: dict[int, int]  # region_id -> position
    items: dict[int, int]  # category_id or product_id -> position
    revenue: np.ndarray
    orders: np.ndarray
    cost: np.ndarray

    def series(self, regions: Sequence[int], items: Sequence[int], start: dt.date, days: int) -> np.ndarray:
        """(3, days): revenue, orders and cost summed over ``regions`` x ``items`` from ``start``."""
        out = np.zeros((3, days))
        r = [self.regions[x] for x in regions if x in self.regions]
        i = [self.items[x] for x in items if x in self.items]
        if not r or not i:
            return out
        lo = (start - self.first).days
        a, b = max(lo, 0), min(lo + days, self.revenue.shape[2])
        if a >= b:
            return out
        for k, values in enumerate((self.revenue, self.orders, self.cost)):
            out[k, a - lo : b - lo] = values[np.ix_(r, i)][:, :, a:b].sum(axis=(0, 1))
        return out


def _cube(
    db: Database, by: str, items: Sequence[int], first: dt.date, last: dt.date, region_ids: Sequence[int]
) -> _Cube:
    """Orders aggregated per region x ``by`` (category_id or product_id) x day in [first, last]."""
    column = {"category_id": "o.category_id", "product_id": "o.product_id"}[by]
    frame = db.query(
        f"""
        SELECT o.region_id, {column} AS item, o.order_date,
               sum(CAST(o.amount AS DOUBLE)) AS revenue, count(*) AS orders,
               sum(o.quantity * CAST(p.unit_cost AS DOUBLE)) AS cost
        FROM orders o JOIN products p ON p.product_id = o.product_id
        WHERE list_contains($items, {column}) AND o.order_date BETWEEN $first AND $last
        GROUP BY ALL
        """,
        {"items": list(items), "first": first, "last": last},
    )
    regions = {int(r): k for k, r in enumerate(sorted(region_ids))}
    positions = {int(x): k for k, x in enumerate(sorted(items))}
    shape = (len(regions), len(positions), (last - first).days + 1)
    revenue, orders, cost = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    if not frame.empty:
        r = frame["region_id"].map(regions).to_numpy()
        i = frame["item"].map(positions).to_numpy()
        d = (frame["order_date"] - pd.Timestamp(first)).dt.days.to_numpy()
        revenue[r, i, d] = frame["revenue"].to_numpy()
        orders[r, i, d] = frame["orders"].to_numpy()
        cost[r, i, d] = frame["cost"].to_numpy()
    return _Cube(first, regions, positions, revenue, orders, cost)


def _periods(p: _Promotion, as_of: dt.date) -> tuple[dt.date, dt.date, int, dt.date, int]:
    """Window start and end (inclusive, at most as_of), its days, baseline start and days."""
    end = min(p.end, as_of)
    days = (end - p.start).days + 1
    baseline = max(MIN_BASELINE_DAYS, days)
    return p.start, end, days, p.start - dt.timedelta(days=baseline), baseline


@dataclasses.dataclass(frozen=True)
class _Ran:
    """The promotions that ran, one entry per (promotion, region), as arrays."""

    promotion: np.ndarray
    category: np.ndarray
    start: np.ndarray  # datetime64[D]
    end: np.ndarray
    region: np.ndarray

    @classmethod
    def of(cls, frame: pd.DataFrame) -> _Ran:
        return cls(
            frame["promotion_id"].to_numpy(dtype=np.int64),
            frame["category_id"].to_numpy(dtype=np.int64),
            frame["start_date"].to_numpy(dtype="datetime64[D]"),
            frame["end_date"].to_numpy(dtype="datetime64[D]"),
            frame["region_id"].to_numpy(dtype=np.int64),
        )

    def busy(self, p: _Promotion, first: dt.date, last: dt.date) -> np.ndarray:
        """Positions of the other promotions of p's category overlapping [first, last]."""
        return np.flatnonzero(
            (self.category == p.category_id)
            & (self.promotion != p.promotion_id)
            & (self.start <= np.datetime64(last, "D"))
            & (self.end >= np.datetime64(first, "D"))
        )


def _quantiles(values: np.ndarray) -> tuple[float | None, float | None]:
    finite = values[np.isfinite(values)]
    if len(finite) < len(values) * 0.9:  # too many draws without an answer: no interval
        return None, None
    low, high = np.percentile(finite, INTERVAL)
    return float(low), float(high)


def _number(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _measure(
    treated: np.ndarray,
    control: np.ndarray | None,
    window: np.ndarray,
    baseline: np.ndarray,
    seed: Sequence[int],
) -> dict[str, Any]:
    """The estimates from daily (3, n) treated and control series; ``window`` and ``baseline`` are
    the day positions of each period (the baseline's usable days only)."""
    n_w = len(window)
    rng = np.random.default_rng(list(seed))
    draws_w = rng.integers(0, n_w, size=(DRAWS, n_w))
    draws_b = rng.integers(0, len(baseline), size=(DRAWS, len(baseline)))
    w_idx = np.vstack([window[None, :], window[draws_w]])  # row 0: the data as observed
    b_idx = np.vstack([baseline[None, :], baseline[draws_b]])

    def ratio(series: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w_mean = series[w_idx].mean(axis=1)
        b_mean = series[b_idx].mean(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return w_mean / b_mean, w_mean, b_mean

    out: dict[str, Any] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, name in ((0, ""), (1, "order_")):
            t_ratio, t_w, t_b = ratio(treated[k])
            c_ratio = ratio(control[k])[0] if control is not None else np.ones_like(t_ratio)
            uplift = t_ratio / c_ratio - 1
            out[f"{name}uplift"] = _number(uplift[0])
            out[f"{name}uplift_low"], out[f"{name}uplift_high"] = _quantiles(uplift[1:])
            if k == 0:
                incremental = (t_w - t_b * c_ratio) * n_w
                out["incremental"] = incremental
    return out


def _analyse(
    p: _Promotion,
    cube: _Cube,
    all_regions: list[int],
    ran: _Ran,
    as_of: dt.date,
    data_start: dt.date | None,
    chart: bool,
    allowed: frozenset[int] | None = None,
) -> dict[str, Any]:
    """The effect of one promotion from the cube (see the module docstring); ``allowed``: the
    regions a limited user may see (None: everything)."""
    treated_regions = p.regions if allowed is None else tuple(r for r in p.regions if r in allowed)
    result: dict[str, Any] = {
        "promotion_id": p.promotion_id,
        "method": "none",
        "window": {"start": p.start.isoformat(), "end": p.end.isoformat(), "days": 0},
        "baseline": None,
        "treated_regions": list(treated_regions),
        "control_regions": [],
        "products": list(p.products),
        **{k: None for k in ("uplift", "uplift_low", "uplift_high", "order_uplift", "order_uplift_low",
                             "order_uplift_high", "incremental_revenue", "incremental_revenue_low",
                             "incremental_revenue_high", "incremental_gross_profit", "margin", "roi",
                             "roi_low", "roi_high", "revenue", "baseline_daily_revenue")},
        "cost": p.budget,
        "orders": 0,
        "notes": [],
        "series": [],
        "granularity": "day",
    }  # fmt: skip
    if p.start > as_of:
        result["notes"] = ["not_started"]
        return limited(result, p.regions, allowed, 0)
    start, end, days, base_start, base_days = _periods(p, as_of)
    busy = ran.busy(p, base_start, end)
    comparable = sorted(set(all_regions) - set(p.regions) - {int(r) for r in ran.region[busy]})
    # a limited user's control holds no region they can see (effect_scope)
    control = comparable if allowed is None else [r for r in comparable if r not in allowed]
    items = p.products or (p.category_id,)
    span = base_days + days
    treated = cube.series(treated_regions, items, base_start, span)
    control_series = cube.series(control, items, base_start, span) if control else None
    # baseline days left out: another promotion of the category in a treated region, or no data yet
    usable = np.ones(base_days, dtype=bool)
    first = np.datetime64(base_start, "D")
    for k in busy[np.isin(ran.region[busy], treated_regions)]:
        a = max(int((ran.start[k] - first).astype(int)), 0)
        b = min(int((ran.end[k] - first).astype(int)) + 1, base_days)
        usable[a:b] = False
    if data_start is not None and data_start > base_start:
        usable[: min((data_start - base_start).days, base_days)] = False
    baseline = np.flatnonzero(usable)
    window = np.arange(base_days, span)
    notes = []
    has_control = control_series is not None and control_series[0, window].sum() > 0
    if has_control and len(baseline):
        has_control = control_series[0, baseline].sum() > 0
    if (
        allowed is not None
        and comparable
        and selling(cube, control, items, base_start, span, window, baseline) < MIN_HIDDEN_CONTROL
    ):
        has_control = False
        notes.append("few_control")
    elif not has_control:
        notes.append("no_control")
    if days < SHORT_WINDOW_DAYS:
        notes.append("short_window")
    if len(baseline) < USABLE_BASELINE_DAYS:
        notes.append("short_baseline")
    orders = int(treated[1, window].sum())
    if orders < FEW_ORDERS:
        notes.append("few_orders")
    if p.end > as_of:
        notes.append("not_finished")
    revenue = float(treated[0, window].sum())
    result.update(
        window={"start": start.isoformat(), "end": end.isoformat(), "days": days},
        baseline={
            "start": base_start.isoformat(),
            "end": (start - dt.timedelta(days=1)).isoformat(),
            "days": base_days,
            "usable_days": len(baseline),
        },
        control_regions=control if has_control else [],
        orders=orders,
        revenue=revenue,
        notes=notes,
    )
    if chart:  # a limited user's chart: their treated regions only, no control or expected line
        shown = control_series if has_control and allowed is None else None
        result["series"], result["granularity"] = _chart(treated, shown, base_start, baseline, span)
    if len(baseline) == 0 or treated[0, baseline].sum() <= 0:
        return limited(result, p.regions, allowed, len(control) if has_control else 0)
    measured = _measure(
        treated, control_series if has_control else None, window, baseline, (SEED, p.promotion_id)
    )
    incremental = measured.pop("incremental")
    margin = (revenue - float(treated[2, window].sum())) / revenue if revenue > 0 else None
    low, high = _quantiles(incremental[1:])
    result.update(measured)
    result.update(
        method="did" if has_control else "before_after",
        baseline_daily_revenue=float(treated[0, baseline].mean()),
        incremental_revenue=_number(incremental[0]),
        incremental_revenue_low=low,
        incremental_revenue_high=high,
        margin=margin,
    )
    if margin is not None and result["incremental_revenue"] is not None:
        result["incremental_gross_profit"] = result["incremental_revenue"] * margin
        if p.budget > 0:
            roi = (incremental * margin - p.budget) / p.budget
            result["roi"] = _number(roi[0])
            result["roi_low"], result["roi_high"] = _quantiles(roi[1:])
    return limited(result, p.regions, allowed, len(control) if has_control else 0)


def _chart(
    treated: np.ndarray, control: np.ndarray | None, first: dt.date, baseline: np.ndarray, span: int
) -> tuple[list[dict[str, Any]], str]:
    """Daily (or weekly, past WEEKLY_AFTER_DAYS) revenue and orders of treated and control over
    baseline and window, and "expected": control scaled to the treated baseline level."""
    days = np.datetime64(first, "D") + np.arange(span)
    groups = {"treated": treated[:2]}
    if control is not None:
        groups["control"] = control[:2]
        if len(baseline) and control[0, baseline].sum() > 0:
            scale = treated[:2, baseline].sum(axis=1) / control[:2, baseline].sum(axis=1)
            groups["expected"] = control[:2] * scale[:, None]
    weekly = span > WEEKLY_AFTER_DAYS
    if weekly:  # weeks start on Monday (1970-01-01 was a Thursday)
        monday = days - ((days.astype(np.int64) + 3) % 7)
        days, bucket = np.unique(monday, return_inverse=True)
        groups = {
            g: np.stack([np.bincount(bucket, v[k], len(days)) for k in range(2)]) for g, v in groups.items()
        }
    labels = [str(d) for d in days]
    rows = [
        {"day": label, "group": group, "revenue": float(values[0, i]), "orders": float(values[1, i])}
        for group, values in groups.items()
        for i, label in enumerate(labels)
    ]
    return rows, "week" if weekly else "day"


def _measure_all(
    db: Database,
    promotions: list[_Promotion],
    as_of: dt.date,
    *,
    chart: bool = True,
    allowed_regions: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """The effect of each promotion, from two cubes at most (categories, and listed products)."""
    allowed = None if allowed_regions is None else frozenset(int(r) for r in allowed_regions)
    started = [p for p in promotions if p.start <= as_of]
    all_regions = [int(r) for (r,) in db.rows("SELECT region_id FROM regions ORDER BY region_id")]
    ran = _Ran.of(_ran(db))
    data_start = db.scalar("SELECT min(order_date) FROM orders")
    cubes: dict[str, _Cube] = {}
    if started:
        periods = [_periods(p, as_of) for p in started]
        first = min(b for _, _, _, b, _ in periods)
        last = max(e for _, e, _, _, _ in periods)
        categories = sorted({p.category_id for p in started if not p.products})
        products = sorted({x for p in started for x in p.products})
        if categories:
            cubes["category"] = _cube(db, "category_id", categories, first, last, all_regions)
        if products:
            cubes["product"] = _cube(db, "product_id", products, first, last, all_regions)
    empty = _Cube(as_of, {}, {}, np.zeros((0, 0, 0)), np.zeros((0, 0, 0)), np.zeros((0, 0, 0)))
    return [
        _analyse(
            p,
            cubes.get("product" if p.products else "category", empty),
            all_regions,
            ran,
            as_of,
            data_start,
            chart,
            allowed,
        )
        for p in promotions
    ]


def effect(
    db: Database,
    promotion_id: int,
    *,
    as_of: dt.date | None = None,
    allowed_regions: Sequence[int] | None = None,
) -> dict[str, Any]:
    """The measured effect of one promotion up to ``as_of`` (default today): method ('did',
    'before_after' or 'none'), window, baseline, treated_regions, control_regions, uplift (revenue)
    and order_uplift with their 90% intervals (_low, _high), incremental_revenue (+ _low, _high),
    incremental_gross_profit, margin, cost, roi (+ _low, _high), revenue and orders in the window,
    notes (codes, see NOTES), series ({day, group, revenue, orders}; group treated, control or
    expected) and granularity ('day' or 'week'). ``allowed_regions``: what the user may see (None:
    everything); limited, the result is theirs only (module docstring) with n_control. Raises
    LookupError for an unknown promotion, and for one outside ``allowed_regions`` alike."""
    found = _promotions(db, [promotion_id])
    if allowed_regions is not None:
        found = [p for p in found if set(p.regions) & set(allowed_regions)]
    if not found:
        raise LookupError(f"no promotion {promotion_id}")
    return _measure_all(db, found, as_of or config.today(), allowed_regions=allowed_regions)[0]


EFFECT_COLUMNS = (
    "promotion_id", "title_zh", "title_en", "status", "category_id", "start_date", "end_date", "method",
    "uplift", "uplift_low", "uplift_high", "order_uplift", "order_uplift_low", "order_uplift_high",
    "incremental_revenue", "incremental_revenue_low", "incremental_revenue_high", "incremental_gross_profit",
    "cost", "roi", "roi_low", "roi_high", "revenue", "orders", "n_control", "notes",
)  # fmt: skip


def effects(db: Database, scope: Scope, *, as_of: dt.date | None = None) -> pd.DataFrame:
    """The effect of every live, finished or reviewed promotion overlapping the period, touching a
    region in scope, of a category in scope: one row each (EFFECT_COLUMNS), oldest start first;
    measured within ``scope.allowed_regions`` (see ``effect``)."""
    listed = db.query(
        """
        SELECT p.promotion_id, p.title_zh, p.title_en, p.status, p.category_id, p.start_date, p.end_date
        FROM promotions p
        WHERE p.status IN ('live', 'finished', 'reviewed')
          AND p.start_date < $end AND p.end_date >= $start
          AND in_scope(p.category_id, $categories)
          AND ($regions::INTEGER[] IS NULL OR EXISTS (
                SELECT 1 FROM promotion_regions r
                WHERE r.promotion_id = p.promotion_id AND in_scope(r.region_id, $regions)))
        ORDER BY p.start_date, p.promotion_id
        """,
        scope.params(),
    )
    found = _promotions(db, listed["promotion_id"].tolist())
    results = _measure_all(
        db, found, as_of or config.today(), chart=False, allowed_regions=scope.allowed_regions
    )
    extra = [c for c in EFFECT_COLUMNS if c not in listed.columns]
    measured = pd.DataFrame(
        [{"promotion_id": r["promotion_id"], **{c: r.get(c) for c in extra}} for r in results],
        columns=["promotion_id", *extra],
    )
    for row, r in zip(measured.index, results, strict=True):
        measured.at[row, "n_control"] = r.get("n_control", len(r["control_regions"]))
    frame = listed.merge(measured, on="promotion_id", how="left")
    for column in ("start_date", "end_date"):
        frame[column] = [d.date() for d in frame[column]]
    return frame[list(EFFECT_COLUMNS)]
