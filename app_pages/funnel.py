"""Funnel: where the two tracks leak, who owns each leak, and how fast the handoff happens."""

import streamlit as st

from mktsales import charts, config, funnel, i18n
from mktsales.i18n import t
from mktsales.ui import data, filters, funnel_view, nav, widgets

lang = st.session_state.get(filters.LANG_KEY) or i18n.DEFAULT_LANG
user = nav.guard("funnel", lang)
scope = st.session_state["scope"]
path = str(config.db_path())
version = data.database(path).version()
regions, categories = data.reference_data(path, version)
as_of = config.now().replace(second=0)  # to the minute, so cached results are shared
target = config.handoff_target_hours()
names = funnel_view.Names.build(regions, categories, data.campaigns(path, version), lang)

st.title(t("fun.title", lang))
view = filters.view_choice(
    "funnel_view", "period", lang, t("fun.view", lang), ("period", "cohort"), "fun.view",
    help=t("fun.view_help", lang),
)  # fmt: skip
cohort = view == "cohort"
export = widgets.Export.build(user, f"funnel-{view}", scope, regions)
st.caption(funnel_view.caption(scope, cohort, as_of, lang))
page = data.funnel_page(path, version, scope, cohort, as_of, target)
stages = page["stages"]

# -- 1. the funnel, step by step ------------------------------------------------------------------
st.plotly_chart(
    charts.funnel(stages.to_dict("records"), lang, t(f"fun.chart_{view}", lang)), key="funnel_chart"
)
if not int(stages.loc[stages["stage"] == "lead", "count"].iloc[0]):
    st.info(t("fun.no_data", lang), icon=":material/info:")
    st.stop()
leak = funnel_view.biggest_leak(stages, lang)
if leak:
    st.warning(leak, icon=":material/water_drop:")
with st.expander(t("fun.steps", lang)):
    funnel_view.steps_table(stages, lang, export)

# -- 2. the handoff --------------------------------------------------------------------------------
st.subheader(t("fun.handoff", lang))
st.caption(t("fun.handoff_intro", lang, target=i18n.hours(target, lang)))
funnel_view.handoff_tiles(page["handoff"], lang)
if len(page["handoff"]) > 2:  # more than one region and the total
    st.markdown(f"**{t('fun.handoff_by_region', lang)}**")
    funnel_view.handoff_table(page["handoff"], names, lang, export)
left, right = st.columns(2)
with left.expander(t("fun.waiting_list", lang, n=len(page["waiting"]))):
    funnel_view.waiting_table(page["waiting"], names, lang, export)
with right.expander(t("fun.rejections", lang, n=int(page["rejections"]["count"].sum()))):
    funnel_view.rejections_table(page["rejections"], names, lang, export)

# -- 3. breakdown ----------------------------------------------------------------------------------
st.subheader(t("fun.breakdown", lang))
with st.container(horizontal=True, gap="small"):
    by = filters.page_choice(
        st.selectbox,
        "funnel_by",
        "region",
        lang,
        t("fun.by", lang),
        funnel.BREAKDOWNS,
        format_func=lambda b: t(f"fun.by.{b}", lang),
    )
    rate = filters.page_choice(
        st.selectbox,
        "funnel_rate",
        "lead_to_won",
        lang,
        t("fun.rate", lang),
        funnel_view.RATES,
        format_func=lambda r: t(f"fun.rate.{r}", lang),
    )
split = data.funnel_breakdown(path, version, scope, by, cohort, as_of)
funnel_view.breakdown_table(split, by, names, lang, export)
funnel_view.breakdown_chart(split, by, rate, names, lang)

# -- 4. time in stage ------------------------------------------------------------------------------
st.subheader(t("fun.time", lang))
st.caption(t("fun.time_caption", lang))
funnel_view.time_in_stage(page["time"], names, lang, export)

# -- 5. trend --------------------------------------------------------------------------------------
st.plotly_chart(charts.conversion_trend(page["trend"], lang), key="conversion_trend")
st.caption(t("fun.trend_caption", lang))

# -- 6. the leads behind a stage -------------------------------------------------------------------
st.subheader(t("fun.leads", lang))
stage = filters.page_choice(
    st.selectbox,
    "funnel_stage",
    "mql",
    lang,
    t("fun.stage_pick", lang),
    funnel.LEAD_STAGES,
    format_func=lambda s: t(f"stage.{s}", lang),
)
leads = funnel_view.lead_list(data.stage_leads(path, version, scope, stage, cohort, as_of), names, lang)
st.caption(t("fun.leads_count", lang, n=len(leads), shown=min(len(leads), funnel_view.SHOWN)))
widgets.table(  # the screen shows the first SHOWN rows, the downloads every lead of the stage
    leads,
    export.name(f"leads-{stage}"),
    lang,
    "funnel.leads",
    exportable=export.allowed,
    shown=funnel_view.lead_rows_for_screen(leads, lang),
    column_config=funnel_view.lead_columns(lang),
)
