"""The funnel page's tables, tiles and captions: frames from mktsales.funnel, shown in the user's language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from mktsales import charts, i18n
from mktsales.i18n import t
from mktsales.scope import Scope
from mktsales.ui import filters, widgets

SHOWN = 500  # lead rows on screen; the downloads have them all
RATES = ("lead_to_won", "mql_rate", "sal_rate", "opportunity_rate", "win_rate")
COUNTS = ("lead", "mql", "sal", "opportunity", "won", "collected")
MIN_GROUP_LEADS = 30  # a group smaller than this is not called best or worst (unless all are)
CHART_GROUPS = 15  # the breakdown chart shows at most this many groups, those with most leads
TOTAL = 0  # region_id of the total row in the handoff and time-in-stage frames
BEST, WORST = "background-color: #DCFCE7", "background-color: #FEE2E2"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA


@dataclass(frozen=True)
class Names:
    """Ids and codes to the names a user reads, in one language."""

    lang: str
    regions: dict[int, str]
    region_codes: dict[int, str]
    categories: dict[int, str]
    campaigns: dict[int, str]

    @classmethod
    def build(
        cls, regions: pd.DataFrame, categories: pd.DataFrame, campaigns: pd.DataFrame, lang: str
    ) -> Names:
        def table(frame: pd.DataFrame, key: str, column: str) -> dict[int, str]:
            return dict(zip(frame[key].astype(int), frame[column], strict=True))

        return cls(
            lang,
            table(regions, "region_id", f"name_{lang}"),
            table(regions, "region_id", "code"),
            table(categories, "category_id", f"name_{lang}"),
            table(campaigns, "campaign_id", f"name_{lang}"),
        )

    def region(self, region_id: Any) -> str:
        return (
            t("col.total", self.lang)
            if _missing(region_id) or int(region_id) == TOTAL
            else self.regions[int(region_id)]
        )

    def category(self, category_id: Any) -> str:
        return "" if _missing(category_id) else self.categories.get(int(category_id), str(category_id))

    def campaign(self, campaign_id: Any) -> str:
        if _missing(campaign_id):
            return t("fun.no_campaign", self.lang)
        return self.campaigns.get(int(campaign_id), str(campaign_id))

    def code(self, prefix: str, code: Any) -> str:
        """A stored code (source, reason, outcome) in words; an unknown code as it is."""
        if _missing(code):
            return ""
        key = f"{prefix}.{code}"
        return t(key, self.lang) if key in i18n.table() else str(code)


def caption(scope: Scope, cohort: bool, as_of: dt.datetime, lang: str) -> str:
    """What the numbers cover: the period, and for a cohort how far it was followed."""
    start, end = i18n.day(scope.start, lang), i18n.day(scope.end - dt.timedelta(days=1), lang)
    if not cohort:
        return f"{start} – {end} · {t('fun.view.period', lang)}"
    return t("fun.cohort_caption", lang, start=start, end=end, as_of=f"{as_of:%Y-%m-%d %H:%M}")


def _step(frame: pd.DataFrame, i: int, lang: str) -> str:
    before, after = frame.loc[i - 1, "stage"], frame.loc[i, "stage"]
    return f"{t(f'stage.{before}', lang)} → {t(f'stage.{after}', lang)}"


def biggest_leak(stages: pd.DataFrame, lang: str) -> str | None:
    """One sentence naming the step from lead onwards that loses the largest share, and its owner."""
    frame = stages.reset_index(drop=True)
    first = int(frame.index[frame["stage"] == "lead"][0])
    worst, share = None, 0.0
    for i in range(first + 1, len(frame)):
        conversion = frame.loc[i, "conversion"]
        if not _missing(conversion) and 1 - conversion > share:
            worst, share = i, 1 - float(conversion)
    if worst is None:
        return None
    return t(
        "fun.biggest_leak",
        lang,
        step=_step(frame, worst, lang),
        share=i18n.percent(share, lang),
        owner=t(f"fun.owner.{frame.loc[worst, 'leak_owner']}", lang),
    )


def _table(frame: pd.DataFrame, name: str, lang: str, export: widgets.Export, shown: Any = None) -> None:
    widgets.table(frame, export.name(name), lang, f"funnel.{name}", exportable=export.allowed, shown=shown)


def _formatted(frame: pd.DataFrame, formats: dict[str, Callable[[Any], str]]) -> Any:
    return frame.style.format({c: (lambda v, f=f: f(None if _missing(v) else v)) for c, f in formats.items()})


def steps_table(stages: pd.DataFrame, lang: str, export: widgets.Export) -> None:
    """Each step: from, reached, conversion, dropped, and which track owns the drop."""
    frame = stages.reset_index(drop=True)
    rows = [
        {
            t("fun.col.step", lang): _step(frame, i, lang),
            t("fun.col.from", lang): int(frame.loc[i - 1, "count"]),
            t("fun.col.to", lang): int(frame.loc[i, "count"]),
            t("fun.col.conversion", lang): frame.loc[i, "conversion"],
            t("fun.col.drop", lang): frame.loc[i, "drop"],
            t("fun.col.owner", lang): t(f"fun.owner.{frame.loc[i, 'leak_owner']}", lang),
        }
        for i in range(1, len(frame))
    ]
    table = pd.DataFrame(rows)
    count = lambda v: i18n.count(v, lang)  # noqa: E731
    formats = {
        t("fun.col.from", lang): count,
        t("fun.col.to", lang): count,
        t("fun.col.conversion", lang): lambda v: i18n.percent(v, lang),
        t("fun.col.drop", lang): count,
    }
    _table(table, "steps", lang, export, _formatted(table, formats))


# -- handoff ---------------------------------------------------------------------------------------
def _total(frame: pd.DataFrame) -> dict[str, Any]:
    return frame.loc[frame["region_id"] == TOTAL].iloc[0].to_dict()


def handoff_tiles(handoff: pd.DataFrame, lang: str) -> None:
    """Accept rate, median and p90 hours, the share on time, and what waits now."""
    total = _total(handoff)
    value = {
        "accept_rate": i18n.percent(total["accept_rate"], lang),
        "median_hours": i18n.hours(total["median_hours"], lang),
        "p90_hours": i18n.hours(total["p90_hours"], lang),
        "within_target": i18n.percent(total["decided_within_target"], lang),
    }
    overdue = int(total["waiting_overdue"] or 0)
    with st.container(horizontal=True, gap="small"):
        for name, text in value.items():
            st.metric(
                t(f"fun.{name}", lang), text, help=t(f"fun.{name}_help", lang), border=True, width="stretch"
            )
        st.metric(
            t("fun.waiting", lang),
            i18n.count(total["waiting"], lang),
            delta=t("fun.overdue_delta", lang, n=i18n.count(overdue, lang)),
            delta_color="red" if overdue else "gray",
            delta_arrow="off",
            help=t("fun.waiting_help", lang),
            border=True,
            width="stretch",
        )


HANDOFF_COLUMNS = (
    ("accepted", "count"),
    ("rejected", "count"),
    ("accept_rate", "percent"),
    ("median_hours", "hours"),
    ("p90_hours", "hours"),
    ("decided_within_target", "percent"),
    ("waiting", "count"),
    ("waiting_overdue", "count"),
    ("oldest_waiting_hours", "hours"),
)
_FORMAT = {"count": i18n.count, "percent": i18n.percent, "hours": i18n.hours}


def _header(column: str, lang: str) -> str:
    return t("fun.col.within_target" if column == "decided_within_target" else f"fun.col.{column}", lang)


def handoff_table(handoff: pd.DataFrame, names: Names, lang: str, export: widgets.Export) -> None:
    """The handoff per region, the total last."""
    frame = handoff.sort_values("region_id", key=lambda r: r.eq(TOTAL))
    table = pd.DataFrame({t("col.region", lang): [names.region(r) for r in frame["region_id"]]})
    for column, _kind in HANDOFF_COLUMNS:
        table[_header(column, lang)] = list(frame[column])
    formats = {_header(c, lang): (lambda v, k=k: _FORMAT[k](v, lang)) for c, k in HANDOFF_COLUMNS}
    _table(table, "handoff", lang, export, _formatted(table, formats))


def waiting_table(waiting: pd.DataFrame, names: Names, lang: str, export: widgets.Export) -> None:
    """The MQLs no one in sales has decided on yet, oldest first."""
    if waiting.empty:
        st.caption(t("fun.none", lang))
        return
    table = pd.DataFrame(
        {
            t("lead.lead_id", lang): waiting["lead_id"],
            t("lead.region", lang): [names.region(r) for r in waiting["region_id"]],
            t("lead.source", lang): [names.code("source", s) for s in waiting["source"]],
            t("lead.mql_at", lang): waiting["mql_at"],
            t("fun.col.age", lang): waiting["age_hours"],
            t("fun.col.overdue", lang): waiting["overdue"].astype(bool),
        }
    )
    shown = table.assign(**{t("fun.col.age", lang): [i18n.hours(h, lang) for h in waiting["age_hours"]]})
    _table(table, "waiting", lang, export, shown)  # the screen reads "264 h", the file has 264


def rejections_table(rejections: pd.DataFrame, names: Names, lang: str, export: widgets.Export) -> None:
    """Rejected MQLs per reason, most frequent first, with a column per region."""
    if rejections.empty or not rejections["count"].sum():
        st.caption(t("fun.none", lang))
        return
    pivot = rejections.pivot_table(
        index="reject_reason", columns="region_id", values="count", aggfunc="sum", fill_value=0
    )
    pivot.columns = [names.region(r) for r in pivot.columns]
    pivot.insert(0, t("col.total", lang), pivot.sum(axis=1))
    pivot = pivot.sort_values(t("col.total", lang), ascending=False)
    pivot.index = [names.code("reject", r) for r in pivot.index]
    pivot.index.name = t("fun.col.reason", lang)
    _table(pivot.reset_index(), "rejections", lang, export)


# -- breakdown -------------------------------------------------------------------------------------
def group_label(row: dict[str, Any], by: str, names: Names) -> str:
    """The name of one breakdown group in the user's language."""
    if row.get("is_total"):
        return t("col.total", names.lang)
    if by == "source":
        return names.code("source", row["key"])
    if by == "campaign" and _missing(row["key"]):
        return t("fun.no_campaign", names.lang)
    name = row.get(f"name_{names.lang}")
    return str(name) if not _missing(name) else str(row["key"])


def _eligible(groups: pd.DataFrame) -> pd.Series:
    big = groups["lead"] >= MIN_GROUP_LEADS
    return big if big.any() else pd.Series(True, index=groups.index)


def breakdown_table(split: pd.DataFrame, by: str, names: Names, lang: str, export: widgets.Export) -> None:
    """Counts and conversions per group, sortable, the best value of each rate green, the worst red."""
    rows = split.to_dict("records")
    table = pd.DataFrame({t(f"fun.by.{by}", lang): [group_label(r, by, names) for r in rows]})
    for column in COUNTS:
        table[t(f"fun.col.{column}", lang)] = list(split[column])
    for rate in RATES:
        table[t(f"fun.rate.{rate}", lang)] = list(split[rate])
    groups = split.reset_index(drop=True)
    is_group = ~groups["is_total"].astype(bool)
    eligible = is_group & _eligible(groups[is_group]).reindex(groups.index, fill_value=False)

    def highlight(column: pd.Series) -> list[str]:
        values = column.where(eligible)
        if values.notna().sum() < 2 or values.max() == values.min():
            return [""] * len(column)
        return [BEST if v == values.max() else WORST if v == values.min() else "" for v in values]

    rate_headers = [t(f"fun.rate.{r}", lang) for r in RATES]
    count_headers = [t(f"fun.col.{c}", lang) for c in COUNTS]
    total_row = len(table) - 1 if groups["is_total"].iloc[-1] else None
    formats = {h: (lambda v: i18n.count(v, lang)) for h in count_headers}
    formats |= {h: (lambda v: i18n.percent(v, lang)) for h in rate_headers}
    styled = (
        _formatted(table, formats)
        .apply(highlight, subset=rate_headers)
        .apply(lambda row: ["font-weight: 600" if row.name == total_row else ""] * len(row), axis=1)
    )
    _table(table, f"by-{by}", lang, export, styled)
    st.caption(t("fun.breakdown_caption", lang, n=MIN_GROUP_LEADS))


def _narrow_to_clicked_region() -> None:
    """Callback of the region chart: narrow the whole page (the sidebar filter) to the clicked region."""
    event = st.session_state.get("funnel_breakdown_chart") or {}
    points = (event.get("selection") or {}).get("points") or []
    codes = []
    for point in points:
        value = point.get("customdata")
        value = value[0] if isinstance(value, list) and value else value
        if isinstance(value, str):
            codes.append(value)
    if codes:
        filters.narrow_regions(codes[:1])


def breakdown_chart(split: pd.DataFrame, by: str, rate: str, names: Names, lang: str) -> None:
    """One rate across the groups (the most leads first when there are many); regions clickable."""
    groups = split[~split["is_total"].astype(bool)]
    groups = groups.nlargest(CHART_GROUPS, "lead") if len(groups) > CHART_GROUPS else groups
    rows = groups.to_dict("records")
    title = t("fun.chart_breakdown", lang, rate=t(f"fun.rate.{rate}", lang), by=t(f"fun.by.{by}", lang))
    if len(split) - 1 > CHART_GROUPS:
        title += t("fun.chart_top", lang, n=CHART_GROUPS)
    rates = [None if _missing(r[rate]) else float(r[rate]) for r in rows]
    eligible = list(_eligible(groups)) if rows else []
    figure = charts.breakdown_rates(
        [group_label(r, by, names) for r in rows],
        [v if ok else None for v, ok in zip(rates, eligible, strict=True)] if any(eligible) else rates,
        [int(r["lead"]) for r in rows],
        title,
        lang,
        keys=[names.region_codes.get(int(r["key"])) for r in rows] if by == "region" else None,
    )
    if by == "region":
        st.plotly_chart(
            figure,
            key="funnel_breakdown_chart",
            on_select=_narrow_to_clicked_region,
            selection_mode="points",
        )
        st.caption(t("fun.region_click", lang))
    else:
        st.plotly_chart(figure, key=f"funnel_breakdown_chart_{by}")


# -- time in stage ---------------------------------------------------------------------------------
TIME_COLUMNS = ("lead_to_mql", "mql_to_decision", "sal_to_opportunity", "opportunity_to_close", "lead_to_won")


def time_in_stage(frame: pd.DataFrame, names: Names, lang: str, export: widgets.Export) -> None:
    """Median days per stage by region (chart, then the table with the total)."""
    ordered = frame.sort_values("region_id", key=lambda r: r.eq(TOTAL))
    labels = [names.region(r) for r in ordered["region_id"]]
    st.plotly_chart(charts.time_in_stage(labels, ordered, lang), key="time_in_stage")
    table = pd.DataFrame({t("col.region", lang): labels})
    for column in TIME_COLUMNS:
        table[t(f"fun.time.{column}", lang)] = list(ordered[column])
    days = lambda v: t("unit.none", lang) if v is None else f"{v:.1f}"  # noqa: E731
    _table(
        table,
        "time-in-stage",
        lang,
        export,
        _formatted(table, {t(f"fun.time.{c}", lang): days for c in TIME_COLUMNS}),
    )


# -- the leads behind a stage ----------------------------------------------------------------------
LEAD_COLUMNS = (
    "lead_id",
    "region",
    "category",
    "source",
    "campaign",
    "created_at",
    "mql_at",
    "sal_at",
    "rejected_at",
    "reject_reason",
    "opportunity_at",
    "closed_at",
    "outcome",
    "lost_reason",
    "value",
)


def lead_list(leads: pd.DataFrame, names: Names, lang: str) -> pd.DataFrame:
    """The leads of a stage with names instead of ids and headers in the user's language.

    Vectorised (Series.map), since a year's stage can hold hundreds of thousands of leads.
    """
    frame = leads.copy()

    def words(column: str, prefix: str) -> pd.Series:
        codes = frame[column].dropna().unique()
        return frame[column].map({c: names.code(prefix, c) for c in codes}).astype(object).fillna("")

    frame["region"] = frame["region_id"].map(names.regions)
    frame["category"] = frame["category_id"].map(names.categories)
    frame["campaign"] = (
        frame["campaign_id"].map(names.campaigns).astype(object).fillna(t("fun.no_campaign", lang))
    )
    frame["source"] = words("source", "source")
    frame["reject_reason"] = words("reject_reason", "reject")
    frame["lost_reason"] = words("lost_reason", "lost")
    frame["outcome"] = words("outcome", "outcome")
    return frame[list(LEAD_COLUMNS)].rename(columns={c: t(f"lead.{c}", lang) for c in LEAD_COLUMNS})


TIMESTAMPS = ("created_at", "mql_at", "sal_at", "rejected_at", "opportunity_at", "closed_at")


def lead_rows_for_screen(leads: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The first rows of a lead list for the screen: times to the minute, blanks for what has not happened.

    (Streamlit writes "None" in an empty cell, in English; the downloads keep the real types.)
    """
    frame = leads.head(SHOWN).copy()
    for column in TIMESTAMPS:
        header = t(f"lead.{column}", lang)
        frame[header] = frame[header].dt.strftime("%Y-%m-%d %H:%M").fillna("")
    return frame


def lead_columns(lang: str) -> dict[str, Any]:
    """Column settings for a lead list on screen: the value as yuan, sortable as a number."""
    return {t("lead.value", lang): st.column_config.NumberColumn(format=f"{i18n.CURRENCY}%,.0f")}
