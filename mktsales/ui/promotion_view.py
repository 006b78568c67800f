"""The promotions page's views: the status board, the timeline, the approval queue, one promotion
with its workflow, the request / draft / execution-report forms, execution deviations and effects.
Data and every rule come from mktsales.promotions and mktsales.effect; this module only draws."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from mktsales import charts, config, effect, i18n, promotions, uploads
from mktsales.access import User, visible, visible_regions
from mktsales.db import Database
from mktsales.i18n import LANGS, t
from mktsales.photos import Photo
from mktsales.scope import Scope
from mktsales.ui import fields, filters, widgets
from mktsales.ui.text import md

OPEN_KEY = "promo.open"
VIEW_KEY = "promo.view"
# The status board's columns: a promotion's life from left to right.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("waiting", ("requested",)),
    ("preparing", ("drafting", "consulting")),
    ("approved", ("approved",)),
    ("live", ("live",)),
    ("done", ("finished", "reviewed")),
)
ENDED = ("rejected", "cancelled")
STATUS_COLOURS = {
    "requested": "violet", "drafting": "gray", "consulting": "orange", "approved": "blue", "live": "green",
    "finished": "gray", "reviewed": "gray", "rejected": "red", "cancelled": "red",
}  # fmt: skip
# Moves that need a reason typed by the user (the workflow refuses them without one).
NEEDS_REASON = {("requested", "rejected"), ("live", "cancelled"), ("finished", "reviewed")}
CARDS_PER_COLUMN = 12


@dataclass
class Promo:
    """What every view of the page needs."""

    db: Database
    user: User
    lang: str
    scope: Scope
    now: dt.datetime
    region_names: dict[int, str]
    category_names: dict[int, str]
    export: widgets.Export  # the downloads under every table

    def title(self, row: Any) -> str:
        return str(row.get(f"title_{self.lang}") or row.get("title_zh") or "")

    def table(
        self, frame: pd.DataFrame, name: str, shown: Any = None, *, scoped: bool = True, **kwargs: Any
    ) -> None:
        """A data table of the page with its downloads (file name and widget keys from ``name``)."""
        self.export.table(frame, name, self.lang, f"promo.{name}", shown, scoped=scoped, **kwargs)


def views_for(user: User) -> list[str]:
    """The page's views this role uses, in order."""
    views = ["board", "timeline"]
    if user.can("promotion.decide") or user.can("promotion.draft"):
        views.append("queue")
    if user.can("promotion.request"):
        views.append("request")
    if user.can("promotion.draft"):
        views.append("draft")
    if user.can("promotion.report_execution"):
        views.append("report")
    return [*views, "execution", "effects"]


def show(view: str) -> None:
    st.session_state[VIEW_KEY] = view
    for lang in LANGS:
        st.session_state.pop(f"{VIEW_KEY}.{lang}", None)


def open_promotion(promotion_id: int, view: str | None = None) -> None:
    """Show one promotion in full (in the board, queue or timeline view it was opened from)."""
    st.session_state[OPEN_KEY] = promotion_id
    if view is not None:
        show(view)


def follow_link(views: list[str]) -> None:
    """Open what a link asked for (?view=request, ?promotion=12) once, then clear the address."""
    params = st.query_params
    if params.get("view") in views:
        show(params["view"])
    if "promotion" in params:  # a number that names nothing (0) shows "not found", never an error
        open_promotion(filters.link_number(params["promotion"]) or 0, "board")
    for name in ("view", "promotion"):
        if name in params:
            del params[name]


def _refusal(exc: Exception, lang: str) -> None:
    if isinstance(exc, promotions.PromotionInvalid):
        for problem in exc.problems:
            st.error(problem.message(lang), icon=":material/error:")
    elif isinstance(exc, promotions.PromotionRefused):
        st.error(exc.message(lang), icon=":material/block:")
    elif isinstance(exc, promotions.PromotionFailed):  # the disk full has its own message
        key = "promopage.failed" if exc.key == promotions.PromotionFailed.key else exc.key
        st.error(t(key, lang), icon=":material/cloud_off:")
    else:
        st.error(t("promopage.refused", lang), icon=":material/block:")


REFUSALS = (
    promotions.PromotionInvalid,
    promotions.PromotionRefused,
    promotions.PromotionFailed,
    PermissionError,
)


ACTIONS = fields.Actions("promo.flash", REFUSALS, _refusal)
flash = ACTIONS.flash
_run = ACTIONS.run


# -- small pieces ------------------------------------------------------------------------------------
def status_badge(status: str, lang: str) -> str:
    return f":{STATUS_COLOURS[status]}-badge[{t('promotion.status.' + status, lang)}]"


def badges(row: Any, lang: str) -> str:
    shown = [status_badge(row["status"], lang), f":gray-badge[{t('promotion.kind.' + row['kind'], lang)}]"]
    if row["origin"] == "sales":
        shown.append(f":violet-badge[{t('promotion.origin.sales', lang)}]")
    if row.get("overdue"):
        reason = row.get("overdue_reason") or "decision"
        shown.insert(0, f":red-badge[:material/alarm: {t('promo_overdue.' + reason, lang)}]")
    return " ".join(shown)


def dates(row: Any) -> str:
    start, end = pd.Timestamp(row["start_date"]), pd.Timestamp(row["end_date"])
    same_year = start.year == end.year
    return f"{start:%Y-%m-%d} – {end:%m-%d}" if same_year else f"{start:%Y-%m-%d} – {end:%Y-%m-%d}"


def region_text(row: Any, lang: str) -> str:
    """A promotion's regions as one line: 华北、华东 / North China, East China."""
    names = _items(row.get(f"region_names_{lang}"))
    return ("、" if lang == "zh" else ", ").join(str(n) for n in names)


def _items(value: Any) -> list[Any]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    return list(value)


def readiness_line(row: Any, lang: str) -> str:
    """Ready, or what is missing; for a consultation, who has answered."""
    parts = []
    if row["status"] == "consulting":
        parts.append(
            t("promopage.consulted_n", lang, answered=int(row["consulted"]), n=int(row["consult_total"]))
        )
    if row["status"] in ("drafting", "consulting", "approved"):
        missing = _items(row.get("missing"))
        if missing:
            sep = "、" if lang == "zh" else ", "
            parts.append(
                t("promopage.missing", lang, items=sep.join(t("promo_missing." + m, lang) for m in missing))
            )
        else:
            parts.append(t("promopage.ready", lang))
    return " · ".join(parts)


# -- the status board -------------------------------------------------------------------------------
def card(p: Promo, row: Any) -> None:
    lang = p.lang
    with st.container(border=True):
        st.markdown(badges(row, lang))
        st.markdown(f"**{md(p.title(row))}**")
        st.caption(
            " · ".join(
                [
                    md(region_text(row, lang)),
                    dates(row),
                    i18n.money(float(row["budget"] or 0), lang),
                    md(row.get("owner_name") or "—"),
                ]
            )
        )
        line = readiness_line(row, lang)
        if line:
            st.caption(line)
        if row["status"] == "live":
            share = row.get("as_planned_share")
            shown = "—" if share is None or pd.isna(share) else i18n.percent(float(share), lang)
            progress = float(row.get("progress") or 0)
            st.progress(
                min(max(progress, 0.0), 1.0),
                text=t(
                    "promopage.live_progress",
                    lang,
                    share=i18n.percent(progress, lang),
                    n=int(row.get("reports") or 0),
                    planned=shown,
                ),
            )
        if row["status"] == "requested" and row.get("requested_at") is not None:
            st.caption(t("promopage.requested_at", lang, time=str(pd.Timestamp(row["requested_at"]))[:16]))
        st.button(
            t("promopage.open", lang),
            key=f"promo.card.{row['promotion_id']}",
            on_click=open_promotion,
            args=(int(row["promotion_id"]),),
            icon=":material/open_in_full:",
            type="tertiary",
        )


def board(p: Promo) -> None:
    """Promotions by status in five columns, oldest waiting and overdue first."""
    lang = p.lang
    found = promotions.listing(p.db, p.user, p.scope, now=p.now)
    ended = found.loc[found["status"].isin(ENDED)]
    if st.toggle(t("promopage.show_ended", lang, n=len(ended)), key="promo.show_ended"):
        groups = (*GROUPS, ("ended", ENDED))
    else:
        groups = GROUPS
    st.caption(t("promopage.board_help", lang))
    columns = st.columns(len(groups), gap="small")
    for column, (name, statuses) in zip(columns, groups, strict=True):
        rows = found.loc[found["status"].isin(statuses)]
        rows = rows.sort_values(["overdue", "start_date"], ascending=[False, True])
        with column:
            st.markdown(f"**{t('promo_group.' + name, lang)}** · {len(rows)}")
            for row in rows.head(CARDS_PER_COLUMN).to_dict("records"):
                card(p, row)
            if len(rows) > CARDS_PER_COLUMN:
                st.caption(t("promopage.more_in_column", lang, n=len(rows) - CARDS_PER_COLUMN))


def timeline(p: Promo) -> None:
    """Live and upcoming promotions by region on a calendar."""
    lang = p.lang
    found = promotions.listing(p.db, p.user, p.scope, now=p.now)
    shown = found.loc[found["status"].isin(("requested", "drafting", "consulting", "approved", "live"))]
    if shown.empty:
        st.info(t("promopage.no_upcoming", lang), icon=":material/event_busy:")
        return
    st.plotly_chart(charts.promotion_timeline(shown, lang, today=p.now.date()), key="promo.timeline")
    st.caption(t("promopage.timeline_help", lang))


# -- the approval queue ------------------------------------------------------------------------------
def queue(p: Promo) -> None:
    """Requests and consulted plans waiting for marketing's decision, oldest first, with the clock."""
    lang = p.lang
    summary = promotions.turnaround(p.db, p.scope)
    with st.container(horizontal=True, gap="small"):
        st.metric(
            t("promopage.turnaround_median", lang), i18n.hours(summary.get("median_hours"), lang), border=True
        )
        st.metric(
            t("promopage.turnaround_p90", lang), i18n.hours(summary.get("p90_hours"), lang), border=True
        )
        st.metric(
            t("promopage.turnaround_within", lang),
            i18n.percent(summary.get("within_target"), lang),
            border=True,
            help=t("promopage.turnaround_help", lang, n=config.promotion_decision_hours()),
        )
        st.metric(t("promopage.decided_n", lang), i18n.count(summary.get("n") or 0, lang), border=True)
    waiting = promotions.approval_queue(p.db, p.user, p.scope, now=p.now)
    if waiting.empty:
        st.success(t("promopage.queue_empty", lang), icon=":material/inbox:")
        return
    for row in waiting.to_dict("records"):
        with st.container(border=True):
            st.markdown(badges(row, lang))
            st.markdown(f"**{md(p.title(row))}**")
            st.caption(
                " · ".join(
                    [
                        md(region_text(row, lang)),
                        dates(row),
                        t("promopage.waiting_for", lang, hours=i18n.hours(row.get("waiting_hours"), lang)),
                    ]
                )
            )
            st.button(
                t("promopage.review_decide", lang),
                key=f"promo.queue.{row['promotion_id']}",
                on_click=open_promotion,
                args=(int(row["promotion_id"]),),
                type="primary",
                icon=":material/gavel:",
            )


# -- one promotion --------------------------------------------------------------------------------------
def _close() -> None:
    st.session_state.pop(OPEN_KEY, None)


def detail(p: Promo, promotion_id: int) -> None:
    """One promotion: the facts, readiness, what the user may do next, consultation, owners,
    execution reports, its effect and its history."""
    lang = p.lang
    st.button(t("promopage.back", lang), on_click=_close, icon=":material/arrow_back:", key="promo.back")
    try:
        found = promotions.detail(p.db, p.user, promotion_id, now=p.now)
    except (PermissionError, LookupError, promotions.PromotionRefused):  # missing, or not theirs: alike
        st.warning(t("promopage.not_found", lang), icon=":material/search_off:")
        return
    flash(lang)
    st.markdown(badges(found, lang))
    st.subheader(md(p.title(found)))
    _facts(p, found)
    if found["status"] in ("requested", "drafting", "consulting", "approved"):
        _readiness(found, lang)
    _actions(p, found)
    if found.get("consultations"):
        _consultations(p, found)
    _reports(p, found)
    if found["status"] in ("live", "finished", "reviewed"):
        with st.expander(t("promopage.effect", lang), icon=":material/insights:", expanded=True):
            effect_view(p, promotion_id)
    _history(found, lang)


def _facts(p: Promo, found: dict[str, Any]) -> None:
    lang = p.lang
    rows = [
        (t("promopage.regions", lang), region_text(found, lang)),
        (t("promopage.dates", lang), dates(found)),
        (t("promopage.category", lang), p.category_names.get(int(found["category_id"]), "")),
        (
            t("promopage.budget", lang),
            i18n.money(float(found.get("budget") or 0), lang)
            + ("" if found.get("budget_approved") else " · " + t("promopage.budget_not_approved", lang)),
        ),
        (t("promopage.goal_revenue", lang), i18n.money(found.get("goal_revenue"), lang)),
        (t("promopage.owner", lang), found.get("owner_name") or "—"),
        (
            t("promopage.mechanics", lang),
            "、".join(t("promotion.mechanic." + m, lang) for m in _items(found.get("mechanics"))),
        ),
        (
            t("promopage.channels", lang),
            "、".join(t("promotion.channel." + c, lang) for c in _items(found.get("channels"))),
        ),
    ]
    if found.get("origin") == "sales":
        reason = found.get("reason")
        rows += [
            (
                t("promopage.reason", lang),
                (t("promotion.reason." + reason, lang) if reason else "—")
                + (f"：{found['reason_text']}" if found.get("reason_text") else ""),
            ),
            (t("promopage.expected_effect", lang), found.get("expected_effect") or "—"),
            (t("promopage.budget_asked", lang), i18n.money(found.get("budget_asked"), lang)),
            (t("promopage.requested_by", lang), found.get("created_by_name") or "—"),
        ]
    if found.get("monitoring_plan"):
        rows.append((t("promopage.monitoring", lang), found["monitoring_plan"]))
    if found.get("description"):
        rows.append((t("promopage.description", lang), found["description"]))
    lines = [f"| {t('promopage.item', lang)} | {t('promopage.value', lang)} |", "|---|---|"]
    lines += [f"| {name} | {_cell(value)} |" for name, value in rows]
    st.markdown("\n".join(lines))


def _cell(value: Any) -> str:
    """A value read as typed inside a markdown table cell (pipes escaped, on one line)."""
    return "—" if value is None or value == "" else md(value)


def _readiness(found: dict[str, Any], lang: str) -> None:
    """Mature one, execute one (成熟一个执行一个): the checklist that gates going live."""
    st.markdown(f"**{t('promopage.readiness', lang)}**")
    for item in found.get("readiness") or []:
        mark = ":green[:material/check_circle:]" if item["ok"] else ":red[:material/cancel:]"
        text = t("promotion.item." + item["item"], lang)
        st.markdown(f"{mark} **{text}** — {promotions.readiness_message(item, lang)}")


def _actions(p: Promo, found: dict[str, Any]) -> None:
    lang = p.lang
    promotion_id = int(found["promotion_id"])
    moves = list(found.get("actions") or [])
    budget_open = not found.get("budget_approved") and found["status"] in (
        "drafting",
        "consulting",
        "approved",
    )
    if (
        p.user.can("promotion.decide")
        and budget_open
        and st.button(t("promopage.approve_budget", lang), key="promo.budget", icon=":material/payments:")
    ):
        _run(
            lambda: promotions.approve_budget(p.db, p.user, promotion_id, now=p.now),
            "promopage.done",
            lang,
        )
    if not moves:
        return
    st.markdown(f"**{t('promopage.next_steps', lang)}**")
    plain = [m for m in moves if (found["status"], m) not in NEEDS_REASON]
    with_reason = [m for m in moves if (found["status"], m) in NEEDS_REASON]
    if plain:
        with st.container(horizontal=True, gap="small"):
            for move in plain:
                kind = "primary" if move in ("approved", "live", "consulting") else "secondary"
                label = (
                    "promo_move.back_to_drafting"
                    if found["status"] == "consulting" and move == "drafting"
                    else f"promo_move.{move}"
                )
                if st.button(
                    t(label, lang),
                    key=f"promo.move.{move}",
                    type=kind,
                    icon=_MOVE_ICONS.get(move),
                ):
                    _run(
                        lambda move=move: promotions.transition(p.db, p.user, promotion_id, move, now=p.now),
                        f"promo_moved.{move}",
                        lang,
                    )
    for move in with_reason:
        with st.form(f"promo.reason.{move}", border=True):
            reason = st.text_area(t(f"promo_move_reason.{move}", lang), height=80)
            if st.form_submit_button(t(f"promo_move.{move}", lang)):
                _run(
                    lambda move=move, reason=reason: promotions.transition(
                        p.db, p.user, promotion_id, move, reason=reason, now=p.now
                    ),
                    f"promo_moved.{move}",
                    lang,
                )


_MOVE_ICONS = {
    "approved": ":material/check:", "drafting": ":material/edit:", "consulting": ":material/forum:",
    "live": ":material/rocket_launch:", "finished": ":material/flag:", "cancelled": ":material/cancel:",
    "rejected": ":material/block:", "reviewed": ":material/rate_review:",
}  # fmt: skip


def _consultations(p: Promo, found: dict[str, Any]) -> None:
    """Who has been asked, who has answered and how; a sales head answers for their regions."""
    lang = p.lang
    st.markdown(f"**{t('promopage.consultation', lang)}**")
    rows = []
    for c in found["consultations"]:
        answer = c.get("answer")
        rows.append(
            {
                t("promopage.region", lang): p.region_names.get(int(c["region_id"]), str(c["region_id"])),
                t("promopage.answer", lang): t("promotion.answer." + answer, lang) if answer else "—",
                t("promopage.answer_text", lang): c.get("text") or "",
                t("promopage.answered_by", lang): c.get("by") or "",
                t("promopage.answered_at", lang): c.get("at"),
            }
        )
    frame = pd.DataFrame(rows)
    at = t("promopage.answered_at", lang)
    shown = (  # a region not answered yet: an empty cell, not Streamlit's "None"
        frame.assign(**{at: pd.to_datetime(frame[at]).dt.strftime("%Y-%m-%d %H:%M").fillna("")})
        if at in frame
        else frame
    )
    p.table(frame, f"{int(found['promotion_id'])}-consultation", shown=shown, scoped=False)
    mine = [int(r) for r in (found.get("can") or {}).get("consult_regions") or []]
    if found["status"] == "consulting" and mine:
        with st.form("promo.consult", border=True):
            region = st.selectbox(t("promopage.region", lang), mine, format_func=p.region_names.get)
            answer = st.radio(
                t("promopage.answer", lang),
                promotions.ANSWERS,
                format_func=lambda a: t("promotion.answer." + a, lang),
                horizontal=True,
            )
            text = st.text_area(t("promopage.answer_text", lang), height=80)
            if st.form_submit_button(t("promopage.send_answer", lang), type="primary"):
                _run(
                    lambda: promotions.consult(
                        p.db, p.user, int(found["promotion_id"]), region, answer, text, now=p.now
                    ),
                    "promopage.answered",
                    lang,
                )


def _reports(p: Promo, found: dict[str, Any]) -> None:
    reports = found.get("reports")
    if reports is None or len(reports) == 0:
        return
    lang = p.lang
    frame = pd.DataFrame(reports)
    st.markdown(f"**{t('promopage.reports', lang, n=len(frame))}**")
    p.table(
        report_table(frame, p),
        f"{int(found['promotion_id'])}-reports",
        scoped=False,
        column_config={t("promopage.reported_at", lang): _MINUTES},
    )


_MINUTES = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")


def report_table(frame: pd.DataFrame, p: Promo) -> pd.DataFrame:
    """Execution reports as people read them: when, where, who, as planned or what deviated."""
    lang = p.lang

    def planned(row: Any) -> str:
        if row.get("kind") == "effect":
            return t("promotion.report_kind.effect", lang)
        if row.get("as_planned"):
            return "✓ " + t("promopage.as_planned", lang)
        return "✗ " + "、".join(t("promotion.deviation." + d, lang) for d in _items(row.get("deviations")))

    records = frame.to_dict("records")
    return pd.DataFrame(
        {
            t("promopage.reported_at", lang): [r.get("reported_at") for r in records],
            t("promopage.region", lang): [p.region_names.get(int(r["region_id"]), "") for r in records],
            t("promopage.reported_by", lang): [r.get("by") or r.get("by_name") or "" for r in records],
            t("promopage.source", lang): [
                t("promotion.source." + str(r.get("source") or "sales"), lang) for r in records
            ],
            t("promopage.execution", lang): [planned(r) for r in records],
            t("promopage.note", lang): [r.get("note") or r.get("competitor_response") or "" for r in records],
        }
    )


def _history(found: dict[str, Any], lang: str) -> None:
    events = found.get("events") or []
    if not events:
        return
    with st.expander(t("promopage.history", lang, n=len(events)), icon=":material/history:"):
        for e in events:
            line = (
                f"{str(e.get('at'))[:16]} · {md(e.get('by') or '')} · "
                f"{t('promotion.status.' + e['from_status'], lang) if e.get('from_status') else '—'} → "
                f"{t('promotion.status.' + e['to_status'], lang)}"
            )
            if e.get("reason"):
                line += f" · {md(e['reason'])}"
            st.markdown(line)


# -- effect -----------------------------------------------------------------------------------------------
def effect_view(p: Promo, promotion_id: int) -> None:
    """The measured effect of one promotion, with its uncertainty and when not to trust it."""
    lang = p.lang
    result = effect.effect(p.db, promotion_id, as_of=config.today(), allowed_regions=visible_regions(p.user))
    with st.container(horizontal=True, gap="small"):
        st.metric(
            t("promopage.uplift", lang),
            i18n.signed_percent(result.get("uplift"), lang) or "—",
            help=_band(result, "uplift", lang, i18n.signed_percent),
            border=True,
        )
        st.metric(
            t("promopage.incremental_revenue", lang),
            i18n.money(result.get("incremental_revenue"), lang),
            help=_band(result, "incremental_revenue", lang, i18n.money),
            border=True,
        )
        st.metric(t("promopage.cost", lang), i18n.money(result.get("cost"), lang), border=True)
        st.metric(
            t("promopage.roi", lang),
            i18n.signed_percent(result.get("roi"), lang) or "—",
            help=_band(result, "roi", lang, i18n.signed_percent),
            border=True,
        )
    bands = [
        _band(result, name, lang, fmt)
        for name, fmt in (("uplift", i18n.signed_percent), ("roi", i18n.signed_percent))
    ]
    st.caption(" · ".join(b for b in bands if b))
    for note in result.get("notes") or []:
        st.warning(t("effect.note." + note, lang), icon=":material/report:")
    if result.get("series"):
        st.plotly_chart(charts.promotion_effect(result, lang), key=f"promo.effect.{promotion_id}")
    st.caption(t("effect.method", lang))


def _band(result: dict[str, Any], name: str, lang: str, fmt: Callable[[Any, str], Any]) -> str:
    low, high = result.get(f"{name}_low"), result.get(f"{name}_high")
    if low is None or high is None:
        return ""
    return t(
        "promopage.band", lang, what=t(f"promopage.{name}", lang), low=fmt(low, lang), high=fmt(high, lang)
    )


def _band_short(row: dict[str, Any], lang: str) -> str:
    low, high = row.get("uplift_low"), row.get("uplift_high")
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return "—"
    return f"{i18n.signed_percent(low, lang)} ~ {i18n.signed_percent(high, lang)}"


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def effects_table(records: list[dict[str, Any]], p: Promo) -> pd.DataFrame:
    """The measured promotions with raw numbers (uplift and ROI as fractions, money in yuan)."""
    lang = p.lang
    return pd.DataFrame(
        {
            t("promopage.promotion", lang): [p.title(r) for r in records],
            t("promopage.status", lang): [t("promotion.status." + r["status"], lang) for r in records],
            t("promopage.uplift", lang): [_number(r.get("uplift")) for r in records],
            t("promopage.band_short", lang): [_band_short(r, lang) for r in records],
            t("promopage.incremental_revenue", lang): [
                _number(r.get("incremental_revenue")) for r in records
            ],
            t("promopage.cost", lang): [_number(r.get("cost")) for r in records],
            t("promopage.roi", lang): [_number(r.get("roi")) for r in records],
            t("promopage.caveats", lang): [
                "、".join(t("effect.short." + n, lang) for n in _items(r.get("notes"))) for r in records
            ],
        }
    )


def _effect_formats(table: pd.DataFrame, lang: str) -> Any:
    """The effects table as the screen shows it: signed percentages and money in the user's language."""
    signed = lambda v: i18n.signed_percent(_number(v), lang) or "—"  # noqa: E731
    money = lambda v: i18n.money(_number(v), lang)  # noqa: E731
    return table.style.format(
        {
            t("promopage.uplift", lang): signed,
            t("promopage.incremental_revenue", lang): money,
            t("promopage.cost", lang): money,
            t("promopage.roi", lang): signed,
        }
    )


def effects(p: Promo) -> None:
    """Every measured promotion in scope: uplift with its band, incremental revenue, ROI, caveats."""
    lang = p.lang
    found = effect.effects(p.db, p.scope)
    st.caption(t("effect.method", lang))
    if found.empty:
        st.info(t("promopage.no_effects", lang), icon=":material/inbox:")
        return
    records = found.to_dict("records")
    table = effects_table(records, p)
    p.table(table, "effects", _effect_formats(table, lang))
    ids = [int(r["promotion_id"]) for r in records]
    titles = {int(r["promotion_id"]): p.title(r) for r in records}
    chosen = st.selectbox(
        t("promopage.effect_of", lang),
        ids,
        format_func=titles.get,
        index=None,
        key="promo.effect_pick",
        placeholder=t("promopage.choose", lang),
    )
    if chosen is not None:
        effect_view(p, int(chosen))


# -- execution deviations ---------------------------------------------------------------------------------
def execution(p: Promo) -> None:
    """ "The plan was deformed in execution" as a number: share executed as planned by region, and
    the deviations themselves."""
    lang = p.lang
    summary = promotions.execution_summary(p.db, p.scope)
    st.caption(t("promopage.execution_help", lang))
    if summary.empty or not int(summary["reports"].sum()):
        st.info(t("promopage.no_reports", lang), icon=":material/inbox:")
        return
    st.plotly_chart(charts.execution_by_region(summary, lang), key="promo.execution")
    found = promotions.deviations(p.db, p.scope)
    st.markdown(f"**{t('promopage.deviation_list', lang, n=len(found))}**")
    if not found.empty:
        table = report_table(found, p)
        table.insert(0, t("promopage.promotion", lang), [p.title(r) for r in found.to_dict("records")])
        p.table(table, "deviations", column_config={t("promopage.reported_at", lang): _MINUTES})


# -- forms -------------------------------------------------------------------------------------------------
REQUEST = "promo.request."
DRAFT = "promo.draft."
REPORT = "promo.report."


def _saved(prefix: str, lang: str, message: str) -> bool:
    """After a save: the confirmation with a way to open it or start again. True when shown."""
    saved = st.session_state.get(prefix + "saved")
    if saved is None:
        return False
    st.success(t(message, lang), icon=":material/check_circle:")
    left, right = st.columns(2)
    if saved.get("promotion_id"):
        left.button(
            t("promopage.open_saved", lang),
            on_click=open_promotion,
            args=(int(saved["promotion_id"]), "board"),
            width="stretch",
            key=prefix + "open",
        )
    right.button(
        t("promopage.new_one", lang),
        on_click=lambda: fields.FormState(prefix, lang).clear(),
        width="stretch",
        key=prefix + "again",
    )
    return True


def _result_id(result: Any) -> tuple[int, bool]:
    """(id, duplicate) from what the workflow returns (a pair or a small record)."""
    if isinstance(result, tuple):
        return int(result[0]), bool(result[1])
    for name in ("promotion_id", "report_id"):
        if hasattr(result, name):
            return int(getattr(result, name)), bool(getattr(result, "duplicate", False))
    return int(result), False


def _save(
    form: fields.FormState,
    action: Callable[[str], Any],
    known: tuple[str, ...],
    saved_as: str,
    forget: tuple[str, ...],
) -> None:
    state = st.session_state
    try:
        result = action(form.idempotency_key(state.get(form.key("values"), {})))
    except promotions.PromotionInvalid as invalid:
        form.refuse(invalid.problems, known)
    except REFUSALS as exc:
        state[form.key("problems")] = {"": []}
        state[form.key("refused")] = exc
    else:
        new_id, _ = _result_id(result)
        state[form.key("saved")] = {saved_as: new_id}
        form.accepted(forget)
    st.rerun()


def _top_refusal(form: fields.FormState, lang: str) -> None:
    form.problems("")
    refused = st.session_state.pop(form.key("refused"), None)
    if refused is not None:
        _refusal(refused, lang)


def _date_pair(form: fields.FormState, lang: str, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    left, right = st.columns(2)
    with left:
        start = form.field(
            "start_date",
            st.date_input,
            t("promopage.start_date", lang),
            default=today + dt.timedelta(days=7),
            format="YYYY-MM-DD",
            min_value=today,
        )
    with right:
        end = form.field(
            "end_date",
            st.date_input,
            t("promopage.end_date", lang),
            default=today + dt.timedelta(days=20),
            format="YYYY-MM-DD",
            min_value=today,
        )
    return start, end


def _category(form: fields.FormState, p: Promo) -> int | None:
    return form.field(
        "category_id",
        st.selectbox,
        t("promopage.category", p.lang),
        list(p.category_names),
        format_func=p.category_names.get,
        index=None,
        placeholder=t("promopage.choose", p.lang),
    )


def _mechanics(form: fields.FormState, lang: str) -> list[str]:
    return form.field(
        "mechanics",
        st.pills,
        t("promopage.mechanics", lang),
        promotions.MECHANICS,
        selection_mode="multi",
        default=[],
        format_func=lambda m: t("promotion.mechanic." + m, lang),
    )


def _products(form: fields.FormState, lang: str, products: dict[int, str]) -> list[int]:
    """The promotion's products (none chosen: every product of its category)."""
    return form.field(
        "product_ids",
        st.multiselect,
        t("promopage.products", lang),
        list(products),
        format_func=products.get,
        default=[],
        placeholder=t("promopage.all_products", lang),
    )


def _amount(form: fields.FormState, name: str, label: str, step: float) -> float | None:
    """An amount in yuan, whole, not negative (a budget, a goal)."""
    return form.field(name, st.number_input, label, step=step, format="%.0f", placeholder="0", min_value=0.0)


def _person(form: fields.FormState, name: str, label: str, names: dict[int, str], lang: str) -> int | None:
    """One person, chosen by name (none until chosen)."""
    return form.field(
        name,
        st.selectbox,
        label,
        list(names),
        format_func=names.get,
        index=None,
        placeholder=t("promopage.choose", lang),
    )


def request_form(p: Promo, products: dict[int, str]) -> None:
    """A sales head or rep asks marketing for a promotion in their region (促销申请), from a phone."""
    lang = p.lang
    if _saved(REQUEST, lang, "promopage.requested"):
        return
    form = fields.FormState(REQUEST, lang)
    st.caption(t("promopage.request_help", lang, n=config.promotion_decision_hours()))
    _top_refusal(form, lang)
    mine = [r for r in p.region_names if visible(p.user, r)]
    with st.container(border=True):
        title = form.field(
            "title",
            st.text_input,
            t("promopage.title_field", lang),
            default="",
            max_chars=120,
            placeholder=t("promopage.request_title_hint", lang),
        )
        region = form.field(
            "region_ids",
            st.selectbox,
            t("promopage.region", lang),
            mine,
            format_func=p.region_names.get,
            default=mine[0] if mine else None,
        )
        category = _category(form, p)
        start, end = _date_pair(form, lang, p.now.date())
        reason = form.field(
            "reason",
            st.pills,
            t("promopage.reason", lang),
            promotions.REQUEST_REASONS,
            format_func=lambda r: t("promotion.reason." + r, lang),
        )
        reason_text = form.field(
            "reason_text",
            st.text_area,
            t("promopage.reason_text", lang),
            default="",
            height=80,
            placeholder=t("promopage.reason_text_hint", lang),
        )
        mechanics = _mechanics(form, lang)
        expected = form.field(
            "expected_effect",
            st.text_input,
            t("promopage.expected_effect", lang),
            default="",
            placeholder=t("promopage.expected_effect_hint", lang),
        )
        budget = _amount(form, "budget_asked", t("promopage.budget_asked", lang), 1000.0)
        with st.expander(t("promopage.products_optional", lang)):
            product_ids = _products(form, lang, products)
        values = {
            "title": title or "",
            "region_ids": [region] if region is not None else [],
            "category_id": category,
            "start_date": start,
            "end_date": end,
            "reason": reason,
            "reason_text": reason_text or "",
            "mechanics": list(mechanics or []),
            "expected_effect": expected or "",
            "budget_asked": budget,
            "product_ids": list(product_ids or []),
        }
        st.session_state[form.key("values")] = values
        if st.button(
            t("promopage.send_request", lang),
            type="primary",
            width="stretch",
            icon=":material/send:",
            key=REQUEST + "submit",
        ):
            _save(
                form,
                lambda key: promotions.request(p.db, p.user, key=key, now=p.now, **values),
                tuple(values),
                "promotion_id",
                tuple(values),
            )


def draft_form(p: Promo, products: dict[int, str], people: pd.DataFrame) -> None:
    """Marketing drafts a promotion: what, where, when, how much, who owns each part, how it is watched."""
    lang = p.lang
    if _saved(DRAFT, lang, "promopage.drafted"):
        return
    form = fields.FormState(DRAFT, lang)
    st.caption(t("promopage.draft_help", lang))
    _top_refusal(form, lang)
    names = dict(zip(people["person_id"], people["name"], strict=True))
    with st.container(border=True):
        title_zh = form.field(
            "title_zh", st.text_input, t("promopage.title_zh", lang), default="", max_chars=120
        )
        title_en = form.field(
            "title_en",
            st.text_input,
            t("promopage.title_en", lang),
            default="",
            max_chars=120,
            placeholder=t("promopage.title_en_hint", lang),
        )
        kind = form.field(
            "kind",
            st.segmented_control,
            t("promopage.kind", lang),
            ("tactical", "major"),
            default="tactical",
            format_func=lambda k: t("promotion.kind." + k, lang),
        )
        regions = form.field(
            "region_ids",
            st.multiselect,
            t("promopage.regions", lang),
            list(p.region_names),
            format_func=p.region_names.get,
            default=[],
            placeholder=t("promopage.choose", lang),
        )
        category = _category(form, p)
        start, end = _date_pair(form, lang, p.now.date())
        mechanics = _mechanics(form, lang)
        channels = form.field(
            "channels",
            st.pills,
            t("promopage.channels", lang),
            promotions.CHANNELS,
            selection_mode="multi",
            default=[],
            format_func=lambda c: t("promotion.channel." + c, lang),
        )
        product_ids = _products(form, lang, products)
        left, right = st.columns(2)
        with left:
            budget = _amount(form, "budget", t("promopage.budget", lang), 1000.0)
        with right:
            goal = _amount(form, "goal_revenue", t("promopage.goal_revenue", lang), 10000.0)
        owner = _person(form, "owner_id", t("promopage.owner", lang), names, lang)
        region_owners: dict[int, int] = {}
        for region in regions or []:
            local = people.loc[(people["region_id"] == region) | people["region_id"].isna()]
            local_names = dict(zip(local["person_id"], local["name"], strict=True))
            label = t("promopage.region_owner", lang, region=p.region_names.get(region, ""))
            chosen = _person(form, f"region_owner.{region}", label, local_names, lang)
            if chosen is not None:
                region_owners[int(region)] = int(chosen)
        monitoring = form.field(
            "monitoring_plan",
            st.text_area,
            t("promopage.monitoring", lang),
            default="",
            height=80,
            placeholder=t("promopage.monitoring_hint", lang),
        )
        description = form.field(
            "description", st.text_area, t("promopage.description", lang), default="", height=80
        )
        values = {
            "title_zh": title_zh or "",
            "title_en": (title_en or "").strip() or None,
            "kind": kind,
            "region_ids": list(regions or []),
            "category_id": category,
            "start_date": start,
            "end_date": end,
            "mechanics": list(mechanics or []),
            "channels": list(channels or []),
            "product_ids": list(product_ids or []),
            "budget": budget,
            "goal_revenue": goal,
            "owner_id": owner,
            "region_owners": region_owners,
            "monitoring_plan": monitoring or "",
            "description": description or "",
        }
        st.session_state[form.key("values")] = values
        if st.button(
            t("promopage.save_draft", lang),
            type="primary",
            width="stretch",
            icon=":material/save:",
            key=DRAFT + "submit",
        ):
            _save(
                form,
                lambda key: promotions.draft(p.db, p.user, key=key, now=p.now, **values),
                (*values, "region_owners"),
                "promotion_id",
                tuple(k for k in values if k != "region_owners"),
            )


def report_form(p: Promo, live: pd.DataFrame, customers: pd.DataFrame | None) -> None:
    """Execution feedback while a promotion runs: executed as planned or what deviated; or its effect."""
    lang = p.lang
    if _saved(REPORT, lang, "promopage.reported"):
        return
    form = fields.FormState(REPORT, lang)
    st.caption(t("promopage.report_help", lang))
    _top_refusal(form, lang)
    if live.empty:
        st.info(t("promopage.no_live", lang), icon=":material/event_busy:")
        return
    titles = {int(r["promotion_id"]): p.title(r) for r in live.to_dict("records")}
    with st.container(border=True):
        promotion_id = form.field(
            "promotion_id",
            st.selectbox,
            t("promopage.promotion", lang),
            list(titles),
            format_func=titles.get,
            index=None,
            placeholder=t("promopage.choose", lang),
        )
        regions = []
        if promotion_id is not None:
            row = live.loc[live["promotion_id"] == promotion_id].iloc[0]
            regions = [int(r) for r in _items(row["region_ids"]) if visible(p.user, int(r))]
        if st.session_state.get(form.key("region_for")) != promotion_id:  # a new promotion: its first region
            form.reset("region_id", regions[0] if regions else None)
            st.session_state[form.key("region_for")] = promotion_id
        region = form.field(
            "region_id",
            st.selectbox,
            t("promopage.region", lang),
            regions,
            format_func=p.region_names.get,
            default=regions[0] if regions else None,
        )
        kind = form.field(
            "kind",
            st.segmented_control,
            t("promopage.report_kind", lang),
            ("status", "effect"),
            default="status",
            format_func=lambda k: t("promotion.report_kind." + k, lang),
            width="stretch",
        )
        customer = None
        if customers is not None and not customers.empty:
            shown = customers if region is None else customers.loc[customers["region_id"] == region]
            names = dict(zip(shown["customer_id"], shown["name"], strict=True))
            customer = form.field(
                "customer_id",
                st.selectbox,
                t("promopage.store", lang),
                list(names),
                format_func=names.get,
                index=None,
                placeholder=t("promopage.optional", lang),
            )
        as_planned = deviations = sell_through = reaction = None
        competitor = ""
        if kind == "status":
            as_planned = form.field("as_planned", st.toggle, t("promopage.as_planned_q", lang), default=True)
            if not as_planned:
                deviations = form.field(
                    "deviations",
                    st.pills,
                    t("promopage.deviations", lang),
                    promotions.DEVIATIONS,
                    selection_mode="multi",
                    default=[],
                    format_func=lambda d: t("promotion.deviation." + d, lang),
                )
        else:
            sell_through = form.field(
                "sell_through_pct",
                st.number_input,
                t("promopage.sell_through", lang),
                min_value=0.0,
                max_value=100.0,
                step=5.0,
                format="%.0f",
                placeholder="%",
            )
            reaction = form.field(
                "customer_reaction",
                st.segmented_control,
                t("promopage.reaction", lang),
                ("positive", "neutral", "negative"),
                format_func=lambda r: t("promotion.reaction." + r, lang),
            )
            competitor = form.field(
                "competitor_response", st.text_input, t("promopage.competitor_response", lang), default=""
            )
        note = form.field(
            "note",
            st.text_area,
            t("promopage.note", lang),
            default="",
            height=80,
            placeholder=t("promopage.note_hint", lang),
        )
        photo_file = st.file_uploader(
            t("promopage.photo", lang), max_upload_size=uploads.PHOTO_MB, key=REPORT + "file"
        )
        form.problems("photo")
        photo = Photo(photo_file.name, photo_file.getvalue()) if photo_file is not None else None
        values = {
            "promotion_id": promotion_id,
            "region_id": region,
            "kind": kind,
            "customer_id": customer,
            "as_planned": as_planned,
            "deviations": list(deviations or []),
            "note": note or "",
            "sell_through_pct": sell_through,
            "customer_reaction": reaction,
            "competitor_response": competitor or "",
        }
        st.session_state[form.key("values")] = {**values, "photo": photo.data if photo else None}
        if st.button(
            t("promopage.send_report", lang),
            type="primary",
            width="stretch",
            icon=":material/send:",
            key=REPORT + "submit",
        ):
            _save(
                form,
                lambda key: promotions.report_execution(
                    p.db, p.user, key=key, photo=photo, now=p.now, **values
                ),
                (*values, "photo"),
                "report_id",
                (
                    "note",
                    "deviations",
                    "as_planned",
                    "sell_through_pct",
                    "customer_reaction",
                    "competitor_response",
                    "file",
                    "customer_id",
                ),
            )
