"""Executive overview: both tracks' KPIs, the dual-track funnel, trends and regions, live."""

import datetime as dt

import streamlit as st

from mktsales import charts, config, display, i18n, kpis
from mktsales.i18n import t
from mktsales.ui import data, filters, nav, widgets

lang = st.session_state.get(filters.LANG_KEY) or i18n.DEFAULT_LANG
user = nav.guard("overview", lang)
scope = st.session_state["scope"]
refresh = st.session_state["refresh_seconds"]
path = str(config.db_path())

st.title(t("overview.title", lang))
st.caption(display.period_caption(scope, lang))


@st.fragment(run_every=refresh or None)
@data.damage_guard(lang)  # a fragment's own errors stay in it: app.py's guard does not see them
def live() -> None:
    """Everything that refreshes itself: queries re-run only when the data version moved."""
    version = data.database(path).version()
    view = data.overview(path, version, scope)
    regions, _ = data.reference_data(path, version)
    refresh_note = (
        t("overview.updated_every", lang, n=refresh) if refresh else t("overview.updated_off", lang)
    )
    st.caption(t("overview.updated", lang, time=dt.datetime.now().strftime("%H:%M:%S"), refresh=refresh_note))
    if not view.current["leads"] and not view.current["revenue"] and not view.current["reach"]:
        st.info(t("overview.no_data", lang))
        nav.link("data", lang, t("overview.import_link", lang), ":material/upload:")  # admins only

    st.subheader(f":blue[{t('overview.marketing', lang)}]")
    widgets.kpi_tiles(
        view, ("reach", "leads", "mql", "cost_per_lead", "marketing_spend", "brand_awareness"), lang
    )
    st.subheader(f":orange[{t('overview.sales', lang)}]")
    widgets.kpi_tiles(view, ("revenue", "collections", "win_rate", "attainment", "open_pipeline"), lang)
    collaboration(
        data.board_counts(path, version, data.reads_marker(user), user, scope, data.minute(config.now()))
    )

    st.plotly_chart(charts.funnel(kpis.funnel(view.current), lang), key="funnel")
    st.caption(display.handoff_caption(view.current, lang) + " · " + t("funnel.log_note", lang))
    left, right = st.columns(2)
    left.plotly_chart(charts.revenue_trend(view.trend, lang), key="revenue_trend")
    right.plotly_chart(charts.leads_trend(view.trend, lang), key="leads_trend")
    if charts.has_partial_month(view.trend):
        st.caption(t("trend.partial_note", lang))

    st.subheader(t("overview.regions", lang))
    widgets.region_table(view, regions, lang, widgets.Export.build(user, "overview", scope, regions))
    st.caption(t("overview.regions_caption", lang))


def collaboration(counts: dict[str, int]) -> None:
    """What one department owes the other on the shared-information board, with a way there."""
    st.subheader(t("overview.collaboration", lang))
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        for name in ("overdue_answers", "unacknowledged_plans"):
            st.metric(
                t(f"overview.{name}", lang),
                i18n.count(counts.get(name, 0), lang),
                help=t(f"boardpage.count_help.{name}", lang),
                border=True,
                width="stretch",
            )
        with st.container(width="stretch"):
            nav.link(
                "board",
                lang,
                t("overview.to_board", lang),
                ":material/forum:",
                query_params={"status": "overdue"},
            )


live()
