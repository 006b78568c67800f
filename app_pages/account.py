"""My account: who I am, what my role may do, and changing my password."""

import pandas as pd
import streamlit as st

from mktsales import accounts, config, i18n
from mktsales.access import PERMISSIONS, PLANNED
from mktsales.i18n import t
from mktsales.ui import data, filters, nav, session

lang = st.session_state.get(filters.LANG_KEY) or i18n.DEFAULT_LANG
user = nav.guard("account", lang)
db = data.database(str(config.db_path()))
regions, _ = data.reference_data(db.path, db.version())
names = dict(zip(regions["region_id"], regions[f"name_{lang}"], strict=True))

st.title(t("account.title", lang))
profile = {
    t("account.username", lang): user.username,
    t("account.name", lang): user.display_name,
    t("account.role", lang): t(f"role.{user.role}", lang),
    t("account.regions", lang): session.regions_label(user, names, lang),
    t("account.email", lang): user.email or "—",
}
st.table(pd.Series(profile), hide_header=True)  # one field per row: readable on a phone

st.subheader(t("account.can_title", lang))
st.table(
    {
        t("account.permission", lang): [
            t(f"perm.{p}", lang) for p in PERMISSIONS if user.can(p) and p not in PLANNED
        ]
    },
    hide_index=True,
)

st.subheader(t("account.change_password", lang))
if db.scalar("SELECT password_hash IS NULL FROM users WHERE user_id = ?", [user.user_id]):
    st.info(t("account.sso_only", lang))
else:
    with st.form("change_password", clear_on_submit=True):
        current = st.text_input(
            t("account.current_password", lang), type="password", autocomplete="current-password"
        )
        new = st.text_input(t("account.new_password", lang), type="password", autocomplete="new-password")
        again = st.text_input(
            t("account.repeat_password", lang), type="password", autocomplete="new-password"
        )
        submitted = st.form_submit_button(t("account.save", lang), type="primary")
    if submitted:
        if new != again:
            st.error(t("account.passwords_differ", lang))
        else:
            try:
                accounts.change_own_password(db, user, current, new, session.token())
            except accounts.AccountError as exc:
                st.error(t(exc.key, lang, **exc.params))
            else:
                st.success(t("account.password_changed", lang))
