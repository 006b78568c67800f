"""mktsales: page config, language, sign-in, global filters, navigation — little else."""

import streamlit as st

from mktsales.i18n import t
from mktsales.ui import data, filters, nav, session

st.set_page_config(page_title="mktsales", page_icon=":material/join_inner:", layout="wide")

lang = filters.language()
with data.damage_guard(lang):  # a damaged database file: a message, not an error
    db = data.open_database(lang)
    user = session.current_user(db, lang)
    page = nav.navigation(
        lang, user, lambda: session.sign_in_form(db, lang), landing_at_root=session.writes_cookie()
    )
    if user is not None:
        regions, categories = data.reference_data(db.path, db.version())
        scope = st.session_state["scope"] = filters.scope(regions, categories, lang, user)
        st.session_state["refresh_seconds"] = filters.refresh_interval(lang)
        filters.write_url(scope)
        session.sidebar_account(
            db, user, dict(zip(regions["region_id"], regions[f"name_{lang}"], strict=True)), lang
        )
    st.sidebar.caption(t("app.title", lang))
    nav.mark_chosen(page, user)
    page.run()
