"""Promotions (促销管理): from request or draft, through consultation and approval, to execution
feedback and measured effect; both departments see the same truth."""

import datetime as dt

import streamlit as st

from mktsales import config, i18n, promotions, reference
from mktsales.access import visible_regions
from mktsales.i18n import t
from mktsales.ui import data, filters, nav, promotion_view, widgets

lang = st.session_state.get(filters.LANG_KEY) or i18n.DEFAULT_LANG
user = nav.guard("promotions", lang)
scope = st.session_state["scope"]
path = str(config.db_path())
db = data.database(path)
version = db.version()
regions, categories = data.reference_data(path, version)
mine = visible_regions(user)
view = promotion_view.Promo(
    db=db,
    user=user,
    lang=lang,
    scope=scope,
    now=config.now(),
    region_names=dict(zip(regions["region_id"], regions[f"name_{lang}"], strict=True)),
    export=widgets.Export.build(user, "promotions", scope, regions),
    category_names=dict(zip(categories["category_id"], categories[f"name_{lang}"], strict=True)),
)

st.title(t("promopage.title", lang))
st.caption(t("promopage.subtitle", lang))
views = promotion_view.views_for(user)
promotion_view.follow_link(views)
chosen = filters.view_choice(
    promotion_view.VIEW_KEY, "board", lang, t("promopage.view", lang), views, "promopage.view",
    label_visibility="collapsed", width="stretch",
)  # fmt: skip
products = data.products(path, version)
product_names = dict(zip(products["product_id"], products[f"name_{lang}"], strict=True))
open_id = st.session_state.get(promotion_view.OPEN_KEY)
if open_id is not None and chosen in ("board", "queue", "timeline"):
    promotion_view.detail(view, int(open_id))
elif chosen == "board":
    promotion_view.flash(lang)
    promotion_view.board(view)
elif chosen == "timeline":
    promotion_view.timeline(view)
elif chosen == "queue":
    promotion_view.queue(view)
elif chosen == "request":
    promotion_view.request_form(view, product_names)
elif chosen == "draft":
    promotion_view.draft_form(view, product_names, reference.people(db, mine))
elif chosen == "report":
    today = config.today()  # what runs now, whatever period the sidebar shows
    live = promotions.listing(
        db, user, scope.with_period(today, today + dt.timedelta(days=1)), status="live", now=view.now
    )
    customers = data.entry_customers(path, version, user, config.today()) if user.can("entry.sales") else None
    promotion_view.report_form(view, live, customers)
elif chosen == "execution":
    promotion_view.execution(view)
else:
    promotion_view.effects(view)
