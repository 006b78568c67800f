"""Quick entry (快速录入): a rep logs a visit, an order, a payment or a lead update from a phone."""

import streamlit as st

from mktsales import config, entries, i18n
from mktsales.i18n import t
from mktsales.ui import data, entry_form, entry_view, filters, nav

lang = st.session_state.get(filters.LANG_KEY) or i18n.DEFAULT_LANG
user = nav.guard("entry", lang)
user.require("entry.sales")
path = str(config.db_path())
db = data.database(path)
version = db.version()
today = config.today()
regions, categories = data.reference_data(path, version)

st.title(t("entry.title", lang))
with st.container(horizontal=True, gap="small"):  # the other quick forms a rep uses, on their pages
    nav.link(
        "board", lang, t("entry.to_field_report", lang), ":material/campaign:", query_params={"view": "post"}
    )
    nav.link(
        "promotions", lang, t("entry.to_promotion_request", lang), ":material/sell:",
        query_params={"view": "request"},
    )  # fmt: skip
    nav.link(
        "promotions", lang, t("entry.to_execution_report", lang), ":material/fact_check:",
        query_params={"view": "report"},
    )  # fmt: skip
kind = filters.view_choice(
    "entry_kind", "visit", lang, t("entry.kind", lang), entry_form.KINDS, "entry.kind",
    width="stretch", label_visibility="collapsed",
)  # fmt: skip
form = entry_form.Form(
    db=db,
    user=user,
    lang=lang,
    kind=kind,
    today=today,
    customers=data.entry_customers(path, version, user, today),
    products=data.products(path, version),
    categories=categories,
    region_names=dict(zip(regions["region_id"], regions[f"name_{lang}"], strict=True)),
    problems=entry_view.problems(kind, lang),
)

saved = st.session_state.get(form.key("saved"))
if saved is not None:
    entry_view.confirmation(form, saved)
else:
    entry_view.correcting_banner(form)
    with st.container(border=True):
        values = entry_view.draw_form(form, path, version)
        submitted = st.button(
            t("entry.save", lang),
            type="primary",
            width="stretch",
            icon=":material/check:",
            key=form.key("submit"),
        )
    if submitted:
        entry_view.submit(form, values)

st.divider()
entry_view.my_entries(form, entries.my_entries(db, user, entry_view.since(today), config.now()))
