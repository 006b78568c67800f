"""mktsales: page config, language, global filters, navigation — little else."""

import streamlit as st

from mktsales.i18n import t
from mktsales.ui import data, filters, nav

st.set_page_config(page_title="mktsales", page_icon=":material/join_inner:", layout="wide")

lang = filters.language()
page = nav.navigation(lang)
db = data.open_database(lang)
regions, categories = data.reference_data(db.path, db.version())
scope = st.session_state["scope"] = filters.scope(regions, categories, lang)
st.session_state["refresh_seconds"] = filters.refresh_interval(lang)
filters.write_url(scope)
st.sidebar.caption(t("app.title", lang))
nav.mark_chosen(page.url_path)
page.run()
