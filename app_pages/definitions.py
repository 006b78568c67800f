"""KPI definitions: one definition per number, in the reader's language."""

import pandas as pd
import streamlit as st

from mktsales import i18n, kpis
from mktsales.i18n import t
from mktsales.ui import filters, nav

lang = st.session_state.get(filters.LANG_KEY) or i18n.DEFAULT_LANG
nav.guard("definitions", lang)

st.title(t("definitions.title", lang))
st.write(t("definitions.intro", lang))
for group, names in (
    ("marketing", kpis.MARKETING_KPIS),
    ("sales", (*kpis.SALES_KPIS, "collected")),
    ("handoff", kpis.HANDOFF_KPIS),
):
    st.subheader(t(f"definitions.group_{group}", lang))
    st.table(
        pd.DataFrame(
            {
                t("definitions.name", lang): [t(f"kpi.{n}", lang) for n in names],
                t("definitions.meaning", lang): [t(f"def.{n}", lang) for n in names],
                t("definitions.key", lang): list(names),
            }
        ),
        hide_index=True,
    )
