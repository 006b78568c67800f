"""Shared information (信息共享): field intelligence up, plans down, every answer on the clock."""

import streamlit as st

from mktsales import config, i18n, reference
from mktsales.access import visible_regions
from mktsales.i18n import t
from mktsales.ui import board_view, data, filters, nav, widgets

lang = st.session_state.get(filters.LANG_KEY) or i18n.DEFAULT_LANG
user = nav.guard("board", lang)
scope = st.session_state["scope"]
path = str(config.db_path())
db = data.database(path)
version = db.version()
regions, _ = data.reference_data(path, version)
view = board_view.Board(
    db=db,
    user=user,
    lang=lang,
    scope=scope,
    now=data.minute(config.now()),
    region_names=dict(zip(regions["region_id"], regions[f"name_{lang}"], strict=True)),
    export=widgets.Export.build(user, "board", scope, regions),
)

st.title(t("boardpage.title", lang))
st.caption(t("boardpage.subtitle", lang))
strip = st.empty()  # drawn last, so a post opened in this run already counts as read
views = [v for v in board_view.VIEWS if v != "post" or board_view.direction_for(user) is not None]
board_view.follow_link(views)
chosen = filters.view_choice(
    "board.view", "lanes", lang, t("boardpage.view", lang), views, "boardpage.view",
    label_visibility="collapsed", width="stretch",
)  # fmt: skip
if chosen == "lanes":
    open_post = st.session_state.get(board_view.OPEN_KEY)
    if open_post is not None:
        board_view.detail(view, int(open_post))
    else:
        board_view.flash(lang)
        board_view.lanes(view)
elif chosen == "post":
    mine = visible_regions(user)
    products = data.products(path, version)
    promotions = reference.linkable_promotions(db, mine, config.today())
    board_view.post_form(
        view,
        board_view.Choices(
            regions={r: n for r, n in view.region_names.items() if mine is None or r in mine},
            customers=(  # field reports may name a customer; only sales have a customer list
                data.entry_customers(path, version, user, config.today())
                if board_view.direction_for(user) == "field"
                else None
            ),
            products=dict(zip(products["product_id"], products[f"name_{lang}"], strict=True)),
            promotions=dict(zip(promotions["promotion_id"], promotions[f"title_{lang}"], strict=True)),
        ),
    )
elif chosen == "metrics":
    board_view.metrics(view)
else:
    board_view.competitors(view)
with strip.container():
    counts = data.board_counts(path, db.version(), data.reads_marker(user), user, scope, view.now)
    board_view.count_strip(counts, lang)
