"""The funnel page's numbers (issue 3): period and cohort funnels, breakdowns, the handoff.

Everything is named SQL bound to a Scope (``scope.params()`` plus ``$as_of``, ``$by`` …); totals
come from GROUP BY ROLLUP over the same rows as the groups. Two views of the same stages:

- period: the stage events that happened in the period, exactly the overview's funnel;
- cohort: of the leads created in the period, how many reached each stage before ``as_of``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from mktsales import kpis
from mktsales.db import Database
from mktsales.queries import sql
from mktsales.scope import Scope, trend_scope

# The dual-track funnel: (stage, owning track), in order; the same stages as kpis.FUNNEL_STAGES.
STAGES: tuple[tuple[str, str], ...] = tuple((stage, track) for stage, track, _ in kpis.FUNNEL_STAGES)
TRACKS: dict[str, str] = dict(STAGES)
# The stages a lead passes through: what the cohort view, breakdowns and drill-downs count.
LEAD_STAGES = ("lead", "mql", "sal", "opportunity", "won", "collected")
# Ends of the journey that are not funnel stages, shown beside them (and listable with stage_leads).
OUTCOMES = ("rejected", "lost")
BREAKDOWNS = ("region", "category", "source", "campaign")
TOTAL = kpis.TOTAL  # region_id of the total row in handoff() and time_in_stage()
FUNNEL_COLUMNS = ["stage", "track", "count", "conversion", "drop", "leak_owner"]
MAX_WAITING_ROWS = 500


def leak_owner(stage_from: str, stage_to: str) -> str:
    """Who owns the leak between two stages: marketing, sales, or the handoff across the tracks."""
    order = [stage for stage, _ in STAGES]
    for stage in (stage_from, stage_to):
        if stage not in TRACKS:
            raise ValueError(f"unknown funnel stage {stage!r}; known: {', '.join(order)}")
    if order.index(stage_from) >= order.index(stage_to):
        raise ValueError(f"{stage_from!r} does not come before {stage_to!r} in the funnel")
    tracks = {TRACKS[stage_from], TRACKS[stage_to]}
    return tracks.pop() if len(tracks) == 1 else "handoff"


def _stages_frame(counts: list[tuple[str, int]]) -> pd.DataFrame:
    """Funnel rows from (stage, count) in order: conversion and drop from the stage before."""
    rows = []
    previous: tuple[str, int] | None = None
    for stage, count in counts:
        row: dict[str, Any] = {"stage": stage, "track": TRACKS[stage], "count": count}
        if previous is None:
            row.update(conversion=None, drop=None, leak_owner=None)
        else:
            name, before = previous
            row.update(
                conversion=count / before if before else None,
                drop=before - count,
                leak_owner=leak_owner(name, stage),
            )
        rows.append(row)
        previous = (stage, count)
    # object columns, so that "none" stays None rather than NaN (the first stage has no conversion)
    return pd.DataFrame(
        {name: pd.Series([row[name] for row in rows], dtype=object) for name in FUNNEL_COLUMNS}
    ).astype({"count": "int64"})


def period_funnel(db: Database, scope: Scope) -> pd.DataFrame:
    """The eight stages' events in the period (the overview's funnel), with conversion, drop and leak."""
    return _stages_frame([(s["stage"], s["count"]) for s in kpis.funnel(kpis.totals(db, scope))])


def _require_as_of(as_of: dt.datetime | None) -> dt.datetime:
    if as_of is None:
        raise ValueError("the cohort view needs as_of: the moment its stages are counted up to")
    return as_of


def _cohort_total(db: Database, scope: Scope, as_of: dt.datetime) -> dict[str, Any]:
    frame = breakdown(db, scope, "region", cohort=True, as_of=as_of)
    return frame.loc[frame["is_total"]].iloc[0].to_dict()


def cohort_funnel(db: Database, scope: Scope, as_of: dt.datetime) -> pd.DataFrame:
    """Of the leads created in the period, how many reached each lead stage before ``as_of``."""
    total = _cohort_total(db, scope, as_of)
    return _stages_frame([(stage, int(total[stage])) for stage in LEAD_STAGES])


def cohort_outcomes(db: Database, scope: Scope, as_of: dt.datetime) -> dict[str, int]:
    """The cohort's leads that left the funnel before ``as_of``: MQLs rejected by sales, deals lost."""
    total = _cohort_total(db, scope, as_of)
    return {name: int(total[name]) for name in OUTCOMES}


def _key(row: pd.Series, by: str) -> Any:
    value = row["key_code"] if by == "source" else row["key_id"]
    return None if row["is_total"] or pd.isna(value) else (value if by == "source" else int(value))


def breakdown(
    db: Database, scope: Scope, by: str, cohort: bool = False, as_of: dt.datetime | None = None
) -> pd.DataFrame:
    """The lead stages per region, category, source or campaign, plus the total row (is_total, last).

    key is the region_id, category_id, source code or campaign_id (None: no campaign, or the
    total). Period view: events in the period; cohort view: as cohort_funnel, per group.
    """
    if by not in BREAKDOWNS:
        raise ValueError(f"cannot break the funnel down by {by!r}; choose one of: {', '.join(BREAKDOWNS)}")
    params = scope.params() | {"by": by}
    if cohort:
        frame = db.query(sql("funnel_cohort"), params | {"as_of": _require_as_of(as_of)})
    else:
        frame = db.query(sql("funnel_breakdown"), params)
    keys = [_key(row, by) for _, row in frame.iterrows()]
    frame.insert(0, "key", pd.Series(keys, index=frame.index, dtype=object))
    return frame.drop(columns=["key_id", "key_code"])


def handoff(db: Database, scope: Scope, as_of: dt.datetime, target_hours: float) -> pd.DataFrame:
    """The MQL → SAL handoff per region in scope plus the total row (region_id 0, last)."""
    params = scope.params() | {"as_of": as_of, "target_hours": float(target_hours)}
    return db.query(sql("handoff_by_region"), params)


def waiting_mqls(
    db: Database, scope: Scope, as_of: dt.datetime, target_hours: float, limit: int | None = MAX_WAITING_ROWS
) -> pd.DataFrame:
    """The MQLs waiting for sales' decision at ``as_of``, oldest first (any period: a snapshot)."""
    params = {
        "regions": scope.params()["regions"],
        "categories": scope.params()["categories"],
        "as_of": as_of,
        "target_hours": float(target_hours),
        "limit": limit,
    }
    return db.query(sql("handoff_waiting"), params)


def rejections(db: Database, scope: Scope) -> pd.DataFrame:
    """MQLs rejected in the period: region_id, reject_reason, count (no total rows: pivot them)."""
    return db.query(sql("handoff_rejections"), scope.params())


def time_in_stage(db: Database, scope: Scope) -> pd.DataFrame:
    """Median days per step (lead_to_mql … lead_to_won) per region in scope, plus the total (0, last)."""
    return db.query(sql("time_in_stage"), scope.params())


def conversion_trend(db: Database, scope: Scope) -> pd.DataFrame:
    """Stage events and period conversions per month of the trend window (≥ 12 months)."""
    return db.query(sql("conversion_trend"), trend_scope(scope).params())


def stage_leads(
    db: Database,
    scope: Scope,
    stage: str,
    cohort: bool = False,
    as_of: dt.datetime | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """The leads behind one stage (or outcome): its events in the period, or the cohort's leads."""
    known = LEAD_STAGES + OUTCOMES
    if stage not in known:
        raise ValueError(f"no lead list for stage {stage!r}; choose one of: {', '.join(known)}")
    if cohort:
        _require_as_of(as_of)
    params = scope.params() | {"stage": stage, "cohort": cohort, "as_of": as_of, "limit": limit}
    return db.query(sql("funnel_leads"), params)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{name: kpis._clean(value) for name, value in row.items()} for row in frame.to_dict("records")]


def _total_row(frame: pd.DataFrame) -> dict[str, Any]:
    """The region_id 0 row of a per-region frame, without its labels."""
    row = _records(frame.loc[frame["region_id"] == TOTAL])[0]
    return {name: value for name, value in row.items() if name not in ("region_id", "name_zh", "name_en")}


def report(
    db: Database,
    scope: Scope,
    *,
    by: str | None = None,
    cohort: bool = False,
    as_of: dt.datetime,
    target_hours: float,
) -> dict[str, Any]:
    """The CLI's ``funnel --json`` object: period, view, funnel, breakdown, handoff, time in stage."""
    if by is not None and by not in BREAKDOWNS:
        raise ValueError(f"cannot break the funnel down by {by!r}; choose one of: {', '.join(BREAKDOWNS)}")
    if cohort:
        total = _cohort_total(db, scope, as_of)
        stages = _stages_frame([(stage, int(total[stage])) for stage in LEAD_STAGES])
    else:
        stages = period_funnel(db, scope)
    result: dict[str, Any] = {
        "period": {"from": scope.start.isoformat(), "to": scope.end.isoformat(), "days": scope.days},
        "view": "cohort" if cohort else "period",
        "as_of": as_of.isoformat(),
        "funnel": _records(stages),
    }
    if cohort:
        result["outcomes"] = {name: int(total[name]) for name in OUTCOMES}
    if by is not None:
        rows = breakdown(db, scope, by, cohort, as_of)
        result["breakdown"] = {"by": by, "rows": _records(rows)}
    result["handoff"] = _total_row(handoff(db, scope, as_of, target_hours)) | {
        "target_hours": float(target_hours)
    }
    result["time_in_stage"] = _total_row(time_in_stage(db, scope))
    return result
