"""Audit trail (admins): every change, who made it and when, with the values before and after.

Read-only by design: the page has filters and downloads, and no way to change an entry.
"""

import datetime as dt

import streamlit as st

from mktsales import audit, config, i18n
from mktsales.i18n import t
from mktsales.ui import data, filters, nav, widgets

SHOWN = 500  # rows on screen; the download has every matching row

lang = st.session_state.get(filters.LANG_KEY) or i18n.DEFAULT_LANG
user = nav.guard("audit", lang)
user.require("audit.view")
db = data.database(str(config.db_path()))

st.title(t("audit.title", lang))
st.caption(t("audit.intro", lang))
today = dt.date.today()
entities, actions = audit.choices(db)
with st.container(horizontal=True, vertical_alignment="bottom"):
    picked = st.date_input(t("audit.dates", lang), (today - dt.timedelta(days=6), today), max_value=today)
    who = st.text_input(t("audit.actor", lang), placeholder=t("audit.actor_hint", lang))
    entity = st.selectbox(t("audit.entity", lang), entities, index=None, placeholder=t("audit.any", lang))
    action = st.selectbox(t("audit.action", lang), actions, index=None, placeholder=t("audit.any", lang))
if not isinstance(picked, tuple) or len(picked) != 2:
    st.info(t("filter.range_incomplete", lang))
    st.stop()
start, end = picked[0], picked[1] + dt.timedelta(days=1)
found = audit.search(db, start, end, actor=who, entity=entity, action=action)
st.caption(t("audit.count", lang, n=len(found), shown=min(len(found), SHOWN)))
columns = {c: t(f"audit.col.{c}", lang) for c in found.columns}
widgets.table(  # secrets are masked in the log itself (audit.SECRET_COLUMNS), so in the file too
    found.rename(columns=columns),
    widgets.file_name(f"audit-{start}-{picked[1]}"),
    lang,
    "audit",
    exportable=user.can(widgets.EXPORT),
    shown=found.head(SHOWN).fillna({"before": "", "after": ""}).rename(columns=columns),  # no "None"
    column_config={columns["logged_at"]: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")},
)
