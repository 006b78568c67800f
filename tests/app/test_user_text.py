"""What users typed is shown as typed, never as markdown (issue 23, point 7): a board post's title,
body, customer and competitor, a reply, a display name, a promotion's title and description.

Every text below is markdown that would load a remote image, show a link the app never made, paint
a red banner, start a heading, typeset LaTeX or carry HTML. On every page that shows it, each
element Streamlit renders as markdown (text, captions, headers, alerts, labels, help) must hold it
escaped (mktsales.ui.text.md, which a reader sees as the typed text) and nothing of it live; bodies
and replies are plain text elements holding exactly what was typed.
"""

import datetime as dt
import re
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from mktsales import board
from mktsales.accounts import find_user
from mktsales.ui.text import md
from tests.app.conftest import app_db, open_app, page_path
from tests.conftest import write_sql

EVIL = "# heading ![x](http://evil.example/b) [Login](http://evil.example) :red-background[CEO] $x^2$ <img>"
BODY = "第一行\n# heading\n" + EVIL  # a body keeps its line breaks
# Markdown that would be live: none of these may appear unescaped in a markdown element.
LIVE = [
    re.compile(p, re.MULTILINE)
    for p in (
        r"(?<!\\)!\[",  # an image
        r"(?<!\\)\]\((?<!\\)http",  # a link
        r"(?<!\\):red-background(?<!\\)\[",  # a colour directive
        r"(?<!\\)\[CEO",  # the banner's text
        r"(?<!\\)\$x",  # LaTeX
        r"(?<!\\)<img",  # HTML
        r"^\s*(?<!\\)#+ heading",  # a heading
        r"http\\?:\\?/",  # GFM links a bare address even escaped: it needs a word joiner
    )
]
PLAIN = {"text", "text_area", "text_input", "dataframe", "arrow_data_frame", "code"}  # no markdown


def markdown_texts(node: Any) -> list[str]:
    """Every string a markdown-rendering element or label below ``node`` holds."""
    found: list[str] = []
    kind = getattr(node, "type", "")
    if kind not in PLAIN:
        for name in ("value", "label", "help", "body"):
            try:
                value = getattr(node, name, None)
            except Exception:  # a widget whose property needs a value it lacks
                value = None
            if isinstance(value, str):
                found.append(value)
    for child in getattr(node, "children", {}).values():
        found += markdown_texts(child)
    return found


def assert_shown_as_text(at: AppTest, escaped_somewhere: int) -> None:
    assert not at.exception
    texts = markdown_texts(at._tree)
    live = [(p.pattern, text) for text in texts for p in LIVE if p.search(text)]
    assert live == []
    assert sum(md(EVIL) in text for text in texts) >= escaped_somewhere


def seed() -> int:
    """The rep named EVIL posts about customer 1 (named EVIL) with EVIL everywhere; the east's
    marketing head answers with BODY. Promotion 1 is titled and described EVIL."""
    db = app_db()
    for sql in (
        f"UPDATE users SET display_name = '{EVIL}' WHERE username IN ('rep', 'duo')",
        f"UPDATE customers SET name = '{EVIL}' WHERE customer_id = 1",
        f"UPDATE promotions SET title_zh = '{EVIL}', title_en = '{EVIL}' WHERE promotion_id = 1",
        "INSERT INTO promotion_plans (promotion_id, mechanics, channels, description, requested_region_ids,"
        f" created_by_name, created_at) VALUES (1, ['gift'], [], '{EVIL}', [1], 'x', TIMESTAMP '2026-03-01')",
    ):
        write_sql(db, sql)
    at_nine = dt.datetime(2026, 3, 31, 9)
    post_id = board.post(
        db, find_user(db, "rep"), key="k1", direction="field", category="competitor", title=EVIL,
        body=BODY, competitor=EVIL, customer_id=1, regions=[1], now=at_nine,
    ).post_id  # fmt: skip
    board.reply(db, find_user(db, "duo"), post_id, BODY, key="r1", now=at_nine + dt.timedelta(hours=1))
    return post_id


def test_a_post_its_reply_and_the_names_on_the_board_read_as_typed(app_env: Path) -> None:
    post_id = seed()
    at = open_app("duo")
    at.switch_page(page_path("app_pages/board.py")).run()
    assert_shown_as_text(at, 3)  # the card's title and author, the sidebar's display name
    at.button(key=f"board.card.field.{post_id}").click().run()
    # title, author, customer and competitor, the reply's author, the sidebar
    assert_shown_as_text(at, 5)
    assert md(EVIL) in at.subheader[0].value
    assert [t.value for t in at.text] == [BODY, BODY]  # the post's body and the reply, as typed


def test_a_promotions_title_and_description_read_as_typed(app_env: Path) -> None:
    seed()
    at = open_app("duo")
    at.switch_page(page_path("app_pages/promotions.py")).run()
    assert_shown_as_text(at, 2)  # the card's title, the sidebar
    at.button(key="promo.card.1").click().run()
    assert_shown_as_text(at, 3)  # the title, the facts table's description, the sidebar
    assert md(EVIL) in at.subheader[0].value
