"""Figures for the pages: data in, Plotly figure out, themed once. No Streamlit here."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from mktsales import i18n
from mktsales.i18n import t
from mktsales.kpis import HANDOFF_STAGE

# One colour per track, used everywhere a track is shown.
TRACK_COLOURS = {"marketing": "#2563EB", "sales": "#EA580C"}
TARGET_COLOUR = "#475569"
FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, Source Sans Pro, sans-serif"


def _themed(fig: go.Figure, title: str, height: int) -> go.Figure:
    """The house theme: title top-left, compact margins, legend on top, CJK-capable font."""
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        height=height,
        margin={"l": 8, "r": 8, "t": 56, "b": 8},
        font={"family": FONT, "size": 13},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
        hoverlabel={"font": {"family": FONT}},
        separators=".,",
    )
    return fig


_PLAIN = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _plain(text: Any) -> Any:
    """A name from the data as Plotly text that reads as typed: Plotly.js draws a small HTML subset
    (<a href>, <b>, <br>, <span style>, ...) in labels, bar and hover text and shows entities as
    their character. Only for data: the app's own strings and templates keep their markup."""
    return text.translate(_PLAIN) if isinstance(text, str) else text


def funnel(stages: list[dict[str, Any]], lang: str, title: str | None = None) -> go.Figure:
    """The dual-track funnel: one bar per stage on a log scale, coloured by owning track, with the
    conversion from the stage before and the MQL → SAL handoff marked."""
    names = [t(f"stage.{s['stage']}", lang) for s in stages]
    counts = [max(s["count"], 0) for s in stages]
    labels = [
        i18n.count(s["count"], lang)
        + ("" if s["conversion"] is None else f"  ·  ↓ {i18n.percent(s['conversion'], lang)}")
        for s in stages
    ]
    fig = go.Figure()
    for track in ("marketing", "sales"):
        rows = [i for i, s in enumerate(stages) if s["track"] == track]
        fig.add_bar(
            y=[names[i] for i in rows],
            x=[counts[i] or None for i in rows],  # a zero bar cannot be drawn on a log axis
            text=[labels[i] for i in rows],
            textposition="auto",  # inside long bars, outside short ones: nothing runs off a phone
            insidetextanchor="end",
            cliponaxis=False,
            orientation="h",
            marker_color=TRACK_COLOURS[track],
            name=t(f"track.{track}", lang),
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    handoff = next(i for i, s in enumerate(stages) if s["stage"] == HANDOFF_STAGE)
    fig.add_shape(
        type="line",
        xref="paper",
        x0=0,
        x1=1,
        yref="y",
        y0=handoff - 0.5,
        y1=handoff - 0.5,
        line={"color": "#0F172A", "width": 2, "dash": "dash"},
    )
    fig.add_annotation(
        xref="paper",
        x=0.99,
        yref="y",
        y=handoff - 0.5,
        text=t("funnel.handoff", lang),
        showarrow=False,
        xanchor="right",
        yanchor="middle",
        font={"size": 11, "color": "#0F172A"},
        bgcolor="#FFFFFF",
        borderpad=2,
    )
    top = max(counts) if any(counts) else 10
    fig.update_xaxes(type="log", title=t("funnel.axis", lang), range=[0, math.log10(top) + 1.2])
    fig.update_yaxes(categoryorder="array", categoryarray=names[::-1], autorange=True)
    fig.update_layout(barmode="overlay", bargap=0.25)
    return _themed(fig, title or t("funnel.title", lang), height=60 + 45 * len(stages))


PARTIAL_OPACITY = 0.45  # a month the period covers only in part (e.g. this month to date)


def _partial(trend: pd.DataFrame) -> list[bool]:
    return list(trend["days_in_period"] < trend["days_in_month"])


def _month_axis(fig: go.Figure, trend: pd.DataFrame, lang: str) -> None:
    """Short month labels, upright so none is dropped; the year under the first month and January."""
    months = list(trend["month"])[:: 1 if len(trend) <= 13 else 3]
    names = [f"{m.month}月" if lang == "zh" else f"{m:%b}" for m in months]
    text = [
        f"{n}<br>{m.year}" if i == 0 or m.month == 1 else n
        for i, (n, m) in enumerate(zip(names, months, strict=True))
    ]
    fig.update_xaxes(tickvals=months, ticktext=text, tickangle=0)


def has_partial_month(trend: pd.DataFrame) -> bool:
    """True when the trend shows a month only in part (then the page explains the lighter marks)."""
    return any(_partial(trend))


def revenue_trend(trend: pd.DataFrame, lang: str) -> go.Figure:
    """Monthly revenue as bars against the month's (prorated) target as a line."""
    fig = go.Figure()
    fig.add_bar(
        x=trend["month"],
        y=trend["revenue"],
        name=t("series.revenue", lang),
        marker_color=TRACK_COLOURS["sales"],
        marker_opacity=[PARTIAL_OPACITY if p else 1.0 for p in _partial(trend)],
        customdata=[i18n.money(v, lang) for v in trend["revenue"]],
        hovertemplate="%{x|%Y-%m}: %{customdata}<extra></extra>",
    )
    fig.add_scatter(
        x=trend["month"],
        y=trend["target_revenue"],
        name=t("series.target", lang),
        mode="lines+markers",
        line={"color": TARGET_COLOUR, "width": 2, "dash": "dot"},
        customdata=[i18n.money(v, lang) for v in trend["target_revenue"]],
        hovertemplate="%{x|%Y-%m}: %{customdata}<extra></extra>",
    )
    _month_axis(fig, trend, lang)
    top = float(max(trend["revenue"].max(), trend["target_revenue"].max(), 0)) if len(trend) else 0.0
    ticks = money_ticks(top)
    fig.update_yaxes(
        tickvals=ticks, ticktext=[i18n.money(v, lang) for v in ticks], range=[0, max(ticks[-1], top) * 1.05]
    )
    return _themed(fig, t("trend.revenue", lang), height=320)


def money_ticks(top: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least ``top``: steps of 1, 2 or 5 times a power of ten."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(math.ceil(top / step) + 1)]


def leads_trend(trend: pd.DataFrame, lang: str) -> go.Figure:
    """Monthly leads and MQLs, both marketing-owned; a partly covered month has hollow points."""
    symbols = ["circle-open" if p else "circle" for p in _partial(trend)]
    fig = go.Figure()
    fig.add_scatter(
        x=trend["month"],
        y=trend["leads"],
        name=t("series.leads", lang),
        mode="lines+markers",
        line={"color": TRACK_COLOURS["marketing"], "width": 2},
        marker={"symbol": symbols, "size": 8},
    )
    fig.add_scatter(
        x=trend["month"],
        y=trend["mql"],
        name=t("series.mql", lang),
        mode="lines+markers",
        line={"color": "#60A5FA", "width": 2, "dash": "dash"},
        marker={"symbol": symbols, "size": 8},
    )
    _month_axis(fig, trend, lang)
    fig.update_yaxes(title=t("axis.count", lang), rangemode="tozero")
    return _themed(fig, t("trend.leads", lang), height=320)


# -- funnel page ------------------------------------------------------------------------------------
BEST_COLOUR, WORST_COLOUR, OTHER_COLOUR = "#16A34A", "#DC2626", "#94A3B8"
HANDOFF_COLOUR = "#0F172A"


def breakdown_rates(
    labels: list[str],
    rates: list[float | None],
    leads: list[int],
    title: str,
    lang: str,
    keys: list[Any] | None = None,
) -> go.Figure:
    """One conversion rate across the groups of a split, highest first: best green, worst red.

    ``keys`` travel with each bar as customdata (the funnel page narrows to a clicked region).
    """
    rows = sorted(
        zip(labels, rates, leads, keys or [None] * len(labels), strict=True),
        key=lambda r: -1.0 if r[1] is None or pd.isna(r[1]) else r[1],
        reverse=True,
    )
    valued = [i for i, r in enumerate(rows) if r[1] is not None and not pd.isna(r[1])]
    colours = [OTHER_COLOUR] * len(rows)
    if len(valued) > 1:
        colours[valued[0]], colours[valued[-1]] = BEST_COLOUR, WORST_COLOUR
    names = [_plain(r[0]) for r in rows]
    fig = go.Figure()
    fig.add_bar(
        y=names,
        x=[None if i not in valued else r[1] for i, r in enumerate(rows)],
        orientation="h",
        marker_color=colours,
        text=[f"{i18n.percent(r[1], lang)} · {i18n.count(r[2], lang)}" for r in rows],
        textposition="auto",
        insidetextanchor="end",
        cliponaxis=False,
        customdata=[r[3] for r in rows],
        hovertemplate="%{y}: %{text}<extra></extra>",
    )
    fig.update_yaxes(categoryorder="array", categoryarray=names[::-1], automargin=True)
    fig.update_xaxes(tickformat=".0%", rangemode="tozero")
    fig.update_layout(showlegend=False, bargap=0.25)
    return _themed(fig, title, height=90 + 30 * max(len(rows), 2))


TIME_STEPS: tuple[tuple[str, str], ...] = (
    ("lead_to_mql", TRACK_COLOURS["marketing"]),
    ("mql_to_decision", HANDOFF_COLOUR),
    ("sal_to_opportunity", "#FB923C"),
    ("opportunity_to_close", TRACK_COLOURS["sales"]),
)


def time_in_stage(labels: list[str], frame: pd.DataFrame, lang: str) -> go.Figure:
    """Median days in each stage per group, stacked left to right in funnel order."""
    labels = [_plain(label) for label in labels]
    fig = go.Figure()
    totals = frame[[step for step, _ in TIME_STEPS]].fillna(0).sum(axis=1)
    readable = 0.06 * float(totals.max() or 1)  # a shorter segment has no room for its label
    for step, colour in TIME_STEPS:
        days = [None if pd.isna(v) else float(v) for v in frame[step]]
        fig.add_bar(
            y=labels,
            x=days,
            name=t(f"fun.time.{step}", lang),
            orientation="h",
            marker_color=colour,
            text=[None if d is None or d < readable else f"{d:.1f}" for d in days],
            textposition="inside",
            insidetextanchor="middle",
            textangle=0,
            hovertemplate="%{y} · " + t(f"fun.time.{step}", lang) + ": %{x:.1f}<extra></extra>",
        )
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1], automargin=True)
    fig.update_xaxes(rangemode="tozero", ticksuffix=t("fun.axis_days_suffix", lang))
    height = 180 + 34 * max(len(labels), 2)
    fig.update_layout(barmode="stack", bargap=0.3)
    return _legend_below(_themed(fig, t("fun.chart_time", lang), height=height), height=height, bottom=80)


# (column, legend label, colour, dash): the win rate is won ÷ (won + lost), as on the overview
TREND_STEPS: tuple[tuple[str, str, str, str], ...] = (
    ("mql_rate", "fun.rate.mql_rate", TRACK_COLOURS["marketing"], "solid"),
    ("sal_rate", "fun.rate.sal_rate", HANDOFF_COLOUR, "dash"),
    ("opportunity_rate", "fun.rate.opportunity_rate", "#FB923C", "solid"),
    ("win_rate", "kpi.win_rate", TRACK_COLOURS["sales"], "dot"),
)


def conversion_trend(trend: pd.DataFrame, lang: str) -> go.Figure:
    """Each step's monthly conversion rate, one line per step; a partly covered month hollow."""
    symbols = (
        ["circle-open" if p else "circle" for p in _partial(trend)] if "days_in_month" in trend else None
    )
    fig = go.Figure()
    for step, label, colour, dash in TREND_STEPS:
        fig.add_scatter(
            x=trend["month"],
            y=trend[step],
            name=t(label, lang),
            mode="lines+markers",
            line={"color": colour, "width": 2, "dash": dash},
            marker={"symbol": symbols, "size": 7} if symbols else {"size": 7},
            hovertemplate="%{x|%Y-%m}: %{y:.1%}<extra></extra>",
            connectgaps=False,
        )
    _month_axis(fig, trend, lang)
    fig.update_yaxes(title=t("fun.axis_rate", lang), tickformat=".0%", rangemode="tozero")
    return _legend_below(_themed(fig, t("fun.trend", lang), height=380), height=380, bottom=100)


def _legend_below(fig: go.Figure, height: int, bottom: int, top: int = 56) -> go.Figure:
    """Move the legend under the x axis (long step names would cover the title on a phone)."""
    below_ticks = -44 / (height - top - bottom)  # under two-line month labels, in paper units
    fig.update_layout(
        legend={"traceorder": "normal", "y": below_ticks, "yanchor": "top", "x": 0, "xanchor": "left"},
        margin={"t": top, "b": bottom},
    )
    return fig


# -- shared-information board ---------------------------------------------------------------------
# A field report is answered by marketing, a plan by sales: each lane takes its answering track's colour.
ANSWERING_TRACK = {"field": "marketing", "plan": "sales"}


def response_by_region(frame: pd.DataFrame, lang: str) -> go.Figure:
    """Median first-response hours per region, one bar per lane (who answers), slowest on top."""
    fig = go.Figure()
    order = (
        frame.groupby(f"name_{lang}")["median_hours"].max().sort_values(ascending=True, na_position="first")
        if len(frame)
        else pd.Series(dtype=float)
    )
    for direction in ("field", "plan"):
        rows = frame.loc[frame["direction"] == direction]
        fig.add_bar(
            y=[_plain(name) for name in rows[f"name_{lang}"]],
            x=rows["median_hours"],
            orientation="h",
            name=t(f"chart.board.answered_by.{direction}", lang),
            marker_color=TRACK_COLOURS[ANSWERING_TRACK[direction]],
            text=[i18n.hours(None if pd.isna(v) else float(v), lang) for v in rows["median_hours"]],
            textposition="outside",
            textfont={"size": 11},
            cliponaxis=False,
            customdata=[i18n.percent(None if pd.isna(v) else float(v), lang) for v in rows["within_target"]],
            hovertemplate="%{y}: %{text} · "
            + t("boardpage.within_target", lang)
            + " %{customdata}<extra></extra>",
        )
    fig.update_yaxes(
        categoryorder="array", categoryarray=[_plain(name) for name in order.index], automargin=True
    )
    fig.update_xaxes(rangemode="tozero", ticksuffix=" h")
    n = max(len(order), 2)
    height = 150 + 40 * n
    fig.update_layout(barmode="group", bargap=0.25)
    return _legend_below(
        _themed(fig, t("chart.board.by_region", lang), height=height), height=height, bottom=70
    )


def response_trend(frame: pd.DataFrame, lang: str) -> go.Figure:
    """Monthly share answered within target, one line per lane."""
    fig = go.Figure()
    for direction in ("field", "plan"):
        rows = frame.loc[frame["direction"] == direction]
        fig.add_scatter(
            x=rows["month"],
            y=rows["within_target"],
            name=t(f"chart.board.answered_by.{direction}", lang),
            mode="lines+markers",
            line={"color": TRACK_COLOURS[ANSWERING_TRACK[direction]], "width": 2},
            customdata=[i18n.hours(None if pd.isna(v) else float(v), lang) for v in rows["median_hours"]],
            hovertemplate="%{x|%Y-%m}: %{y:.0%} · "
            + t("boardpage.median_hours", lang)
            + " %{customdata}<extra></extra>",
        )
    months = frame[["month"]].drop_duplicates().sort_values("month")
    if len(months):
        _month_axis(fig, months, lang)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    return _legend_below(_themed(fig, t("chart.board.trend", lang), height=340), height=340, bottom=100)


def field_volume(frame: pd.DataFrame, lang: str) -> go.Figure:
    """Field reports per region and category: a region that stops reporting shows as a pale row."""
    categories = list(dict.fromkeys(frame["category"]))
    regions = list(dict.fromkeys(frame[f"name_{lang}"]))
    cube = frame.pivot_table(
        index=f"name_{lang}", columns="category", values="reports", aggfunc="sum", fill_value=0
    ).reindex(index=regions, columns=categories, fill_value=0)
    fig = go.Figure(
        go.Heatmap(
            z=cube.values,
            x=[t(f"post_category.{c}", lang) for c in categories],
            y=[_plain(region) for region in regions],
            colorscale="Blues",
            text=cube.values,
            texttemplate="%{text}",
            showscale=False,
            hovertemplate="%{y} · %{x}: %{z}<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(side="bottom", tickangle=-35, automargin=True)
    return _themed(fig, t("chart.board.volume", lang), height=160 + 30 * max(len(regions), 2))


# -- promotions ----------------------------------------------------------------------------------------
PROMOTION_STATUS_COLOURS = {
    "requested": "#8B5CF6", "drafting": "#94A3B8", "consulting": "#F59E0B", "approved": "#2563EB",
    "live": "#16A34A",
}  # fmt: skip


def promotion_timeline(frame: pd.DataFrame, lang: str, today: Any) -> go.Figure:
    """Live and upcoming promotions as bars on a calendar, one row per region, coloured by status.
    Promotions that overlap in a region get a row each (华东, 华东 ②), so no bar hides another."""
    rows = []
    lanes: dict[str, list[pd.Timestamp]] = {}  # region -> the last day taken in each of its rows
    order: list[str] = []
    for record in frame.sort_values("start_date").to_dict("records"):
        title = record.get(f"title_{lang}") or record["title_zh"]
        start, end = pd.Timestamp(record["start_date"]), pd.Timestamp(record["end_date"])
        for region in sorted(record[f"region_names_{lang}"]):
            taken = lanes.setdefault(region, [])
            lane = next((i for i, last in enumerate(taken) if last < start), len(taken))
            if lane == len(taken):
                taken.append(end)
                order.append(region if lane == 0 else f"{region} {'②③④⑤⑥⑦⑧⑨'[min(lane - 1, 7)]}")
            else:
                taken[lane] = end
            label = region if lane == 0 else f"{region} {'②③④⑤⑥⑦⑧⑨'[min(lane - 1, 7)]}"
            rows.append((label, record["status"], record["start_date"], record["end_date"], title))
    fig = go.Figure()
    for status, colour in PROMOTION_STATUS_COLOURS.items():
        chosen = [r for r in rows if r[1] == status]
        if not chosen:
            continue
        starts = pd.to_datetime([r[2] for r in chosen])
        ends = pd.to_datetime([r[3] for r in chosen]) + pd.Timedelta(days=1)  # the last day is included
        fig.add_bar(
            y=[_plain(r[0]) for r in chosen],
            x=(ends - starts).total_seconds() * 1000,
            base=starts,
            orientation="h",
            name=t(f"promotion.status.{status}", lang),
            marker_color=colour,
            marker_line_width=0,
            opacity=0.85,
            text=[_plain(r[4]) for r in chosen],
            textposition="inside",
            insidetextanchor="start",
            textfont={"size": 11, "color": "white"},
            customdata=[
                [_plain(r[4]), f"{pd.Timestamp(r[2]):%m-%d}", f"{pd.Timestamp(r[3]):%m-%d}"] for r in chosen
            ],
            hovertemplate="%{y} · %{customdata[0]}<br>%{customdata[1]} – %{customdata[2]}<extra></extra>",
        )
    fig.add_vline(x=pd.Timestamp(today), line={"color": "#0F172A", "width": 1, "dash": "dot"})
    regions = sorted(order)  # a region's extra rows (华东 ②) sort right after it
    fig.update_yaxes(categoryorder="array", categoryarray=[_plain(r) for r in regions[::-1]], automargin=True)
    fig.update_xaxes(type="date", tickformat="%m-%d")
    height = 170 + 34 * max(len(regions), 2)
    fig.update_layout(barmode="overlay", bargap=0.35)
    return _legend_below(
        _themed(fig, t("chart.promo.timeline", lang), height=height), height=height, bottom=70
    )


def promotion_effect(result: dict[str, Any], lang: str) -> go.Figure:
    """Sales in the promoted regions against what was expected without the promotion (the
    comparable regions scaled to the promoted ones' baseline), the promotion's window shaded: the
    gap inside the window is the incremental revenue."""
    series = pd.DataFrame(result["series"])
    fig = go.Figure()
    window = result.get("window") or {}
    for group, colour, dash in (
        ("treated", TRACK_COLOURS["sales"], "solid"),
        ("expected", TARGET_COLOUR, "dot"),
    ):
        rows = series.loc[series["group"] == group].sort_values("day")
        if rows.empty:
            continue
        fig.add_scatter(
            x=pd.to_datetime(rows["day"]),
            y=rows["revenue"],
            name=t(f"effect.group.{group}", lang),
            mode="lines",
            line={"color": colour, "width": 2, "dash": dash},
            customdata=[i18n.money(float(v), lang) for v in rows["revenue"]],
            hovertemplate="%{x|%Y-%m-%d}: %{customdata}<extra></extra>",
        )
    if window.get("start") and window.get("end"):
        fig.add_vrect(
            x0=pd.Timestamp(window["start"]),
            x1=pd.Timestamp(window["end"]) + pd.Timedelta(days=1),
            fillcolor="#16A34A",
            opacity=0.12,
            line_width=0,
            annotation_text=t("chart.promo.window", lang),
            annotation_position="top left",
        )
    top = float(series["revenue"].max()) if len(series) else 0.0
    ticks = money_ticks(top)
    fig.update_yaxes(
        tickvals=ticks, ticktext=[i18n.money(v, lang) for v in ticks], range=[0, max(ticks[-1], top) * 1.05]
    )
    fig.update_xaxes(tickformat="%m-%d")
    # the title names what is drawn: a limited user's own regions, or the promoted regions alone
    # when there is no "expected" line to compare with
    expected = bool(len(series)) and bool((series["group"] == "expected").any())
    if "partial_scope" in (result.get("notes") or []):
        title = "chart.promo.effect_yours"
    else:
        title = "chart.promo.effect" if expected else "chart.promo.effect_alone"
    return _legend_below(_themed(fig, t(title, lang), height=340), height=340, bottom=80)


def execution_by_region(summary: pd.DataFrame, lang: str) -> go.Figure:
    """Share of execution-status reports saying "as planned", by region, worst first."""
    rows = summary.loc[summary["reports"] > 0].sort_values("share_as_planned", ascending=False)
    labels = list(rows[f"name_{lang}"]) if f"name_{lang}" in rows else [str(r) for r in rows["region_id"]]
    return breakdown_rates(
        labels,
        [float(v) for v in rows["share_as_planned"]],
        [int(v) for v in rows["reports"]],
        t("chart.promo.as_planned", lang),
        lang,
    )
