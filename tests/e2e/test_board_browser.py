"""The shared-information board on a phone (390×844): a rep goes from quick entry to the field
report form, posts a competitor's price cut with a photo, and finds it on the board, owed by
marketing. Tiny fixture, "today" 31 March 2026; the rep works in the north (华北)."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from tests.e2e.conftest import PHONE, TIMEOUT, sign_in
from tests.e2e.test_entry_browser import pick, settled

pytestmark = pytest.mark.browser


def shelf_photo() -> bytes:
    """A small JPEG like one from a phone camera."""
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 40, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_a_rep_posts_a_competitor_price_cut_with_a_photo_from_a_phone(shared_server: str, browser) -> None:
    page = browser.new_context(viewport=PHONE).new_page()
    sign_in(page, shared_server, "rep")
    page.get_by_role("heading", name="快速录入").wait_for(timeout=TIMEOUT)

    started = time.monotonic()
    page.get_by_role("link", name="上报一线情报").click()
    page.get_by_text("把一线看到的情况告诉市场部").wait_for(timeout=TIMEOUT)
    settled(page)
    pick(page, "类别", "竞品")
    page.get_by_test_id("stCheckbox").filter(has_text="紧急").click()
    settled(page)
    page.get_by_role("textbox", name="标题").fill("康师傅绿茶超市降价15%")
    page.get_by_role("textbox", name="内容").fill("华润万家(北京)本周起康师傅绿茶降价 15%，堆头加大。")
    competitor = page.get_by_role("textbox", name="竞品")
    competitor.fill("康师傅")
    competitor.press("Tab")
    settled(page)  # the run the typed text started is over: the upload is not lost to it
    page.locator("input[type=file]").first.set_input_files(
        files=[{"name": "shelf.jpg", "mimeType": "image/jpeg", "buffer": shelf_photo()}]
    )
    page.get_by_text("shelf.jpg").wait_for(timeout=TIMEOUT)
    settled(page)
    page.get_by_role("button", name="发布", exact=True).click()
    page.get_by_test_id("stAlert").filter(has_text="已发布").wait_for(timeout=TIMEOUT)
    seconds = time.monotonic() - started
    assert seconds < 60, seconds  # the bar: a competitor's price cut posted in under a minute
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scroll

    page.get_by_role("button", name="查看这条帖子").click()
    page.get_by_role("heading", name="康师傅绿茶超市降价15%").wait_for(timeout=TIMEOUT)
    page.get_by_test_id("stImage").first.wait_for(timeout=TIMEOUT)  # the photo, stored and shown
    page.get_by_role("button", name="返回看板").click()
    card = page.get_by_test_id("stVerticalBlock").filter(has_text="康师傅绿茶超市降价15%").last
    card.wait_for(timeout=TIMEOUT)
    text = card.inner_text()
    assert "紧急" in text and "待答复" in text and "应于" in text  # urgent, open, due in 4 h
