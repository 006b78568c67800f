"""Import & export (admins): a company's own data in from spreadsheets, any kind out, backups."""

import streamlit as st

from mktsales import config, i18n
from mktsales.i18n import t
from mktsales.ui import data, data_view, filters, nav

lang = st.session_state.get(filters.LANG_KEY) or i18n.DEFAULT_LANG
admin = nav.guard("data", lang)
admin.require("data.import")
db = data.database(str(config.db_path()))
scope = st.session_state["scope"]

st.title(t("nav.data", lang))
st.caption(t("data.intro", lang))
import_tab, export_tab, backup_tab = st.tabs(
    [t("data.tab.import", lang), t("data.tab.export", lang), t("data.tab.backup", lang)]
)
with import_tab:
    data_view.import_tab(db, admin, lang)
with export_tab:
    data_view.export_tab(db, scope, lang)
with backup_tab:
    data_view.backup_tab(db, admin, lang)
